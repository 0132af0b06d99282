"""Smooth rectifiers and self-gated units: softplus, swish, gelu, mish, hard_swish.

Each is close to ReLU far from 0 and smooth (or, for hard_swish, piecewise
quadratic) near it.  Their tails are where floating point bites: the forms here
use the stable kernels of :mod:`actviz.facts.kernels`.  Properties: see
docs/properties.md.
"""

from __future__ import annotations

import math
from typing import Any

from actviz.core.properties import INF, Interval, Properties
from actviz.core.registry import ActivationSpec, Kink, Param, non_negative, positive
from actviz.facts.kernels import (
    LazyModule,
    at_infinity,
    clip_unit,
    finite_below,
    keep_nan,
    sech2,
    sig,
    softplus,
)

torch: Any = LazyModule("torch", globals(), "torch")
F: Any = LazyModule("torch.nn.functional", globals(), "F")


# ----------------------------------------------------------------------------- constants

#: W(1/e), the Lambert W of 1/e: swish's minimum is −W(1/e)/β at x = −(1 + W(1/e))/β.
_W_INV_E = 0.27846454276107379510935873902
#: sup of swish′ (independent of β), at βx ≈ 2.3994; inf swish′ = 1 − sup.
_SWISH_DMAX = 1.09983932012886691695818492432
_GELU_MIN = -0.169971207479903661693868470982  # at x ≈ −0.7518
_GELU_DMAX = 1.12890414518515478634074444226  # at x = √2: Φ(√2) + √2 φ(√2)
_GELU_TANH_MIN = -0.170040750571254050639067427988
_GELU_TANH_DMAX = 1.1289930686587717654559044704
_MISH_MIN = -0.308843413017250406628760229042  # at x ≈ −1.1924
_MISH_DMAX = 1.08849816125172786122829362739  # at x ≈ 1.4906
_MISH_DMIN = -0.112526122389462556407327901149  # at x ≈ −2.2564
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _softplus(x, beta):
    if torch.is_tensor(beta):  # a learnable β: softplus(βx)/β, through which autograd reaches β
        return softplus(x * beta) / beta
    return softplus(x, beta)


def _softplus_dbeta(x, beta):
    """∂f/∂β = g(βx)/β² with g(z) = z·σ(z) − softplus(z) = −(a·σ(−a) + log(1 + e^(−a))), a = |z|.

    The second form never cancels: with t = e^(−a) ≤ 1 it is −t·(a/(1 + t) + log1p(t)/t), and
    t/β² is taken as one exponential, e^(−a − 2·log|β|): neither e^(−a) nor β² underflows on
    the way (at β = 1e-300, x = 1e303 the value is −5.08e168, which g/β² in two steps lost to
    0·inf).  a is clamped to 2500, past which t/β² is 0 for every float64 β (inf·0 would be NaN).
    """
    a = torch.clamp((x * beta).abs(), max=2500.0)  # a NaN x stays NaN through clamp
    t = torch.exp(-a)
    scaled = torch.exp(-a - 2 * torch.log(torch.as_tensor(beta, dtype=a.dtype, device=a.device).abs()))
    tc = t.clamp_min(1e-300)  # log1p(t)/t → 1 as t → 0
    return -(a / (1 + t) + torch.log1p(tc) / tc) * scaled


