"""Ctrl-C and SIGTERM for the command line: never in the middle of an import.

A ``KeyboardInterrupt`` raised while a module is being imported can leave that
module half-initialised: numpy then refuses to load again ("cannot load module
more than once per process"), and some imports swallow the exception so that the
program carries on as if nothing happened.  :func:`install` replaces the SIGINT
handler with one that raises ``KeyboardInterrupt`` at once, *unless* the main
thread is inside an import; then the interrupt is held back and delivered as
soon as the outermost import in progress returns (a trace function on that one
frame; nothing else is traced).  A second Ctrl-C while one is held back is
delivered at once (an import that hangs can still be interrupted).  Before the
command's own handlers run (``running()``), an interrupt is ``aborted`` and exit 130.

SIGTERM raises :class:`Terminated` (a ``KeyboardInterrupt``), so ``finally``
blocks run (temporary files are removed) when the program is killed politely.

Only the command line calls :func:`install`; importing this module changes nothing.
It uses the standard library only, so the package root can call it before any
heavy import.
"""

from __future__ import annotations

import signal
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # not at run time: importing typing costs milliseconds
    from collections.abc import Callable
    from types import FrameType
    from typing import Any

# nothing else is imported: this runs before anything else of actviz (an interrupt that comes
# earlier meets Python's own handler), so every millisecond here is a window less

__all__ = ["Terminated", "install", "installed", "running"]

_BOOTSTRAP = ("<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>")


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived (exit code 143)."""


_state: dict[str, bool] = {"installed": False, "pending": False, "running": False}


def _interrupt() -> None:
    """Raise KeyboardInterrupt for the command's handlers; before they run, exit 130 with one line."""
    if _state["running"]:
        raise KeyboardInterrupt
    try:
        sys.stderr.write("aborted\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    raise SystemExit(130)


def _outermost_import(frame: FrameType | None) -> FrameType | None:
    """The outermost ``_find_and_load`` (or other importlib) frame in ``frame``'s stack."""
    found = None
    while frame is not None:
        if frame.f_code.co_filename in _BOOTSTRAP:
            found = frame
        frame = frame.f_back
    return found


def _deliver_after(outer: FrameType) -> Callable[..., Any]:
    def local(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "return" and frame is outer and _state["pending"]:
            sys.settrace(None)
            _state["pending"] = False
            _interrupt()  # from the import statement, the module now complete
        return local

    return local


def _hold_back(frame: FrameType | None) -> bool:
    """Have the interrupt raised when the outermost import in progress returns."""
    outer = _outermost_import(frame)
    if outer is None:
        return False
    _state["pending"] = True
    outer.f_trace = _deliver_after(outer)
    sys.settrace(lambda f, e, a: None)  # tracing must be on for f_trace to be called (new frames: untraced)
    return True


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    # when one is held back already, this is a second Ctrl-C: raise now
    if not _state["pending"] and _hold_back(frame):
        return
    _state["pending"] = False
    sys.settrace(None)
    _interrupt()


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    if not _state["running"]:
        raise SystemExit(143)
    raise Terminated


def running() -> None:
    """Say that the command's own handlers now turn KeyboardInterrupt into exit 130."""
    _state["running"] = True


def installed() -> bool:
    """Whether :func:`install` has run in this process."""
    return bool(_state["installed"])


def install() -> None:
    """Install the SIGINT and SIGTERM handlers (main thread only; idempotent)."""
    if _state["installed"]:
        return
    try:  # signal.signal raises ValueError outside the main thread
        if signal.getsignal(signal.SIGINT) in (signal.default_int_handler, signal.SIG_DFL):
            signal.signal(signal.SIGINT, _on_sigint)
        if hasattr(signal, "SIGTERM") and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # not the main interpreter, or no signals here
        return
    _state["installed"] = True
