"""The shape of ``results.json``, the store of ``actviz compare``: reading, upgrading, validating.

The document (schema 2; ``docs/design.md`` lists every field)::

    {"schema": 2, "command": "compare", "created": ..., "updated": ..., "interrupted": bool,
     "config": {...this invocation's options...}, "environment": {...versions, device, CPU...},
     "summary": [...statistics, recomputed by every reader...],
     "runs": [{"activation", "label", "params", "seed", "status", "config", "config_label", "key",
               "epochs_completed", "history": [{"epoch", "test_acc", "train_loss", "train_acc",
               "test_loss", "time", "diagnostics": {"dead", "saturated", "grad_norm"}}, ...],
               "boundary": {...2-D toy sets only: actviz.results.boundary...}, ...}, ...]}

A store is read from disk and may have been written by an older version, edited by hand
or damaged.  :func:`parse` reads NaN, infinities and numbers too large for a float as
null (as the writer writes them); :func:`check_run` checks every field that a summary,
a rendering or a picture reads, once, so that they can trust it; :func:`upgrade` brings
an older run to today's form.  Nothing else in actviz reads ``results.json``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from actviz.results import boundary
from actviz.results.labels import LATER, config_label, run_key, training_config

__all__ = ["FINISHED", "PLOTS", "RESULTS", "SCHEMA_VERSION", "STATUSES", "STOPPED", "check_document", "check_run", "parse",
           "upgrade"]

RESULTS = "results.json"
#: the pictures drawn beside it
PLOTS = ("curves.png", "diagnostics.png", "boundaries.png", "learned.png")
SCHEMA_VERSION = 2
#: statuses of a run that is done (a later invocation reuses it)
FINISHED = ("completed", "diverged")
#: statuses of a run that stopped before its last epoch: not finished, left out of the statistics, trained
#: again by the next invocation (``failed``: its worker raised or died, see :mod:`actviz.bench.units`)
STOPPED = ("interrupted", "failed")
#: every status a stored run may have (``running``/``pending``: a process that was killed)
STATUSES = ("completed", "diverged", *STOPPED, "running", "pending")

#: per epoch, the number a completed run must have (its final one is what the statistics compare)
_EPOCH_NUMBERS = ("test_acc",)
#: per epoch, the other numbers (null where training gave NaN; the summary copes without them)
_EPOCH_OPTIONAL = ("train_loss", "train_acc", "test_loss", "time")
_ACCURACIES = ("test_acc", "train_acc")
_DIAGNOSTICS = ("dead", "saturated", "grad_norm")
#: configuration fields that are whole numbers >= 1 (depth: >= 0), numbers > 0, and names
_CONFIG_COUNTS = ("epochs", "hidden", "batch_size", "probe_size", "samples")
_CONFIG_NUMBERS = ("lr", "learn_lr")
_CONFIG_NAMES = ("optimizer", "init", "data", "learn")
#: the statistics of a learned parameter recorded per epoch and layer (over its units)
LEARNED_STATS = ("mean", "sd", "q05", "q25", "q50", "q75", "q95")
#: the largest count a stored configuration may name (a hand-edited 10**30 would be drawn as a string that long)
_MAX_COUNT = 10**6
#: top-level keys of a schema-1 document's config that are not training fields
_NOT_TRAINING = ("activations", "seeds", "target_accuracy", "data_source", "configurations", "config_labels", "fresh")


def _finite_or_none(text: str) -> float | None:
    v = float(text)
    return v if math.isfinite(v) else None


def parse(raw: bytes) -> Any:
    """JSON of a store; NaN, Infinity and numbers too large for a float read as null (as the writer writes them)."""
    return json.loads(raw.decode("utf-8"), parse_constant=lambda name: None, parse_float=_finite_or_none)


def is_int(v: Any) -> bool:
    """A whole number (``True`` is not one)."""
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v: Any) -> bool:
    """A finite int or float (``True`` is not one)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


class _Checker:
    """``need(ok, what)`` raising ValueError that names the run (and epoch) being checked."""

    def __init__(self, index: int):
        self.where = f"run {index + 1}"

    def need(self, ok: bool, what: str) -> None:
        if not ok:
            raise ValueError(f"{self.where}: {what}")


