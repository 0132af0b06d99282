"""Units of work for an executor other than the local one: planned by the driver, trained elsewhere.

A :class:`Unit` is a group of runs that the training engine trains together: one
configuration, one seed, the activations of that seed left to train
(:func:`plan_units`).  An executor (``actviz.bench.ray_executor``) sends each unit to a
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
    """One group of runs trained together: a configuration, its seeds, and which runs of them."""

    index: int  #: its place in the plan (messages name their unit by it)
    config: Any  #: the TrainConfig
    training: dict[str, Any]  #: what it trains (:func:`actviz.results.training_config`)
    label: str  #: the configuration's label
    seeds: tuple[int, ...]
    acts: tuple[tuple[str, dict[str, Any]], ...]  #: (registry name, parameters as JSON) of each activation
    runs: tuple[tuple[str, int], ...]  #: (activation label, seed) to train
    #: the ``--define`` texts of its defined activations (a worker registers them before looking them up)
    definitions: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return len(self.runs)


def plan_units(plans: Sequence[Any], acts: Sequence[Any]) -> list[Unit]:
    """The units of the runs left to train: one per configuration and seed (the engine's seed group).

    ``plans`` are the comparison's :class:`actviz.bench.compare.ConfigPlan`; ``acts`` its
    activation variants.  The one place that decides what travels together.
    """
    from actviz.core.registry import params_json

    units: list[Unit] = []
    for p in plans:
        for seed in dict.fromkeys(s for _, s in p.todo):
            labels = {label for label, s in p.todo if s == seed}
            chosen = [a for a in acts if a.label in labels]
            units.append(Unit(len(units), p.config, p.training, p.label, (seed,),
                              tuple((a.name, params_json(a)) for a in chosen),
                              tuple((a.label, seed) for a in chosen),
                              tuple(dict.fromkeys(a.spec.definition for a in chosen if a.spec.definition))))
    return units


# --------------------------------------------------------------------------- the worker's side


def _state(run: dict[str, Any]) -> dict[str, Any]:
    """A run's fields but its history (the history travels one epoch at a time)."""
    return {k: v for k, v in run.items() if k not in ("history", "weights", "biases")}


def train_unit(unit: Unit, data: Any, send: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Train ``unit`` on ``data`` here; every event goes to ``send`` as a message; returns the final runs.

    Messages: ``start`` (``runs``: the run dicts, empty histories), ``epoch`` and
    ``diverged`` (``state``: the run's fields but its history; ``epoch`` carries its
    ``record``), ``epoch_end`` and ``steps`` as :func:`actviz.bench.train.train_runs`
    emits them; each carries ``unit``.  The result: ``runs`` (complete), ``device``,
    ``threads``, ``flush_denormal``, ``interrupted``.
    """
    from actviz.bench.train import train_runs
    from actviz.core.registry import get
    from actviz.facts.define import define_all

    define_all(unit.definitions)
    acts = [get(name, **params) for name, params in unit.acts]
    runs: list[dict[str, Any]] = []

    def on_event(event: dict[str, Any]) -> None:
        kind = event["event"]
        if kind == "start":
            runs.extend(event["run_list"])
            event = {k: v for k, v in event.items() if k != "run_list"}
            event["runs"] = [_state(r) for r in runs]
        elif kind in ("epoch", "diverged"):
            event = {**event, "state": _state(runs[event["run"]])}
        send({**event, "unit": unit.index})

    res = train_runs(acts, data, unit.config, seeds=list(unit.seeds), only=set(unit.runs), callback=on_event)
    return {"unit": unit.index, "runs": res.runs, "device": res.device, "threads": res.threads,
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
        self.failures: list[str] = []

    def _emit(self, unit: Unit, event: dict[str, Any]) -> None:
        self.cmp._emit({**{k: v for k, v in event.items() if k not in ("unit", "state", "runs")},
                        "config_label": unit.label})

    def _live(self, unit: Unit, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if unit.index not in self.runs:
            self.runs[unit.index] = runs
            self.cmp.store.add_live(runs, unit.training, unit.label)
        return self.runs[unit.index]

    def message(self, msg: dict[str, Any]) -> None:
        """Apply one worker's message: the run's new state, its epoch; save at the end of an epoch."""
        unit = self.units[msg["unit"]]
        kind = msg["event"]
        if kind == "start":
            self._live(unit, [{**r, "history": []} for r in msg["runs"]])
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
        runs = self._live(unit, [dict(r) for r in result["runs"]])
        for run, final in zip(runs, result["runs"]):
            run.update(final)
        self.cmp.env = environment(result["device"], result["threads"], result["flush_denormal"])
        self.cmp.changed = self.cmp.changed or any(r["history"] or r["status"] in ("completed", "diverged")
                                                   for r in runs)
        self.cmp.record()

    def failed(self, index: int, error: str) -> None:
        """A unit's task failed: its unfinished runs are marked ``failed`` (kept epochs stay), and said."""
        unit = self.units[index]
        runs = self._live(unit, [_blank(name, params, label, seed)
                                 for (name, params), (label, seed) in zip(unit.acts, unit.runs)])
        for run in runs:
            if run["status"] in ("running", "pending"):
                run["status"] = "failed"
        labels = ", ".join(label for label, _ in unit.runs)
        self.failures.append(f"the task of seed {', '.join(map(str, unit.seeds))} ({labels}"
                             f"{'; ' + unit.label if len(self.cmp.plans) > 1 else ''}) failed: {error}; "
                             "its runs are marked failed and train again at the next invocation")
        self.cmp.changed = True
        self.cmp.record()
        self.cmp._emit({"event": "failed", "config_label": unit.label, "seeds": list(unit.seeds),
                        "labels": [label for label, _ in unit.runs], "error": error})

    def stopped(self) -> None:
        """Training was interrupted: runs in progress are marked as :func:`train_runs` marks them."""
        for index, runs in self.runs.items():
            epochs = self.units[index].config.epochs
            for run in runs:
                if run["status"] in ("running", "pending"):
                    run["status"] = "completed" if run["epochs_completed"] >= epochs else "interrupted"


def _blank(name: str, params: dict[str, Any], label: str, seed: int) -> dict[str, Any]:
    """A run that never started (its task failed before training): no epoch."""
    return {"activation": name, "label": label, "params": params, "seed": seed, "status": "pending",
            "epochs_completed": 0, "history": [], "learned": {}, "diverged_epoch": None}
