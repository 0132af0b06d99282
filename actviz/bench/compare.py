"""``actviz compare``: train the reference MLP per activation, configuration and seed; keep every epoch.

A :class:`Comparison` goes through named steps:

* **plan** — the grid: activation variants × training configurations × seeds, one run each;
* **reuse** — every finished run (``completed`` or ``diverged``) already in the results
  store (:class:`actviz.results.Store`) is taken as it is, unless ``fresh``;
* **train** — the data set (``config.data``) is loaded (:func:`actviz.bench.data.load`) only when something is
  left to train, and the rest trains through :func:`actviz.bench.train.train_grid`, every
  configuration in one call (the engine trains runs of one shape together), only the missing runs;
  or, with an ``executor`` (``--executor ray``: :mod:`actviz.bench.ray_executor`), as units of work
  elsewhere (:mod:`actviz.bench.units`), this process still the only writer of the store;
* **record** — ``results.json`` is rewritten atomically after a finished epoch (at most every
  :data:`WRITE_EVERY_S` seconds, and after each seed's last epoch);
* **summarise** — the document of the whole store, with the statistics of every
  configuration (:func:`actviz.bench.summary.summarize_configs`), and ``invocation``: what
  this call asked for, reused, trained and wrote.

``results.json`` holds ``schema``, ``command``, ``config`` (this invocation's options),
``environment``, ``runs`` (every run in the store, each with its ``config``,
``config_label``, ``key`` and per-epoch ``history``) and ``summary`` (see
``docs/design.md``).  The benchmark returns data: the pictures of a store are drawn by
:mod:`actviz.render.training`.
"""

from __future__ import annotations

import errno
import itertools
import math
import os
import platform
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actviz.bench.config import data_source, is_toy
from actviz.bench.summary import DEFAULT_TARGET, summarize, summarize_configs
from actviz.core.errors import ActvizError, UsageError
from actviz.core.files import link_problem, not_regular, os_reason
from actviz.core.registry import Activation, get, params_json
from actviz.results import (FINISHED, RESULTS, SCHEMA_VERSION, Store, config_label, now, remove_plots, run_key,
                            training_config)

__all__ = [
    "DEFAULT_OUT",
    "DEFAULT_SEEDS",
    "DEFAULT_TARGET",
    "MAX_SEEDS",
    "Comparison",
    "check_memory",
    "environment",
    "prepare_out",
    "run_compare",
    "summarize",
    "summarize_configs",
]

DEFAULT_OUT = "actviz-results"
#: the default number of seeds: the least that gives an interval and a paired test
DEFAULT_SEEDS = 3
MAX_SEEDS = 1000
#: while training, the store is rewritten after an epoch only when this long has passed since the last write
WRITE_EVERY_S = 1.0


# --------------------------------------------------------------------------- files


def prepare_out(out: str | os.PathLike[str]) -> Path:
    """Create the output directory and check that it is writable (just before training)."""
    path = Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".actviz-write-test.", dir=path)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        reason = os_reason(path, exc)
        if exc.errno == errno.EEXIST and link_problem(path) is None:  # something else of that name: say what
            try:
                reason = f"it is {not_regular(os.stat(path).st_mode) or 'a regular file'}, not a directory"
            except OSError:
                pass
        raise ActvizError(f"cannot write to the output directory {str(path)!r}: {reason} (choose another with --out)") from None
    return path


# --------------------------------------------------------------------------- environment


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(device: str = "cpu", threads: int | None = None, flush_denormal: bool | None = None) -> dict[str, Any]:
    """Versions, device, threads and CPU (with its bf16 matrix units, ``bf16_units``): what a timing depends on."""
    import numpy
    import torch

    from actviz._version import __version__
    from actviz.bench.engine.precision import cpu_bf16_units

    env: dict[str, Any] = {
        "actviz": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "device": device,
        "threads": torch.get_num_threads() if threads is None else threads,
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "flush_denormal": flush_denormal,
        "bf16_units": cpu_bf16_units(),
    }
    if device.startswith("cuda"):
        env["cuda"] = torch.version.cuda
        env["gpu"] = torch.cuda.get_device_name(0)
    return env


