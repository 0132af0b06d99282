"""Signals and exit codes: Ctrl-C never inside an import, SIGTERM like Ctrl-C, files never half-written.

One map gives every signal actviz handles its exit code (128 + the signal number) and the
line the command line prints when it stops for it:

=========  =========  ==============
signal     exit code  line on stderr
=========  =========  ==============
SIGINT     130        ``aborted``
SIGTERM    143        ``terminated``
SIGHUP     129        ``hung up``
=========  =========  ==============

Three tools use it:

* :func:`install` (the command line, from the package root, before any heavy import):
  SIGINT raises ``KeyboardInterrupt`` at once, *unless* the main thread is inside an
  import; then the interrupt is held back and raised as soon as the outermost import in
  progress returns (a ``KeyboardInterrupt`` inside an import can leave a module
  half-initialised: numpy then refuses to load again, and some imports swallow it).  A
  second Ctrl-C while one is held back is raised at once (an import that hangs can still
  be interrupted).  SIGTERM raises :class:`Terminated`, so ``finally`` blocks run
  (temporary files are removed).  Until the command's own handlers run (:func:`running`),
  SIGINT exits 130 with the line ``aborted`` and SIGTERM exits 143 silently.
* :func:`interruptible` (training): inside the block SIGINT, SIGTERM and SIGHUP raise
  :class:`Interrupted`, which the training loop turns into runs marked interrupted,
  keeping every finished epoch.
* :func:`shielded` (an atomic write of the results): inside the block a signal is held
  back and raised when the block ends, so a file is never left half-written and no
  temporary file stays behind.

The readiness line: with the environment variable ``ACTVIZ_READY`` set (not empty, not
``0``), :func:`ready` prints ``actviz: ready (signal handlers installed)`` on stderr at
the moment the handlers that will deal with a signal are in place, so that a test can
wait for it before it sends one.  The command line calls it once its handlers are in
place, ``compare`` when :func:`interruptible` is entered for training.

This module uses the standard library only (``signal``, ``sys``, ``os``) and imports
nothing else at import time: the package root imports it before anything else.
Importing it changes nothing; only :func:`install` and :func:`interruptible` do.
"""

from __future__ import annotations

import os
import signal
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # not at run time: importing typing costs milliseconds
    from collections.abc import Callable
    from types import FrameType, TracebackType
    from typing import Any

__all__ = [
    "READY_ENV",
    "READY_LINE",
    "Interrupted",
    "Terminated",
    "exit_code",
    "install",
    "installed",
    "interruptible",
    "message",
    "ready",
    "received",
    "running",
    "shielded",
]

#: the signals handled, with their exit codes and the line printed when the command stops for them
_MAP: dict[int, tuple[int, str]] = {
    int(getattr(signal, name)): (128 + int(getattr(signal, name)), line)
    for name, line in (("SIGINT", "aborted"), ("SIGTERM", "terminated"), ("SIGHUP", "hung up"))
    if hasattr(signal, name)
}
_SIGINT = int(signal.SIGINT)
_SIGTERM = int(getattr(signal, "SIGTERM", 15))
_TRAINING_SIGNALS = tuple(_MAP)

#: the environment variable that asks for the readiness line, and the line
READY_ENV = "ACTVIZ_READY"
READY_LINE = "actviz: ready (signal handlers installed)"


class Interrupted(KeyboardInterrupt):
    """A signal stopped the program; ``signum`` is the signal (SIGINT, SIGTERM or SIGHUP)."""

    def __init__(self, signum: int = _SIGINT):
        super().__init__(signum)
        self.signum = int(signum)


class Terminated(Interrupted):
    """SIGTERM arrived (exit code 143)."""

    def __init__(self, signum: int = _SIGTERM):
        super().__init__(signum)


def _signum_of(what: BaseException | int | None) -> int:
    if isinstance(what, Interrupted):
        return what.signum
    if isinstance(what, int) and not isinstance(what, bool):
        return what
    return _SIGINT  # None, or a plain KeyboardInterrupt (Ctrl-C)


def exit_code(what: BaseException | int | None) -> int:
    """The exit code for a signal number, an :class:`Interrupted` or a ``KeyboardInterrupt`` (130).

    130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP (128 + the signal number).
    """
    signum = _signum_of(what)
    return _MAP.get(signum, (128 + signum, ""))[0]


def message(what: BaseException | int | None) -> str:
    """The line printed when the command stops for that signal: ``aborted``, ``terminated``, ``hung up``."""
    return _MAP.get(_signum_of(what), (0, "aborted"))[1]


