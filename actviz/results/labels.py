"""Names of what a store holds: a run's key, a training configuration and its label.

A *training configuration* is what was trained, not where: every field of
:class:`actviz.bench.train.TrainConfig` except ``device`` and ``threads``.  Its *label*
names it by the fields that differ from d2l's reference setup (:data:`DEFAULTS`):
``depth=2, lr=0.05``, or ``defaults``.  Every reader and writer uses these functions,
so a run has one name everywhere (terminal, CSV, LaTeX, pictures, the HTML page).

A run's *key* is activation with parameters × training configuration × seed, as one
canonical JSON string; a store holds at most one run per key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["DEFAULTS", "LATER", "WHERE", "config_label", "format_value", "network_label", "run_key", "training_config",
           "varying"]

#: fields added after the first stores, each with the value that stores without it implicitly had:
#: :func:`training_config` fills them in and :func:`run_key` leaves them out at that value, so the
#: keys of old runs do not change
LATER: dict[str, Any] = {
    "precision": "fp32",
    "data": "fashion-mnist",
    "noise": None,
    "samples": None,
    "model": "mlp",
    "norm": "none",
    "residual": False,
    "learn": "",
    "learn_lr": None,
}
#: d2l's reference setup: the training configuration of ``actviz compare`` with no options
#: (``TrainConfig()``; a test keeps the two equal)
DEFAULTS: dict[str, Any] = {
    "epochs": 10, "hidden": 256, "depth": 1, "lr": 0.1, "batch_size": 256, "optimizer": "sgd",
    "init": "normal", "probe_size": 1024, **LATER,
}
#: fields of a configuration that say where a run ran, not what it trained
WHERE = ("device", "threads")


def training_config(config: Any) -> dict[str, Any]:
    """The fields of a TrainConfig (or of its dict) that define what is trained; missing :data:`LATER` fields filled in."""
    d = config.to_json() if hasattr(config, "to_json") else dict(config)
    return {**{k: v for k, v in d.items() if k not in WHERE}, **{k: v for k, v in LATER.items() if k not in d}}


def format_value(v: Any) -> str:
    """A configuration value in a label: floats in their shortest form (``0.05``, ``1e-05``)."""
    return f"{v:g}" if isinstance(v, float) else str(v)


def config_label(cfg: Mapping[str, Any], defaults: Mapping[str, Any] = DEFAULTS) -> str:
    """``depth=2, lr=0.05``: the fields that differ from ``defaults``, in the configuration's order; or ``defaults``."""
    parts = [f"{k}={format_value(v)}" for k, v in cfg.items() if k not in WHERE and defaults.get(k, object()) != v]
    return ", ".join(parts) or "defaults"


def run_key(activation: str, params: Mapping[str, Any], cfg: Mapping[str, Any], seed: int) -> str:
    """A unique, stable string for activation-with-parameters × configuration × seed.

    Fields of :data:`LATER` at the value older stores implicitly had are left out, so the
    keys of runs in older stores stay what they were.
    """
    trained = {k: v for k, v in training_config(cfg).items() if k not in LATER or LATER[k] != v}
    return json.dumps([activation, dict(params), trained, int(seed)], sort_keys=True, separators=(",", ":"))


def _network(cfg: Mapping[str, Any], inputs: int | None = None) -> str:
    """``784-256-10``, ``784-256-256-10 batch-norm residual``, ``LeNet-5`` or ``CNN 8-16-32``.

    ``inputs`` is the data set's input size (None: 784, a 28×28 image).
    """
    model = cfg.get("model", LATER["model"])
    if model == "lenet":
        return "LeNet-5"
    if model == "cnn":
        return "CNN 8-16-32"
    name = f"{inputs or 784}-{'-'.join([str(cfg.get('hidden', '?'))] * int(cfg.get('depth', 1)))}-10"
    if cfg.get("norm", "none") != "none":
        name += f" {cfg['norm']}-norm"
    return name + (" residual" if cfg.get("residual") else "")


def network_label(cfg: Mapping[str, Any], inputs: int | None = None) -> str:
    """The network and its training in one line: ``784-256-10, sgd lr 0.1, batch 256, init normal, 10 epochs``.

    ``inputs`` is the data set's input size (None: 784, a 28×28 image).
    """
    if not cfg:
        return ""
    lr = cfg.get("lr")
    return (f"{_network(cfg, inputs)}, "
            f"{cfg.get('optimizer', '?')} lr {format_value(lr) if lr is not None else '?'}, "
            f"batch {cfg.get('batch_size', '?')}, init {cfg.get('init', '?')}, {cfg.get('epochs', '?')} "
            f"epoch{'' if cfg.get('epochs') == 1 else 's'}")


def varying(cfgs: Sequence[Mapping[str, Any]]) -> tuple[list[str], str]:
    """Each training configuration named by the settings that differ between them, and the settings they share.

    ``depth=1`` and ``depth=3``, not ``defaults`` and ``depth=3``: a setting that differs is
    named in every configuration, with its value; the shared settings are said once
    (those that differ from d2l's defaults, as in a configuration's label).
    """
    keys = list(dict.fromkeys(k for c in cfgs for k in c if k not in WHERE))
    differ = [k for k in keys if len({json.dumps(c.get(k), sort_keys=True) for c in cfgs}) > 1]
    same = [k for k in keys if k not in differ and DEFAULTS.get(k, object()) != cfgs[0].get(k)]
    names = [", ".join(f"{k}={format_value(c.get(k))}" for k in differ) for c in cfgs]
    return names, ", ".join(f"{k}={format_value(cfgs[0][k])}" for k in same)
