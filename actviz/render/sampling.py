"""Sampling an activation for a picture: f or the analytic f′ on a range, broken where it jumps.

>>> import actviz
>>> from actviz.render.sampling import sample_curve
>>> c = sample_curve(actviz.get("step"), derivative=False, xmin=-1.0, xmax=1.0, n=5)
>>> [p["jump"] for p in c.points]
[True]

A curve is sampled on an even grid with the kinks added.  Where f (or f′) jumps
at a kink, the line stops just before the kink and starts again just after it
(a NaN in between, so that matplotlib leaves a gap); each kink also gets its
one-sided limits and the value used there (f(c), or the f′ value the registry
uses at c).  Values that cannot be plotted (NaN, ±inf, beyond :data:`MAX_ABS_X`)
become gaps.  torch and numpy are imported inside the functions.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from actviz.core.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from actviz.core.registry import Activation

#: the largest |x| a plot range may reach (matplotlib computes margins and tick steps beyond it)
MAX_ABS_X = 1e300


def resolve_activation(act: Any) -> Activation:
    """``act`` if it is an :class:`~actviz.core.registry.Activation`, else the registry's entry named ``act``."""
    from actviz.core.registry import Activation, get

    return act if isinstance(act, Activation) else get(act)


#: the default plotted range is [−DEFAULT_HALF_WIDTH, DEFAULT_HALF_WIDTH], widened where kinks demand
DEFAULT_HALF_WIDTH = 6.0


def default_range(acts: Any, half_width: float = DEFAULT_HALF_WIDTH) -> tuple[float, float]:
    """The default x range of a picture of ``acts``: [−6, 6], widened (symmetrically, to a whole number)
    until every kink lies inside with a margin of max(1, |x|/4) — relu6's kink at 6 gives [−8, 8].

    >>> import actviz
    >>> default_range([actviz.get("relu")]), default_range([actviz.get("relu6")])
    ((-6.0, 6.0), (-8.0, 8.0))
    """
    half = float(half_width)
    for act in acts:
        for k in resolve_activation(act).kinks:
            x = abs(float(k.x))
            if math.isfinite(x) and x <= MAX_ABS_X / 2:
                half = max(half, float(math.ceil(x + max(1.0, x / 4))))
    half = min(half, MAX_ABS_X)
    return -half, half


def resolve_range(acts: Any, xmin: float | None, xmax: float | None) -> tuple[float, float]:
    """``(xmin, xmax)`` with an end left out (None) taken from :func:`default_range`; then checked."""
    if xmin is None or xmax is None:
        lo, hi = default_range(acts)
        xmin = lo if xmin is None else xmin
        xmax = hi if xmax is None else xmax
    return check_range(xmin, xmax)


def check_range(xmin: float, xmax: float) -> tuple[float, float]:
    """``(xmin, xmax)`` as floats, or a :class:`UsageError` naming ``--xmin``/``--xmax``.

    Both must be finite numbers with ``xmin < xmax`` and ``|x| <= MAX_ABS_X``.
    """
    try:
        xmin, xmax = float(xmin), float(xmax)
    except (TypeError, ValueError):
        raise UsageError(f"--xmin and --xmax take numbers, got {xmin!r} and {xmax!r}") from None
    if not math.isfinite(xmin):
        raise UsageError(f"--xmin must be a finite number, got {xmin:g}")
    if not math.isfinite(xmax):
        raise UsageError(f"--xmax must be a finite number, got {xmax:g}")
    if not xmin < xmax:
        raise UsageError(f"--xmin ({xmin:g}) must be below --xmax ({xmax:g})")
    for flag, v in (("--xmin", xmin), ("--xmax", xmax)):
        if abs(v) > MAX_ABS_X:  # matplotlib's margins and ticks overflow near the float maximum
            raise UsageError(f"{flag} {v:g} is too large to plot: the range must lie within "
                             f"-{MAX_ABS_X:g} to {MAX_ABS_X:g}")
    return xmin, xmax


def close(a: float, b: float) -> bool:
    """Equal up to a relative 1e-6 (NaN equals NaN, an infinity only itself)."""
    if not (math.isfinite(a) and math.isfinite(b)):
        return a == b or (math.isnan(a) and math.isnan(b))
    return abs(a - b) <= 1e-6 * (1.0 + abs(a) + abs(b))


def evaluate(fn: Any, xs: Any) -> Any:
    """``fn`` (forward or derivative) on a float64 numpy array; returns numpy float64."""
    import numpy as np
    import torch

    with torch.no_grad():
        out = fn(torch.from_numpy(np.ascontiguousarray(xs, dtype=np.float64)))
    return np.asarray(out.detach().to(torch.float64).cpu().numpy(), dtype=np.float64).reshape(np.shape(xs))


