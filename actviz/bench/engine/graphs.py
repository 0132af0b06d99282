"""Running a stack's steps: eagerly, or on CUDA replayed from a captured graph.

On a CUDA device a stack with a capturable ``device_step`` (static shapes, no host
state) runs its first steps of each batch size eagerly (warm-up), then captures the
step once in a CUDA graph and replays it for every later batch of that size; the last,
partial batch of an epoch gets its own graph.  Inputs are copied into the graph's
static buffers.  Elsewhere (the CPU, a stack without ``device_step``) each step is
simply ``stack.step``.
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["StepRunner"]

#: eager steps of a batch size before its step is captured
WARMUP = 2


class StepRunner:
    """Calls ``stack.step(xs, ys)``, through CUDA graphs where possible."""

    def __init__(self, stack: Any, device: torch.device, graphs: bool = True):
        self.stack = stack
        self.graphs_on = (graphs and device.type == "cuda" and hasattr(stack, "device_step")
                          and getattr(stack, "capturable", True))
        self.graphs: dict[tuple[int, ...], tuple[torch.Tensor, torch.Tensor, Any]] = {}
        self.eager: dict[tuple[int, ...], int] = {}
        self.version = getattr(stack, "version", 0)

    def __call__(self, xs: torch.Tensor, ys: torch.Tensor) -> None:
        if not self.graphs_on:
            self.stack.step(xs, ys)
            return
        shape = tuple(xs.shape)
        self.stack.count(ys.shape[1])
        version = getattr(self.stack, "version", 0)
        if version != self.version:  # the step's work changed (a model stopped): capture it again
            self.graphs.clear()
            self.eager.clear()
            self.version = version
        captured = self.graphs.get(shape)
        if captured is not None:
            static_x, static_y, graph = captured
            static_x.copy_(xs)
            static_y.copy_(ys)
            graph.replay()
            return
        n = self.eager[shape] = self.eager.get(shape, 0) + 1
        if n <= WARMUP:
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                self.stack.device_step(xs, ys)
            torch.cuda.current_stream().wait_stream(side)
            return
        static_x, static_y = xs.clone(), ys.clone()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            self.stack.device_step(static_x, static_y)
        self.graphs[shape] = (static_x, static_y, graph)
        graph.replay()
