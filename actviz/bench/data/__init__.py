"""The data sets (Fashion-MNIST, MNIST, Kuzushiji-MNIST, CIFAR-10): finding, fetching, verifying, loading.

Each set is a record in :data:`DATASETS` (its files, pinned SHA-256, image shape,
classes, mirrors); every function takes the set as ``data=``/``ds=`` (a name or a
record), Fashion-MNIST by default.  Where a set comes from, in this order:

1. an explicit ``data_dir`` argument (the CLI's ``--data-dir``), else
2. for Fashion-MNIST, the ``ACTVIZ_DATA_DIR`` environment variable.

   Either of these is *the* one place used: files missing there are downloaded
   into it, and if that fails it is a :class:`~actviz.core.errors.DataError`; another
   copy is never read silently.

3. Without either: the set's user cache folder (``$XDG_CACHE_HOME/actviz/NAME``,
   by default ``~/.cache/actviz/NAME``), then
4. for Fashion-MNIST, ``/usr/share/datasets/fashion-mnist`` (Debian/Ubuntu package
   ``dataset-fashion-mnist``), and otherwise
5. a download of the set's files from its public mirrors into the cache folder.

A directory holds the set only if all its files are there, each either gzipped
(``name.gz``) or plain (``name``); when both are present the plain one is used.
Whatever the source, each file is checked against its pinned SHA-256 on every load,
before the data is used.

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

The package's modules, one job each:

* :mod:`~actviz.bench.data.registry` -- the data sets as plain records (file names,
  checksums, shapes, class names, mirrors, Debian directory);
* :mod:`~actviz.bench.data.locate` -- which directory is used and what it holds;
* :mod:`~actviz.bench.data.formats` -- gzip and IDX, read with their SHA-256;
* :mod:`~actviz.bench.data.cifar` -- CIFAR-10's tarball of pickled batches, through a
  restricted unpickler;
* :mod:`~actviz.bench.data.checksums` -- checking the files against the recorded SHA-256;
* :mod:`~actviz.bench.data.transfer` -- one URL into one file, within a deadline;
* :mod:`~actviz.bench.data.fetch` -- downloading the set from the mirrors;
* :mod:`~actviz.bench.data.loading` -- verified arrays and tensors.

The names below are the public interface; settings a test or a caller changes
(:data:`DEBIAN_DIR`, :data:`MIRRORS`, the default progress) are read where they are
defined (``locate.DEBIAN_DIR``, ``fetch.MIRRORS``), so patch them there.
This package imports neither torch nor numpy at import time.
"""

from __future__ import annotations

from actviz.bench.data.checksums import SHA256, FileCheck, verify
from actviz.bench.data.fetch import (
    ENV_MIRRORS,
    MIRRORS,
    MIRRORS_OF,
    download,
    mirrors_in_use,
    set_default_progress,
)
from actviz.bench.data.formats import read_idx, write_idx
from actviz.bench.data.loading import SPLITS, FashionMNIST, ImageData, load, load_arrays
from actviz.bench.data.locate import (
    APT_HINT,
    DEBIAN_DIR,
    DEBIAN_DIRS,
    ENV_DATA_DIR,
    ORIGINS,
    DataStatus,
    FileStatus,
    cache_dir,
    status,
)
from actviz.bench.data.registry import CIFAR10, DATASETS, FASHION_MNIST, KMNIST, MNIST, DataSet, dataset
from actviz.bench.data.transfer import (
    DEADLINE,
    ENV_DEADLINE,
    TIMEOUT,
    ProgressCallback,
    deadline_seconds,
)

__all__ = [
    "APT_HINT",
    "CIFAR10",
    "CLASS_NAMES",
    "DATASETS",
    "DEADLINE",
    "DEBIAN_DIR",
    "DEBIAN_DIRS",
    "ENV_DATA_DIR",
    "ENV_DEADLINE",
    "ENV_MIRRORS",
    "FASHION_MNIST",
    "FILES",
    "IMAGE_SHAPE",
    "KMNIST",
    "MIRRORS",
    "MIRRORS_OF",
    "MNIST",
    "ORIGINS",
    "SHA256",
    "SPLITS",
    "TEST_IMAGES",
    "TEST_LABELS",
    "TIMEOUT",
    "TRAIN_IMAGES",
    "TRAIN_LABELS",
    "DataSet",
    "DataStatus",
    "FashionMNIST",
    "FileCheck",
    "FileStatus",
    "ImageData",
    "ProgressCallback",
    "cache_dir",
    "dataset",
    "deadline_seconds",
    "download",
    "load",
    "load_arrays",
    "mirrors_in_use",
    "read_idx",
    "set_default_progress",
    "status",
    "verify",
    "title",
    "write_idx",
]

TRAIN_IMAGES = FASHION_MNIST.train_images
TRAIN_LABELS = FASHION_MNIST.train_labels
TEST_IMAGES = FASHION_MNIST.test_images
TEST_LABELS = FASHION_MNIST.test_labels

#: The four files of the set, without the ``.gz`` suffix.
FILES: tuple[str, ...] = FASHION_MNIST.files

#: Label ``i`` is ``CLASS_NAMES[i]``.
CLASS_NAMES: tuple[str, ...] = FASHION_MNIST.classes

#: The shape of one image.
IMAGE_SHAPE: tuple[int, ...] = FASHION_MNIST.image_shape


def title(name: str) -> str:
    """How a data set is named in titles: a registered set's title, a 2-D toy problem's, else ``name`` itself."""
    from actviz.bench.data.toy import TOY

    if name in DATASETS:
        return DATASETS[name].title
    return TOY[name].title if name in TOY else str(name)
