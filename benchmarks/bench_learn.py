"""Benchmark of learnable activation parameters (``compare --learn``) against the same runs with them fixed.

For each activation, a stack of ``--seeds`` models of the reference 784-256-10 MLP (``--depth``
hidden layers), batch 256, SGD (or ``--optimizer adam``): seconds per training step of the
engine with the parameters fixed, learned per layer and learned per unit, measured in
interleaved rounds (best of each kept: this VM drifts in speed), on random inputs (the step's
cost does not depend on the values); on a CPU the clock is the process's CPU time (use
``--threads 1``: other processes on a shared machine then do not count), on CUDA the wall time.  Prints the ratio learned/fixed; the target is ≤ 1.2.
rational's coefficients learn by default; its "fixed" run is a copy of its record with
nothing learnable.

Usage: python benchmarks/bench_learn.py [--rounds N] [--steps N] [--seeds S] [--depth D]
       [--device cpu|cuda] [--optimizer sgd|adam] [--threads N] [--acts swish,elu,...]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: (activation, the parameter --learn names)
CASES = {"swish": "beta", "elu": "alpha", "softplus": "beta", "leaky_relu": "negative_slope",
         "rational": "numerator"}
TARGET = 1.2


def fixed_copy(act):
    """The activation with no parameter learnable (rational's coefficients stay put)."""
    from actviz.core.registry import Activation

    spec = act.spec
    params = tuple(dataclasses.replace(p, learnable=False) for p in spec.params)
    return Activation(dataclasses.replace(spec, params=params), act.params)


def step_seconds(act, learn: str, args, device) -> float:
    """Seconds per step of a stack of ``args.seeds`` models (best over this call's steps, synchronised)."""
    import torch

    from actviz.bench.engine.mlp import MLP
    from actviz.bench.train import TrainConfig

    config = TrainConfig(depth=args.depth, optimizer=args.optimizer, learn=learn, device=device.type)
    S = args.seeds
    stack = MLP.build([act] * S, list(range(S)), [0.01] * S, list(range(S)), config, (784,), 10, device)
    g = torch.Generator().manual_seed(0)
    xs = torch.rand(S, 256, 784, generator=g).to(device)
    ys = torch.randint(0, 10, (S, 256), generator=g).to(device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    # on a CPU the process's CPU time: other processes on a shared machine do not count (its threads do)
    clock = time.perf_counter if device.type == "cuda" else time.process_time
    for _ in range(3):
        stack.step(xs, ys)
    sync()
    t0 = clock()
    for _ in range(args.steps):
        stack.step(xs, ys)
    sync()
    return (clock() - t0) / args.steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--depth", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--optimizer", default="sgd")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--acts", default=",".join(CASES))
    args = ap.parse_args()
    import torch

    import actviz
    from actviz.bench.engine.memory import keep_freed_memory

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    keep_freed_memory()  # as training does
    device = torch.device(args.device)
    names = [n.strip() for n in args.acts.split(",") if n.strip()]
    variants = {}
    for name in names:
        act = actviz.get(name)
        key = CASES[name]
        variants[(name, "fixed")] = (fixed_copy(act), "")
        variants[(name, "layer")] = (act, f"{name}.{key}:layer")
        variants[(name, "unit")] = (act, f"{name}.{key}:unit")
    best = {k: float("inf") for k in variants}
    for _ in range(args.rounds):
        for k, (act, learn) in variants.items():
            best[k] = min(best[k], step_seconds(act, learn, args, device))
    print(f"device {device}, {torch.get_num_threads()} threads, {args.seeds} models per stack, 784-"
          f"{'-'.join(['256'] * args.depth)}-10, batch 256, {args.optimizer}; ms per step (best of {args.rounds} "
          f"rounds of {args.steps} steps; {'wall' if device.type == 'cuda' else 'CPU'} time)")
    print(f"{'activation':<12}{'fixed':>9}{'layer':>9}{'unit':>9}{'layer/fixed':>13}{'unit/fixed':>12}")
    worst = 0.0
    for name in names:
        f, lay, uni = (best[(name, v)] * 1e3 for v in ("fixed", "layer", "unit"))
        worst = max(worst, lay / f, uni / f)
        print(f"{name:<12}{f:>9.2f}{lay:>9.2f}{uni:>9.2f}{lay / f:>13.3f}{uni / f:>12.3f}")
    print(f"worst ratio {worst:.3f} (target <= {TARGET}): {'met' if worst <= TARGET else 'NOT met'}")


if __name__ == "__main__":
    main()
