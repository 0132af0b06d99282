"""The training engine of ``actviz compare``: the reference MLP, trained fast.

The engine plans the runs, feeds the mini-batches, evaluates and records every epoch;
the model stack (initialisation, forward, the hand-written backward, the updates, the
probe) is :mod:`actviz.bench.mlp`.

The model is d2l's "Multilayer Perceptrons" network: inputs scaled to [0, 1],
``depth`` hidden layers of ``hidden`` units with the activation under study, a
linear output layer of 10 logits, the mean cross-entropy, and SGD (or Adam).

How it is fast
--------------
* The data set sits in memory as tensors; a mini-batch is one ``index_select``
  of the uint8 images and one conversion; no DataLoader, no per-sample Python.
* All activations of one seed are trained **together**, on the same
  mini-batches (a fair comparison): their first layers are stored side by side
  in one ``(784, Σ units)`` matrix, so one GEMM computes every model's first
  pre-activations and one GEMM computes (and applies) every model's first-layer
  weight update.  The first layer holds ~98% of the FLOPs of the 784-256-10
  network, and the wider GEMM runs closer to the machine's peak than the
  single-model one.
* Forward and backward are written by hand (no autograd graph): the backward
  pass uses the registry's **analytic** derivative ``act.derivative`` (which
  ``actviz check`` verifies against autograd).  With SGD the weight gradient is
  never materialised: ``W.addmm_(A.T, G, alpha=-lr/B)`` computes and applies it
  in one call.  Activations with learnable parameters (PReLU's slope) get the
  parameter's gradient from autograd on that one element-wise op.
* Per step, only the GEMMs and the element-wise kernels run: the first pre-activations
  go into a buffer kept per batch size, the logits are kept and reduced to the training
  loss and accuracy once per epoch, and the test-set evaluation reuses its buffers.
* ``torch.set_flush_denormal(True)`` on CPU: sigmoid and tanh produce denormal
  floats that otherwise slow every GEMM touching them many times over.

Initialisation and batches are reproducible: with seed ``s`` every model's
weights are drawn from a generator seeded with ``s`` (so the activations of one
seed start from the same weights, maxout excepted: its first layer is k times
wider), and the mini-batch order of every epoch from another generator seeded
with ``s``.  The same seed gives the same numbers on CPU.

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

import math
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from actviz.bench.config import INITS, OPTIMIZERS, TrainConfig
from actviz.bench.mlp import (
    CONSTANT_INIT,
    N_CLASSES,
    SATURATION_EPS,
    SATURATION_MAJORITY,
    Group,
    Model,
    Updater,
    fast_path,
    init_weight,
)
from actviz.core.errors import UsageError
from actviz.core.registry import Activation, params_json

__all__ = [
    "CONSTANT_INIT",
    "INITS",
    "OPTIMIZERS",
    "SATURATION_EPS",
    "SATURATION_MAJORITY",
    "TrainConfig",
    "TrainResult",
    "activation_cost",
    "fast_path",
    "flops_per_epoch",
    "init_weight",
    "resolve_device",
    "train_runs",
]

#: the probe batch is drawn from the training set with this fixed seed
PROBE_SEED = 20240601


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


def flops_per_epoch(n: int, hidden: int = 256, depth: int = 1, inputs: int = 784, k: int = 1) -> int:
    """Matmul FLOPs of one training epoch of one model (forward + backward, no input gradient)."""
    fwd = inputs * hidden * k + (depth - 1) * hidden * hidden * k + hidden * N_CLASSES
    # backward: weight gradients of every layer, input gradients of every layer but the first
    bwd = fwd + (depth - 1) * hidden * hidden * k + hidden * N_CLASSES
    return 2 * n * (fwd + bwd)


# --------------------------------------------------------------------------- the engine


def _finite(v: float) -> bool:
    return math.isfinite(v)


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

    ``data`` has ``train_images`` (uint8, (N, 28, 28) or (N, 784)), ``train_labels``,
    ``test_images`` and ``test_labels`` (an :class:`actviz.bench.data.FashionMNIST`).

    ``callback(event)`` is called with dicts: ``{"event": "start", "total_steps", ...}``,
    ``{"event": "steps", "n"}`` every few mini-batches, and
    ``{"event": "epoch", "run": i, "activation", "seed", "epoch", "record"}`` after each
    epoch of each run, then ``{"event": "epoch_end", "seed", "epoch"}`` once the epoch of
    every run of that seed is recorded (a moment to save them).  The ``start`` event
    carries ``run_list``, the list of run dicts that training fills in (live, for a
    caller that saves them as it goes).  An exception from it stops training; a
    KeyboardInterrupt (from it or from Ctrl-C) keeps the epochs completed so far and
    returns with ``interrupted=True``.

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
    run's share of the epoch's wall time (the runs of one seed train together, so the
    epoch's wall time divided by their number).

    With ``keep_weights`` each run also holds its final parameters (CPU tensors, not
    JSON): ``weights`` (input layer first, each (in, out)) and ``biases``.  ``depth=0``
    trains softmax regression (one (784, 10) layer; the activation is not used).
    """
    config = (config or TrainConfig()).validate()
    if not acts:
        raise UsageError("name at least one activation")
    seeds = list(seeds)
    if not seeds:
        raise UsageError("need at least one seed")
    device = resolve_device(config.device)
    flush = False
    was_flushing = _flushing_denormals()
    if device.type == "cpu":
        flush = bool(torch.set_flush_denormal(True))
    threads_before = torch.get_num_threads()
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    try:
        return _train(acts, data, config, seeds, callback, device, flush, only, keep_weights)
    finally:  # leave the process as it was (set_flush_denormal is global)
        if flush and not was_flushing:
            torch.set_flush_denormal(False)
        if config.threads is not None:
            torch.set_num_threads(threads_before)


