"""The training engine of ``actviz compare``: the reference MLP, trained fast.

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
from actviz.core.errors import UsageError
from actviz.core.registry import Activation, params_json
from actviz.facts.audit import properties_of

__all__ = [
    "INITS",
    "OPTIMIZERS",
    "SATURATION_EPS",
    "SATURATION_MAJORITY",
    "TrainConfig",
    "TrainResult",
    "activation_cost",
    "flops_per_epoch",
    "init_weight",
    "resolve_device",
    "train_runs",
]

#: the value of every weight under ``init="constant"`` (biases 0): all hidden units start equal
CONSTANT_INIT = 0.01
#: a unit is saturated on an example when |f′| ≤ SATURATION_EPS · sup|f′|
SATURATION_EPS = 0.01
#: ... and saturated when that holds on more than this fraction of the probe batch
SATURATION_MAJORITY = 0.5
#: the probe batch is drawn from the training set with this fixed seed
PROBE_SEED = 20240601
N_CLASSES = 10


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


# --------------------------------------------------------------------------- the models


def _sup_abs_derivative(act: Activation) -> float:
    try:
        sup = float(properties_of(act).derivative_range.sup_abs)
    except Exception:  # a user activation whose properties cannot be measured
        return 1.0
    return sup if math.isfinite(sup) and sup > 0 else 1.0


def init_weight(shape: tuple[int, int], init: str, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A (fan_in, fan_out) weight matrix and its bias vector under ``init`` (one of :data:`INITS`).

    Random draws come from ``gen``; the biases are zero except under ``torch`` (``nn.Linear``'s default).
    """
    fan_in, fan_out = shape
    w = torch.empty(shape)
    b = torch.zeros(shape[1])
    if init == "normal":
        w.normal_(0.0, 0.01, generator=gen)
    elif init == "xavier":
        a = math.sqrt(6.0 / (fan_in + fan_out))
        w.uniform_(-a, a, generator=gen)
    elif init == "xavier_normal":
        w.normal_(0.0, math.sqrt(2.0 / (fan_in + fan_out)), generator=gen)
    elif init == "kaiming":
        w.normal_(0.0, math.sqrt(2.0 / fan_in), generator=gen)
    elif init == "kaiming_uniform":
        a = math.sqrt(6.0 / fan_in)
        w.uniform_(-a, a, generator=gen)
    elif init == "constant":  # every weight equal: the symmetric start that never breaks
        w.fill_(CONSTANT_INIT)
    elif init == "torch":  # nn.Linear's default
        a = 1.0 / math.sqrt(fan_in)
        w.uniform_(-a, a, generator=gen)
        b.uniform_(-a, a, generator=gen)
    else:  # pragma: no cover - validated before
        raise UsageError(f"unknown init {init!r}")
    return w, b


