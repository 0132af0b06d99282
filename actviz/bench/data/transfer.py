"""Streaming one URL into one local file, resumable, within a per-read timeout and an overall deadline.

Only the standard library (:mod:`urllib`) is used.  Per-read timeouts alone do not
bound a download (a server that sends one byte every few seconds never trips them),
so a :class:`Deadline` also shuts down the sockets it watches when the time is up.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from actviz.core.errors import UsageError

__all__ = [
    "DEADLINE",
    "ENV_DEADLINE",
    "TIMEOUT",
    "Deadline",
    "DeadlinePassed",
    "LocalWriteError",
    "ProgressCallback",
    "deadline_seconds",
    "reason",
    "stream",
]

#: Seconds to wait for a connection or for the next bytes of a download.
TIMEOUT = 10.0

#: Seconds a whole download (all the files it fetches) may take, however the bytes trickle in.
DEADLINE = 900.0
#: Environment variable overriding :data:`DEADLINE` (seconds).
ENV_DEADLINE = "ACTVIZ_DOWNLOAD_DEADLINE"

#: ``progress(file_name, bytes_done, bytes_total_or_None)``, called while downloading.
ProgressCallback = Callable[[str, int, "int | None"], None]


class LocalWriteError(Exception):
    """Writing the downloaded bytes failed here (the disk, not the mirror); the cause is chained."""


class DeadlinePassed(Exception):
    """The deadline passed during a transfer; ``done`` bytes had arrived."""

    def __init__(self, done: int):
        super().__init__(done)
        self.done = done


def reason(exc: BaseException) -> str:
    """Why a transfer or a file operation failed, in a few words (``HTTP 404 Not Found``, ``timed out``)."""
    import urllib.error

    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        if not isinstance(exc.reason, BaseException):
            return str(exc.reason)
        exc = exc.reason
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text)


def deadline_seconds(deadline: float | None = None) -> float:
    """The overall download deadline: ``deadline``, else ``ACTVIZ_DOWNLOAD_DEADLINE``, else :data:`DEADLINE`."""
    if deadline is None:
        text = os.environ.get(ENV_DEADLINE, "").strip()
        if not text:
            return DEADLINE
        try:
            deadline = float(text)
        except ValueError:
            raise UsageError(f"{ENV_DEADLINE}: {text!r} is not a number of seconds") from None
        source = ENV_DEADLINE
    else:
        source = "deadline"
    if not (deadline > 0 and deadline < float("inf")):
        raise UsageError(f"{source}: the download deadline must be a positive number of seconds, not {deadline!r}")
    return float(deadline)


class Deadline:
    """When a download must be over; at that moment the sockets it watches are shut down.

    Per-read timeouts alone do not bound a download: a server that sends one byte
    every few seconds never trips them.  Shutting the socket down wakes a read that
    is waiting for such a byte (or for a header line) at once.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[Any] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(seconds, 0.0), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def passed(self) -> bool:
        return self.expired or self.remaining() <= 0

    def watch(self, sock: Any) -> None:
        with self._lock:
            self._sockets.append(sock)
            late = self.expired
        if late:
            self._shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            self._shut(sock)

    @staticmethod
    def _shut(sock: Any) -> None:
        import socket

        with contextlib.suppress(OSError, ValueError):
            sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


def _opener(deadline: Deadline) -> Any:
    """A urllib opener whose HTTP(S) connections are handed to ``deadline`` once connected."""
    import urllib.request

    def watched(http_class: Any) -> Any:
        class Watched(http_class):  # type: ignore[misc,valid-type]
            def connect(self) -> None:
                super().connect()
                deadline.watch(self.sock)

        return Watched

    class HTTPHandler(urllib.request.HTTPHandler):
        def do_open(self, http_class: Any, req: Any, **kw: Any) -> Any:
            return super().do_open(watched(http_class), req, **kw)

    class HTTPSHandler(urllib.request.HTTPSHandler):
        def do_open(self, http_class: Any, req: Any, **kw: Any) -> Any:
            return super().do_open(watched(http_class), req, **kw)

    return urllib.request.build_opener(HTTPHandler, HTTPSHandler)


def _resume_offset(response: Any, offset: int) -> int:
    """Where the reply's body starts in the file: ``offset`` for a 206 that continues it, else 0 (start over)."""
    if offset and getattr(response, "status", 200) == 206:
        rng = response.headers.get("Content-Range", "")
        if rng.startswith(f"bytes {offset}-"):
            return offset
        raise ConnectionError(f"the mirror resumed at the wrong place ({rng or 'no Content-Range'})")
    return 0


def stream(
    url: str,
    partial: Path,
    name: str,
    timeout: float,
    deadline: Deadline,
    progress: ProgressCallback | None,
) -> Path | None:
    """Stream ``url`` into ``partial``, resuming it when it holds bytes already; return it, or None if empty.

    A ``partial`` left by an earlier, cut-short transfer is continued with an HTTP
    ``Range`` request: a ``206`` reply is appended, a plain ``200`` (a mirror that cannot
    resume) starts the file over.  The file is created with the first bytes, so no empty
    one is ever left; what arrived stays in it when the transfer fails, for the next try.
    Network errors propagate, local ones are wrapped in :class:`LocalWriteError`;
    running past the deadline raises :class:`DeadlinePassed`.
    """
    import urllib.request

    if deadline.passed():
        raise DeadlinePassed(0)
    try:
        offset = partial.stat().st_size if partial.is_file() else 0
    except OSError:
        offset = 0
    headers = {"User-Agent": "actviz"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    done = 0
    out: Any = None
    try:
        wait = max(0.1, min(timeout, deadline.remaining()))
        with _opener(deadline).open(request, timeout=wait) as response:
            done = start = _resume_offset(response, offset)
            length = response.headers.get("Content-Length")
            total = start + int(length) if length and length.isdigit() else None
            if progress is not None:
                progress(name, done, total)
            read = getattr(response, "read1", response.read)  # what has arrived, not a full block
            while True:
                if deadline.passed():
                    raise DeadlinePassed(done)
                block = read(1 << 16)
                if not block:
                    break
                try:
                    if out is None:
                        out = open(partial, "ab" if start else "wb")
                    out.write(block)
                except OSError as exc:
                    raise LocalWriteError(exc) from exc
                done += len(block)
                if progress is not None:
                    progress(name, done, total)
            if deadline.passed():  # the socket was shut down under the read
                raise DeadlinePassed(done)
            if out is not None:
                try:
                    out.flush()
                    os.fsync(out.fileno())
                except OSError as exc:
                    raise LocalWriteError(exc) from exc
            if total is not None and done != total:
                raise ConnectionError(f"transfer cut short ({done} of {total} bytes)")
    except (DeadlinePassed, LocalWriteError):
        raise
    except Exception:
        if deadline.expired:
            raise DeadlinePassed(done) from None
        raise
    finally:
        if out is not None:
            with contextlib.suppress(OSError):
                out.close()
    return partial if partial.is_file() and partial.stat().st_size else None
