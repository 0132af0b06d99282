"""The training engine of ``actviz compare``: the reference MLP, trained fast.

This module is the engine's public face (:func:`train_runs`, :func:`train_grid`); the
engine itself is :mod:`actviz.bench.engine` (the model stack, its step, the scheduler
that groups runs and feeds the batches, the diagnostics).

The model is d2l's "Multilayer Perceptrons" network: inputs scaled to [0, 1],
``depth`` hidden layers of ``hidden`` units with the activation under study, a
linear output layer of 10 logits, the mean cross-entropy, and SGD (or Adam).

How it is fast
--------------
Every run of a call is trained at once by the batched engine
(:mod:`actviz.bench.engine`): runs of one network shape form a *stack* (seeds ×
activations × parameter variants × learning rates), whose weights are stacked
tensors trained with batched matrix products, a hand-written backward through the
registry's **analytic** derivative ``act.derivative``, and SGD or Adam updates on the
stacked tensors with one learning rate per model.  The first layer of every model of a
seed sits side by side in one matrix, so one GEMM per seed computes their first
pre-activations (the first layer holds ~98% of the FLOPs of the 784-256-10 network).
On a GPU each step is captured once in a CUDA graph and replayed.
``torch.set_flush_denormal(True)`` on CPU: sigmoid and tanh produce denormal floats
that otherwise slow every GEMM touching them many times over.

Initialisation and batches are reproducible: with seed ``s`` every model's
weights are drawn from a generator seeded with ``s`` (so the activations of one
seed start from the same weights, maxout excepted: its first layer is k times
wider), and the mini-batch order of every epoch from another generator seeded
with ``s``, whichever runs train beside it.  The same seed gives the same numbers
on CPU (up to the rounding of the batched products).

Diagnostics (after every epoch, on a fixed probe batch of training images,
the same for every run):

* ``dead``: per hidden layer, the fraction of units whose derivative
  f′(pre-activation) is exactly 0 on **every** probe example (a unit that never
  passes a gradient; ReLU's dead units).
* ``saturated``: per hidden layer, the fraction of units with
  |f′(pre-activation)| ≤ 0.01·sup|f′| on **more than half** of the probe
  examples (sup|f′| from the activation's declared ``derivative_range``; 1 if
  unbounded or unknown).  This counts units in a flat region of f (sigmoid and
  tanh tails, ReLU's left half-line); dead units are also saturated.
* ``grad_norm``: the Frobenius norm of the gradient of the mean probe loss with
  respect to each weight matrix, from the input layer to the output layer.
  Vanishing gradients show as norms shrinking towards the input.

Maxout units are never dead nor saturated in this sense (one piece always
passes the gradient with slope 1), so they report ``None`` for both.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from actviz.bench.config import INITS, OPTIMIZERS, PRECISIONS, TrainConfig
from actviz.bench.engine.batches import PROBE_SEED, Batches
from actviz.bench.engine.cost import activation_cost, flops_per_epoch
from actviz.bench.engine.kernels import fast_path
from actviz.bench.engine.memory import keep_freed_memory
from actviz.bench.engine.mlp import SATURATION_EPS, SATURATION_MAJORITY
from actviz.bench.engine.params import CONSTANT_INIT, N_CLASSES, init_weight
from actviz.bench.engine.precision import precision_scope
from actviz.bench.engine.scheduler import Trainer, max_models, plan_runs, plan_stacks
from actviz.core.errors import UsageError
from actviz.core.registry import Activation

__all__ = [
    "CONSTANT_INIT",
    "INITS",
    "N_CLASSES",
    "OPTIMIZERS",
    "PRECISIONS",
    "PROBE_SEED",
    "SATURATION_EPS",
    "SATURATION_MAJORITY",
    "TrainConfig",
    "TrainResult",
    "activation_cost",
    "fast_path",
    "flops_per_epoch",
    "init_weight",
    "network_family",
    "resolve_device",
    "train_grid",
    "train_runs",
]


@dataclass
class TrainResult:
    """What :func:`train_runs` returns: one dict per run, and whether Ctrl-C stopped it."""

    runs: list[dict[str, Any]]
    interrupted: bool = False
    device: str = "cpu"
    threads: int = 1
    flush_denormal: bool = False
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def resolve_device(device: str) -> torch.device:
    """``auto`` → CUDA when available, else CPU; ``cuda`` without CUDA is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: no CUDA device is available (use --device cpu or auto)")
    return torch.device(device)


