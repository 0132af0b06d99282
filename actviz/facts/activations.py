"""The built-in activations: one :class:`~actviz.core.registry.ActivationSpec` each.

Every entry gives its formula, a forward function, its analytic derivative
written by hand (never autograd), its kinks with the value f′ takes there
(PyTorch's autograd conventions), and its twelve properties as a function of
its parameters.  The properties are the mathematical truth, derived by hand;
``actviz check`` measures them numerically and reports any disagreement.

torch is imported lazily (on the first call of a forward or derivative), so
that ``actviz list`` does not pay for it.
"""

from __future__ import annotations

import importlib
import math
from typing import Any

from actviz.core.properties import INF, Interval, Properties
from actviz.core.registry import ActivationSpec, Kink, Param, Params, non_negative, positive, register


class _Lazy:
    """A module imported on first attribute access, then put in this module's globals."""

    def __init__(self, alias: str, module: str):
        self._alias, self._module = alias, module

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self._module)
        globals()[self._alias] = module
        return getattr(module, attr)


torch: Any = _Lazy("torch", "torch")
F: Any = _Lazy("F", "torch.nn.functional")


def _keep_nan(x: Any, out: Any) -> Any:
    """``out`` with NaN wherever ``x`` is NaN (piecewise derivatives built from masks lose it)."""
    return torch.where(torch.isnan(x), x, out)


def _mask(cond: Any, x: Any) -> Any:
    return cond.to(x.dtype)


def _abs(x: Any) -> Any:
    """|x| whose autograd derivative at 0 is 1 (``torch.abs`` gives 0 there).

    For an even function written as g(|x|), this keeps every higher derivative
    that autograd computes at 0 equal to g's own, so the continuity class
    measured from the analytic derivative stays honest.
    """
    return torch.where(x < 0, -x, x)


# Numerically stable building blocks.  SPEC §5 and §9: forward and derivative are
# finite for every finite float32 and float64 input where the true value is finite,
# and accurate in the tails (relative error ≤ 1e-6 in float64 wherever the true
# value is a normal float).  Hence no 1 − σ(x), 1 − tanh²(x) or 1 + erf(x)
# (cancellation), and no product that can overflow on the way to a finite result.
# They are built from PyTorch's fused kernels where those are accurate, so that
# ``actviz compare`` (which trains with these functions) stays fast.


def _sig(z: Any) -> Any:
    """σ(z) as e^(log σ(z)), for products x·σ(z).

    torch.sigmoid is 0 once e^(−z) overflows (z < −709.8 in float64, −88.7 in float32),
    where σ(z) is still a subnormal that x·σ(x) lifts back to a normal float
    (swish(−710) ≈ −3.2e−306); F.logsigmoid does not overflow.
    """
    return torch.exp(F.logsigmoid(z))


def _sigmoid_prime(z: Any) -> Any:
    """σ′(z) = σ(z)·σ(−z): both factors are accurate, so the tails are too (σ′(40) ≈ 4.25e−18).

    (torch.sigmoid underflows only where σ′ itself is subnormal.)
    """
    return torch.sigmoid(z) * torch.sigmoid(-z)


def _sech2(x: Any) -> Any:
    """tanh′(x) = sech²(x) = (1/cosh x)²: no 1 − tanh² cancellation (tanh′(20) ≈ 1.70e−17),
    and squaring 1/cosh rather than cosh keeps cosh² from overflowing while sech² is normal."""
    r = 1 / torch.cosh(x)
    return r * r


def _softplus_robust(z: Any, beta: float) -> Any:
    """log(1 + e^(βz))/β as max(z, 0) + log1p(e^(−β|z|))/β, the far left tail as one e^(βz − log β).

    Only for β < 1e-15, where e^(βz) underflows while e^(βz)/β is still a normal
    float; its autograd derivative is σ(βz) everywhere, 0 included.
    """
    u = z * beta
    a = torch.where(u > 0, u, -u)  # |βz|; at 0 its autograd derivative is −β, giving σ(0) = 1/2
    far = a > 40  # log1p(e^−a) = e^−a to full precision: one exp of −a − log β
    a_far = torch.where(far, a, torch.full_like(a, 40.0))
    tail = torch.where(far, torch.exp(-a_far - math.log(beta)), torch.log1p(torch.exp(-a)) / beta)
    return torch.where(z > 0, z, torch.zeros_like(z)) + tail


