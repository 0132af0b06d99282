"""The data set on the device, and each seed slot's mini-batches drawn from it.

Seed ``s`` fixes its mini-batch order: a generator seeded with ``s`` draws one
permutation of the training set per epoch, and batch ``b`` is its ``b``-th slice (the
last batch is the remainder).  The models of one seed read the same batches, whoever
they are trained with.  uint8 images are scaled by 1/255 as each batch is converted,
float images are used as they are; the test set and the fixed probe batch (drawn from
the training set with :data:`PROBE_SEED`) are converted once.
"""

from __future__ import annotations

from typing import Any

import torch

from actviz.bench.engine.params import N_CLASSES
from actviz.core.errors import UsageError

__all__ = ["PROBE_SEED", "Batches", "as_float"]

#: the probe batch is drawn from the training set with this fixed seed
PROBE_SEED = 20240601


def as_float(images: torch.Tensor, device: torch.device) -> torch.Tensor:
    """uint8 images → float32 in [0, 1]; float images as float32."""
    x = images.to(device)
    return x.div(255) if x.dtype == torch.uint8 else x.to(torch.float32)


class Batches:
    """Training images (kept in their own dtype), labels, test set and probe batch on ``device``."""

    def __init__(self, data: Any, batch_size: int, probe_size: int, device: torch.device):
        self.device = device
        self.train_x = data.train_images.to(device)
        self.train_y = data.train_labels.to(device=device, dtype=torch.int64)
        self.n = n = int(self.train_x.shape[0])
        if n == 0:
            raise UsageError("the training set is empty")
        self.input_shape = tuple(int(d) for d in self.train_x.shape[1:])
        self.n_classes = int(getattr(data, "n_classes", None) or N_CLASSES)
        self.test_x = as_float(data.test_images, device)
        self.test_y = data.test_labels.to(device=device, dtype=torch.int64)
        self.bs = bs = min(batch_size, n)
        self.n_batches = (n + bs - 1) // bs
        probe_gen = torch.Generator().manual_seed(PROBE_SEED)
        probe_idx = torch.randperm(n, generator=probe_gen)[:probe_size].to(device)
        self.probe_x = as_float(self.train_x.index_select(0, probe_idx), device)
        self.probe_y = self.train_y.index_select(0, probe_idx)

    def orders(self, gens: list[torch.Generator]) -> torch.Tensor:
        """(S, N): one epoch's permutation per seed slot, drawn from the slots' generators."""
        return torch.stack([torch.randperm(self.n, generator=g) for g in gens]).to(self.device)

    def batch(self, perms: torch.Tensor, b: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Batch ``b`` of every slot: images (S, B, *input_shape) float and labels (S, B)."""
        sel = perms[:, b * self.bs : (b + 1) * self.bs]
        flat = sel.reshape(-1)
        x = as_float(self.train_x.index_select(0, flat), self.device)
        return x.view(*sel.shape, *self.input_shape), self.train_y.index_select(0, flat).view(sel.shape)
