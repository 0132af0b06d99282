"""actviz: analyse neural-network activation functions.

>>> import actviz
>>> act = actviz.get("gelu", approximate="tanh")
>>> act.properties.range
Interval(low=-0.17004075057125405, high=inf, low_closed=True, high_closed=False)

``names()``, ``get()`` and ``register()`` import neither torch nor matplotlib.
"""

from __future__ import annotations

import _signal
import os as _os
import sys as _sys

#: signals that arrived before actviz.core.signals took over (the command acts on them then)
_early: list[int] = []


def _remember(signum: int, frame: object) -> None:
    _early.append(signum)


def _started_as_cli() -> bool:
    """Whether this process is the ``actviz`` command (console script or ``python -m actviz``)."""
    argv = getattr(_sys, "orig_argv", None) or []
    if "-m" in argv[:-1] and argv[argv.index("-m") + 1] in ("actviz", "actviz.cli.app"):
        return True
    script = _os.path.basename(_sys.argv[0]) if _sys.argv else ""
    return script in ("actviz", "actviz.exe", "actviz-script.py")


def _remember_signals() -> None:
    """From the first instruction: remember SIGINT, SIGTERM, SIGHUP (not those inherited as ignored)."""
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        signum = getattr(_signal, name, None)
        if signum is not None and _signal.getsignal(signum) in (_signal.default_int_handler, _signal.SIG_DFL):
            _signal.signal(signum, _remember)


def _check_process() -> None:
    """What the command needs of its process, before any heavy import (torch dies on a deleted directory).

    A closed standard stream (``>&-``) gets /dev/null on its file descriptor, so that no
    file opened later takes its place (Python leaves ``sys.stdout`` None: writing to it is
    then one error, see actviz.cli.app); a current directory that no longer exists is one
    error line and exit 1.
    """
    for fd in (0, 1, 2):
        try:
            _os.fstat(fd)
        except OSError:
            try:
                null = _os.open(_os.devnull, _os.O_RDWR)
                if null != fd:
                    _os.dup2(null, fd)
                    _os.close(null)
            except OSError:
                pass
    try:
        _os.getcwd()
    except OSError as exc:
        reason = "it was deleted" if isinstance(exc, FileNotFoundError) else (exc.strerror or str(exc))
        try:
            _sys.stderr.write(f"error: the current directory cannot be used ({reason}); "
                              "change to one that exists and run actviz again\n")
            _sys.stderr.flush()
        except (OSError, ValueError, AttributeError):
            pass
        _os._exit(1)


if _started_as_cli():
    _remember_signals()
    # every signal held back while a module is imported, from the very start of the command
    # (see actviz.core.signals): before any heavy import
    from actviz.core import signals as _signals

    _signals.install(owns_process=True, taking_over=_remember, early=_early)
    _check_process()

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
