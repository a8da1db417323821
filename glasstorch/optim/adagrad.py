"""torch.optim.Adagrad (Duchi et al.): per-coordinate step sizes from the sum of squared gradients."""
from __future__ import annotations

from collections.abc import Callable

from .._tensor import Tensor
from ..backends import fused
from .optimizer import (Optimizer, ParamsT, _as_float, _check_no_differentiable, _check_nonnegative,
                        _check_tensor_hparam, _eval_closure, _step_counter, _tick, _zeros_state)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Implements Adagrad, torch's formulation:

        clr = lr / (1 + (t - 1) * lr_decay);  s = s + g * g;  p = p - clr * g / (sqrt(s) + eps)
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:
        _check_tensor_hparam(lr, "lr")
        _check_nonnegative(("learning rate", lr),
                           ("lr_decay value", lr_decay),
                           ("weight_decay value", weight_decay),
                           ("initial_accumulator_value value", initial_accumulator_value),
                           ("epsilon value", eps))
        _check_no_differentiable(differentiable)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        # unlike the other optimizers, Adagrad creates its state up front (torch does too)
        for group in self.param_groups:
            for p in group["params"]:
                self._state_of(p, group)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._upgrade_state((("foreach", None), ("maximize", False), ("differentiable", False), ("fused", None)))

    def _state_of(self, p: Tensor, group: dict) -> dict:
        state = self.state[p]
        if not state:
            state["step"] = _step_counter()
            state["sum"] = _zeros_state(p, group["initial_accumulator_value"])
        return state

    def step(self, closure: Callable | None = None):
        """One Adagrad update of every parameter that has a gradient; returns the closure's loss."""
        loss = _eval_closure(closure)
        for group in self.param_groups:
            lr = _as_float(group["lr"])
            lr_decay, eps = group["lr_decay"], group["eps"]
            weight_decay, maximize = group["weight_decay"], group["maximize"]
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                state = self._state_of(p, group)
                param = p._data
                t = _tick(state["step"])
                clr = lr / (1 + (t - 1) * lr_decay)
                if fused(p.device).adagrad_(param, grad._data, state["sum"]._data, clr, eps,
                                            weight_decay=weight_decay, maximize=maximize):
                    p._vc[0] += 1  # updated in one compiled pass; the NumPy code below is the reference
                    continue
                g = -grad._data if maximize else grad._data
                if weight_decay != 0:
                    g = g + weight_decay * param
                total = state["sum"]._data
                total += g * g
                std = p.device.xp.sqrt(total)
                std += eps
                update = -clr * g
                update /= std
                param += update
                p._vc[0] += 1
        return loss
