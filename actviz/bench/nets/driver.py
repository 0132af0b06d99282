"""A small epoch driver for the stacks of this package: ``train_runs`` with the engine's runs and events.

The batched engine (:mod:`actviz.bench.train`) owns the scheduler; until it drives the
families of :data:`actviz.bench.nets.NETWORKS`, ``compare`` trains ``--model lenet|cnn``
and the MLP with ``--norm``/``--residual`` through this driver (the hook is
:func:`actviz.bench.compare.trainer_for`).  It keeps the engine's rules: one stack per seed
holds that seed's runs (they read the same batches, so their first layer runs as one
product), trained for every epoch before the next seed's; model i's weights come from ``Generator().manual_seed(seed)``; each
seed's epoch order is ``torch.randperm(n)`` from its own generator seeded with the seed,
so every model of a seed sees the same batches; diagnostics use the engine's probe batch.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Sequence
from typing import Any

import torch

from actviz.bench.nets import family_for
from actviz.core.errors import UsageError
from actviz.core.registry import Activation, params_json

__all__ = ["PROBE_SEED", "train_runs"]

#: the engine's probe batch: drawn from the training set with this fixed seed
PROBE_SEED = 20240601


def _images(u: torch.Tensor) -> torch.Tensor:
    """uint8 images scaled to [0, 1]; float images as they are."""
    return u.float().div_(255) if u.dtype == torch.uint8 else u.float()


def _runs(acts: Sequence[Activation], seeds: Sequence[int], only: Collection[tuple[str, int]] | None,
          ) -> tuple[list[dict[str, Any]], list[tuple[Activation, int]]]:
    runs, models = [], []
    for seed in seeds:
        chosen = [a for a in acts if only is None or (a.label, int(seed)) in only]
        for act in chosen:
            models.append((act, int(seed)))
            runs.append({"activation": act.name, "label": act.label, "params": params_json(act), "seed": int(seed),
                         "status": "pending", "epochs_completed": 0, "history": [], "learned": {},
                         "diverged_epoch": None, "trained_with": [a.label for a in chosen]})
    return runs, models


def train_runs(acts: Sequence[Activation], data: Any, config: Any, *, seeds: Sequence[int] = (0,),
               callback: Callable[[dict[str, Any]], None] | None = None,
               only: Collection[tuple[str, int]] | None = None, keep_weights: bool = False) -> Any:
    """Train every (activation, seed) run of ``config`` in one stack; the engine's ``TrainResult`` and events."""
    from actviz.bench.train import TrainResult, resolve_device

    config = config.validate()
    if not acts or not list(seeds):
        raise UsageError("name at least one activation and one seed")
    device = resolve_device(config.device)
    threads_before = torch.get_num_threads()
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    t0 = time.perf_counter()
    runs, models = _runs(acts, list(seeds), only)
    result = TrainResult(runs=runs, device=str(device), threads=torch.get_num_threads())
    try:
        if models:
            _Loop(config, data, device, runs, models, callback).run(keep_weights)
    except KeyboardInterrupt:
        result.interrupted = True
        for run in runs:
            if run["status"] in ("running", "pending"):
                run["status"] = "completed" if run["epochs_completed"] >= config.epochs else "interrupted"
    finally:
        torch.set_num_threads(threads_before)
    result.seconds = time.perf_counter() - t0
    return result


