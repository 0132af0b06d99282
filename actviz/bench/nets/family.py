"""What every network family shares: the engine's ``key``/``build`` protocol and the input shape's channels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from actviz.core.registry import Activation

__all__ = ["Family", "image_shape"]

#: configuration fields a stack holds per model (runs differing only in them can share one stack)
_PER_MODEL = ("lr", "device", "threads")


def image_shape(input_shape: Sequence[int]) -> tuple[int, int, int]:
    """``(C, H, W)`` of an image input: ``(H, W)`` is one channel; a flat input cannot feed a convolution."""
    shape = tuple(int(s) for s in input_shape)
    if len(shape) == 2:
        return (1, *shape)
    if len(shape) == 3:
        return shape  # type: ignore[return-value]
    from actviz.core.errors import UsageError

    raise UsageError(f"a convolutional network needs images, (H, W) or (C, H, W); this data set's inputs are {shape}")


class Family:
    """A network family of the registry: its ``name``, the stack class it builds, and what a run's key holds."""

    def __init__(self, name: str, stack: type, description: str):
        self.name, self.stack, self.description = name, stack, description

    def key(self, act: Activation, config: Any) -> tuple[Any, ...]:
        """Runs with equal keys can train in one stack: same family and the same shape-defining settings."""
        fields = config.to_json() if hasattr(config, "to_json") else dict(config)
        return (self.name, tuple(sorted((k, v) for k, v in fields.items() if k not in _PER_MODEL)))

    def build(self, acts: Sequence[Activation], seeds: Sequence[int], lrs: Sequence[float], slot: Sequence[int],
              config: Any, input_shape: Sequence[int], n_classes: int, device: torch.device,
              dtype: torch.dtype = torch.float32) -> Any:
        """M models: model i has activation ``acts[i]``, initial weights from ``seeds[i]``, rate ``lrs[i]``."""
        return self.stack(acts, seeds, lrs, slot, config, tuple(input_shape), n_classes, device, dtype)

    def __repr__(self) -> str:
        return f"Family({self.name!r})"
