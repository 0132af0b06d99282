"""Cost of the registry's forward + analytic derivative against PyTorch's own kernels.

The built-in entries use numerically stable formulas (accurate tails, no overflow:
see ``tests/test_accuracy.py``); some of them take a few more element-wise passes
than PyTorch's fused kernels.  This script measures, in one run on this machine,
for each entry with a PyTorch counterpart, on a float32 (256 × 256) activation
(the hidden layer of ``actviz compare``'s reference MLP at batch 256):

* the registry's ``forward`` + ``derivative`` (what ``actviz compare`` runs per layer);
* PyTorch's function + its autograd backward (what a plain PyTorch loop runs);

and prints both and their ratio (best of several interleaved rounds, single thread).

Usage: python benchmarks/bench_activations.py [--rounds N] [--size N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    import torch
    import torch.nn.functional as F

    import actviz

    torch.set_num_threads(1)
    cases = [
        ("sigmoid", {}, torch.sigmoid),
        ("tanh", {}, torch.tanh),
        ("relu", {}, torch.relu),
        ("hard_swish", {}, F.hardswish),
        ("softplus", {}, F.softplus),
        ("swish", {}, F.silu),
        ("gelu", {}, F.gelu),
        ("gelu", {"approximate": "tanh"}, lambda x: F.gelu(x, approximate="tanh")),
        ("mish", {}, F.mish),
        ("elu", {}, F.elu),
        ("selu", {}, F.selu),
        ("softsign", {}, F.softsign),
    ]
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(args.size, args.size, generator=gen) * 3
    dh = torch.randn(args.size, args.size, generator=gen)

    def ours(act):
        def run():
            with torch.no_grad():
                act.forward(z)
                dh * act.derivative(z)

        return run

    def theirs(fn):
        def run():
            x = z.detach().requires_grad_(True)
            y = fn(x)
            torch.autograd.grad(y, x, dh)

        return run

    def best_of(run) -> float:
        run()
        t0 = time.perf_counter()
        for _ in range(args.repeat):
            run()
        return (time.perf_counter() - t0) / args.repeat

    best: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for name, params, fn in cases:
            act = actviz.get(name, **params)
            times = best.setdefault(act.label, [float("inf"), float("inf")])
            times[0] = min(times[0], best_of(ours(act)))
            times[1] = min(times[1], best_of(theirs(fn)))

    print(f"forward + derivative on float32 ({args.size}×{args.size}), best of {args.rounds} rounds, 1 thread")
    print(f"{'activation':26s} {'actviz':>10s} {'torch+autograd':>15s} {'ratio':>7s}")
    for label, (mine, ref) in best.items():
        print(f"{label:26s} {mine * 1e6:8.0f}µs {ref * 1e6:13.0f}µs {mine / ref:6.2f}x")


if __name__ == "__main__":
    main()
