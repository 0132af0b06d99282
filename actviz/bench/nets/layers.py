"""Layers of a model stack: M models of one shape whose parameters are stacked along a leading model axis.

Two layouts carry the activations between layers:

* **dense** ``(M, B, F)``: model first; a dense layer is one ``torch.baddbmm`` over the
  stacked weights ``(M, F_in, F_out)``;
* **conv**: a list of the M models' feature maps ``(B, C, H, W)``, one convolution per model
  (on a CPU, M plain convolutions beat one grouped convolution over the models' channels
  side by side by 2×, and the side-by-side layout costs a strided copy at every split and
  concatenation); a map shared by every model (the input, when all read one seed's batch)
  is one tensor.

Every layer draws its initial weights from the model's generator, in layer order, so a
model's start depends on its seed alone (not on the other models of its stack).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from actviz.bench.engine.precision import bf16_matmul

from actviz.core.errors import UsageError

__all__ = ["Conv", "Dense", "Norm", "draw"]

#: batch-norm's running-statistics momentum and every norm's epsilon (torch's defaults)
BN_MOMENTUM = 0.1
NORM_EPS = 1e-5


def draw(shape: tuple[int, ...], fan_in: int, fan_out: int, init: str, gen: torch.Generator,
         ) -> tuple[torch.Tensor, torch.Tensor]:
    """A weight tensor of ``shape`` and its bias (``shape[0]`` values) under ``init``, as ``--init`` defines them.

    ``fan_in``/``fan_out`` are torch's (a convolution's ``C·k·k`` and ``O·k·k``); biases are
    zero except under ``torch`` (the layer's PyTorch default, ±1/√fan_in).
    """
    w, b = torch.empty(shape), torch.zeros(shape[0])
    if init == "normal":
        w.normal_(0.0, 0.01, generator=gen)
    elif init in ("xavier", "kaiming_uniform", "torch"):
        a = {"xavier": math.sqrt(6.0 / (fan_in + fan_out)), "kaiming_uniform": math.sqrt(6.0 / fan_in),
             "torch": 1.0 / math.sqrt(fan_in)}[init]
        w.uniform_(-a, a, generator=gen)
        if init == "torch":
            b.uniform_(-a, a, generator=gen)
    elif init in ("xavier_normal", "kaiming"):
        w.normal_(0.0, math.sqrt(2.0 / (fan_in + fan_out) if init == "xavier_normal" else 2.0 / fan_in),
                  generator=gen)
    elif init == "constant":
        w.fill_(0.01)
    else:  # pragma: no cover - validated before
        raise UsageError(f"unknown init {init!r}")
    return w, b


def _stacked(tensors: list[torch.Tensor], device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    return torch.stack(tensors).to(device=device, dtype=dtype).requires_grad_(True)


@dataclass
class Dense:
    """A dense layer of M models: weights ``(M, in, out)``, biases ``(M, out)``; dense layout in and out."""

    weight: torch.Tensor
    bias: torch.Tensor
    #: ``--precision bf16``: the product's operands rounded to bfloat16, accumulated in float32
    bf16: bool = False

    @classmethod
    def build(cls, gens: list[torch.Generator], n_in: int, n_out: int, init: str, device: torch.device,
              dtype: torch.dtype) -> Dense:
        drawn = [draw((n_out, n_in), n_in, n_out, init, g) for g in gens]  # (out, in) as nn.Linear draws it
        return cls(_stacked([w.t() for w, _ in drawn], device, dtype), _stacked([b for _, b in drawn], device, dtype))

    def __call__(self, h: torch.Tensor) -> torch.Tensor:
        """``h`` ``(M, B, in)``, or ``(1, B, in)`` shared by every model (one GEMM for all of them)."""
        m, n_in, n_out = self.weight.shape
        matmul = (lambda a, b: bf16_matmul(a, b, self.bias.dtype)) if self.bf16 else torch.matmul
        if h.shape[0] == 1 and m > 1:
            z = matmul(h[0], self.weight.transpose(0, 1).reshape(n_in, m * n_out))
            return (z.view(-1, m, n_out) + self.bias).transpose(0, 1)
        if self.bf16:
            return matmul(h, self.weight) + self.bias.unsqueeze(1)
        return torch.baddbmm(self.bias.unsqueeze(1), h, self.weight)

    def params(self) -> list[torch.Tensor]:
        return [self.weight, self.bias]


@dataclass
class Conv:
    """A k×k convolution of M models (stride 1): weights ``(M, O, C, k, k)``; conv layout in and out."""

    weight: torch.Tensor
    bias: torch.Tensor
    padding: int = 0
    #: ``--precision bf16``: the convolution's operands rounded to bfloat16, accumulated in float32
    bf16: bool = False

    @classmethod
    def build(cls, gens: list[torch.Generator], c_in: int, c_out: int, k: int, padding: int, init: str,
              device: torch.device, dtype: torch.dtype) -> Conv:
        drawn = [draw((c_out, c_in, k, k), c_in * k * k, c_out * k * k, init, g) for g in gens]
        return cls(_stacked([w for w, _ in drawn], device, dtype), _stacked([b for _, b in drawn], device, dtype),
                   padding)

    def __call__(self, x: torch.Tensor | list[torch.Tensor]) -> list[torch.Tensor]:
        """Each model's maps ``(B, C, H, W)`` in a list, or one such tensor shared by every model."""
        xs = x if isinstance(x, list) else [x] * self.weight.shape[0]
        if self.bf16:
            return [F.conv2d(xi.to(torch.bfloat16), self.weight[i].to(torch.bfloat16), padding=self.padding)
                    .to(self.bias.dtype) + self.bias[i].view(-1, 1, 1) for i, xi in enumerate(xs)]
        return [F.conv2d(xi, self.weight[i], self.bias[i], padding=self.padding) for i, xi in enumerate(xs)]

    def params(self) -> list[torch.Tensor]:
        return [self.weight, self.bias]


@dataclass
class Norm:
    """Batch or layer normalisation of M models over ``width`` features (channels in the conv layout).

    Batch norm keeps running statistics per model and uses them in evaluation (as
    ``nn.BatchNorm1d/2d`` does: momentum 0.1, unbiased running variance); layer norm
    normalises each example over its features.  Both learn a scale and a shift per feature.
    """

    kind: str
    weight: torch.Tensor
    bias: torch.Tensor
    running_mean: torch.Tensor | None = None
    running_var: torch.Tensor | None = None
    training: bool = field(default=True)

    @classmethod
    def build(cls, kind: str, m: int, width: int, device: torch.device, dtype: torch.dtype) -> Norm:
        ones = torch.ones(m, width, device=device, dtype=dtype)
        norm = cls(kind, ones.clone().requires_grad_(True), torch.zeros_like(ones).requires_grad_(True))
        if kind == "batch":
            norm.running_mean, norm.running_var = torch.zeros_like(ones), ones.clone()
        return norm

    def __call__(self, z: torch.Tensor | list[torch.Tensor]) -> torch.Tensor | list[torch.Tensor]:
        """``z`` in the conv layout (per model and channel) or the dense layout (per model and unit)."""
        if isinstance(z, list):
            return [self._maps(zi, i) for i, zi in enumerate(z)]
        m, width = self.weight.shape
        if self.kind == "layer":
            mean, var = z.mean(2, keepdim=True), z.var(2, unbiased=False, keepdim=True)
            return (z - mean) * torch.rsqrt(var + NORM_EPS) * self.weight.unsqueeze(1) + self.bias.unsqueeze(1)
        # batch norm: the M models' units side by side are M·width features of one batch norm
        flat = z.transpose(0, 1).reshape(z.shape[1], m * width)
        out = F.batch_norm(flat, self.running_mean.view(-1), self.running_var.view(-1),  # type: ignore[union-attr]
                           self.weight.reshape(-1), self.bias.reshape(-1), self.training, BN_MOMENTUM, NORM_EPS)
        return out.view(z.shape[1], m, width).transpose(0, 1)

    def _maps(self, z: torch.Tensor, i: int) -> torch.Tensor:
        """Model ``i``'s maps ``(B, C, H, W)``, normalised per channel (batch) or per example (layer)."""
        w, b = self.weight[i], self.bias[i]
        if self.kind == "layer":
            mean, var = z.mean((1, 2, 3), keepdim=True), z.var((1, 2, 3), unbiased=False, keepdim=True)
            return (z - mean) * torch.rsqrt(var + NORM_EPS) * w.view(1, -1, 1, 1) + b.view(1, -1, 1, 1)
        return F.batch_norm(z, self.running_mean[i], self.running_var[i],  # type: ignore[index]
                            w, b, self.training, BN_MOMENTUM, NORM_EPS)

    def params(self) -> list[torch.Tensor]:
        return [self.weight, self.bias]
