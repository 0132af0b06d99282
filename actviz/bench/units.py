"""Units of work for an executor other than the local one: planned by the driver, trained elsewhere.

A :class:`Unit` is a group of runs that the training engine trains together: one seed,
every configuration of one data set with runs of that seed left to train, and their
activations (:func:`plan_units`).  The engine stacks a seed's runs of every configuration
of one shape side by side, as the local path does, so a unit gives the very numbers the
local path gives.  An executor (``actviz.bench.ray_executor``) sends each unit to a
worker, which trains it with :func:`train_unit` and sends every event back as a small
message; the driver stays the **only writer** of the store: a :class:`Recorder` applies
the messages to its own copies of the runs and rewrites ``results.json`` after every
finished epoch, exactly as the local path does.

A unit whose task fails (an exception, a worker killed) has its unfinished runs marked
``failed``: not finished, so left out of the statistics and retrained by the next
invocation, like ``interrupted`` ones; the other units go on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["EXECUTORS", "Recorder", "Unit", "plan_units", "train_unit"]

#: the executors of ``compare --executor``: ``local`` trains in this process, ``ray`` on a Ray cluster
EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class Unit:
    """One group of runs trained together: one seed's runs of the configurations of one data set."""

    index: int  #: its place in the plan (messages name their unit by it)
    configs: tuple[Any, ...]  #: the TrainConfigs (one data set, one device and thread count)
    trainings: tuple[dict[str, Any], ...]  #: what each trains (:func:`actviz.results.training_config`)
    labels: tuple[str, ...]  #: each configuration's label
    seeds: tuple[int, ...]
    acts: tuple[tuple[str, dict[str, Any]], ...]  #: (registry name, parameters as JSON) of each activation
    act_labels: tuple[str, ...]  #: the label of each of ``acts``
    runs: tuple[tuple[int, str, int], ...]  #: (position in ``configs``, activation label, seed) to train
    #: the ``--define`` texts of its defined activations (a worker registers them before looking them up)
    definitions: tuple[str, ...] = ()

    @property
    def config(self) -> Any:
        """The first configuration: where the unit trains (device, threads) and on which data set."""
        return self.configs[0]

    @property
    def label(self) -> str:
        return " | ".join(self.labels)

    @property
    def size(self) -> int:
        return len(self.runs)


def _data_key(config: Any) -> tuple[Any, ...]:
    from actviz.bench.config import data_source

    name, options = data_source(config)
    return (name, *options.items())


def plan_units(plans: Sequence[Any], acts: Sequence[Any]) -> list[Unit]:
    """The units of the runs left to train: one per seed and data set (the engine's seed group).

    ``plans`` are the comparison's :class:`actviz.bench.compare.ConfigPlan`; ``acts`` its
    activation variants.  The one place that decides what travels together.
    """
    from actviz.core.registry import params_json

    by_data: dict[tuple[Any, ...], list[Any]] = {}
    for p in plans:
        if p.todo:
            by_data.setdefault(_data_key(p.config), []).append(p)
    units: list[Unit] = []
    for group in by_data.values():
        for seed in dict.fromkeys(s for p in group for _, s in p.todo):
            runs = [(c, a.label, seed) for c, p in enumerate(group) for a in acts if (a.label, seed) in p.todo]
            labels = {label for _, label, _ in runs}
            chosen = [a for a in acts if a.label in labels]
            units.append(Unit(len(units), tuple(p.config for p in group), tuple(p.training for p in group),
                              tuple(p.label for p in group), (seed,),
                              tuple((a.name, params_json(a)) for a in chosen), tuple(a.label for a in chosen),
                              tuple(runs),
                              tuple(dict.fromkeys(a.spec.definition for a in chosen if a.spec.definition))))
    return units


# --------------------------------------------------------------------------- the worker's side


def _state(run: dict[str, Any]) -> dict[str, Any]:
    """A run's fields but its history (the history travels one epoch at a time)."""
    return {k: v for k, v in run.items() if k not in ("history", "weights", "biases", "activation_parameters",
                                                      "boundary_probs", "boundary_extent")}


