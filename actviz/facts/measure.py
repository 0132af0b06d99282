"""Numerical measurement of the twelve properties (defined in docs/properties.md).

The registry declares each property; this module re-derives it from the
forward function and the analytic derivative alone, so that ``actviz check``
can report a wrong declaration.  Everything is evaluated in float64 on

* a dense *core* grid over [−R, R] (R = 12 × the entry's ``xscale``, widened to
  hold every kink), with every kink and 0 added as grid points: values here are
  values *attained* at finite x;
* one-sided probes at kinks (c ± 1e-9·max(1, |c|)): near-limits for the extents,
  not attained values; and c ± h, c ± 2h (h = 1e-6·max(1, |c|)), extrapolated
  linearly to c, for the one-sided limits that decide whether f jumps there;
* a *tail* ladder ±R·2^k out to ±2e4·max(1, xscale) (at least four doublings): how f and
  f′ behave as x → ±∞; and f′ over whole stretches between its points, for saturation
  (an oscillating f′ can happen to fall along the doubling points alone).

Higher derivatives (for the continuity class) come from autograd applied to the
analytic derivative.  The rules and tolerances are documented next to each
measurement; they are heuristics with known limits (a function whose
interesting features lie beyond ±R, or which grows like log x, can fool them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from actviz.core.properties import INF, Interval, Properties
from actviz.core.registry import Activation

#: orders of derivative examined for jumps; no jump up to this order reports "inf"
MAX_ORDER = 4
_CORE_POINTS = 24_001
_REL = 1e-12  # attainment tolerance, relative


@dataclass
class Samples:
    """f and f′ sampled for measurement (float64 numpy arrays)."""

    x: Any  # core grid, sorted, kinks and 0 included
    f: Any
    d: Any
    tail_x: Any  # far probes, both sides
    tail_f: Any
    tail_d: Any
    limit_d: Any  # f′ just left and right of each kink
    limit_f: Any
    steps_f: Any  # f at the kink steps (see kink_steps)
    radius: float
    #: max |f′| over each stretch between consecutive tail points, (left, right), each nearest first
    window_d: tuple[Any, Any] = ((), ())


def _t(values: Any) -> Any:
    import torch

    return torch.as_tensor(values, dtype=torch.float64)


def core_radius(act: Activation) -> float:
    """12 × the entry's ``xscale``, widened to hold every kink with room either side.

    Without kinks the radius follows ``xscale`` alone: softplus with β = 100 has the
    shape of softplus at β = 1 on a 100 times narrower grid.  (A fixed floor of ±2
    would put βx = ±200 on the grid, where σ(βx) rounds to exactly 1 and the open
    end of the range (0, 1) would look attained.)
    """
    if not act.kinks:
        return 12.0 * act.xscale
    kink_reach = max(abs(k.x) for k in act.kinks)
    return max(12.0 * act.xscale, 1.5 * kink_reach + 2.0)


def kink_steps(kinks: list[float]) -> Any:
    """For each kink c: the points c − 2h, c − h, c + h, c + 2h (h = 1e-6·max(1, |c|)), flattened."""
    import numpy as np

    out = [[c - 2 * h, c - h, c + h, c + 2 * h] for c in kinks for h in [1e-6 * max(1.0, abs(c))]]
    return np.array(out, dtype=float).reshape(-1)


def one_sided(values: Any) -> tuple[Any, Any]:
    """The left and right limits at each kink from values at :func:`kink_steps`.

    Linear extrapolation, 2g(c ∓ h) − g(c ∓ 2h), is exact for a piecewise-linear g
    and off by O(h²·g″) for a smooth one, so a jump of 1e-7 in f′ (ELU with
    α = 1 + 1e-7) stands out, while a slope far from the origin (a maxout kink at
    x = 1e6) does not look like one.
    """
    v = values.reshape(-1, 4)
    return 2 * v[:, 1] - v[:, 0], 2 * v[:, 2] - v[:, 3]


def sample(act: Activation) -> Samples:
    import numpy as np
    import torch

    r = core_radius(act)
    kinks = [k.x for k in act.kinks]
    grid = np.unique(np.concatenate([np.linspace(-r, r, _CORE_POINTS), kinks, [0.0]]))
    with np.errstate(over="ignore"):  # r·2^k overflows for a huge xscale (softplus, β = 1e-300)
        far = r * 2.0 ** np.arange(1, 64)
    # out to 2e4·max(1, xscale), and at least four doublings (kinks far out push R beyond that)
    far = far[(far <= 2e4 * max(act.xscale, 1.0)) | (np.arange(len(far)) < 4)]
    tail = np.concatenate([-far[::-1], far])
    eps = 1e-9 * max(1.0, *(abs(k) for k in kinks)) if kinks else 1e-9
    around = np.array([[k - eps, k + eps] for k in kinks]).reshape(-1)
    with torch.no_grad():
        x, tx, ax = _t(grid), _t(tail), _t(around)
        window_d = (_window_max(act, -far), _window_max(act, far))
        return Samples(
            x=grid,
            f=act.forward(x).numpy(),
            d=act.derivative(x).numpy(),
            tail_x=tail,
            tail_f=act.forward(tx).numpy(),
            tail_d=act.derivative(tx).numpy(),
            limit_d=act.derivative(ax).numpy(),
            limit_f=act.forward(ax).numpy(),
            steps_f=act.forward(_t(kink_steps(kinks))).numpy(),
            radius=r,
            window_d=window_d,
        )


#: points per stretch of the tail ladder at which :func:`_window_max` samples f′
_WINDOW_POINTS = 513


def _window_max(act: Activation, ladder: Any) -> Any:
    """max |f′| over each stretch [x_k, x_(k+1)] of a tail ladder (nearest first), at 513 points each.

    f′ → 0 means the sup of |f′| beyond x tends to 0, not f′ at x, 2x, 4x, … alone: an
    oscillating f′ (1 + sin 2αx) can happen to fall along the doubling points, but not
    over whole stretches.
    """
    import numpy as np

    if len(ladder) < 2:
        return np.abs(act.derivative(_t(ladder)).numpy())
    t = np.linspace(0.0, 1.0, _WINDOW_POINTS)
    pts = ladder[:-1, None] + (ladder[1:] - ladder[:-1])[:, None] * t[None, :]
    d = np.abs(act.derivative(_t(pts.reshape(-1))).numpy()).reshape(pts.shape)
    return np.max(d, axis=1)


def _aitken(v0: float, v1: float, v2: float) -> float | None:
    """Aitken's Δ² extrapolation of three terms; None where the steps do not shrink."""
    d1, d2 = v1 - v0, v2 - v1
    if d2 == 0 or d2 == d1 or abs(d2) > abs(d1):
        return None
    return v2 - d2 * d2 / (d2 - d1)