class _Loop:
    def __init__(self, config: Any, data: Any, device: torch.device, runs: list[dict[str, Any]],
                 models: list[tuple[Activation, int]], callback: Callable[[dict[str, Any]], None] | None):
        self.config, self.device, self.runs, self.callback = config, device, runs, callback
        self.train_u = data.train_images.to(device)
        self.train_y = data.train_labels.to(device=device, dtype=torch.int64)
        self.test_x = _images(data.test_images.to(device))
        self.test_y = data.test_labels.to(device=device, dtype=torch.int64)
        self.n = n = self.train_u.shape[0]
        if n == 0:
            raise UsageError("the training set is empty")
        probe = torch.randperm(n, generator=torch.Generator().manual_seed(PROBE_SEED))[: config.probe_size]
        self.probe_x, self.probe_y = _images(self.train_u[probe.to(device)]), self.train_y[probe.to(device)]
        self.models, self.n_classes = models, int(getattr(data, "n_classes", 10))
        self.bs = min(config.batch_size, n)
        self.n_batches = (n + self.bs - 1) // self.bs

    def emit(self, event: dict[str, Any]) -> None:
        if self.callback is not None:
            self.callback(event)

    def run(self, keep_weights: bool) -> None:
        cfg, runs = self.config, self.runs
        seeds = list(dict.fromkeys(s for _, s in self.models))
        self.emit({"event": "start", "total_steps": len(seeds) * cfg.epochs * self.n_batches, "runs": len(runs),
                   "epochs": cfg.epochs, "batches": self.n_batches, "run_list": runs})
        for seed in seeds:
            self.idx = [i for i, (_, s) in enumerate(self.models) if s == seed]
            self.stack = family_for(cfg).build([self.models[i][0] for i in self.idx], [seed] * len(self.idx),
                                               [cfg.lr] * len(self.idx), [0] * len(self.idx), cfg,
                                               tuple(self.train_u.shape[1:]), self.n_classes, self.device)
            for i in self.idx:
                runs[i]["status"] = "running"
            gen = torch.Generator().manual_seed(seed)
            for epoch in range(1, cfg.epochs + 1):
                self.epoch(epoch, gen)
                self.emit({"event": "epoch_end", "seed": seed, "epoch": epoch})
                if all(runs[i]["status"] != "running" for i in self.idx):
                    break
            for j, i in enumerate(self.idx):
                if runs[i]["status"] == "running":
                    runs[i]["status"] = "completed"
                if keep_weights:
                    runs[i]["weights"], runs[i]["biases"] = self.stack.parameters_of(j)

    def epoch(self, epoch: int, gen: torch.Generator) -> None:
        t0, stack, bs = time.perf_counter(), self.stack, self.bs
        perm = torch.randperm(self.n, generator=gen).to(self.device)
        stack.reset_stats()
        every, pending = max(1, self.n_batches // 20), 0
        for b in range(self.n_batches):
            sel = perm[b * bs:(b + 1) * bs]
            stack.step(_images(self.train_u[sel]).unsqueeze(0), self.train_y[sel].unsqueeze(0))
            pending += 1
            if pending == every:
                self.emit({"event": "steps", "n": pending})
                pending = 0
        if pending:
            self.emit({"event": "steps", "n": pending})
        stats = stack.epoch_stats()
        evals = stack.evaluate(self.test_x, self.test_y)
        diags = stack.diagnostics(self.probe_x, self.probe_y)
        alive = [j for j, i in enumerate(self.idx) if self.runs[i]["status"] == "running"]
        share = (time.perf_counter() - t0) / max(1, len(alive))
        for j in alive:
            self.record(j, epoch, stats[j], evals[j], diags[j], share)

    def record(self, j: int, epoch: int, stats: tuple[float, float], evals: tuple[float, float],
               diags: dict[str, Any] | None, share: float) -> None:
        """Append the epoch to the run of model ``j`` of the stack, or mark it diverged."""
        i = self.idx[j]
        run = self.runs[i]
        assert diags is not None
        if not all(map(math.isfinite, [stats[0], evals[1], diags["probe_loss"], *diags["grad_norm"]])):
            self.stack.deactivate(j)
            run["status"], run["diverged_epoch"] = "diverged", epoch
            self.emit({"event": "diverged", "run": i, "activation": run["label"], "seed": run["seed"],
                       "epoch": epoch})
            return
        record = {"epoch": epoch, "train_loss": stats[0], "train_acc": stats[1], "test_acc": evals[0],
                  "test_loss": evals[1], "time": share, "diagnostics": diags}
        run["history"].append(record)
        run["epochs_completed"] = epoch
        run["learned"] = self.stack.learned(j)
        self.emit({"event": "epoch", "run": i, "activation": run["label"], "seed": run["seed"], "epoch": epoch,
                   "record": record})
