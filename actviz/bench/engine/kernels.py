"""The hidden non-linearity of a stack, one run of consecutive models with the same activation at a time.

A :class:`Nonlinearity` applies one activation to the pre-activations of models
``start..stop`` of a stack, shaped (models, batch, units), and takes the gradient
back through the registry's **analytic** derivative ``act.derivative`` (which
``actviz check`` verifies against autograd).  relu, sigmoid and tanh use fused
kernels that take f′ from the output; maxout keeps the index of the winning piece;
learnable parameters (PReLU's slope, those of ``--learn``) are one value per model and hidden
layer or per model and unit, their gradient comes from the registry's hand-written
∂f/∂parameter.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from actviz.bench.engine.params import maxout_k, sup_abs_derivative
from actviz.core.registry import Activation

__all__ = ["QUANTILES", "Nonlinearity", "fast_path", "histograms", "layer_means", "learning_record", "runs_of",
           "unit_statistics", "units_last"]

#: the quantiles of a per-unit parameter recorded every epoch
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def _fast_paths() -> dict[str, tuple[Callable[..., Any], Callable[..., Any]]]:
    """Fused kernels for the most used built-ins: (forward(z, out), backward(dh, h, out)); out may be None.

    They compute exactly f and dh·f′ of the registry's entries (f′ from the output:
    σ′ = σ(1 − σ), tanh′ = 1 − tanh², relu′ = [h > 0], i.e. f′(0) = 0 as the registry says).
    """
    aten = torch.ops.aten

    def relu(z: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        return torch.relu(z) if out is None else torch.clamp_min(z, 0, out=out)

    def back(op: Any, *args: Any) -> Callable[..., torch.Tensor]:
        def run(dh: torch.Tensor, h: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
            return op.default(dh, h, *args) if out is None else op.grad_input(dh, h, *args, grad_input=out)
        return run

    return {
        "relu": (relu, back(aten.threshold_backward, 0)),
        "sigmoid": (lambda z, out=None: torch.sigmoid(z, out=out), back(aten.sigmoid_backward)),
        "tanh": (lambda z, out=None: torch.tanh(z, out=out), back(aten.tanh_backward)),
    }


def fast_path(act: Activation) -> tuple[Callable[..., Any], Callable[..., Any]] | None:
    """The fused kernels of a built-in activation, or None (then the generic path is used)."""
    from actviz.core.registry import get_spec

    paths = _fast_paths()
    if act.name in paths and get_spec(act.name) is act.spec and not act.spec.params:
        return paths[act.name]
    return None


def unit_statistics(u: torch.Tensor) -> dict[str, Any]:
    """Mean, sd and :data:`QUANTILES` over the last dimension (the units) of ``u``: numbers, or lists
    with one per coefficient of a vector parameter (``u`` shaped (K, units))."""
    q = torch.quantile(u, torch.tensor(QUANTILES, dtype=u.dtype), dim=-1)  # (5,) or (5, K)
    stats = {"mean": u.mean(-1), "sd": u.std(-1, unbiased=False),
             **{f"q{round(100 * f):02d}": q[i] for i, f in enumerate(QUANTILES)}}
    return {k: v.tolist() for k, v in stats.items()}


def units_last(v: torch.Tensor, granularity: str) -> torch.Tensor:
    """One model's learnable parameter with the units last (one unit for a per-layer value), on the CPU
    in float64: ``(units,)`` or ``(K, units)`` for a vector parameter."""
    v = v.detach().to("cpu", torch.float64)
    return v if granularity == "unit" else v.unsqueeze(-1)


def layer_means(per_layer: dict[str, list[torch.Tensor]]) -> dict[str, list[float]]:
    """One number per layer and parameter (``per_layer``: name → per layer, units last): the mean over
    the units; a vector parameter gives one entry per coefficient, ``name[c]``."""
    out: dict[str, list[float]] = {}
    for name, layers in per_layer.items():
        values = [u.mean(-1) for u in layers]  # () or (K,) per layer
        if values and values[0].dim():
            out.update({f"{name}[{c}]": [float(v[c]) for v in values] for c in range(values[0].shape[0])})
        else:
            out[name] = [float(v) for v in values]
    return out


def learning_record(i: int, granularity: dict[str, str], per_layer: dict[str, list[torch.Tensor]],
                    hists: list[torch.Tensor], ranges: list[torch.Tensor] | None, bins: int) -> dict[str, Any]:
    """Model ``i``'s learnable parameters now, as the store keeps them: ``epoch`` (``learned``: per
    parameter and layer, :func:`unit_statistics`; ``preact_hist``: per layer ``below``, ``counts``,
    ``above`` from :func:`histograms`) and ``run`` (``learning``: name → granularity,
    ``learned_units``: per-unit values, ``preact_range``: per layer [lo, hi, bins])."""
    hist = [{"below": int(h[i, 0]), "counts": h[i, 1:-1].tolist(), "above": int(h[i, -1])} for h in hists]
    return {"epoch": {"learned": {n: [unit_statistics(u) for u in us] for n, us in per_layer.items()},
                      "preact_hist": hist},
            "run": {"learning": dict(granularity),
                    "learned_units": {n: [u.transpose(0, -1).tolist() for u in per_layer[n]]
                                      for n, g in granularity.items() if g == "unit"},
                    "preact_range": [[float(r[i, 0]), float(r[i, 1]), bins] for r in (ranges or [])]}}


def histograms(zs: list[torch.Tensor], ranges: list[torch.Tensor] | None,
               bins: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """(ranges, counts): each model's histogram of each layer's values ``zs[layer]`` (models, values).

    A model's range of a layer is fixed at the first call (``ranges`` None): ±2 × the 99th
    percentile of |z| then (at least 1e-3); counts are (models, bins + 2), values outside the
    range counted in the first (below) and last (above) bin.
    """
    if ranges is None:
        def limit(z: torch.Tensor) -> torch.Tensor:
            flat = z.abs().flatten(1)
            return (flat.kthvalue(max(1, math.ceil(0.99 * flat.shape[1])), dim=1).values * 2).clamp_min(1e-3)

        ranges = [torch.stack([-x, x], 1) for x in (limit(z) for z in zs)]
    counts = []
    for z, rng in zip(zs, ranges):
        lo, hi = rng[:, :1, None], rng[:, 1:, None]
        idx = ((z.reshape(z.shape[0], 1, -1) - lo) / (hi - lo) * bins).floor_().clamp_(-1, bins).long().add_(1)
        c = torch.zeros(z.shape[0], bins + 2, dtype=torch.int64, device=z.device)
        counts.append(c.scatter_add_(1, idx.flatten(1), torch.ones_like(idx.flatten(1))).cpu())
    return ranges, counts


def _into(t: torch.Tensor, out: torch.Tensor | None) -> torch.Tensor:
    return t if out is None else out.copy_(t)


def runs_of(acts: list[Activation]) -> list[tuple[int, int]]:
    """(start, stop) of each run of consecutive equal activations (same name and parameters)."""
    out: list[tuple[int, int]] = []
    for i, act in enumerate(acts):
        if out and _same(acts[out[-1][0]], act):
            out[-1] = (out[-1][0], i + 1)
        else:
            out.append((i, i + 1))
    return out


def _same(a: Activation, b: Activation) -> bool:
    return a is b or (a.spec is b.spec and a.label == b.label and a.params == b.params)


class Nonlinearity:
    """One activation applied to models ``start..stop`` of a stack (every hidden layer).

    Its learnable parameters (:func:`~actviz.bench.learn.learnable_params` of the ``learn``
    setting) are leaves per hidden layer, model first: ``(models,)`` per layer or
    ``(models, units)`` per unit, with the coefficient dimension after the models for a
    vector parameter (``(models, K)``, ``(models, K, units)``).  Their gradient is the
    registry's hand-written ∂f/∂parameter times dH, summed over the batch (and over the
    units for a per-layer value); a parameter whose record gives no ∂f/∂parameter gets
    its gradient from autograd on the element-wise op.
    """

    def __init__(self, act: Activation, start: int, stop: int, depth: int, device: torch.device,
                 dtype: torch.dtype, learn: str = "", units: int = 1):
        from actviz.bench.learn import learnable_params

        self.act = act
        self.sl = slice(start, stop)
        self.kind = act.spec.kind
        self.k = maxout_k(act)
        self.fast = fast_path(act) if self.kind != "maxout" else None
        #: learnable parameter -> "layer" or "unit"
        self.granularity = learnable_params(act.spec, learn)
        self.learnable = list(self.granularity)
        self.by_autograd = [n for n in self.learnable if n not in act.spec.param_derivatives]
        self.fixed = {k: v for k, v in act.params.items() if k not in self.learnable}
        self.sup = sup_abs_derivative(act)
        n = stop - start
        if self.learnable:
            self.fast = None

        def leaf(name: str) -> torch.Tensor:
            value = torch.as_tensor(act.params[name], device=device, dtype=dtype)  # () or (K,)
            shape = (n, *value.shape, *((units,) if self.granularity[name] == "unit" else ()))
            v = value.view(1, *value.shape, *((1,) if self.granularity[name] == "unit" else ()))
            return v.expand(shape).clone()

        #: per hidden layer, each learnable parameter (shapes in the class's docstring)
        self.leaves: list[dict[str, torch.Tensor]] = [{name: leaf(name) for name in self.learnable}
                                                      for _ in range(depth)]

    def _view(self, name: str, v: torch.Tensor) -> torch.Tensor:
        """A leaf shaped to broadcast over (models, batch, units): the coefficients first for a vector."""
        vector = v.dim() - (2 if self.granularity[name] == "unit" else 1)
        if vector:
            v = v.movedim(1, 0)
        return v.unsqueeze(-2) if self.granularity[name] == "unit" else v.unsqueeze(-1).unsqueeze(-1)

    def _params(self, layer: int, leaves: dict[str, torch.Tensor] | None = None) -> dict[str, Any]:
        leaves = self.leaves[layer] if leaves is None else leaves
        return {**self.fixed, **{n: self._view(n, v) for n, v in leaves.items()}}

    def forward(self, layer: int, z: torch.Tensor, grad: bool = True,
                out: torch.Tensor | None = None) -> tuple[torch.Tensor, Any]:
        """(f(z), what :meth:`backward` needs) for z of shape (models, batch, units·k); f(z) goes into ``out``."""
        if self.kind == "maxout":
            h, idx = z.unflatten(2, (z.shape[2] // self.k, self.k)).max(dim=3)
            return _into(h, out), idx
        if self.fast is not None:
            h = self.fast[0](z, out)
            return h, h
        if self.by_autograd and grad:
            leaves = {n: v.detach().requires_grad_() if n in self.by_autograd else v
                      for n, v in self.leaves[layer].items()}
            with torch.enable_grad():
                h = self.act.spec.forward(z, **self._params(layer, leaves))
            return _into(h.detach(), out), (z, h, leaves)
        return _into(self.act.spec.forward(z, **self._params(layer)), out), z

    def backward(self, layer: int, dh: torch.Tensor, ctx: Any,
                 out: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """(dZ from dH, the gradient of the loss sum wrt each learnable parameter, shaped as its leaf)."""
        if self.kind == "maxout":
            dz = torch.zeros(*ctx.shape, self.k, dtype=dh.dtype, device=dh.device)
            dz.scatter_(3, ctx.unsqueeze(3), dh.unsqueeze(3))
            return _into(dz.flatten(2), out), {}
        if self.fast is not None:
            return self.fast[1](dh, ctx, out), {}
        grads: dict[str, torch.Tensor] = {}
        if self.act.spec.vjp is not None and not isinstance(ctx, tuple):  # one pass through f and its parameters
            dz, found = self.act.spec.vjp(ctx, dh, self._reduce, self.learnable, **self._params(layer))
            return _into(dz, out), {n: self._models_first(n, g) for n, g in found.items()}
        if isinstance(ctx, tuple):
            z, h, leaves = ctx
            found = torch.autograd.grad(h, [leaves[n] for n in self.by_autograd], dh, allow_unused=True)
            grads = {n: g for n, g in zip(self.by_autograd, found) if g is not None}
        else:
            z = ctx
        params = self._params(layer)  # before the update
        for name in self.learnable:
            if name not in self.by_autograd:
                grads[name] = self._param_grad(name, z, dh, params)
        return torch.mul(dh, self.act.spec.derivative(z, **params), out=out), grads

    def _reduce(self, name: str, t: torch.Tensor) -> torch.Tensor:
        """Σ over the batch (and the units, for a per-layer parameter) of an element-wise dH ⊙ ∂f/∂name."""
        return t.sum(-2) if self.granularity[name] == "unit" else t.sum((-2, -1))

    def _models_first(self, name: str, g: torch.Tensor) -> torch.Tensor:
        """A reduced gradient shaped as its leaf: a vector parameter's coefficients after the models."""
        scalar_dims = 2 if self.granularity[name] == "unit" else 1  # (models, units) or (models,)
        return g.movedim(0, 1) if g.dim() > scalar_dims else g

    def _param_grad(self, name: str, z: torch.Tensor, dh: torch.Tensor, params: dict[str, Any]) -> torch.Tensor:
        """Σ over the batch (and the units, per layer) of dH ⊙ ∂f/∂name, shaped as the leaf."""
        dp = torch.as_tensor(self.act.spec.param_derivatives[name](z, **params), dtype=dh.dtype, device=dh.device)
        unit = self.granularity[name] == "unit"
        if not unit:  # a product and one sum over batch and units (several times faster than a batched dot)
            if dp.dim() == dh.dim():
                return torch.mul(dh, dp).sum((-2, -1))
            return torch.mul(dp, dh).sum((-2, -1)).movedim(0, 1)  # (K coefficients, M) -> (M, K)
        g = (dp * dh).sum(-2)  # (K,) models, units
        return g.movedim(0, 1) if dp.dim() > dh.dim() else g

    def derivative(self, layer: int, z: torch.Tensor) -> torch.Tensor | None:
        """|f′(z)| (None for maxout, whose units always pass a gradient)."""
        if self.kind == "maxout":
            return None
        d = self.act.spec.derivative(z, **self._params(layer))
        return torch.as_tensor(d, dtype=z.dtype, device=z.device).expand_as(z).abs()

    def parameters_of(self, j: int) -> list[dict[str, torch.Tensor]]:
        """The ``j``-th model's learnable parameters per hidden layer, as the forward takes them on
        (1, batch, units) pre-activations (CPU tensors; a vector parameter's coefficients first)."""
        return [{n: self._view(n, v[j : j + 1]).detach().cpu().clone() for n, v in leaves.items()}
                for leaves in self.leaves]

    def per_layer(self, j: int) -> dict[str, list[torch.Tensor]]:
        """The run's ``j``-th model's learnable parameters: per name, per hidden layer, units last
        (:func:`units_last`)."""
        return {n: [units_last(p[n][j], self.granularity[n]) for p in self.leaves] for n in self.learnable}
