"""Maxout: the max of k affine pieces, a parametric piecewise-linear unit.

In a network maxout is a layer (k linear maps, then the max); the record
describes its faithful 1-D unit max_i(w_i·x + b_i), with the pieces as
parameters.  Its kinks and properties are computed exactly from the pieces'
upper envelope (see docs/properties.md for the definitions).
"""

from __future__ import annotations

import math
from typing import Any

from actviz.core.properties import INF, Interval, Properties
from actviz.core.registry import ActivationSpec, Kink, Param, Params
from actviz.facts.kernels import LazyModule, at_infinity, keep_nan

torch: Any = LazyModule("torch", globals(), "torch")


def _pieces(p: Params) -> list[tuple[float, float]]:
    return list(zip(p["weights"], p["biases"]))


def _maxout_envelope(p: Params) -> tuple[list[tuple[float, float]], list[float]]:
    """The pieces on the upper envelope (in slope order) and the kinks between them."""
    pieces = _pieces(p)
    # for each slope keep the highest line; then sweep slopes upward (convex hull trick)
    best: dict[float, float] = {}
    for w, b in pieces:
        best[w] = max(b, best.get(w, -INF))
    lines = sorted(best.items())
    hull: list[tuple[float, float]] = []
    for w, b in lines:
        while hull:
            w1, b1 = hull[-1]
            if len(hull) >= 2:
                w0, b0 = hull[-2]
                # line (w1, b1) is useless if (w, b) overtakes (w0, b0) no later than (w1, b1) does
                if (b0 - b) * (w1 - w0) <= (b0 - b1) * (w - w0):
                    hull.pop()
                    continue
            break
        hull.append((w, b))
    kinks = [(b0 - b1) / (w1 - w0) for (w0, b0), (w1, b1) in zip(hull, hull[1:])]
    return hull, kinks


def _maxout_f(p: Params, x: float) -> float:
    return max(w * x + b for w, b in _pieces(p))


def _maxout_slope(p: Params, x: float) -> float:
    """f′(x): the slope of the first piece (in declared order) attaining the max, as autograd of max."""
    top = _maxout_f(p, x)
    return next(w for w, b in _pieces(p) if w * x + b >= top - 1e-12 * (1 + abs(top)))


def _maxout_float_slope(p: Params, x: float) -> float:
    """f′(x) exactly as the forward computes it in float64: the first piece whose w·x + b,
    rounded as torch rounds it (a product, then a sum), is the largest (torch.argmax).

    A kink c = (b0 − b1)/(w1 − w0) is rarely a float: at float(c) one piece may win by
    an ulp, and the value listed at the kink is the one the derivative gives there.
    """
    values = [w * x + b for w, b in _pieces(p)]
    return _pieces(p)[values.index(max(values))][0]


def _maxout_kinks(p: Params) -> tuple[Kink, ...]:
    return tuple(Kink(c, _maxout_float_slope(p, c)) for c in _maxout_envelope(p)[1])


def _maxout_props(p: Params) -> Properties:
    hull, kinks = _maxout_envelope(p)
    (s_left, b_left), (s_right, b_right) = hull[0], hull[-1]
    linear = len(hull) == 1
    # the envelope is convex: bounded below exactly when the slopes change sign (or one is 0)
    if linear and s_left == 0:
        rng = Interval.closed(b_left, b_left)
    elif s_left < 0 < s_right:
        rng = Interval(min(_maxout_f(p, c) for c in kinks), INF, True, False)
    elif s_left == 0:
        rng = Interval(b_left, INF, True, False)
    elif s_right == 0:
        rng = Interval(b_right, INF, True, False)
    else:
        rng = Interval(-INF, INF)
    sup_abs = max(abs(s_left), abs(s_right))
    sat = {(True, True): "both", (True, False): "left", (False, True): "right"}.get(
        (s_left == 0, s_right == 0), "none"
    )
    pieces = set(hull)
    if linear:
        symmetry = "odd" if b_left == 0 else ("even" if s_left == 0 else "point")
    else:
        symmetry = "even" if all((-w, b) in pieces for w, b in hull) else "none"
    return Properties(
        range=rng,
        derivative_range=Interval.closed(s_left, s_right),
        monotonic=s_left >= 0 or s_right <= 0,
        continuity="inf" if linear else 0,
        derivative_monotonic=True,
        identity_at_origin=_maxout_f(p, 0.0) == 0 and _maxout_slope(p, 0.0) == 1 and 0.0 not in kinks,
        symmetry=symmetry,
        zero_centered=rng.low < 0 < rng.high,
        saturation=sat,
        vanishing_gradient=sat == "both" or sup_abs < 1,
        exploding_gradient=sup_abs > 1,
        dead_neurons=s_left == 0 or s_right == 0,
    )