def _softplus(z: Any, beta: float = 1.0) -> Any:
    """log(1 + e^(βz))/β, finite wherever the true value is, accurate in both tails.

    F.softplus with its threshold raised from 20 to 40: beyond βz = 40 it returns z,
    off by e^(−40)/40 relative (its default 20 leaves 1e-10), and it tests βz > 40
    before it exponentiates, so βz = inf (β = 5 at z = 1e38 in float32) gives z.
    (logaddexp(βz, 0)/β overflowed there.)  Its autograd derivative is σ(βz).
    """
    if beta < 1e-15:
        return _softplus_robust(z, beta)
    return F.softplus(z, beta=beta, threshold=40.0)


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
_SELU_LAMBDA = 1.0507009873554804934193349852946
_SELU_ALPHA = 1.6732632423543772848170429916717
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _props(
    range: Interval,
    derivative_range: Interval,
    *,
    monotonic: bool,
    continuity: int | str,
    derivative_monotonic: bool,
    identity_at_origin: bool,
    symmetry: str,
    saturation: str,
    dead_neurons: bool,
    zero_centered: bool,
    vanishing_gradient: bool,
    exploding_gradient: bool,
) -> Properties:
    return Properties(
        range=range,
        derivative_range=derivative_range,
        monotonic=monotonic,
        continuity=continuity,  # type: ignore[arg-type]
        derivative_monotonic=derivative_monotonic,
        identity_at_origin=identity_at_origin,
        symmetry=symmetry,  # type: ignore[arg-type]
        zero_centered=zero_centered,
        saturation=saturation,  # type: ignore[arg-type]
        vanishing_gradient=vanishing_gradient,
        exploding_gradient=exploding_gradient,
        dead_neurons=dead_neurons,
    )


# ============================================================================ sigmoid family


def _sigmoid(x):
    # torch.sigmoid itself (the training engine's fast path must give the same bits); it is
    # accurate wherever σ(x) is a normal float, and _sig is only needed where x·σ(x) lifts a
    # subnormal σ back into the normal range
    return torch.sigmoid(x)


def _sigmoid_d(x):
    return _sigmoid_prime(x)


register(
    ActivationSpec(
        name="sigmoid",
        aliases=("logistic",),
        summary="The logistic function: squashes ℝ into (0, 1).",
        formula="σ(x) = 1 / (1 + e^(−x))",
        latex=r"\sigma(x) = \frac{1}{1 + e^{-x}}",
        derivative_formula="σ′(x) = σ(x)·(1 − σ(x)) = σ(x)·σ(−x)",
        forward=_sigmoid,
        derivative=_sigmoid_d,
        reference="Rumelhart, Hinton & Williams (1986), Learning representations by back-propagating errors",
        properties=_props(
            Interval.open(0, 1),
            Interval(0, 0.25, False, True),
            monotonic=True,
            continuity="inf",
            derivative_monotonic=False,
            identity_at_origin=False,
            symmetry="point",
            zero_centered=False,
            saturation="both",
            vanishing_gradient=True,
            exploding_gradient=False,
            dead_neurons=False,
        ),
    )
)


def _tanh_d(x):
    return _sech2(x)