def _limit(v: Any) -> float:
    """The limit of a sequence sampled at x, 2x, 4x, … (nearest first), by Aitken's Δ² process.

    The extrapolation is trusted only when the sequence converges like one: the estimates
    from the last three terms and from the three before agree within the last step.  A
    tail that oscillates for ever (sin x at x = 24, 48, 96, …) gives estimates that
    disagree, and it has no limit to add: its last value stands (it is in the range).
    """
    last = float(v[-1])
    if len(v) < 3:
        return last
    a = _aitken(*(float(t) for t in v[-3:]))
    if a is None:
        return last
    if len(v) >= 4:
        b = _aitken(*(float(t) for t in v[-4:-1]))
        if b is None or abs(a - b) > abs(last - float(v[-2])):
            return last
    return a


def _extent(attained: Any, limits: Any, tail: Any, tail_x: Any) -> Interval:
    """inf and sup of a function: attained values, limits (kinks, far out), and growth.

    An end is unbounded when the function keeps moving that way along the tail ladder
    (x doubling) in steps that grow by at least 1.5× each, over the last four steps:
    however small it still is (leaky ReLU with slope 1e-12 is unbounded below) and
    wherever it started (x + 1e6 is unbounded below though positive out to 2e4).  A
    bounded tail's limit is extrapolated by Aitken's Δ².  An end is attained when a
    value at a finite grid point reaches it, within 1e-12 relative to the end (an end
    at 0 must be reached exactly: 2e-19 is not 0, nor is −1e-12·(1 − 6e-6) −1e-12).
    """
    import numpy as np

    sides = [tail[tail_x < 0][::-1], tail[tail_x > 0]]  # each nearest first
    far = [_limit(v) for v in sides]
    lo_a, hi_a = float(np.min(attained)), float(np.max(attained))
    kink_lo = float(np.min(limits)) if limits.size else INF
    kink_hi = float(np.max(limits)) if limits.size else -INF
    lo_all = min(lo_a, kink_lo, float(np.min(tail)), *far)
    hi_all = max(hi_a, kink_hi, float(np.max(tail)), *far)

    def unbounded(sign: float) -> bool:
        def grows(v: Any) -> bool:
            step = sign * np.diff(v[-5:])  # the far end: up to four steps as x doubles
            return len(step) >= 2 and bool(np.all(step > 0) and np.all(step[1:] >= 1.5 * step[:-1]))

        return any(grows(v) for v in sides)

    low = -INF if unbounded(-1.0) else lo_all
    high = INF if unbounded(1.0) else hi_all
    tol = lambda v: _REL * abs(v)  # noqa: E731
    low_closed = low != -INF and lo_a <= low + tol(low)
    high_closed = high != INF and hi_a >= high - tol(high)
    return Interval(low, high, low_closed, high_closed)


