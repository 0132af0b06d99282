"""Squashing units: bounded, sigmoid-shaped entries and their piecewise-linear versions.

sigmoid, tanh, softsign, hard_sigmoid, hard_logistic, hard_tanh and the
perceptron's step.  Each record gives its formula, forward, analytic derivative
(written by hand), kinks with the value f′ takes there (PyTorch's autograd
conventions), and its properties (see docs/properties.md).
"""

from __future__ import annotations

from typing import Any

from actviz.core.properties import Interval, Properties
from actviz.core.registry import ActivationSpec, Kink
from actviz.facts.kernels import (
    LazyModule,
    abs_unit_grad,
    finite,
    clip_unit,
    indicator,
    keep_nan,
    sech2,
    sigmoid_prime,
)

torch: Any = LazyModule("torch", globals(), "torch")
F: Any = LazyModule("torch.nn.functional", globals(), "F")


def _sigmoid(x):
    # torch.sigmoid itself (the training engine's fast path must give the same bits); it is
    # accurate wherever σ(x) is a normal float, and kernels.sig is only needed where x·σ(x) lifts a
    # subnormal σ back into the normal range
    return torch.sigmoid(x)


def _sigmoid_d(x):
    return sigmoid_prime(x)


SIGMOID = ActivationSpec(
    name="sigmoid",
    symbolic="sigmoid(x)",
    aliases=("logistic",),
    summary="The logistic function: squashes ℝ into (0, 1).",
    formula="σ(x) = 1 / (1 + e^(−x))",
    latex=r"\sigma(x) = \frac{1}{1 + e^{-x}}",
    derivative_formula="σ′(x) = σ(x)·(1 − σ(x)) = σ(x)·σ(−x)",
    forward=_sigmoid,
    derivative=_sigmoid_d,
    reference="Rumelhart, Hinton & Williams (1986), Learning representations by back-propagating errors",
    properties=Properties(
        range=Interval.open(0, 1),
        derivative_range=Interval(0, 0.25, False, True),
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


def _tanh_d(x):
    return sech2(x)


TANH = ActivationSpec(
    name="tanh",
    symbolic="tanh(x)",
    summary="Hyperbolic tangent: a zero-centred sigmoid, tanh(x) = 2σ(2x) − 1.",
    formula="tanh(x) = (e^x − e^(−x)) / (e^x + e^(−x))",
    latex=r"\tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}",
    derivative_formula="tanh′(x) = 1 − tanh²(x)",
    forward=lambda x: torch.tanh(x),
    derivative=_tanh_d,
    reference="LeCun et al. (1998), Efficient BackProp",
    properties=Properties(
        range=Interval.open(-1, 1),
        derivative_range=Interval(0, 1, False, True),
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


def _softsign_d(x):
    r = 1 / (1 + abs_unit_grad(x))  # abs_unit_grad keeps autograd's f″ cheap (abs's double backward is not)
    return r * r  # (1/d)², not 1/d²: d² overflows first


SOFTSIGN = ActivationSpec(
    name="softsign",
    symbolic="x/(1 + abs(x))",
    summary="A sigmoid-shaped odd function with polynomial (not exponential) tails.",
    formula="softsign(x) = x / (1 + |x|)",
    latex=r"\frac{x}{1 + |x|}",
    derivative_formula="1 / (1 + |x|)²",
    forward=lambda x: F.softsign(finite(x)),  # ±inf/(1 + inf) is NaN; the limits are ±1
    derivative=_softsign_d,
    properties=Properties(
        range=Interval.open(-1, 1),
        derivative_range=Interval(0, 1, False, True),
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
    reference="Bergstra et al. (2009); "
    "Glorot & Bengio (2010), Understanding the difficulty of training deep FNNs",
)


def _hard_sigmoid_props(slope: float) -> Properties:
    return Properties(
        range=Interval.closed(0, 1),
        derivative_range=Interval.closed(0, slope),
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


HARD_SIGMOID = ActivationSpec(
    name="hard_sigmoid",
    symbolic="min(max(x/6 + 1/2, 0), 1)",
    aliases=("hardsigmoid",),
    summary="PyTorch's Hardsigmoid: a piecewise-linear sigmoid, slope 1/6 on (−3, 3).",
    formula="hard_sigmoid(x) = clip(x/6 + 1/2, 0, 1)",
    latex=r"\operatorname{clip}\!\left(\tfrac{x}{6} + \tfrac12,\ 0,\ 1\right)",
    derivative_formula="1/6 on (−3, 3), 0 elsewhere (0 at ±3)",
    # F.hardsigmoid's backward uses a float32 1/6 even for float64 input; this form is exact.
    # (x + 3)/6, not x/6 + 1/2: near x = −3, x + 3 is exact and x/6 + 1/2 cancels
    forward=lambda x: clip_unit((x + 3) / 6),
    derivative=lambda x: keep_nan(x, indicator((x > -3) & (x < 3), x) / 6),
    kinks=(Kink(-3.0, 0.0), Kink(3.0, 0.0)),
    reference="Howard et al. (2019), Searching for MobileNetV3",
    properties=_hard_sigmoid_props(1 / 6),
)

HARD_LOGISTIC = ActivationSpec(
    name="hard_logistic",
    symbolic="min(max(x/4 + 1/2, 0), 1)",
    summary="nndl's hard logistic: the first-order Taylor expansion of σ at 0, clipped.",
    formula="hard_logistic(x) = clip(x/4 + 1/2, 0, 1)",
    latex=r"\operatorname{clip}\!\left(\tfrac{x}{4} + \tfrac12,\ 0,\ 1\right)",
    derivative_formula="1/4 on (−2, 2), 0 elsewhere (0 at ±2)",
    forward=lambda x: clip_unit((x + 2) * 0.25),
    derivative=lambda x: keep_nan(x, indicator((x > -2) & (x < 2), x) / 4),
    kinks=(Kink(-2.0, 0.0), Kink(2.0, 0.0)),
    reference="Qiu Xipeng, Neural Networks and Deep Learning (nndl), §4.1.1",
    properties=_hard_sigmoid_props(1 / 4),
)

HARD_TANH = ActivationSpec(
    name="hard_tanh",
    symbolic="min(max(x, -1), 1)",
    aliases=("hardtanh",),
    summary="tanh's piecewise-linear version: the identity clipped to [−1, 1].",
    formula="hard_tanh(x) = clip(x, −1, 1)",
    latex=r"\operatorname{clip}(x,\ -1,\ 1)",
    derivative_formula="1 on (−1, 1), 0 elsewhere (0 at ±1)",
    forward=lambda x: F.hardtanh(x),
    derivative=lambda x: keep_nan(x, indicator((x > -1) & (x < 1), x)),
    kinks=(Kink(-1.0, 0.0), Kink(1.0, 0.0)),
    reference="Collobert (2004), Large Scale Machine Learning (thesis)",
    properties=Properties(
        range=Interval.closed(-1, 1),
        derivative_range=Interval.closed(0, 1),
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


def _step(x):
    # the isnan branch keeps a (zero) gradient path, so autograd gives 0 rather than failing
    return torch.where(torch.isnan(x), x, indicator(x >= 0, x))


STEP = ActivationSpec(
    name="step",
    symbolic="where(x >= 0, 1, 0)",
    aliases=("heaviside", "binary_step"),
    summary="The perceptron's Heaviside unit: 1 for x ≥ 0, 0 otherwise. Its gradient is 0 everywhere.",
    formula="step(x) = 1 for x ≥ 0, 0 for x < 0",
    latex=r"\begin{cases} 1 & x \ge 0 \\ 0 & x < 0 \end{cases}",
    derivative_formula="0 (f jumps at 0; the convention there is 0)",
    forward=_step,
    derivative=lambda x: keep_nan(x, torch.zeros_like(x)),
    kinks=(Kink(0.0, 0.0),),
    properties=Properties(
        range=Interval.closed(0, 1),
        derivative_range=Interval.closed(0, 0),
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
