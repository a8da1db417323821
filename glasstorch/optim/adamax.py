"""torch.optim.Adamax: Adam with the infinity norm in place of the second moment."""
from __future__ import annotations

from collections.abc import Callable

from .._tensor import Tensor
from ..backends import fused
from .adam import _gradient
from .optimizer import (Optimizer, ParamsT, _as_float, _check_no_differentiable, _check_tensor_hparam,
                        _eval_closure, _lerp_, _step_counter, _tick, _zeros_state)

__all__ = ["Adamax"]


def _check_adam_hparams(lr, eps, betas, weight_decay) -> None:
    """The ValueErrors of torch's Adam family for lr, eps, betas and weight_decay, in its order."""
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class Adamax(Optimizer):
    """Implements Adamax (Kingma & Ba, section 7.1), torch's formulation:

        m = lerp(m, g, 1 - beta1);  u = max(beta2 * u, |g| + eps);  p = p - lr / (1 - beta1**t) * m / u
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        _check_tensor_hparam(lr, "lr")
        _check_adam_hparams(lr, eps, betas, weight_decay)
        _check_no_differentiable(differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._upgrade_state((("foreach", None), ("maximize", False), ("differentiable", False),
                             ("capturable", False)))

    def _state_of(self, p: Tensor) -> dict:
        state = self.state[p]
        if not state:
            state["step"] = _step_counter()
            state["exp_avg"] = _zeros_state(p)
            state["exp_inf"] = _zeros_state(p)
        return state

    def step(self, closure: Callable | None = None):
        """One Adamax update of every parameter that has a gradient; returns the closure's loss."""
        loss = _eval_closure(closure)
        for group in self.param_groups:
            lr = _as_float(group["lr"])
            beta1, beta2 = group["betas"]
            eps, weight_decay, maximize = group["eps"], group["weight_decay"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self._state_of(p)
                t = _tick(state["step"])
                xp = p.device.xp
                exp_avg, exp_inf = state["exp_avg"]._data, state["exp_inf"]._data
                if fused(p.device).adamax_(  # one kernel (CPU: extra `fast`); the code below is the reference
                        p._data, p.grad._data, exp_avg, exp_inf, t, lr, beta1, beta2, eps,
                        weight_decay=weight_decay, maximize=maximize):
                    p._vc[0] += 1
                    continue
                g = _gradient(p.grad._data, p._data, maximize, weight_decay)
                _lerp_(exp_avg, g, 1 - beta1, xp)
                exp_inf *= beta2
                bound = xp.abs(g, out=xp.empty_like(exp_inf))  # (out=: an array even for a 0-d parameter)
                bound += eps
                xp.maximum(exp_inf, bound, out=exp_inf)
                update = xp.divide(exp_avg, exp_inf, out=bound)
                update *= -lr / (1 - beta1 ** t)
                p._data += update
                p._vc[0] += 1
        return loss
