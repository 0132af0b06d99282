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

Every signal of the map goes through one handler, which decides by the moment:

* **inside an import** (the main thread is in importlib): the signal is held back and
  acted on as soon as the outermost import in progress returns (a ``KeyboardInterrupt``
  inside an import can leave a module half-initialised: numpy then refuses to load
  again, torch aborts, some imports swallow it).  A second signal while one is held back
  is acted on at once (an import that hangs can still be stopped).
* **inside** :func:`shielded` (an atomic write): held back and raised when the block ends,
  so a file is never left half-written and no temporary file stays behind.
* **while the command runs** (:func:`running`) or **inside** :func:`interruptible`
  (training): raised as :class:`Interrupted` (a ``KeyboardInterrupt``; :class:`Terminated`
  for SIGTERM), so ``finally`` blocks run; training turns it into runs marked interrupted.
* **before the command's own handlers run** (start-up): the line, then exit with the code.
* **after the command** (:func:`closing`): only remembered; :func:`finish` then prints the
  line and exits with the signal's code instead of the command's.

:func:`install` (the command line, from the package root, before any heavy import) puts
the handler in place for SIGINT, SIGTERM and SIGHUP; a signal that the process inherited
as *ignored* (``nohup``, ``trap '' INT``) is the user's choice and stays ignored, here
and in :func:`interruptible`.  When the package root installs it (the process is the
``actviz`` command), the process ends through ``os._exit`` after flushing its output,
so that no signal can arrive while the interpreter shuts down (its handlers gone).

The readiness line: with the environment variable ``ACTVIZ_READY`` set (not empty, not
``0``), :func:`ready` prints ``actviz: ready (signal handlers installed)`` on stderr at
the moment the handlers that will deal with a signal are in place, so that a test can
wait for it before it sends one.  The command line calls it once its handlers are in
place, ``compare`` when :func:`interruptible` is entered for training.

This module uses the standard library only (``signal``, ``sys``, ``os``, ``atexit``) and imports
nothing else at import time: the package root imports it before anything else.
Importing it changes nothing; only :func:`install` and :func:`interruptible` do.
"""

from __future__ import annotations

import atexit
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
    "closing",
    "exit_code",
    "finish",
    "install",
    "installed",
    "interruptible",
    "message",
    "ready",
    "received",
    "running",
    "shielded",
    "stopped",
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


# --------------------------------------------------------------------------- the one handler

_BOOTSTRAP = ("<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>")


class _State:
    """Where the process stands (one per process); see the module's docstring."""

    installed = False  # install() ran
    owns_process = False  # the package root installed the handlers: this process is the command
    running = False  # the command's own handlers turn KeyboardInterrupt into its exit code and line
    closing = False  # the command is over: a signal is only remembered
    final: int | None = None  # the first signal that arrived while closing
    held: int | None = None  # a signal held back until the outermost import returns
    depth = 0  # shielded blocks open
    pending: int | None = None  # a signal held back by a shielded block
    active = False  # inside interruptible()
    received: int | None = None  # the last signal received (reset when interruptible() is entered)
    last: int | None = None  # the last signal acted on (raised), for stopped()


_state = _State()


def _exception(signum: int) -> Interrupted:
    return Terminated(signum) if signum == _SIGTERM else Interrupted(signum)


def _say(line: str) -> None:
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass


def _exit_now(signum: int) -> None:
    """Before the command's handlers run: the line, then the exit code (no cleanup is pending yet)."""
    _say(message(signum))
    if _state.owns_process:
        _flush_and_exit(exit_code(signum))
    raise SystemExit(exit_code(signum))


def _act(signum: int) -> None:
    """Act on a signal now: raise it for the command (or training), or exit at start-up."""
    if _state.running or _state.active:
        _state.last = signum
        raise _exception(signum)
    _exit_now(signum)


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
        if event == "return" and frame is outer and _state.held is not None:
            sys.settrace(None)
            signum, _state.held = _state.held, None
            if _state.closing:
                _state.final = _state.final or signum
            elif _state.depth:
                _state.pending = signum
            else:
                _act(signum)  # from the import statement, the module now complete
        return local

    return local


def _hold_back(signum: int, frame: FrameType | None) -> bool:
    """Have the signal acted on when the outermost import in progress returns."""
    outer = _outermost_import(frame)
    if outer is None:
        return False
    _state.held = signum
    outer.f_trace = _deliver_after(outer)
    sys.settrace(lambda f, e, a: None)  # tracing must be on for f_trace to be called (new frames: untraced)
    return True


def _on_signal(signum: int, frame: FrameType | None) -> None:
    _state.received = signum
    if _state.closing:
        _state.final = _state.final or signum
        return
    if _state.depth:
        _state.pending = signum
        return
    # when one is held back already, this is a second signal: act now
    if _state.held is None and _hold_back(signum, frame):
        return
    _state.held = None
    sys.settrace(None)
    _act(signum)


def _ignored(signum: int) -> bool:
    """Whether the process inherited ``signum`` as ignored (the user's choice: ``nohup``, ``trap ''``)."""
    try:
        return signal.getsignal(signum) is signal.SIG_IGN
    except (ValueError, OSError):
        return True


