"""The networks ``actviz compare --model`` trains, each as a family of model stacks (M models trained at once).

:data:`NETWORKS` maps a model name to its family (like the activation registry); a
family has ``key(act, config)`` (runs with equal keys share one stack) and ``build(acts,
seeds, lrs, slot, config, input_shape, n_classes, device)`` → a stack with ``step``,
``reset_stats``, ``epoch_stats``, ``evaluate``, ``diagnostics``, ``deactivate``,
``parameters_of`` and ``learned`` (:class:`actviz.bench.nets.stack.Stack`).

* ``lenet``: d2l's LeNet-5 (:mod:`.lenet`); ``cnn``: a small modern CNN (:mod:`.cnn`);
* ``mlp`` with ``--norm`` or ``--residual``: the autograd MLP (:mod:`.mlpnorm`).  The plain
  MLP, ``NETWORKS["mlp"]``, is the training engine's hand-written one
  (:class:`actviz.bench.engine.mlp.MLPFamily`).
"""

from __future__ import annotations

from typing import Any

from actviz.bench.engine.mlp import MLP
from actviz.bench.nets.cnn import CNN
from actviz.bench.nets.family import Family
from actviz.bench.nets.lenet import LENET
from actviz.bench.nets.mlpnorm import MLP_NORM

__all__ = ["MLP_NORM", "NETWORKS", "Family", "family_for", "needs_autograd"]

#: model name → family; ``mlp`` is the training engine's hand-written MLP
NETWORKS: dict[str, Any] = {"mlp": MLP, "lenet": LENET, "cnn": CNN}


def needs_autograd(config: Any) -> bool:
    """Whether ``config`` trains a network of this package (not the engine's plain MLP)."""
    return getattr(config, "model", "mlp") != "mlp" or getattr(config, "norm", "none") != "none" \
        or bool(getattr(config, "residual", False))


def family_for(config: Any) -> Any:
    """The family that trains ``config``: its ``model``, the autograd MLP for ``mlp`` with norm or residual."""
    model = getattr(config, "model", "mlp")
    return MLP_NORM if model == "mlp" and needs_autograd(config) else NETWORKS[model]