def _kinks_in(act: Activation, xmin: float, xmax: float) -> list[Any]:
    return sorted((k for k in act.kinks if xmin <= k.x <= xmax), key=lambda k: k.x)


def _delta(c: float, xmin: float, xmax: float) -> float:
    """How far from a kink at ``c`` its one-sided limits are probed (and a broken line stops)."""
    return max(1e-9 * max(1.0, abs(c)), 1e-12 * (xmax - xmin))


class Curve:
    """A sampled curve: ``xs`` and ``ys`` (NaN where the line breaks) and ``points``, one per kink.

    Each point holds ``x``, ``value`` (f(c), or the f′ value the registry uses at c),
    ``at`` (the function's own value at c), ``left``/``right`` (one-sided limits),
    ``delta`` (the probing distance), ``jump`` (whether the limits differ) and ``kink``.
    """

    def __init__(self, xs: Any, ys: Any, points: list[dict[str, Any]]):
        self.xs, self.ys, self.points = xs, ys, points


def _kink_points(act: Activation, fn: Any, derivative: bool, xmin: float,
                 xmax: float) -> list[dict[str, Any]]:
    """What happens at each kink in ``[xmin, xmax]``: the value used, the one-sided limits, a jump."""
    import numpy as np

    points: list[dict[str, Any]] = []
    for k in _kinks_in(act, xmin, xmax):
        c = float(k.x)
        d = _delta(c, xmin, xmax)
        probe = np.array([c - d, c, c + d])
        left, at, right = (float(v) for v in evaluate(fn, probe))
        if c <= xmin:
            left = at
        if c >= xmax:
            right = at
        value = float(k.derivative) if derivative else at
        points.append({"x": c, "value": value, "at": at, "left": left, "right": right, "delta": d,
                       "jump": not close(left, right), "kink": k})
    return points


def _grid(points: list[dict[str, Any]], xmin: float, xmax: float, n: int) -> tuple[list[float], list[int]]:
    """The x values (an even grid with the kinks) and the indices before which the line breaks.

    At a jump the line stops ``delta`` before the kink and starts ``delta`` after it; a kink
    right at an end of the range starts (or ends) the line at the limit from inside.
    """
    import numpy as np

    base = np.linspace(xmin, xmax, n)
    xs: list[float] = []
    breaks: list[int] = []  # index in xs before which a NaN goes
    interior = [p for p in points if xmin < p["x"] < xmax]
    bounds = [xmin, *[p["x"] for p in interior], xmax]
    for j in range(len(bounds) - 1):
        a, b = bounds[j], bounds[j + 1]
        if j == 0:  # a kink right at an end: the line starts at the limit from inside
            xs.append(a + next((p["delta"] for p in points if p["x"] == a), 0.0))
        else:
            p = interior[j - 1]
            if p["jump"]:
                xs.append(a + p["delta"])
        xs.extend(base[(base > a) & (base < b)].tolist())
        if j == len(bounds) - 2:
            xs.append(b - next((p["delta"] for p in points if p["x"] == b), 0.0))
        else:
            p = interior[j]
            if p["jump"]:
                xs.append(b - p["delta"])
                breaks.append(len(xs))
            else:
                xs.append(b)
    return xs, breaks


def plottable(ys: Any) -> Any:
    """``ys`` with NaN where a value cannot be plotted (NaN, ±inf, |y| > :data:`MAX_ABS_X`)."""
    import numpy as np

    return np.where(np.isfinite(ys) & (np.abs(ys) <= MAX_ABS_X), ys, np.nan)


def sample_curve(act: Activation, derivative: bool, xmin: float, xmax: float, n: int) -> Curve:
    """Sample f (or with ``derivative`` the analytic f′) on ``[xmin, xmax]``, broken (NaN) at jumps."""
    import numpy as np

    fn = act.derivative if derivative else act.forward
    points = _kink_points(act, fn, derivative, xmin, xmax)
    xs, breaks = _grid(points, xmin, xmax, n)
    x_arr = np.asarray(xs, dtype=np.float64)
    y_arr = plottable(evaluate(fn, x_arr))
    if breaks:
        x_arr = np.insert(x_arr, breaks, np.nan)
        y_arr = np.insert(y_arr, breaks, np.nan)
    return Curve(x_arr, y_arr, points)


def maxout_pieces(act: Activation) -> list[tuple[float, float]]:
    """``(weight, bias)`` of each affine piece of a maxout unit; empty for any other activation."""
    if act.spec.kind != "maxout":
        return []
    w, b = act.params.get("weights"), act.params.get("biases")
    if w is None or b is None:
        return []
    return [(float(wi), float(bi)) for wi, bi in zip(w, b)]


__all__ = [
    "MAX_ABS_X",
    "Curve",
    "check_range",
    "close",
    "evaluate",
    "maxout_pieces",
    "plottable",
    "resolve_activation",
    "sample_curve",
]