def ready() -> None:
    """Print the readiness line on stderr when ``ACTVIZ_READY`` asks for it (see the module's docstring)."""
    if os.environ.get(READY_ENV, "") in ("", "0"):
        return
    try:
        sys.stderr.write(READY_LINE + "\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass


# --------------------------------------------------------------------------- the command line's handlers

_BOOTSTRAP = ("<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>")
_cli: dict[str, bool] = {"installed": False, "pending": False, "running": False}


def _interrupt() -> None:
    """Raise KeyboardInterrupt for the command's handlers; before they run, exit 130 with one line."""
    if _cli["running"]:
        raise KeyboardInterrupt
    try:
        sys.stderr.write(message(_SIGINT) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    raise SystemExit(exit_code(_SIGINT))


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
        if event == "return" and frame is outer and _cli["pending"]:
            sys.settrace(None)
            _cli["pending"] = False
            _interrupt()  # from the import statement, the module now complete
        return local

    return local


def _hold_back(frame: FrameType | None) -> bool:
    """Have the interrupt raised when the outermost import in progress returns."""
    outer = _outermost_import(frame)
    if outer is None:
        return False
    _cli["pending"] = True
    outer.f_trace = _deliver_after(outer)
    sys.settrace(lambda f, e, a: None)  # tracing must be on for f_trace to be called (new frames: untraced)
    return True


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    # when one is held back already, this is a second Ctrl-C: raise now
    if not _cli["pending"] and _hold_back(frame):
        return
    _cli["pending"] = False
    sys.settrace(None)
    _interrupt()


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    if not _cli["running"]:
        raise SystemExit(exit_code(_SIGTERM))
    raise Terminated


def install() -> None:
    """Install the command line's SIGINT and SIGTERM handlers (main thread only; idempotent)."""
    if _cli["installed"]:
        return
    try:  # signal.signal raises ValueError outside the main thread
        if signal.getsignal(signal.SIGINT) in (signal.default_int_handler, signal.SIG_DFL):
            signal.signal(signal.SIGINT, _on_sigint)
        if hasattr(signal, "SIGTERM") and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # not the main interpreter, or no signals here
        return
    _cli["installed"] = True


def installed() -> bool:
    """Whether :func:`install` has run in this process."""
    return bool(_cli["installed"])


def running() -> None:
    """Say that the command's own handlers now turn KeyboardInterrupt into its exit code and line."""
    _cli["running"] = True


# --------------------------------------------------------------------------- training and atomic writes


class _Training:
    """The state of :func:`interruptible` and :func:`shielded` (one per process)."""

    depth = 0  # shielded blocks open
    pending: int | None = None  # a signal held back by a shielded block
    active = False  # inside interruptible()
    received: int | None = None  # the last signal received inside interruptible()


_training = _Training()


def _on_training_signal(signum: int, frame: Any) -> None:
    _training.received = signum
    if _training.depth:
        _training.pending = signum
        return
    raise (Terminated if signum == _SIGTERM else Interrupted)(signum)


class interruptible:  # noqa: N801 - used like a function: ``with interruptible():``
    """Inside the block SIGINT, SIGTERM and SIGHUP raise :class:`Interrupted` (main thread only).

    The previous handlers come back when the block ends; :func:`received` then tells the
    last signal received inside it (one held back by :func:`shielded` included).
    """

    def __init__(self) -> None:
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _Training:
        for s in _TRAINING_SIGNALS:
            try:
                self._previous[s] = signal.signal(s, _on_training_signal)
            except (ValueError, OSError):  # not the main thread: nothing installed
                pass
        _training.received, _training.pending = None, None
        _training.active = bool(self._previous)
        if self._previous:
            ready()
        return _training

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for s, h in self._previous.items():
            signal.signal(s, h)
        self._previous = {}
        _training.active = False


class shielded:  # noqa: N801 - used like a function: ``with shielded():``
    """Hold signals back for the duration of the block.

    When the block ends, the signal received meanwhile (if any) is raised as
    :class:`Interrupted` — or, with ``raise_after=False``, only recorded (:func:`received`
    tells; the caller finishes its work and exits accordingly).  Blocks nest: the
    outermost one delivers.
    """

    def __init__(self, *, raise_after: bool = True) -> None:
        self.raise_after = raise_after

    def __enter__(self) -> None:
        _training.depth += 1

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        _training.depth -= 1
        if not _training.depth and _training.pending is not None:
            signum, _training.pending = _training.pending, None
            if self.raise_after and _training.active:
                raise (Terminated if signum == _SIGTERM else Interrupted)(signum)


def received() -> int | None:
    """The last signal received inside :func:`interruptible` (None if none)."""
    return _training.received
