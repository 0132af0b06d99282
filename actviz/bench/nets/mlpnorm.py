"""d2l's MLP with normalisation and skip connections, M models at once (autograd over stacked weights).

Each hidden layer computes ``z = W h + b``, normalises it (``--norm batch``: over the
mini-batch, per unit; ``layer``: over the units, per example; ``none``), applies the
activation, and with ``--residual`` adds its input back: ``h ← h + f(norm(z))`` for the
layers 2..depth, whose input and output widths are equal.  Without norm and residual the
engine's hand-written MLP trains the same network faster.
"""

from __future__ import annotations

from itertools import pairwise

import torch

from actviz.bench.nets.family import Family
from actviz.bench.nets.layers import Dense, Norm
from actviz.bench.nets.stack import Stack

__all__ = ["MLP_NORM", "MlpStack"]


class MlpStack(Stack):
    def layers(self, input_shape: tuple[int, ...], n_classes: int) -> None:
        config, device, dtype = self.config, self.device, self.dtype
        self.inputs = int(torch.tensor(input_shape).prod())
        widths = [self.inputs] + [config.hidden] * config.depth
        self.hidden = [self.add(Dense.build(self.gens, a, b, config.init, device, dtype))
                       for a, b in pairwise(widths)]
        norm = getattr(config, "norm", "none")
        self.hidden_norms = [self.add_norm(Norm.build(norm, self.m, config.hidden, device, dtype))
                             if norm != "none" else None for _ in self.hidden]
        self.residual = bool(getattr(config, "residual", False))
        self.out = self.add(Dense.build(self.gens, widths[-1], n_classes, config.init, device, dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.reshape(x.shape[0], x.shape[1], self.inputs)
        for layer, (dense, norm) in enumerate(zip(self.hidden, self.hidden_norms)):
            z = dense(h)
            a = self.act(norm(z) if norm is not None else z, layer)
            h = h + a if self.residual and layer > 0 else a
        return self.out(h)


MLP_NORM = Family("mlp", MlpStack, "d2l's MLP with --norm batch|layer and --residual skip connections (autograd)")
