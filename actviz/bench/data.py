"""The Fashion-MNIST data set: finding it, fetching it, verifying it, loading it.

Where the data comes from (SPEC section 4), in this order:

1. an explicit ``data_dir`` argument (the CLI's ``--data-dir``), else
2. the ``ACTVIZ_DATA_DIR`` environment variable.

   Either of these is *the* one place used: files missing there are downloaded
   into it, and if that fails it is a :class:`~actviz.core.errors.DataError`; another
   copy is never read silently.

3. Without either: the user cache directory (``$XDG_CACHE_HOME/actviz/fashion-mnist``,
   by default ``~/.cache/actviz/fashion-mnist``), then
4. ``/usr/share/datasets/fashion-mnist`` (Debian/Ubuntu package
   ``dataset-fashion-mnist``), and otherwise
5. a download of the four files from the public mirrors into the cache directory.

A directory holds the set only if all four files are there, each either gzipped
(``name.gz``) or plain (``name``); when both are present the plain one is used.
Whatever the source, the SHA-256 of the decompressed contents is checked on every
load, before the data is used.

Mirrors are base URLs to which the ``.gz`` file names are appended.  They can be
given per call (``mirrors=``), or by the ``ACTVIZ_MIRRORS`` environment variable,
a comma-separated list of base URLs (``http``, ``https`` or ``file``) that
replaces the built-in :data:`MIRRORS`.

Downloads use only the standard library (:mod:`urllib`), time out quickly
(:data:`TIMEOUT` seconds per connect or read), must be over within an overall
deadline (:data:`DEADLINE` seconds, or ``ACTVIZ_DOWNLOAD_DEADLINE``) however slowly
the bytes trickle in, are verified before they are moved into place and are
written atomically: an interrupted or corrupt download leaves nothing behind (no
``.part`` file, no directory it created).  Special files (a FIFO, a device) where
a data file should be are an error, never a read that waits forever.

This module imports neither torch nor numpy at import time.
"""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
import queue
import struct
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from actviz.core.errors import DataError, UsageError
from actviz.core.files import open_regular

if TYPE_CHECKING:
    import numpy as np
    import torch

__all__ = [
    "CLASS_NAMES",
    "DEADLINE",
    "DEBIAN_DIR",
    "ENV_DEADLINE",
    "ENV_DATA_DIR",
    "ENV_MIRRORS",
    "FILES",
    "MIRRORS",
    "SHA256",
    "TEST_IMAGES",
    "TEST_LABELS",
    "TIMEOUT",
    "TRAIN_IMAGES",
    "TRAIN_LABELS",
    "DataStatus",
    "FashionMNIST",
    "FileCheck",
    "FileStatus",
    "ProgressCallback",
    "cache_dir",
    "download",
    "load",
    "load_arrays",
    "mirrors_in_use",
    "read_idx",
    "set_default_progress",
    "status",
    "verify",
    "write_idx",
]

# --------------------------------------------------------------------------- constants

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"

#: The four files of the set, without the ``.gz`` suffix.
FILES: tuple[str, ...] = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)

#: SHA-256 of each file's *decompressed* contents (SPEC section 4).
SHA256: dict[str, str] = {
    TRAIN_IMAGES: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    TRAIN_LABELS: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    TEST_IMAGES: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    TEST_LABELS: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}

#: The data set's public mirrors, tried in order (``name.gz`` is appended).
MIRRORS: tuple[str, ...] = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://ossci-datasets.s3.amazonaws.com/fashion-mnist/",
)

#: Where Debian and Ubuntu's ``dataset-fashion-mnist`` package installs the files.
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")

#: Environment variable naming the one data directory to use.
ENV_DATA_DIR = "ACTVIZ_DATA_DIR"
#: Environment variable with comma-separated mirror base URLs replacing :data:`MIRRORS`.
ENV_MIRRORS = "ACTVIZ_MIRRORS"

#: Seconds to wait for a connection or for the next bytes of a download.
TIMEOUT = 10.0

#: Seconds a whole download (all the files it fetches) may take, however the bytes trickle in.
DEADLINE = 900.0
#: Environment variable overriding :data:`DEADLINE` (seconds).
ENV_DEADLINE = "ACTVIZ_DOWNLOAD_DEADLINE"

#: Label ``i`` is ``CLASS_NAMES[i]``.
CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

IMAGE_SHAPE = (28, 28)

#: ``progress(file_name, bytes_done, bytes_total_or_None)``, called while downloading.
ProgressCallback = Callable[[str, int, "int | None"], None]

APT_HINT = "apt-get install dataset-fashion-mnist"

