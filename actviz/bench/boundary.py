"""Decision boundaries of models trained on a 2-D toy set: class probabilities on a grid.

After training, each run's final weights (:func:`actviz.bench.train.train_runs` with
``keep_weights``) give the MLP's class probabilities at every point of a
:data:`GRID` × :data:`GRID` grid over the data's extent plus a margin of
:data:`MARGIN` of its width on each side.  The forward is the MLP's: each hidden layer
``h = f(h @ W + b)`` with the activation of the registry (its learned parameters, per
layer, where it has any; maxout takes the largest of its ``k`` pieces), then softmax.
The result is stored in the run as ``boundary`` (:mod:`actviz.results.boundary`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from actviz.core.registry import Activation
from actviz.results.boundary import encode

__all__ = ["GRID", "MARGIN", "attach", "extent", "grid_probabilities"]

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


def _hidden(act: Activation, z: torch.Tensor, learned: dict[str, torch.Tensor]) -> torch.Tensor:
    """The hidden non-linearity on (points, units), with the layer's learned parameters (the engine's shapes)."""
    if act.spec.kind == "maxout":
        k = len(act.params["weights"])
        return z.reshape(z.shape[0], -1, k).max(dim=2).values
    if not learned:
        return act.spec.forward(z, **act.params)
    return act.spec.forward(z.unsqueeze(0), **{**act.params, **learned})[0]


@torch.no_grad()
def grid_probabilities(act: Activation, weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor],
                       ext: Sequence[float], n: int = GRID,
                       learned: Sequence[dict[str, torch.Tensor]] | None = None) -> torch.Tensor:
    """The model's class probabilities (k, n, n) at the grid's cell centres over ``ext``.

    ``weights`` are (in, out), input layer first; the last layer is the output layer.
    ``learned``: per hidden layer, the learned activation parameters as the training engine keeps
    them (``run["activation_parameters"]``); none: the activation's own.
    """
    h = _grid(ext, n)
    for layer, (w, b) in enumerate(zip(weights, biases)):
        z = h @ w.float() + b.float()
        h = z if layer == len(weights) - 1 else _hidden(act, z, learned[layer] if learned else {})
    probs = torch.softmax(h, dim=1)
    return probs.t().reshape(-1, n, n)


def attach(run: dict[str, Any], act: Activation, data: Any, n: int = GRID) -> None:
    """Replace the run's kept weights (``weights``, ``biases``) by its ``boundary`` (completed runs only)."""
    weights, biases = run.pop("weights", None), run.pop("biases", None)
    learned = run.pop("activation_parameters", None)
    if weights is None or biases is None or run.get("status") != "completed":
        return
    ext = extent(torch.cat([data.train_images, data.test_images]).reshape(-1, 2).float())
    probs = grid_probabilities(act, weights, biases, ext, n, learned)
    if not bool(torch.isfinite(probs).all()):
        return
    run["boundary"] = encode(probs.numpy(), ext, data.train_images.numpy(), data.train_labels.numpy())
