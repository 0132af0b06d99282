"""Loading a set: find it (downloading what is missing), verify it, parse it into arrays.

Every file is checked against its pinned SHA-256 and parsed by its format before the
data is used: IDX headers (:mod:`~actviz.bench.data.formats`) for the MNIST family, the
pickled batches of CIFAR-10's tarball through a restricted unpickler
(:mod:`~actviz.bench.data.cifar`).  The images must be uint8 of the set's image shape,
the labels one per image, each below the number of classes.  Any failure is a
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
from actviz.bench.data.registry import FASHION_MNIST, DataSet, dataset
from actviz.bench.data.toy import TOY, ToyData, generate
from actviz.bench.data.transfer import ProgressCallback
from actviz.core.errors import DataError

if TYPE_CHECKING:
    import numpy as np
    import torch

__all__ = [
    "SPLITS",
    "FashionMNIST",
    "ImageData",
    "load",
    "load_arrays",
]

#: The arrays a loaded set has, in order.
SPLITS = ("train_images", "train_labels", "test_images", "test_labels")


@dataclass(frozen=True, repr=False)
class ImageData:
    """A set in memory as CPU tensors: what the training engine is handed.

    Images are ``torch.uint8`` of shape ``(N, *image_shape)`` ((N, 28, 28) for the MNIST
    family, (N, 3, 32, 32) for CIFAR-10; the engine scales them by 1/255), labels
    ``torch.int64`` of shape ``(N,)`` naming ``classes``.  ``source`` is the directory
    the files were read from, ``dataset`` the set's record.
    """

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    source: Path
    dataset: DataSet = FASHION_MNIST

    @property
    def name(self) -> str:
        return self.dataset.name

    @property
    def classes(self) -> tuple[str, ...]:
        return self.dataset.classes

    @property
    def n_classes(self) -> int:
        return self.dataset.n_classes

    @property
    def input_shape(self) -> tuple[int, ...]:
        """One image's shape as the tensors hold it."""
        return tuple(self.train_images.shape[1:])

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.name}, train={len(self.train_labels)}, test={len(self.test_labels)}, "
            f"source={str(self.source)!r})"
        )


#: The name the Fashion-MNIST-only data layer gave the loaded set.
FashionMNIST = ImageData


def _mismatch_fix(st: DataStatus) -> str:
    d = st.dataset
    if st.origin == "debian":
        return f"reinstall the package (apt-get install --reinstall {d.debian_package})"
    flag = "" if d is FASHION_MNIST else f" --data {d.name}"
    if st.explicit:
        return (
            f"replace it, or delete it and run `actviz data download{flag} --force "
            f"--data-dir {st.directory}`"
        )
    return f"delete it, or run `actviz data download{flag} --force`"


def _resolve(
    data_dir: str | os.PathLike[str] | None,
    download: bool,
    mirrors: Iterable[str] | None,
    progress: ProgressCallback | None,
    timeout: float | None,
    d: DataSet,
) -> DataStatus:
    """The directory in use, once it holds all the set's files (downloading the missing ones if allowed)."""
    st = status(data_dir, d)
    if st.complete:
        return st
    if not download:
        raise DataError(
            f"{d.title} not found: {st.directory} ({st.origin_text}) lacks "
            + ", ".join(st.missing)
            + f". To fix: {fix_hint(st.directory, st.explicit, d)}, or allow the download"
        )
    download_missing(
        st.directory,
        st.missing,
        mirrors=mirrors,
        progress=progress,
        timeout=timeout,
        explicit=st.explicit,
        ds=d,
    )
    st = status(data_dir, d)
    if not st.complete:  # pragma: no cover - the download raised already
        raise DataError(f"{st.directory} still lacks " + ", ".join(st.missing))
    return st


def _check_shapes(arrays: dict[str, np.ndarray], where: dict[str, Path | str | None], d: DataSet) -> None:
    """Images of the set's shape and uint8, as many uint8 labels, each naming a class."""
    shape = d.image_shape
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.dtype.name != "uint8" or images.ndim != 1 + len(shape) or images.shape[1:] != shape:
            raise DataError(
                f"{where[f'{split}_images']}: expected uint8 images of shape (N, {', '.join(map(str, shape))}), "
                f"found {images.dtype.name} {images.shape}"
            )
        if labels.dtype.name != "uint8" or labels.shape != images.shape[:1]:
            raise DataError(
                f"{where[f'{split}_labels']}: expected {images.shape[0]} uint8 labels, "
                f"found {labels.dtype.name} {labels.shape}"
            )
        if labels.size and int(labels.max()) >= d.n_classes:
            raise DataError(f"{where[f'{split}_labels']}: labels outside 0-{d.n_classes - 1}")


