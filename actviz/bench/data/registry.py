"""The data sets the data layer knows, as plain records.

A :class:`DataSet` says everything about one set that is not code: its file format,
the names of its files, the SHA-256 pinned for each file, the shape of one image, the
class names, the public mirrors it is downloaded from, and where a Debian/Ubuntu
package installs it (only Fashion-MNIST has one).  Adding a set stored in a known
format is one more record in :data:`DATASETS`; where each pin comes from is in
``docs/data.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "CIFAR10",
    "DATASETS",
    "FASHION_MNIST",
    "FORMATS",
    "KMNIST",
    "MNIST",
    "DataSet",
    "dataset",
]

#: The file formats the loader parses: four IDX files (the MNIST family), or the
#: CIFAR-10 "python version" tarball of pickled batches.
FORMATS = ("idx", "cifar-python")


@dataclass(frozen=True)
class DataSet:
    """One data set: its files, their pinned SHA-256, its images and classes, where it comes from.

    ``name`` is the set's folder name in the user cache (and what ``--data`` takes),
    ``title`` how messages name it.  ``files`` are the file names *without* ``.gz``;
    each is downloaded as ``name.gz`` from every base URL of ``mirrors`` in turn.
    For the ``idx`` format the four files are train images, train labels, test
    images, test labels; for ``cifar-python`` the one file is the tarball.

    A file verifies when its decompressed contents hash to ``sha256[name]`` or, for a
    gzipped copy, when the ``.gz`` file as served hashes to ``gz_sha256[name]``.  Either
    map may lack a file (a pin nobody published is never made up); a copy with no
    pin for its form does not verify.

    ``image_shape`` is one image as the loader returns it ((28, 28) or (3, 32, 32)),
    ``classes[i]`` the name of label ``i``.  ``debian_dir`` is where the Debian/Ubuntu
    package ``debian_package`` installs the files (None: no package).
    """

    name: str
    title: str
    format: str
    files: tuple[str, ...]
    sha256: dict[str, str] = field(compare=False)
    gz_sha256: dict[str, str] = field(compare=False)
    image_shape: tuple[int, ...]
    classes: tuple[str, ...]
    mirrors: tuple[str, ...]
    debian_dir: Path | None = None
    debian_package: str | None = None

    @property
    def n_classes(self) -> int:
        """How many classes the labels name."""
        return len(self.classes)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """One image as channels × height × width: (1, 28, 28) for the MNIST family, (3, 32, 32) for CIFAR-10."""
        return self.image_shape if len(self.image_shape) == 3 else (1, *self.image_shape)

    @property
    def train_images(self) -> str:
        return self.files[0]

    @property
    def train_labels(self) -> str:
        return self.files[1]

    @property
    def test_images(self) -> str:
        return self.files[2]

    @property
    def test_labels(self) -> str:
        return self.files[3]

    @property
    def splits(self) -> tuple[tuple[str, str], ...]:
        """``(images, labels)`` file names of the training and of the test split (IDX sets)."""
        return ((self.files[0], self.files[1]), (self.files[2], self.files[3]))


_IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
              "t10k-labels-idx1-ubyte")


def _idx_pins(*digests: str) -> dict[str, str]:
    return dict(zip(_IDX_FILES, digests, strict=True))


FASHION_MNIST = DataSet(
    name="fashion-mnist",
    title="Fashion-MNIST",
    format="idx",
    files=_IDX_FILES,
    sha256=_idx_pins(
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    ),
    gz_sha256=_idx_pins(
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    ),
    image_shape=(28, 28),
    classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
             "Ankle boot"),
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://ossci-datasets.s3.amazonaws.com/fashion-mnist/",
    ),
    debian_dir=Path("/usr/share/datasets/fashion-mnist"),
    debian_package="dataset-fashion-mnist",
)

MNIST = DataSet(
    name="mnist",
    title="MNIST",
    format="idx",
    files=_IDX_FILES,
    sha256={},
    gz_sha256=_idx_pins(
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ),
    image_shape=(28, 28),
    classes=tuple(str(d) for d in range(10)),
    mirrors=(
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
    ),
)

KMNIST = DataSet(
    name="kmnist",
    title="Kuzushiji-MNIST",
    format="idx",
    files=_IDX_FILES,
    sha256={},
    gz_sha256=_idx_pins(
        "51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4",
        "e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17",
        "edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5",
        "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c",
    ),
    image_shape=(28, 28),
    # the ten hiragana of Clanuwat et al. (2018), romanised as in the set's kmnist_classmap.csv
    classes=("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
    mirrors=("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",),
)

CIFAR10 = DataSet(
    name="cifar10",
    title="CIFAR-10",
    format="cifar-python",
    files=("cifar-10-python.tar",),
    sha256={},
    gz_sha256={"cifar-10-python.tar": "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"},
    image_shape=(3, 32, 32),
    classes=("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
    mirrors=("https://www.cs.toronto.edu/~kriz/",),
)

#: Every known set by :attr:`DataSet.name`, the default first.
DATASETS: dict[str, DataSet] = {d.name: d for d in (FASHION_MNIST, MNIST, KMNIST, CIFAR10)}


def dataset(name: str | DataSet | None = None) -> DataSet:
    """The record of ``name`` (a record passes through; None is Fashion-MNIST); an unknown name is a UsageError."""
    if name is None:
        return FASHION_MNIST
    if isinstance(name, DataSet):
        return name
    found = DATASETS.get(name)
    if found is None:
        from actviz.core.errors import UsageError
        from actviz.core.suggest import closest

        hint = closest(name.lower(), list(DATASETS), n=1)
        raise UsageError(
            f"--data: unknown data set {name!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
            + f"; known: {', '.join(DATASETS)}"
        )
    return found
