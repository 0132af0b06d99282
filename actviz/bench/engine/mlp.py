"""The MLP family: M copies of d2l's MLP of one shape, trained as one stack with a hand-written backward.

Layout of a stack of M = m·S models (m per seed slot, S slots; model ``i = j·S + s`` is
position ``j`` of slot ``s`` and reads slot ``s``'s batch):

* the first layer of every model of one slot side by side: ``w1`` is (S, inputs, m, cols)
  and ``b1`` (S, 1, m, cols), so one batched GEMM computes every model's first
  pre-activations from the slots' batches and one batched GEMM computes every
  first-layer weight gradient — the first layer holds most of the FLOPs, and the wide
  GEMM runs closer to the machine's peak;
* hidden layers 2.. as (M, in, out) matrices and (M, out) biases, the output layer as
  (M, hidden, classes) and (M, classes): batched matrix products;
* the non-linearity per run of consecutive models with the same activation
  (:class:`~actviz.bench.engine.kernels.Nonlinearity`); positions are ordered so that
  the models of one activation are consecutive;
* the updates on the stacked tensors with one learning rate per model
  (:class:`~actviz.bench.engine.optim.Optimizer`).

The training loss sum and correct count of the epoch accumulate on the device (no
host synchronisation per step); :meth:`MLPStack.device_step` has static shapes and no
host state, so it can be captured in a CUDA graph.  ``depth=0`` is softmax regression
(one layer; the activation is not used).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from actviz.bench.engine import products
from actviz.bench.engine.kernels import Nonlinearity, histograms, layer_means, learning_record, runs_of
from actviz.bench.engine.optim import Optimizer
from actviz.bench.engine.params import draw_layers, layer_shapes, maxout_k
from actviz.bench.engine.precision import bf16_matmul
from actviz.core.registry import Activation

__all__ = ["MLP", "MLPFamily", "MLPStack", "unit_fractions"]

#: a unit is saturated on an example when |f′| ≤ SATURATION_EPS · sup|f′|
SATURATION_EPS = 0.01
#: ... and saturated when that holds on more than this fraction of the probe batch
SATURATION_MAJORITY = 0.5
#: bins of the pre-activation histograms recorded when an activation learns
HIST_BINS = 40


def unit_fractions(d: torch.Tensor, sup: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(dead, saturated) fractions of the units from |f′| ``d`` (…, examples, units): dead, f′ = 0 on every
    example; saturated, |f′| ≤ :data:`SATURATION_EPS` × ``sup`` (sup|f′|) on more than
    :data:`SATURATION_MAJORITY` of them.  Both in float64, one per leading index."""
    dead = (d == 0).all(-2).double().mean(-1)
    flat = (d <= SATURATION_EPS * sup).double().mean(-2) > SATURATION_MAJORITY
    return dead, flat.double().mean(-1)


def predicted(logits: torch.Tensor, dim: int) -> torch.Tensor:
    """The predicted classes: the first index of the largest logit along ``dim`` (``argmax``'s answer; the
    indices of ``max`` are the same, and on the CPU 10–15× faster along a dimension that is not the last)."""
    return logits.max(dim).indices


class MLPFamily:
    """The network family of the reference MLP (registered as ``mlp``)."""

    name = "mlp"

    def key(self, act: Activation, config: Any) -> tuple[Any, ...]:
        """Runs with equal keys share a stack: everything but the activation, the seed and the learning rate."""
        k = maxout_k(act) if config.depth else 1
        return ("mlp", config.hidden, config.depth, k, config.optimizer, config.batch_size, config.init,
                config.epochs, config.probe_size, getattr(config, "precision", "fp32"),
                getattr(config, "learn", ""), getattr(config, "learn_lr", None))

    def build(self, acts: Sequence[Activation], seeds: Sequence[int], lrs: Sequence[float], slot: Sequence[int],
              config: Any, input_shape: tuple[int, ...], n_classes: int, device: torch.device,
              dtype: torch.dtype = torch.float32) -> MLPStack:
        return MLPStack(acts, seeds, lrs, slot, config, input_shape, n_classes, device, dtype)


MLP = MLPFamily()


