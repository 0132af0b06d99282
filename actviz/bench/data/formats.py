"""The file formats: gzip (one or more members) and IDX, read with their SHA-256.

IDX is the format of the MNIST family: a 4-byte magic number (two zero bytes, a
type code, the number of dimensions), each dimension as a big-endian 32-bit
unsigned integer, then the values in C order, big-endian.  The type codes are
``0x08`` uint8, ``0x09`` int8, ``0x0B`` int16, ``0x0C`` int32, ``0x0D`` float32 and
``0x0E`` float64.

Reading a file gives its decompressed contents in one writable buffer together with
their SHA-256, computed as the pieces come out of the inflater.  Special files (a
FIFO, a device) are an error, never a read that waits forever.  numpy is imported
only by the functions that make arrays.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import struct
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from actviz.core.errors import DataError, UsageError
from actviz.core.files import open_regular

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "Contents",
    "parse_idx",
    "read_contents",
    "read_idx",
    "write_idx",
]

_CHUNK = 1 << 20  # compressed bytes fed to the inflater per call

IDX_TYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


@dataclass
class Contents:
    """A file's decompressed contents (``buf[:length]``) and their SHA-256."""

    buf: bytearray
    length: int
    sha256: str


class _Sink:
    """Collects decompressed pieces into one preallocated, writable buffer and hashes them."""

    def __init__(self, size_hint: int) -> None:
        self.buf = bytearray(max(size_hint, 1))
        self.view = memoryview(self.buf)
        self.length = 0
        self.sha = hashlib.sha256()

    def write(self, piece: bytes) -> None:
        n = len(piece)
        if not n:
            return
        end = self.length + n
        if end > len(self.buf):  # the size hint was short: grow (at least double)
            self.view.release()
            self.buf.extend(bytes(max(end, 2 * len(self.buf)) - len(self.buf)))
            self.view = memoryview(self.buf)
        self.view[self.length : end] = piece
        self.length = end
        self.sha.update(piece)

    def finish(self) -> str:
        """Release the buffer's view and return the hex digest."""
        self.view.release()
        return self.sha.hexdigest()


def _map_file(f: Any, size: int) -> mmap.mmap | bytes:
    if size == 0:
        return b""
    try:
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return f.read()


def _inflate(src: bytes | mmap.mmap, path: Path) -> Contents:
    """Decompress gzip data (one or more members), hashing as it goes."""
    size = len(src)
    if size < 18 or src[:2] != b"\x1f\x8b":
        raise DataError(f"{path} is not a gzip file (corrupt or truncated)")
    # ISIZE, the last member's length mod 2**32: exact for these files, else a hint
    # (capped, so that a corrupt trailer cannot make us allocate gigabytes up front).
    hint = min(struct.unpack("<I", src[size - 4 :])[0], 16 * size + (1 << 20))
    sink = _Sink(hint)
    view = memoryview(src)
    try:
        dec = zlib.decompressobj(31)
        pos = 0
        while pos < size:
            with view[pos : pos + _CHUNK] as chunk:  # released even on error
                sink.write(dec.decompress(chunk))
                pos += len(chunk)
            if dec.eof:
                pos -= len(dec.unused_data)
                if pos < size and any(src[pos : pos + 512]):
                    dec = zlib.decompressobj(31)  # another gzip member follows
                else:
                    break
        sink.write(dec.flush())
        complete = dec.eof
    except (zlib.error, EOFError) as exc:
        raise DataError(f"{path} is corrupt (bad gzip data: {exc})") from None
    finally:
        view.release()
        digest = sink.finish()
    if not complete:
        raise DataError(f"{path} is truncated (the gzip stream ends early)")
    return Contents(sink.buf, sink.length, digest)


def _read_plain(f: Any, size: int) -> Contents:
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
    return Contents(buf, got, digest)


def read_contents(path: Path, compressed: bool) -> Contents:
    """Read a file, decompress it if gzipped, and hash the decompressed contents.

    FIFOs, devices and sockets are refused without blocking on them; any failure is a
    :class:`~actviz.core.errors.DataError` naming the file.
    """
    f = open_regular(path, error=DataError)
    try:
        with f:
            size = os.fstat(f.fileno()).st_size
            if not compressed:
                return _read_plain(f, size)
            src = _map_file(f, size)
            try:
                return _inflate(src, path)
            finally:
                if isinstance(src, mmap.mmap):
                    src.close()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None


def parse_idx(buf: Any, length: int, path: Path | str) -> np.ndarray:
    """The array in an IDX file's contents (``buf[:length]``); a malformed header is a DataError."""
    import numpy as np

    if length < 4:
        raise DataError(f"{path}: not an IDX file (only {length} bytes)")
    head = bytes(buf[:4])
    if head[0] != 0 or head[1] != 0 or head[2] not in IDX_TYPES or not 1 <= head[3] <= 16:
        raise DataError(f"{path}: not an IDX file (bad magic number 0x{head.hex()})")
    dtype = np.dtype(IDX_TYPES[head[2]])
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
    contents = read_contents(p, p.suffix == ".gz")
    return parse_idx(contents.buf, contents.length, p)


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
    codes = {np.dtype(v).newbyteorder("="): k for k, v in IDX_TYPES.items()}
    native = a.dtype.newbyteorder("=")
    if native not in codes:
        raise UsageError(f"IDX cannot hold dtype {a.dtype}")
    if not 1 <= a.ndim <= 16:
        raise UsageError(f"IDX needs 1 to 16 dimensions, not {a.ndim}")
    code = codes[native]
    data = (
        struct.pack(f">BBBB{a.ndim}I", 0, 0, code, a.ndim, *a.shape)
        + np.ascontiguousarray(a, dtype=np.dtype(IDX_TYPES[code])).tobytes()
    )
    if compress is None:
        compress = p.suffix == ".gz"
    p.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    return p
