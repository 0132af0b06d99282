"""The data sets the data layer knows, as plain records.

A :class:`DataSet` says everything about one set that is not code: the names of its
files, the SHA-256 of each file's decompressed contents, the shape of one image, the
class names, the public mirrors it is downloaded from, and where a Debian/Ubuntu
package installs it.  Today there is one, :data:`FASHION_MNIST`; another set stored
the same way (four IDX files, gzipped on the mirrors) is one more record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "DATASETS",
    "FASHION_MNIST",
    "DataSet",
]


@dataclass(frozen=True)
class DataSet:
    """One data set of four IDX files: train images and labels, test images and labels.

    ``name`` is the set's directory name (in the user cache and under
    ``/usr/share/datasets``), ``title`` how messages name it.  ``sha256`` maps each file
    name (without ``.gz``) to the SHA-256 of its *decompressed* contents.  ``mirrors``
    are base URLs to which ``name.gz`` is appended, tried in order.  ``debian_dir`` is
    where the Debian/Ubuntu package ``debian_package`` installs the files.  Label ``i``
    is ``classes[i]``.
    """

    name: str
    title: str
    train_images: str
    train_labels: str
    test_images: str
    test_labels: str
    sha256: dict[str, str] = field(compare=False)
    image_shape: tuple[int, ...]
    classes: tuple[str, ...]
    mirrors: tuple[str, ...]
    debian_dir: Path
    debian_package: str

    @property
    def files(self) -> tuple[str, ...]:
        """The four file names (without ``.gz``): train images, train labels, test images, test labels."""
        return (self.train_images, self.train_labels, self.test_images, self.test_labels)

    @property
    def splits(self) -> tuple[tuple[str, str], ...]:
        """``(images, labels)`` file names of the training and of the test split."""
        return ((self.train_images, self.train_labels), (self.test_images, self.test_labels))


FASHION_MNIST = DataSet(
    name="fashion-mnist",
    title="Fashion-MNIST",
    train_images="train-images-idx3-ubyte",
    train_labels="train-labels-idx1-ubyte",
    test_images="t10k-images-idx3-ubyte",
    test_labels="t10k-labels-idx1-ubyte",
    sha256={
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
    image_shape=(28, 28),
    classes=(
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
    ),
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://ossci-datasets.s3.amazonaws.com/fashion-mnist/",
    ),
    debian_dir=Path("/usr/share/datasets/fashion-mnist"),
    debian_package="dataset-fashion-mnist",
)

#: Every known set by :attr:`DataSet.name`.
DATASETS: dict[str, DataSet] = {FASHION_MNIST.name: FASHION_MNIST}