# Human-readable names of the places a data directory can come from.
ORIGINS = {
    "argument": "--data-dir",
    "environment": ENV_DATA_DIR,
    "cache": "user cache",
    "debian": "Debian package dataset-fashion-mnist",
}


def cache_dir() -> Path:
    """The user cache directory for the data set.

    ``$XDG_CACHE_HOME/actviz/fashion-mnist`` when ``XDG_CACHE_HOME`` is set (to an
    absolute path), else ``~/.cache/actviz/fashion-mnist`` (on macOS
    ``~/Library/Caches/actviz/fashion-mnist``, on Windows
    ``%LOCALAPPDATA%/actviz/Cache/fashion-mnist``).
    """
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        base = Path(xdg)
    elif sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "actviz" / "Cache" / "fashion-mnist"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path.home() / ".cache"
    return base / "actviz" / "fashion-mnist"


# --------------------------------------------------------------------------- status


@dataclass(frozen=True)
class FileStatus:
    """One of the four files in a directory, as found on disk (nothing is read)."""

    name: str
    path: Path | None
    compressed: bool | None
    size: int | None

    @property
    def present(self) -> bool:
        """Whether the file is there (gzipped or plain)."""
        return self.path is not None


@dataclass(frozen=True)
class DataStatus:
    """Which directory would be used, and what it holds.

    ``origin`` is ``"argument"``, ``"environment"``, ``"cache"`` or ``"debian"``;
    ``searched`` lists the ``(origin, directory, complete)`` places looked at, in
    order.  When no place holds the set, ``directory`` is the one the files would be
    downloaded into (``complete`` is then false).
    """

    directory: Path
    origin: str
    files: tuple[FileStatus, ...]
    searched: tuple[tuple[str, Path, bool], ...]

    @property
    def explicit(self) -> bool:
        """Whether the directory was named by ``data_dir`` or ``ACTVIZ_DATA_DIR``."""
        return self.origin in ("argument", "environment")

    @property
    def complete(self) -> bool:
        """Whether all four files are present."""
        return all(f.present for f in self.files)

    @property
    def missing(self) -> tuple[str, ...]:
        """Names of the files that are not present."""
        return tuple(f.name for f in self.files if not f.present)

    @property
    def origin_text(self) -> str:
        """Where the directory came from, for people."""
        return ORIGINS.get(self.origin, self.origin)


def _find_file(directory: Path, name: str) -> FileStatus:
    for candidate, compressed in ((directory / name, False), (directory / f"{name}.gz", True)):
        try:
            st = candidate.stat()
        except OSError:
            continue
        if os.path.isdir(candidate):
            continue
        return FileStatus(name, candidate, compressed, st.st_size)
    return FileStatus(name, None, None, None)


def _scan(directory: Path) -> tuple[FileStatus, ...]:
    return tuple(_find_file(directory, name) for name in FILES)


def _explicit_dir(data_dir: str | os.PathLike[str] | None) -> tuple[Path, str] | None:
    if data_dir is not None:
        if os.fspath(data_dir) == "":
            raise UsageError(
                "--data-dir: the directory is an empty string; name a directory, "
                "or leave the option out to use the default places"
            )
        return Path(os.path.abspath(os.path.expanduser(os.fspath(data_dir)))), "argument"
    env = os.environ.get(ENV_DATA_DIR, "")
    if env:
        return Path(os.path.abspath(os.path.expanduser(env))), "environment"
    return None


def status(data_dir: str | os.PathLike[str] | None = None) -> DataStatus:
    """Say which directory would be used and which files are there (gz or plain).

    Follows the location order of the module docstring.  Only looks at names and
    sizes; nothing is read or verified (see :func:`verify`).
    """
    explicit = _explicit_dir(data_dir)
    if explicit is not None:
        directory, origin = explicit
        if directory.exists() and not directory.is_dir():
            raise DataError(f"{directory} is not a directory (from {ORIGINS[origin]})")
        files = _scan(directory)
        done = all(f.present for f in files)
        return DataStatus(directory, origin, files, ((origin, directory, done),))
    searched: list[tuple[str, Path, bool]] = []
    found: tuple[str, Path, tuple[FileStatus, ...]] | None = None
    cache_files: tuple[FileStatus, ...] | None = None
    for origin, directory in (("cache", cache_dir()), ("debian", DEBIAN_DIR)):
        files = _scan(directory)
        done = all(f.present for f in files)
        searched.append((origin, directory, done))
        if origin == "cache":
            cache_files = files
        if done and found is None:
            found = (origin, directory, files)
    if found is not None:
        return DataStatus(found[1], found[0], found[2], tuple(searched))
    assert cache_files is not None
    return DataStatus(cache_dir(), "cache", cache_files, tuple(searched))


