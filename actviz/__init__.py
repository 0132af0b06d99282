"""actviz: analyse neural-network activation functions.

>>> import actviz
>>> act = actviz.get("gelu", approximate="tanh")
>>> act.properties.range
Interval(low=-0.17004075057125405, high=inf, low_closed=True, high_closed=False)

``names()``, ``get()`` and ``register()`` import neither torch nor matplotlib.
"""

from __future__ import annotations

from actviz.core.errors import ActvizError, DataError, UnknownActivationError, UsageError
from actviz.core.properties import KEYS, Interval, Properties
from actviz.core.registry import (
    Activation,
    ActivationSpec,
    Kink,
    Param,
    get,
    get_spec,
    names,
    register,
    specs,
    unregister,
)

from actviz.core import registry as _registry

# the built-in entries, imported on the first lookup (the registry imports none of its users)
_registry.add_source("actviz.facts.activations")

__version__ = "0.1.0"

__all__ = [
    "KEYS",
    "Activation",
    "ActivationSpec",
    "ActvizError",
    "DataError",
    "Interval",
    "Kink",
    "Param",
    "Properties",
    "UnknownActivationError",
    "UsageError",
    "get",
    "get_spec",
    "names",
    "register",
    "specs",
    "unregister",
]
