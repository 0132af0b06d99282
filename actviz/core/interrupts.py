"""Ctrl-C and SIGTERM for the command line: never in the middle of an import.

A ``KeyboardInterrupt`` raised while a module is being imported can leave that
module half-initialised: numpy then refuses to load again ("cannot load module
more than once per process"), and some imports swallow the exception so that the
program carries on as if nothing happened.  :func:`install` replaces the SIGINT
handler with one that raises ``KeyboardInterrupt`` at once, *unless* the main
thread is inside an import; then the interrupt is held back and delivered as
soon as the import is over.  A second Ctrl-C while one is held back is delivered
at once (an import that hangs can still be interrupted).

SIGTERM raises :class:`Terminated` (a ``KeyboardInterrupt``), so ``finally``
blocks run (temporary files are removed) when the program is killed politely.

Only the command line calls :func:`install`; importing this module changes nothing.
It uses the standard library only, so the package root can call it before any
heavy import.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from types import FrameType
from typing import Any

__all__ = ["Terminated", "install", "installed"]

_BOOTSTRAP = ("<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>")
_POLL = 0.01  # seconds between looks at whether the held-back import is over


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived (exit code 143)."""


_state: dict[str, Any] = {"installed": False, "pending": False, "watcher": None}


def _importing(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code.co_filename in _BOOTSTRAP:
            return True
        frame = frame.f_back
    return False


def _main_frame() -> FrameType | None:
    return sys._current_frames().get(threading.main_thread().ident or -1)


def _watch() -> None:
    """Wait until the main thread has left every import, then interrupt it."""
    import _thread

    while _state["pending"]:
        if not _importing(_main_frame()):
            _thread.interrupt_main(signal.SIGINT)
            return
        time.sleep(_POLL)


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    # when one is held back already, this is the watcher's delivery or a second Ctrl-C: raise now
    if not _state["pending"] and _importing(frame):
        _state["pending"] = True
        watcher = threading.Thread(target=_watch, name="actviz-interrupt", daemon=True)
        _state["watcher"] = watcher
        watcher.start()
        return
    _state["pending"] = False
    raise KeyboardInterrupt


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Terminated


def installed() -> bool:
    """Whether :func:`install` has run in this process."""
    return bool(_state["installed"])


def install() -> None:
    """Install the SIGINT and SIGTERM handlers (main thread only; idempotent)."""
    if _state["installed"] or threading.current_thread() is not threading.main_thread():
        return
    try:
        if signal.getsignal(signal.SIGINT) in (signal.default_int_handler, signal.SIG_DFL):
            signal.signal(signal.SIGINT, _on_sigint)
        if hasattr(signal, "SIGTERM") and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # not the main interpreter, or no signals here
        return
    _state["installed"] = True