# --------------------------------------------------------------------------- reading

_CHUNK = 1 << 20  # compressed bytes fed to the inflater per call
_THREADED_HASH_MIN = 1 << 23  # outputs this large are hashed in a helper thread
_accel_zlib: Any = None


def _zlib() -> Any:
    """``isal.isal_zlib`` when installed (inflates ~1.6x faster), else :mod:`zlib`."""
    global _accel_zlib
    if _accel_zlib is None:
        try:
            from isal import isal_zlib  # type: ignore[import-not-found]

            _accel_zlib = isal_zlib
        except ImportError:
            _accel_zlib = zlib
    return _accel_zlib


class _Sink:
    """Collects decompressed pieces into one preallocated, writable buffer and hashes them.

    For large outputs the hashing runs in a helper thread, overlapping the inflating
    (both release the GIL).
    """

    def __init__(self, size_hint: int) -> None:
        self.buf = bytearray(max(size_hint, 1))
        self.view = memoryview(self.buf)
        self.length = 0
        self.sha = hashlib.sha256()
        self._queue: queue.SimpleQueue[bytes | None] | None = None
        self._thread: threading.Thread | None = None
        if size_hint >= _THREADED_HASH_MIN:
            self._queue = queue.SimpleQueue()
            self._thread = threading.Thread(target=self._hash_loop, daemon=True)
            self._thread.start()

    def _hash_loop(self) -> None:
        assert self._queue is not None
        while (piece := self._queue.get()) is not None:
            self.sha.update(piece)

    def write(self, piece: bytes) -> None:
        n = len(piece)
        if not n:
            return
        end = self.length + n
        if end > len(self.buf):
            self.view.release()
            self.buf.extend(bytes(max(end, 2 * len(self.buf)) - len(self.buf)))
            self.view = memoryview(self.buf)
        self.view[self.length : end] = piece
        self.length = end
        if self._queue is not None:
            self._queue.put(piece)
        else:
            self.sha.update(piece)

    def finish(self) -> str:
        """Stop the hashing thread (if any) and return the hex digest."""
        if self._thread is not None:
            assert self._queue is not None
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        self.view.release()
        return self.sha.hexdigest()


@dataclass
class _Contents:
    """A file's decompressed contents (``buf[:length]``) and their SHA-256."""

    buf: bytearray
    length: int
    sha256: str


def _map_file(f: Any, size: int) -> mmap.mmap | bytes:
    if size == 0:
        return b""
    try:
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return f.read()


def _inflate(src: bytes | mmap.mmap, path: Path) -> _Contents:
    """Decompress gzip data (one or more members), hashing as it goes."""
    z = _zlib()
    size = len(src)
    if size < 18 or src[:2] != b"\x1f\x8b":
        raise DataError(f"{path} is not a gzip file (corrupt or truncated)")
    # ISIZE, the last member's length mod 2**32: exact for these files, else a hint
    # (capped, so that a corrupt trailer cannot make us allocate gigabytes up front).
    hint = min(struct.unpack("<I", src[size - 4 :])[0], 16 * size + (1 << 20))
    sink = _Sink(hint)
    view = memoryview(src)
    try:
        dec = z.decompressobj(31)
        pos = 0
        while pos < size:
            with view[pos : pos + _CHUNK] as chunk:  # released even on error
                sink.write(dec.decompress(chunk))
                pos += len(chunk)
            if dec.eof:
                pos -= len(dec.unused_data)
                if pos < size and any(src[pos : pos + 512]):
                    dec = z.decompressobj(31)  # another gzip member follows
                else:
                    break
        sink.write(dec.flush())
        complete = dec.eof
    except (zlib.error, getattr(z, "error", zlib.error), EOFError) as exc:
        raise DataError(f"{path} is corrupt (bad gzip data: {exc})") from None
    finally:
        view.release()
        digest = sink.finish()
    if not complete:
        raise DataError(f"{path} is truncated (the gzip stream ends early)")
    return _Contents(sink.buf, sink.length, digest)


def _open_regular(path: Path) -> Any:
    """Open ``path`` for reading, refusing FIFOs, devices and sockets without blocking on them."""
    return open_regular(path, error=DataError)