register(
    ActivationSpec(
        name="tanh",
        summary="Hyperbolic tangent: a zero-centred sigmoid, tanh(x) = 2σ(2x) − 1.",
        formula="tanh(x) = (e^x − e^(−x)) / (e^x + e^(−x))",
        latex=r"\tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}",
        derivative_formula="tanh′(x) = 1 − tanh²(x)",
        forward=lambda x: torch.tanh(x),
        derivative=_tanh_d,
        reference="LeCun et al. (1998), Efficient BackProp",
        properties=_props(
            Interval.open(-1, 1),
            Interval(0, 1, False, True),
            monotonic=True,
            continuity="inf",
            derivative_monotonic=False,
            identity_at_origin=True,
            symmetry="odd",
            zero_centered=True,
            saturation="both",
            vanishing_gradient=True,
            exploding_gradient=False,
            dead_neurons=False,
        ),
    )
)


def _hard_sigmoid_props(slope: float) -> Properties:
    return _props(
        Interval.closed(0, 1),
        Interval.closed(0, slope),
        monotonic=True,
        continuity=0,
        derivative_monotonic=False,
        identity_at_origin=False,
        symmetry="point",
        zero_centered=False,
        saturation="both",
        vanishing_gradient=True,
        exploding_gradient=False,
        dead_neurons=True,
    )


def _clip_unit(z):
    # hardtanh's backward passes the gradient only strictly inside (0, 1): f′ = 0 at the kinks
    return F.hardtanh(z, 0.0, 1.0)


register(
    ActivationSpec(
        name="hard_sigmoid",
        aliases=("hardsigmoid",),
        summary="PyTorch's Hardsigmoid: a piecewise-linear sigmoid, slope 1/6 on (−3, 3).",
        formula="hard_sigmoid(x) = clip(x/6 + 1/2, 0, 1)",
        latex=r"\operatorname{clip}\!\left(\tfrac{x}{6} + \tfrac12,\ 0,\ 1\right)",
        derivative_formula="1/6 on (−3, 3), 0 elsewhere (0 at ±3)",
        # F.hardsigmoid's backward uses a float32 1/6 even for float64 input; this form is exact.
        # (x + 3)/6, not x/6 + 1/2: near x = −3, x + 3 is exact and x/6 + 1/2 cancels
        forward=lambda x: _clip_unit((x + 3) / 6),
        derivative=lambda x: _keep_nan(x, _mask((x > -3) & (x < 3), x) / 6),
        kinks=(Kink(-3.0, 0.0), Kink(3.0, 0.0)),
        reference="Howard et al. (2019), Searching for MobileNetV3",
        properties=_hard_sigmoid_props(1 / 6),
    )
)

register(
    ActivationSpec(
        name="hard_logistic",
        summary="nndl's hard logistic: the first-order Taylor expansion of σ at 0, clipped.",
        formula="hard_logistic(x) = clip(x/4 + 1/2, 0, 1)",
        latex=r"\operatorname{clip}\!\left(\tfrac{x}{4} + \tfrac12,\ 0,\ 1\right)",
        derivative_formula="1/4 on (−2, 2), 0 elsewhere (0 at ±2)",
        forward=lambda x: _clip_unit((x + 2) * 0.25),
        derivative=lambda x: _keep_nan(x, _mask((x > -2) & (x < 2), x) / 4),
        kinks=(Kink(-2.0, 0.0), Kink(2.0, 0.0)),
        reference="Qiu Xipeng, Neural Networks and Deep Learning (nndl), §4.1.1",
        properties=_hard_sigmoid_props(1 / 4),
    )
)

register(
    ActivationSpec(
        name="hard_tanh",
        aliases=("hardtanh",),
        summary="tanh's piecewise-linear version: the identity clipped to [−1, 1].",
        formula="hard_tanh(x) = clip(x, −1, 1)",
        latex=r"\operatorname{clip}(x,\ -1,\ 1)",
        derivative_formula="1 on (−1, 1), 0 elsewhere (0 at ±1)",
        forward=lambda x: F.hardtanh(x),
        derivative=lambda x: _keep_nan(x, _mask((x > -1) & (x < 1), x)),
        kinks=(Kink(-1.0, 0.0), Kink(1.0, 0.0)),
        reference="Collobert (2004), Large Scale Machine Learning (thesis)",
        properties=_props(
            Interval.closed(-1, 1),
            Interval.closed(0, 1),
            monotonic=True,
            continuity=0,
            derivative_monotonic=False,
            identity_at_origin=True,
            symmetry="odd",
            zero_centered=True,
            saturation="both",
            vanishing_gradient=True,
            exploding_gradient=False,
            dead_neurons=True,
        ),
    )
)

