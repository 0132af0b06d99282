"""What one model costs: matmul FLOPs per epoch, and the activation's own time per step."""

from __future__ import annotations

import time

import torch

from actviz.bench.engine.kernels import Nonlinearity
from actviz.bench.engine.params import N_CLASSES, maxout_k
from actviz.core.registry import Activation

__all__ = ["activation_cost", "flops_per_epoch"]


def flops_per_epoch(n: int, hidden: int = 256, depth: int = 1, inputs: int = 784, k: int = 1,
                    n_classes: int = N_CLASSES) -> int:
    """Matmul FLOPs of one training epoch of one model (forward + backward, no input gradient)."""
    fwd = inputs * hidden * k + (depth - 1) * hidden * hidden * k + hidden * n_classes
    # backward: weight gradients of every layer, input gradients of every layer but the first
    bwd = fwd + (depth - 1) * hidden * hidden * k + hidden * n_classes
    return 2 * n * (fwd + bwd)


def activation_cost(act: Activation, config: object, batch: int, device: torch.device, blocks: int = 5,
                    block_s: float = 0.004) -> float:
    """Seconds the activation's own forward and backward take per training step of one model.

    A short timed probe: the hidden non-linearity and its backward (the very code
    training runs: fast paths, the analytic derivative, maxout's gather and scatter, a
    learnable parameter's autograd) on ``batch`` × units standard-normal
    pre-activations, once per hidden layer, without the matrix products every
    activation shares.  The fastest of ``blocks`` timed blocks of at least ``block_s``
    seconds each (other work on the machine only ever adds time).
    """
    depth, hidden = config.depth, config.hidden  # type: ignore[attr-defined]
    if depth == 0:
        return 0.0
    nl = Nonlinearity(act, 0, 1, depth, device, torch.float32)
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(1, batch, hidden * maxout_k(act), generator=gen).to(device)
    dh = torch.randn(1, batch, hidden, generator=gen).to(device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def step() -> None:
        for layer in range(depth):
            _, ctx = nl.forward(layer, z)
            nl.backward(layer, dh, ctx)

    step()
    sync()
    reps, times = 1, []
    while len(times) < blocks:
        t0 = time.perf_counter()
        for _ in range(reps):
            step()
        sync()
        elapsed = time.perf_counter() - t0
        if elapsed < block_s and not times:  # still too short to time: more repetitions per block
            reps *= 2
            continue
        times.append(elapsed / reps)
    return min(times)
