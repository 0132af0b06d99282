"""Start-up cost of the registry commands, next to the interpreter and to importing torch.

    python benchmarks/bench_cli.py [--repeat N]

Each command runs in a fresh subprocess; the median of N runs is printed.  The targets:
``actviz --help`` and ``actviz list`` cost a fraction of torch's import time (they must not
import torch or matplotlib), and ``actviz table`` for every entry takes about two seconds.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def median_time(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    py = sys.executable
    rows = {
        "python -c pass": [py, "-c", "pass"],
        "python -c 'import torch' (reference)": [py, "-c", "import torch"],
        "actviz --help": [py, "-m", "actviz", "--help"],
        "actviz list": [py, "-m", "actviz", "list"],
        "actviz table (all entries)": [py, "-m", "actviz", "table"],
        "actviz check (all entries)": [py, "-m", "actviz", "check"],
    }
    times = {name: median_time(cmd, args.repeat) for name, cmd in rows.items()}
    ref = times["python -c 'import torch' (reference)"]
    for name, t in times.items():
        print(f"{name:40s} {t:6.3f} s   {t / ref:5.2f} x torch import")


if __name__ == "__main__":
    main()
