"""A small modern CNN, M models at once: three blocks of 3×3 convolution → batch norm → act → max-pool 2
(8, 16 and 32 channels), then one dense layer to the classes.

Sized so that an epoch of Fashion-MNIST trains in seconds on two cores; the activation
under study follows every batch norm.
"""

from __future__ import annotations


import torch
import torch.nn.functional as F

from actviz.bench.nets.family import Family, image_shape
from actviz.bench.nets.layers import Conv, Dense, Norm
from actviz.bench.nets.stack import Stack

__all__ = ["CHANNELS", "CNN", "CnnStack"]

CHANNELS = (8, 16, 32)


class CnnStack(Stack):
    def layers(self, input_shape: tuple[int, ...], n_classes: int) -> None:
        config, device, dtype = self.config, self.device, self.dtype
        c, h, w = self.shape = image_shape(input_shape)
        self.blocks = []
        for c_out in CHANNELS:
            conv = self.add(Conv.build(self.gens, c, c_out, 3, 1, config.init, device, dtype))
            self.blocks.append((conv, self.add_norm(Norm.build("batch", self.m, c_out, device, dtype))))
            c, h, w = c_out, h // 2, w // 2
        self.out = self.add(Dense.build(self.gens, c * h * w, n_classes, config.init, device, dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pool = lambda h: F.max_pool2d(h, 2)  # noqa: E731
        h = self.conv_input(x, self.shape)
        for layer, (conv, norm) in enumerate(self.blocks):
            h = self.maps(pool, self.act(norm(conv(h)), layer))
        return self.out(self.flatten(h))


CNN = Family("cnn", CnnStack, "a small CNN: 3 blocks of 3×3 conv, batch norm, act, max-pool (8-16-32), dense")
