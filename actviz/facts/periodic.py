"""Periodic units: sine (SIREN) and snake.

Neither saturates nor settles: f′ oscillates for ever, which is what the
measurement's tail rules must not mistake for a limit (docs/properties.md).
Each record gives its formula, forward, analytic derivative (written by hand)
and its properties as a function of its parameters.
"""

from __future__ import annotations

import math
from typing import Any

from actviz.core.properties import INF, Interval, Properties
from actviz.core.registry import ActivationSpec, Param
from actviz.facts.kernels import LazyModule, at_infinity

torch: Any = LazyModule("torch", globals(), "torch")


def _frequency(value: float) -> str | None:
    # beyond these, α·x or x/α leaves float32's normal range and the float32 contract cannot hold
    return None if 1e-6 <= value <= 1e6 else "must be between 1e-6 and 1e6"


def _sine(x, w0):
    return torch.sin(x * w0)


def _sine_d(x, w0):
    return w0 * torch.cos(x * w0)


def _sine_dw0(x, w0):
    """∂f/∂ω₀ = x·cos(ω₀x)."""
    return x * torch.cos(x * w0)


def _sine_props(w0: float) -> Properties:
    return Properties(
        range=Interval.closed(-1, 1),
        derivative_range=Interval.closed(-w0, w0),
        monotonic=False,
        continuity="inf",
        derivative_monotonic=False,
        identity_at_origin=w0 == 1,
        symmetry="odd",
        zero_centered=True,
        saturation="none",
        vanishing_gradient=w0 < 1,
        exploding_gradient=w0 > 1,
        dead_neurons=False,
    )


SINE = ActivationSpec(
    name="sine",
    param_derivatives={"w0": lambda x, w0: _sine_dw0(x, w0)},
    symbolic="sin(w0*x)",
    aliases=("sin", "siren"),
    summary="sin(ω₀x), the periodic activation of SIREN (which uses ω₀ = 30 in its first layer).",
    formula="sine(x) = sin(ω₀·x)",
    latex=r"\sin(\omega_0 x)",
    derivative_formula="ω₀·cos(ω₀·x)",
    forward=_sine,
    derivative=_sine_d,
    params=(Param("w0", 1.0, "the frequency ω₀ (1e-6 … 1e6)", check=_frequency, symbol="ω₀"),),
    xscale=lambda p: 1.0 / p["w0"],
    properties=lambda p: _sine_props(p["w0"]),
    reference="Sitzmann et al. (2020), Implicit Neural Representations with Periodic Activation Functions",
)


def _snake(x, alpha):
    s = torch.sin(x * alpha)
    return at_infinity(x, x + s * s / alpha, -math.inf, math.inf)  # x + a bounded ripple: ±inf at ±inf


def _snake_d(x, alpha):
    # 1 + sin(2αx) = (sin αx + cos αx)²: no cancellation to 0 where f′ touches 0
    t = x * alpha
    v = torch.sin(t) + torch.cos(t)
    return v * v


def _snake_dalpha(x, alpha):
    """∂f/∂α = x·sin(2αx)/α − sin²(αx)/α²."""
    t = x * alpha
    s = torch.sin(t)
    return x * torch.sin(2 * t) / alpha - s * s / (alpha * alpha)


SNAKE = ActivationSpec(
    name="snake",
    param_derivatives={"alpha": lambda x, alpha: _snake_dalpha(x, alpha)},
    symbolic="x + sin(alpha*x)**2/alpha",
    summary="x + sin²(αx)/α: the identity with a periodic ripple, monotone, f′ between 0 and 2.",
    formula="snake(x) = x + sin²(α·x)/α",
    latex=r"x + \frac{1}{\alpha} \sin^{2}(\alpha x)",
    derivative_formula="1 + sin(2α·x) = (sin αx + cos αx)²",
    forward=_snake,
    derivative=_snake_d,
    params=(Param("alpha", 1.0, "the frequency α (1e-6 … 1e6)", check=_frequency, symbol="α"),),
    xscale=lambda p: 1.0 / p["alpha"],
    properties=Properties(
        range=Interval(-INF, INF),
        derivative_range=Interval.closed(0, 2),
        monotonic=True,
        continuity="inf",
        derivative_monotonic=False,
        identity_at_origin=True,
        symmetry="none",
        zero_centered=True,
        saturation="none",
        vanishing_gradient=False,
        exploding_gradient=True,
        dead_neurons=False,
    ),
    reference="Ziyin, Hartwig & Ueda (2020), Neural Networks Fail to Learn Periodic Functions and How to Fix It",
)