# ============================================================================ ReLU family

register(
    ActivationSpec(
        name="relu",
        summary="Rectified linear unit: the identity for positive inputs, 0 otherwise.",
        formula="relu(x) = max(0, x)",
        latex=r"\max(0, x)",
        derivative_formula="1 for x > 0, 0 for x ≤ 0",
        forward=lambda x: torch.relu(x),
        derivative=lambda x: _keep_nan(x, _mask(x > 0, x)),
        kinks=(Kink(0.0, 0.0),),
        reference="Nair & Hinton (2010), Rectified Linear Units Improve Restricted Boltzmann Machines",
        properties=_props(
            Interval(0, INF, True, False),
            Interval.closed(0, 1),
            monotonic=True,
            continuity=0,
            derivative_monotonic=True,
            identity_at_origin=False,
            symmetry="none",
            zero_centered=False,
            saturation="left",
            vanishing_gradient=False,
            exploding_gradient=False,
            dead_neurons=True,
        ),
    )
)


def _leaky(x, slope):
    # torch.where keeps a tensor slope learnable (PReLU); f′(0) = slope as in PyTorch
    return torch.where(x > 0, x, x * slope)


def _leaky_d(x, slope):
    return _keep_nan(x, torch.where(x > 0, torch.ones_like(x), torch.zeros_like(x) + slope))


def _leaky_props(g: float) -> Properties:
    """Properties of max(0, x) + g·min(0, x) for any real slope g."""
    if g == 1:  # the identity
        return _IDENTITY_PROPS
    return _props(
        Interval(-INF, INF) if g > 0 else Interval(0, INF, True, False),
        Interval.closed(min(g, 1.0), max(g, 1.0)),
        monotonic=g >= 0,
        continuity=0,
        derivative_monotonic=True,
        identity_at_origin=False,
        symmetry="even" if g == -1 else "none",
        zero_centered=g > 0,
        saturation="left" if g == 0 else "none",
        vanishing_gradient=False,
        exploding_gradient=abs(g) > 1,
        dead_neurons=g == 0,
    )


register(
    ActivationSpec(
        name="leaky_relu",
        summary="ReLU with a small slope γ for negative inputs, so no unit is ever dead.",
        formula="leaky_relu(x) = max(0, x) + γ·min(0, x)",
        latex=r"\max(0, x) + \gamma \min(0, x)",
        derivative_formula="1 for x > 0, γ for x ≤ 0",
        forward=lambda x, negative_slope: _leaky(x, negative_slope),
        derivative=lambda x, negative_slope: _leaky_d(x, negative_slope),
        params=(Param("negative_slope", 0.01, "slope γ for x < 0", symbol="γ"),),
        kinks=lambda p: () if p["negative_slope"] == 1 else (Kink(0.0, p["negative_slope"]),),
        properties=lambda p: _leaky_props(p["negative_slope"]),
        reference="Maas, Hannun & Ng (2013), Rectifier Nonlinearities Improve Neural Network Acoustic Models",
    )
)

register(
    ActivationSpec(
        name="prelu",
        summary="Parametric ReLU: leaky ReLU whose negative slope a is learned (one per layer here).",
        formula="prelu(x) = max(0, x) + a·min(0, x), a learned (initially 0.25)",
        latex=r"\max(0, x) + a \min(0, x)",
        derivative_formula="1 for x > 0, a for x ≤ 0",
        forward=lambda x, a: _leaky(x, a),
        derivative=lambda x, a: _leaky_d(x, a),
        params=(Param("a", 0.25, "the learnable negative slope (its initial value)", learnable=True),),
        kinks=lambda p: () if p["a"] == 1 else (Kink(0.0, p["a"]),),
        properties=lambda p: _leaky_props(p["a"]),
        reference="He et al. (2015), Delving Deep into Rectifiers",
    )
)