def install(*, owns_process: bool = False, taking_over: Callable[..., Any] | None = None,
            early: list[int] | None = None) -> None:
    """Install the one handler for SIGINT, SIGTERM and SIGHUP (main thread only; idempotent).

    A signal inherited as ignored stays ignored.  ``owns_process``: this process is the
    ``actviz`` command (the package root says so), and :func:`finish` ends it with
    ``os._exit``.  ``taking_over``: a handler to replace as well (the package root's, which
    only remembers, into ``early``, the signals that arrive before this module is
    imported); the first signal remembered is then acted on.
    """
    _state.owns_process = _state.owns_process or owns_process
    if _state.installed:
        return
    try:  # signal.signal raises ValueError outside the main thread
        for s in _TRAINING_SIGNALS:
            handler = signal.getsignal(s)
            if handler in (signal.default_int_handler, signal.SIG_DFL) or (
                    taking_over is not None and handler is taking_over):
                signal.signal(s, _on_signal)
    except (ValueError, OSError):  # not the main interpreter, or no signals here
        return
    _state.installed = True
    if early:
        _act(early[0])


def installed() -> bool:
    """Whether :func:`install` has run in this process."""
    return bool(_state.installed)


def running() -> None:
    """Say that the command's own handlers now turn KeyboardInterrupt into its exit code and line."""
    _state.running = True


def closing() -> None:
    """The command is over (its exit code decided): from now on a signal is only remembered.

    Only after :func:`running` (the command line's ``main``); elsewhere nothing changes.
    """
    if _state.running:
        _state.closing = True


def _flush_and_exit(code: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    os._exit(code)


def _late_signal() -> int | None:
    """A signal that arrived after the command: handled while closing, or pending now (signals blocked)."""
    if _state.final is not None:
        return _state.final
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, _TRAINING_SIGNALS)  # from here on nothing can interrupt
        pending = sorted(int(s) for s in signal.sigpending() if int(s) in _MAP and not _ignored(int(s)))
    except (AttributeError, ValueError, OSError):  # no POSIX signal masks here
        return _state.final
    return _state.final if _state.final is not None else (pending[0] if pending else None)


def finish(code: Any) -> None:
    """End the command with ``code`` (an exit status, None or a message, as ``sys.exit`` takes).

    A signal that arrived after the command (while closing) wins: its line on stderr and
    its exit code, unless the command already ended for a signal.  When this process is
    the ``actviz`` command, the exit functions run (signals only remembered meanwhile),
    standard output and error are flushed, and the process ends with ``os._exit`` (no
    signal can then find the interpreter without its handlers); otherwise SystemExit.
    """
    closing()
    if _state.owns_process and _state.closing:
        try:
            atexit._run_exitfuncs()
        except BaseException:  # noqa: BLE001 - an exit function's failure does not change the outcome
            pass
    if not isinstance(code, int) or isinstance(code, bool):
        if code is not None:
            _say(str(code))
        code = 0 if code is None else 1
    late = _late_signal() if _state.closing else None
    if late is not None and code not in _CODES:
        _say(message(late))
        code = exit_code(late)
    if _state.owns_process and _state.closing:
        _flush_and_exit(code)
    raise SystemExit(code)


_CODES = frozenset(code for code, _ in _MAP.values())


def stopped() -> Interrupted:
    """The exception for the signal that stopped the work last (Ctrl-C when none is known).

    For code that catches a ``KeyboardInterrupt`` to stop cleanly (training) and then
    re-raises it with the right exit code.
    """
    return _exception(_state.last if _state.last is not None else _SIGINT)


# --------------------------------------------------------------------------- training and atomic writes


class interruptible:  # noqa: N801 - used like a function: ``with interruptible():``
    """Inside the block SIGINT, SIGTERM and SIGHUP raise :class:`Interrupted` (main thread only).

    A signal inherited as ignored stays ignored.  The previous handlers come back when
    the block ends; :func:`received` then tells the last signal received inside it (one
    held back by :func:`shielded` included).
    """

    def __init__(self) -> None:
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _State:
        for s in _TRAINING_SIGNALS:
            if _ignored(s):
                continue
            try:
                self._previous[s] = signal.signal(s, _on_signal)
            except (ValueError, OSError):  # not the main thread: nothing installed
                pass
        _state.received, _state.pending = None, None
        _state.active = bool(self._previous)
        if self._previous:
            ready()
        return _state

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        _state.active = False
        for s, h in self._previous.items():
            signal.signal(s, h)
        self._previous = {}


class shielded:  # noqa: N801 - used like a function: ``with shielded():``
    """Hold signals back for the duration of the block.

    When the block ends, the signal received meanwhile (if any) is raised as
    :class:`Interrupted` — or, with ``raise_after=False``, only recorded (:func:`received`
    tells; the caller finishes its work and exits accordingly).  Blocks nest: the
    outermost one delivers.  Where none of this module's handlers is installed, the
    block changes nothing.
    """

    def __init__(self, *, raise_after: bool = True) -> None:
        self.raise_after = raise_after

    def __enter__(self) -> None:
        _state.depth += 1

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        _state.depth -= 1
        if not _state.depth and _state.pending is not None:
            signum, _state.pending = _state.pending, None
            if self.raise_after:
                if _state.running or _state.active:
                    _state.last = signum
                    raise _exception(signum)
                if _state.installed:
                    _exit_now(signum)


def received() -> int | None:
    """The last signal received (since :func:`interruptible` was entered); None if none."""
    return _state.received
