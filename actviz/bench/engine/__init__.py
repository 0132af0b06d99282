"""The batched training engine: every model of a comparison trained at once, on CPU and GPU.

* :mod:`~actviz.bench.engine.params` — initial weights, drawn exactly as a seed says;
* :mod:`~actviz.bench.engine.kernels` — the hidden non-linearity per run of models, its analytic backward;
* :mod:`~actviz.bench.engine.optim` — SGD and Adam on stacked tensors, one learning rate per model;
* :mod:`~actviz.bench.engine.mlp` — the MLP family: the stack's forward, backward, evaluation, diagnostics;
* :mod:`~actviz.bench.engine.batches` — the data on the device and each seed's mini-batches;
* :mod:`~actviz.bench.engine.graphs` — steps replayed from CUDA graphs;
* :mod:`~actviz.bench.engine.scheduler` — groups runs into stacks, trains them, records every epoch;
* :mod:`~actviz.bench.engine.cost` — FLOPs and the activation's own time per step.

The public entry points are in :mod:`actviz.bench.train`.
"""
