"""d2l's LeNet-5 ("Convolutional Neural Networks (LeNet)"), M models at once.

conv 5×5 ×6 (padding 2) → act → avg-pool 2 → conv 5×5 ×16 → act → avg-pool 2 → dense 120 →
act → dense 84 → act → dense 10, the activation under study at every act.  d2l trains it
with Xavier-uniform weights and SGD at lr 0.9 for 10 epochs in batches of 256: here the
weights follow ``--init`` and the rate ``--lr`` (the README gives the d2l command line).
"""

from __future__ import annotations


import torch
import torch.nn.functional as F

from actviz.bench.nets.family import Family, image_shape
from actviz.bench.nets.layers import Conv, Dense
from actviz.bench.nets.stack import Stack

__all__ = ["LENET", "LeNetStack"]


class LeNetStack(Stack):
    def layers(self, input_shape: tuple[int, ...], n_classes: int) -> None:
        config, device, dtype = self.config, self.device, self.dtype
        c, h, w = self.shape = image_shape(input_shape)
        g, init = self.gens, config.init
        self.c1 = self.add(Conv.build(g, c, 6, 5, 2, init, device, dtype))
        self.c2 = self.add(Conv.build(g, 6, 16, 5, 0, init, device, dtype))
        flat = 16 * ((h // 2 - 4) // 2) * ((w // 2 - 4) // 2)
        self.d1 = self.add(Dense.build(g, flat, 120, init, device, dtype))
        self.d2 = self.add(Dense.build(g, 120, 84, init, device, dtype))
        self.d3 = self.add(Dense.build(g, 84, n_classes, init, device, dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pool = lambda h: F.avg_pool2d(h, 2)  # noqa: E731
        h = self.maps(pool, self.act(self.c1(self.conv_input(x, self.shape)), 0))
        h = self.flatten(self.maps(pool, self.act(self.c2(h), 1)))
        h = self.act(self.d1(h), 2)
        h = self.act(self.d2(h), 3)
        return self.d3(h)


LENET = Family("lenet", LeNetStack, "d2l's LeNet-5: two 5×5 convolutions with average pooling, dense 120-84-10")
