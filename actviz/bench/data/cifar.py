"""The CIFAR-10 "python version": a gzipped tarball of pickled batches, read without trusting pickle.

``cifar-10-python.tar.gz`` holds ``cifar-10-batches-py/data_batch_1`` ... ``_5`` (10,000
training images each), ``test_batch`` (10,000 test images) and ``batches.meta``.  Each
batch is a Python 2 pickle (protocol 2) of a dict with ``b"data"``, a uint8 numpy array
of shape (N, 3072) whose rows hold the red, green and blue 32×32 planes in turn, and
``b"labels"``, a list of N ints 0-9.

A pickle can run any code while it loads, so these files are never given to
:func:`pickle.load`: :class:`RestrictedUnpickler` resolves only the three globals a
batch needs (numpy's array reconstructor, ``numpy.ndarray`` and ``numpy.dtype``) and
refuses every other one, and the result is checked for exactly the expected shape and
types before it is used.  The tarball is read from memory; nothing is extracted to disk.
"""

from __future__ import annotations

import io
import pickle
import struct
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from actviz.core.errors import DataError

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "FOLDER",
    "TEST_BATCHES",
    "TRAIN_BATCHES",
    "RestrictedUnpickler",
    "batch_pickle",
    "parse_batch",
    "parse_cifar_tar",
    "write_cifar_tar",
]

#: The folder inside the tarball, and the batches of each split in order.
FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCHES = ("test_batch",)

_ROW = 3 * 32 * 32
#: The only globals a batch may name: (module, name).
ALLOWED = frozenset({
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
})


def _reconstruct() -> Any:
    try:
        from numpy._core.multiarray import _reconstruct as rec
    except ImportError:  # numpy 1.x
        from numpy.core.multiarray import _reconstruct as rec  # type: ignore[no-redef]
    return rec


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only :data:`ALLOWED` globals and no persistent ids.

    Any other global (``os.system``, ``builtins.eval``, ...) raises
    :class:`pickle.UnpicklingError` before it could be called.
    """

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in ALLOWED:
            raise pickle.UnpicklingError(f"refusing the global {module}.{name} (not part of a CIFAR batch)")
        import numpy as np

        return {"_reconstruct": _reconstruct(), "ndarray": np.ndarray, "dtype": np.dtype}[name]

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("refusing a persistent id (not part of a CIFAR batch)")


def parse_batch(blob: bytes | memoryview, where: str) -> tuple[np.ndarray, np.ndarray]:
    """One batch's images ``(N, 3, 32, 32)`` uint8 and labels ``(N,)`` uint8; anything else is a DataError."""
    import numpy as np

    try:
        batch = RestrictedUnpickler(io.BytesIO(blob), encoding="bytes").load()
    except DataError:
        raise
    except Exception as exc:  # an unpickling error of any kind: the file is not a CIFAR batch
        raise DataError(f"{where}: not a CIFAR-10 batch ({exc})") from None
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise DataError(f"{where}: not a CIFAR-10 batch (no data and labels)")
    images, labels = batch[b"data"], batch[b"labels"]
    if not (isinstance(images, np.ndarray) and images.dtype == np.uint8 and images.ndim == 2
            and images.shape[1] == _ROW):
        found = f"{images.dtype} {images.shape}" if isinstance(images, np.ndarray) else type(images).__name__
        raise DataError(f"{where}: expected uint8 images of shape (N, {_ROW}), found {found}")
    if not isinstance(labels, list) or len(labels) != len(images) or not all(
        type(v) is int and 0 <= v < 10 for v in labels
    ):
        raise DataError(f"{where}: expected {len(images)} labels 0-9")
    return images.reshape(-1, 3, 32, 32), np.asarray(labels, dtype=np.uint8)


class _View:
    """A read-only, seekable file over a buffer without copying it (what :mod:`tarfile` needs to list members)."""

    def __init__(self, view: memoryview) -> None:
        self.view, self.pos = view, 0

    def read(self, n: int | None = -1) -> bytes:
        end = len(self.view) if n is None or n < 0 else min(self.pos + n, len(self.view))
        out = bytes(self.view[self.pos : end])
        self.pos = end
        return out

    def seek(self, pos: int, whence: int = 0) -> int:
        self.pos = max(0, pos + (0, self.pos, len(self.view))[whence])
        return self.pos

    def tell(self) -> int:
        return self.pos