# --------------------------------------------------------------------------- memory


def _available_memory(device: str) -> int | None:
    """Bytes the models may use: the GPU's total memory, or the machine's physical memory."""
    try:
        if device.startswith("cuda"):
            import torch

            return int(torch.cuda.get_device_properties(0).total_memory)
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError, RuntimeError):
        return None


def check_memory(acts: Sequence[Activation], config: Any, device: str = "cpu") -> int:
    """Estimated bytes of one seed's models and work buffers; UsageError if beyond the machine.

    Counts float32 weights (with gradients and Adam's two moments when used), the
    per-batch buffers and the 10,000-row evaluation buffers.
    """
    h, depth, bs = int(config.hidden), int(config.depth), int(config.batch_size)
    cols = 0
    weights = 0
    for a in acts:
        k = len(a.params["weights"]) if a.spec.kind == "maxout" else 1
        cols += h * k
        weights += 785 * h * k + (depth - 1) * (h * h * k + h * k) + h * 10 + 10
    copies = 4 if config.optimizer == "adam" else 1
    rows = min(bs, 60000) + 10000 + min(int(config.probe_size), 60000)
    need = 4 * (weights * copies + rows * cols * (2 * depth + 2))
    have = _available_memory(device)
    if have is not None and need > have:
        raise UsageError(
            f"--hidden {h} --depth {depth} with {len(acts)} activation(s) would need about {_gib(need)} of memory "
            f"for one seed's models ({'GPU' if device.startswith('cuda') else 'this machine'} has {_gib(have)}); "
            "use fewer or smaller layers")
    return need


def _gib(n: int) -> str:
    return f"{n / 2**30:,.1f} GiB" if n < 2**50 else f"{n / 2**30:.2g} GiB"


def _grid_configs(configs: Sequence[Any]) -> list[Any]:
    """The configurations, each validated, without repeats; all on one device."""
    out: list[Any] = []
    for c in configs:
        c = c.validate()
        if c not in out:
            out.append(c)
    devices = {c.device for c in out}
    if len(devices) > 1:  # pragma: no cover - the CLI sets one device
        raise UsageError("all configurations must use the same --device")
    return out


@dataclass
class ConfigPlan:
    """One training configuration of the grid and the runs of it that are left to train."""

    config: Any  #: the TrainConfig
    training: dict[str, Any]  #: what it trains (:func:`actviz.results.training_config`)
    label: str  #: its label (:func:`actviz.results.config_label`)
    todo: list[tuple[str, int]] = field(default_factory=list)  #: (activation label, seed) left to train