def _read_contents(path: Path, compressed: bool) -> _Contents:
    """Read a file, decompress it if gzipped, and hash the decompressed contents."""
    f = _open_regular(path)
    try:
        with f:
            size = os.fstat(f.fileno()).st_size
            if compressed:
                src = _map_file(f, size)
                try:
                    return _inflate(src, path)
                finally:
                    if isinstance(src, mmap.mmap):
                        src.close()
            buf = bytearray(max(size, 1))
            view = memoryview(buf)
            got = 0
            while got < size:
                n = f.readinto(view[got:size])
                if not n:
                    break
                got += n
            digest = hashlib.sha256(view[:got]).hexdigest()
            view.release()
            return _Contents(buf, got, digest)
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None


_IDX_TYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _parse_idx(buf: Any, length: int, path: Path | str) -> np.ndarray:
    """The array in an IDX file's contents; a malformed header is a DataError."""
    import numpy as np

    if length < 4:
        raise DataError(f"{path}: not an IDX file (only {length} bytes)")
    head = bytes(buf[:4])
    if head[0] != 0 or head[1] != 0 or head[2] not in _IDX_TYPES or not 1 <= head[3] <= 16:
        raise DataError(f"{path}: not an IDX file (bad magic number 0x{head.hex()})")
    dtype = np.dtype(_IDX_TYPES[head[2]])
    ndim = head[3]
    header = 4 + 4 * ndim
    if length < header:
        raise DataError(f"{path}: IDX header is cut short ({length} bytes)")
    dims = struct.unpack(f">{ndim}I", bytes(buf[4:header]))
    count = 1
    for d in dims:
        count *= d
    expected = header + count * dtype.itemsize
    if expected != length:
        raise DataError(
            f"{path}: IDX header says shape {dims} of {dtype.name} ({expected} bytes) "
            f"but the data has {length} bytes"
        )
    array = np.frombuffer(buf, dtype=dtype, count=count, offset=header).reshape(dims)
    if dtype.byteorder == ">" and sys.byteorder == "little":
        array = array.astype(dtype.newbyteorder("="))
    return array


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read one IDX file (gzipped if its name ends in ``.gz``) as a numpy array.

    Multi-byte types come back in native byte order.  No checksum is checked; a
    missing, corrupt or malformed file is a :class:`~actviz.core.errors.DataError`.
    """
    p = Path(path)
    contents = _read_contents(p, p.suffix == ".gz")
    return _parse_idx(contents.buf, contents.length, p)


def write_idx(path: str | os.PathLike[str], array: Any, *, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file; gzipped when ``compress`` (default: name ends in ``.gz``).

    Accepts numpy arrays and anything :func:`numpy.asarray` takes (torch tensors on
    the CPU included) of dtype uint8, int8, int16, int32, float32 or float64.
    Returns the path written.
    """
    import gzip

    import numpy as np

    p = Path(path)
    a = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("="): k for k, v in _IDX_TYPES.items()}
    native = a.dtype.newbyteorder("=")
    if native not in codes:
        raise UsageError(f"IDX cannot hold dtype {a.dtype}")
    if not 1 <= a.ndim <= 16:
        raise UsageError(f"IDX needs 1 to 16 dimensions, not {a.ndim}")
    code = codes[native]
    data = (
        struct.pack(f">BBBB{a.ndim}I", 0, 0, code, a.ndim, *a.shape)
        + np.ascontiguousarray(a, dtype=np.dtype(_IDX_TYPES[code])).tobytes()
    )
    if compress is None:
        compress = p.suffix == ".gz"
    p.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    return p


# --------------------------------------------------------------------------- verify


@dataclass(frozen=True)
class FileCheck:
    """The result of checking one file: ``state`` is ok, mismatch, corrupt or missing."""

    name: str
    path: Path | None
    state: str
    sha256: str | None
    detail: str

    @property
    def ok(self) -> bool:
        """Whether the file is present and its decompressed SHA-256 is right."""
        return self.state == "ok"


def _check(f: FileStatus) -> tuple[FileCheck, _Contents | None]:
    if f.path is None or f.compressed is None:
        return FileCheck(f.name, None, "missing", None, f"{f.name}(.gz) is missing"), None
    try:
        contents = _read_contents(f.path, f.compressed)
    except DataError as exc:
        return FileCheck(f.name, f.path, "corrupt", None, str(exc)), None
    want = SHA256[f.name]
    if contents.sha256 != want:
        detail = (
            f"{f.path}: SHA-256 of the contents is {contents.sha256[:16]}..., "
            f"expected {want[:16]}..."
        )
        return FileCheck(f.name, f.path, "mismatch", contents.sha256, detail), None
    return FileCheck(f.name, f.path, "ok", contents.sha256, "ok"), contents


