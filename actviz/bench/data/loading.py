"""Loading the set: find it (downloading what is missing), verify it, parse it into arrays.

Every file's decompressed SHA-256 is checked and its IDX header read before the data
is used; the images must be uint8 of the set's image shape, the labels uint8, one per
image, each below the number of classes.  Any failure is a
:class:`~actviz.core.errors.DataError` naming the file and the fix.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from actviz.bench.data.checksums import FileCheck, check, check_all
from actviz.bench.data.fetch import download_missing
from actviz.bench.data.formats import Contents, parse_idx
from actviz.bench.data.locate import DataStatus, fix_hint, status
from actviz.bench.data.registry import FASHION_MNIST
from actviz.bench.data.toy import TOY, ToyData, generate
from actviz.bench.data.transfer import ProgressCallback
from actviz.core.errors import DataError

if TYPE_CHECKING:
    import numpy as np
    import torch

__all__ = [
    "FashionMNIST",
    "load",
    "load_arrays",
]


@dataclass(frozen=True, repr=False)
class FashionMNIST:
    """The data set in memory as CPU tensors.

    Images are ``torch.uint8`` of shape ``(N, 28, 28)`` (60,000 train, 10,000 test),
    labels ``torch.int64`` of shape ``(N,)`` with values 0-9 (see ``CLASS_NAMES``).
    ``source`` is the directory the files were read from.
    """

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    source: Path
    classes: tuple[str, ...] = FASHION_MNIST.classes

    def __repr__(self) -> str:
        return (
            f"FashionMNIST(train={len(self.train_labels)}, test={len(self.test_labels)}, "
            f"source={str(self.source)!r})"
        )


def _mismatch_fix(st: DataStatus) -> str:
    if st.origin == "debian":
        return f"reinstall the package (apt-get install --reinstall {FASHION_MNIST.debian_package})"
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
    """The directory in use, once it holds all four files (downloading the missing ones if allowed)."""
    st = status(data_dir)
    if st.complete:
        return st
    if not download:
        raise DataError(
            f"{FASHION_MNIST.title} not found: {st.directory} ({st.origin_text}) lacks "
            + ", ".join(st.missing)
            + f". To fix: {fix_hint(st.directory, st.explicit)}, or allow the download"
        )
    download_missing(
        st.directory,
        st.missing,
        mirrors=mirrors,
        progress=progress,
        timeout=timeout,
        explicit=st.explicit,
    )
    st = status(data_dir)
    if not st.complete:  # pragma: no cover - the download raised already
        raise DataError(f"{st.directory} still lacks " + ", ".join(st.missing))
    return st


def _check_shapes(arrays: dict[str, np.ndarray], paths: dict[str, Path | None]) -> None:
    """Images of the set's shape and uint8, as many uint8 labels, each naming a class."""
    shape = FASHION_MNIST.image_shape
    for images_name, labels_name in FASHION_MNIST.splits:
        images, labels = arrays[images_name], arrays[labels_name]
        if images.dtype.name != "uint8" or images.ndim != 1 + len(shape) or images.shape[1:] != shape:
            raise DataError(
                f"{paths[images_name]}: expected uint8 images of shape (N, {', '.join(map(str, shape))}), "
                f"found {images.dtype.name} {images.shape}"
            )
        if labels.dtype.name != "uint8" or labels.shape != images.shape[:1]:
            raise DataError(
                f"{paths[labels_name]}: expected {images.shape[0]} uint8 labels, "
                f"found {labels.dtype.name} {labels.shape}"
            )
        if labels.size and int(labels.max()) >= len(FASHION_MNIST.classes):
            raise DataError(f"{paths[labels_name]}: labels outside 0-{len(FASHION_MNIST.classes) - 1}")


def _arrays_from(
    st: DataStatus, results: list[tuple[FileCheck, Contents | None]]
) -> dict[str, np.ndarray]:
    """The checked files' arrays by file name; a file that failed its check is a DataError."""
    arrays: dict[str, np.ndarray] = {}
    for f, (c, contents) in zip(st.files, results, strict=True):
        assert f.path is not None
        if not c.ok or contents is None:
            raise DataError(f"{c.detail}. To fix: {_mismatch_fix(st)}")
        arrays[f.name] = parse_idx(contents.buf, contents.length, f.path)
    _check_shapes(arrays, {f.name: f.path for f in st.files})
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
    return _arrays_from(st, check_all(st.files)), st.directory


def load(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    progress: ProgressCallback | None = None,
    mirrors: Iterable[str] | None = None,
    timeout: float | None = None,
    data: str | None = None,
    noise: float | None = None,
    samples: int | None = None,
) -> FashionMNIST | ToyData:
    """Find, verify and load Fashion-MNIST as tensors.

    ``data_dir`` (else ``ACTVIZ_DATA_DIR``) is the one directory used; files missing
    there are downloaded into it unless ``download`` is false.  Without either, the
    user cache directory, then the Debian directory, then a download into the cache.
    Every file's decompressed SHA-256 is verified and its IDX header checked; any
    failure is a :class:`~actviz.core.errors.DataError` naming the file and the fix.

    ``data`` naming a 2-D toy set (:data:`~actviz.bench.data.toy.TOY`) generates it
    instead, with ``noise`` and ``samples`` (:func:`~actviz.bench.data.toy.generate`).

    The four files are decompressed and hashed in parallel threads (zlib and hashlib
    release the GIL), overlapping ``import torch`` when torch is not imported yet.
    The tensors share memory with the freshly decompressed buffers (no extra copy)
    and are writable.
    """
    if data in TOY:
        return generate(data, noise, samples)
    st = _resolve(data_dir, download, mirrors, progress, timeout)
    files = list(st.files)
    workers = max(1, min(len(files), os.cpu_count() or 1))
    with ThreadPoolExecutor(workers, thread_name_prefix="actviz-data") as pool:
        futures = [pool.submit(check, f) for f in files]
        import torch  # overlaps the decompression when torch is not imported yet

        results = [fut.result() for fut in futures]
    arrays = _arrays_from(st, results)
    return FashionMNIST(
        train_images=torch.from_numpy(arrays[FASHION_MNIST.train_images]),
        train_labels=torch.from_numpy(arrays[FASHION_MNIST.train_labels].astype("int64")),
        test_images=torch.from_numpy(arrays[FASHION_MNIST.test_images]),
        test_labels=torch.from_numpy(arrays[FASHION_MNIST.test_labels].astype("int64")),
        source=st.directory,
    )
