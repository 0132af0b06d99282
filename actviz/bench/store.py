"""The results store of ``actviz compare``: ``results.json`` in ``--out``, a set of runs.

Each run is keyed by its activation with parameters, its training configuration and
its seed (:func:`run_key`).  ``compare`` opens the store, reuses every finished run
(``completed`` or ``diverged``) that it is asked for again, trains the rest, and
rewrites the file atomically after every finished epoch.  Runs of other
configurations stay in the store.

What a write keeps (:meth:`Store.runs`): for every key, the stored run or the run
being trained now, whichever is further along — a finished run beats an unfinished
one, then more epochs beat fewer.  So an interrupted (or ``--fresh``) invocation never
replaces a finished run with a partial one, and a new run with no finished epoch is
not written at all.  Runs found with status ``running`` or ``pending`` (a process
that was killed) are read as ``interrupted``.

A training configuration is every field of :class:`actviz.bench.train.TrainConfig`
except where it runs (``device``, ``threads``); :func:`config_label` names it by the
fields that differ from the defaults (``depth=2, lr=0.05``; ``defaults`` for d2l's
setup).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from actviz.core.errors import ActvizError, UsageError
from actviz.core.files import read_regular, write_atomic

__all__ = [
    "FINISHED",
    "PLOTS",
    "RESULTS",
    "SCHEMA_VERSION",
    "Store",
    "check_run",
    "config_label",
    "run_key",
    "training_config",
]

RESULTS = "results.json"
PLOTS = ("curves.png", "diagnostics.png")
SCHEMA_VERSION = 2
#: statuses of a run that is done (reused by a later invocation)
FINISHED = ("completed", "diverged")
#: TrainConfig fields that say where a run ran, not what it trained
_WHERE = ("device", "threads")


def training_config(config: Any) -> dict[str, Any]:
    """The fields of a TrainConfig (or its dict) that define what is trained."""
    d = config.to_json() if hasattr(config, "to_json") else dict(config)
    return {k: v for k, v in d.items() if k not in _WHERE}


def _defaults() -> dict[str, Any]:
    from actviz.bench.train import TrainConfig

    return training_config(TrainConfig())


def _fmt(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def config_label(cfg: Mapping[str, Any], defaults: Mapping[str, Any] | None = None) -> str:
    """``depth=2, lr=0.05``: the fields that differ from the defaults, or ``defaults``."""
    defaults = _defaults() if defaults is None else defaults
    parts = [f"{k}={_fmt(v)}" for k, v in cfg.items() if k not in _WHERE and defaults.get(k, object()) != v]
    return ", ".join(parts) or "defaults"


def run_key(activation: str, params: Mapping[str, Any], cfg: Mapping[str, Any], seed: int) -> str:
    """A unique, stable string for activation-with-parameters × configuration × seed."""
    return json.dumps([activation, dict(params), training_config(cfg), int(seed)], sort_keys=True,
                      separators=(",", ":"))


def _rank(run: Mapping[str, Any]) -> tuple[int, int]:
    return (run.get("status") in FINISHED, int(run.get("epochs_completed") or 0))


def _upgrade(run: dict[str, Any], top_config: Mapping[str, Any] | None) -> dict[str, Any]:
    """A stored run in today's form: ``label``, ``params``, ``config``, ``config_label``, ``key``; dead statuses
    read as interrupted."""
    if run.get("label") is None:  # written by hand, or by an older version: the activation names it
        run["label"] = run["activation"]
    if run.get("params") is None:
        run["params"] = {}
    if "config" not in run:  # a schema-1 file: one configuration, at the top level
        run["config"] = training_config({k: v for k, v in (top_config or {}).items()
                                         if k not in ("activations", "seeds", "target_accuracy", "data_source",
                                                      "configurations")})
    if "config_label" not in run:
        run["config_label"] = config_label(run["config"])
    if "key" not in run:
        run["key"] = run_key(run["activation"], run.get("params", {}), run["config"], run["seed"])
    if run.get("status") in ("running", "pending"):
        run["status"] = "interrupted"
    return run


def _finite_or_none(text: str) -> float | None:
    v = float(text)
    return v if math.isfinite(v) else None


def _parse(raw: bytes) -> Any:
    """JSON of a store; NaN, Infinity and numbers too large for a float read as null (as the writer writes them)."""
    return json.loads(raw.decode("utf-8"), parse_constant=lambda name: None, parse_float=_finite_or_none)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool)) and math.isfinite(v)


#: per epoch, the number a completed run must have (its final one is what the statistics compare)
_EPOCH_NUMBERS = ("test_acc",)
#: per epoch, the other numbers (null where training gave NaN; the summary copes without them)
_EPOCH_OPTIONAL = ("train_loss", "train_acc", "test_loss", "time")
_ACCURACIES = ("test_acc", "train_acc")
_DIAGNOSTICS = ("dead", "saturated", "grad_norm")
#: the largest depth a stored configuration may name (a hand-edited 10**30 would be drawn as a string that long)
_MAX_DEPTH = 10**6


def check_run(run: Any, index: int) -> None:
    """Raise ValueError (saying which run and what) unless ``run`` has the shape that compare writes.

    A store is read from disk and may have been edited or damaged: every field the
    summary, the renderings and the pictures read is checked here, once, so that
    they can trust it (and a bad file is one clear error, not a crash later).
    """
    where = f"run {index + 1}"

    def need(ok: bool, what: str) -> None:
        if not ok:
            raise ValueError(f"{where}: {what}")

    need(isinstance(run, dict), "is not an object")
    need(isinstance(run.get("activation"), str) and run["activation"] != "", "no activation name")
    where = f"run {index + 1} ({run['activation']})"
    need(_is_int(run.get("seed")), "the seed is not a whole number")
    need(isinstance(run.get("status"), str), "no status")
    for key, kind, name in (("label", str, "a string"), ("config_label", str, "a string"), ("key", str, "a string"),
                            ("params", dict, "an object"), ("config", dict, "an object"),
                            ("learned", dict, "an object")):
        need(run.get(key) is None or isinstance(run[key], kind), f"{key!r} is not {name}")
    need(run.get("epochs_completed") is None or (_is_int(run["epochs_completed"]) and run["epochs_completed"] >= 0),
         "'epochs_completed' is not a whole number >= 0")
    depth = (run.get("config") or {}).get("depth")
    need(depth is None or (_is_int(depth) and 0 <= depth <= _MAX_DEPTH), f"depth {depth!r} is not a depth")
    for k, v in (run.get("learned") or {}).items():
        need(isinstance(v, list) and all(_is_num(x) for x in v), f"learned {k!r} is not a list of numbers")
    history = run.get("history")
    need(isinstance(history, list), "no list 'history' of epochs")
    finished = run["status"] == "completed"
    for e, h in enumerate(history):
        where = f"run {index + 1} ({run['activation']}), epoch {e + 1}"
        need(isinstance(h, dict), "is not an object")
        need(_is_int(h.get("epoch")), "no epoch number")
        for key in (*_EPOCH_NUMBERS, *_EPOCH_OPTIONAL):
            v = h.get(key)
            if v is None:
                need(not (finished and key in _EPOCH_NUMBERS),
                     f"{key!r} is missing, NaN or infinite (the run is marked completed)")
                continue
            need(_is_num(v), f"{key!r} is not a number: {v!r}")
            need(key not in _ACCURACIES or 0 <= v <= 1, f"{key!r} is not an accuracy between 0 and 1: {v!r}")
        diag = h.get("diagnostics")
        need(diag is None or isinstance(diag, dict), "'diagnostics' is not an object")
        for key in _DIAGNOSTICS:
            v = (diag or {}).get(key)
            need(v is None or (isinstance(v, list) and all(x is None or _is_num(x) for x in v)),
                 f"diagnostics {key!r} is not a list of numbers")


class Store:
    """The runs of one ``--out`` folder; see the module's docstring."""

    def __init__(self, folder: str | os.PathLike[str] | None):
        self.folder = Path(folder) if folder is not None else None
        self.stored: dict[str, dict[str, Any]] = {}
        self.live: dict[str, dict[str, Any]] = {}
        self.previous: dict[str, Any] = {}
        self._text: dict[int, tuple[str, str]] = {}  # id(run) -> (its status and epochs, its JSON)

    @property
    def file(self) -> Path | None:
        return self.folder / RESULTS if self.folder is not None else None

    @classmethod
    def open(cls, folder: str | os.PathLike[str] | None) -> Store:
        """Read the store in ``folder`` (nothing is created); an unreadable file is an error."""
        store = cls(folder)
        path = store.file
        if path is None or not os.path.lexists(path):  # lexists: False for a name too long, never OSError
            return store
        raw = read_regular(path)  # a FIFO or device is refused, never waited on
        try:
            doc = _parse(raw)
            if not isinstance(doc, dict) or not isinstance(doc.get("runs"), list):
                raise ValueError("not a results file of actviz compare (no list of runs)")
            if not isinstance(doc.get("config") or {}, dict):
                raise ValueError("'config' is not an object")
            for i, run in enumerate(doc["runs"]):
                check_run(run, i)
                run = _upgrade(run, doc.get("config"))
                old = store.stored.get(run["key"])
                if old is None or _rank(run) > _rank(old):
                    store.stored[run["key"]] = run
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            if isinstance(exc, RecursionError):
                reason = "nested too deeply"
            raise ActvizError(f"cannot read the results store {str(path)!r}: {reason} "
                              "(choose another --out, or move the file away)") from None
        store.previous = doc
        return store

    # -- planning
    def finished(self, key: str) -> dict[str, Any] | None:
        """The stored run of ``key`` if it is finished (and so can be reused)."""
        run = self.stored.get(key)
        return run if run is not None and run.get("status") in FINISHED else None

    # -- training
    def add_live(self, runs: Iterable[dict[str, Any]], cfg: Mapping[str, Any], label: str) -> None:
        """Runs being trained (the dicts that training fills in): tag them and keep references."""
        for run in runs:
            run["config"] = dict(cfg)
            run["config_label"] = label
            run["key"] = run_key(run["activation"], run["params"], cfg, run["seed"])
            self.live[run["key"]] = run

    def runs(self) -> list[dict[str, Any]]:
        """What a write keeps: stored runs, and live ones where they are further along."""
        out: list[dict[str, Any]] = []
        for key, run in self.stored.items():
            live = self.live.get(key)
            out.append(live if live is not None and _rank(live) >= _rank(run) else run)
        for key, run in self.live.items():
            if key not in self.stored and (run.get("status") in FINISHED or run.get("epochs_completed")):
                out.append(run)
        return out

    # -- writing
    def _run_text(self, run: dict[str, Any]) -> str:
        state = json.dumps([run.get("status"), run.get("epochs_completed"), len(run.get("history", ()))])
        cached = self._text.get(id(run))
        if cached is not None and cached[0] == state and run["key"] not in self.live:
            return cached[1]
        text = json.dumps(_clean(run), allow_nan=False, separators=(",", ":"), default=_json_default)
        self._text[id(run)] = (state, text)
        return text

    def write(self, doc: dict[str, Any], runs: Sequence[dict[str, Any]]) -> Path:
        """Write ``doc`` with ``runs`` as its ``runs`` atomically; ActvizError names the path on failure.

        Each run is one line (runs not being trained are serialised once and kept).
        """
        if self.file is None:
            raise UsageError("no --out folder to write to")
        head = json.dumps({k: v for k, v in doc.items() if k != "runs"}, indent=1, allow_nan=False,
                          default=_json_default)
        body = ",\n".join(self._run_text(r) for r in runs)
        text = head[:-2] + ',\n "runs": [\n' + body + "\n ]\n}\n" if head != "{}" else '{"runs": [' + body + "]}\n"
        from actviz.core.signals import shielded

        with shielded():  # a signal waits until the file is in place
            return write_atomic(self.file, text.encode())


