"""torch.optim.Adafactor (Shazeer & Stern): Adam-like steps whose second moment of a matrix is kept
factored, as one row vector and one column vector, so it costs O(rows + cols) memory, not O(rows * cols)."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._tensor import Tensor, _make
from .optimizer import (Optimizer, ParamsT, _as_float, _check_tensor_hparam, _eval_closure, _lerp_, _step_counter,
                        _tick, _zeros_state)

__all__ = ["Adafactor"]


class Adafactor(Optimizer):
    """Implements Adafactor, torch's formulation. At step t, with beta2_t = 1 - t**beta2_decay:

        a matrix (any tensor of 2+ dims, factored over its last two):
            R = lerp(R, mean of g*g over the last dim, 1 - beta2_t)       (rows)
            C = lerp(C, mean of g*g over the second-to-last dim, 1 - beta2_t)   (columns)
            v = R C / max(mean(R), eps1)
        a vector or scalar: v = lerp(v, g*g, 1 - beta2_t)
        u = g / sqrt(max(v, eps1**2));  u = u / max(1, rms(u) / d)
        p = p - max(eps2, rms(p)) * min(lr, 1/sqrt(t)) * u      (rms(p) before weight decay shrinks p)

    eps1=None means the machine epsilon of the (first) parameter's dtype.
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple = (None, 1e-3), d: float = 1.0, weight_decay: float = 0.0, *,
                 foreach: bool | None = None, maximize: bool = False) -> None:
        _check_tensor_hparam(lr, "lr")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._upgrade_state((("foreach", None),))

    def _state_of(self, p: Tensor) -> dict:
        state = self.state[p]
        if not state:
            state["step"] = _step_counter()
            grad = p.grad._data
            if grad.ndim > 1:  # the factored second moment: one entry per row, one per column
                xp = p.device.xp
                state["row_var"] = _make(xp.zeros(grad.shape[:-1] + (1,), dtype=grad.dtype), p.device)
                state["col_var"] = _make(xp.zeros(grad.shape[:-2] + (1, grad.shape[-1]), dtype=grad.dtype),
                                         p.device)
            else:
                state["variance"] = _zeros_state(p.grad)
        return state

    def step(self, closure: Callable | None = None):
        """One Adafactor update of every parameter that has a gradient; returns the closure's loss."""
        loss = _eval_closure(closure)
        for group in self.param_groups:
            lr = _as_float(group["lr"])
            eps1, eps2 = group["eps"]
            beta2_decay, d = group["beta2_decay"], group["d"]
            weight_decay, maximize = group["weight_decay"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if eps1 is None:  # (torch takes it from the first parameter, then keeps it for the group)
                    eps1 = float(np.finfo(p._data.dtype).eps)
                state = self._state_of(p)
                t = _tick(state["step"])
                self._update(p, state, t, lr, eps1, eps2, beta2_decay, d, weight_decay, maximize)
        return loss

    @staticmethod
    def _update(p: Tensor, state: dict, t: float, lr: float, eps1: float, eps2: float, beta2_decay: float,
                d: float, weight_decay: float, maximize: bool) -> None:
        xp = p.device.xp
        param = p._data
        g = -p.grad._data if maximize else p.grad._data
        weight = t ** beta2_decay  # 1 - beta2_t
        alpha = max(eps2, float(_norm(param, xp)) / param.size ** 0.5) * min(lr, 1 / t ** 0.5)
        if weight_decay != 0:
            param *= 1 - lr * weight_decay
        if g.ndim > 1:
            row_var, col_var = state["row_var"]._data, state["col_var"]._data
            # torch squares the norms: sqrt then square, rounded as there
            _lerp_(row_var, _norm(g, xp, axis=-1) ** 2 / g.shape[-1], weight, xp)
            _lerp_(col_var, _norm(g, xp, axis=-2) ** 2 / g.shape[-2], weight, xp)
            var = row_var @ col_var
            var /= xp.maximum(row_var.mean(axis=-2, keepdims=True), eps1)
        else:
            variance = state["variance"]._data
            _lerp_(variance, g * g, weight, xp)
            var = variance.copy()
        xp.maximum(var, eps1 * eps1, out=var)
        update = xp.sqrt(var, out=var)
        xp.divide(1, update, out=update)
        update *= g
        denom = max(1.0, float(_norm(update, xp)) / (update.size ** 0.5 * d))
        param += (-alpha / denom) * update
        p._vc[0] += 1


def _norm(x, xp, axis=None):
    """The 2-norm of x (over `axis`, kept as a length-1 dimension), as torch.norm(x, 2)."""
    if axis is None:
        return xp.sqrt(xp.vdot(x.reshape(-1), x.reshape(-1))) if x.size else xp.zeros((), dtype=x.dtype)
    return xp.sqrt((x * x).sum(axis=axis, keepdims=True))
