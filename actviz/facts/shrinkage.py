"""Shrinkage functions: softshrink, hardshrink and tanhshrink (PyTorch's Softshrink, Hardshrink, Tanhshrink).

softshrink and hardshrink are the proximal maps of the L1 and L0 penalties (soft and
hard thresholding); tanhshrink is x − tanh(x).  Each record gives its formula,
forward, analytic derivative (written by hand), kinks with the value f′ takes there
(PyTorch's autograd: 0 at ±λ for both thresholds), and its properties as a function
of its parameters (see docs/properties.md).
"""

from __future__ import annotations

from typing import Any

from actviz.core.properties import INF, Interval, Properties
from actviz.core.registry import ActivationSpec, Kink, Param
from actviz.facts.kernels import LazyModule, indicator, keep_nan

torch: Any = LazyModule("torch", globals(), "torch")
F: Any = LazyModule("torch.nn.functional", globals(), "F")


_FLOAT32_MAX = 3.4028234663852886e38


def _threshold(value: float) -> str | None:
    # λ > 0: at λ = 0 both are the identity, yet PyTorch's gradient at 0 is still 0 (its mask is |x| ≤ λ);
    # and PyTorch refuses a λ beyond the float32 range for float32 input
    if not 0 < value <= _FLOAT32_MAX:
        return "must be > 0 and at most 3.4e38 (PyTorch's limit in float32)"
    return None


def _lambd() -> Param:
    return Param("lambd", 0.5, "the threshold λ (> 0), PyTorch's lambd", check=_threshold, symbol="λ")


def _outside(x, lambd):
    """f′ of both thresholds: 1 where |x| > λ, 0 on [−λ, λ] (ends included, as PyTorch's mask)."""
    return keep_nan(x, indicator((x > lambd) | (x < -lambd), x))


def _shrink_props(continuity: int) -> Properties:
    return Properties(
        range=Interval(-INF, INF),
        derivative_range=Interval.closed(0, 1),
        monotonic=True,
        continuity=continuity,
        derivative_monotonic=False,
        identity_at_origin=False,
        symmetry="odd",
        zero_centered=True,
        saturation="none",
        vanishing_gradient=False,
        exploding_gradient=False,
        dead_neurons=False,
    )


SOFTSHRINK = ActivationSpec(
    name="softshrink",
    symbolic="piecewise(x > lambd, x - lambd, x < -lambd, x + lambd, 0)",
    aliases=("soft_shrink", "soft_threshold"),
    summary="Soft thresholding: 0 on [−λ, λ], x ∓ λ outside (the proximal map of λ|x|).",
    formula="softshrink(x) = x − λ for x > λ, x + λ for x < −λ, 0 otherwise",
    latex=r"\operatorname{sign}(x) \max(|x| - \lambda, 0)",
    derivative_formula="1 for |x| > λ, 0 for |x| ≤ λ",
    forward=lambda x, lambd: F.softshrink(x, lambd),
    derivative=_outside,
    params=(_lambd(),),
    kinks=lambda p: (Kink(-p["lambd"], 0.0), Kink(p["lambd"], 0.0)),
    xscale=lambda p: max(1.0, p["lambd"] / 4),  # as maxout's: the kinks set the width
    properties=_shrink_props(0),
    reference="Donoho (1995), De-noising by soft-thresholding",
)

HARDSHRINK = ActivationSpec(
    name="hardshrink",
    symbolic="piecewise(x > lambd, x, x < -lambd, x, 0)",
    aliases=("hard_shrink", "hard_threshold"),
    summary="Hard thresholding: 0 on [−λ, λ], x outside; f jumps by λ at ±λ.",
    formula="hardshrink(x) = x for |x| > λ, 0 otherwise",
    latex=r"\begin{cases} x & |x| > \lambda \\ 0 & |x| \le \lambda \end{cases}",
    derivative_formula="1 for |x| > λ, 0 for |x| ≤ λ",
    forward=lambda x, lambd: F.hardshrink(x, lambd),
    derivative=_outside,
    params=(_lambd(),),
    kinks=lambda p: (Kink(-p["lambd"], 0.0), Kink(p["lambd"], 0.0)),
    xscale=lambda p: max(1.0, p["lambd"] / 4),  # as maxout's: the kinks set the width
    properties=_shrink_props(-1),
    reference="Donoho & Johnstone (1994), Ideal spatial adaptation by wavelet shrinkage",
)


#: the Taylor coefficients of x − tanh(x) = Σ c_k x^(2k+3), k = 0 … 19
_TANHSHRINK_SERIES = (
    0.3333333333333333, -0.13333333333333333, 0.05396825396825397, -0.021869488536155203,
    0.008863235529902197, -0.003592128036572481, 0.0014558343870513183, -0.000590027440945586,
    0.00023912911424355248, -9.691537956929451e-05, 3.927832388331683e-05, -1.5918905069328964e-05,
    6.451689215655431e-06, -2.6147711512907546e-06, 1.0597268320104654e-06, -4.294911078273806e-07,
    1.7406618963571648e-07, -7.054636946400968e-08, 2.859136662305254e-08, -1.1587644432798853e-08,
)
_SERIES_REACH = 0.5  # the terms fall by (2x/π)² ≤ 0.1 per step here: twenty reach 1e-20 of the first


def _tanhshrink(x):
    """x − tanh(x); near 0, where the difference cancels (x³/3 at x = 1e-5 is 3e-16), its Taylor series."""
    xs = torch.clamp(x, -_SERIES_REACH, _SERIES_REACH)  # no inf·0 in the unused branch's gradient
    x2 = xs * xs
    acc = torch.full_like(xs, _TANHSHRINK_SERIES[-1])
    for c in reversed(_TANHSHRINK_SERIES[:-1]):
        acc = acc * x2 + c
    near = acc * x2 * xs
    return torch.where(x.abs() < _SERIES_REACH, near, x - torch.tanh(x))


def _tanhshrink_d(x):
    t = torch.tanh(x)
    return t * t  # 1 − sech²(x) = tanh²(x), no cancellation


TANHSHRINK = ActivationSpec(
    name="tanhshrink",
    symbolic="x - tanh(x)",
    aliases=("tanh_shrink",),
    summary="x − tanh(x): flat (cubic) near 0, x ∓ 1 far out.",
    formula="tanhshrink(x) = x − tanh(x)",
    latex=r"x - \tanh(x)",
    derivative_formula="tanh²(x) = 1 − sech²(x)",
    forward=_tanhshrink,
    derivative=_tanhshrink_d,
    properties=Properties(
        range=Interval(-INF, INF),
        derivative_range=Interval(0, 1, True, False),
        monotonic=True,
        continuity="inf",
        derivative_monotonic=False,
        identity_at_origin=False,
        symmetry="odd",
        zero_centered=True,
        saturation="none",
        vanishing_gradient=False,
        exploding_gradient=False,
        dead_neurons=False,
    ),
    reference="PyTorch's Tanhshrink; Gregor & LeCun (2010), Learning Fast Approximations of Sparse Coding",
)
