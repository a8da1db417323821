"""torch.optim.Adadelta (Zeiler): step sizes from running averages of squared gradients and squared updates."""
from __future__ import annotations

from collections.abc import Callable

from .._tensor import Tensor
from ..backends import fused
from .adam import _gradient
from .optimizer import (Optimizer, ParamsT, _as_float, _check_no_differentiable, _check_tensor_hparam,
                        _eval_closure, _step_counter, _tick, _zeros_state)

__all__ = ["Adadelta"]


def _average_square_(avg, x, rho: float, tmp, xp) -> None:
    """avg <- rho * avg + (1 - rho) * x * x in place (torch's mul_ then addcmul_), `tmp` a work array."""
    avg *= rho
    xp.multiply(x, 1 - rho, out=tmp)
    tmp *= x
    avg += tmp


class Adadelta(Optimizer):
    """Implements Adadelta, torch's formulation:

        v = rho * v + (1 - rho) * g * g;  delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta;  p = p - lr * delta
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False) -> None:
        _check_tensor_hparam(lr, "lr")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_no_differentiable(differentiable)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._upgrade_state((("foreach", None), ("maximize", False), ("differentiable", False),
                             ("capturable", False)))

    def _state_of(self, p: Tensor) -> dict:
        state = self.state[p]
        if not state:
            state["step"] = _step_counter()
            state["square_avg"] = _zeros_state(p)
            state["acc_delta"] = _zeros_state(p)
        return state

    def step(self, closure: Callable | None = None):
        """One Adadelta update of every parameter that has a gradient; returns the closure's loss."""
        loss = _eval_closure(closure)
        for group in self.param_groups:
            lr = _as_float(group["lr"])
            rho, eps = group["rho"], group["eps"]
            weight_decay, maximize = group["weight_decay"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self._state_of(p)
                _tick(state["step"])
                xp = p.device.xp
                square_avg, acc_delta = state["square_avg"]._data, state["acc_delta"]._data
                if fused(p.device).adadelta_(  # one kernel (CPU: extra `fast`); the code below is the reference
                        p._data, p.grad._data, square_avg, acc_delta, lr, rho, eps, weight_decay=weight_decay,
                        maximize=maximize):
                    p._vc[0] += 1
                    continue
                g = _gradient(p.grad._data, p._data, maximize, weight_decay)
                tmp = self._scratch(p._data)
                _average_square_(square_avg, g, rho, tmp, xp)
                std = xp.add(square_avg, eps, out=tmp)
                xp.sqrt(std, out=std)
                delta = xp.add(acc_delta, eps, out=xp.empty_like(acc_delta))
                xp.sqrt(delta, out=delta)
                delta /= std
                delta *= g
                _average_square_(acc_delta, delta, rho, tmp, xp)
                self._add_scaled_(p._data, delta, -lr, xp)
                p._vc[0] += 1
        return loss