def _relu(z: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    # aten's relu is clamp_min(z, 0); this form also takes ``out``
    return torch.relu(z) if out is None else torch.clamp_min(z, 0, out=out)


def _fast_paths() -> dict[str, tuple[Callable[..., Any], Callable[..., Any]]]:
    """Fused kernels for the most used built-ins: (forward(z, out=None), backward(dh, h, out)).

    They compute exactly f and dh·f′ of the registry's entries (f′ from the output:
    σ′ = σ(1 − σ), tanh′ = 1 − tanh², relu′ = [h > 0], i.e. f′(0) = 0 as the registry
    says); ``tests/test_train.py`` checks them against ``act.derivative``.  The forward
    writes into ``out`` when given (a contiguous buffer: the element-wise kernels run
    up to twice as fast into one as into a fresh tensor from a strided input).
    """
    aten = torch.ops.aten
    return {
        "relu": (_relu, lambda dh, h, out: aten.threshold_backward.grad_input(dh, h, 0, grad_input=out)),
        "sigmoid": (torch.sigmoid, lambda dh, h, out: aten.sigmoid_backward.grad_input(dh, h, grad_input=out)),
        "tanh": (torch.tanh, lambda dh, h, out: aten.tanh_backward.grad_input(dh, h, grad_input=out)),
    }


def fast_path(act: Activation) -> tuple[Callable[..., Any], Callable[..., Any]] | None:
    """The fused kernels of a built-in activation, or None (then the generic path is used)."""
    from actviz.core.registry import get_spec

    paths = _fast_paths()
    if act.name in paths and get_spec(act.name) is act.spec and not act.spec.params:
        return paths[act.name]
    return None


class _Updater:
    """Applies (or records) the gradient of each parameter.

    Gradients arrive as B times the gradient of the mean loss; ``scale`` = 1/B.
    With SGD a weight gradient left @ right is computed and applied by one in-place
    GEMM and never materialised.
    """

    def __init__(self, lr: float, scale: float, mode: str, norms: dict[int, float] | None = None):
        self.lr, self.scale, self.mode, self.norms = lr, scale, mode, norms

    def linear(self, layer: int, w: torch.Tensor, b: torch.Tensor | None, left: torch.Tensor,
               right: torch.Tensor, gb: torch.Tensor | None) -> None:
        if self.mode == "sgd":
            w.addmm_(left, right, alpha=-self.lr * self.scale)
            if b is not None:
                b.sub_(gb, alpha=self.lr * self.scale)
        elif self.mode == "grad":
            w.grad = torch.mm(left, right).mul_(self.scale)
            if b is not None:
                b.grad = gb * self.scale
        else:  # record the norm of the weight gradient
            g = torch.mm(left, right)
            if layer == 0:
                g = g[:-1]  # the first layer's bias is folded in as the last input row
            assert self.norms is not None
            self.norms[layer] = float(torch.linalg.matrix_norm(g)) * self.scale

    def param(self, p: torch.Tensor, g: torch.Tensor) -> None:
        if self.mode == "sgd":
            with torch.no_grad():
                p.sub_(g, alpha=self.lr * self.scale)
        elif self.mode == "grad":
            p.grad = g * self.scale


class _Model:
    """One MLP.

    The first layer's weights (bias folded in as the last row, the inputs carrying a
    column of ones) are a column block of the group's fused matrix; hidden layers
    2.. are (in, out) matrices with a bias, ``Z = A @ W + b``; the output layer is
    stored (10, in), as ``nn.Linear`` does, and computed transposed (logitsᵀ = W·Aᵀ):
    that orientation is several times faster for the skinny 10-row products.
    """

    def __init__(self, act: Activation, config: TrainConfig, seed: int, inputs: int, device: torch.device):
        self.act = act
        self.config = config
        self.seed = seed
        self.kind = act.spec.kind
        self.k = len(act.params["weights"]) if self.kind == "maxout" else 1
        h, k = config.hidden, self.k
        gen = torch.Generator().manual_seed(seed)
        shapes = [(inputs, h * k)] + [(h, h * k)] * (config.depth - 1) + [(h, N_CLASSES)]
        if config.depth == 0:  # softmax regression: the first layer is the output layer
            shapes = [(inputs, N_CLASSES)]
        layers = [init_weight(s, config.init, gen) for s in shapes]
        w1, b1 = layers[0]
        self.first = torch.cat([w1, b1.unsqueeze(0)]).to(device)  # (inputs + 1, h·k)
        self.weights = [w.to(device) for w, _ in layers[1:-1]]  # hidden layers 2..depth, (in, out)
        self.biases = [b.to(device) for _, b in layers[1:-1]]
        self.w_out = layers[-1][0].t().contiguous().to(device)  # (10, h)
        self.b_out = layers[-1][1].unsqueeze(1).to(device)  # (10, 1)
        self.learnable = [p.name for p in act.spec.params if p.learnable]
        # learnable activation parameters: one scalar per hidden layer
        self.act_params: list[dict[str, torch.Tensor]] = [
            {name: torch.tensor(float(act.params[name]), device=device, requires_grad=True)
             for name in self.learnable}
            for _ in range(config.depth)
        ]
        self.fixed = {k_: v for k_, v in act.params.items() if k_ not in self.learnable}
        self.fast = fast_path(act) if self.kind != "maxout" else None
        self.sup = _sup_abs_derivative(act)
        self.active = True
        self.cols = h * k
        if config.depth == 0:  # no output layer of its own (zero-size, so Adam skips it)
            self.cols = N_CLASSES
            self.w_out = torch.zeros(N_CLASSES, 0, device=device)
            self.b_out = torch.zeros(N_CLASSES, 1, device=device)
        self.reset_stats()

    def weight_matrices(self) -> list[torch.Tensor]:
        """The weight matrices, input layer first, each as (in, out) without bias."""
        if self.config.depth == 0:
            return [self.first[:-1]]
        return [self.first[:-1], *self.weights, self.w_out.t()]

    def bias_vectors(self) -> list[torch.Tensor]:
        if self.config.depth == 0:
            return [self.first[-1]]
        return [self.first[-1], *self.biases, self.b_out.squeeze(1)]

    # -- statistics of the epoch: the logits of every batch, reduced once at the end of the epoch
    def reset_stats(self) -> None:
        self.preds: list[torch.Tensor] = []

    def epoch_stats(self, labels: torch.Tensor) -> tuple[float, float]:
        """(mean training loss, training accuracy) of the batches since reset_stats()."""
        logits_t = torch.cat(self.preds, dim=1)  # (10, N), the logits before each step's update
        picked = torch.log_softmax(logits_t, 0).gather(0, labels.unsqueeze(0))
        loss = -float(picked.double().sum()) / labels.shape[0]
        # max(0).indices is argmax(0) (the first maximum) and several times faster on (10, N)
        acc = int((logits_t.max(0).indices == labels).sum()) / labels.shape[0]
        return loss, acc

    # -- the hidden non-linearity and its backward
    def _params(self, layer: int, detach: bool = False) -> dict[str, Any]:
        params = {**self.fixed, **self.act_params[layer]}
        if detach:
            params = {k_: (v.detach() if torch.is_tensor(v) else v) for k_, v in params.items()}
        return params

    def hidden(self, layer: int, z: torch.Tensor, out: torch.Tensor | None = None) -> tuple[torch.Tensor, Any]:
        """(f(z), what hidden_back needs); f(z) is written into ``out`` when given."""
        if self.kind == "maxout":
            h, idx = z.reshape(z.shape[0], self.config.hidden, self.k).max(dim=2)
            return (h if out is None else out.copy_(h)), idx
        if self.fast is not None:
            h = self.fast[0](z, out=out)
            return h, h
        if self.learnable:
            params = self._params(layer)
            with torch.enable_grad():
                h = self.act.spec.forward(z, **params)
            ctx = (z, h, [params[n] for n in self.learnable])
            return (h.detach() if out is None else out.copy_(h.detach())), ctx
        h = self.act.spec.forward(z, **self.fixed)
        return (h if out is None else out.copy_(h)), z

    def hidden_back(self, layer: int, dh: torch.Tensor, ctx: Any, out: torch.Tensor | None,
                    upd: _Updater) -> torch.Tensor:
        """dZ from dH (written into ``out`` when given); learnable parameters are updated."""
        if self.kind == "maxout":
            b = dh.shape[0]
            dz = torch.zeros(b, self.config.hidden, self.k, dtype=dh.dtype, device=dh.device)
            dz.scatter_(2, ctx.unsqueeze(2), dh.unsqueeze(2))
            dz = dz.view(b, self.cols)
            return out.copy_(dz) if out is not None else dz
        if out is None:
            out = torch.empty_like(dh)
        if self.fast is not None:
            return self.fast[1](dh, ctx, out)
        if self.learnable:
            z, h, leaves = ctx
            d = self.act.spec.derivative(z, **self._params(layer, detach=True))  # before the update
            grads = torch.autograd.grad(h, leaves, dh, allow_unused=True)
            for leaf, g in zip(leaves, grads):
                if g is not None:
                    upd.param(leaf, g)
        else:
            d = self.act.spec.derivative(ctx, **self.fixed)
        return torch.mul(dh, d, out=out)

    def forward_hidden(self, z1: torch.Tensor, out: torch.Tensor | None = None) -> tuple[list[torch.Tensor], list[Any]]:
        """The hidden layers' outputs and backward contexts from the first pre-activation.

        The last hidden layer's output is written into ``out`` when given.
        """
        depth = self.config.depth
        acts: list[torch.Tensor] = []
        ctxs: list[Any] = []
        z = z1
        for layer in range(depth):
            if layer:
                z = torch.addmm(self.biases[layer - 1], acts[-1], self.weights[layer - 1])
            h, ctx = self.hidden(layer, z, out if layer == depth - 1 else None)
            acts.append(h)
            ctxs.append(ctx)
        return acts, ctxs

    def output_step(self, h: torch.Tensor, onehot_t: torch.Tensor, upd: _Updater) -> torch.Tensor:
        """The output layer on the last hidden output ``h``: records the logits, updates, returns dH."""
        logits_t = torch.addmm(self.b_out, self.w_out, h.t())  # (10, B)
        self.preds.append(logits_t)  # loss and accuracy once per epoch
        g_t = torch.log_softmax(logits_t, 0).exp_().sub_(onehot_t)  # (10, B): B × the gradient of the mean loss
        dh = torch.mm(g_t.t(), self.w_out)
        upd.linear(self.config.depth, self.w_out, self.b_out, g_t, h, g_t.sum(1, keepdim=True))
        return dh

    def backward_hidden(self, dh: torch.Tensor, acts: list[torch.Tensor], ctxs: list[Any], upd: _Updater,
                        dz1_out: torch.Tensor | None, x: torch.Tensor | None = None) -> None:
        """Backward through the hidden layers from dH of the last one (see forward_backward)."""
        for layer in range(self.config.depth - 1, -1, -1):
            first = layer == 0
            dz = self.hidden_back(layer, dh, ctxs[layer], dz1_out if first else None, upd)
            if not first:
                w, b = self.weights[layer - 1], self.biases[layer - 1]
                dh = torch.mm(dz, w.t())
                upd.linear(layer, w, b, acts[layer - 1].t(), dz, dz.sum(0))
            elif x is not None:
                upd.linear(0, self.first, None, x.t(), dz, None)

    def forward_backward(self, z1: torch.Tensor, y: torch.Tensor, onehot_t: torch.Tensor,
                         upd: _Updater, dz1_out: torch.Tensor | None, x: torch.Tensor | None = None) -> None:
        """Forward and backward on one batch from the first pre-activation ``z1``.

        The first layer's pre-activation gradient is written into ``dz1_out`` (the
        group applies it with one fused GEMM), or, when ``x`` (with its ones column)
        is given, handed to ``upd`` directly.  ``onehot_t`` is the (10, B) one-hot
        (``y``, the labels, is kept for the callers' convenience).
        """
        if self.config.depth == 0:  # softmax regression: z1 are the logits
            self.preds.append(z1.t().clone())  # z1 is a reused buffer
            g = torch.log_softmax(z1, 1).exp_().sub_(onehot_t.t())
            if dz1_out is not None:
                dz1_out.copy_(g)
            elif x is not None:
                upd.linear(0, self.first, None, x.t(), g, None)
            return
        acts, ctxs = self.forward_hidden(z1)
        dh = self.output_step(acts[-1], onehot_t, upd)
        self.backward_hidden(dh, acts, ctxs, upd, dz1_out, x)

    def logits(self, z1: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """(10, B) logits from the first pre-activation (no gradients); ``out`` takes the last hidden output."""
        if self.config.depth == 0:
            return z1.t()
        acts, _ = self.forward_hidden(z1, out)
        return torch.addmm(self.b_out, self.w_out, acts[-1].t())

    def learned(self) -> dict[str, list[float]]:
        return {n: [float(p[n].detach()) for p in self.act_params] for n in self.learnable}


class _Group:
    """The models of one seed, trained together on the same mini-batches.

    The first pre-activations are computed into a buffer kept per batch size, and the
    test-set evaluation into buffers kept from epoch to epoch (fresh tensors of those
    sizes cost page faults).
    """

    def __init__(self, models: list[_Model], config: TrainConfig, device: torch.device):
        self.models = models
        self.config = config
        self.device = device
        # the fused first layer: every model's first weights (and bias row) side by side
        self.w1 = torch.cat([m.first for m in models], dim=1).contiguous()
        self.slices: list[slice] = []
        start = 0
        for m in models:
            sl = slice(start, start + m.cols)
            m.first = self.w1[:, sl]  # a view: the model sees the fused storage
            self.slices.append(sl)
            start += m.cols
        self.opt: torch.optim.Optimizer | None = None
        if config.optimizer == "adam":
            params = [self.w1]
            for m in models:
                params += m.weights + m.biases + [m.w_out, m.b_out]
                params += [p for d in m.act_params for p in d.values()]
            self.opt = torch.optim.Adam(params, lr=config.lr)
        self._work: dict[int, dict[str, torch.Tensor]] = {}

    def _buffers(self, k: int) -> dict[str, torch.Tensor]:
        """The work buffers of a batch of k examples (two sizes per run: the batch and the last one)."""
        buf = self._work.get(k)
        if buf is None:
            buf = self._work[k] = {"z1": torch.empty(k, self.w1.shape[1], dtype=self.w1.dtype,
                                                     device=self.w1.device)}
        return buf

    @torch.no_grad()
    def step(self, x: torch.Tensor, y: torch.Tensor, onehot_t: torch.Tensor, dz1: torch.Tensor) -> None:
        """One SGD/Adam step of every active model on the batch (x with its ones column)."""
        k = x.shape[0]
        scale = 1.0 / k
        lr = self.config.lr
        upd = _Updater(lr, scale, "sgd" if self.opt is None else "grad")
        buf = self._buffers(k)
        z1 = torch.mm(x, self.w1, out=buf["z1"])
        for m, sl in zip(self.models, self.slices):
            if m.active:
                m.forward_backward(z1[:, sl], y, onehot_t, upd, dz1[:, sl])
        if self.opt is None:
            self.w1.addmm_(x.t(), dz1, alpha=-lr * scale)
        else:
            self.w1.grad = torch.mm(x.t(), dz1).mul_(scale)
            self.opt.step()

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, y: torch.Tensor, chunk: int = 10000) -> list[tuple[float, float]]:
        """(accuracy, mean loss) of every model on (x, y); x float, scaled, with its ones column."""
        correct = [0] * len(self.models)
        loss = [0.0] * len(self.models)
        # buffers kept from epoch to epoch: fresh ones this size cost page faults every time
        rows = min(chunk, x.shape[0])
        buf = self._work.get(-1)
        if buf is None or buf["z1"].shape[0] != rows:
            kw = {"dtype": self.w1.dtype, "device": self.w1.device}
            buf = self._work[-1] = {"z1": torch.empty(rows, self.w1.shape[1], **kw),
                                    "h": torch.empty(rows, self.config.hidden, **kw)}
        for i in range(0, x.shape[0], chunk):
            xb, yb = x[i : i + chunk], y[i : i + chunk]
            z1 = torch.mm(xb, self.w1, out=buf["z1"][: xb.shape[0]])
            for j, (m, sl) in enumerate(zip(self.models, self.slices)):
                if m.active:
                    logits_t = m.logits(z1[:, sl], out=buf["h"][: xb.shape[0]])
                    correct[j] += int((logits_t.max(0).indices == yb).sum())  # = argmax(0), faster
                    loss[j] += float(torch.nn.functional.cross_entropy(logits_t.t(), yb, reduction="sum"))
        n = x.shape[0]
        return [(c / n, l_ / n) for c, l_ in zip(correct, loss)]

    @torch.no_grad()
    def diagnostics(self, x: torch.Tensor, y: torch.Tensor) -> list[dict[str, Any] | None]:
        """Dead and saturated fractions and per-layer gradient norms on the probe batch."""
        out: list[dict[str, Any] | None] = []
        onehot_t = torch.nn.functional.one_hot(y, N_CLASSES).to(x.dtype).t().contiguous()
        scale = 1.0 / x.shape[0]
        z_all = torch.mm(x, self.w1)  # every model's first pre-activations, one GEMM
        dz_all = torch.zeros_like(z_all)
        all_norms: list[dict[int, float] | None] = []
        for m, sl in zip(self.models, self.slices):
            if not m.active:
                out.append(None)
                all_norms.append(None)
                continue
            dead: list[float | None] = []
            saturated: list[float | None] = []
            # one forward pass, recording the registry's f′ at every hidden pre-activation
            z = h = z_all[:, sl]
            for layer in range(m.config.depth):
                if layer:  # h: the previous layer's output
                    z = torch.addmm(m.biases[layer - 1], h, m.weights[layer - 1])
                if m.kind == "maxout":
                    dead.append(None)
                    saturated.append(None)
                else:
                    d = m.act.spec.derivative(z, **m._params(layer, detach=True)).abs()
                    dead.append(float((d == 0).all(0).float().mean()))
                    flat = (d <= SATURATION_EPS * m.sup).float().mean(0) > SATURATION_MAJORITY
                    saturated.append(float(flat.float().mean()))
                h, _ = m.hidden(layer, z)
            norms: dict[int, float] = {}
            saved = m.preds
            m.reset_stats()
            # the first layer's dZ goes to dz_all: its weight gradients are one GEMM below
            m.forward_backward(z_all[:, sl], y, onehot_t, _Updater(0.0, scale, "norm", norms), dz_all[:, sl])
            probe_loss, _ = m.epoch_stats(y)
            m.preds = saved
            all_norms.append(norms)
            out.append({"probe_loss": probe_loss, "dead": dead, "saturated": saturated})
        grad_w1 = torch.mm(x[:, :-1].t(), dz_all)  # without the folded bias row
        for m, sl, norms, d in zip(self.models, self.slices, all_norms, out):
            if d is not None and norms is not None:
                # contiguous: the norm of a strided block is summed in another order, less accurately
                norms[0] = float(torch.linalg.matrix_norm(grad_w1[:, sl].contiguous())) * scale
                d["grad_norm"] = [norms[i] for i in range(m.config.depth + 1)]
        return out


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
        self.test_x = _inputs(data.test_images, device)
        self.n, self.inputs = n, inputs = self.train_u8.shape
        if n == 0:
            raise UsageError("the training set is empty")
        self.onehot = torch.nn.functional.one_hot(self.train_y, N_CLASSES).to(self.test_x.dtype)
        self.bs = bs = min(config.batch_size, n)
        self.n_batches = (n + bs - 1) // bs
        probe_gen = torch.Generator().manual_seed(PROBE_SEED)
        probe_idx = torch.randperm(n, generator=probe_gen)[: config.probe_size]
        probe_idx = probe_idx.to(device)
        self.probe_x = _inputs(self.train_u8.index_select(0, probe_idx), device)
        self.probe_y = self.train_y.index_select(0, probe_idx)
        self.device = device
        self._u8 = torch.empty(bs, inputs, dtype=torch.uint8, device=device)
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
        torch.div(u8, 255, out=xb[:, :-1])
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


def activation_cost(m: _Model, batch: int, device: torch.device, blocks: int = 5, block_s: float = 0.004) -> float:
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
    upd = _Updater(0.0, 1.0 / batch, "sgd")
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

    def diverge(self, m: _Model, i: int, epoch: int, seed: int) -> None:
        m.active = False
        self.runs[i]["status"] = "diverged"
        self.runs[i]["diverged_epoch"] = epoch
        self.emit({"event": "diverged", "run": i, "activation": self.runs[i]["label"], "seed": seed,
                   "epoch": epoch})

    def train_seed(self, seed: int, idx: list[int], chosen: list[Activation], keep_weights: bool) -> None:
        """Every epoch of the runs of one seed, trained together; their final status (and weights)."""
        config, runs = self.config, self.runs
        group = _Group([_Model(act, config, seed, self.batches.inputs, self.device) for act in chosen],
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

    def train_epoch(self, group: _Group, idx: list[int], seed: int, epoch: int, gen: torch.Generator,
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

    def steps(self, group: _Group, alive: list[tuple[int, _Model]], idx: list[int], seed: int, epoch: int,
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

    def record(self, group: _Group, m: _Model, i: int, j: int, seed: int, epoch: int,
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
    torch.div(flat.to(device), 255, out=out[:, :-1])
    out[:, -1] = 1.0
    return out