SOFTPLUS = ActivationSpec(
    name="softplus",
    param_derivatives={"beta": lambda x, beta: _softplus_dbeta(x, beta)},
    symbolic="softplus(beta*x)/beta",
    summary="A smooth ReLU whose derivative is the logistic function σ(βx).",
    formula="softplus(x) = (1/β)·log(1 + e^(βx))",
    latex=r"\frac{1}{\beta} \log\left(1 + e^{\beta x}\right)",
    derivative_formula="softplus′(x) = σ(βx)",
    forward=lambda x, beta: _softplus(x, beta),
    # σ as e^(log σ) (kernels.sig): autograd of it gives f″ = β·σ(βx)·σ(−βx), accurate in the tails,
    # where autograd of torch.sigmoid computes σ·(1 − σ) and gives 0 once βx ≳ 37
    derivative=lambda x, beta: sig(x * beta),
    params=(Param("beta", 1.0, "sharpness β (> 0); β → ∞ tends to ReLU", check=positive, symbol="β"),),
    xscale=lambda p: 1.0 / p["beta"],
    properties=Properties(
        range=Interval(0, INF),
        derivative_range=Interval.open(0, 1),
        monotonic=True,
        continuity="inf",
        derivative_monotonic=True,
        identity_at_origin=False,
        symmetry="none",
        zero_centered=False,
        saturation="left",
        vanishing_gradient=False,
        exploding_gradient=False,
        dead_neurons=False,
    ),
    reference="Dugas et al. (2001), "
    "Incorporating Second-Order Functional Knowledge for Better Option Pricing",
)



def _swish(x, beta):
    if not torch.is_tensor(beta) and beta == 0:  # x/2; βx would be 0·inf = NaN at ±inf
        return x * 0.5
    x = finite_below(x)  # x·σ(βx) is inf·0 at −inf; at the most negative float it is −0, the limit
    return x * sig(x * beta)


def _swish_d(x, beta):
    z = x * beta
    # z·σ(z)·σ(−z) is 0 in any float for |z| ≥ 800; clamping z there keeps inf·0 (NaN) out
    # when βx overflows (β = 2 at |x| ≥ 1.7e38 in float32)
    zc = torch.clamp(z, -800.0, 800.0)
    s = sig(z)
    if not torch.is_tensor(beta) and beta == 0:  # σ(0·x) is NaN at ±inf
        return keep_nan(x, torch.full_like(x, 0.5))
    return s + zc * s * torch.sigmoid(-zc)


def _swish_props(beta: float) -> Properties:
    if beta == 0:  # x/2
        return Properties(
            range=Interval(-INF, INF),
            derivative_range=Interval.closed(0.5, 0.5),
            monotonic=True,
            continuity="inf",
            derivative_monotonic=True,
            identity_at_origin=False,
            symmetry="odd",
            zero_centered=True,
            saturation="none",
            vanishing_gradient=True,
            exploding_gradient=False,
            dead_neurons=False,
        )
    return Properties(
        range=Interval(-_W_INV_E / beta, INF, True, False),
        derivative_range=Interval.closed(1 - _SWISH_DMAX, _SWISH_DMAX),
        monotonic=False,
        continuity="inf",
        derivative_monotonic=False,
        identity_at_origin=False,
        symmetry="none",
        zero_centered=True,
        saturation="left",
        vanishing_gradient=False,
        exploding_gradient=True,
        dead_neurons=False,
    )


def _swish_dbeta(x, beta):
    """∂f/∂β = x²·σ(βx)·σ(−βx) = x·(x·t/(1 + t)²) with t = e^(−|βx|) ≤ 1 (one exponential).

    For β > 0 it is 0 in any float once |βx| ≥ 800, where x is clamped (x² would overflow to inf·0)."""
    if not torch.is_tensor(beta):  # (a tensor β: training, no host-side test of its value)
        x = torch.clamp(x, -800.0 / beta, 800.0 / beta) if beta > 0 else x
    t = torch.exp(-(x * beta).abs())
    u = 1 + t
    return x * (x * (t / (u * u)))


SWISH = ActivationSpec(
    name="swish",
    param_derivatives={"beta": lambda x, beta: _swish_dbeta(x, beta)},
    symbolic="x*sigmoid(beta*x)",
    aliases=("silu",),
    summary="x gated by its own sigmoid; SiLU is swish with β = 1.",
    formula="swish(x) = x·σ(βx)",
    latex=r"x \, \sigma(\beta x)",
    derivative_formula="σ(βx) + βx·σ(βx)·(1 − σ(βx))",
    forward=lambda x, beta: _swish(x, beta),
    derivative=lambda x, beta: _swish_d(x, beta),
    params=(Param("beta", 1.0, "gate sharpness β (≥ 0)", check=non_negative, symbol="β"),),
    xscale=lambda p: 1.0 / p["beta"] if p["beta"] > 0 else 1.0,
    properties=lambda p: _swish_props(p["beta"]),
    reference="Ramachandran, Zoph & Le (2017), Searching for Activation Functions; "
    "Elfwing, Uchibe & Doya (2018), SiLU",
)


