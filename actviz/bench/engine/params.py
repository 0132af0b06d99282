"""The initial parameters of a model: the ``--init`` choices, drawn exactly as a seed says.

Model ``i`` of a stack draws its weights from ``torch.Generator().manual_seed(seeds[i])``,
layer by layer from the input, each layer's weights and then its biases
(:func:`init_weight`); the models of one seed therefore start from the same weights,
maxout excepted (its layers are k times wider).
"""

from __future__ import annotations

import math

import torch

from actviz.core.errors import UsageError
from actviz.core.registry import Activation
from actviz.facts.audit import properties_of

__all__ = ["CONSTANT_INIT", "N_CLASSES", "draw_layers", "init_weight", "maxout_k", "sup_abs_derivative"]

#: the value of every weight under ``init="constant"`` (biases 0): all hidden units start equal
CONSTANT_INIT = 0.01
#: the number of classes when the data set does not say
N_CLASSES = 10


def init_weight(shape: tuple[int, int], init: str, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A (fan_in, fan_out) weight matrix and its bias vector under ``init`` (one of the config's INITS).

    Random draws come from ``gen``; the biases are zero except under ``torch`` (``nn.Linear``'s default).
    """
    fan_in, fan_out = shape
    w = torch.empty(shape)
    b = torch.zeros(shape[1])
    if init == "normal":
        w.normal_(0.0, 0.01, generator=gen)
    elif init == "xavier":
        a = math.sqrt(6.0 / (fan_in + fan_out))
        w.uniform_(-a, a, generator=gen)
    elif init == "xavier_normal":
        w.normal_(0.0, math.sqrt(2.0 / (fan_in + fan_out)), generator=gen)
    elif init == "kaiming":
        w.normal_(0.0, math.sqrt(2.0 / fan_in), generator=gen)
    elif init == "kaiming_uniform":
        a = math.sqrt(6.0 / fan_in)
        w.uniform_(-a, a, generator=gen)
    elif init == "constant":  # every weight equal: the symmetric start that never breaks
        w.fill_(CONSTANT_INIT)
    elif init == "torch":  # nn.Linear's default
        a = 1.0 / math.sqrt(fan_in)
        w.uniform_(-a, a, generator=gen)
        b.uniform_(-a, a, generator=gen)
    else:  # pragma: no cover - validated before
        raise UsageError(f"unknown init {init!r}")
    return w, b


def maxout_k(act: Activation) -> int:
    """The number of pieces of a maxout unit (1 for every other activation)."""
    return len(act.params["weights"]) if act.spec.kind == "maxout" else 1


def layer_shapes(inputs: int, hidden: int, depth: int, k: int, n_classes: int) -> list[tuple[int, int]]:
    """(in, out) of every layer of the MLP, input layer first; depth 0 is softmax regression."""
    if depth == 0:
        return [(inputs, n_classes)]
    return [(inputs, hidden * k)] + [(hidden, hidden * k)] * (depth - 1) + [(hidden, n_classes)]


def draw_layers(seed: int, shapes: list[tuple[int, int]], init: str) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Every layer's (weights, biases) of one model, drawn from the generator of ``seed``."""
    gen = torch.Generator().manual_seed(int(seed))
    return [init_weight(s, init, gen) for s in shapes]


def sup_abs_derivative(act: Activation) -> float:
    """sup|f′| from the activation's declared derivative range; 1 if unbounded or unknown."""
    try:
        sup = float(properties_of(act).derivative_range.sup_abs)
    except Exception:  # a user activation whose properties cannot be measured
        return 1.0
    return sup if math.isfinite(sup) and sup > 0 else 1.0