def _clean(run: Mapping[str, Any]) -> dict[str, Any]:
    """A run without the values that JSON cannot hold (NaN → null)."""
    return _denan(dict(run))


def _denan(v: Any) -> Any:
    if isinstance(v, float):
        return v if v == v and v not in (float("inf"), float("-inf")) else None
    if isinstance(v, dict):
        return {k: _denan(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_denan(x) for x in v]
    return v


def _json_default(v: Any) -> Any:
    if isinstance(v, Path):
        return str(v)
    if isinstance(v, tuple):
        return list(v)
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")


def remove_plots(folder: Path, names: Sequence[str] = PLOTS) -> list[Path]:
    """Delete the store's pictures (they no longer match its results); return those removed."""
    removed = []
    for name in names:
        p = folder / name
        try:
            p.unlink()
            removed.append(p)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise ActvizError(f"cannot remove the stale picture {str(p)!r}: {exc.strerror or exc}") from None
    return removed


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def by_config(runs: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Runs grouped by configuration label, in order of first appearance."""
    out: dict[str, list[Mapping[str, Any]]] = {}
    for r in runs:
        out.setdefault(r.get("config_label", "defaults"), []).append(r)
    return out


def load(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The document of the store in ``folder`` (for ``actviz results``), runs upgraded; error if none."""
    path = Path(folder)
    if str(folder) == "":
        raise UsageError("name the folder of a compare store, e.g. actviz-results")
    if not os.path.isdir(path):  # os.path: False (not OSError) for a name too long
        raise UsageError(f"{str(path)!r} is not a folder (name the --out folder of an 'actviz compare')")
    if not os.path.lexists(path / RESULTS):
        raise ActvizError(f"no {RESULTS} in {str(path)!r}: not a compare store (run 'actviz compare ... --out {path}')")
    store = Store.open(path)
    doc = dict(store.previous)
    doc["runs"] = list(store.stored.values())
    return doc


Callback = Callable[[dict[str, Any]], None]