class MLPStack:
    """M MLPs of one shape (see the module's docstring for the layout)."""

    def __init__(self, acts: Sequence[Activation], seeds: Sequence[int], lrs: Sequence[float],
                 slot: Sequence[int], config: Any, input_shape: tuple[int, ...], n_classes: int,
                 device: torch.device, dtype: torch.dtype = torch.float32):
        self.M = M = len(acts)
        self.S = S = max(slot) + 1
        if M % S or list(slot) != [i % S for i in range(M)]:
            raise ValueError("an MLP stack takes model i = j·S + s reading slot s (every slot the same positions)")
        self.m = m = M // S
        self.acts, self.config, self.device, self.dtype = list(acts), config, device, dtype
        self.depth, self.hidden, self.n_classes = config.depth, config.hidden, n_classes
        self.inputs = inputs = math.prod(input_shape)
        self.k = k = maxout_k(acts[0]) if self.depth else 1
        self.cols = n_classes if self.depth == 0 else config.hidden * k
        self.bf16 = getattr(config, "precision", "fp32") == "bf16"
        shapes = layer_shapes(inputs, config.hidden, self.depth, k, n_classes)
        drawn = [draw_layers(seeds[i], shapes, config.init) for i in range(M)]
        w1 = torch.empty(S, inputs, m, self.cols)
        b1 = torch.empty(S, 1, m, self.cols)
        for i, layers in enumerate(drawn):
            j, s = divmod(i, S)
            w1[s, :, j] = layers[0][0]
            b1[s, 0, j] = layers[0][1]
        kw = {"device": device, "dtype": dtype}
        self.w1, self.b1 = w1.to(**kw), b1.to(**kw)
        #: hidden layers 2..depth, then the output layer: (M, in, out) weights and (M, out) biases
        self.ws = [torch.stack([d[layer][0] for d in drawn]).to(**kw) for layer in range(1, len(shapes))]
        self.bs = [torch.stack([d[layer][1] for d in drawn]).to(**kw) for layer in range(1, len(shapes))]
        if self.depth:  # the output layer is kept (M, classes, hidden), its logits computed transposed
            self.ws[-1] = self.ws[-1].transpose(1, 2).contiguous()
        #: the dimension of the classes in the logits: (M, classes, B) after hidden layers, (M, B, classes) at depth 0
        self.cdim = 1 if self.depth else 2
        learn = getattr(config, "learn", "")
        self.nonlin = [Nonlinearity(acts[a], a, b, self.depth, device, dtype, learn, config.hidden)
                       for a, b in runs_of(list(acts))]
        #: per hidden layer, (M, 2): each model's fixed histogram range of the pre-activations (set on first use)
        self.hist_range: list[torch.Tensor] | None = None
        self.hists: list[torch.Tensor] = []
        self.lr = torch.tensor([float(v) for v in lrs], **kw)
        self.active = [True] * M
        #: the learning rate when every model has the same (then a scalar, not a tensor, scales the big update)
        self.uniform_lr: float | None = float(lrs[0]) if len(set(map(float, lrs))) == 1 else None
        #: bumped whenever the step's work changes (a captured step must be captured again)
        self.version = 0
        self._setup_optimizer(config.optimizer)
        self.loss_sum = torch.zeros(M, dtype=torch.float64, device=device)
        self.correct = torch.zeros(M, dtype=torch.int64, device=device)
        self.seen = 0
        self._ones: dict[int, torch.Tensor] = {}

    def _setup_optimizer(self, mode: str) -> None:
        opt = self.opt = Optimizer(mode, self.device)
        M, S, m = self.M, self.S, self.m
        self.lr_w1 = self.lr.view(m, S).t().reshape(S, 1, m, 1).contiguous()
        opt.add("first", self.w1, self.lr_w1)
        opt.add("first_bias", self.b1, self.lr_w1.clone())
        for n, (w, b) in enumerate(zip(self.ws, self.bs)):
            opt.add(f"w{n}", w, self.lr.view(M, 1, 1).clone())
            opt.add(f"b{n}", b, self.lr.view(M, 1).clone())
        learn_lr = getattr(self.config, "learn_lr", None)
        for r, nl in enumerate(self.nonlin):
            lr = self.lr[nl.sl] if learn_lr is None else torch.full_like(self.lr[nl.sl], float(learn_lr))
            for layer, leaves in enumerate(nl.leaves):
                for name, p in leaves.items():
                    opt.add(f"a{r}.{layer}.{name}", p, lr.view(-1, *[1] * (p.dim() - 1)).clone())

    # -- matrix products (bf16: operands rounded to bfloat16, products accumulated in float32)
    def _bmm(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return bf16_matmul(a, b, self.dtype) if self.bf16 else torch.bmm(a, b)

    def _flat(self, x: torch.Tensor) -> torch.Tensor:
        """(S or 1, B, inputs): the flattened inputs."""
        return x.reshape(x.shape[0], x.shape[1], self.inputs).to(self.dtype)

    def _first(self, x1: torch.Tensor) -> torch.Tensor:
        """(M, B, cols): every model's first pre-activations from its slot's batch."""
        B, W = x1.shape[1], self.m * self.cols
        w1 = self.w1.view(self.S, self.inputs, W)
        b1 = self.b1.view(self.S, 1, W)
        if x1.shape[0] != self.S:  # one batch shared by every slot (evaluation, the probe)
            x1 = x1.expand(self.S, B, self.inputs)
        z = self._bmm(x1, w1).add_(b1) if self.bf16 else products.baddbmm(b1, x1, w1)
        return z.view(self.S, B, self.m, self.cols).permute(2, 0, 1, 3).reshape(self.M, B, self.cols)

    def _fuse(self, dz1: torch.Tensor) -> torch.Tensor:
        """(S, B, m·cols): the models' first-layer gradients in the fused layout."""
        B = dz1.shape[1]
        return dz1.view(self.m, self.S, B, self.cols).permute(1, 2, 0, 3).reshape(self.S, B, self.m * self.cols)

    def _forward(self, x1: torch.Tensor, grad: bool) -> tuple[list[torch.Tensor], list[torch.Tensor], list[Any]]:
        """(inputs of each later layer, pre-activations, backward contexts); the last input is the logits."""
        z = self._first(x1)
        if self.depth == 0:
            return [z], [], []
        hs, zs, ctxs = [], [], []
        for layer in range(self.depth):
            if layer:
                z = torch.baddbmm(self.bs[layer - 1].unsqueeze(1), hs[-1], self.ws[layer - 1]) \
                    if not self.bf16 else self._bmm(hs[-1], self.ws[layer - 1]) + self.bs[layer - 1].unsqueeze(1)
            h = None if len(self.nonlin) == 1 else z.new_empty(self.M, z.shape[1], self.hidden)
            outs = [nl.forward(layer, z[nl.sl], grad, None if h is None else h[nl.sl]) for nl in self.nonlin]
            h = outs[0][0] if h is None else h
            zs.append(z)
            hs.append(h)
            ctxs.append([o[1] for o in outs])
        w, b, h_t = self.ws[-1], self.bs[-1].unsqueeze(2), hs[-1].transpose(1, 2)
        logits = torch.baddbmm(b, w, h_t) if not self.bf16 else self._bmm(w, h_t) + b
        return [*hs, logits], zs, ctxs

    def _labels(self, y: torch.Tensor) -> torch.Tensor:
        """(M, B) labels: each model's slot's (y of shape (S, B), or (B,) shared)."""
        if y.dim() == 1:
            return y.unsqueeze(0).expand(self.M, y.shape[0])
        return y.unsqueeze(0).expand(self.m, *y.shape).reshape(self.M, y.shape[1])

    def _loss_grad(self, logits: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(per-model loss sums, correct counts, B × the gradient of the mean loss wrt the logits)."""
        c = self.cdim
        logp = torch.log_softmax(logits, c)
        idx = y.unsqueeze(c)
        loss = -logp.gather(c, idx).squeeze(c).sum(1, dtype=torch.float64)
        correct = (predicted(logits, c) == y).sum(1)
        g = logp.exp_()
        g.scatter_add_(c, idx, torch.full(idx.shape, -1.0, dtype=g.dtype, device=g.device))
        return loss, correct, g

    def _backward(self, x1: torch.Tensor, hs: list[torch.Tensor], ctxs: list[Any], g: torch.Tensor,
                  sink: Any) -> None:
        """Gradients (of the loss sum) from the output back to the first layer, handed to ``sink``."""
        dz = g
        if self.depth:
            for layer in range(self.depth, 0, -1):  # weights ws[layer - 1] take hs[layer - 1] to z
                w = self.ws[layer - 1]
                out = layer == self.depth  # the output layer: dz is (M, classes, B), w (M, classes, hidden)
                dh = self._bmm(dz.transpose(1, 2), w) if out else self._bmm(dz, w.transpose(1, 2))
                sink.linear(layer, hs[layer - 1], dz, out)
                dz = None if len(self.nonlin) == 1 else dh.new_empty(self.M, dh.shape[1], self.cols)
                for r, nl in enumerate(self.nonlin):
                    d, pgrads = nl.backward(layer - 1, dh[nl.sl], ctxs[layer - 1][r], None if dz is None else dz[nl.sl])
                    dz = d if dz is None else dz
                    for name, gp in pgrads.items():
                        sink.param(r, layer - 1, name, gp)
        sink.first(x1, self._fuse(dz))

    # -- the stack protocol
    def step(self, xs: torch.Tensor, ys: torch.Tensor) -> None:
        """One optimiser step of every active model; xs (S, B, *input_shape), ys (S, B)."""
        self.count(ys.shape[1])
        self.device_step(xs, ys)

    def count(self, batch: int) -> None:
        """Note a step of ``batch`` examples (the host side of :meth:`device_step`)."""
        self.seen += batch

    @torch.no_grad()
    def device_step(self, xs: torch.Tensor, ys: torch.Tensor) -> None:
        """The step's device work only (capturable): forward, backward, the updates, the epoch's sums."""
        x1 = self._flat(xs)
        if self.bf16:  # rounded once for the forward and the weight-gradient products
            x1 = x1.to(torch.bfloat16)
        y = self._labels(ys)
        hs, _, ctxs = self._forward(x1, grad=True)
        loss, correct, g = self._loss_grad(hs[-1], y)
        self.loss_sum.add_(loss)
        self.correct.add_(correct)
        self.opt.tick()
        self._backward(x1, hs, ctxs, g, _Update(self, 1.0 / ys.shape[1]))

    def reset_stats(self) -> None:
        self.loss_sum.zero_()
        self.correct.zero_()
        self.seen = 0

    def epoch_stats(self) -> list[tuple[float, float]]:
        """(mean training loss, training accuracy) of every model since :meth:`reset_stats`."""
        n = max(1, self.seen)
        return [(float(l_) / n, int(c) / n) for l_, c in zip(self.loss_sum.cpu(), self.correct.cpu())]

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, y: torch.Tensor, chunk: int | None = None) -> list[tuple[float, float]]:
        """(accuracy, mean loss) of every model on (x, y), x shared by all models."""
        n = x.shape[0]
        chunk = chunk or max(256, min(10000, (1 << 24) // max(1, self.M * self.cols)))
        correct = torch.zeros(self.M, dtype=torch.int64, device=self.device)
        loss = torch.zeros(self.M, dtype=torch.float64, device=self.device)
        for i in range(0, n, chunk):
            xb = x[i : i + chunk]
            x1 = self._flat(xb.unsqueeze(0))
            hs, _, _ = self._forward(x1, grad=False)
            yb = self._labels(y[i : i + chunk].to(self.device))
            c = self.cdim
            logp = torch.log_softmax(hs[-1], c)
            loss -= logp.gather(c, yb.unsqueeze(c)).squeeze(c).sum(1, dtype=torch.float64)
            correct += (predicted(hs[-1], c) == yb).sum(1)
        return [(int(c) / n, float(l_) / n) for c, l_ in zip(correct.cpu(), loss.cpu())]

    @torch.no_grad()
    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """Every model's class probabilities ``(M, N, classes)`` on ``x`` ``(N, *input_shape)``, shared by all."""
        logits = self._forward(self._flat(x.unsqueeze(0)), grad=False)[0][-1]
        return torch.softmax(logits, self.cdim).transpose(1, 2) if self.cdim == 1 else torch.softmax(logits, 2)

    @torch.no_grad()
    def diagnostics(self, x: torch.Tensor, y: torch.Tensor) -> list[dict[str, Any] | None]:
        """Dead and saturated fractions and per-layer gradient norms of every model on the probe batch."""
        x1 = self._flat(x.unsqueeze(0))
        yl = self._labels(y.to(self.device))
        hs, zs, ctxs = self._forward(x1, grad=False)
        dead = torch.full((self.M, self.depth), float("nan"), dtype=torch.float64)
        saturated = dead.clone()
        for layer, z in enumerate(zs):
            for nl in self.nonlin:
                d = nl.derivative(layer, z[nl.sl])
                if d is None:
                    continue
                dead_units, flat_units = unit_fractions(d, nl.sup)
                dead[nl.sl, layer], saturated[nl.sl, layer] = dead_units.cpu(), flat_units.cpu()
        self._histograms(zs)
        loss, _, g = self._loss_grad(hs[-1], yl)
        norms = _Norms(self, 1.0 / x.shape[0])
        self._backward(x1, hs, ctxs, g, norms)
        probe = (loss / x.shape[0]).cpu()
        grad_norm = torch.stack(norms.norms[::-1], 1).double().cpu()  # input layer first
        out: list[dict[str, Any] | None] = []
        for i in range(self.M):
            if not self.active[i]:
                out.append(None)
                continue
            out.append({"probe_loss": float(probe[i]),
                        "dead": [None if math.isnan(v) else v for v in dead[i].tolist()],
                        "saturated": [None if math.isnan(v) else v for v in saturated[i].tolist()],
                        "grad_norm": grad_norm[i].tolist()})
        return out

    def deactivate(self, i: int) -> None:
        """Stop updating model ``i`` (diverged); its parameters are zeroed so that they stay finite."""
        self.active[i] = False
        self.uniform_lr = None
        self.version += 1
        j, s = divmod(i, self.S)
        self.w1[s, :, j] = 0.0
        self.b1[s, :, j] = 0.0
        self.opt.stop("first", (s, slice(None), j))
        self.opt.stop("first_bias", (s, slice(None), j))
        for n, (w, b) in enumerate(zip(self.ws, self.bs)):
            w[i] = 0.0
            b[i] = 0.0
            self.opt.stop(f"w{n}", (i,))
            self.opt.stop(f"b{n}", (i,))
        for r, nl in enumerate(self.nonlin):
            if nl.sl.start <= i < nl.sl.stop:
                for layer, leaves in enumerate(nl.leaves):
                    for name in leaves:
                        self.opt.stop(f"a{r}.{layer}.{name}", (i - nl.sl.start,))

    def parameters_of(self, i: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Model ``i``'s weights (input layer first, each (in, out)) and biases, as CPU tensors."""
        j, s = divmod(i, self.S)
        weights = [self.w1[s, :, j], *[w[i] for w in self.ws[:-1]], *[w[i].t() for w in self.ws[-1:]]]
        biases = [self.b1[s, 0, j], *[b[i] for b in self.bs]]
        return [w.detach().cpu().clone() for w in weights], [b.detach().cpu().clone() for b in biases]

    def activation_parameters_of(self, i: int) -> list[dict[str, torch.Tensor]]:
        """Model ``i``'s learnable activation parameters per hidden layer (see ``Nonlinearity.parameters_of``)."""
        for nl in self.nonlin:
            if nl.sl.start <= i < nl.sl.stop:
                return nl.parameters_of(i - nl.sl.start)
        return []

    def learned(self, i: int) -> dict[str, list[float]]:
        for nl in self.nonlin:
            if nl.sl.start <= i < nl.sl.stop:
                return layer_means(nl.per_layer(i - nl.sl.start))
        return {}  # pragma: no cover - every model is in one run

    def _histograms(self, zs: list[torch.Tensor]) -> None:
        """Every model's histogram of each hidden layer's pre-activations (on the probe batch), when any
        learns (:func:`~actviz.bench.engine.kernels.histograms`: the range fixed at the first call)."""
        if not any(nl.learnable for nl in self.nonlin):
            return
        self.hist_range, self.hists = histograms(zs, self.hist_range, HIST_BINS)

    def learning(self, i: int) -> dict[str, Any] | None:
        """Model ``i``'s learnable parameters now (None when none learns): the epoch's and the run's records.

        ``epoch``: ``learned`` (per parameter and layer: mean, sd, quantiles over the units) and
        ``preact_hist`` (per layer: ``below``, ``counts``, ``above`` on the probe batch);
        ``run``: ``learning`` (parameter → granularity), ``learned_units`` (per-unit values) and
        ``preact_range`` (per layer: [lo, hi, bins]).
        """
        nl = self.nonlinearity_of(i)
        if not nl.learnable or not self.depth:
            return None
        return learning_record(i, nl.granularity, nl.per_layer(i - nl.sl.start), self.hists, self.hist_range,
                               HIST_BINS)

    def nonlinearity_of(self, i: int) -> Nonlinearity:
        return next(nl for nl in self.nonlin if nl.sl.start <= i < nl.sl.stop)


class _Update:
    """The training step's gradient sink: applies each gradient (of the loss sum, scaled by 1/B)."""

    def __init__(self, stack: MLPStack, scale: float):
        self.s, self.scale = stack, scale

    def linear(self, layer: int, a: torch.Tensor, dz: torch.Tensor, transposed: bool) -> None:
        s, n = self.s, layer - 1
        grad = s._bmm(dz, a) if transposed else s._bmm(a.transpose(1, 2), dz)
        s.opt.update(f"w{n}", grad.mul_(self.scale))
        s.opt.update(f"b{n}", dz.sum(2 if transposed else 1).mul_(self.scale))

    def param(self, r: int, layer: int, name: str, g: torch.Tensor) -> None:
        self.s.opt.update(f"a{r}.{layer}.{name}", g * self.scale)

    def first(self, x1: torch.Tensor, dz1: torch.Tensor) -> None:
        s = self.s
        gb = dz1.sum(1, keepdim=True).mul_(self.scale)
        s.opt.update("first_bias", gb.view_as(s.b1))
        if s.opt.mode == "sgd" and not s.bf16:  # the learning rates folded into dZ: one GEMM applies the update
            w1 = s.w1.view(s.S, s.inputs, s.m * s.cols)
            if s.uniform_lr is not None:
                products.baddbmm_(w1, x1.transpose(1, 2), dz1, -self.scale * s.uniform_lr)
            else:
                scaled = dz1.view(s.S, -1, s.m, s.cols).mul(s.lr_w1).view_as(dz1)
                products.baddbmm_(w1, x1.transpose(1, 2), scaled, -self.scale)
            return
        if s.opt.mode == "sgd":  # bf16: the product (accumulated in float32, rounded to bfloat16) applied in one pass
            grad = torch.bmm(x1.transpose(1, 2), dz1.to(torch.bfloat16))
            s.w1.addcmul_(grad.view_as(s.w1), s.lr_w1, value=-self.scale)
            return
        grad = s._bmm(x1.transpose(1, 2), dz1).mul_(self.scale)
        s.opt.update("first", grad.view_as(s.w1))


class _Norms:
    """The probe's gradient sink: the Frobenius norm of each weight gradient, per model (output layer first)."""

    def __init__(self, stack: MLPStack, scale: float):
        self.s, self.scale = stack, scale
        self.norms: list[torch.Tensor] = []

    def linear(self, layer: int, a: torch.Tensor, dz: torch.Tensor, transposed: bool) -> None:
        g = torch.bmm(dz, a) if transposed else torch.bmm(a.transpose(1, 2), dz)
        self.norms.append(torch.linalg.vector_norm(g, dim=(1, 2)) * self.scale)

    def param(self, r: int, layer: int, name: str, g: torch.Tensor) -> None:
        pass

    def first(self, x1: torch.Tensor, dz1: torch.Tensor) -> None:
        s = self.s
        g = torch.bmm(x1.transpose(1, 2).expand(s.S, -1, -1), dz1).view(s.S, s.inputs, s.m, s.cols)
        per = torch.linalg.vector_norm(g, dim=(1, 3)) * self.scale  # (S, m)
        self.norms.append(per.t().reshape(s.M))