def parse_cifar_tar(buf: Any, length: int, path: Path | str) -> dict[str, np.ndarray]:
    """The tarball's (decompressed: ``buf[:length]``) arrays: ``train_images``, ``train_labels``, ``test_images``, ``test_labels``."""
    import numpy as np

    view = memoryview(buf)[:length]
    try:
        with tarfile.open(fileobj=_View(view), mode="r:") as tar:  # type: ignore[call-overload]
            members = {m.name: m for m in tar.getmembers() if m.isfile()}
    except tarfile.TarError as exc:
        raise DataError(f"{path}: not a tar archive ({exc})") from None
    out: dict[str, np.ndarray] = {}
    for split, names in (("train", TRAIN_BATCHES), ("test", TEST_BATCHES)):
        images, labels = [], []
        for name in names:
            m = members.get(f"{FOLDER}/{name}")
            if m is None:
                raise DataError(f"{path}: {FOLDER}/{name} is missing from the archive")
            x, y = parse_batch(view[m.offset_data : m.offset_data + m.size], f"{path}:{FOLDER}/{name}")
            images.append(x)
            labels.append(y)
        out[f"{split}_images"] = images[0] if len(images) == 1 else np.concatenate(images)
        out[f"{split}_labels"] = labels[0] if len(labels) == 1 else np.concatenate(labels)
    return out


# --------------------------------------------------------------------------- writing (tests, benchmarks)


def _py2_str(b: bytes) -> bytes:
    """A Python 2 ``str`` in pickle protocol 2 (what the real batches hold)."""
    return b"U" + bytes([len(b)]) + b if len(b) < 256 else b"T" + struct.pack("<I", len(b)) + b


def _py2_array(images: np.ndarray) -> bytes:
    """A uint8 2-D numpy array pickled as Python 2's numpy did."""
    shape = b"".join(b"J" + struct.pack("<i", n) for n in images.shape)
    dtype = (b"cnumpy\ndtype\n" + _py2_str(b"u1") + b"\x89\x88\x87R"
             + b"(K\x03" + _py2_str(b"|") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb")
    return (b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85" + _py2_str(b"b") + b"\x87R"
            + b"(K\x01" + shape + b"\x86" + dtype + b"\x89" + _py2_str(images.tobytes()) + b"tb")


def batch_pickle(images: Any, labels: Any, label: str = "synthetic batch") -> bytes:
    """A batch in the real files' format: a Python 2 protocol-2 pickle of the dict described above."""
    import numpy as np

    rows = np.ascontiguousarray(images, dtype=np.uint8).reshape(len(images), _ROW)
    ints = b"".join(b"K" + bytes([int(v)]) for v in labels)
    names = b"".join(_py2_str(f"img_{i}.png".encode()) for i in range(len(rows)))
    return (b"\x80\x02}(" + _py2_str(b"batch_label") + _py2_str(label.encode())
            + _py2_str(b"labels") + b"](" + ints + b"e" + _py2_str(b"data") + _py2_array(rows)
            + _py2_str(b"filenames") + b"](" + names + b"e" + b"u.")


def write_cifar_tar(path: str | Path, train: tuple[Any, Any], test: tuple[Any, Any]) -> Path:
    """Write a gzipped tarball in the real layout: the training split cut into five batches, one test batch."""
    import gzip

    import numpy as np

    p = Path(path)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        chunks = zip(np.array_split(np.asarray(train[0]), 5), np.array_split(np.asarray(train[1]), 5), strict=True)
        blobs = [(n, batch_pickle(x, y, f"training batch {i + 1} of 5"))
                 for i, (n, (x, y)) in enumerate(zip(TRAIN_BATCHES, chunks, strict=True))]
        blobs.append((TEST_BATCHES[0], batch_pickle(test[0], test[1], "testing batch 1 of 1")))
        for name, blob in blobs:
            info = tarfile.TarInfo(f"{FOLDER}/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    p.write_bytes(gzip.compress(out.getvalue(), mtime=0))
    return p