def _check_all(files: Sequence[FileStatus]) -> list[tuple[FileCheck, _Contents | None]]:
    # zlib and hashlib release the GIL, so the files are read in parallel threads.
    workers = max(1, min(len(files), os.cpu_count() or 1))
    if workers == 1:
        return [_check(f) for f in files]
    with ThreadPoolExecutor(workers, thread_name_prefix="actviz-data") as pool:
        return list(pool.map(_check, files))


def verify(data_dir: str | os.PathLike[str] | None = None) -> list[FileCheck]:
    """Check the SHA-256 of each file's decompressed contents in the directory in use.

    The directory is the one :func:`status` picks; nothing is downloaded.  Returns one
    :class:`FileCheck` per file, in the order of :data:`FILES`.
    """
    st = status(data_dir)
    return [check for check, _ in _check_all(st.files)]


# --------------------------------------------------------------------------- download


def mirrors_in_use(mirrors: Iterable[str] | None = None) -> list[str]:
    """The mirror base URLs a download would try, in order.

    ``mirrors`` if given, else ``ACTVIZ_MIRRORS`` (comma-separated) if set, else
    :data:`MIRRORS`.  Each ends in ``/``; a URL that is not http, https or file is a
    :class:`~actviz.core.errors.UsageError`.
    """
    from urllib.parse import urlsplit

    source = "--mirror"
    if mirrors is None:
        env = os.environ.get(ENV_MIRRORS, "")
        if env.strip():
            mirrors = env.split(",")
            source = ENV_MIRRORS
        else:
            mirrors = MIRRORS
    result = []
    for url in mirrors:
        url = url.strip()
        if not url:
            continue
        if urlsplit(url).scheme not in ("http", "https", "file"):
            raise UsageError(f"{source}: {url!r} is not an http(s):// or file:// URL")
        result.append(url if url.endswith("/") else url + "/")
    if not result:
        raise UsageError(f"{source}: no mirror URL given")
    return result


def _fix_hint(directory: Path, explicit: bool) -> str:
    if explicit:
        hint = (
            f"put the four files (.gz or plain) into {directory}, or use a directory "
            "that has them (--data-dir DIR or ACTVIZ_DATA_DIR)"
        )
        if directory != DEBIAN_DIR and _is_complete(DEBIAN_DIR):
            hint += f", e.g. --data-dir {DEBIAN_DIR}"
        return hint
    return (
        f"install the Debian/Ubuntu package ({APT_HINT}), or put the four files in a "
        "directory and pass --data-dir DIR or set ACTVIZ_DATA_DIR"
    )


def _is_complete(directory: Path) -> bool:
    return all(f.present for f in _scan(directory))


def _reason(exc: BaseException) -> str:
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


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _LocalWriteError(Exception):
    pass


class _DeadlinePassed(Exception):
    def __init__(self, done: int):
        super().__init__(done)
        self.done = done


class _Deadline:
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


def _opener(deadline: _Deadline) -> Any:
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


def _fetch(
    url: str,
    part: Callable[[], Path],
    name: str,
    timeout: float,
    deadline: _Deadline,
    progress: ProgressCallback | None,
) -> Path | None:
    """Stream ``url`` into the file ``part()`` creates (on the first bytes); return it, or None if empty.

    Network errors propagate, local ones are wrapped in :class:`_LocalWriteError`;
    running past the deadline raises :class:`_DeadlinePassed`.
    """
    import urllib.request

    if deadline.passed():
        raise _DeadlinePassed(0)
    request = urllib.request.Request(url, headers={"User-Agent": "actviz"})
    done = 0
    tmp: Path | None = None
    out: Any = None
    try:
        wait = max(0.1, min(timeout, deadline.remaining()))
        with _opener(deadline).open(request, timeout=wait) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            if progress is not None:
                progress(name, 0, total)
            read = getattr(response, "read1", response.read)  # what has arrived, not a full block
            while True:
                if deadline.passed():
                    raise _DeadlinePassed(done)
                block = read(1 << 16)
                if not block:
                    break
                try:
                    if out is None:
                        tmp = part()
                        out = open(tmp, "wb")
                    out.write(block)
                except OSError as exc:
                    raise _LocalWriteError(exc) from exc
                done += len(block)
                if progress is not None:
                    progress(name, done, total)
            if deadline.passed():  # the socket was shut down under the read
                raise _DeadlinePassed(done)
            if out is not None:
                try:
                    out.flush()
                    os.fsync(out.fileno())
                except OSError as exc:
                    raise _LocalWriteError(exc) from exc
            if total is not None and done != total:
                raise ConnectionError(f"transfer cut short ({done} of {total} bytes)")
    except (_DeadlinePassed, _LocalWriteError):
        raise
    except Exception:
        if deadline.expired:
            raise _DeadlinePassed(done) from None
        raise
    finally:
        if out is not None:
            with contextlib.suppress(OSError):
                out.close()
    return tmp


