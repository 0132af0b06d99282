"""Rectifiers: piecewise-linear and exponential-linear units, and the identity.

identity, relu, leaky_relu, prelu, relu6, elu and selu.  Each record gives its
formula, forward, analytic derivative (written by hand), kinks with the value f′
takes there (PyTorch's autograd conventions), and its properties as a function
of its parameters (see docs/properties.md).
"""

from __future__ import annotations

from typing import Any

from actviz.core.properties import INF, Interval, Properties
from actviz.core.registry import ActivationSpec, Kink, Param
from actviz.facts.kernels import LazyModule, indicator, keep_nan

torch: Any = LazyModule("torch", globals(), "torch")
F: Any = LazyModule("torch.nn.functional", globals(), "F")


_IDENTITY_PROPS = Properties(
    range=Interval(-INF, INF),
    derivative_range=Interval.closed(1, 1),
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

IDENTITY = ActivationSpec(
    name="identity",
    symbolic="x",
    aliases=("linear",),
    summary="No activation: a stack of linear layers collapses to one linear model.",
    formula="identity(x) = x",
    latex="x",
    derivative_formula="1",
    forward=lambda x: x.clone(),
    derivative=lambda x: keep_nan(x, torch.ones_like(x)),
    properties=_IDENTITY_PROPS,
    reference="d2l §5.1: without a non-linearity an MLP is a linear model",
)


RELU = ActivationSpec(
    name="relu",
    symbolic="max(0, x)",
    summary="Rectified linear unit: the identity for positive inputs, 0 otherwise.",
    formula="relu(x) = max(0, x)",
    latex=r"\max(0, x)",
    derivative_formula="1 for x > 0, 0 for x ≤ 0",
    forward=lambda x: torch.relu(x),
    derivative=lambda x: keep_nan(x, indicator(x > 0, x)),
    kinks=(Kink(0.0, 0.0),),
    reference="Nair & Hinton (2010), Rectified Linear Units Improve Restricted Boltzmann Machines",
    properties=Properties(
        range=Interval(0, INF, True, False),
        derivative_range=Interval.closed(0, 1),
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


def _leaky(x, slope):
    # torch.where keeps a tensor slope learnable (PReLU); f′(0) = slope as in PyTorch
    return torch.where(x > 0, x, x * slope)


def _leaky_d(x, slope):
    return keep_nan(x, torch.where(x > 0, torch.ones_like(x), torch.zeros_like(x) + slope))


def _leaky_dslope(x, slope):
    """∂f/∂slope = min(0, x) (0 at 0, as autograd of x·slope there)."""
    return torch.clamp(x, max=0)


def _leaky_props(g: float) -> Properties:
    """Properties of max(0, x) + g·min(0, x) for any real slope g."""
    if g == 1:  # the identity
        return _IDENTITY_PROPS
    return Properties(
        range=Interval(-INF, INF) if g > 0 else Interval(0, INF, True, False),
        derivative_range=Interval.closed(min(g, 1.0), max(g, 1.0)),
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


LEAKY_RELU = ActivationSpec(
    name="leaky_relu",
    param_derivatives={"negative_slope": lambda x, negative_slope: _leaky_dslope(x, negative_slope)},
    symbolic="max(0, x) + negative_slope*min(0, x)",
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

PRELU = ActivationSpec(
    name="prelu",
    param_derivatives={"a": lambda x, a: _leaky_dslope(x, a)},
    symbolic="max(0, x) + a*min(0, x)",
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

RELU6 = ActivationSpec(
    name="relu6",
    symbolic="min(max(0, x), 6)",
    summary="ReLU capped at 6 (MobileNets), PyTorch's ReLU6.",
    formula="relu6(x) = min(max(0, x), 6)",
    latex=r"\min(\max(0, x), 6)",
    derivative_formula="1 on (0, 6), 0 elsewhere (0 at 0 and 6)",
    forward=lambda x: F.relu6(x),
    derivative=lambda x: keep_nan(x, indicator((x > 0) & (x < 6), x)),
    kinks=(Kink(0.0, 0.0), Kink(6.0, 0.0)),
    properties=Properties(
        range=Interval.closed(0, 6),
        derivative_range=Interval.closed(0, 1),
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
    reference="Krizhevsky (2010), Convolutional Deep Belief Networks on CIFAR-10; "
    "Howard et al. (2017), MobileNets",
)


def _elu(x, alpha):
    if torch.is_tensor(alpha):  # a learnable α: F.elu takes only a number
        return torch.where(x > 0, x, alpha * torch.expm1(torch.clamp(x, max=0)))
    return F.elu(x, alpha)


def _elu_d(x, alpha):
    neg = alpha * torch.exp(torch.clamp(x, max=0))
    return keep_nan(x, torch.where(x > 0, torch.ones_like(x), neg))


def _elu_dalpha(x, alpha):
    """∂f/∂α = e^x − 1 for x ≤ 0, 0 above (→ −1 as x → −inf)."""
    return torch.expm1(torch.clamp(x, max=0))  # e^0 − 1 = 0 for x > 0; a NaN stays NaN


def _elu_props(a: float) -> Properties:
    if a > 0:
        rng = Interval(-a, INF)
        drng = Interval(0, max(a, 1.0), False, True)
    else:  # a = 0 is ReLU; a < 0 folds the left half up
        rng = Interval(0, INF, True, False)
        drng = Interval.closed(min(a, 0.0), 1)
    return Properties(
        range=rng,
        derivative_range=drng,
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


ELU = ActivationSpec(
    name="elu",
    param_derivatives={"alpha": lambda x, alpha: _elu_dalpha(x, alpha)},
    symbolic="where(x > 0, x, alpha*(exp(x) - 1))",
    summary="Exponential linear unit: the identity for x > 0, a smooth saturation to −α below.",
    formula="elu(x) = x for x > 0, α·(e^x − 1) for x ≤ 0",
    latex=r"\begin{cases} x & x > 0 \\ \alpha (e^{x} - 1) & x \le 0 \end{cases}",
    derivative_formula="1 for x > 0, α·e^x for x ≤ 0",
    forward=lambda x, alpha: _elu(x, alpha),
    derivative=lambda x, alpha: _elu_d(x, alpha),
    params=(Param("alpha", 1.0, "the negative saturation value −α", symbol="α"),),
    kinks=lambda p: () if p["alpha"] == 1 else (Kink(0.0, p["alpha"]),),
    properties=lambda p: _elu_props(p["alpha"]),
    reference="Clevert, Unterthiner & Hochreiter (2016), Fast and Accurate Deep Network Learning by ELUs",
)
_SELU_LAMBDA = 1.0507009873554804934193349852946
_SELU_ALPHA = 1.6732632423543772848170429916717

_SELU_LA = _SELU_LAMBDA * _SELU_ALPHA


def _selu_d(x):
    neg = _SELU_LA * torch.exp(torch.clamp(x, max=0))
    return keep_nan(x, torch.where(x > 0, torch.full_like(x, _SELU_LAMBDA), neg))


SELU = ActivationSpec(
    name="selu",
    symbolic=f"where(x > 0, {_SELU_LAMBDA!r}*x, {_SELU_LA!r}*(exp(x) - 1))",
    summary="Scaled ELU with the self-normalising constants λ ≈ 1.0507, α ≈ 1.6733.",
    formula="selu(x) = λ·x for x > 0, λα·(e^x − 1) for x ≤ 0",
    latex=r"\lambda \begin{cases} x & x > 0 \\ \alpha (e^{x} - 1) & x \le 0 \end{cases}",
    derivative_formula="λ for x > 0, λα·e^x for x ≤ 0",
    forward=lambda x: F.selu(x),
    derivative=_selu_d,
    kinks=(Kink(0.0, _SELU_LA),),
    properties=Properties(
        range=Interval(-_SELU_LA, INF),
        derivative_range=Interval(0, _SELU_LA, False, True),
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
