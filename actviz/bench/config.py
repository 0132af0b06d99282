"""What a training run is asked to do: :class:`TrainConfig`, its choices, and its one validation.

Importing this module is cheap (no torch): the command line takes the choice lists
from here and lets :meth:`TrainConfig.validate` (or :func:`check_field`, one value at a
time) judge every value.  A bad value raises :class:`ConfigError`, a
:class:`~actviz.core.errors.UsageError` that names the field (``hidden must be >= 1,
got 0``); the command line reports it under the option's name (``--hidden must be >= 1,
got 0``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from actviz.core.errors import UsageError

__all__ = ["DATA", "DEVICES", "INITS", "MAX_SEED", "MODELS", "NORMS", "OPTIMIZERS", "PRECISIONS", "TOY_DATA",
           "TOY_SAMPLES", "ConfigError", "TrainConfig", "check_field", "data_source"]

OPTIMIZERS = ("sgd", "adam")
#: weight initialisations: ``normal`` is d2l's N(0, 0.01²) with zero biases; ``constant`` sets every
#: weight to the same value (the symmetric start that never breaks; the symmetry lesson's)
INITS = ("normal", "xavier", "xavier_normal", "kaiming", "kaiming_uniform", "torch", "constant")
#: the networks (``actviz.bench.nets``): d2l's MLP, d2l's LeNet-5, a small CNN with batch norm
MODELS = ("mlp", "lenet", "cnn")
#: the MLP's normalisation of each hidden layer's pre-activations
NORMS = ("none", "batch", "layer")
#: ``auto``: CUDA when available, else the CPU
DEVICES = ("auto", "cpu", "cuda")
#: matrix-product precision: ``fp32`` exact float32; ``tf32`` CUDA's TensorFloat-32 (nothing on the CPU);
#: ``bf16`` bfloat16 operands accumulated in float32, float32 master weights
PRECISIONS = ("fp32", "tf32", "bf16")
#: the 2-D toy problems (generated, :mod:`actviz.bench.data.toy`)
TOY_DATA = ("spirals", "moons", "circles", "xor", "blobs")
#: the data sets ``--data`` names
DATA = ("fashion-mnist", "mnist", "kmnist", "cifar10", *TOY_DATA)
#: the fewest and the most training points of a toy set
TOY_SAMPLES = (8, 1_000_000)
#: the largest seed: torch.manual_seed takes seeds up to 2**64 - 1; they are kept signed-64-bit
MAX_SEED = 2**63 - 1


class ConfigError(UsageError):
    """A training setting out of range: ``field`` (of :class:`TrainConfig`), its ``value``, the ``problem``.

    ``str(error)`` is ``"<field> <problem>"``, e.g. ``"hidden must be >= 1, got 0"``.
    """

    def __init__(self, field: str, problem: str, value: Any = None):
        super().__init__(f"{field} {problem}")
        self.field = field
        self.problem = problem
        self.value = value


def _problem(field: str, value: Any, choices: tuple[str, ...] | None) -> str | None:
    """What is wrong with ``value`` for ``field`` (None: nothing)."""
    if field == "epochs":
        return None if isinstance(value, int) and value >= 1 else f"must be >= 1, got {value}"
    if field in ("hidden", "batch_size", "probe_size"):
        return None if value >= 1 else f"must be >= 1, got {value}"
    if field == "depth":
        return None if value >= 0 else f"must be >= 0 (0: softmax regression), got {value}"
    if field == "lr":
        return None if math.isfinite(value) and value > 0 else f"must be a positive number, got {value}"
    if field == "learn_lr":
        return None if value is None or (math.isfinite(value) and value > 0) else \
            f"must be a positive number, got {value}"
    if field == "learn":
        from actviz.bench.learn import canonical, parse

        try:
            text = canonical(parse(value))
        except UsageError as exc:
            return f"is not a --learn setting: {exc}"
        return None if text == value else f"must be in canonical form {text!r}, got {value!r}"
    if field == "threads":
        return None if value is None or value >= 1 else f"must be >= 1, got {value}"
    if field == "noise":
        return None if value is None or (math.isfinite(value) and 0 <= value <= 10) else \
            f"must be a number from 0 to 10, got {value}"
    if field == "samples":
        lo, hi = TOY_SAMPLES
        return None if value is None or (isinstance(value, int) and lo <= value <= hi) else \
            f"must be a whole number from {lo} to {hi:,}, got {value}"
    if field == "device":
        allowed = choices or DEVICES
        return None if value in allowed else f"must be {', '.join(allowed[:-1])} or {allowed[-1]}, got {value!r}"
    if field == "residual":
        return None if isinstance(value, bool) else f"must be true or false, got {value!r}"
    allowed = choices or {"optimizer": OPTIMIZERS, "init": INITS, "precision": PRECISIONS, "data": DATA, "model": MODELS,
                          "norm": NORMS}[field]
    return None if value in allowed else f"must be one of {', '.join(allowed)}, got {value!r}"


def is_toy(config: Any) -> bool:
    """Whether a configuration trains on a 2-D toy set (its runs then get decision boundaries)."""
    return getattr(config, "data", "fashion-mnist") in TOY_DATA


def data_source(config: Any) -> tuple[str, dict[str, Any]]:
    """What a configuration trains on, as :func:`actviz.bench.data.load` takes it: the set's name and, for a
    2-D toy set, its ``noise`` and ``samples`` (configurations equal in both share one data object)."""
    name = getattr(config, "data", "fashion-mnist")
    return name, ({"noise": config.noise, "samples": config.samples} if is_toy(config) else {})


def check_field(field: str, value: Any, *, choices: tuple[str, ...] | None = None) -> Any:
    """Return ``value`` if it is a valid ``field`` of :class:`TrainConfig`, else raise :class:`ConfigError`.

    ``choices`` narrows a choice field (``optimizer``, ``init``, ``device``) to a subset.
    """
    problem = _problem(field, value, choices)
    if problem is not None:
        raise ConfigError(field, problem, value)
    return value


@dataclass(frozen=True)
class TrainConfig:
    """What ``actviz compare`` trains; the defaults are d2l's reference setup.

    ``model`` (one of :data:`MODELS`) is the network: ``mlp`` has
    ``depth`` hidden layers of ``hidden`` units (0: softmax regression), ``epochs`` passes
    over the training set in mini-batches of ``batch_size``, ``optimizer`` (one of
    :data:`OPTIMIZERS`) with learning rate ``lr``, weights drawn by ``init`` (one of
    :data:`INITS`), on ``device`` (one of :data:`DEVICES`), diagnostics on a probe batch
    of ``probe_size`` training images, ``threads`` CPU threads (None: PyTorch's), matrix
    products in ``precision`` (one of :data:`PRECISIONS`); the activation parameters in
    ``learn`` (:mod:`actviz.bench.learn`'s canonical text, ``""`` for none) are trained too, at
    ``learn_lr`` (None: the weights' ``lr``).

    ``data`` names the data set (one of :data:`DATA`); for a 2-D toy set, ``noise`` and
    ``samples`` say how its points are made (None: the set's own; see
    :mod:`actviz.bench.data.toy`); they must stay None for any other set.
    The MLP normalises each hidden layer by ``norm`` (one of :data:`NORMS`) and, with
    ``residual``, adds each hidden layer's input to its output (layers 2..depth);
    ``lenet`` and ``cnn`` ignore ``hidden`` and ``depth`` and take neither.
    """

    epochs: int = 10
    hidden: int = 256
    depth: int = 1
    lr: float = 0.1
    batch_size: int = 256
    optimizer: str = "sgd"
    init: str = "normal"
    device: str = "auto"
    probe_size: int = 1024
    threads: int | None = None
    precision: str = "fp32"
    data: str = "fashion-mnist"
    noise: float | None = None
    samples: int | None = None
    model: str = "mlp"
    norm: str = "none"
    residual: bool = False
    learn: str = ""
    learn_lr: float | None = None

    def validate(self) -> TrainConfig:
        """Return self if every field is valid; else raise :class:`ConfigError` for the first that is not."""
        for f in fields(self):
            check_field(f.name, getattr(self, f.name))
        for name in ("noise", "samples"):
            if getattr(self, name) is not None and self.data not in TOY_DATA:
                raise ConfigError(name, f"applies only to the 2-D toy sets ({', '.join(TOY_DATA)})",
                                  getattr(self, name))
        if self.model != "mlp":
            for name, plain in (("norm", "none"), ("residual", False)):
                if getattr(self, name) != plain:
                    raise ConfigError(name, f"applies to model mlp only, not {self.model} (the cnn has its own "
                                      "batch norm)", getattr(self, name))
        return self

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