def network_family(config: TrainConfig) -> Any:
    """The network family that trains ``config`` (:func:`actviz.bench.nets.family_for`)."""
    from actviz.bench.nets import family_for

    return family_for(config)


def train_runs(
    acts: Sequence[Activation],
    data: Any,
    config: TrainConfig | None = None,
    *,
    seeds: Sequence[int] = (0,),
    callback: Callable[[dict[str, Any]], None] | None = None,
    only: Collection[tuple[str, int]] | None = None,
    keep_weights: bool = False,
) -> TrainResult:
    """Train the MLP once per activation and seed; return every run's history.

    ``data`` has ``train_images`` (uint8, scaled by 1/255, or float, used as they are;
    shaped (N, *input_shape)), ``train_labels``, ``test_images`` and ``test_labels``, and
    optionally ``n_classes`` (default 10) (an :class:`actviz.bench.data.FashionMNIST`).

    ``callback(event)`` is called with dicts: ``{"event": "start", "total_steps", ...}``,
    ``{"event": "steps", "n"}`` every few mini-batches, and
    ``{"event": "epoch", "run": i, "activation", "seed", "config", "epoch", "record"}`` after
    each epoch of each run, then ``{"event": "epoch_end", "seeds", "epoch"}`` once the epoch
    of every run trained together (the runs of those seeds) is recorded (a moment to save
    them).  The ``start`` event carries ``run_list``, the list of run dicts that training
    fills in (live, for a caller that saves them as it goes).  An exception from it stops
    training; a KeyboardInterrupt (from it or from Ctrl-C) keeps the epochs completed so
    far and returns with ``interrupted=True``.

    ``only``, when given, is the set of ``(label, seed)`` runs to train; the others are
    skipped (a caller that reuses stored runs trains only the missing ones).  A
    learning rate so large that an update overflows float32 marks the runs diverged,
    like a NaN loss.

    Each run is a dict: ``activation``, ``label``, ``params``, ``seed``, ``status``
    (``completed``, ``diverged`` or ``interrupted``), ``epochs_completed``,
    ``history`` (per epoch: ``epoch``, ``train_loss``, ``train_acc``, ``test_acc``,
    ``test_loss``, ``time``, ``diagnostics``), ``learned`` (final values of learnable
    activation parameters), ``diverged_epoch`` and ``act_seconds`` (the activation's own
    forward and backward per training step: :func:`activation_cost`).  ``time`` is the
    run's share of the epoch's wall time (the runs of a stack train together, so the
    epoch's wall time divided by their number).

    With ``keep_weights`` each run also holds its final parameters (CPU tensors, not
    JSON): ``weights`` (input layer first, each (in, out)) and ``biases``, and for the MLP
    ``activation_parameters`` (per hidden layer, its learnable activation parameters as the
    forward takes them on (1, batch, units) pre-activations); on a 2-D set also
    ``boundary_probs`` (classes, GRID, GRID), its class probabilities on the grid of
    :mod:`actviz.bench.boundary` from its own forward, and ``boundary_extent``.  ``depth=0``
    trains softmax regression (one (784, 10) layer; the activation is not used).
    """
    grid_only = None if only is None else {(0, label, int(seed)) for label, seed in only}
    return train_grid(acts, data, [config or TrainConfig()], seeds=seeds, callback=callback, only=grid_only,
                      keep_weights=keep_weights)