_GELU_C = 0.044715


def _gelu_tanh_arg(x):
    """v = 2u = 2√(2/π)·(x + 0.044715x³): x/2·(1 + tanh u) = x·σ(2u), with no 1 + tanh cancellation."""
    return (2 * _SQRT_2_OVER_PI) * x * (1 + _GELU_C * x * x)


def _gelu(x, approximate):
    if approximate == "tanh":
        x = finite_below(x)  # x·σ(v) at −inf is inf·0; at the most negative float it is −0, the limit
        return x * sig(_gelu_tanh_arg(x))
    # Φ(x) = erfc(−x/√2)/2: accurate in the left tail, where 1 + erf(x/√2) cancels (gelu(−10) ≈ −7.62e−23);
    # and Φ ≤ 1 before the product, so gelu(3.4e38) does not overflow in float32
    x = finite_below(x)  # as above: x·Φ(x) → 0 as x → −inf
    return x * (0.5 * torch.special.erfc(-x * _INV_SQRT_2))


def _gelu_d(x, approximate):
    if approximate == "tanh":
        # f′ = σ(v) + x·σ(v)σ(−v)·v′.  The second term is 0 in any float once |x| ≥ 30 (|v| ≳ 2000);
        # evaluating it at x clamped to [−30, 30] keeps x³ and x² (inf in float32 past 1e13 and
        # 1.8e19) out of an inf·0
        # (σ as e^(log σ), kernels.sig: σ(v) is subnormal near x = −21 while f′ ≈ −2000·σ(v) is not)
        xc = torch.clamp(x, -30.0, 30.0)
        vc = _gelu_tanh_arg(xc)
        dv = (2 * _SQRT_2_OVER_PI) * (1 + 3 * _GELU_C * xc * xc)
        return sig(_gelu_tanh_arg(x)) + xc * sig(vc) * torch.sigmoid(-vc) * dv
    cdf = 0.5 * torch.special.erfc(-x * _INV_SQRT_2)
    pdf = torch.exp(-0.5 * x * x) * _INV_SQRT_2PI
    return at_infinity(x, cdf + x * pdf, minus=0.0, plus=1.0)


def _gelu_props(approximate: str) -> Properties:
    low, dmax = (_GELU_TANH_MIN, _GELU_TANH_DMAX) if approximate == "tanh" else (_GELU_MIN, _GELU_DMAX)
    return Properties(
        range=Interval(low, INF, True, False),
        derivative_range=Interval.closed(1 - dmax, dmax),
        monotonic=False,
        continuity="inf",
        derivative_monotonic=False,
        identity_at_origin=False,
        symmetry="none",
        zero_centered=True,
        saturation="left",
        vanishing_gradient=False,
        exploding_gradient=True,
        dead_neurons=False,
    )


GELU = ActivationSpec(
    name="gelu",
    symbolic=lambda p: "x/2*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x**3)))" if p["approximate"] == "tanh" else "x/2*(1 + erf(x/sqrt(2)))",
    summary="Gaussian error linear unit: x weighted by the standard normal CDF Φ(x).",
    formula=lambda p: "gelu(x) = x/2·(1 + tanh(√(2/π)·(x + 0.044715x³)))"
    if p["approximate"] == "tanh"
    else "gelu(x) = x·Φ(x), Φ the standard normal CDF",
    latex=r"x \, \Phi(x) = \frac{x}{2}\left(1 + \operatorname{erf}\frac{x}{\sqrt2}\right)",
    derivative_formula=lambda p: "(1 + tanh u)/2 + x·(1 − tanh² u)·u′/2, u = √(2/π)·(x + 0.044715x³)"
    if p["approximate"] == "tanh"
    else "Φ(x) + x·φ(x), φ the standard normal density",
    forward=lambda x, approximate: _gelu(x, approximate),
    derivative=lambda x, approximate: _gelu_d(x, approximate),
    params=(
        Param(
            "approximate",
            "none",
            "'none' for the exact erf form, 'tanh' for the tanh approximation",
            kind="choice",
            choices=("none", "tanh"),
        ),
    ),
    properties=lambda p: _gelu_props(p["approximate"]),
    reference="Hendrycks & Gimpel (2016), Gaussian Error Linear Units (GELUs)",
)


