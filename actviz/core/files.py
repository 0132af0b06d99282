"""Atomic file writes: a temporary file in the same directory, then ``os.replace``.

A failure leaves any previous file untouched and no temporary file behind; an
operating-system error becomes an :class:`~actviz.core.errors.ActvizError` naming the path.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from actviz.core.errors import ActvizError


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: str | os.PathLike[str], data: bytes | Callable[[IO[bytes]], Any]) -> Path:
    """Write ``data`` (bytes, or a function writing to a binary file) to ``path`` atomically."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:64]}.", suffix=".tmp", dir=path.parent)  # fits wherever path does
    except OSError as exc:
        raise ActvizError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise ActvizError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
        raise
    return path