class Comparison:
    """One ``compare`` invocation; :meth:`run` goes through its steps (see the module's docstring).

    ``activations`` are the variants (an :class:`Activation` each, or a name); ``configs``
    the training configurations of the grid.  Every (variant × configuration × seed) is a
    run; with ``out`` a folder, finished runs stored there are reused unless ``fresh``.
    ``callback(event)`` sees ``plan`` (``reused``, ``training``, ``configurations``,
    ``total_steps``) and every training event of :func:`actviz.bench.train.train_runs`,
    with ``config_label`` added (and, through an ``executor``, ``failed``: ``seeds``,
    ``labels``, ``error`` for a unit whose task failed).
    """

    def __init__(self, activations: Sequence[str | Activation], configs: Sequence[Any], *,
                 seeds: Sequence[int], data: Any = None, data_dir: str | os.PathLike[str] | None = None,
                 out: str | os.PathLike[str] | None = DEFAULT_OUT, target: float = DEFAULT_TARGET,
                 fresh: bool = False, callback: Callable[[dict[str, Any]], None] | None = None,
                 data_progress: Any = None, executor: Any = None):
        self.t0 = time.perf_counter()
        self.configs = _grid_configs(configs)
        if not 0 < target <= 1:
            raise UsageError(f"--target must be in (0, 1], got {target}")
        self.acts = _variants(activations)
        self.seeds = [int(s) for s in seeds]
        if not self.seeds:
            raise UsageError("need at least one seed")
        if out is not None and str(out).strip() == "":
            raise UsageError("--out is empty: name the folder for the results (default actviz-results)")
        from actviz.bench.train import resolve_device

        device = str(resolve_device(self.configs[0].device))
        for c in self.configs:
            check_memory(self.acts, c, device)
        self.target, self.fresh, self.out = target, fresh, out
        self.given_data, self.data_dir, self.data_progress = data, data_dir, data_progress
        self.loaded: dict[tuple[Any, ...], Any] = {}
        self.written_at = -math.inf
        self.callback = callback
        self.executor = executor  #: None: train here (the local executor); else its ``train(comparison, units)``
        self.failures: list[str] = []
        self.store = Store.open(out) if out is not None else Store(None)
        self.out_path: Path | None = None
        self.plans: list[ConfigPlan] = []
        self.asked: list[str] = []
        self.reused = 0
        self.env: dict[str, Any] = dict(self.store.previous.get("environment") or {})
        self.source: Any = None
        self.interrupted = False
        self.changed = False
        self.write_error: str | None = None
        self._summary: tuple[Any, list[dict[str, Any]]] | None = None

    def _emit(self, event: dict[str, Any]) -> None:
        if self.callback is not None:
            self.callback(event)

    # -- plan and reuse
    def plan(self) -> list[ConfigPlan]:
        """Every (configuration, seed, activation) of the grid; finished stored runs are reused (counted)."""
        for c in self.configs:
            tc = training_config(c)
            p = ConfigPlan(c, tc, config_label(tc))
            for seed, act in itertools.product(self.seeds, self.acts):
                key = run_key(act.name, params_json(act), tc, seed)
                self.asked.append(key)
                if self.reuse(key):
                    self.reused += 1
                else:
                    p.todo.append((act.label, seed))
            self.plans.append(p)
        return self.plans

    def reuse(self, key: str) -> bool:
        """Whether the stored run of ``key`` is finished and may stand for this invocation's."""
        return not self.fresh and self.store.finished(key) is not None

    @property
    def to_train(self) -> int:
        return sum(len(p.todo) for p in self.plans)

    # -- train
    def load_data(self) -> None:
        """The data set (only when something is left to train), checked against the configurations."""
        if not self.to_train:
            self.out_path = Path(self.out) if self.out is not None else None
            self._emit({"event": "plan", "reused": self.reused, "training": 0,
                        "configurations": len(self.plans), "total_steps": 0})
            return
        sizes = {}
        for p in self.plans:
            data = self.data_for(p.config) if p.todo else None
            if data is None:
                continue
            self.source = getattr(data, "source", None)
            sizes[id(p)] = n_train = int(data.train_images.shape[0])
            if p.config.probe_size > n_train:
                raise UsageError(f"--probe-size {p.config.probe_size} is more than the {n_train:,} training images")
            if p.config.batch_size > n_train:
                raise UsageError(f"--batch-size {p.config.batch_size} is more than the {n_train:,} training images")
        self.out_path = prepare_out(self.out) if self.out is not None else None
        steps = sum(len({s for _, s in p.todo}) * p.config.epochs * -(-sizes[id(p)] // min(p.config.batch_size,
                                                                                          sizes[id(p)]))
                    for p in self.plans if id(p) in sizes)
        self._emit({"event": "plan", "reused": self.reused, "training": self.to_train,
                    "configurations": len(self.plans), "total_steps": steps})

    def data_for(self, config: Any) -> Any:
        """The data set a configuration trains on: the caller's, else loaded (or generated) once per set."""
        if self.given_data is not None:
            return self.given_data
        name, toy = data_source(config)
        key = (name, *toy.items())
        if key not in self.loaded:
            from actviz.bench import data as data_mod

            self.loaded[key] = data_mod.load(self.data_dir, data=name, progress=self.data_progress, **toy)
        return self.loaded[key]

    def train(self) -> None:
        """Train every missing run of every configuration in one call; a signal stops it, keeping every finished epoch."""
        if self.executor is not None and self.to_train:
            from actviz.bench.units import plan_units

            self.interrupted = bool(self.executor.train(self, plan_units(self.plans, self.acts)))
            return
        plans = [p for p in self.plans if p.todo]
        if not plans or self.interrupted:
            return
        by_data: dict[int, list[ConfigPlan]] = {}  # one engine call per data set
        for p in plans:
            by_data.setdefault(id(self.data_for(p.config)), []).append(p)
        try:
            for group in by_data.values():
                if not self.interrupted:
                    self.interrupted = self._train_grid(group)
        except KeyboardInterrupt:  # between two engine calls: what finished is kept
            self.interrupted = True

    def _train_grid(self, plans: list[ConfigPlan]) -> bool:
        """Train the missing runs of ``plans`` together (the engine batches across them); True when interrupted."""
        from actviz.bench.train import train_grid

        data = self.data_for(plans[0].config)
        # decision boundaries: each trained model's probabilities on a grid (the engine keeps them)
        toy = is_toy(plans[0].config)
        live: list[dict[str, Any]] = []
        last_epochs = {p.config.epochs for p in plans}

        def boundaries() -> None:
            from actviz.bench.boundary import attach

            for run in live:
                if "boundary_probs" in run:
                    attach(run, data)

        def on_event(event: dict[str, Any]) -> None:
            kind = event["event"]
            if kind == "start":
                for p, runs in zip(plans, event["run_lists"]):
                    self.store.add_live(runs, p.training, p.label)
                    live.extend(runs)
                event = {k: v for k, v in event.items() if k not in ("run_list", "run_lists")}
            elif kind in ("epoch_end", "diverged"):
                boundaries()
                self.changed = True
                # epochs of a fraction of a second (2-D toy sets): the store is rewritten at most every
                # WRITE_EVERY_S seconds and after a seed's last epoch, not after every epoch
                last = kind == "diverged" or event.get("epoch") in last_epochs
                if last or time.perf_counter() - self.written_at >= WRITE_EVERY_S:
                    self.record()
            label = plans[event["config"]].label if "config" in event else plans[0].label
            self._emit({**event, "config_label": label})

        only = {(c, label, seed) for c, p in enumerate(plans) for label, seed in p.todo}
        seeds = sorted({s for p in plans for _, s in p.todo})
        trained = train_grid(self.acts, data, [p.config for p in plans], seeds=seeds, callback=on_event,
                             only=only, keep_weights=toy)
        boundaries()
        self.env = environment(trained.device, trained.threads, trained.flush_denormal)
        self.changed = self.changed or any(r["history"] or r["status"] in FINISHED for r in trained.runs)
        return bool(trained.interrupted)

    # -- record
    def _top_config(self) -> dict[str, Any]:
        c = self.configs[0]
        stored_source = (self.store.previous.get("config") or {}).get("data_source")
        return {
            **training_config(c), "device": c.device, "threads": c.threads,
            "configurations": [p.training for p in self.plans],
            "config_labels": [p.label for p in self.plans],
            "activations": [{"name": a.name, "label": a.label, "params": params_json(a)} for a in self.acts],
            "seeds": self.seeds,
            "target_accuracy": self.target,
            "data_source": str(self.source) if self.source is not None else stored_source,
            "fresh": self.fresh,
        }

    def _store_summary(self, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The statistics of the whole store, recomputed only when a run's status changes (not every epoch)."""
        sig = [(r["key"], r["status"], None if r["status"] == "running" else r["epochs_completed"]) for r in runs]
        if self._summary is None or self._summary[0] != sig:
            self._summary = (sig, summarize_configs(runs, self.target))
        return self._summary[1]

    def document(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The store's document as it stands now, and its runs."""
        runs = self.store.runs()
        doc = {
            "schema": SCHEMA_VERSION,
            "command": "compare",
            "created": self.store.previous.get("created") or now(),
            "updated": now(),
            "interrupted": self.interrupted,
            "config": self._top_config(),
            "environment": self.env,
            "summary": self._store_summary(runs),
            "wall_seconds": time.perf_counter() - self.t0,
        }
        return doc, runs

    def record(self, doc: dict[str, Any] | None = None, runs: list[dict[str, Any]] | None = None) -> None:
        """Rewrite results.json atomically; a failed write is remembered (the disk may come back), not raised."""
        if self.out_path is None:
            return
        if doc is None or runs is None:
            doc, runs = self.document()
        try:
            self.store.write(doc, runs)
            self.written_at = time.perf_counter()
            self.write_error = None
        except ActvizError as exc:
            self.write_error = str(exc)

    # -- summarise
    def summarise(self, plots: bool = True) -> dict[str, Any]:
        """The last write and the results: the store's document with ``runs`` and ``invocation``.

        An invocation that added nothing leaves the store as it was.  With ``plots``
        false, the store's pictures (which no longer match) are removed; drawing them is
        the caller's (:func:`actviz.render.training.redraw`).
        """
        errors: list[str] = list(self.failures)
        results, runs = self.document()
        files: dict[str, str] = {}
        if self.out_path is not None and self.changed:
            self.record(results, runs)
            if self.write_error is not None:
                errors.append(self.write_error)
            else:
                files["results"] = str(self.out_path / RESULTS)
                if not plots:
                    files.update(self._remove_plots(errors))
        results["runs"] = runs
        by_key = {r["key"]: r for r in runs}
        mine = [by_key[k] for k in self.asked if k in by_key]
        results["invocation"] = {
            "summary": summarize_configs(mine, self.target),
            "runs": mine,
            "reused": self.reused,
            "trained": self.to_train,
            "interrupted": self.interrupted,
            "files": files,
            "errors": errors,
            "out": str(self.out_path) if self.out_path is not None else None,
        }
        return results

    def _remove_plots(self, errors: list[str]) -> dict[str, str]:
        assert self.out_path is not None
        try:
            removed = remove_plots(self.out_path)
        except ActvizError as exc:
            errors.append(str(exc))
            return {}
        return {f"removed {p.name}": str(p) for p in removed}

    def run(self, plots: bool = True) -> dict[str, Any]:
        """plan → reuse → train (recording every epoch) → summarise; see :func:`run_compare`."""
        self.plan()
        self.load_data()
        self.train()
        from actviz.core import signals

        with signals.shielded(raise_after=False):  # a signal now waits: the results are saved and returned
            return self.summarise(plots)


def _variants(activations: Sequence[str | Activation]) -> list[Activation]:
    acts = [a if isinstance(a, Activation) else get(a) for a in activations]
    if not acts:
        raise UsageError("name at least one activation (see 'actviz list')")
    labels = [a.label for a in acts]
    if len(set(labels)) != len(labels):
        raise UsageError(f"an activation is named twice: {', '.join(labels)}")
    return acts


def run_compare(
    activations: Sequence[str | Activation],
    config: Any = None,
    *,
    configs: Sequence[Any] | None = None,
    seeds: Sequence[int] = (0, 1, 2),
    data: Any = None,
    data_dir: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = DEFAULT_OUT,
    target: float = DEFAULT_TARGET,
    plots: bool = True,
    fresh: bool = False,
    callback: Callable[[dict[str, Any]], None] | None = None,
    data_progress: Any = None,
    executor: Any = None,
) -> dict[str, Any]:
    """Train what is missing and return the results (see the module's docstring).

    ``configs`` are the training configurations of the grid (``config`` when there is
    one; default d2l's).  Returns the document written to ``results.json`` (``runs`` and
    ``summary`` cover the whole store) plus ``invocation``: ``summary`` (the statistics of
    the runs asked for now, per configuration), ``runs``, ``reused``, ``trained``,
    ``interrupted``, ``files`` (``results``: the store's file when it was written) and
    ``errors`` (failed writes, each naming its path: the caller reports them after the
    summary).  When training is interrupted (Ctrl-C, or a signal turned into
    KeyboardInterrupt), the epochs completed are kept and ``interrupted`` is true; the
    caller decides the exit code.  ``plots=False`` removes the store's stale pictures.
    ``executor`` trains elsewhere (e.g. :class:`actviz.bench.ray_executor.RayExecutor`);
    a unit whose task failed is one line of ``errors``, its runs marked ``failed``.
    """
    from actviz.bench.train import TrainConfig

    grid = list(configs) if configs else [config or TrainConfig()]
    return Comparison(activations, grid, seeds=seeds, data=data, data_dir=data_dir, out=out, target=target,
                      fresh=fresh, callback=callback, data_progress=data_progress, executor=executor).run(plots)