def _flushing_denormals() -> bool:
    """Whether denormal floats are flushed to zero now (torch has no getter)."""
    return float(torch.tensor([1e-39]).mul(1.0)[0]) == 0.0


def _train(acts: Sequence[Activation], data: Any, config: TrainConfig, seeds: list[int],
           callback: Callable[[dict[str, Any]], None] | None, device: torch.device, flush: bool,
           only: Collection[tuple[str, int]] | None = None, keep_weights: bool = False) -> TrainResult:
    t_start = time.perf_counter()
    batches = _Batches(data, config, device)
    runs, groups = _plan_runs(acts, seeds, only)
    result = TrainResult(runs=runs, device=str(device), threads=torch.get_num_threads(), flush_denormal=flush)
    trainer = _Trainer(config, device, batches, runs, callback)
    trainer.emit({"event": "start", "total_steps": len(groups) * config.epochs * batches.n_batches,
                  "runs": len(runs), "epochs": config.epochs, "batches": batches.n_batches, "run_list": runs})
    try:
        for seed, idx, chosen in groups:
            trainer.train_seed(seed, idx, chosen, keep_weights)
    except KeyboardInterrupt:
        result.interrupted = True
        for run in runs:
            # every epoch recorded (a signal while the last was saved): done
            if run["status"] in ("running", "pending"):
                run["status"] = "completed" if run["epochs_completed"] >= config.epochs else "interrupted"
    result.seconds = time.perf_counter() - t_start
    return result


