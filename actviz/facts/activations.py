"""The built-in activations, registered in one fixed order.

The package root names this module to the registry (``add_source``), which
imports it on the first lookup.  The records themselves live with their family:

* :mod:`actviz.facts.squashing` — sigmoid, tanh, softsign, hard_sigmoid, hard_logistic,
  hard_tanh, step;
* :mod:`actviz.facts.rectifiers` — identity, relu, leaky_relu, prelu, relu6, elu, selu;
* :mod:`actviz.facts.smooth` — softplus, swish, gelu, mish, hard_swish;
* :mod:`actviz.facts.maxout` — maxout;
* :mod:`actviz.facts.gated` — glu, reglu, geglu, swiglu (their 1-D views);
* :mod:`actviz.facts.variants` — celu, log_sigmoid, squared_relu;
* :mod:`actviz.facts.periodic` — snake, sine;
* :mod:`actviz.facts.shrinkage` — softshrink, hardshrink, tanhshrink;
* :mod:`actviz.facts.rational` — rational (a Padé activation unit);

and the numerically stable building blocks they share in :mod:`actviz.facts.kernels`.

Every entry gives its formula, a forward function, its analytic derivative
written by hand (never autograd), its kinks with the value f′ takes there
(PyTorch's autograd conventions), and its twelve properties (docs/properties.md)
as a function of its parameters.  The properties are the mathematical truth,
derived by hand; ``actviz check`` measures them numerically and reports any
disagreement.

torch is imported lazily (on the first call of a forward or derivative), so
that ``actviz list`` does not pay for it.
"""

from __future__ import annotations

from actviz.core.registry import ActivationSpec, register
from actviz.facts import gated, maxout, periodic, rational, rectifiers, shrinkage, smooth, squashing, variants

#: the built-in records in registration order (lookups of a name prefix list matches in this order)
BUILTINS: tuple[ActivationSpec, ...] = (
    squashing.SIGMOID,
    squashing.TANH,
    squashing.HARD_SIGMOID,
    squashing.HARD_LOGISTIC,
    squashing.HARD_TANH,
    rectifiers.RELU,
    rectifiers.LEAKY_RELU,
    rectifiers.PRELU,
    rectifiers.ELU,
    smooth.SOFTPLUS,
    smooth.SWISH,
    smooth.GELU,
    smooth.MISH,
    maxout.MAXOUT,
    rectifiers.IDENTITY,
    squashing.STEP,
    rectifiers.SELU,
    squashing.SOFTSIGN,
    rectifiers.RELU6,
    smooth.HARD_SWISH,
    gated.GLU,
    gated.REGLU,
    gated.GEGLU,
    gated.SWIGLU,
    variants.CELU,
    periodic.SNAKE,
    periodic.SINE,
    shrinkage.SOFTSHRINK,
    shrinkage.HARDSHRINK,
    shrinkage.TANHSHRINK,
    variants.LOG_SIGMOID,
    variants.SQUARED_RELU,
    rational.RATIONAL,
)

for _spec in BUILTINS:
    register(_spec)
del _spec
