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

__all__ = ["precision_scope"]


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