def train_unit(unit: Unit, data: Any, send: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Train ``unit`` on ``data`` here; every event goes to ``send`` as a message; returns the final runs.

    Messages: ``start`` (``runs``: the run dicts, empty histories; ``where``: each run's
    position in ``unit.configs``), ``epoch`` and ``diverged`` (``state``: the run's fields but
    its history; ``epoch`` carries its ``record``), ``epoch_end`` and ``steps`` as
    :func:`actviz.bench.train.train_grid` emits them; each carries ``unit``.  The result:
    ``runs`` (complete), ``where``, ``device``, ``threads``, ``flush_denormal``, ``interrupted``.
    """
    from actviz.bench.config import is_toy
    from actviz.bench.train import train_grid
    from actviz.core.registry import get
    from actviz.facts.define import define_all

    define_all(unit.definitions)
    acts = [get(name, **params) for name, params in unit.acts]
    runs: list[dict[str, Any]] = []
    where: list[int] = []

    def on_event(event: dict[str, Any]) -> None:
        kind = event["event"]
        if kind == "start":
            runs.extend(event["run_list"])
            where.extend(c for c, listed in enumerate(event["run_lists"]) for _ in listed)
            event = {k: v for k, v in event.items() if k not in ("run_list", "run_lists")}
            event["runs"] = [_state(r) for r in runs]
            event["where"] = list(where)
        elif kind in ("epoch", "diverged"):
            event = {**event, "state": _state(runs[event["run"]])}
        send({**event, "unit": unit.index})

    toy = is_toy(unit.config)  # a 2-D set (a unit is one data set): decision boundaries
    res = train_grid(acts, data, list(unit.configs), seeds=list(unit.seeds), only=set(unit.runs),
                     callback=on_event, keep_weights=toy)
    if toy:
        from actviz.bench.boundary import attach

        for run in res.runs:
            attach(run, data)
    return {"unit": unit.index, "runs": res.runs, "where": where, "device": res.device, "threads": res.threads,
            "flush_denormal": res.flush_denormal, "interrupted": res.interrupted}


# --------------------------------------------------------------------------- the driver's side


class Recorder:
    """The driver's copies of the units' runs, kept up to date from the workers' messages.

    ``comparison`` is the :class:`actviz.bench.compare.Comparison` whose store is written
    (its ``record``) and whose callback sees the events (with ``config_label``), as on the
    local path.  ``failures`` lists one line per failed unit.
    """

    def __init__(self, comparison: Any, units: Sequence[Unit]):
        self.cmp = comparison
        self.units = {u.index: u for u in units}
        self.runs: dict[int, list[dict[str, Any]]] = {}
        self.where: dict[int, list[int]] = {}  #: each run's position in its unit's configs
        self.failures: list[str] = []

    def _emit(self, unit: Unit, event: dict[str, Any]) -> None:
        label = unit.labels[event["config"]] if "config" in event else unit.labels[0]
        self.cmp._emit({**{k: v for k, v in event.items() if k not in ("unit", "state", "runs", "where")},
                        "config_label": label})

    def _live(self, unit: Unit, runs: list[dict[str, Any]], where: list[int]) -> list[dict[str, Any]]:
        if unit.index not in self.runs:
            self.runs[unit.index], self.where[unit.index] = runs, where
            for c, (training, label) in enumerate(zip(unit.trainings, unit.labels)):
                mine = [r for r, w in zip(runs, where) if w == c]
                if mine:
                    self.cmp.store.add_live(mine, training, label)
        return self.runs[unit.index]

    def message(self, msg: dict[str, Any]) -> None:
        """Apply one worker's message: the run's new state, its epoch; save at the end of an epoch."""
        unit = self.units[msg["unit"]]
        kind = msg["event"]
        if kind == "start":
            self._live(unit, [{**r, "history": []} for r in msg["runs"]], list(msg["where"]))
        elif kind in ("epoch", "diverged") and unit.index in self.runs:
            run = self.runs[unit.index][msg["run"]]
            run.update(msg["state"])
            if kind == "epoch" and len(run["history"]) < msg["epoch"]:
                run["history"].append(msg["record"])
        if kind in ("epoch_end", "diverged"):
            self.cmp.changed = True
            self.cmp.record()
        self._emit(unit, msg)

    def finished(self, result: dict[str, Any]) -> None:
        """A unit's task returned: its runs as the worker left them."""
        from actviz.bench.compare import environment

        unit = self.units[result["unit"]]
        runs = self._live(unit, [dict(r) for r in result["runs"]], list(result["where"]))
        for run, final in zip(runs, result["runs"]):
            run.update(final)
        self.cmp.env = environment(result["device"], result["threads"], result["flush_denormal"])
        self.cmp.changed = self.cmp.changed or any(r["history"] or r["status"] in ("completed", "diverged")
                                                   for r in runs)
        self.cmp.record()

    def failed(self, index: int, error: str) -> None:
        """A unit's task failed: its unfinished runs are marked ``failed`` (kept epochs stay), and said."""
        unit = self.units[index]
        named = dict(zip(unit.act_labels, unit.acts))
        runs = self._live(unit, [_blank(*named[label], label, seed) for _, label, seed in unit.runs],
                          [c for c, _, _ in unit.runs])
        for run in runs:
            if run["status"] in ("running", "pending"):
                run["status"] = "failed"
        acts = list(dict.fromkeys(label for _, label, _ in unit.runs))
        labels = ", ".join(acts)
        self.failures.append(f"the task of seed {', '.join(map(str, unit.seeds))} ({labels}"
                             f"{'; ' + unit.label if len(self.cmp.plans) > 1 else ''}) failed: {error}; "
                             "its runs are marked failed and train again at the next invocation")
        self.cmp.changed = True
        self.cmp.record()
        self.cmp._emit({"event": "failed", "config_label": unit.label, "seeds": list(unit.seeds),
                        "labels": acts, "error": error})

    def stopped(self) -> None:
        """Training was interrupted: runs in progress are marked as :func:`train_runs` marks them."""
        for index, runs in self.runs.items():
            configs = self.units[index].configs
            for run, c in zip(runs, self.where[index]):
                if run["status"] in ("running", "pending"):
                    done = run["epochs_completed"] >= configs[c].epochs
                    run["status"] = "completed" if done else "interrupted"


def _blank(name: str, params: dict[str, Any], label: str, seed: int) -> dict[str, Any]:
    """A run that never started (its task failed before training): no epoch."""
    return {"activation": name, "label": label, "params": params, "seed": seed, "status": "pending",
            "epochs_completed": 0, "history": [], "learned": {}, "diverged_epoch": None}
