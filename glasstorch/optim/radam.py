"""torch.optim.RAdam (Liu et al.): Adam whose adaptive step is switched on gradually (variance rectification)."""
from __future__ import annotations

from collections.abc import Callable

from .._tensor import Tensor
from ..backends import fused
from .adadelta import _average_square_
from .adam import _gradient
from .adamax import _check_adam_hparams
from .optimizer import (Optimizer, ParamsT, _as_float, _check_no_differentiable, _check_tensor_hparam,
                        _eval_closure, _lerp_, _step_counter, _tick, _zeros_state)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """Implements RAdam, torch's formulation:

        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2**t / (1 - beta2**t)
        rho_t > 5:  p = p - lr * m / (1 - beta1**t) * sqrt(1 - beta2**t) / (sqrt(v) + eps) * r_t, with the
                    rectification r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
        otherwise:  p = p - lr * m / (1 - beta1**t)   (plain momentum SGD while the variance estimate is poor)

    decoupled_weight_decay=True shrinks p by (1 - lr * weight_decay) instead of adding to g (RAdamW).
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False) -> None:
        _check_tensor_hparam(lr, "lr")
        _check_adam_hparams(lr, eps, betas, weight_decay)
        _check_no_differentiable(differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._upgrade_state((("foreach", None), ("maximize", False), ("differentiable", False),
                             ("decoupled_weight_decay", False), ("capturable", False)))

    def _state_of(self, p: Tensor) -> dict:
        state = self.state[p]
        if not state:
            state["step"] = _step_counter()
            state["exp_avg"] = _zeros_state(p)
            state["exp_avg_sq"] = _zeros_state(p)
        return state

    def step(self, closure: Callable | None = None):
        """One RAdam update of every parameter that has a gradient; returns the closure's loss."""
        loss = _eval_closure(closure)
        for group in self.param_groups:
            lr = _as_float(group["lr"])
            beta1, beta2 = group["betas"]
            eps, weight_decay = group["eps"], group["weight_decay"]
            decoupled, maximize = group["decoupled_weight_decay"], group["maximize"]
            rho_inf = 2 / (1 - beta2) - 1
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self._state_of(p)
                t = _tick(state["step"])
                xp = p.device.xp
                exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
                bias_correction2 = 1 - beta2 ** t
                rho_t = rho_inf - 2 * t * (beta2 ** t) / bias_correction2
                rect = None
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                decay = 1 - lr * weight_decay if weight_decay != 0 and decoupled else 1
                if fused(p.device).radam_(  # one kernel (CPU: extra `fast`); the code below is the reference
                        p._data, p.grad._data, exp_avg, exp_avg_sq, t, lr, beta1, beta2, eps, rect,
                        l2=0 if decoupled else weight_decay, decay=decay, maximize=maximize):
                    p._vc[0] += 1
                    continue
                if decay != 1:
                    p._data *= decay
                g = _gradient(p.grad._data, p._data, maximize, 0 if decoupled else weight_decay)
                _lerp_(exp_avg, g, 1 - beta1, xp)
                _average_square_(exp_avg_sq, g, beta2, self._scratch(p._data), xp)
                update = exp_avg / (1 - beta1 ** t)
                update *= lr
                if rect is not None:
                    adaptive = xp.sqrt(exp_avg_sq, out=xp.empty_like(exp_avg_sq))  # (an array even if 0-d)
                    adaptive += eps
                    xp.divide(bias_correction2 ** 0.5, adaptive, out=adaptive)
                    update *= adaptive
                    update *= rect
                p._data -= update
                p._vc[0] += 1
        return loss