def _download_file(
    name: str,
    dest: Path,
    mirrors: Sequence[str],
    dead: set[str],
    timeout: float,
    deadline: _Deadline,
    progress: ProgressCallback | None,
    explicit: bool,
) -> Path:
    """Fetch ``name.gz`` from the first mirror that has a good copy; atomically placed."""
    import urllib.error

    filename = f"{name}.gz"
    target = dest / filename
    tried: list[str] = []
    for base in mirrors:
        url = base + filename
        if base in dead:
            tried.append(f"{url} (skipped: mirror unreachable)")
            continue
        parts: list[Path] = []

        def part() -> Path:  # created when the first bytes arrive: no empty .part is ever left
            fd, tmp_name = tempfile.mkstemp(prefix=f".{filename}.", suffix=".part", dir=dest)
            os.close(fd)
            parts.append(Path(tmp_name))
            return parts[-1]

        try:
            try:
                tmp = _fetch(url, part, name, timeout, deadline, progress)
            except _LocalWriteError as exc:
                cause = exc.__cause__ or exc
                raise DataError(f"cannot write {target}: {_reason(cause)}") from None
            except _DeadlinePassed as exc:
                raise DataError(
                    f"downloading {filename} from {url} did not finish within the deadline of "
                    f"{deadline.seconds:g} s ({exc.done} bytes received); the mirror is too slow. "
                    f"To fix: set {ENV_DEADLINE}=SECONDS to allow longer, try another --mirror, "
                    f"or {_fix_hint(dest, explicit)}"
                ) from None
            except urllib.error.HTTPError as exc:  # the mirror answered: try the next
                tried.append(f"{url} ({_reason(exc)})")
                continue
            except Exception as exc:  # refused, unresolvable, timed out, cut short, bad reply
                tried.append(f"{url} ({_reason(exc)})")
                if isinstance(exc, OSError):  # unreachable: don't ask it for other files
                    dead.add(base)
                continue
            if tmp is None:
                tried.append(f"{url} (empty reply)")
                continue
            try:
                contents = _read_contents(tmp, compressed=True)
            except DataError:
                tried.append(f"{url} (corrupt download: not valid gzip)")
                continue
            if contents.sha256 != SHA256[name]:
                tried.append(f"{url} (corrupt download: SHA-256 mismatch)")
                continue
            del contents
            try:
                os.chmod(tmp, 0o644)
                os.replace(tmp, target)
            except OSError as exc:
                raise DataError(f"cannot write {target}: {_reason(exc)}") from None
            plain = dest / name
            if plain.is_file():  # a stale plain copy would shadow the new file
                with contextlib.suppress(OSError):
                    plain.unlink()
            _fsync_dir(dest)
            return target
        finally:
            for leftover in parts:
                with contextlib.suppress(OSError):
                    leftover.unlink()
    raise DataError(
        f"could not download {filename} into {dest}: tried "
        + "; ".join(tried)
        + f". To fix: {_fix_hint(dest, explicit)}"
    )


#: ``factory()`` gives a context manager yielding a :data:`ProgressCallback`; used by every
#: download that is given no ``progress`` (the command line installs its progress bar here).
_default_progress: Callable[[], Any] | None = None


def set_default_progress(factory: Callable[[], Any] | None) -> None:
    """Show ``factory()``'s progress (a context manager yielding a callback) for downloads given none.

    The command line installs its Rich progress bar here, so that a download shows one
    whichever command starts it (``data download``, ``compare``, ...).  ``None`` removes it.
    """
    global _default_progress
    _default_progress = factory


def _missing_dirs(dest: Path) -> list[Path]:
    """``dest`` and those of its parents that do not exist yet, deepest first."""
    missing = []
    d = dest
    while not os.path.lexists(d) and d.parent != d:
        missing.append(d)
        d = d.parent
    return missing


def _remove_stale_parts(dest: Path, names: Sequence[str], older_than: float) -> None:
    """Remove ``.NAME.gz.*.part`` files left by a download that was killed (SIGKILL) long ago."""
    now = time.time()
    for name in names:
        for leftover in dest.glob(f".{name}.gz.*.part"):
            with contextlib.suppress(OSError):
                if now - leftover.lstat().st_mtime > older_than:
                    leftover.unlink()


