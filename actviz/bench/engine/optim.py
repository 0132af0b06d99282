"""SGD and Adam on stacked parameters, with one learning rate per model.

Each parameter is registered with its learning rates shaped to broadcast over it
(one per model: ``(M, 1, 1)`` for a stack of matrices, ``(S, 1, m, 1)`` for the fused
first layer).  A model that stops (diverged) gets learning rate 0.  Adam is
``torch.optim.Adam``'s update, term for term (its default betas and eps, no weight
decay), with the step count kept on the device so a captured step can replay it.
"""

from __future__ import annotations

import torch

__all__ = ["BETAS", "EPS", "Optimizer"]

BETAS = (0.9, 0.999)
EPS = 1e-8


class Optimizer:
    """``mode`` "sgd" or "adam"; :meth:`update` takes the gradient of the mean loss."""

    def __init__(self, mode: str, device: torch.device):
        self.mode = mode
        self.lrs: dict[str, torch.Tensor] = {}
        self.params: dict[str, torch.Tensor] = {}
        self.state: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self.step_count = torch.zeros((), dtype=torch.float64, device=device)

    def add(self, name: str, p: torch.Tensor, lr: torch.Tensor) -> None:
        """Register parameter ``p`` with learning rates ``lr`` (broadcast over p)."""
        self.params[name] = p
        self.lrs[name] = lr
        if self.mode == "adam":
            self.state[name] = (torch.zeros_like(p), torch.zeros_like(p))

    def tick(self) -> None:
        """Once per optimiser step, before the updates (Adam's step count)."""
        if self.mode == "adam":
            self.step_count.add_(1)

    def update(self, name: str, grad: torch.Tensor) -> None:
        """Apply the gradient ``grad`` of the mean loss to parameter ``name``."""
        p, lr = self.params[name], self.lrs[name]
        if self.mode == "sgd":
            p.addcmul_(grad, lr, value=-1.0)
            return
        beta1, beta2 = BETAS
        exp_avg, exp_avg_sq = self.state[name]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias_correction1 = 1 - torch.pow(beta1, self.step_count)
        bias_correction2_sqrt = (1 - torch.pow(beta2, self.step_count)).sqrt()
        denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt.to(p.dtype)).add_(EPS)
        step_size = (lr / bias_correction1).to(p.dtype)
        p.sub_(exp_avg / denom * step_size)

    def stop(self, name: str, index: tuple[object, ...]) -> None:
        """Learning rate 0 (and fresh Adam moments) for the entries ``index`` of parameter ``name``."""
        self.lrs[name][index] = 0.0
        if name in self.state:
            for t in self.state[name]:
                t[index] = 0.0
