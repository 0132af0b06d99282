"""A 2-D comparison, whole process: 5 activations × 3 seeds on spirals with the toy defaults.

    python benchmarks/bench_toy.py [--repeat N] [--data spirals]

``actviz compare relu tanh sigmoid gelu elu --data spirals`` (every run trained, the
pictures drawn, boundaries.png among them) runs in a fresh subprocess into a fresh store;
beside it, in the same run, the references: the interpreter's start-up with ``import
torch`` and with ``import torch, matplotlib``.  Printed: the median wall time and CPU
time (user + system) of N runs, and the comparison's wall time over the reference.  The
target: at most 10 s whole process on 2 cores.  Wall time on a machine shared with
other work is noisier than CPU time; both are printed.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

TARGET_S = 10.0


def timed(cmd: list[str], repeat: int, env: dict[str, str]) -> tuple[float, float]:
    """Median (wall, CPU) seconds of ``cmd`` run ``repeat`` times."""
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data", default="spirals")
    args = ap.parse_args()
    py = sys.executable
    env = {**os.environ, "PYTHONPATH": os.getcwd() + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with tempfile.TemporaryDirectory() as tmp:
        compare = [py, "-m", "actviz", "compare", "relu", "tanh", "sigmoid", "gelu", "elu", "--data", args.data,
                   "--fresh", "--device", "cpu", "--out", os.path.join(tmp, "store")]
        rows = {
            "python -c 'import torch' (reference)": [py, "-c", "import torch"],
            "python -c 'import torch, matplotlib.pyplot'": [py, "-c", "import torch, matplotlib.pyplot"],
            f"actviz compare (5 activations x 3 seeds, --data {args.data})": compare,
        }
        results = {name: timed(cmd, args.repeat, env) for name, cmd in rows.items()}
        drawn = os.path.exists(os.path.join(tmp, "store", "boundaries.png"))
    print(f"{'command':<62} {'wall s':>7} {'CPU s':>7}")
    for name, (wall, cpu) in results.items():
        print(f"{name:<62} {wall:7.2f} {cpu:7.2f}")
    ref = results["python -c 'import torch' (reference)"][0]
    wall, cpu = results[list(rows)[-1]]
    print(f"compare / import torch: {wall / ref:.1f}x wall; target {TARGET_S:g} s whole process: "
          f"{'met' if wall <= TARGET_S else 'missed'} ({wall:.2f} s wall, {cpu:.2f} s CPU); "
          f"boundaries.png drawn: {drawn}; load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