def _download_missing(
    dest: Path,
    names: Sequence[str],
    *,
    mirrors: Iterable[str] | None,
    progress: ProgressCallback | None,
    timeout: float,
    explicit: bool,
    deadline: float | None = None,
) -> None:
    urls = mirrors_in_use(mirrors)
    seconds = deadline_seconds(deadline)
    created = _missing_dirs(dest)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _remove_dirs(created)
        raise DataError(f"cannot create {dest}: {_reason(exc)}") from None
    _remove_stale_parts(dest, names, older_than=max(seconds, DEADLINE))
    dead: set[str] = set()
    clock = _Deadline(seconds)
    try:
        with contextlib.ExitStack() as stack:
            if progress is None and _default_progress is not None:
                progress = stack.enter_context(_default_progress())
            for name in names:
                _download_file(name, dest, urls, dead, timeout, clock, progress, explicit)
    except BaseException:
        _remove_dirs(created)  # leave no directory behind that this call created and left empty
        raise
    finally:
        clock.cancel()


def _remove_dirs(dirs: Sequence[Path]) -> None:
    for d in dirs:  # deepest first; stops at the first that is not empty
        try:
            d.rmdir()
        except OSError:
            break


def download(
    dest: str | os.PathLike[str] | None = None,
    *,
    mirrors: Iterable[str] | None = None,
    progress: ProgressCallback | None = None,
    force: bool = False,
    timeout: float | None = None,
    deadline: float | None = None,
) -> Path:
    """Download the four files into ``dest`` and return the directory holding the set.

    ``dest`` defaults to ``ACTVIZ_DATA_DIR`` if set, else the user cache directory;
    in that last case a complete copy that verifies in :data:`DEBIAN_DIR` is enough
    and nothing is fetched (unless ``force``), and that directory is returned.
    Files already in the target whose contents verify are kept (all are fetched
    again with ``force``); missing or failing ones are fetched from the first mirror
    of :func:`mirrors_in_use` that answers with a good copy.  Each file is verified
    (SHA-256 of the decompressed contents) before it is atomically moved into place,
    so a failed or corrupt download leaves nothing behind.  A mirror that cannot be
    reached is not asked again.  ``progress(name, done, total)`` is called as bytes
    arrive (without it, the default set by :func:`set_default_progress`).  The whole
    download must be over within ``deadline`` seconds (default ``ACTVIZ_DOWNLOAD_DEADLINE``,
    else :data:`DEADLINE`), however slowly the bytes come.  Raises
    :class:`~actviz.core.errors.DataError` naming what was tried and how to fix it when a
    file cannot be had, :class:`~actviz.core.errors.UsageError` for a malformed mirror URL.
    """
    urls = mirrors_in_use(mirrors)
    deadline_seconds(deadline)  # a bad value is a usage error before anything happens
    explicit = _explicit_dir(dest)
    directory = explicit[0] if explicit else cache_dir()
    if directory.exists() and not directory.is_dir():
        raise DataError(f"{directory} is not a directory")
    if force:
        names = list(FILES)
    else:
        files = _scan(directory)
        present = [f for f in files if f.present]
        bad = {check.name for check, _ in _check_all(present) if not check.ok}
        names = [f.name for f in files if not f.present or f.name in bad]
        if names and explicit is None:
            debian = _scan(DEBIAN_DIR)
            if all(f.present for f in debian) and all(c.ok for c, _ in _check_all(debian)):
                return DEBIAN_DIR
    if names:
        _download_missing(
            directory,
            names,
            mirrors=urls,
            progress=progress,
            timeout=TIMEOUT if timeout is None else timeout,
            explicit=explicit is not None,
            deadline=deadline,
        )
    return directory


# --------------------------------------------------------------------------- load


@dataclass(frozen=True, repr=False)
class FashionMNIST:
    """The data set in memory as CPU tensors.

    Images are ``torch.uint8`` of shape ``(N, 28, 28)`` (60,000 train, 10,000 test),
    labels ``torch.int64`` of shape ``(N,)`` with values 0-9 (see :data:`CLASS_NAMES`).
    ``source`` is the directory the files were read from.
    """

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    source: Path
    classes: tuple[str, ...] = CLASS_NAMES

    def __repr__(self) -> str:
        return (
            f"FashionMNIST(train={len(self.train_labels)}, test={len(self.test_labels)}, "
            f"source={str(self.source)!r})"
        )


def _mismatch_fix(st: DataStatus, path: Path) -> str:
    if st.origin == "debian":
        return "reinstall the package (apt-get install --reinstall dataset-fashion-mnist)"
    if st.explicit:
        return (
            f"replace it, or delete it and run `actviz data download --force "
            f"--data-dir {st.directory}`"
        )
    return "delete it, or run `actviz data download --force`"


