"""Two-dimensional toy problems: ``spirals``, ``moons``, ``circles``, ``xor``, ``blobs``.

The points are generated, never downloaded, and the same for every run: the generator
is seeded with a fixed *data seed* (:data:`DATA_SEED`) and the set's name, not with the
run's seed.  Every activation and every seed of a comparison therefore trains and is
tested on the same points; the run's seed changes only the initial weights and the
order of the mini-batches, as it does on Fashion-MNIST.

* ``samples`` is the number of training points; the test set is as many other points
  drawn from the same distribution (an independent stream of the same data seed).
* Classes are balanced exactly (``samples // k`` per class, the remainder to the first
  classes); the points are shuffled.  Two classes for all but ``blobs``, which has
  :data:`BLOB_CLASSES`.
* ``noise`` is the standard deviation of Gaussian jitter added to each coordinate (for
  ``blobs``: each blob's standard deviation), in the units of the points.
* Scaling: the noise-free points lie in about [-1, 1]² (centred, unit scale), which is
  what a network with default initialisation expects; they are used as they are
  (float32), not standardised again.

Each set carries the training defaults that make it learnable in seconds
(:meth:`ToySet.training_defaults`: two hidden layers of 32 units, Xavier
initialisation, plain SGD with learning rate 0.5, 40 epochs of batches of 25, one CPU
thread; plain SGD because Adam's first use costs torch seconds of imports, one thread
because matrices this small only lose time to synchronising threads); ``actviz compare --data spirals`` uses them for every option the user did not
set.  Importing this module is cheap (numpy and torch are imported when points are made).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from actviz.bench.config import TOY_DATA, TOY_SAMPLES, check_field
from actviz.core.errors import UsageError

if TYPE_CHECKING:
    import numpy as np
    import torch

__all__ = ["BLOB_CLASSES", "DATA_SEED", "TOY", "ToyData", "ToySet", "generate", "points"]

#: the seed of every toy set's points (with the set's name): the same points for every run
DATA_SEED = 0
#: the number of classes (and blobs) of ``blobs``
BLOB_CLASSES = 3

#: what trains a toy set in seconds: a small network, many epochs of small batches
_TOY_DEFAULTS: dict[str, Any] = {"hidden": 32, "depth": 2, "lr": 0.5, "batch_size": 25, "optimizer": "sgd",
                                 "epochs": 40, "init": "xavier", "probe_size": 256, "threads": 1}


def _angles(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.uniform(0.0, 1.0, n)


def _spiral(rng: np.random.Generator, n: int, c: int, k: int) -> np.ndarray:
    """Arm ``c`` of ``k`` interleaved spirals (TensorFlow Playground's, 1.75 turns), radius up to 1."""
    import numpy as np

    t = np.sqrt(_angles(rng, n))  # uniform density along the arm's area
    theta = 1.75 * 2 * math.pi * t + 2 * math.pi * c / k
    return np.stack([t * np.sin(theta), t * np.cos(theta)], axis=1)


def _moon(rng: np.random.Generator, n: int, c: int, k: int) -> np.ndarray:
    """scikit-learn's two moons, centred at the origin and scaled to about [-1, 1] × [-0.5, 0.5]."""
    import numpy as np

    a = math.pi * _angles(rng, n)
    if c == 0:
        x, y = np.cos(a), np.sin(a)
    else:
        x, y = 1 - np.cos(a), 0.5 - np.sin(a)
    return np.stack([(x - 0.5) / 1.5, (y - 0.25) / 1.5], axis=1)


def _circle(rng: np.random.Generator, n: int, c: int, k: int) -> np.ndarray:
    """Class 0 a disc of radius 0.5, class 1 a ring from 0.7 to 1 (TensorFlow Playground's circle)."""
    import numpy as np

    r = 0.5 * np.sqrt(_angles(rng, n)) if c == 0 else 0.7 + 0.3 * _angles(rng, n)
    a = 2 * math.pi * _angles(rng, n)
    return np.stack([r * np.cos(a), r * np.sin(a)], axis=1)


def _xor(rng: np.random.Generator, n: int, c: int, k: int) -> np.ndarray:
    """Class 0 the quadrants where x·y > 0, class 1 the others; points keep 0.05 from the axes."""
    import numpy as np

    mag = 0.05 + 0.95 * rng.uniform(0.0, 1.0, (n, 2))
    sx = rng.choice([-1.0, 1.0], n)
    sy = sx if c == 0 else -sx
    return mag * np.stack([sx, sy], axis=1)


def _blob(rng: np.random.Generator, n: int, c: int, k: int) -> np.ndarray:
    """Blob ``c``: centred on the circle of radius 0.7, spread by the noise alone."""
    import numpy as np

    a = 2 * math.pi * c / k + math.pi / 2
    return np.tile([0.7 * math.cos(a), 0.7 * math.sin(a)], (n, 1))


@dataclass(frozen=True)
class ToySet:
    """One toy problem as a plain record: its generator of one class, classes, default noise and samples.

    ``make(rng, n, c, k)`` returns ``n`` noise-free points of class ``c`` of ``k``.
    ``defaults`` are :class:`~actviz.bench.config.TrainConfig` values that train it in
    seconds (``noise`` and ``samples`` among them).
    """

    name: str
    title: str
    make: Callable[[Any, int, int, int], Any]
    classes: int = 2
    noise: float = 0.05
    samples: int = 500
    defaults: dict[str, Any] = field(default_factory=dict, compare=False)

    def training_defaults(self) -> dict[str, Any]:
        """Every default: the toy training setup, this set's noise and samples, and its own changes."""
        return {**_TOY_DEFAULTS, "noise": self.noise, "samples": self.samples, **self.defaults}


TOY: dict[str, ToySet] = {
    s.name: s for s in (
        ToySet("spirals", "two spirals", _spiral, noise=0.03),
        ToySet("moons", "two moons", _moon, noise=0.08),
        ToySet("circles", "circle in a ring", _circle, noise=0.05),
        ToySet("xor", "exclusive or", _xor, noise=0.05),
        ToySet("blobs", "Gaussian blobs", _blob, classes=BLOB_CLASSES, noise=0.25, defaults={"epochs": 10}),
    )
}
assert tuple(TOY) == TOY_DATA, "the toy sets and the configuration's choices must agree"


@dataclass(frozen=True, repr=False)
class ToyData:
    """A toy set in memory: float32 points ``(N, 2)`` and int64 labels, as the engine takes them.

    ``n_classes`` classes named ``classes``; ``source`` says how the points were made.
    """

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    name: str
    n_classes: int
    noise: float
    samples: int
    classes: tuple[str, ...]
    source: str

    def __repr__(self) -> str:
        return f"ToyData({self.name}, train={len(self.train_labels)}, test={len(self.test_labels)})"


def _check(name: str, noise: float, samples: int) -> ToySet:
    if name not in TOY:
        raise UsageError(f"--data {name!r} is not a toy set (one of {', '.join(TOY)})")
    check_field("noise", noise)
    check_field("samples", samples)
    return TOY[name]


def points(name: str, noise: float | None = None, samples: int | None = None,
           split: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``samples`` points of the set (float32 ``(N, 2)``) and their labels (int64), balanced and shuffled.

    ``split`` 0 is the training set, 1 the test set: independent streams of the data seed.
    ``noise`` and ``samples`` default to the set's own.
    """
    import numpy as np

    toy = TOY.get(name)
    noise = toy.noise if toy is not None and noise is None else noise
    samples = toy.samples if toy is not None and samples is None else samples
    toy = _check(name, noise, samples)  # type: ignore[arg-type]
    rng = np.random.default_rng([DATA_SEED, zlib.crc32(name.encode()), split])
    k = toy.classes
    counts = [samples // k + (c < samples % k) for c in range(k)]
    xs = [toy.make(rng, n, c, k) for c, n in enumerate(counts)]
    x = np.concatenate(xs) + noise * rng.standard_normal((samples, 2))
    y = np.repeat(np.arange(k), counts)
    order = rng.permutation(samples)
    return x[order].astype(np.float32), y[order].astype(np.int64)


def generate(name: str, noise: float | None = None, samples: int | None = None) -> ToyData:
    """The toy set ``name`` as tensors (training and test points); the same every call."""
    import torch

    toy = TOY[name] if name in TOY else _check(name, 0.0, TOY_SAMPLES[0])
    noise = toy.noise if noise is None else float(noise)
    samples = toy.samples if samples is None else samples
    (xt, yt), (xv, yv) = points(name, noise, samples, 0), points(name, noise, samples, 1)
    return ToyData(
        train_images=torch.from_numpy(xt), train_labels=torch.from_numpy(yt),
        test_images=torch.from_numpy(xv), test_labels=torch.from_numpy(yv),
        name=name, n_classes=toy.classes, noise=noise, samples=samples,
        classes=tuple(f"class {c}" for c in range(toy.classes)),
        source=f"generated: {name}, noise {noise:g}, {samples} training + {samples} test points, "
               f"data seed {DATA_SEED}",
    )
