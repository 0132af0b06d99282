"""Gated linear units: GLU, ReGLU, GEGLU and SwiGLU.

A gated unit acts on two halves of its input: a layer computes 2h pre-activations
z = (a, b) and outputs a ⊗ gate(b), h values (Dauphin et al. 2017; Shazeer 2020).
:func:`gated_unit` is that map.  The records describe its **1-D view**, the unit with
both halves equal to x: f(x) = x·gate(x), as maxout's record describes its 1-D unit.
In that view GLU (gate σ) is swish with β = 1 and ReGLU (gate ReLU) is squared ReLU;
their properties are those of the 1-D view (docs/properties.md).  ``actviz compare``
trains the 1-D view element-wise.
"""

from __future__ import annotations

import math
from typing import Any

from actviz.core.properties import INF, Interval, Properties
from actviz.core.registry import ActivationSpec
from actviz.facts.kernels import LazyModule, at_infinity, finite_below
from actviz.facts.smooth import _swish, _swish_d, _swish_props
from actviz.facts.variants import SQUARED_RELU_PROPS

torch: Any = LazyModule("torch", globals(), "torch")
F: Any = LazyModule("torch.nn.functional", globals(), "F")

#: inf of the 1-D views' f′ (attained at x ≈ −0.47240 for GEGLU, −0.78559 for SwiGLU), 40-digit mpmath
_GEGLU_DMIN = -0.22112042161068676
_SWIGLU_DMIN = -0.3592285844707699
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _gates() -> dict[str, Any]:
    return {"glu": torch.sigmoid, "reglu": torch.relu, "geglu": F.gelu, "swiglu": F.silu}


def gated_unit(z: Any, name: str, dim: int = -1) -> Any:
    """a ⊗ gate(b) for z = (a, b) split into two halves along ``dim``: the unit in a network.

    ``name`` is glu, reglu, geglu or swiglu; ``z.shape[dim]`` must be even.
    """
    gate = _gates()[name]
    a, b = z.chunk(2, dim=dim)
    return a * gate(b)


# --------------------------------------------------------------------------- the 1-D views


def _phi(x):
    """Φ(x) = erfc(−x/√2)/2, accurate in the left tail."""
    return 0.5 * torch.special.erfc(-x * _INV_SQRT_2)


#: below this x the 1-D views are computed in log space: Φ(x) and σ(x) there become
#: subnormal (or 0) while x²·Φ(x), x²·σ(x) and their derivatives are still normal
_TAIL = -5.0
#: beyond this x every value of GEGLU's 1-D view underflows (x²Φ(x) < 1e-700)
_GEGLU_FAR = -60.0


def _geglu(x):
    xc = torch.clamp(x, min=_TAIL)
    xt = torch.clamp(x, _GEGLU_FAR, _TAIL)
    tail = torch.exp(2 * torch.log(-xt) + torch.special.log_ndtr(xt))
    return torch.where(x < _TAIL, tail, xc * (xc * _phi(xc)))


def _geglu_d(x):
    # f′ = 2xΦ(x) + x²φ(x) = x·(2Φ(x) + x·φ(x)); in the left tail x²φ(x)·(1 − 2Φ(x)/(|x|φ(x)))
    xc = torch.clamp(x, min=_TAIL)
    near = xc * (2 * _phi(xc) + xc * torch.exp(-0.5 * xc * xc - _LOG_SQRT_2PI))
    xt = torch.clamp(x, _GEGLU_FAR, _TAIL)
    log_abs = torch.log(-xt)
    log_pdf = -0.5 * xt * xt - _LOG_SQRT_2PI
    ratio = torch.exp(torch.special.log_ndtr(xt) - log_pdf - log_abs)  # Φ/(|x|φ) ≈ 1/x²
    tail = torch.exp(2 * log_abs + log_pdf) * (1 - 2 * ratio)
    return at_infinity(x, torch.where(x < _TAIL, tail, near), plus=math.inf)  # inf·0 at +inf; the limit


def _swiglu(x):
    xc = torch.clamp(x, min=_TAIL)
    xt = torch.clamp(finite_below(x), max=_TAIL)  # at −inf: log(inf) − inf would be NaN
    tail = torch.exp(2 * torch.log(-xt) + F.logsigmoid(xt))
    return torch.where(x < _TAIL, tail, xc * (xc * torch.sigmoid(xc)))


