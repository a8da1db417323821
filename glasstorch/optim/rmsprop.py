"""torch.optim.RMSprop (Hinton's lecture 6e), optionally centered and with momentum."""
from __future__ import annotations

from collections.abc import Callable

from .._tensor import Tensor
from ..backends import fused
from .optimizer import (Optimizer, ParamsT, _as_float, _check_no_differentiable, _check_nonnegative,
                        _check_tensor_hparam, _eval_closure, _lerp_, _step_counter, _tick, _zeros_state)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """Implements RMSprop, torch's formulation:

        v = alpha * v + (1 - alpha) * g * g;  avg = sqrt(v - mean_g**2 if centered else v) + eps
        b = momentum * b + g / avg; p = p - lr * b    (without momentum: p = p - lr * g / avg)
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False) -> None:
        _check_tensor_hparam(lr, "lr")
        _check_nonnegative(("learning rate", lr),
                           ("epsilon value", eps),
                           ("momentum value", momentum),
                           ("weight_decay value", weight_decay),
                           ("alpha value", alpha))
        _check_no_differentiable(differentiable)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach, maximize=maximize,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._upgrade_state((("momentum", 0), ("centered", False), ("foreach", None), ("maximize", False),
                             ("differentiable", False), ("capturable", False)))

    def _state_of(self, p: Tensor, group: dict) -> dict:
        state = self.state[p]
        if not state:
            state["step"] = _step_counter()
            state["square_avg"] = _zeros_state(p)
            if group["momentum"] > 0:
                state["momentum_buffer"] = _zeros_state(p)
            if group["centered"]:
                state["grad_avg"] = _zeros_state(p)
        return state

    def step(self, closure: Callable | None = None):
        """One RMSprop update of every parameter that has a gradient; returns the closure's loss."""
        loss = _eval_closure(closure)
        for group in self.param_groups:
            lr = _as_float(group["lr"])
            alpha, eps, weight_decay = group["alpha"], group["eps"], group["weight_decay"]
            momentum, centered, maximize = group["momentum"], group["centered"], group["maximize"]
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                state = self._state_of(p, group)
                xp = p.device.xp
                param = p._data
                _tick(state["step"])
                if fused(p.device).rmsprop_(param, grad._data, state["square_avg"]._data,
                                            state["grad_avg"]._data if centered else None,
                                            state["momentum_buffer"]._data if momentum > 0 else None, lr, alpha,
                                            eps, weight_decay=weight_decay, momentum=momentum, maximize=maximize):
                    p._vc[0] += 1  # updated in one compiled pass; the NumPy code below is the reference
                    continue
                g = -grad._data if maximize else grad._data
                if weight_decay != 0:
                    g = g + weight_decay * param
                square_avg = state["square_avg"]._data
                square_avg *= alpha
                square_avg += (1 - alpha) * g * g
                if centered:
                    grad_avg = state["grad_avg"]._data
                    _lerp_(grad_avg, g, 1 - alpha, xp)
                    avg = xp.sqrt(square_avg - grad_avg * grad_avg)
                else:
                    avg = xp.sqrt(square_avg)
                avg += eps
                if momentum > 0:
                    buf = state["momentum_buffer"]._data
                    buf *= momentum
                    buf += g / avg
                    param -= lr * buf
                else:
                    update = -lr * g
                    update /= avg
                    param += update
                p._vc[0] += 1
        return loss