def _refine(fn: Any, x: Any, y: Any, i: int, sign: float) -> float:
    """Golden-section search for a smooth extremum of ``fn`` bracketed by grid points i±1."""
    import torch

    if i <= 0 or i >= len(x) - 1:
        return float(y[i])
    a, b = float(x[i - 1]), float(x[i + 1])
    g = (math.sqrt(5) - 1) / 2
    with torch.no_grad():
        val = lambda t: sign * float(fn(_t([t]))[0])  # noqa: E731
        c, d = b - g * (b - a), a + g * (b - a)
        fc, fd = val(c), val(d)
        for _ in range(80):
            if fc > fd:
                b, d, fd = d, c, fc
                c = b - g * (b - a)
                fc = val(c)
            else:
                a, c, fc = c, d, fd
                d = a + g * (b - a)
                fd = val(d)
        return sign * max(fc, fd, sign * float(y[i]))


def _with_refined(act_fn: Any, x: Any, y: Any, kinks: list[float]) -> Any:
    """The grid values and the grid's lowest and highest sharpened by :func:`_refine`.

    Every value returned is one ``act_fn`` takes at a finite x, so all count as attained;
    sharpening first lets a smooth interior extremum that the grid only brackets
    (1 + sin 2x touches 0 between grid points) be seen as attained.  A bracket that holds
    a kink is left alone: there the search would creep up on a one-sided limit that is
    not attained (hard_swish′ → 1.5 as x → 3 from the left).
    """
    import numpy as np

    out = [y]
    for i, sign in ((int(np.argmin(y)), -1.0), (int(np.argmax(y)), 1.0)):
        lo, hi = x[max(i - 1, 0)], x[min(i + 1, len(x) - 1)]
        if not any(lo <= k <= hi for k in kinks):
            out.append([_refine(act_fn, x, y, i, sign)])
    return np.concatenate(out)


def _derivatives(act: Activation, x: Any, order: int) -> list[Any]:
    """f′, f″, … up to ``order`` at x, by autograd on the analytic derivative."""
    import torch

    xt = _t(x).requires_grad_(True)
    out = [act.derivative(xt)]
    for _ in range(order - 1):
        prev = out[-1]
        if not prev.requires_grad:
            out.append(torch.zeros_like(prev))
            continue
        (g,) = torch.autograd.grad(prev.sum(), xt, create_graph=True, allow_unused=True)
        out.append(torch.zeros_like(prev) if g is None else g)
    return [o.detach().numpy() for o in out]


def limits_differ(left: Any, right: Any, g: Any) -> Any:
    """Per kink: its one-sided limits differ by more than 1e-8 × (the larger limit + max |g| on the grid)."""
    import numpy as np

    finite = np.abs(g[np.isfinite(g)])
    scale = np.maximum(np.abs(left), np.abs(right)) + (float(np.max(finite)) if finite.size else 0.0)
    return np.abs(right - left) > 1e-8 * scale


def smooth_kinks(act: Activation) -> list[tuple[float, float, float]]:
    """The declared kinks at which f is differentiable after all: ``(x, left f′, right f′)`` each.

    A kink is real when f jumps there or f′ does (their one-sided limits, see
    :func:`one_sided`, differ by the tolerance :func:`_has_jump` uses).  Where neither
    does, f′ is continuous at the point and f is differentiable: declaring a kink
    there is a wrong declaration (squared ReLU at 0).
    """
    import numpy as np
    import torch

    kinks = [k.x for k in act.kinks]
    if not kinks:
        return []
    r = core_radius(act)
    grid = _t(np.linspace(-r, r, 2001))
    steps = _t(kink_steps(kinks))
    with torch.no_grad():
        f_jump = limits_differ(*one_sided(act.forward(steps).numpy()), act.forward(grid).numpy())
        d_left, d_right = one_sided(act.derivative(steps).numpy())
        d_jump = limits_differ(d_left, d_right, act.derivative(grid).numpy())
    return [
        (c, float(dl), float(dr))
        for c, fj, dj, dl, dr in zip(kinks, f_jump, d_jump, d_left, d_right)
        if not fj and not dj
    ]