def _arrays_from(
    st: DataStatus, results: list[tuple[FileCheck, Contents | None]]
) -> dict[str, np.ndarray]:
    """The checked files' arrays by split (:data:`SPLITS`); a file that failed its check is a DataError."""
    from actviz.bench.data.cifar import parse_cifar_tar

    d = st.dataset
    parsed: list[np.ndarray] = []
    for f, (c, contents) in zip(st.files, results, strict=True):
        assert f.path is not None
        if not c.ok or contents is None:
            raise DataError(f"{c.detail}. To fix: {_mismatch_fix(st)}")
        if d.format == "idx":
            parsed.append(parse_idx(contents.buf, contents.length, f.path))
        else:
            arrays = parse_cifar_tar(contents.buf, contents.length, f.path)
    if d.format == "idx":
        arrays = dict(zip(SPLITS, parsed, strict=True))
        where: dict[str, Path | str | None] = {s: f.path for s, f in zip(SPLITS, st.files, strict=True)}
    else:
        where = dict.fromkeys(SPLITS, st.files[0].path)
    _check_shapes(arrays, where, d)
    return arrays


def load_arrays(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    data: str | DataSet | None = None,
    download: bool = True,
    progress: ProgressCallback | None = None,
    mirrors: Iterable[str] | None = None,
    timeout: float | None = None,
) -> tuple[dict[str, np.ndarray], Path]:
    """Like :func:`load`, but numpy arrays keyed by :data:`SPLITS` (labels stay uint8).

    Does not import torch.  Returns ``(arrays, source_directory)``.
    """
    st = _resolve(data_dir, download, mirrors, progress, timeout, dataset(data))
    return _arrays_from(st, check_all(st.files, st.dataset)), st.directory


def load(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    data: str | DataSet | None = None,
    download: bool = True,
    progress: ProgressCallback | None = None,
    mirrors: Iterable[str] | None = None,
    timeout: float | None = None,
    noise: float | None = None,
    samples: int | None = None,
) -> ImageData | ToyData:
    """Find, verify and load the set ``data`` (a name of ``DATASETS``; default Fashion-MNIST) as tensors.

    ``data_dir`` (else, for Fashion-MNIST, ``ACTVIZ_DATA_DIR``) is the one directory
    used; files missing there are downloaded into it unless ``download`` is false.
    Without either, the set's user cache folder, then its Debian directory, then a
    download into the cache.  Every file is checked against its pinned SHA-256 and
    parsed by its format; any failure is a :class:`~actviz.core.errors.DataError`
    naming the file and the fix.

    ``data`` naming a 2-D toy set (:data:`~actviz.bench.data.toy.TOY`) generates it
    instead, with ``noise`` and ``samples`` (:func:`~actviz.bench.data.toy.generate`).

    The files are decompressed and hashed in parallel threads (zlib and hashlib
    release the GIL), overlapping ``import torch`` when torch is not imported yet.
    IDX tensors share memory with the freshly decompressed buffers (no extra copy)
    and are writable.
    """
    if data in TOY:
        return generate(data, noise, samples)
    d = dataset(data)
    st = _resolve(data_dir, download, mirrors, progress, timeout, d)
    files = list(st.files)
    workers = max(1, min(len(files), os.cpu_count() or 1))
    with ThreadPoolExecutor(workers, thread_name_prefix="actviz-data") as pool:
        futures = [pool.submit(check, f, d) for f in files]
        import torch  # overlaps the decompression when torch is not imported yet

        results = [fut.result() for fut in futures]
    arrays = _arrays_from(st, results)
    return ImageData(
        train_images=torch.from_numpy(arrays["train_images"]),
        train_labels=torch.from_numpy(arrays["train_labels"].astype("int64")),
        test_images=torch.from_numpy(arrays["test_images"]),
        test_labels=torch.from_numpy(arrays["test_labels"].astype("int64")),
        source=st.directory,
        dataset=d,
    )
