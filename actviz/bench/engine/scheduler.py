"""The scheduler: plans the runs of a grid, groups them into stacks, trains each stack, records every epoch.

A *run* is activation × training configuration × seed.  Runs whose network family
gives the same ``key`` share a stack (same shape, optimiser, batch size, epochs...;
they may differ in activation, parameters, learning rate and seed).  Within such a
group the *positions* are the (configuration, activation) pairs and the *slots* the
seeds; seeds that train the same positions form one rectangular stack of
positions × slots models (split by slots when it would not fit in memory).  Each
stack trains every epoch of all its models at once: each slot's batches
(:class:`~actviz.bench.engine.batches.Batches`), one step of every model, then each
surviving model's record.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from actviz.bench.engine.batches import Batches
from actviz.bench.engine.cost import activation_cost
from actviz.bench.engine.graphs import StepRunner
from actviz.core.registry import Activation, params_json

__all__ = ["StackPlan", "Trainer", "plan_runs", "plan_stacks"]

Callback = Callable[[dict[str, Any]], None]


@dataclass
class StackPlan:
    """One stack: model ``i = j·S + s`` is run ``runs[i]`` (position j, seed slot s)."""

    family: Any
    config: Any
    acts: list[Activation]
    seeds: list[int]  #: one per slot
    lrs: list[float]
    runs: list[int]  #: indices into the run list, one per model
    configs: int  #: distinct configurations among its positions (steps count once per configuration and slot)
    slot: list[int] = field(default_factory=list)


def plan_runs(acts: Sequence[Activation], configs: Sequence[Any], seeds: Sequence[int],
              only: Any = None) -> tuple[list[dict[str, Any]], list[tuple[int, int, int]]]:
    """The run dicts (pending; configuration, seed, activation order) and (config, act, seed) of each.

    ``only``, when given, holds the ``(config index, label, seed)`` runs to train.
    """
    runs: list[dict[str, Any]] = []
    where: list[tuple[int, int, int]] = []
    for c in range(len(configs)):
        for seed in seeds:
            chosen = [a for a, act in enumerate(acts) if only is None or (c, act.label, int(seed)) in only]
            for a in chosen:
                act = acts[a]
                runs.append({"activation": act.name, "label": act.label, "params": params_json(act),
                             "seed": int(seed), "status": "pending", "epochs_completed": 0, "history": [],
                             "learned": {}, "diverged_epoch": None,
                             "trained_with": [acts[b].label for b in chosen],
                             **({"definition": act.spec.definition}
                                if getattr(act.spec, "definition", None) else {})})
                where.append((c, a, int(seed)))
    return runs, where


def plan_stacks(acts: Sequence[Activation], configs: Sequence[Any], where: list[tuple[int, int, int]],
                family_of: Callable[[Any], Any], max_models: Callable[[Any, Activation, int], int],
                ) -> list[StackPlan]:
    """Group the runs into rectangular stacks (see the module's docstring)."""
    groups: dict[Any, dict[int, dict[tuple[int, int], int]]] = {}
    families: dict[Any, Any] = {}
    for r, (c, a, seed) in enumerate(where):
        fam = family_of(configs[c])
        key = (fam.name, fam.key(acts[a], configs[c]))
        families[key] = fam
        groups.setdefault(key, {}).setdefault(seed, {})[(a, c)] = r  # positions: activation first
    stacks = []
    for key, by_seed in groups.items():
        by_positions: dict[tuple[tuple[int, int], ...], list[int]] = {}
        for seed, pos in by_seed.items():
            by_positions.setdefault(tuple(sorted(pos)), []).append(seed)
        for positions, slot_seeds in by_positions.items():
            a0, c0 = positions[0]
            per = max(1, max_models(configs[c0], acts[a0], len(positions)) // len(positions))
            for k in range(0, len(slot_seeds), per):
                chunk = slot_seeds[k : k + per]
                S = len(chunk)
                order = [(p, s) for p in positions for s in chunk]  # i = j·S + s
                stacks.append(StackPlan(
                    families[key], configs[c0], [acts[a] for (a, _), _ in order], chunk,
                    [float(configs[c].lr) for (_, c), _ in order], [by_seed[s][p] for p, s in order],
                    len({c for _, c in positions}), [i % S for i in range(len(order))]))
    return stacks


def max_models(config: Any, act: Activation, positions: int, inputs: int, device: torch.device) -> int:
    """How many models of this shape one stack may hold (parameters, optimiser state and work buffers)."""
    from actviz.bench.engine.params import maxout_k

    k = maxout_k(act) if config.depth else 1
    cols = config.hidden * k if config.depth else 10
    params = (inputs + 1) * cols + max(0, config.depth - 1) * config.hidden * cols + config.hidden * 10
    state = 3 if config.optimizer == "adam" else 1
    work = config.batch_size * (cols * (4 * max(1, config.depth)) + inputs // max(1, positions))
    per_model = 4 * (2 * state * params + 2 * work)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        budget = int(free * 0.6)
    else:
        pages = os.sysconf("SC_PHYS_PAGES") if hasattr(os, "sysconf") else 0
        budget = int(pages * os.sysconf("SC_PAGE_SIZE") * 0.25) if pages > 0 else 2 << 30
    return max(1, budget // per_model)


class Trainer:
    """Trains the stacks of one call, filling in ``runs`` and emitting events."""

    def __init__(self, batches: Batches, runs: list[dict[str, Any]], where: list[tuple[int, int, int]],
                 callback: Callback | None, device: torch.device, keep_weights: bool = False):
        self.batches, self.runs, self.where, self.callback = batches, runs, where, callback
        self.device, self.keep_weights = device, keep_weights
        self.every = max(1, batches.n_batches // 20)  # a "steps" event every this many mini-batches
        self._costs: dict[tuple[Any, ...], float] = {}

    def emit(self, event: dict[str, Any]) -> None:
        if self.callback is not None:
            self.callback(event)

    def _event(self, i: int, **kw: Any) -> dict[str, Any]:
        run = self.runs[i]
        return {"run": i, "activation": run["label"], "seed": run["seed"], "config": self.where[i][0], **kw}

    def diverge(self, stack: Any, plan: StackPlan, j: int, epoch: int) -> None:
        i = plan.runs[j]
        stack.deactivate(j)
        self.runs[i]["status"] = "diverged"
        self.runs[i]["diverged_epoch"] = epoch
        self.emit({"event": "diverged", **self._event(i, epoch=epoch)})

    def cost(self, plan: StackPlan, j: int) -> float:
        act = plan.acts[j]
        key = (act.name, act.label, json_key(params_json(act)), plan.config.depth, plan.config.hidden)
        if key not in self._costs:
            self._costs[key] = activation_cost(act, plan.config, self.batches.bs, self.device)
        return self._costs[key]

    def train_stack(self, plan: StackPlan) -> None:
        """Every epoch of one stack's models; their final status (and weights)."""
        b = self.batches
        stack = plan.family.build(plan.acts, [plan.seeds[s] for s in plan.slot], plan.lrs, plan.slot, plan.config, b.input_shape,
                                  b.n_classes, self.device)
        for j, i in enumerate(plan.runs):
            self.runs[i]["status"] = "running"
            self.runs[i]["act_seconds"] = self.cost(plan, j)
        gens = [torch.Generator().manual_seed(s) for s in plan.seeds]
        runner = StepRunner(stack, self.device)
        for epoch in range(1, plan.config.epochs + 1):
            self.train_epoch(stack, plan, runner, gens, epoch)
            self.emit({"event": "epoch_end", "seed": plan.seeds[0], "seeds": list(plan.seeds), "epoch": epoch,
                       "configs": sorted({self.where[i][0] for i in plan.runs})})
            if not any(stack.active):
                break
        for j, i in enumerate(plan.runs):
            if self.runs[i]["status"] == "running":
                self.runs[i]["status"] = "completed"
            if self.keep_weights:
                self.runs[i]["weights"], self.runs[i]["biases"] = stack.parameters_of(j)
                if hasattr(stack, "activation_parameters_of"):  # learned ones, as the forward takes them
                    self.runs[i]["activation_parameters"] = stack.activation_parameters_of(j)
        if self.keep_weights and b.input_shape == (2,):  # a 2-D set: each model's decision boundary
            self.boundaries(stack, plan)

    def boundaries(self, stack: Any, plan: StackPlan) -> None:
        """Each model's class probabilities on the grid over the data, from its own forward (by chunks)."""
        from actviz.bench.boundary import as_image, grid_for

        b = self.batches
        ext, grid = grid_for(torch.cat([b.train_x.float(), b.test_x.float()]))
        probs = torch.cat([stack.probabilities(part.to(self.device)).cpu() for part in grid.split(2048)], 1)
        for j, i in enumerate(plan.runs):
            self.runs[i]["boundary_probs"], self.runs[i]["boundary_extent"] = as_image(probs[j]), ext

    def train_epoch(self, stack: Any, plan: StackPlan, runner: StepRunner, gens: list[torch.Generator],
                    epoch: int) -> None:
        """One epoch of the stack: the mini-batch steps, then each surviving model's record."""
        t0 = time.perf_counter()
        b = self.batches
        alive = [j for j in range(len(plan.runs)) if stack.active[j]]
        stack.reset_stats()
        perms = b.orders(gens)
        weight = len(plan.seeds) * plan.configs
        pending = 0
        for k in range(b.n_batches):
            xs, ys = b.batch(perms, k)
            try:
                runner(xs, ys)
            except RuntimeError as exc:  # an update beyond the float range: diverged
                if "overflow" not in str(exc):
                    raise
                for j in alive:
                    if stack.active[j]:
                        self.diverge(stack, plan, j, epoch)
                break
            pending += 1
            if pending == self.every:
                self.emit({"event": "steps", "n": pending * weight})
                pending = 0
        if pending:
            self.emit({"event": "steps", "n": pending * weight})
        stats = stack.epoch_stats()
        for j in alive:  # a non-finite loss stops that run; the others go on
            if stack.active[j] and not math.isfinite(stats[j][0]):
                self.diverge(stack, plan, j, epoch)
        evals = stack.evaluate(b.test_x, b.test_y)
        diags = stack.diagnostics(b.probe_x, b.probe_y)
        share = (time.perf_counter() - t0) / max(1, len(alive))
        for j in alive:
            if stack.active[j]:
                self.record(stack, plan, j, epoch, stats[j], evals[j], diags[j], share)

    def record(self, stack: Any, plan: StackPlan, j: int, epoch: int, stats: tuple[float, float],
               evals: tuple[float, float], diags: dict[str, Any], share: float) -> None:
        """Append the epoch to model ``j``'s run, or mark it diverged."""
        acc, test_loss = evals
        if not all(map(math.isfinite, [test_loss, diags["probe_loss"], *diags["grad_norm"]])):
            self.diverge(stack, plan, j, epoch)
            return
        record = {"epoch": epoch, "train_loss": stats[0], "train_acc": stats[1], "test_acc": acc,
                  "test_loss": test_loss, "time": share, "diagnostics": diags}
        i = plan.runs[j]
        run = self.runs[i]
        run["history"].append(record)
        run["epochs_completed"] = epoch
        run["learned"] = stack.learned(j)
        learning = stack.learning(j) if hasattr(stack, "learning") else None
        if learning is not None:
            record.update(learning["epoch"])
            run.update(learning["run"])
        self.emit({"event": "epoch", **self._event(i, epoch=epoch, record=record)})


def json_key(params: Any) -> str:
    import json

    return json.dumps(params, sort_keys=True)
