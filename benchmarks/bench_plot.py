"""How long ``actviz plot`` and ``actviz gallery`` take, next to importing torch + matplotlib.

    python benchmarks/bench_plot.py [--repeat N] [--skip-gallery]

Each measurement runs in a fresh subprocess (cold interpreter, warm OS cache);
the median of N runs is reported.  The target: ``actviz plot gelu --derivative``
costs at most ~1.3x the bare ``import torch, matplotlib`` reference.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = "import torch, matplotlib; matplotlib.use('Agg'); import matplotlib.figure"


def timed(cmd: list[str], cwd: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return elapsed


def report(label: str, times: list[float]) -> float:
    med = statistics.median(times)
    repeat = len(times)
    print(f"{label:<44} median {med:6.3f} s   (min {min(times):.3f}, max {max(times):.3f}, n={repeat})",
          flush=True)
    return med


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-gallery", action="store_true")
    args = parser.parse_args()

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    py = sys.executable
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.repeat} runs each\n")
    with tempfile.TemporaryDirectory() as tmp:
        ref = [py, "-c", REFERENCE]
        plot = [py, "-m", "actviz", "plot", "gelu", "--derivative", "-o", "tmp.png"]
        # (a) and (b) alternate, so that a busy machine slows both alike
        timed(ref, tmp, env), timed(plot, tmp, env)  # warm-up: OS file cache, font cache, .pyc files
        ta, tb = [], []
        for _ in range(args.repeat):
            ta.append(timed(ref, tmp, env))
            tb.append(timed(plot, tmp, env))
        a = report("(a) import torch + matplotlib (reference)", ta)
        b = report("(b) python -m actviz plot gelu --derivative", tb)
        c = None
        if not args.skip_gallery:
            gallery = [py, "-m", "actviz", "gallery", "--out", "gallery"]
            c = report("(c) python -m actviz gallery",
                       [timed(gallery, tmp, env) for _ in range(max(1, min(args.repeat, 3)))])
    print()
    print(f"plot / import ratio (b/a): {b / a:.2f}   (target <= 1.3)")
    print(f"plot cost beyond the imports: {b - a:.3f} s")
    if c is not None:
        print(f"gallery: {c:.2f} s ({c - a:.2f} s beyond the imports)")


if __name__ == "__main__":
    main()
