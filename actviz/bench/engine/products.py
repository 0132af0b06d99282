"""The stack's big batched matrix products, kept balanced over the CPU's threads.

A batched product of ``S`` matrices on the CPU (MKL's batched sgemm behind
``torch.baddbmm``) gives each thread whole matrices: with 2 threads and ``S = 5`` seed
slots one thread computes 3 products while the other computes 2, so the call runs at
5/6 of the machine's speed (measured on 2 cores: 155–170 against 190–205 GFLOP/s for
the first layer's shapes; ``S = 3`` at 3/4).  Here the first ``S - S mod T`` matrices
(``T`` threads) go through one batched call and each remaining one through its own
product, which uses every thread.  On a GPU the batched call is kept as it is.
"""

from __future__ import annotations

import torch

__all__ = ["baddbmm", "baddbmm_"]


def _batched(n: int, device: torch.device) -> int:
    """How many leading matrices of ``n`` go through the one batched call (the rest: a product each)."""
    if device.type != "cpu":
        return n
    threads = torch.get_num_threads()
    return n - n % threads


def baddbmm(bias: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``bias + a @ b`` for batches ``a`` (S, n, k) and ``b`` (S, k, m); ``bias`` (S, 1, m)."""
    q = _batched(a.shape[0], a.device)
    if q == a.shape[0]:
        return torch.baddbmm(bias, a, b)
    out = torch.empty(a.shape[0], a.shape[1], b.shape[2], dtype=b.dtype, device=b.device)
    if q:
        torch.baddbmm(bias[:q], a[:q], b[:q], out=out[:q])
    for s in range(q, a.shape[0]):
        torch.addmm(bias[s], a[s], b[s], out=out[s])
    return out


def baddbmm_(c: torch.Tensor, a: torch.Tensor, b: torch.Tensor, alpha: float) -> torch.Tensor:
    """``c += alpha · a @ b`` in place, for batches ``c`` (S, n, m), ``a`` (S, n, k), ``b`` (S, k, m)."""
    q = _batched(c.shape[0], c.device)
    if q == c.shape[0]:
        return c.baddbmm_(a, b, alpha=alpha)
    if q:
        c[:q].baddbmm_(a[:q], b[:q], alpha=alpha)
    for s in range(q, c.shape[0]):
        c[s].addmm_(a[s], b[s], alpha=alpha)
    return c