def check_document(doc: Any) -> None:
    """Raise ValueError unless ``doc`` is a store: an object with a list of runs and an object ``config``."""
    if not isinstance(doc, dict) or not isinstance(doc.get("runs"), list):
        raise ValueError("not a results file of actviz compare (no list of runs)")
    if not isinstance(doc.get("config") or {}, dict):
        raise ValueError("'config' is not an object")
    for i, run in enumerate(doc["runs"]):
        check_run(run, i)


def check_run(run: Any, index: int) -> None:
    """Raise ValueError (saying which run, which epoch and what) unless ``run`` has the shape compare writes."""
    c = _Checker(index)
    c.need(isinstance(run, dict), "is not an object")
    c.need(isinstance(run.get("activation"), str) and run["activation"] != "", "no activation name")
    c.where = f"run {index + 1} ({run['activation']})"
    c.need(is_int(run.get("seed")), f"the seed is not a whole number: {run.get('seed')!r}")
    c.need(run.get("status") in STATUSES, f"the status {run.get('status')!r} is not one of {', '.join(STATUSES)}")
    for key, kind, name in (("label", str, "a string"), ("config_label", str, "a string"), ("key", str, "a string"),
                            ("params", dict, "an object"), ("config", dict, "an object"),
                            ("learned", dict, "an object"), ("definition", str, "a string")):
        c.need(run.get(key) is None or isinstance(run[key], kind), f"{key!r} is not {name}")
    c.need(run.get("epochs_completed") is None or (is_int(run["epochs_completed"]) and run["epochs_completed"] >= 0),
           "'epochs_completed' is not a whole number >= 0")
    _check_config(c, run.get("config") or {})
    for k, v in (run.get("learned") or {}).items():
        c.need(isinstance(v, list) and all(is_number(x) for x in v), f"learned {k!r} is not a list of numbers")
    if run.get("boundary") is not None:
        bad = boundary.problem(run["boundary"])
        c.need(bad is None, f"boundary {bad}")
    bins = _check_learning(c, run)
    history = run.get("history")
    c.need(isinstance(history, list), "no list 'history' of epochs")
    for e, h in enumerate(history):
        c.where = f"run {index + 1} ({run['activation']}), epoch {e + 1}"
        _check_epoch(c, h, completed=run["status"] == "completed")
        _check_epoch_learning(c, h, bins)


def _numbers(v: Any) -> bool:
    """A list of numbers."""
    return isinstance(v, list) and all(is_number(x) for x in v)


def _check_learning(c: _Checker, run: Mapping[str, Any]) -> list[int]:
    """The run's learned parameters (granularity, per-unit values) and histogram ranges; the bins per layer."""
    learning = run.get("learning")
    c.need(learning is None or (isinstance(learning, dict) and all(v in ("layer", "unit") for v in learning.values())),
           "'learning' is not an object of parameter: layer or unit")
    units = run.get("learned_units")
    c.need(units is None or isinstance(units, dict), "'learned_units' is not an object")
    for k, v in (units or {}).items():  # per layer: the units' values (each a number or a list of coefficients)
        c.need(isinstance(v, list) and all(isinstance(u, list) and all(is_number(x) or _numbers(x) for x in u)
                                           for u in v),
               f"learned_units {k!r} is not a list of per-unit values per layer")
    ranges = run.get("preact_range")
    c.need(ranges is None or isinstance(ranges, list), "'preact_range' is not a list")
    for r in ranges or []:
        c.need(isinstance(r, list) and len(r) == 3 and is_number(r[0]) and is_number(r[1]) and r[0] < r[1]
               and is_int(r[2]) and 1 <= r[2] <= _MAX_COUNT, f"'preact_range' entry {r!r} is not [lo, hi, bins]")
    return [r[2] for r in ranges or []]