def _has_jump(x: Any, g: Any, kinks: list[float], g_left: Any = None, g_right: Any = None) -> bool:
    """A discontinuity of g: at a kink (one-sided limits differ) or anywhere on the grid.

    At a kink, the one-sided limits (see :func:`one_sided`) differ by more than 1e-8
    relative to the larger limit plus the size of g on the grid (the extrapolation
    leaves about 1e-12 of that), so a jump of 1e-7 in an f′ of size 1 is seen, and so
    is a jump from 0 to 1e-9 in an f′ that is never larger.
    On the grid, a jump is a step |Δg| > 1e-6 that is over 20 times the steps
    two places either side of it: a smooth function's steps vary slowly.
    """
    import numpy as np

    if g_left is not None and np.any(limits_differ(g_left, g_right, g)):
        return True
    if not np.all(np.isfinite(g)):
        return True
    dg = np.abs(np.diff(g))
    if dg.size < 3:
        return False
    # compare with the steps two places away, so that a lone point off its neighbours'
    # limits (softsign″(0) = 0 between −2 and 2) counts as the discontinuity it is
    nb = np.maximum(np.concatenate([[0.0, 0.0], dg[:-2]]), np.concatenate([dg[2:], [0.0, 0.0]]))
    return bool(np.any((dg > 1e-6) & (dg > 20 * nb)))


def continuity(act: Activation, s: Samples | None = None) -> int | str:
    """The largest k ≤ MAX_ORDER − 1 with f ∈ C^k found, −1 for a jump in f, "inf" if none."""

    s = s or sample(act)
    kinks = [k.x for k in act.kinks]
    if _has_jump(s.x, s.f, kinks, *(one_sided(s.steps_f) if kinks else (None, None))):
        return -1
    grid_derivs = _derivatives(act, s.x, MAX_ORDER)
    kink_derivs = _derivatives(act, kink_steps(kinks), MAX_ORDER) if kinks else None
    for order, g in enumerate(grid_derivs, start=1):
        sides = one_sided(kink_derivs[order - 1]) if kink_derivs is not None else (None, None)
        if _has_jump(s.x, g, kinks, *sides):
            return order - 1
    return "inf"


def _monotone(values: Any, scale: float) -> bool:
    import numpy as np

    dv = np.diff(values)
    tol = 1e-12 * (1.0 + scale)
    return bool(np.all(dv >= -tol) or np.all(dv <= tol))


def _saturates(d_far: Any, scale: float) -> bool:
    """|f′| → 0 along the tail (nearest first): exactly 0 at the far end, or falling over the
    last steps and either tiny (≤ 1e-6 × ``scale``, the largest |f′| on the core grid) or
    decaying steadily (÷5 per step).

    A small constant is not a limit of 0: leaky ReLU with slope 1e-12 does not saturate, nor
    does sin(ω₀x) with ω₀ = 1e-6, whose f′ is never larger than 1e-6.
    """
    import numpy as np

    a = np.abs(d_far)
    if a[-1] == 0:
        return True
    if len(a) < 3 or not (a[-1] < a[-2] < a[-3]):
        return False
    return bool(a[-1] <= 1e-6 * scale or (a[-1] <= a[-2] / 5 and a[-2] <= a[-3] / 5))


def measure(act: Activation) -> Properties:
    """Measure all twelve properties of ``act`` numerically (see the module docstring).

    Values that overflow (leaky ReLU with slope 1e308 is −inf far left, as it should be)
    make numpy's differences inf − inf; the measurement reads them as they are, silently.
    """
    import numpy as np

    with np.errstate(all="ignore"):
        return _measure(act)


def _ordered(act: Activation, s: Samples) -> tuple[Any, Any, Any]:
    """x, f and f′ over the core grid and the tails together, sorted by x, for the monotonicity checks.

    Grid points within rounding distance of a kink but not on it are left out: there the
    float evaluation, not the function, decides which side's formula applies (a maxout kink
    −20 computed as −20.000000000000046 has the right piece win at it and the left piece at
    −20.0).  The kink itself stays.
    """
    import numpy as np

    xs = np.concatenate([s.tail_x[s.tail_x < 0], s.x, s.tail_x[s.tail_x > 0]])
    fs = np.concatenate([s.tail_f[s.tail_x < 0], s.f, s.tail_f[s.tail_x > 0]])
    ds = np.concatenate([s.tail_d[s.tail_x < 0], s.d, s.tail_d[s.tail_x > 0]])
    order = np.argsort(xs, kind="stable")
    xs, fs, ds = xs[order], fs[order], ds[order]
    for k in act.kinks:
        keep = (np.abs(xs - k.x) > 1e-9 * max(1.0, abs(k.x))) | (xs == k.x)
        xs, fs, ds = xs[keep], fs[keep], ds[keep]
    return xs, fs, ds