def train_grid(
    acts: Sequence[Activation],
    data: Any,
    configs: Sequence[TrainConfig],
    *,
    seeds: Sequence[int] = (0,),
    callback: Callable[[dict[str, Any]], None] | None = None,
    only: Collection[tuple[int, str, int]] | None = None,
    keep_weights: bool = False,
) -> TrainResult:
    """Train every activation × configuration × seed at once (see :func:`train_runs`).

    Runs are ordered by configuration, seed, activation; each run's events carry
    ``config``, the index of its configuration in ``configs``, and the ``start`` event
    also ``run_lists``, the run dicts of each configuration.  ``only`` holds the
    ``(config index, label, seed)`` runs to train.  The configurations must agree on
    ``device`` and ``threads`` (where they train); the first one's are used.
    """
    configs = [c.validate() for c in configs]
    if not configs:
        raise UsageError("need at least one training configuration")
    if not acts:
        raise UsageError("name at least one activation")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise UsageError("need at least one seed")
    first = configs[0]
    device = resolve_device(first.device)
    flush = False
    was_flushing = _flushing_denormals()
    if device.type == "cpu":
        flush = bool(torch.set_flush_denormal(True))
    keep_freed_memory()  # the steps' tensors reuse freed memory instead of faulting in fresh pages
    threads_before = torch.get_num_threads()
    if first.threads is not None:
        torch.set_num_threads(first.threads)
    try:
        return _train(acts, data, configs, seeds, callback, device, flush, only, keep_weights)
    finally:  # leave the process as it was (set_flush_denormal is global)
        if flush and not was_flushing:
            torch.set_flush_denormal(False)
        if first.threads is not None:
            torch.set_num_threads(threads_before)


def _flushing_denormals() -> bool:
    """Whether denormal floats are flushed to zero now (torch has no getter)."""
    return float(torch.tensor([1e-39]).mul(1.0)[0]) == 0.0


def _train(acts: Sequence[Activation], data: Any, configs: list[TrainConfig], seeds: list[int],
           callback: Callable[[dict[str, Any]], None] | None, device: torch.device, flush: bool,
           only: Collection[tuple[int, str, int]] | None, keep_weights: bool) -> TrainResult:
    t_start = time.perf_counter()
    runs, where = plan_runs(acts, configs, seeds, only)
    result = TrainResult(runs=runs, device=str(device), threads=torch.get_num_threads(), flush_denormal=flush)
    batch_sets: dict[tuple[int, int], Batches] = {}

    def batches_for(config: TrainConfig) -> Batches:
        key = (min(config.batch_size, int(data.train_images.shape[0])), config.probe_size)
        if key not in batch_sets:
            batch_sets[key] = Batches(data, config.batch_size, config.probe_size, device)
        return batch_sets[key]

    base = batches_for(configs[0])
    inputs = int(torch.tensor(base.input_shape).prod()) if base.input_shape else 1
    stacks = plan_stacks(acts, configs, where, network_family,
                         lambda c, a, p: max_models(c, a, p, inputs, device))
    total = sum(s.config.epochs * batches_for(s.config).n_batches * len(s.seeds) * s.configs for s in stacks)
    run_lists = [[r for r, w in zip(runs, where) if w[0] == c] for c in range(len(configs))]
    emit = callback or (lambda e: None)
    emit({"event": "start", "total_steps": total, "runs": len(runs), "epochs": max(c.epochs for c in configs),
          "batches": base.n_batches, "run_list": runs, "run_lists": run_lists})
    try:
        for plan in stacks:
            with precision_scope(getattr(plan.config, "precision", "fp32"), device):
                Trainer(batches_for(plan.config), runs, where, callback, device, keep_weights).train_stack(plan)
    except KeyboardInterrupt:
        result.interrupted = True
        for run, (c, _, _) in zip(runs, where):
            # every epoch recorded (a signal while the last was saved): done
            if run["status"] in ("running", "pending"):
                done = run["epochs_completed"] >= configs[c].epochs
                run["status"] = "completed" if done else "interrupted"
    result.seconds = time.perf_counter() - t_start
    return result
