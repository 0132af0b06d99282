"""SIGINT, SIGTERM and SIGHUP handled alike during training: results kept, runs marked interrupted.

:func:`interruptible` installs handlers that raise :class:`Interrupted` (a
``KeyboardInterrupt``, which :func:`actviz.bench.train.train_runs` turns into
``interrupted=True`` keeping every finished epoch).  While a :func:`shielded` block
runs (an atomic write of the results), a signal is held back and raised when the
block ends, so a file is never left half-written and no temporary file stays behind.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["Interrupted", "exit_code", "interruptible", "received", "shielded"]

_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


class Interrupted(KeyboardInterrupt):
    """Raised by the handlers; ``signum`` is the signal received."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


class _State:
    depth = 0
    pending: int | None = None
    active = False
    received: int | None = None


_state = _State()


def _handler(signum: int, frame: Any) -> None:
    _state.received = signum
    if _state.depth:
        _state.pending = signum
        return
    raise Interrupted(signum)


def exit_code(signum: int | None) -> int:
    """128 + the signal number: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP."""
    return 128 + int(signum if signum is not None else signal.SIGINT)


@contextlib.contextmanager
def interruptible() -> Iterator[_State]:
    """Handle SIGINT, SIGTERM and SIGHUP as Ctrl-C inside the block (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield _state
        return
    previous = {}
    for s in _SIGNALS:
        try:
            previous[s] = signal.signal(s, _handler)
        except (ValueError, OSError):  # pragma: no cover
            pass
    _state.active, _state.received, _state.pending = True, None, None
    try:
        yield _state
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        _state.active = False


@contextlib.contextmanager
def shielded(*, raise_after: bool = True) -> Iterator[None]:
    """Hold signals back for the duration of the block.

    Then raise the one received, if any — or, with ``raise_after=False``, only record
    it (``received()`` tells; the caller finishes its work and exits accordingly).
    """
    _state.depth += 1
    try:
        yield
    finally:
        _state.depth -= 1
        if not _state.depth and _state.pending is not None:
            signum, _state.pending = _state.pending, None
            if raise_after and _state.active:
                raise Interrupted(signum)


def received() -> int | None:
    """The last signal received inside :func:`interruptible` (None if none)."""
    return _state.received
