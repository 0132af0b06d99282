"""actviz: analyse neural-network activation functions.

>>> import actviz
>>> act = actviz.get("gelu", approximate="tanh")
>>> act.properties.range
Interval(low=-0.17004075057125405, high=inf, low_closed=True, high_closed=False)

``names()``, ``get()`` and ``register()`` import neither torch nor matplotlib.
"""

from __future__ import annotations

from actviz.errors import ActvizError, DataError, UnknownActivationError, UsageError
from actviz.properties import KEYS, Interval, Properties
from actviz.registry import (
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
