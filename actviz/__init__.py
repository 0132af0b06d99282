"""actviz: analyse neural-network activation functions.

>>> import actviz
>>> act = actviz.get("gelu", approximate="tanh")
>>> act.properties.range
Interval(low=-0.17004075057125405, high=inf, low_closed=True, high_closed=False)

``names()``, ``get()`` and ``register()`` import neither torch nor matplotlib.
"""

from __future__ import annotations

import os as _os
import sys as _sys


def _started_as_cli() -> bool:
    """Whether this process is the ``actviz`` command (console script or ``python -m actviz``)."""
    argv = getattr(_sys, "orig_argv", None) or []
    if "-m" in argv[:-1] and argv[argv.index("-m") + 1] in ("actviz", "actviz.cli.app"):
        return True
    script = _os.path.basename(_sys.argv[0]) if _sys.argv else ""
    return script in ("actviz", "actviz.exe", "actviz-script.py")


if _started_as_cli():
    # Ctrl-C held back while a module is imported, from the very start of the command
    # (see actviz.core.signals): before any heavy import
    from actviz.core import signals as _signals

    _signals.install()

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

from actviz._version import __version__  # noqa: F401 - actviz.__version__

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
