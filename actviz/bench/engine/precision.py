"""``--precision``: fp32 (exact float32), tf32 (CUDA's TensorFloat-32 matmuls), bf16 (bfloat16 matmuls).

bf16 rounds the operands of every matrix product to bfloat16 and accumulates in
float32; the weights, the optimiser state and the element-wise work stay float32
(master weights).  On CPUs with bf16 matrix units (AVX512-BF16, AMX) oneDNN runs
those products on them (:func:`cpu_bf16_units` names them; the results' environment
records them); elsewhere it emulates them, slower than float32.  tf32 sets CUDA's
matmul precision for the engine's scope only; on the CPU it changes nothing (float32
products stay float32).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["BF16_UNITS", "bf16_matmul", "cpu_bf16_units", "precision_scope"]

#: the CPU flags (Linux's /proc/cpuinfo) of bfloat16 matrix units that oneDNN uses
BF16_UNITS = ("avx512_bf16", "amx_bf16")


def cpu_bf16_units(cpuinfo: str = "/proc/cpuinfo") -> list[str] | None:
    """The CPU's bfloat16 matrix units among :data:`BF16_UNITS`, from the flags in ``cpuinfo``
    (``[]``: none, bf16 products are emulated); None where the flags cannot be read (not Linux)."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return [unit for unit in BF16_UNITS if unit in flags]
    except OSError:
        return None
    return None


@contextmanager
def precision_scope(precision: str, device: torch.device) -> Iterator[None]:
    """CUDA's TF32 switches set for ``precision`` while training, restored afterwards."""
    if device.type != "cuda":
        yield
        return
    before = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = precision == "tf32"
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before


def bf16_matmul(a: torch.Tensor, b: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``a @ b`` under ``--precision bf16``: both operands rounded to bfloat16, the product accumulated
    in float32 by the kernel and returned in ``dtype`` (the weights' and the element-wise work's)."""
    return torch.matmul(a.to(torch.bfloat16), b.to(torch.bfloat16)).to(dtype)
