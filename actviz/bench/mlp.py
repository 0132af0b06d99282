"""The model stack of the training engine: d2l's MLP for many activations at once, with a hand-written backward.

* :func:`init_weight` — a layer's initial weights and biases (the ``--init`` choices);
* :class:`Model` — one activation's MLP: stacked hidden layers, the forward pass, the
  backward pass through the registry's **analytic** derivative, the update, the
  per-epoch statistics and the diagnostics' probe;
* :class:`Group` — every model of one seed, whose first layers are stored side by side in
  one ``(784, Σ units)`` matrix so that one GEMM computes every model's first
  pre-activations and one GEMM applies every first-layer update;
* :class:`Updater` — SGD or Adam on one tensor (or the gradient norm, for the probe).

The engine (:mod:`actviz.bench.train`) drives them; the definitions of the diagnostics
are in its docstring.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from actviz.bench.config import TrainConfig
from actviz.core.errors import UsageError
from actviz.core.registry import Activation
from actviz.facts.audit import properties_of

__all__ = ["CONSTANT_INIT", "N_CLASSES", "SATURATION_EPS", "SATURATION_MAJORITY", "Group", "Model", "Updater",
           "fast_path", "init_weight"]

#: the value of every weight under ``init="constant"`` (biases 0): all hidden units start equal
CONSTANT_INIT = 0.01
#: a unit is saturated on an example when |f′| ≤ SATURATION_EPS · sup|f′|
SATURATION_EPS = 0.01
#: ... and saturated when that holds on more than this fraction of the probe batch
SATURATION_MAJORITY = 0.5
N_CLASSES = 10


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


class Updater:
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


class Model:
    """One MLP.

    The first layer's weights (bias folded in as the last row, the inputs carrying a
    column of ones) are a column block of the group's fused matrix; hidden layers
    2.. are (in, out) matrices with a bias, ``Z = A @ W + b``; the output layer is
    stored (10, in), as ``nn.Linear`` does, and computed transposed (logitsᵀ = W·Aᵀ):
    that orientation is several times faster for the skinny 10-row products.
    """

    def __init__(self, act: Activation, config: TrainConfig, seed: int, inputs: int, device: torch.device,
                 n_classes: int = N_CLASSES):
        self.act = act
        self.n_classes = n_classes
        self.config = config
        self.seed = seed
        self.kind = act.spec.kind
        self.k = len(act.params["weights"]) if self.kind == "maxout" else 1
        h, k = config.hidden, self.k
        gen = torch.Generator().manual_seed(seed)
        shapes = [(inputs, h * k)] + [(h, h * k)] * (config.depth - 1) + [(h, n_classes)]
        if config.depth == 0:  # softmax regression: the first layer is the output layer
            shapes = [(inputs, n_classes)]
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
            self.cols = n_classes
            self.w_out = torch.zeros(n_classes, 0, device=device)
            self.b_out = torch.zeros(n_classes, 1, device=device)
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
                    upd: Updater) -> torch.Tensor:
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

    def output_step(self, h: torch.Tensor, onehot_t: torch.Tensor, upd: Updater) -> torch.Tensor:
        """The output layer on the last hidden output ``h``: records the logits, updates, returns dH."""
        logits_t = torch.addmm(self.b_out, self.w_out, h.t())  # (10, B)
        self.preds.append(logits_t)  # loss and accuracy once per epoch
        g_t = torch.log_softmax(logits_t, 0).exp_().sub_(onehot_t)  # (10, B): B × the gradient of the mean loss
        dh = torch.mm(g_t.t(), self.w_out)
        upd.linear(self.config.depth, self.w_out, self.b_out, g_t, h, g_t.sum(1, keepdim=True))
        return dh

    def backward_hidden(self, dh: torch.Tensor, acts: list[torch.Tensor], ctxs: list[Any], upd: Updater,
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
                         upd: Updater, dz1_out: torch.Tensor | None, x: torch.Tensor | None = None) -> None:
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


class Group:
    """The models of one seed, trained together on the same mini-batches.

    The first pre-activations are computed into a buffer kept per batch size, and the
    test-set evaluation into buffers kept from epoch to epoch (fresh tensors of those
    sizes cost page faults).
    """

    def __init__(self, models: list[Model], config: TrainConfig, device: torch.device):
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
        upd = Updater(lr, scale, "sgd" if self.opt is None else "grad")
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
        onehot_t = torch.nn.functional.one_hot(y, self.models[0].n_classes).to(x.dtype).t().contiguous()
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
            m.forward_backward(z_all[:, sl], y, onehot_t, Updater(0.0, scale, "norm", norms), dz_all[:, sl])
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
