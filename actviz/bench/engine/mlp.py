"""The MLP family: M copies of d2l's MLP of one shape, trained as one stack with a hand-written backward.

Layout of a stack of M = m·S models (m per seed slot, S slots; model ``i = j·S + s`` is
position ``j`` of slot ``s`` and reads slot ``s``'s batch):

* the first layer of every model of one slot side by side, the bias folded in as the
  last input row: ``w1`` is (S, inputs + 1, m, cols), so one batched GEMM computes every
  model's first pre-activations from the slots' batches (with their column of ones) and
  one batched GEMM computes every first-layer weight gradient — the first layer holds
  most of the FLOPs, and the wide GEMM runs closer to the machine's peak;
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

from actviz.bench.engine.kernels import Nonlinearity, runs_of
from actviz.bench.engine.optim import Optimizer
from actviz.bench.engine.params import draw_layers, layer_shapes, maxout_k
from actviz.core.registry import Activation

__all__ = ["MLP", "MLPFamily", "MLPStack"]

#: a unit is saturated on an example when |f′| ≤ SATURATION_EPS · sup|f′|
SATURATION_EPS = 0.01
#: ... and saturated when that holds on more than this fraction of the probe batch
SATURATION_MAJORITY = 0.5


class MLPFamily:
    """The network family of the reference MLP (registered as ``mlp``)."""

    name = "mlp"

    def key(self, act: Activation, config: Any) -> tuple[Any, ...]:
        """Runs with equal keys share a stack: everything but the activation, the seed and the learning rate."""
        k = maxout_k(act) if config.depth else 1
        return ("mlp", config.hidden, config.depth, k, config.optimizer, config.batch_size, config.init,
                config.epochs, config.probe_size, getattr(config, "precision", "fp32"))

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
        w1 = torch.empty(S, inputs + 1, m, self.cols)
        for i, layers in enumerate(drawn):
            j, s = divmod(i, S)
            w1[s, :-1, j] = layers[0][0]
            w1[s, -1, j] = layers[0][1]
        kw = {"device": device, "dtype": dtype}
        self.w1 = w1.to(**kw)
        #: hidden layers 2..depth, then the output layer: (M, in, out) weights and (M, out) biases
        self.ws = [torch.stack([d[layer][0] for d in drawn]).to(**kw) for layer in range(1, len(shapes))]
        self.bs = [torch.stack([d[layer][1] for d in drawn]).to(**kw) for layer in range(1, len(shapes))]
        self.nonlin = [Nonlinearity(acts[a], a, b, self.depth, device, dtype) for a, b in runs_of(list(acts))]
        self.lr = torch.tensor([float(v) for v in lrs], **kw)
        self.active = [True] * M
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
        for n, (w, b) in enumerate(zip(self.ws, self.bs)):
            opt.add(f"w{n}", w, self.lr.view(M, 1, 1).clone())
            opt.add(f"b{n}", b, self.lr.view(M, 1).clone())
        for r, nl in enumerate(self.nonlin):
            for layer, leaves in enumerate(nl.leaves):
                for name, p in leaves.items():
                    opt.add(f"a{r}.{layer}.{name}", p, self.lr[nl.sl].clone())

    # -- matrix products (bf16: operands rounded to bfloat16, products accumulated in float32)
    def _bmm(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        if self.bf16:
            return torch.bmm(a.to(torch.bfloat16), b.to(torch.bfloat16)).to(self.dtype)
        return torch.bmm(a, b)

    def _with_ones(self, x: torch.Tensor) -> torch.Tensor:
        """(S, B, inputs + 1): the flattened inputs and the column of ones of the folded bias."""
        S, B = x.shape[0], x.shape[1]
        x = x.reshape(S, B, self.inputs).to(self.dtype)
        return torch.cat([x, torch.ones(S, B, 1, dtype=self.dtype, device=x.device)], 2)

    def _first(self, x1: torch.Tensor) -> torch.Tensor:
        """(M, B, cols): every model's first pre-activations from its slot's batch."""
        B = x1.shape[1]
        w1 = self.w1.view(self.S, self.inputs + 1, self.m * self.cols)
        if x1.shape[0] != self.S:  # one batch shared by every slot (evaluation, the probe)
            x1 = x1.expand(self.S, B, self.inputs + 1)
        z = self._bmm(x1, w1)
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
            outs = [nl.forward(layer, z[nl.sl], grad) for nl in self.nonlin]
            h = outs[0][0] if len(outs) == 1 else torch.cat([o[0] for o in outs])
            zs.append(z)
            hs.append(h)
            ctxs.append([o[1] for o in outs])
        w, b = self.ws[-1], self.bs[-1]
        logits = torch.baddbmm(b.unsqueeze(1), hs[-1], w) if not self.bf16 else self._bmm(hs[-1], w) + b.unsqueeze(1)
        return [*hs, logits], zs, ctxs

    def _labels(self, y: torch.Tensor) -> torch.Tensor:
        """(M, B) labels: each model's slot's (y of shape (S, B), or (B,) shared)."""
        if y.dim() == 1:
            return y.unsqueeze(0).expand(self.M, y.shape[0])
        return y.unsqueeze(0).expand(self.m, *y.shape).reshape(self.M, y.shape[1])

    def _loss_grad(self, logits: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(per-model loss sums, correct counts, B × the gradient of the mean loss wrt the logits)."""
        logp = torch.log_softmax(logits, 2)
        idx = y.unsqueeze(2)
        loss = -logp.gather(2, idx).squeeze(2).sum(1, dtype=torch.float64)
        correct = (logits.argmax(2) == y).sum(1)
        g = logp.exp_()
        g.scatter_add_(2, idx, torch.full(idx.shape, -1.0, dtype=g.dtype, device=g.device))
        return loss, correct, g

    def _backward(self, x1: torch.Tensor, hs: list[torch.Tensor], ctxs: list[Any], g: torch.Tensor,
                  sink: Any) -> None:
        """Gradients (of the loss sum) from the output back to the first layer, handed to ``sink``."""
        dz = g
        if self.depth:
            for layer in range(self.depth, 0, -1):  # weights ws[layer - 1] take hs[layer - 1] to z
                w = self.ws[layer - 1]
                dh = self._bmm(dz, w.transpose(1, 2))
                sink.linear(layer, hs[layer - 1], dz)
                dzs = []
                for r, nl in enumerate(self.nonlin):
                    d, pgrads = nl.backward(layer - 1, dh[nl.sl], ctxs[layer - 1][r])
                    dzs.append(d)
                    for name, gp in pgrads.items():
                        sink.param(r, layer - 1, name, gp)
                dz = dzs[0] if len(dzs) == 1 else torch.cat(dzs)
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
        x1 = self._with_ones(xs)
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
            x1 = self._with_ones(xb.unsqueeze(0))
            hs, _, _ = self._forward(x1, grad=False)
            yb = self._labels(y[i : i + chunk].to(self.device))
            logp = torch.log_softmax(hs[-1], 2)
            loss -= logp.gather(2, yb.unsqueeze(2)).squeeze(2).sum(1, dtype=torch.float64)
            correct += (hs[-1].argmax(2) == yb).sum(1)
        return [(int(c) / n, float(l_) / n) for c, l_ in zip(correct.cpu(), loss.cpu())]

    @torch.no_grad()
    def diagnostics(self, x: torch.Tensor, y: torch.Tensor) -> list[dict[str, Any] | None]:
        """Dead and saturated fractions and per-layer gradient norms of every model on the probe batch."""
        x1 = self._with_ones(x.unsqueeze(0))
        yl = self._labels(y.to(self.device))
        hs, zs, ctxs = self._forward(x1, grad=False)
        dead = torch.full((self.M, self.depth), float("nan"), dtype=torch.float64)
        saturated = dead.clone()
        for layer, z in enumerate(zs):
            for nl in self.nonlin:
                d = nl.derivative(layer, z[nl.sl])
                if d is None:
                    continue
                dead[nl.sl, layer] = (d == 0).all(1).double().mean(1).cpu()
                flat = (d <= SATURATION_EPS * nl.sup).double().mean(1) > SATURATION_MAJORITY
                saturated[nl.sl, layer] = flat.double().mean(1).cpu()
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
        j, s = divmod(i, self.S)
        self.w1[s, :, j] = 0.0
        self.opt.stop("first", (s, slice(None), j))
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
        w1 = self.w1[s, :, j]
        weights = [w1[:-1], *[w[i] for w in self.ws]]
        biases = [w1[-1], *[b[i] for b in self.bs]]
        return [w.detach().cpu().clone() for w in weights], [b.detach().cpu().clone() for b in biases]

    def learned(self, i: int) -> dict[str, list[float]]:
        for nl in self.nonlin:
            if nl.sl.start <= i < nl.sl.stop:
                return nl.learned(i - nl.sl.start)
        return {}  # pragma: no cover - every model is in one run

    def nonlinearity_of(self, i: int) -> Nonlinearity:
        return next(nl for nl in self.nonlin if nl.sl.start <= i < nl.sl.stop)