def _elu_d(x, alpha):
    neg = alpha * torch.exp(torch.clamp(x, max=0))
    return _keep_nan(x, torch.where(x > 0, torch.ones_like(x), neg))


def _elu_props(a: float) -> Properties:
    if a > 0:
        rng = Interval(-a, INF)
        drng = Interval(0, max(a, 1.0), False, True)
    else:  # a = 0 is ReLU; a < 0 folds the left half up
        rng = Interval(0, INF, True, False)
        drng = Interval.closed(min(a, 0.0), 1)
    return _props(
        rng,
        drng,
        monotonic=a >= 0,
        continuity=1 if a == 1 else 0,
        derivative_monotonic=0 <= a <= 1,
        identity_at_origin=a == 1,
        symmetry="none",
        zero_centered=a > 0,
        saturation="left",
        vanishing_gradient=False,
        exploding_gradient=abs(a) > 1,
        dead_neurons=a == 0,
    )


register(
    ActivationSpec(
        name="elu",
        summary="Exponential linear unit: the identity for x > 0, a smooth saturation to −α below.",
        formula="elu(x) = x for x > 0, α·(e^x − 1) for x ≤ 0",
        latex=r"\begin{cases} x & x > 0 \\ \alpha (e^{x} - 1) & x \le 0 \end{cases}",
        derivative_formula="1 for x > 0, α·e^x for x ≤ 0",
        forward=lambda x, alpha: F.elu(x, alpha),
        derivative=lambda x, alpha: _elu_d(x, alpha),
        params=(Param("alpha", 1.0, "the negative saturation value −α", symbol="α"),),
        kinks=lambda p: () if p["alpha"] == 1 else (Kink(0.0, p["alpha"]),),
        properties=lambda p: _elu_props(p["alpha"]),
        reference="Clevert, Unterthiner & Hochreiter (2016), Fast and Accurate Deep Network Learning by ELUs",
    )
)


