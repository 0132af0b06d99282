"""A model stack trained by autograd: M models of one shape, one optimizer step of all of them per call.

A network family (:mod:`actviz.bench.nets.lenet`, ``cnn``, ``mlpnorm``) subclasses
:class:`Stack` and writes ``layers`` (its M models' layers, registered with ``add`` and
``add_norm``) and ``forward`` (inputs ``(M, B, *input_shape)`` → logits
``(M, B, classes)``, calling :meth:`Stack.act` at every activation); the stack does the
rest of the engine's protocol: the step (SGD or Adam with a learning rate per model), the
epoch's loss and accuracy kept on the device, evaluation, the diagnostics, divergence,
and each model's parameters.

Models are independent: model i's loss depends on its own parameters only, so the
gradient of the sum of the models' mean losses is, for each model, the gradient of its own.

Diagnostics on a probe batch (the definitions of :mod:`actviz.bench.train`), with a
*unit* a dense layer's unit or a convolution's channel:

* ``dead``: per activation layer, the fraction of units whose derivative f′ is exactly 0
  on every probe example (and, for a channel, at every position);
* ``saturated``: the fraction of units with |f′| ≤ 0.01·sup|f′| on more than half of
  the probe examples (a channel: of the example-position pairs);
* ``grad_norm``: ‖∂ mean probe loss / ∂W‖ per weight (convolutions and dense layers,
  input first); ``probe_loss``: the mean probe loss.

Batch norm runs in evaluation mode (running statistics) for evaluation and diagnostics.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from actviz.bench.engine.kernels import histograms, layer_means, learning_record, units_last
from actviz.bench.engine.mlp import HIST_BINS, SATURATION_EPS, SATURATION_MAJORITY, unit_fractions
from actviz.bench.engine.optim import BETAS, EPS
from actviz.bench.engine.params import sup_abs_derivative
from actviz.bench.learn import learnable_params
from actviz.core.errors import UsageError
from actviz.core.registry import Activation

__all__ = ["SATURATION_EPS", "SATURATION_MAJORITY", "Stack", "sup_abs_derivative"]

# one definition of each, shared with the engine's hand-written MLP
ADAM_BETAS, ADAM_EPS = BETAS, EPS


def _groups(acts: Sequence[Activation], learn: str) -> list[tuple[int, int]]:
    """Runs ``[start, stop)`` of consecutive models that share one activation (and no learnable parameter)."""
    out: list[tuple[int, int]] = []
    for i, a in enumerate(acts):
        learnable = bool(learnable_params(a.spec, learn))
        if out and not learnable and acts[out[-1][0]] == a and out[-1][1] == i:
            out[-1] = (out[-1][0], i + 1)
        else:
            out.append((i, i + 1))
    return out


def _per_row(v: torch.Tensor) -> torch.Tensor:
    """A per-channel parameter ``(…, C, 1, 1)`` as ``(…, C)``, to broadcast over (rows, channels); others as they are."""
    return v.flatten(-3) if v.dim() >= 3 and v.shape[-2:] == (1, 1) else v


class Stack:
    """The engine's protocol over stacked parameters; a family writes :meth:`layers` and :meth:`forward`."""

    def __init__(self, acts: Sequence[Activation], seeds: Sequence[int], lrs: Sequence[float], slot: Sequence[int],
                 config: Any, input_shape: tuple[int, ...], n_classes: int, device: torch.device,
                 dtype: torch.dtype = torch.float32):
        for a in acts:
            if a.spec.kind == "maxout":
                raise UsageError(f"{a.label}: maxout is trained by --model mlp without --norm/--residual only")
        self.acts, self.seeds, self.config = list(acts), [int(s) for s in seeds], config
        self.m, self.device, self.dtype = len(acts), device, dtype
        self.slot = torch.tensor(list(slot), dtype=torch.int64, device=device)
        self.lrs = torch.tensor(list(lrs), dtype=dtype, device=device)
        self.active = torch.ones(self.m, dtype=torch.bool, device=device)
        learn = getattr(config, "learn", "")
        self.groups = _groups(self.acts, learn)
        #: per model, its learnable activation parameters (``--learn`` and the registry's): name → granularity
        self.granularity = [learnable_params(a.spec, learn) for a in self.acts]
        learn_lr = getattr(config, "learn_lr", None)
        #: each model's learning rate for its activation parameters
        self.act_lrs = self.lrs if learn_lr is None else torch.full_like(self.lrs, float(learn_lr))
        #: the one seed slot every model reads (its inputs then pass the first layer once), else None
        self.shared = int(slot[0]) if len(set(slot)) == 1 and self.m > 1 else None
        self.gens = [torch.Generator().manual_seed(s) for s in self.seeds]
        self.weights: list[torch.Tensor] = []  # the diagnosed weights, input first
        self.biases: list[torch.Tensor] = []  # the weights' biases, in the same order
        self.others: list[torch.Tensor] = []  # the norms' scales and shifts
        self.norms: list[Any] = []
        self.n_act_layers = 0
        #: activation layer → per model its learnable parameters, made on the layer's first forward: () or
        #: (K,) per layer, per unit (units,) or (K, units) in the dense layout, (…, channels, 1, 1) in the conv one
        self._act_params: dict[int, list[dict[str, torch.Tensor]]] = {}
        self._owner: dict[int, int] = {}  # id(leaf) → its model
        #: per activation layer, each model's pre-activation histogram range and counts (when something learns)
        self._hist_range: list[torch.Tensor] | None = None
        self._hists: list[torch.Tensor] = []
        self._record: list[torch.Tensor] | None = None
        self._adam: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        self._t = 0
        self._sups: list[float] | None = None
        self.reset_stats()
        self.layers(tuple(input_shape), n_classes)

    # -- what a family writes
    def layers(self, input_shape: tuple[int, ...], n_classes: int) -> None:  # pragma: no cover - abstract
        """Build the M models' layers (:meth:`add` and :meth:`add_norm` register them) for inputs of
        ``input_shape`` and ``n_classes`` outputs; ``self.gens`` draw each model's initial weights."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        """Inputs ``(M, B, *input_shape)``, or ``(1, B, ...)`` shared by every model → logits ``(M, B, classes)``."""
        raise NotImplementedError

    def conv_input(self, x: torch.Tensor, shape: tuple[int, int, int]) -> torch.Tensor | list[torch.Tensor]:
        """Images ``(M or 1, B, ...)`` in the conv layout: each model's ``(B, C, H, W)``, one tensor when shared."""
        m, b = x.shape[:2]
        if m == 1:
            return x[0].reshape(b, *shape)
        return [xi.reshape(b, *shape) for xi in x]

    def maps(self, fn: Any, hs: list[torch.Tensor]) -> list[torch.Tensor]:
        """``fn`` (pooling, …) on each model's maps."""
        return [fn(h) for h in hs]

    def flatten(self, hs: list[torch.Tensor]) -> torch.Tensor:
        """Each model's maps flattened (channels, then rows, then columns): the dense layout ``(M, B, F)``."""
        return torch.stack([h.reshape(h.shape[0], -1) for h in hs])

    def act(self, z: torch.Tensor | list[torch.Tensor], layer: int) -> torch.Tensor | list[torch.Tensor]:
        """The activation under study on ``z``: the dense layout model slice by model slice, or each model's maps."""
        if self._record is not None:
            self._record.append(z)
        if isinstance(z, list):
            return [self._apply(i, layer, zi) for i, zi in enumerate(z)]
        if len(self.groups) == 1:
            return self._apply(0, layer, z)
        # one split (its backward is one concatenation; a slice's fills a zero tensor per slice)
        pieces = z.split([stop - start for start, stop in self.groups], 0)
        return torch.cat([self._apply(start, layer, zi) for (start, _), zi in zip(self.groups, pieces)], 0)

    def _apply(self, i: int, layer: int, z: torch.Tensor) -> torch.Tensor:
        """Model ``i``'s activation (fixed parameters and learned ones) on ``z``."""
        a = self.acts[i]
        learned = self._learned_params(layer, i, z)
        return a.spec.forward(z, **{k: v for k, v in a.params.items() if k not in learned}, **learned)

    def _learned_params(self, layer: int, i: int, z: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Model ``i``'s learnable parameters at activation ``layer`` (made from ``z``'s shape on first use)."""
        if not self.granularity[i]:
            return {}
        per_model = self._act_params.setdefault(layer, [{} for _ in range(self.m)])
        if not per_model[i] and z is not None:
            per_model[i] = {n: self._leaf(i, n, g, z) for n, g in self.granularity[i].items()}
        return per_model[i]

    def _leaf(self, i: int, name: str, granularity: str, z: torch.Tensor) -> torch.Tensor:
        """A parameter's starting value as a leaf shaped to broadcast over ``z`` (see ``_act_params``)."""
        value = torch.as_tensor(self.acts[i].params[name], device=self.device, dtype=self.dtype)  # () or (K,)
        if granularity == "unit":
            conv = z.dim() == 4  # (B, C, H, W) against the dense (1, B, F)
            shape = (*value.shape, z.shape[1] if conv else z.shape[-1], *((1, 1) if conv else ()))
            value = value.reshape(*value.shape, *[1] * (len(shape) - value.dim())).expand(shape)
        leaf = value.clone().requires_grad_(True)
        self._owner[id(leaf)] = i
        return leaf

    def set_training(self, training: bool) -> None:
        for n in self.norms:
            n.training = training

    # -- training
    def _losses(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.forward(x)
        m, b, c = logits.shape
        losses = F.cross_entropy(logits.reshape(m * b, c), y.reshape(m * b), reduction="none").view(m, b).mean(1)
        return losses, logits

    def step(self, xs: torch.Tensor, ys: torch.Tensor) -> None:
        """One optimizer step of every active model on the batch of its seed slot."""
        y = ys.index_select(0, self.slot)
        x = xs[self.shared : self.shared + 1] if self.shared is not None else xs.index_select(0, self.slot)
        self.set_training(True)
        losses, logits = self._losses(x.to(self.dtype), y)
        torch.where(self.active, losses, 0).sum().backward()
        with torch.no_grad():
            self._loss_sum += losses.detach() * y.shape[1]
            self._correct += (logits.argmax(2) == y).sum(1)
            self._count += y.shape[1]
            self._update()

    def _all_params(self) -> list[torch.Tensor]:
        extra = [p for per in self._act_params.values() for d in per for p in d.values()]
        return self.weights + self.biases + self.others + extra

    def _update(self) -> None:
        adam = self.config.optimizer == "adam"
        self._t += 1
        for k, p in enumerate(self._all_params()):
            if p.grad is None:
                continue
            g, p.grad = p.grad, None
            owner = self._owner.get(id(p))
            if owner is not None:  # a learnable activation parameter of one model
                lr, live = self.act_lrs[owner], self.active[owner]
            else:
                shape = (self.m,) + (1,) * (p.dim() - 1)
                lr, live = self.lrs.view(shape), self.active.view(shape)
            if adam:
                g = self._adam_direction(k, g)
            p.sub_(torch.where(live, lr * g, 0))

    def _adam_direction(self, k: int, g: torch.Tensor) -> torch.Tensor:
        b1, b2 = ADAM_BETAS
        m, v = self._adam.setdefault(k, (torch.zeros_like(g), torch.zeros_like(g)))
        m.lerp_(g, 1 - b1)
        v.mul_(b2).addcmul_(g, g, value=1 - b2)
        return (m / (1 - b1**self._t)) / ((v / (1 - b2**self._t)).sqrt() + ADAM_EPS)

    def reset_stats(self) -> None:
        self._loss_sum = torch.zeros(self.m, dtype=torch.float64, device=self.device)
        self._correct = torch.zeros(self.m, dtype=torch.int64, device=self.device)
        self._count = 0

    def epoch_stats(self) -> list[tuple[float, float]]:
        """Each model's mean training loss and accuracy over the steps since :meth:`reset_stats`."""
        n = max(self._count, 1)
        return [(float(s) / n, int(c) / n) for s, c in zip(self._loss_sum.cpu(), self._correct.cpu())]

    def deactivate(self, i: int) -> None:
        """Stop updating model ``i`` (it diverged)."""
        self.active[i] = False

    # -- evaluation and diagnostics
    def _shared(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(self.dtype).unsqueeze(0)

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, y: torch.Tensor, chunk: int = 1000) -> list[tuple[float, float]]:
        """Each model's (accuracy, mean loss) on ``(x, y)``, in chunks, batch norm on its running statistics."""
        self.set_training(False)
        loss = torch.zeros(self.m, dtype=torch.float64, device=self.device)
        correct = torch.zeros(self.m, dtype=torch.int64, device=self.device)
        for s in range(0, x.shape[0], chunk):
            yc = y[s: s + chunk].unsqueeze(0).expand(self.m, -1)
            losses, logits = self._losses(self._shared(x[s: s + chunk]), yc)
            loss += losses.double() * yc.shape[1]
            correct += (logits.argmax(2) == yc).sum(1)
        n = max(x.shape[0], 1)
        return [(int(c) / n, float(v) / n) for c, v in zip(correct.cpu(), loss.cpu())]

    @torch.no_grad()
    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """Every model's class probabilities ``(M, N, classes)`` on ``x`` shared by all, batch norm on its
        running statistics."""
        self.set_training(False)
        return torch.softmax(self.forward(self._shared(x)), 2)

    def diagnostics(self, x: torch.Tensor, y: torch.Tensor) -> list[dict[str, Any] | None]:
        """Per model: ``probe_loss``, ``dead``, ``saturated`` (per activation layer) and ``grad_norm`` (per weight)."""
        self.set_training(False)
        self._record = []
        try:
            losses, _ = self._losses(self._shared(x), y.unsqueeze(0).expand(self.m, -1))
            grads = torch.autograd.grad(losses.sum(), self.weights)
        finally:
            recorded, self._record = self._record, None
        norms = torch.stack([g.detach().reshape(self.m, -1).norm(dim=1) for g in grads], 1).cpu()
        recorded = [[zi.detach() for zi in z] if isinstance(z, list) else z.detach() for z in recorded]
        dead, sat = self._unit_fractions(recorded)
        if any(self.granularity):  # the pre-activations' histograms, for the learned functions' pictures
            per_model = [torch.stack([zi.reshape(-1) for zi in z]) if isinstance(z, list) else z.reshape(self.m, -1)
                         for z in recorded]
            self._hist_range, self._hists = histograms(per_model, self._hist_range, HIST_BINS)
        return [{"probe_loss": float(losses[i].detach()), "dead": dead[i], "saturated": sat[i],
                 "grad_norm": [float(v) for v in norms[i]]} for i in range(self.m)]

    @torch.no_grad()
    def _unit_fractions(self, recorded: list[torch.Tensor]) -> tuple[list[list[float]], list[list[float]]]:
        dead: list[list[float]] = [[] for _ in range(self.m)]
        sat: list[list[float]] = [[] for _ in range(self.m)]
        for layer, z in enumerate(recorded):
            for i, a in enumerate(self.acts):
                zi = self._unit_view(z, i)  # (examples × positions, units)
                params = {**a.params, **{k: _per_row(v.detach()) for k, v in self._learned_params(layer, i).items()}}
                dead_units, flat_units = unit_fractions(a.spec.derivative(zi, **params).abs(), self._sup(i))
                dead[i].append(float(dead_units))
                sat[i].append(float(flat_units))
        return dead, sat

    def _sup(self, i: int) -> float:
        if self._sups is None:  # measured once per activation (the registry's audit is not free)
            found: dict[Activation, float] = {}
            self._sups = [found.setdefault(a, sup_abs_derivative(a)) if a not in found else found[a]
                          for a in self.acts]
        return self._sups[i]

    def _unit_view(self, z: torch.Tensor | list[torch.Tensor], i: int) -> torch.Tensor:
        if not isinstance(z, list):  # dense (M, B, F)
            return z[i]
        c = z[i].shape[1]  # conv: model i's maps (B, C, H, W), examples × positions as rows
        return z[i].transpose(0, 1).reshape(c, -1).t()

    # -- what the engine reads back
    def parameters_of(self, i: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Model ``i``'s weights (input first; dense as (in, out), convolutions as (O, C, k, k)) and biases."""
        return ([w[i].detach().cpu().clone() for w in self.weights],
                [b[i].detach().cpu().clone() for b in self.biases])

    def per_layer(self, i: int) -> dict[str, list[torch.Tensor]]:
        """Model ``i``'s learnable parameters: per name, per activation layer, units last (a channel a unit)."""
        layers = [self._act_params[layer][i] for layer in sorted(self._act_params)]
        return {n: [units_last(_per_row(p[n]), g) for p in layers] for n, g in self.granularity[i].items()}

    def learned(self, i: int) -> dict[str, list[float]]:
        """Model ``i``'s learnable activation parameters, one number per activation layer: a per-unit
        parameter's mean over the units, a vector parameter's coefficients as ``name[c]``."""
        return layer_means(self.per_layer(i)) if self._act_params else {}

    def learning(self, i: int) -> dict[str, Any] | None:
        """Model ``i``'s learnable parameters now, as the engine's MLP gives them (None when none learns)."""
        if not self.granularity[i] or not self._act_params:
            return None
        return learning_record(i, self.granularity[i], self.per_layer(i), self._hists, self._hist_range, HIST_BINS)

    def add(self, layer: Any) -> Any:
        """Register a layer's parameters (its weight is diagnosed, its bias is read back) and return it;
        under ``--precision bf16`` its products take bfloat16 operands."""
        layer.bf16 = getattr(self.config, "precision", "fp32") == "bf16"
        self.weights.append(layer.weight)
        self.biases.append(layer.bias)
        return layer

    def add_norm(self, norm: Any) -> Any:
        self.norms.append(norm)
        self.others.extend(norm.params())
        return norm
