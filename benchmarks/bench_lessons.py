"""Wall time of every lesson with its defaults, through the CLI, against the one-minute target.

    python benchmarks/bench_lessons.py [--repeat N] [--threads N] [LESSON ...]

Each ``actviz lesson NAME`` runs in a fresh subprocess (start-up, torch import and data
loading included) writing into a temporary directory; the best of N runs is printed with
the lesson's own measured time (from its lesson.json) and the interpreter-plus-torch start
as a reference measured in the same run.  ``--threads`` sets OMP_NUM_THREADS and
MKL_NUM_THREADS for the children (the target is stated for two cores: ``--threads 2``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 60.0
LESSONS = ["xor", "collapse", "approx", "symmetry", "signal", "derivatives"]


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("lessons", nargs="*", default=LESSONS)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--threads", type=int, default=None, help="OMP/MKL threads of the children")
    args = ap.parse_args()
    env = dict(os.environ)
    if args.threads:
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(args.threads)
    py = sys.executable
    ref = min(timed([py, "-c", "import torch, matplotlib"], env) for _ in range(max(1, args.repeat)))
    print(f"threads: {env.get('OMP_NUM_THREADS', 'default')}; cores: {os.cpu_count()}; "
          f"reference python -c 'import torch, matplotlib': {ref:.2f} s")
    print(f"{'lesson':12s} {'wall s':>7s} {'lesson s':>9s} {'vs 60 s':>8s}")
    for name in args.lessons:
        with tempfile.TemporaryDirectory() as out:
            wall = min(timed([py, "-m", "actviz", "lesson", name, "--out", out], env)
                       for _ in range(max(1, args.repeat)))
            own = json.loads((Path(out) / name / "lesson.json").read_text())["seconds"]
        flag = "ok" if wall <= TARGET_S else "OVER"
        print(f"{name:12s} {wall:7.1f} {own:9.1f} {wall / TARGET_S:7.0%} {flag}")


if __name__ == "__main__":
    main()