register(
    ActivationSpec(
        name="softplus",
        summary="A smooth ReLU whose derivative is the logistic function σ(βx).",
        formula="softplus(x) = (1/β)·log(1 + e^(βx))",
        latex=r"\frac{1}{\beta} \log\left(1 + e^{\beta x}\right)",
        derivative_formula="softplus′(x) = σ(βx)",
        forward=lambda x, beta: _softplus(x, beta),
        derivative=lambda x, beta: torch.sigmoid(x * beta),
        params=(Param("beta", 1.0, "sharpness β (> 0); β → ∞ tends to ReLU", check=positive, symbol="β"),),
        xscale=lambda p: 1.0 / p["beta"],
        properties=_props(
            Interval(0, INF),
            Interval.open(0, 1),
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
        reference="Dugas et al. (2001), Incorporating Second-Order Functional Knowledge for Better Option Pricing",
    )
)

# ============================================================================ smooth self-gated


def _swish_d(x, beta):
    z = x * beta
    # z·σ(z)·σ(−z) is 0 in any float for |z| ≥ 800; clamping z there keeps inf·0 (NaN) out
    # when βx overflows (β = 2 at |x| ≥ 1.7e38 in float32)
    zc = torch.clamp(z, -800.0, 800.0)
    s = _sig(z)
    return s + zc * s * torch.sigmoid(-zc)


def _swish_props(beta: float) -> Properties:
    if beta == 0:  # x/2
        return _props(
            Interval(-INF, INF),
            Interval.closed(0.5, 0.5),
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
    return _props(
        Interval(-_W_INV_E / beta, INF, True, False),
        Interval.closed(1 - _SWISH_DMAX, _SWISH_DMAX),
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


register(
    ActivationSpec(
        name="swish",
        aliases=("silu",),
        summary="x gated by its own sigmoid; SiLU is swish with β = 1.",
        formula="swish(x) = x·σ(βx)",
        latex=r"x \, \sigma(\beta x)",
        derivative_formula="σ(βx) + βx·σ(βx)·(1 − σ(βx))",
        forward=lambda x, beta: x * _sig(x * beta),
        derivative=lambda x, beta: _swish_d(x, beta),
        params=(Param("beta", 1.0, "gate sharpness β (≥ 0)", check=non_negative, symbol="β"),),
        xscale=lambda p: 1.0 / p["beta"] if p["beta"] > 0 else 1.0,
        properties=lambda p: _swish_props(p["beta"]),
        reference="Ramachandran, Zoph & Le (2017), Searching for Activation Functions; "
        "Elfwing, Uchibe & Doya (2018), SiLU",
    )
)


_GELU_C = 0.044715


def _gelu_tanh_arg(x):
    """v = 2u = 2√(2/π)·(x + 0.044715x³): x/2·(1 + tanh u) = x·σ(2u), with no 1 + tanh cancellation."""
    return (2 * _SQRT_2_OVER_PI) * x * (1 + _GELU_C * x * x)


def _gelu(x, approximate):
    if approximate == "tanh":
        return x * _sig(_gelu_tanh_arg(x))
    # Φ(x) = erfc(−x/√2)/2: accurate in the left tail, where 1 + erf(x/√2) cancels (gelu(−10) ≈ −7.62e−23);
    # and Φ ≤ 1 before the product, so gelu(3.4e38) does not overflow in float32
    return x * (0.5 * torch.special.erfc(-x * _INV_SQRT_2))


def _gelu_d(x, approximate):
    if approximate == "tanh":
        # f′ = σ(v) + x·σ(v)σ(−v)·v′.  The second term is 0 in any float once |x| ≥ 30 (|v| ≳ 2000);
        # evaluating it at x clamped to [−30, 30] keeps x³ and x² (inf in float32 past 1e13 and
        # 1.8e19) out of an inf·0
        # (σ as e^(log σ), _sig: σ(v) is subnormal near x = −21 while f′ ≈ −2000·σ(v) is not)
        xc = torch.clamp(x, -30.0, 30.0)
        vc = _gelu_tanh_arg(xc)
        dv = (2 * _SQRT_2_OVER_PI) * (1 + 3 * _GELU_C * xc * xc)
        return _sig(_gelu_tanh_arg(x)) + xc * _sig(vc) * torch.sigmoid(-vc) * dv
    cdf = 0.5 * torch.special.erfc(-x * _INV_SQRT_2)
    pdf = torch.exp(-0.5 * x * x) * _INV_SQRT_2PI
    return cdf + x * pdf


def _gelu_props(approximate: str) -> Properties:
    low, dmax = (_GELU_TANH_MIN, _GELU_TANH_DMAX) if approximate == "tanh" else (_GELU_MIN, _GELU_DMAX)
    return _props(
        Interval(low, INF, True, False),
        Interval.closed(1 - dmax, dmax),
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


register(
    ActivationSpec(
        name="gelu",
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
)


def _mish_d(x):
    sp = _softplus(x)
    # 1 − tanh²(sp) = sech²(sp) without cancellation; x·sech²·σ is 0·finite, never inf·0
    return torch.tanh(sp) + x * _sech2(sp) * _sig(x)


register(
    ActivationSpec(
        name="mish",
        summary="A smooth, non-monotonic self-gated unit: x·tanh(softplus(x)).",
        formula="mish(x) = x·tanh(log(1 + e^x))",
        latex=r"x \tanh\left(\log(1 + e^{x})\right)",
        derivative_formula="tanh(sp(x)) + x·(1 − tanh²(sp(x)))·σ(x), sp = softplus",
        forward=lambda x: F.mish(x),
        derivative=_mish_d,
        properties=_props(
            Interval(_MISH_MIN, INF, True, False),
            Interval.closed(_MISH_DMIN, _MISH_DMAX),
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
)

# ============================================================================ maxout


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
    return _props(
        rng,
        Interval.closed(s_left, s_right),
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


def _maxout(x, weights, biases):
    z, _ = _maxout_tensors(x, weights, biases)
    return z.max(dim=-1).values


def _maxout_d(x, weights, biases):
    z, w = _maxout_tensors(x, weights, biases)
    # torch.argmax returns the first maximal index, as autograd of max does
    return _keep_nan(x, w[z.argmax(dim=-1)])


def _check_pieces(p: Params) -> str | None:
    if len(p["weights"]) != len(p["biases"]):
        return f"weights and biases must have the same length (got {len(p['weights'])} and {len(p['biases'])})"
    return None


register(
    ActivationSpec(
        name="maxout",
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
)

# ============================================================================ the extra entries

_IDENTITY_PROPS = _props(
    Interval(-INF, INF),
    Interval.closed(1, 1),
    monotonic=True,
    continuity="inf",
    derivative_monotonic=True,
    identity_at_origin=True,
    symmetry="odd",
    zero_centered=True,
    saturation="none",
    vanishing_gradient=False,
    exploding_gradient=False,
    dead_neurons=False,
)

register(
    ActivationSpec(
        name="identity",
        aliases=("linear",),
        summary="No activation: a stack of linear layers collapses to one linear model.",
        formula="identity(x) = x",
        latex="x",
        derivative_formula="1",
        forward=lambda x: x.clone(),
        derivative=lambda x: _keep_nan(x, torch.ones_like(x)),
        properties=_IDENTITY_PROPS,
        reference="d2l §5.1: without a non-linearity an MLP is a linear model",
    )
)


def _step(x):
    # the isnan branch keeps a (zero) gradient path, so autograd gives 0 rather than failing
    return torch.where(torch.isnan(x), x, _mask(x >= 0, x))


register(
    ActivationSpec(
        name="step",
        aliases=("heaviside", "binary_step"),
        summary="The perceptron's Heaviside unit: 1 for x ≥ 0, 0 otherwise. Its gradient is 0 everywhere.",
        formula="step(x) = 1 for x ≥ 0, 0 for x < 0",
        latex=r"\begin{cases} 1 & x \ge 0 \\ 0 & x < 0 \end{cases}",
        derivative_formula="0 (f jumps at 0; the convention there is 0)",
        forward=_step,
        derivative=lambda x: _keep_nan(x, torch.zeros_like(x)),
        kinks=(Kink(0.0, 0.0),),
        properties=_props(
            Interval.closed(0, 1),
            Interval.closed(0, 0),
            monotonic=True,
            continuity=-1,
            derivative_monotonic=True,
            identity_at_origin=False,
            symmetry="none",
            zero_centered=False,
            saturation="both",
            vanishing_gradient=True,
            exploding_gradient=False,
            dead_neurons=True,
        ),
        reference="Rosenblatt (1958), The Perceptron",
    )
)

_SELU_LA = _SELU_LAMBDA * _SELU_ALPHA


def _selu_d(x):
    neg = _SELU_LA * torch.exp(torch.clamp(x, max=0))
    return _keep_nan(x, torch.where(x > 0, torch.full_like(x, _SELU_LAMBDA), neg))


register(
    ActivationSpec(
        name="selu",
        summary="Scaled ELU with the self-normalising constants λ ≈ 1.0507, α ≈ 1.6733.",
        formula="selu(x) = λ·x for x > 0, λα·(e^x − 1) for x ≤ 0",
        latex=r"\lambda \begin{cases} x & x > 0 \\ \alpha (e^{x} - 1) & x \le 0 \end{cases}",
        derivative_formula="λ for x > 0, λα·e^x for x ≤ 0",
        forward=lambda x: F.selu(x),
        derivative=_selu_d,
        kinks=(Kink(0.0, _SELU_LA),),
        properties=_props(
            Interval(-_SELU_LA, INF),
            Interval(0, _SELU_LA, False, True),
            monotonic=True,
            continuity=0,
            derivative_monotonic=False,
            identity_at_origin=False,
            symmetry="none",
            zero_centered=True,
            saturation="left",
            vanishing_gradient=False,
            exploding_gradient=True,
            dead_neurons=False,
        ),
        reference="Klambauer et al. (2017), Self-Normalizing Neural Networks",
    )
)


def _softsign_d(x):
    r = 1 / (1 + _abs(x))  # _abs keeps autograd's f″ cheap (abs's double backward is not)
    return r * r  # (1/d)², not 1/d²: d² overflows first


register(
    ActivationSpec(
        name="softsign",
        summary="A sigmoid-shaped odd function with polynomial (not exponential) tails.",
        formula="softsign(x) = x / (1 + |x|)",
        latex=r"\frac{x}{1 + |x|}",
        derivative_formula="1 / (1 + |x|)²",
        forward=lambda x: F.softsign(x),
        derivative=_softsign_d,
        properties=_props(
            Interval.open(-1, 1),
            Interval(0, 1, False, True),
            monotonic=True,
            continuity=1,
            derivative_monotonic=False,
            identity_at_origin=True,
            symmetry="odd",
            zero_centered=True,
            saturation="both",
            vanishing_gradient=True,
            exploding_gradient=False,
            dead_neurons=False,
        ),
        reference="Bergstra et al. (2009); Glorot & Bengio (2010), Understanding the difficulty of training deep FNNs",
    )
)

register(
    ActivationSpec(
        name="relu6",
        summary="ReLU capped at 6 (MobileNets), PyTorch's ReLU6.",
        formula="relu6(x) = min(max(0, x), 6)",
        latex=r"\min(\max(0, x), 6)",
        derivative_formula="1 on (0, 6), 0 elsewhere (0 at 0 and 6)",
        forward=lambda x: F.relu6(x),
        derivative=lambda x: _keep_nan(x, _mask((x > 0) & (x < 6), x)),
        kinks=(Kink(0.0, 0.0), Kink(6.0, 0.0)),
        properties=_props(
            Interval.closed(0, 6),
            Interval.closed(0, 1),
            monotonic=True,
            continuity=0,
            derivative_monotonic=False,
            identity_at_origin=False,
            symmetry="none",
            zero_centered=False,
            saturation="both",
            vanishing_gradient=True,
            exploding_gradient=False,
            dead_neurons=True,
        ),
        reference="Krizhevsky (2010), Convolutional Deep Belief Networks on CIFAR-10; Howard et al. (2017), MobileNets",
    )
)


def _hard_swish(x):
    # x·relu6(x + 3)/6 as x·clip((x + 3)/6, 0, 1): F.hardswish multiplies before dividing and overflows
    # (float32 at 1e38, float64 at 1.7e308).  Autograd of this form gives f′(−3) = 0 and f′(3) = 1
    # (hardtanh's gradient is 0 at its ends), as F.hardswish does since PyTorch 2.8 (pytorch#147801)
    return x * _clip_unit((x + 3) / 6)


def _hard_swish_d(x):
    mid = (2 * x + 3) / 6  # exact near the root −3/2, where x/3 + 1/2 cancels
    return _keep_nan(x, torch.where(x <= -3, torch.zeros_like(x), torch.where(x < 3, mid, torch.ones_like(x))))


register(
    ActivationSpec(
        name="hard_swish",
        aliases=("hardswish",),
        summary="MobileNetV3's piecewise-quadratic swish: x·relu6(x + 3)/6.",
        formula="hard_swish(x) = x·relu6(x + 3)/6",
        latex=r"x \, \frac{\operatorname{relu6}(x + 3)}{6}",
        derivative_formula="0 for x ≤ −3, x/3 + 1/2 on (−3, 3), 1 for x ≥ 3",
        forward=_hard_swish,
        derivative=_hard_swish_d,
        kinks=(Kink(-3.0, 0.0), Kink(3.0, 1.0)),
        properties=_props(
            Interval(-0.375, INF, True, False),
            Interval.open(-0.5, 1.5),
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
)
