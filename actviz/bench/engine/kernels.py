"""The hidden non-linearity of a stack, one run of consecutive models with the same activation at a time.

A :class:`Nonlinearity` applies one activation to the pre-activations of models
``start..stop`` of a stack, shaped (models, batch, units), and takes the gradient
back through the registry's **analytic** derivative ``act.derivative`` (which
``actviz check`` verifies against autograd).  relu, sigmoid and tanh use fused
kernels that take f′ from the output; maxout keeps the index of the winning piece;
learnable parameters (PReLU's slope) are one value per model and hidden layer, their
gradient comes from autograd on that one element-wise op.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from actviz.bench.engine.params import maxout_k, sup_abs_derivative
from actviz.core.registry import Activation

__all__ = ["Nonlinearity", "fast_path", "runs_of"]


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
    """One activation applied to models ``start..stop`` of a stack (every hidden layer)."""

    def __init__(self, act: Activation, start: int, stop: int, depth: int, device: torch.device,
                 dtype: torch.dtype):
        self.act = act
        self.sl = slice(start, stop)
        self.kind = act.spec.kind
        self.k = maxout_k(act)
        self.fast = fast_path(act) if self.kind != "maxout" else None
        self.learnable = [p.name for p in act.spec.params if p.learnable]
        self.fixed = {k: v for k, v in act.params.items() if k not in self.learnable}
        self.sup = sup_abs_derivative(act)
        n = stop - start
        #: per hidden layer, each learnable parameter as one value per model
        self.leaves: list[dict[str, torch.Tensor]] = [
            {name: torch.full((n,), float(act.params[name]), device=device, dtype=dtype) for name in self.learnable}
            for _ in range(depth)
        ]

    def _params(self, layer: int, leaves: dict[str, torch.Tensor] | None = None) -> dict[str, Any]:
        leaves = self.leaves[layer] if leaves is None else leaves
        return {**self.fixed, **{n: v.view(-1, 1, 1) for n, v in leaves.items()}}

    def forward(self, layer: int, z: torch.Tensor, grad: bool = True,
                out: torch.Tensor | None = None) -> tuple[torch.Tensor, Any]:
        """(f(z), what :meth:`backward` needs) for z of shape (models, batch, units·k); f(z) goes into ``out``."""
        if self.kind == "maxout":
            h, idx = z.unflatten(2, (z.shape[2] // self.k, self.k)).max(dim=3)
            return _into(h, out), idx
        if self.fast is not None:
            h = self.fast[0](z, out)
            return h, h
        if self.learnable and grad:
            leaves = {n: v.detach().requires_grad_() for n, v in self.leaves[layer].items()}
            with torch.enable_grad():
                h = self.act.spec.forward(z, **self._params(layer, leaves))
            return _into(h.detach(), out), (z, h, leaves)
        return _into(self.act.spec.forward(z, **self._params(layer)), out), z

    def backward(self, layer: int, dh: torch.Tensor, ctx: Any,
                 out: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """(dZ from dH, the gradient of each learnable parameter, one value per model); dZ goes into ``out``."""
        if self.kind == "maxout":
            dz = torch.zeros(*ctx.shape, self.k, dtype=dh.dtype, device=dh.device)
            dz.scatter_(3, ctx.unsqueeze(3), dh.unsqueeze(3))
            return _into(dz.flatten(2), out), {}
        if self.fast is not None:
            return self.fast[1](dh, ctx, out), {}
        if self.learnable and isinstance(ctx, tuple):
            z, h, leaves = ctx
            d = self.act.spec.derivative(z, **self._params(layer))  # before the update
            names = list(leaves)
            grads = torch.autograd.grad(h, [leaves[n] for n in names], dh, allow_unused=True)
            return torch.mul(dh, d, out=out), {n: g for n, g in zip(names, grads) if g is not None}
        return torch.mul(dh, self.act.spec.derivative(ctx, **self._params(layer)), out=out), {}

    def derivative(self, layer: int, z: torch.Tensor) -> torch.Tensor | None:
        """|f′(z)| (None for maxout, whose units always pass a gradient)."""
        if self.kind == "maxout":
            return None
        d = self.act.spec.derivative(z, **self._params(layer))
        return torch.as_tensor(d, dtype=z.dtype, device=z.device).expand_as(z).abs()

    def learned(self, j: int) -> dict[str, list[float]]:
        """The learnable parameters of the run's ``j``-th model, one value per hidden layer."""
        return {n: [float(p[n][j]) for p in self.leaves] for n in self.learnable}
