"""torch.optim.Adam (and, with decoupled_weight_decay=True, AdamW's update)."""
from __future__ import annotations

from collections.abc import Callable

from .._tensor import Tensor
from .optimizer import (Optimizer, ParamsT, _as_float, _check_no_differentiable, _check_tensor_hparam,
                        _eval_closure, _step_counter, _tick, _zeros_state)

__all__ = ["Adam"]


class Adam(Optimizer):
    """Implements Adam (Kingma & Ba), torch's formulation:

        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g   (v_max = max(v_max, v) with amsgrad)
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        _check_tensor_hparam(lr, "lr")
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
        if not (all(isinstance(b, float) for b in betas) or all(isinstance(b, Tensor) for b in betas)):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, b in enumerate(betas):
            _check_tensor_hparam(b, f"betas[{i}]")
        _check_no_differentiable(differentiable)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    def __setstate__(self, state):
        super().__setstate__(state)
        self._upgrade_state((("amsgrad", False), ("maximize", False), ("foreach", None), ("capturable", False),
                             ("differentiable", False), ("decoupled_weight_decay", False), ("fused", None)))

    def _state_of(self, p: Tensor, amsgrad: bool) -> dict:
        state = self.state[p]
        if not state:
            state["step"] = _step_counter()
            state["exp_avg"] = _zeros_state(p)
            state["exp_avg_sq"] = _zeros_state(p)
            if amsgrad:
                state["max_exp_avg_sq"] = _zeros_state(p)
        return state

    def step(self, closure: Callable | None = None):
        """One Adam update of every parameter that has a gradient; returns the closure's loss."""
        loss = _eval_closure(closure)
        for group in self.param_groups:
            lr = _as_float(group["lr"])
            beta1, beta2 = (_as_float(b) for b in group["betas"])
            eps, weight_decay = group["eps"], group["weight_decay"]
            amsgrad, maximize, decoupled = group["amsgrad"], group["maximize"], group["decoupled_weight_decay"]
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                state = self._state_of(p, amsgrad)
                xp = p.device.xp
                param = p._data
                g = -grad._data if maximize else grad._data
                t = _tick(state["step"])
                if weight_decay != 0:
                    if decoupled:
                        param *= 1 - lr * weight_decay
                    else:
                        g = g + weight_decay * param
                m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
                tmp = self._scratch(param)
                # m <- lerp(m, g, 1 - beta1)
                xp.subtract(g, m, out=tmp)
                tmp *= 1 - beta1
                m += tmp
                # v <- beta2 * v + (1 - beta2) * g * g
                v *= beta2
                xp.multiply(g, 1 - beta2, out=tmp)
                tmp *= g
                v += tmp
                if amsgrad:
                    v_max = state["max_exp_avg_sq"]._data
                    xp.maximum(v_max, v, out=v_max)
                    v = v_max
                # p <- p - lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps), with sqrt(bc2) moved out of the
                # denominator: one pass over the arrays fewer, the same value up to rounding
                root_bc2 = (1 - beta2 ** t) ** 0.5
                xp.sqrt(v, out=tmp)
                tmp += eps * root_bc2
                xp.divide(m, tmp, out=tmp)
                tmp *= -lr / (1 - beta1 ** t) * root_bc2
                param += tmp
                p._vc[0] += 1
        return loss
