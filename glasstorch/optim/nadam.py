"""torch.optim.NAdam (Dozat): Adam with Nesterov momentum and a momentum schedule."""
from __future__ import annotations

from collections.abc import Callable

from .._tensor import Tensor
from ..backends import fused
from .adadelta import _average_square_
from .adam import _gradient
from .adamax import _check_adam_hparams
from .optimizer import (Optimizer, ParamsT, _as_float, _check_no_differentiable, _check_tensor_hparam,
                        _eval_closure, _lerp_, _step_counter, _tick, _zeros_state)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """Implements NAdam, torch's formulation:

        mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay));  P_t = mu_1 * ... * mu_t
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g;  d = sqrt(v / (1 - beta2**t)) + eps
        p = p - lr * (1 - mu_t) / (1 - P_t) * g / d - lr * mu_{t+1} / (1 - P_t * mu_{t+1}) * m / d

    decoupled_weight_decay=True shrinks p by (1 - lr * weight_decay) instead of adding to g (NAdamW).
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check_tensor_hparam(lr, "lr")
        _check_adam_hparams(lr, eps, betas, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        _check_no_differentiable(differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._upgrade_state((("maximize", False), ("foreach", None), ("capturable", False),
                             ("differentiable", False), ("decoupled_weight_decay", False)))
        for p_state in self.state.values():
            if p_state and not isinstance(p_state["mu_product"], Tensor):
                p_state["mu_product"] = _step_counter(p_state["mu_product"])

    def _state_of(self, p: Tensor) -> dict:
        state = self.state[p]
        if not state:
            state["step"] = _step_counter()
            # the running product of the mu_t, kept (like step) as a tensor of the default float dtype:
            # torch rounds it to float32 at every step unless the default dtype is float64
            state["mu_product"] = _step_counter(1.0)
            state["exp_avg"] = _zeros_state(p)
            state["exp_avg_sq"] = _zeros_state(p)
        return state

    def step(self, closure: Callable | None = None):
        """One NAdam update of every parameter that has a gradient; returns the closure's loss."""
        loss = _eval_closure(closure)
        for group in self.param_groups:
            lr = _as_float(group["lr"])
            beta1, beta2 = group["betas"]
            eps, weight_decay, momentum_decay = group["eps"], group["weight_decay"], group["momentum_decay"]
            decoupled, maximize = group["decoupled_weight_decay"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self._state_of(p)
                t = _tick(state["step"])
                xp = p.device.xp
                mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
                mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
                mu_product = state["mu_product"]._data
                mu_product *= mu
                mu_product = float(mu_product)
                exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
                decay = 1 - lr * weight_decay if weight_decay != 0 and decoupled else 1
                if fused(p.device).nadam_(  # one kernel (CPU: extra `fast`); the code below is the reference
                        p._data, p.grad._data, exp_avg, exp_avg_sq, t, lr, beta1, beta2, eps,
                        -lr * (1.0 - mu) / (1.0 - mu_product), (-lr * mu_next) / (1.0 - mu_product * mu_next),
                        l2=0 if decoupled else weight_decay, decay=decay, maximize=maximize):
                    p._vc[0] += 1
                    continue
                if decay != 1:
                    p._data *= decay
                g = _gradient(p.grad._data, p._data, maximize, 0 if decoupled else weight_decay)
                _lerp_(exp_avg, g, 1 - beta1, xp)
                _average_square_(exp_avg_sq, g, beta2, self._scratch(p._data), xp)
                # (out= keeps these arrays, not NumPy scalars, for a 0-d parameter too)
                denom = xp.divide(exp_avg_sq, 1 - beta2 ** t, out=xp.empty_like(exp_avg_sq))
                xp.sqrt(denom, out=denom)
                denom += eps
                step = xp.divide(g, denom, out=self._scratch(p._data))
                step *= -lr * (1.0 - mu) / (1.0 - mu_product)
                p._data += step
                xp.divide(exp_avg, denom, out=step)
                step *= (-lr * mu_next) / (1.0 - mu_product * mu_next)
                p._data += step
                p._vc[0] += 1
        return loss