def _maxout_tensors(x, weights, biases):
    w = torch.tensor(weights, dtype=x.dtype, device=x.device)
    b = torch.tensor(biases, dtype=x.dtype, device=x.device)
    return x.unsqueeze(-1) * w + b, w


def _limits(weights, biases, side: int) -> tuple[float, float]:
    """(f, f′) as x → side·inf: the piece of the most extreme slope wins (of the slope-0 pieces, the highest)."""
    slope = max(weights) if side > 0 else min(weights)
    if slope == 0:
        return max(b for w, b in zip(weights, biases) if w == 0), 0.0
    return math.copysign(math.inf, slope * side), slope


def _maxout(x, weights, biases):
    z, _ = _maxout_tensors(x, weights, biases)
    out = z.max(dim=-1).values
    if 0.0 not in weights:
        return out
    # at ±inf a slope-0 piece gives 0·inf = NaN, which max would pass on
    return at_infinity(x, out, _limits(weights, biases, -1)[0], _limits(weights, biases, 1)[0])


def _maxout_d(x, weights, biases):
    z, w = _maxout_tensors(x, weights, biases)
    # torch.argmax returns the first maximal index, as autograd of max does; at ±inf every piece
    # of the extreme slope's sign is ±inf, and the limit is the extreme slope itself
    d = keep_nan(x, w[z.argmax(dim=-1)])
    return at_infinity(x, d, _limits(weights, biases, -1)[1], _limits(weights, biases, 1)[1])


def _check_pieces(p: Params) -> str | None:
    if len(p["weights"]) != len(p["biases"]):
        lengths = f"{len(p['weights'])} and {len(p['biases'])}"
        return f"weights and biases must have the same length (got {lengths})"
    return None


def _maxout_symbolic(p) -> str:
    """max_i (w_i·x + b_i) in the formula grammar."""
    return "max(" + ", ".join(f"({w!r})*x + ({b!r})" for w, b in zip(p["weights"], p["biases"])) + ")"


MAXOUT = ActivationSpec(
    name="maxout",
    symbolic=_maxout_symbolic,
    kind="maxout",
    summary="The max of k affine pieces. In a network a layer (k linear maps, then the max); "
    "here its 1-D unit with pieces w_i·x + b_i.",
    formula="maxout(x) = max_i (w_i·x + b_i); default pieces −0.5x − 0.75, 0.25x, x − 0.75",
    latex=r"\max_{i} \left(w_i x + b_i\right)",
    derivative_formula="w_i of the piece attaining the max (the first such piece at a tie)",
    forward=lambda x, weights, biases: _maxout(x, weights, biases),
    derivative=lambda x, weights, biases: _maxout_d(x, weights, biases),
    params=(
        Param("weights", (-0.5, 0.25, 1.0), "slopes w_i of the k pieces", kind="floats"),
        Param("biases", (-0.75, 0.0, -0.75), "intercepts b_i of the k pieces", kind="floats"),
    ),
    check=_check_pieces,
    kinks=_maxout_kinks,
    properties=_maxout_props,
    xscale=lambda p: max([1.0, *(abs(k.x) / 4 for k in _maxout_kinks(p))]),
    reference="Goodfellow et al. (2013), Maxout Networks",
)