def _identity_at_origin(act: Activation, f0: float, d0: float) -> bool:
    """|f(0)| ≤ 1e-12, |f′(0) − 1| ≤ 1e-9, and f′(±h) within 1e-4 of 1 (f′ continuous at 0).

    h = 1e-6 × min(1, xscale): an entry whose features are narrow (CELU with α = 0.001,
    snake with α = 1000) has f′ move by 1e-3 over 1e-6 while still continuous.
    """
    import torch

    h = 1e-6 * min(1.0, act.xscale)
    with torch.no_grad():
        dl, dr = (float(v) for v in act.derivative(_t([-h, h])))
    return abs(f0) <= 1e-12 and abs(d0 - 1) <= 1e-9 and abs(dl - 1) <= 1e-4 and abs(dr - 1) <= 1e-4


def _symmetry(act: Activation, s: Samples, f0: float) -> str:
    """odd, even, point or none, from f(−x) against f(x) at every grid point x > 0 (tolerance 1e-9)."""
    import numpy as np
    import torch

    pos = s.x > 0
    with torch.no_grad():
        f_neg = act.forward(_t(-s.x[pos])).numpy()
    fp = s.f[pos]
    tol = 1e-9 * (1.0 + np.abs(fp))
    if np.all(np.abs(f_neg + fp) <= tol) and abs(f0) <= 1e-12:
        return "odd"
    if np.all(np.abs(f_neg - fp) <= tol):
        return "even"
    if abs(f0) > 1e-12 and np.all(np.abs(f_neg + fp - 2 * f0) <= tol):
        return "point"
    return "none"


def _saturation(s: Samples) -> str:
    """both, left, right or none: the sides where f′ tends to 0.

    :func:`_saturates` is applied to the largest |f′| over each stretch between tail
    points (:func:`_window_max`), which for a decaying |f′| is its value at the stretch's
    near end.
    """
    import numpy as np

    d = np.abs(s.d[np.isfinite(s.d)])
    scale = float(np.max(d)) if d.size else 0.0
    sat_l = _saturates(s.window_d[0], scale)
    sat_r = _saturates(s.window_d[1], scale)
    return {(True, True): "both", (True, False): "left", (False, True): "right"}.get((sat_l, sat_r), "none")


def _measure(act: Activation) -> Properties:
    import numpy as np

    s = sample(act)
    xs, fs, ds = _ordered(act, s)
    kinks = [k.x for k in act.kinks]
    rng = _extent(_with_refined(act.forward, s.x, s.f, kinks), s.limit_f, s.tail_f, s.tail_x)
    drng = _extent(_with_refined(act.derivative, s.x, s.d, kinks), s.limit_d, s.tail_d, s.tail_x)
    i0 = int(np.searchsorted(s.x, 0.0))
    f0, d0 = float(s.f[i0]), float(s.d[i0])
    saturation = _saturation(s)
    # dead: f′ exactly 0 everywhere beyond R/2 on one side (grid and tail)
    dead_l = bool(np.all(ds[xs <= -s.radius / 2] == 0))
    dead_r = bool(np.all(ds[xs >= s.radius / 2] == 0))
    sup_abs = drng.sup_abs
    return Properties(
        range=rng,
        derivative_range=drng,
        monotonic=_monotone(fs, float(np.max(np.abs(s.f)))),
        continuity=continuity(act, s),  # type: ignore[arg-type]
        derivative_monotonic=_monotone(ds, float(np.max(np.abs(ds)))),
        identity_at_origin=_identity_at_origin(act, f0, d0),
        symmetry=_symmetry(act, s, f0),  # type: ignore[arg-type]
        zero_centered=rng.low < 0 < rng.high,
        saturation=saturation,  # type: ignore[arg-type]
        vanishing_gradient=saturation == "both" or sup_abs < 1 - 1e-9,
        exploding_gradient=sup_abs > 1 + 1e-9,
        dead_neurons=dead_l or dead_r,
    )


def intervals_agree(declared: Interval, measured: Interval, *, tol: float = 1e-6) -> bool:
    """Same ends (within ``tol``, relative to 1 + |end|) and the same closedness."""

    def end(a: float, b: float) -> bool:
        if math.isinf(a) or math.isinf(b):
            return a == b
        return abs(a - b) <= tol * (1.0 + abs(a))

    return (
        end(declared.low, measured.low)
        and end(declared.high, measured.high)
        and declared.low_closed == measured.low_closed
        and declared.high_closed == measured.high_closed
    )
