"""torch.optim.AdamW: Adam with decoupled weight decay (p <- p * (1 - lr * weight_decay) before the update)."""
from __future__ import annotations

from .._tensor import Tensor
from .adam import Adam
from .optimizer import ParamsT

__all__ = ["AdamW"]


class AdamW(Adam):
    """Implements AdamW (Loshchilov & Hutter): Adam whose weight decay shrinks the parameters directly
    instead of entering the moment estimates. Defaults as torch: weight_decay=1e-2."""

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