def _check_epoch_learning(c: _Checker, h: Mapping[str, Any], bins: list[int]) -> None:
    learned = h.get("learned")
    c.need(learned is None or isinstance(learned, dict), "'learned' is not an object")
    for k, layers in (learned or {}).items():
        c.need(isinstance(layers, list) and all(
            isinstance(row, dict) and all(is_number(row.get(s)) or _numbers(row.get(s)) for s in LEARNED_STATS)
            for row in layers), f"learned {k!r} is not a list of per-layer {', '.join(LEARNED_STATS)}")
    hist = h.get("preact_hist")
    c.need(hist is None or (isinstance(hist, list) and len(hist) == len(bins)),
           "'preact_hist' is not a list with one histogram per range of 'preact_range'")
    for layer, row in enumerate(hist or []):
        ok = isinstance(row, dict) and isinstance(row.get("counts"), list) and len(row["counts"]) == bins[layer]
        c.need(ok and all(is_int(v) and v >= 0 for v in [row.get("below"), row.get("above"), *row["counts"]]),
               f"'preact_hist' of layer {layer + 1} is not below, {bins[layer]} counts, above (whole numbers >= 0)")


def _check_config(c: _Checker, cfg: Mapping[str, Any]) -> None:
    depth = cfg.get("depth")
    c.need(depth is None or (is_int(depth) and 0 <= depth <= _MAX_COUNT),
           f"config 'depth' is not a whole number from 0 to {_MAX_COUNT:,}: {depth!r}")
    for key in _CONFIG_COUNTS:
        v = cfg.get(key)
        c.need(v is None or (is_int(v) and 1 <= v <= _MAX_COUNT),
               f"config {key!r} is not a whole number from 1 to {_MAX_COUNT:,}: {v!r}")
    for key in _CONFIG_NUMBERS:
        v = cfg.get(key)
        c.need(v is None or (is_number(v) and v > 0), f"config {key!r} is not a positive number: {v!r}")
    noise = cfg.get("noise")
    c.need(noise is None or (is_number(noise) and noise >= 0), f"config 'noise' is not a number >= 0: {noise!r}")
    for key in _CONFIG_NAMES:
        v = cfg.get(key)
        c.need(v is None or isinstance(v, str), f"config {key!r} is not a name: {v!r}")


def _check_epoch(c: _Checker, h: Any, *, completed: bool) -> None:
    c.need(isinstance(h, dict), "is not an object")
    c.need(is_int(h.get("epoch")), "no epoch number")
    for key in (*_EPOCH_NUMBERS, *_EPOCH_OPTIONAL):
        v = h.get(key)
        if v is None:
            c.need(not (completed and key in _EPOCH_NUMBERS),
                   f"{key!r} is missing, NaN or infinite (the run is marked completed)")
            continue
        c.need(is_number(v), f"{key!r} is not a number: {v!r}")
        c.need(key not in _ACCURACIES or 0 <= v <= 1, f"{key!r} is not an accuracy between 0 and 1: {v!r}")
    diag = h.get("diagnostics")
    c.need(diag is None or isinstance(diag, dict), "'diagnostics' is not an object")
    for key in _DIAGNOSTICS:
        v = (diag or {}).get(key)
        c.need(v is None or (isinstance(v, list) and all(x is None or is_number(x) for x in v)),
               f"diagnostics {key!r} is not a list of numbers")


def upgrade(run: dict[str, Any], top_config: Mapping[str, Any] | None) -> dict[str, Any]:
    """A checked run in today's form: ``label``, ``params``, ``config``, ``config_label`` and ``key`` filled in,
    a dead process's ``running``/``pending`` read as ``interrupted``.

    Schema 1 kept one configuration at the top level: a run without ``config`` takes it from there.
    """
    if run.get("label") is None:  # written by hand, or by an older version: the activation names it
        run["label"] = run["activation"]
    if run.get("params") is None:
        run["params"] = {}
    if run.get("config") is None:
        run["config"] = training_config({k: v for k, v in (top_config or {}).items() if k not in _NOT_TRAINING})
    else:  # fields added since the run was stored read as the value they implicitly had
        run["config"] = {**run["config"], **{k: v for k, v in LATER.items() if k not in run["config"]}}
    if run.get("config_label") is None:
        run["config_label"] = config_label(run["config"])
    if run.get("key") is None:
        run["key"] = run_key(run["activation"], run["params"], run["config"], run["seed"])
    if run.get("status") in ("running", "pending"):
        run["status"] = "interrupted"
    return run
