"""Variants of the classic units: CELU (of ELU), log-sigmoid (of the sigmoid), squared ReLU (of ReLU).

Each record gives its formula, forward, analytic derivative (written by hand),
kinks with the value f′ takes there (PyTorch's autograd conventions), and its
properties as a function of its parameters (see docs/properties.md).
"""

from __future__ import annotations

from typing import Any

from actviz.core.properties import INF, Interval, Properties
from actviz.core.registry import ActivationSpec, Param
from actviz.facts.kernels import LazyModule, keep_nan, softplus

torch: Any = LazyModule("torch", globals(), "torch")
F: Any = LazyModule("torch.nn.functional", globals(), "F")


def _celu_alpha(value: float) -> str | None:
    # below 1e-6, x/α leaves float32's range; above 1e4, the jump 1/α of f″ at 0 is below the
    # measurement's resolution (docs/properties.md), so the C¹ class could not be checked
    return None if 1e-6 <= value <= 1e4 else "must be between 1e-6 and 1e4"


def _celu(x, alpha):
    # not F.celu: its gradient uses α rounded to float32 (f′(0) = 1 − 1.5e-8 in float64 at α = 0.05)
    return torch.where(x > 0, x, alpha * torch.expm1(torch.clamp(x, max=0) / alpha))


def _celu_d(x, alpha):
    # e^(x/α) for x ≤ 0, 1 above: continuous at 0 (both sides 1), so CELU is C¹ for every α
    return keep_nan(x, torch.exp(torch.clamp(x, max=0) / alpha))


def _celu_dalpha(x, alpha):
    """∂f/∂α = expm1(z) − z·e^z with z = x/α for x ≤ 0, 0 above (z·e^z → 0 as z → −inf)."""
    z = torch.clamp(torch.clamp(x, max=0) / alpha, min=-800.0)
    return keep_nan(x, torch.where(x > 0, torch.zeros_like(x), torch.expm1(z) - z * torch.exp(z)))


CELU = ActivationSpec(
    name="celu",
    param_derivatives={"alpha": lambda x, alpha: _celu_dalpha(x, alpha)},
    symbolic="max(0, x) + min(0, alpha*(exp(x/alpha) - 1))",
    summary="Continuously differentiable ELU: ELU with the exponential scaled by 1/α, so f′ is continuous for every α.",
    formula="celu(x) = max(0, x) + min(0, α·(e^(x/α) − 1))",
    latex=r"\max(0, x) + \min\left(0, \alpha \left(e^{x/\alpha} - 1\right)\right)",
    derivative_formula="1 for x > 0, e^(x/α) for x ≤ 0",
    forward=lambda x, alpha: _celu(x, alpha),
    derivative=lambda x, alpha: _celu_d(x, alpha),
    params=(Param("alpha", 1.0, "the negative saturation value −α (1e-6 … 1e4)", check=_celu_alpha, symbol="α"),),
    xscale=lambda p: p["alpha"],
    properties=lambda p: Properties(
        range=Interval(-p["alpha"], INF),
        derivative_range=Interval(0, 1, False, True),
        monotonic=True,
        continuity=1,
        derivative_monotonic=True,
        identity_at_origin=True,
        symmetry="none",
        zero_centered=True,
        saturation="left",
        vanishing_gradient=False,
        exploding_gradient=False,
        dead_neurons=False,
    ),
    reference="Barron (2017), Continuously Differentiable Exponential Linear Units",
)


LOG_SIGMOID = ActivationSpec(
    name="log_sigmoid",
    symbolic="-softplus(-x)",
    aliases=("logsigmoid",),
    summary="The logarithm of the sigmoid, −softplus(−x): negative everywhere, linear on the left.",
    formula="log_sigmoid(x) = log σ(x) = −log(1 + e^(−x))",
    latex=r"\log \sigma(x) = -\log\left(1 + e^{-x}\right)",
    derivative_formula="σ(−x) = 1 − σ(x)",
    # −softplus(−x): accurate in both tails (log σ(x) ≈ −e^(−x) on the right, x on the left)
    forward=lambda x: -softplus(-x),
    derivative=lambda x: torch.sigmoid(-x),
    properties=Properties(
        range=Interval.open(-INF, 0),
        derivative_range=Interval.open(0, 1),
        monotonic=True,
        continuity="inf",
        derivative_monotonic=True,
        identity_at_origin=False,
        symmetry="none",
        zero_centered=False,
        saturation="right",
        vanishing_gradient=False,
        exploding_gradient=False,
        dead_neurons=False,
    ),
    reference="PyTorch's LogSigmoid; the log-likelihood of logistic regression (Cox 1958)",
)


def _squared_relu(x):
    r = torch.relu(x)
    return r * r


SQUARED_RELU_PROPS = Properties(
    range=Interval(0, INF, True, False),
    derivative_range=Interval(0, INF, True, False),
    monotonic=True,
    continuity=1,
    derivative_monotonic=True,
    identity_at_origin=False,
    symmetry="none",
    zero_centered=False,
    saturation="left",
    vanishing_gradient=False,
    exploding_gradient=True,
    dead_neurons=True,
)

SQUARED_RELU = ActivationSpec(
    name="squared_relu",
    symbolic="max(0, x)**2",
    aliases=("relu2", "relu_squared"),
    summary="ReLU squared (Primer): differentiable at 0 (f′ is 2·max(0, x), continuous), so no kink.",
    formula="squared_relu(x) = max(0, x)²",
    latex=r"\max(0, x)^{2}",
    derivative_formula="2·max(0, x)",
    forward=_squared_relu,
    derivative=lambda x: 2 * torch.relu(x),
    properties=SQUARED_RELU_PROPS,
    reference="So et al. (2021), Primer: Searching for Efficient Transformers for Language Modeling",
)