def _swiglu_d(x):
    # f′ = 2xσ(x) + x²σ(x)σ(−x) = xσ(x)·(2 + xσ(−x)); xσ(x) in log space in the left tail
    xc = torch.clamp(x, min=_TAIL)
    xt = torch.clamp(x, max=_TAIL)
    x_sig = torch.where(x < _TAIL, -torch.exp(torch.log(-xt) + F.logsigmoid(xt)), xc * torch.sigmoid(xc))
    return at_infinity(x, x_sig * (2 + x * torch.sigmoid(-x)), 0.0, math.inf)  # inf·0 at ±inf; the limits


def _gated_props(dmin: float) -> Properties:
    """x·gate(x) for GEGLU and SwiGLU: ≥ 0 (0 at 0 and as x → −∞, a bump between), f′ dips below 0."""
    return Properties(
        range=Interval(0, INF, True, False),
        derivative_range=Interval(dmin, INF, True, False),
        monotonic=False,
        continuity="inf",
        derivative_monotonic=False,
        identity_at_origin=False,
        symmetry="none",
        zero_centered=False,
        saturation="left",
        vanishing_gradient=False,
        exploding_gradient=True,
        dead_neurons=False,
    )


_ONE_D = "In a network a·gate(b) over two halves (a, b) of a layer's pre-activations; here its 1-D view, a = b = x"

GLU = ActivationSpec(
    name="glu",
    symbolic="x*sigmoid(x)",
    kind="gated",
    summary=f"Gated linear unit, gate σ. {_ONE_D}: x·σ(x), swish with β = 1.",
    formula="glu(a, b) = a·σ(b); 1-D view glu(x) = x·σ(x)",
    latex=r"a \otimes \sigma(b); \quad x \, \sigma(x)",
    derivative_formula="σ(x) + x·σ(x)·(1 − σ(x))",
    forward=lambda x: _swish(x, 1.0),
    derivative=lambda x: _swish_d(x, 1.0),
    properties=_swish_props(1.0),
    reference="Dauphin et al. (2017), Language Modeling with Gated Convolutional Networks",
)

REGLU = ActivationSpec(
    name="reglu",
    symbolic="x*max(0, x)",
    kind="gated",
    summary=f"Gated unit with a ReLU gate. {_ONE_D}: x·max(0, x), squared ReLU.",
    formula="reglu(a, b) = a·max(0, b); 1-D view reglu(x) = x·max(0, x)",
    latex=r"a \otimes \max(0, b); \quad x \max(0, x)",
    derivative_formula="2·max(0, x)",
    forward=lambda x: finite_below(x) * torch.relu(x),  # −inf·0 at −inf; the limit is 0
    derivative=lambda x: 2 * torch.relu(x),
    properties=SQUARED_RELU_PROPS,
    reference="Shazeer (2020), GLU Variants Improve Transformer",
)

GEGLU = ActivationSpec(
    name="geglu",
    symbolic="x**2/2*(1 + erf(x/sqrt(2)))",
    kind="gated",
    summary=f"Gated unit with a GELU gate. {_ONE_D}: x·gelu(x) = x²Φ(x).",
    formula="geglu(a, b) = a·gelu(b); 1-D view geglu(x) = x·gelu(x) = x²·Φ(x)",
    latex=r"a \otimes \operatorname{gelu}(b); \quad x^{2} \, \Phi(x)",
    derivative_formula="2x·Φ(x) + x²·φ(x), φ the standard normal density",
    forward=_geglu,
    derivative=_geglu_d,
    properties=_gated_props(_GEGLU_DMIN),
    reference="Shazeer (2020), GLU Variants Improve Transformer",
)

SWIGLU = ActivationSpec(
    name="swiglu",
    symbolic="x**2*sigmoid(x)",
    kind="gated",
    summary=f"Gated unit with a swish gate. {_ONE_D}: x·swish(x) = x²σ(x).",
    formula="swiglu(a, b) = a·swish(b); 1-D view swiglu(x) = x·swish(x) = x²·σ(x)",
    latex=r"a \otimes \operatorname{swish}(b); \quad x^{2} \, \sigma(x)",
    derivative_formula="2x·σ(x) + x²·σ(x)·(1 − σ(x))",
    forward=_swiglu,
    derivative=_swiglu_d,
    properties=_gated_props(_SWIGLU_DMIN),
    reference="Shazeer (2020), GLU Variants Improve Transformer",
)