class _Batches:
    """The data set on the device, and the mini-batches drawn from it.

    Training images stay uint8 (a quarter of the bytes to gather per batch); each batch
    is converted into a reused float buffer whose last column is the ones of the folded
    bias.  The test set and the fixed probe batch are converted once.
    """

    def __init__(self, data: Any, config: TrainConfig, device: torch.device):
        self.train_y = data.train_labels.to(device=device, dtype=torch.int64)
        self.test_y = data.test_labels.to(device=device, dtype=torch.int64)
        self.train_u8 = data.train_images.reshape(data.train_images.shape[0], -1).to(device)
        self.n_classes = int(getattr(data, "n_classes", N_CLASSES))
        self.test_x = _inputs(data.test_images, device)
        self.n, self.inputs = n, inputs = self.train_u8.shape
        if n == 0:
            raise UsageError("the training set is empty")
        self.onehot = torch.nn.functional.one_hot(self.train_y, self.n_classes).to(self.test_x.dtype)
        self.bs = bs = min(config.batch_size, n)
        self.n_batches = (n + bs - 1) // bs
        probe_gen = torch.Generator().manual_seed(PROBE_SEED)
        probe_idx = torch.randperm(n, generator=probe_gen)[: config.probe_size]
        probe_idx = probe_idx.to(device)
        self.probe_x = _inputs(self.train_u8.index_select(0, probe_idx), device)
        self.probe_y = self.train_y.index_select(0, probe_idx)
        self.device = device
        self._u8 = torch.empty(bs, inputs, dtype=self.train_u8.dtype, device=device)
        self._x = torch.empty(bs, inputs + 1, device=device)
        self._x[:, -1] = 1.0

    def shuffle(self, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """An epoch's order: (permutation, its labels, its one-hots), in batch order."""
        perm = torch.randperm(self.n, generator=gen).to(self.device)
        return perm, self.train_y.index_select(0, perm), self.onehot.index_select(0, perm)

    def images(self, perm: torch.Tensor, b: int) -> torch.Tensor:
        """Batch ``b`` of the permutation: float inputs in [0, 1] with the ones column (a reused buffer)."""
        sel = perm[b * self.bs : (b + 1) * self.bs]
        k = sel.shape[0]
        u8 = torch.index_select(self.train_u8, 0, sel, out=self._u8[:k])
        xb = self._x[:k]
        if u8.dtype == torch.uint8:
            torch.div(u8, 255, out=xb[:, :-1])
        else:
            xb[:, :-1].copy_(u8)
        return xb


def _plan_runs(acts: Sequence[Activation], seeds: list[int], only: Collection[tuple[str, int]] | None,
               ) -> tuple[list[dict[str, Any]], list[tuple[int, list[int], list[Activation]]]]:
    """The run dicts, pending, and per seed (seed, indices into the runs, activations)."""
    runs: list[dict[str, Any]] = []
    # the models of a seed are built when its turn comes (memory holds one seed's models)
    groups: list[tuple[int, list[int], list[Activation]]] = []
    for seed in seeds:
        idx = []
        chosen = [a for a in acts if only is None or (a.label, int(seed)) in only]
        if not chosen:
            continue
        for act in chosen:
            idx.append(len(runs))
            runs.append(
                {
                    "activation": act.name,
                    "label": act.label,
                    "params": params_json(act),
                    "seed": int(seed),
                    "status": "pending",
                    "epochs_completed": 0,
                    "history": [],
                    "learned": {},
                    "diverged_epoch": None,
                    "trained_with": [a.label for a in chosen],
                }
            )
        groups.append((int(seed), idx, chosen))
    return runs, groups


def activation_cost(m: Model, batch: int, device: torch.device, blocks: int = 5, block_s: float = 0.004) -> float:
    """Seconds the activation's own forward and backward take per training step of model ``m``.

    A short timed probe: the model's hidden non-linearity and its backward (the very
    code training runs: fast paths, the analytic derivative, maxout's gather and
    scatter, a learnable parameter's autograd) on ``batch`` × units standard-normal
    pre-activations, once per hidden layer, without the matrix products every
    activation shares.  The fastest of ``blocks`` timed blocks of at least ``block_s``
    seconds each (other work on the machine only ever adds time).
    """
    depth = m.config.depth
    if depth == 0:
        return 0.0
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(batch, m.cols, generator=gen).to(device)
    dh = torch.randn(batch, m.config.hidden, generator=gen).to(device)
    upd = Updater(0.0, 1.0 / batch, "sgd")
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def step() -> None:
        for layer in range(depth):
            _, ctx = m.hidden(layer, z)
            m.hidden_back(layer, dh, ctx, None, upd)

    step()
    sync()
    reps, times = 1, []
    while len(times) < blocks:
        t0 = time.perf_counter()
        for _ in range(reps):
            step()
        sync()
        elapsed = time.perf_counter() - t0
        if elapsed < block_s and not times:  # still too short to time: more repetitions per block
            reps *= 2
            continue
        times.append(elapsed / reps)
    return min(times)


class _Trainer:
    """Trains the groups of one :func:`train_runs` call, filling in ``runs`` and emitting events."""

    def __init__(self, config: TrainConfig, device: torch.device, batches: _Batches,
                 runs: list[dict[str, Any]], callback: Callable[[dict[str, Any]], None] | None):
        self.config, self.device, self.batches, self.runs = config, device, batches, runs
        self.callback = callback
        self.every = max(1, batches.n_batches // 20)  # a "steps" event every this many mini-batches

    def emit(self, event: dict[str, Any]) -> None:
        if self.callback is not None:
            self.callback(event)

    def diverge(self, m: Model, i: int, epoch: int, seed: int) -> None:
        m.active = False
        self.runs[i]["status"] = "diverged"
        self.runs[i]["diverged_epoch"] = epoch
        self.emit({"event": "diverged", "run": i, "activation": self.runs[i]["label"], "seed": seed,
                   "epoch": epoch})

    def train_seed(self, seed: int, idx: list[int], chosen: list[Activation], keep_weights: bool) -> None:
        """Every epoch of the runs of one seed, trained together; their final status (and weights)."""
        config, runs = self.config, self.runs
        group = Group([Model(act, config, seed, self.batches.inputs, self.device, self.batches.n_classes)
                       for act in chosen],
                       config, self.device)
        for i, m in zip(idx, group.models):
            runs[i]["status"] = "running"
            runs[i]["act_seconds"] = activation_cost(m, self.batches.bs, self.device)
        gen = torch.Generator().manual_seed(seed)
        dz1 = torch.zeros(self.batches.bs, group.w1.shape[1], device=self.device)
        for epoch in range(1, config.epochs + 1):
            self.train_epoch(group, idx, seed, epoch, gen, dz1)
            self.emit({"event": "epoch_end", "seed": seed, "epoch": epoch})
            if not any(m.active for m in group.models):
                break
        for i in idx:
            if runs[i]["status"] == "running":
                runs[i]["status"] = "completed"
        if keep_weights:
            for i, m in zip(idx, group.models):
                runs[i]["weights"] = [w.detach().cpu().clone() for w in m.weight_matrices()]
                runs[i]["biases"] = [b.detach().cpu().clone() for b in m.bias_vectors()]

    def train_epoch(self, group: Group, idx: list[int], seed: int, epoch: int, gen: torch.Generator,
                    dz1: torch.Tensor) -> None:
        """One epoch of the group: the mini-batch steps, then each surviving run's record."""
        t0 = time.perf_counter()
        alive = [(j, m) for j, m in enumerate(group.models) if m.active]
        for _, m in alive:
            m.reset_stats()
        labels = self.steps(group, alive, idx, seed, epoch, gen, dz1)
        stats = {}
        for j, m in alive:  # a non-finite loss stops that run; the others go on
            if not m.active:  # diverged during the epoch
                continue
            stats[j] = m.epoch_stats(labels)
            if not _finite(stats[j][0]):
                self.diverge(m, idx[j], epoch, seed)
                dz1[:, group.slices[j]].zero_()
        evals = group.evaluate(self.batches.test_x, self.batches.test_y)
        diags = group.diagnostics(self.batches.probe_x, self.batches.probe_y)
        share = (time.perf_counter() - t0) / max(1, len(alive))
        for j, m in alive:
            if m.active:
                self.record(group, m, idx[j], j, seed, epoch, stats[j], evals[j], diags[j], share, dz1)

    def steps(self, group: Group, alive: list[tuple[int, Model]], idx: list[int], seed: int, epoch: int,
              gen: torch.Generator, dz1: torch.Tensor) -> torch.Tensor:
        """The epoch's mini-batch steps; returns the epoch's labels in batch order."""
        batches, bs = self.batches, self.batches.bs
        perm, labels, onehots = batches.shuffle(gen)
        pending = 0
        for b in range(batches.n_batches):
            xb = batches.images(perm, b)
            k = xb.shape[0]
            try:
                group.step(xb, labels[b * bs : b * bs + k], onehots[b * bs : b * bs + k].t(),
                           dz1 if k == bs else dz1[:k])
            except RuntimeError as exc:  # an update beyond float32 (--lr 1e300): diverged
                if "overflow" not in str(exc):
                    raise
                for j, m in alive:
                    if m.active:
                        self.diverge(m, idx[j], epoch, seed)
                break
            pending += 1
            if pending == self.every:
                self.emit({"event": "steps", "n": pending})
                pending = 0
        if pending:
            self.emit({"event": "steps", "n": pending})
        return labels

    def record(self, group: Group, m: Model, i: int, j: int, seed: int, epoch: int,
               stats: tuple[float, float], evals: tuple[float, float], diags: dict[str, Any],
               share: float, dz1: torch.Tensor) -> None:
        """Append the epoch to run ``i`` (model ``j`` of the group), or mark it diverged."""
        acc, test_loss = evals
        if not all(map(_finite, [test_loss, diags["probe_loss"], *diags["grad_norm"]])):
            self.diverge(m, i, epoch, seed)
            dz1[:, group.slices[j]].zero_()
            return
        record = {
            "epoch": epoch,
            "train_loss": stats[0],
            "train_acc": stats[1],
            "test_acc": acc,
            "test_loss": test_loss,
            "time": share,
            "diagnostics": diags,
        }
        run = self.runs[i]
        run["history"].append(record)
        run["epochs_completed"] = epoch
        run["learned"] = m.learned()
        self.emit({"event": "epoch", "run": i, "activation": run["label"], "seed": seed,
                   "epoch": epoch, "record": record})


def _inputs(images: torch.Tensor, device: torch.device) -> torch.Tensor:
    """uint8 images → float32 (N, pixels + 1) in [0, 1] with a last column of ones (the bias input)."""
    flat = images.reshape(images.shape[0], -1)
    out = torch.empty(flat.shape[0], flat.shape[1] + 1, device=device)
    if flat.dtype == torch.uint8:
        torch.div(flat.to(device), 255, out=out[:, :-1])
    else:
        out[:, :-1].copy_(flat)
    out[:, -1] = 1.0
    return out