def _mish_d(x):
    sp = softplus(x)
    # 1 − tanh²(sp) = sech²(sp) without cancellation; x·sech²·σ is 0·finite, never inf·0
    return at_infinity(x, torch.tanh(sp) + x * sech2(sp) * sig(x), minus=0.0, plus=1.0)


MISH = ActivationSpec(
    name="mish",
    symbolic="x*tanh(softplus(x))",
    summary="A smooth, non-monotonic self-gated unit: x·tanh(softplus(x)).",
    formula="mish(x) = x·tanh(log(1 + e^x))",
    latex=r"x \tanh\left(\log(1 + e^{x})\right)",
    derivative_formula="tanh(sp(x)) + x·(1 − tanh²(sp(x)))·σ(x), sp = softplus",
    forward=lambda x: F.mish(finite_below(x)),  # x·tanh(softplus(x)) → 0 as x → −inf, not inf·0
    derivative=_mish_d,
    properties=Properties(
        range=Interval(_MISH_MIN, INF, True, False),
        derivative_range=Interval.closed(_MISH_DMIN, _MISH_DMAX),
        monotonic=False,
        continuity="inf",
        derivative_monotonic=False,
        identity_at_origin=False,
        symmetry="none",
        zero_centered=True,
        saturation="left",
        vanishing_gradient=False,
        exploding_gradient=True,
        dead_neurons=False,
    ),
    reference="Misra (2019), Mish: A Self Regularized Non-Monotonic Activation Function",
)


def _hard_swish(x):
    # x·relu6(x + 3)/6 as x·clip((x + 3)/6, 0, 1): F.hardswish multiplies before dividing and overflows
    # (float32 at 1e38, float64 at 1.7e308).  Autograd of this form gives f′(−3) = 0 and f′(3) = 1
    # (hardtanh's gradient is 0 at its ends), as F.hardswish does since PyTorch 2.8 (pytorch#147801)
    x = finite_below(x)  # x·0 at −inf would be NaN; the limit is 0
    return x * clip_unit((x + 3) / 6)


def _hard_swish_d(x):
    mid = (2 * x + 3) / 6  # exact near the root −3/2, where x/3 + 1/2 cancels
    return keep_nan(x, torch.where(x <= -3, torch.zeros_like(x), torch.where(x < 3, mid, torch.ones_like(x))))


HARD_SWISH = ActivationSpec(
    name="hard_swish",
    symbolic="x*min(max(0, x + 3), 6)/6",
    aliases=("hardswish",),
    summary="MobileNetV3's piecewise-quadratic swish: x·relu6(x + 3)/6.",
    formula="hard_swish(x) = x·relu6(x + 3)/6",
    latex=r"x \, \frac{\operatorname{relu6}(x + 3)}{6}",
    derivative_formula="0 for x ≤ −3, x/3 + 1/2 on (−3, 3), 1 for x ≥ 3",
    forward=_hard_swish,
    derivative=_hard_swish_d,
    kinks=(Kink(-3.0, 0.0), Kink(3.0, 1.0)),
    properties=Properties(
        range=Interval(-0.375, INF, True, False),
        derivative_range=Interval.open(-0.5, 1.5),
        monotonic=False,
        continuity=0,
        derivative_monotonic=False,
        identity_at_origin=False,
        symmetry="none",
        zero_centered=True,
        saturation="left",
        vanishing_gradient=False,
        exploding_gradient=True,
        dead_neurons=True,
    ),
    reference="Howard et al. (2019), Searching for MobileNetV3",
)
