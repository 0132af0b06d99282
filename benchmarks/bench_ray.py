"""``compare --executor ray`` against the local executor: the same sweep, wall time and numbers.

Runs one sweep twice as the user would, each a fresh ``actviz compare`` process on the real
Fashion-MNIST into its own new store: once with the local executor, once with ``--executor
ray`` (a local Ray instance started and shut down by the command: Ray's start-up and the
workers' own loading of the data set are included).  Prints both wall times, their ratio
(target: at most 1.3 on a 2-core machine for a sweep of about a minute), and whether the two
stores hold the same numbers run for run (every per-epoch number but ``time``).

With the default threads the local process trains one seed group at a time on every core while
Ray runs one task per core with one thread each: the numbers then agree to float32 rounding
of the matrix products (the largest relative difference is printed); ``--threads 1`` makes
both use one thread per training, and the numbers are then identical.

Usage: python benchmarks/bench_ray.py [--epochs N] [--seeds N] [--lr 0.1,0.05] [--threads N]
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

ROOT = Path(__file__).resolve().parents[1]


def run(args: list[str], out: Path) -> float:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env.pop("RAY_ADDRESS", None)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "actviz", "compare", *args, "--out", str(out), "--no-plots"],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def numbers(out: Path) -> dict[str, list[dict]]:
    runs = json.loads((out / "results.json").read_text())["runs"]
    return {r["key"]: [{k: v for k, v in h.items() if k != "time"} for h in r["history"]] for r in runs}


def largest_difference(a: object, b: object) -> float:
    """The largest relative difference between the numbers of two equal-shaped JSON values (inf if shapes differ)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return float("inf")
        return max((largest_difference(a[k], b[k]) for k in a), default=0.0)
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return float("inf")
        return max((largest_difference(x, y) for x, y in zip(a, b)), default=0.0)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) / max(abs(a), abs(b), 1e-12)
    return 0.0 if a == b else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activations", default="relu,tanh,sigmoid,gelu")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--lr", default="0.1,0.05")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    sweep = [*args.activations.split(","), "--epochs", str(args.epochs), "--seeds", str(args.seeds),
             "--lr", args.lr, "--device", "cpu"]
    if args.threads:
        sweep += ["--threads", str(args.threads)]
    print(f"sweep: actviz compare {' '.join(sweep)}  ({os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory() as tmp:
        local = run([*sweep, "--executor", "local"], Path(tmp) / "local")
        print(f"local executor:  {local:6.1f} s")
        ray = run([*sweep, "--executor", "ray"], Path(tmp) / "ray")
        print(f"--executor ray:  {ray:6.1f} s (Ray's start-up and shut-down included)")
        print(f"ratio ray/local: {ray / local:.2f} (target <= 1.3)")
        a, b = numbers(Path(tmp) / "local"), numbers(Path(tmp) / "ray")
        diff = largest_difference(a, b) if a.keys() == b.keys() else float("inf")
        same = "identical" if a == b else f"largest relative difference {diff:.1e}"
        print(f"stores: {len(a)} and {len(b)} runs, same keys: {a.keys() == b.keys()}; numbers: {same}")


if __name__ == "__main__":
    main()
