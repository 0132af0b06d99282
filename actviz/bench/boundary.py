"""Decision boundaries of models trained on a 2-D toy set: class probabilities on a grid.

After training, each trained model gives its class probabilities at every point of a
:data:`GRID` × :data:`GRID` grid over the data's extent plus a margin of :data:`MARGIN` of
its width on each side, through its own forward in evaluation mode (the stack's
``probabilities``: normalisation on its running statistics, skip connections, the
parameters its activation learned — whatever the network is).  The engine does that at the
end of a stack's training (:func:`actviz.bench.train.train_runs` with ``keep_weights`` on a
2-D set) and :func:`attach` stores it in the run as ``boundary``
(:mod:`actviz.results.boundary`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from actviz.results.boundary import encode

__all__ = ["GRID", "MARGIN", "as_image", "attach", "extent", "grid_for"]

#: the grid's points per side
GRID = 96
#: the margin around the data on each side, as a fraction of its width (or height)
MARGIN = 0.1


def extent(points: torch.Tensor, margin: float = MARGIN) -> tuple[float, float, float, float]:
    """``(x0, x1, y0, y1)``: the points' bounding box widened by ``margin`` of its size on each side."""
    lo, hi = points.min(0).values.double(), points.max(0).values.double()
    pad = (hi - lo).clamp(min=1e-3) * margin
    lo, hi = lo - pad, hi + pad
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def _grid(ext: Sequence[float], n: int) -> torch.Tensor:
    """The (n·n, 2) cell centres, row by row (y from y0 up), x from x0 right within a row."""
    x0, x1, y0, y1 = ext
    xs = x0 + (torch.arange(n, dtype=torch.float64) + 0.5) * (x1 - x0) / n
    ys = y0 + (torch.arange(n, dtype=torch.float64) + 0.5) * (y1 - y0) / n
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1).float()


def grid_for(points: torch.Tensor, n: int = GRID) -> tuple[tuple[float, float, float, float], torch.Tensor]:
    """(the extent of ``points`` with its margin, the (n·n, 2) grid of cell centres over it)."""
    ext = extent(points.reshape(-1, 2).float())
    return ext, _grid(ext, n)


def as_image(probs: torch.Tensor, n: int = GRID) -> torch.Tensor:
    """A model's class probabilities at the grid's points, (n·n, k), as the picture's (k, n, n)."""
    return probs.t().reshape(-1, n, n)


def attach(run: dict[str, Any], data: Any) -> None:
    """Turn the run's ``boundary_probs`` and ``boundary_extent`` (from the trained model's own forward,
    ``probabilities`` of its stack) into its stored ``boundary`` (completed runs with finite values
    only); the parameters training kept beside them (not JSON) are dropped."""
    for key in ("weights", "biases", "activation_parameters"):
        run.pop(key, None)
    probs, ext = run.pop("boundary_probs", None), run.pop("boundary_extent", None)
    if probs is None or ext is None or run.get("status") != "completed" or not bool(torch.isfinite(probs).all()):
        return
    run["boundary"] = encode(probs.numpy(), ext, data.train_images.numpy(), data.train_labels.numpy())
