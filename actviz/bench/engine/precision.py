"""``--precision``: fp32 (exact float32), tf32 (CUDA's TensorFloat-32 matmuls), bf16 (bfloat16 matmuls).

bf16 rounds the operands of every matrix product to bfloat16 and accumulates in
float32; the weights, the optimiser state and the element-wise work stay float32
(master weights).  On CPUs with bf16 matrix units (AVX512-BF16, AMX) oneDNN runs
those products on them.  tf32 sets CUDA's matmul precision for the engine's scope
only; on the CPU it changes nothing (float32 products stay float32).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["bf16_matmul", "precision_scope"]


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