def _resolve(
    data_dir: str | os.PathLike[str] | None,
    download: bool,
    mirrors: Iterable[str] | None,
    progress: ProgressCallback | None,
    timeout: float | None,
) -> DataStatus:
    st = status(data_dir)
    if st.complete:
        return st
    if not download:
        raise DataError(
            f"Fashion-MNIST not found: {st.directory} ({st.origin_text}) lacks "
            + ", ".join(st.missing)
            + f". To fix: {_fix_hint(st.directory, st.explicit)}, or allow the download"
        )
    _download_missing(
        st.directory,
        st.missing,
        mirrors=mirrors,
        progress=progress,
        timeout=TIMEOUT if timeout is None else timeout,
        explicit=st.explicit,
    )
    st = status(data_dir)
    if not st.complete:  # pragma: no cover - the download raised already
        raise DataError(f"{st.directory} still lacks " + ", ".join(st.missing))
    return st


def _arrays_from(
    st: DataStatus, results: list[tuple[FileCheck, _Contents | None]]
) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    for f, (check, contents) in zip(st.files, results, strict=True):
        assert f.path is not None
        if not check.ok or contents is None:
            raise DataError(f"{check.detail}. To fix: {_mismatch_fix(st, f.path)}")
        arrays[f.name] = _parse_idx(contents.buf, contents.length, f.path)
    paths = {f.name: f.path for f in st.files}
    for images_name, labels_name in ((TRAIN_IMAGES, TRAIN_LABELS), (TEST_IMAGES, TEST_LABELS)):
        images, labels = arrays[images_name], arrays[labels_name]
        if images.dtype.name != "uint8" or images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
            raise DataError(
                f"{paths[images_name]}: expected uint8 images of shape (N, 28, 28), "
                f"found {images.dtype.name} {images.shape}"
            )
        if labels.dtype.name != "uint8" or labels.shape != images.shape[:1]:
            raise DataError(
                f"{paths[labels_name]}: expected {images.shape[0]} uint8 labels, "
                f"found {labels.dtype.name} {labels.shape}"
            )
        if labels.size and int(labels.max()) >= len(CLASS_NAMES):
            raise DataError(f"{paths[labels_name]}: labels outside 0-9")
    return arrays


def load_arrays(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    progress: ProgressCallback | None = None,
    mirrors: Iterable[str] | None = None,
    timeout: float | None = None,
) -> tuple[dict[str, np.ndarray], Path]:
    """Like :func:`load`, but numpy arrays keyed by file name (labels stay uint8).

    Does not import torch.  Returns ``(arrays, source_directory)``.
    """
    st = _resolve(data_dir, download, mirrors, progress, timeout)
    return _arrays_from(st, _check_all(st.files)), st.directory


def load(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    progress: ProgressCallback | None = None,
    mirrors: Iterable[str] | None = None,
    timeout: float | None = None,
) -> FashionMNIST:
    """Find, verify and load Fashion-MNIST as tensors.

    ``data_dir`` (else ``ACTVIZ_DATA_DIR``) is the one directory used; files missing
    there are downloaded into it unless ``download`` is false.  Without either, the
    cache directory, then :data:`DEBIAN_DIR`, then a download into the cache.  Every
    file's decompressed SHA-256 is verified and its IDX header checked; any failure
    is a :class:`~actviz.core.errors.DataError` naming the file and the fix.

    The four files are decompressed and hashed in parallel threads (zlib and hashlib
    release the GIL), overlapping ``import torch`` when torch is not imported yet.
    The tensors share memory with the freshly decompressed buffers (no extra copy)
    and are writable.
    """
    st = _resolve(data_dir, download, mirrors, progress, timeout)
    files = list(st.files)
    workers = max(1, min(len(files), os.cpu_count() or 1))
    with ThreadPoolExecutor(workers, thread_name_prefix="actviz-data") as pool:
        futures = [pool.submit(_check, f) for f in files]
        import torch  # overlaps the decompression when torch is not imported yet

        results = [fut.result() for fut in futures]
    arrays = _arrays_from(st, results)
    return FashionMNIST(
        train_images=torch.from_numpy(arrays[TRAIN_IMAGES]),
        train_labels=torch.from_numpy(arrays[TRAIN_LABELS].astype("int64")),
        test_images=torch.from_numpy(arrays[TEST_IMAGES]),
        test_labels=torch.from_numpy(arrays[TEST_LABELS].astype("int64")),
        source=st.directory,
    )
