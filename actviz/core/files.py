"""Files that users name: atomic writes, output paths checked early, reads that never block.

* :func:`write_atomic` — a temporary file in the same directory, then ``os.replace``.
  A failure leaves any previous file untouched and no temporary file behind; a signal
  waits until the file is in place.  A
  special file where the output goes (``-o /dev/full``, a FIFO, a socket) is refused:
  renaming over it would replace the device node or pipe with a regular file.
* :func:`check_output_file` — reject an output path that cannot be written (a
  directory, a trailing ``/``, a name too long, a missing or read-only parent, a
  special file) before any work.
* :func:`read_regular` — the bytes of a regular file; a FIFO, device or socket is
  refused without waiting for a writer.

Every operating-system error becomes an :class:`~actviz.core.errors.ActvizError`
naming the path.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from actviz.core.errors import ActvizError
from actviz.core.signals import shielded


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFDIR: "a directory",
}


def not_regular(mode: int) -> str | None:
    """What a file of this ``st_mode`` is ("a FIFO (named pipe)"), or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def _special(path: Path) -> str | None:
    """What stands at ``path`` when it is neither a regular file nor absent (symbolic links followed)."""
    try:
        return not_regular(os.stat(path).st_mode)
    except OSError:
        return None


def link_problem(path: str | os.PathLike[str]) -> str | None:
    """What is wrong with a symbolic link on the way to ``path``, in words; None if nothing is.

    ``it is a symbolic link to 'gone', which does not exist`` (a dangling link), ``it is a
    symbolic link loop`` (``a -> b -> a``); a link among the parents is named: ``'out' is ...``.
    """
    p = Path(os.fspath(path))
    for q in (p, *p.parents):
        target = "?"
        try:
            if not os.path.islink(q):
                continue
            target = os.readlink(q)
            os.stat(q)
        except OSError as exc:
            who = "it" if q == p else repr(str(q))
            if exc.errno == errno.ELOOP:
                return f"{who} is a symbolic link loop ({str(q)!r} -> {target!r} -> ...)"
            if exc.errno == errno.ENOENT:
                return f"{who} is a symbolic link to {target!r}, which does not exist"
    return None


def missing_dirs(path: str | os.PathLike[str]) -> list[Path]:
    """``path`` and those of its parents that do not exist yet, deepest first: what creating it would create."""
    missing = []
    d = Path(path)
    while not os.path.lexists(d) and d.parent != d:
        missing.append(d)
        d = d.parent
    return missing


def remove_empty_dirs(dirs: Sequence[Path]) -> None:
    """Remove ``dirs`` (deepest first, as :func:`missing_dirs` lists them), stopping at the first not empty."""
    for d in dirs:
        try:
            d.rmdir()
        except OSError:
            break


def os_reason(path: str | os.PathLike[str], exc: OSError) -> str:
    """Why an operation on ``path`` failed: a broken symbolic link said as such, else the system's words."""
    if exc.errno in (errno.EEXIST, errno.ENOENT, errno.ELOOP, errno.ENOTDIR):
        problem = link_problem(path)
        if problem is not None:
            return problem
    return exc.strerror or str(exc)


def check_output_file(path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path, if a file can be written there; else ActvizError (exit 1) naming it.

    Refused: a trailing ``/`` (names a directory), an existing directory or special
    file, a name longer than the file system allows, a parent that does not exist,
    is not a directory or is not writable.
    """
    text = os.fspath(path)
    if text == "":
        raise ActvizError("cannot write '': name a file")
    if text.endswith(("/", os.sep)) or (os.altsep and text.endswith(os.altsep)):
        raise ActvizError(f"cannot write {text!r}: a trailing '/' names a directory; give a file name")
    p = Path(text)
    try:
        kind = not_regular(os.stat(p).st_mode)
    except OSError as exc:  # a name too long, a parent that is a file, a loop, a dangling link...
        problem = link_problem(p)
        if problem is not None:
            raise ActvizError(f"cannot write {text!r}: {problem}") from None
        if exc.errno != errno.ENOENT:
            raise ActvizError(f"cannot write {text!r}: {exc.strerror or exc}") from None
        kind = None
    if kind == "a directory":
        raise ActvizError(f"cannot write {text!r}: it is a directory")
    if kind is not None:
        raise ActvizError(f"cannot write {text!r}: it is {kind}, not a regular file")
    parent = p.parent if str(p.parent) else Path(".")
    try:
        name_max = os.pathconf(parent, "PC_NAME_MAX") if parent.is_dir() else 255
    except (OSError, ValueError, AttributeError):
        name_max = 255
    if len(os.fsencode(p.name)) > name_max:
        raise ActvizError(f"cannot write {text!r}: File name too long "
                          f"({len(os.fsencode(p.name))} bytes; at most {name_max} here)")
    if not parent.is_dir():
        raise ActvizError(f"cannot write {text!r}: directory {str(parent)!r} does not exist (create it first)")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ActvizError(f"cannot write {text!r}: directory {str(parent)!r} is not writable")
    return p


def open_regular(path: str | os.PathLike[str], *, error: type[ActvizError] = ActvizError,
                 shown: str | None = None) -> IO[bytes]:
    """``path`` opened for binary reading; ``error`` for a FIFO, device, socket, directory or OS error.

    Nothing blocks: the type is checked before opening (a device is never opened), the file is
    opened with ``O_NONBLOCK`` (a FIFO put there meanwhile is not waited on) and checked again.
    ``shown`` is how the message names the file (default: the path as given).
    """
    text = os.fspath(path)
    shown = text if shown is None else shown
    try:
        kind = not_regular(os.stat(text).st_mode)
    except OSError as exc:
        raise error(f"cannot read {shown}: {exc.strerror or exc}") from None
    if kind is not None:
        raise error(f"cannot read {shown}: it is {kind}, not a regular file")
    try:
        fd = os.open(text, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise error(f"cannot read {shown}: {exc.strerror or exc}") from None
    try:
        kind = not_regular(os.fstat(fd).st_mode)
        if kind is not None:
            raise error(f"cannot read {shown}: it is {kind}, not a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike[str]) -> bytes:
    """The bytes of the regular file ``path``; ActvizError for a FIFO, device, socket or read error."""
    shown = repr(os.fspath(path))
    with open_regular(path, shown=shown) as f:
        try:
            return f.read()
        except OSError as exc:
            raise ActvizError(f"cannot read {shown}: {exc.strerror or exc}") from None


def write_atomic(path: str | os.PathLike[str], data: bytes | Callable[[IO[bytes]], Any]) -> Path:
    """Write ``data`` (bytes, or a function writing to a binary file) to ``path`` atomically.

    A directory or special file (device, FIFO, socket) at ``path`` is refused, not replaced, and
    so is a dangling symbolic link or a link loop (the file would silently replace the link).
    A signal (Ctrl-C, SIGTERM, SIGHUP) that arrives meanwhile is acted on once the file is
    written, so no temporary file is ever left behind (:func:`actviz.core.signals.shielded`).
    """
    path = Path(path)
    kind = _special(path)
    if kind is not None:
        raise ActvizError(f"cannot write {str(path)!r}: it is {kind}, not a regular file")
    problem = link_problem(path)
    if problem is not None:
        raise ActvizError(f"cannot write {str(path)!r}: {problem}")
    with shielded():  # a signal meanwhile waits until the file is in place and the temporary one gone
        return _write_atomic(path, data)


def _write_atomic(path: Path, data: bytes | Callable[[IO[bytes]], Any]) -> Path:
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
