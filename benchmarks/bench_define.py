"""What ``--define`` and the symbolic card cost, each against a reference measured in the same run.

1. Start-up: ``actviz list`` with one ``--define`` against ``actviz list`` alone (subprocesses,
   median of several interleaved rounds), with a warm symbolic cache (the usual case: a formula
   seen before) and, for information, the first ``show`` of a never-seen formula (sympy's import
   and algebra).  Target: ≤ 50 ms added.
2. Training: ``x*sigmoid(x)`` defined by a formula against the built-in swish (silu), the same
   MLP, data and seed (synthetic images of Fashion-MNIST's shape, single thread), best of
   interleaved rounds.  Target: ≤ 1.3×.
3. The symbolic card of every built-in with an empty user cache (the cards shipped with actviz
   are read), and with ``--scratch`` computed from scratch by sympy.  Target: ≤ 5 s.

Usage: python benchmarks/bench_define.py [--rounds N]
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
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

DEFINE = "bsw=x*sigmoid(x)"


def _run(args: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "actviz", *args], env=env, check=True, capture_output=True)
    return time.perf_counter() - t


def startup(rounds: int, cache: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": cache, "OMP_NUM_THREADS": "1"}
    _run(["show", "--define", DEFINE, "bsw"], env)  # fills the cache (derivative, kinks)
    plain, defined = [], []
    for _ in range(rounds):
        plain.append(_run(["list"], env))
        defined.append(_run(["list", "--define", DEFINE], env))
    a, b = statistics.median(plain), statistics.median(defined)
    print(f"start-up  actviz list: {a * 1e3:.0f} ms; with --define: {b * 1e3:.0f} ms; "
          f"added {(b - a) * 1e3:+.0f} ms (target <= 50 ms)")
    with tempfile.TemporaryDirectory() as cold:
        cold_env = {**env, "XDG_CACHE_HOME": cold}
        show_plain = _run(["show", "swish"], cold_env)
        show_new = _run(["show", "--define", DEFINE, "bsw"], cold_env)
    print(f"          first 'show' of a new formula: {show_new:.2f} s against 'show swish' {show_plain:.2f} s "
          f"(sympy's import and algebra, once per formula)")


def training(rounds: int) -> None:
    import torch
    from test_train import synthetic

    import actviz
    from actviz.bench.config import TrainConfig
    from actviz.bench.train import train_runs
    from actviz.facts.define import define

    torch.set_num_threads(1)
    data = synthetic(n_train=6000, n_test=1000)
    cfg = TrainConfig(epochs=2, hidden=256, batch_size=256, probe_size=256, device="cpu")
    acts = {"swish (built-in)": actviz.get("swish"), "x*sigmoid(x) (--define)": actviz.get(define(DEFINE).name)}
    best = {k: float("inf") for k in acts}
    for _ in range(rounds):
        for label, act in acts.items():
            t = time.perf_counter()
            train_runs([act], data, cfg, seeds=[0])
            best[label] = min(best[label], time.perf_counter() - t)
    base, ours = best["swish (built-in)"], best["x*sigmoid(x) (--define)"]
    print(f"training  swish {base:.2f} s; x*sigmoid(x) defined {ours:.2f} s; ratio {ours / base:.2f}x "
          f"(target <= 1.3x)")


def cards(scratch: bool) -> None:
    from actviz.core import registry
    from actviz.facts.cardcalc import compute

    acts = [actviz_get(n) for n in registry.names() if not registry.get_spec(n).definition]
    code = ("import actviz; from actviz.facts.card import card; "
            "[card(actviz.get(n)) for n in actviz.names()]")
    with tempfile.TemporaryDirectory() as cold:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": cold}
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, check=True)
        first = time.perf_counter() - t
    print(f"cards     {len(acts)} built-ins in a new process with an empty user cache (the cards shipped with "
          f"actviz), imports included: {first:.2f} s (target <= 5 s)")
    if scratch:
        t = time.perf_counter()
        for a in acts:
            compute(a)
        print(f"          computed from scratch by sympy (scripts/refresh_cards.py): {time.perf_counter() - t:.1f} s")


def actviz_get(name: str):
    import actviz

    return actviz.get(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scratch", action="store_true", help="also time the cards computed from scratch")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        startup(args.rounds, cache)
    training(max(2, args.rounds // 2))
    cards(args.scratch)


if __name__ == "__main__":
    main()