class _Update:
    """The training step's gradient sink: applies each gradient (of the loss sum, scaled by 1/B)."""

    def __init__(self, stack: MLPStack, scale: float):
        self.s, self.scale = stack, scale

    def linear(self, layer: int, a: torch.Tensor, dz: torch.Tensor) -> None:
        s, n = self.s, layer - 1
        s.opt.update(f"w{n}", s._bmm(a.transpose(1, 2), dz).mul_(self.scale))
        s.opt.update(f"b{n}", dz.sum(1).mul_(self.scale))

    def param(self, r: int, layer: int, name: str, g: torch.Tensor) -> None:
        self.s.opt.update(f"a{r}.{layer}.{name}", g * self.scale)

    def first(self, x1: torch.Tensor, dz1: torch.Tensor) -> None:
        s = self.s
        w1 = s.w1.view(s.S, s.inputs + 1, s.m * s.cols)
        if s.opt.mode == "sgd" and not s.bf16:  # the learning rates folded into dZ: one GEMM applies the update
            scaled = dz1.view(s.S, -1, s.m, s.cols).mul(s.lr_w1).view_as(dz1)
            w1.baddbmm_(x1.transpose(1, 2), scaled, alpha=-self.scale)
            return
        grad = s._bmm(x1.transpose(1, 2), dz1).mul_(self.scale)
        s.opt.update("first", grad.view_as(s.w1))


class _Norms:
    """The probe's gradient sink: the Frobenius norm of each weight gradient, per model (output layer first)."""

    def __init__(self, stack: MLPStack, scale: float):
        self.s, self.scale = stack, scale
        self.norms: list[torch.Tensor] = []

    def linear(self, layer: int, a: torch.Tensor, dz: torch.Tensor) -> None:
        g = torch.bmm(a.transpose(1, 2), dz)
        self.norms.append(torch.linalg.vector_norm(g, dim=(1, 2)) * self.scale)

    def param(self, r: int, layer: int, name: str, g: torch.Tensor) -> None:
        pass

    def first(self, x1: torch.Tensor, dz1: torch.Tensor) -> None:
        s = self.s
        xs = x1[..., :-1]  # without the folded bias row
        g = torch.bmm(xs.transpose(1, 2).expand(s.S, -1, -1), dz1).view(s.S, s.inputs, s.m, s.cols)
        per = torch.linalg.vector_norm(g, dim=(1, 3)) * self.scale  # (S, m)
        self.norms.append(per.t().reshape(s.M))
