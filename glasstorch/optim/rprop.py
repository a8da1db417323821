"""torch.optim.Rprop (Riedmiller & Braun): per-coordinate step sizes driven by the sign of the gradient."""
from __future__ import annotations

from collections.abc import Callable

from .._tensor import Tensor
from ..backends import fused
from .optimizer import (Optimizer, ParamsT, _as_float, _check_no_differentiable, _check_tensor_hparam,
                        _eval_closure, _step_counter, _tick, _zeros_state)

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Implements resilient backpropagation, torch's formulation (per coordinate):

        s = g * prev:  s > 0 -> step_size *= etaplus;  s < 0 -> step_size *= etaminus and g = 0
        step_size = clamp(step_size, *step_sizes);  p = p - sign(g) * step_size;  prev = g

    Only the sign of the gradient is used; step sizes start at lr.
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-2, etas: tuple = (0.5, 1.2),
                 step_sizes: tuple = (1e-6, 50), *, capturable: bool = False, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False) -> None:
        _check_tensor_hparam(lr, "lr")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        _check_no_differentiable(differentiable)
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._upgrade_state((("foreach", None), ("maximize", False), ("differentiable", False),
                             ("capturable", False)))

    def _state_of(self, p: Tensor, group: dict) -> dict:
        state = self.state[p]
        if not state:
            state["step"] = _step_counter()
            state["prev"] = _zeros_state(p)
            state["step_size"] = _zeros_state(p, _as_float(group["lr"]))
        return state

    def step(self, closure: Callable | None = None):
        """One Rprop update of every parameter that has a gradient; returns the closure's loss."""
        loss = _eval_closure(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self._state_of(p, group)
                _tick(state["step"])
                xp = p.device.xp
                grad = p.grad._data
                prev, step_size = state["prev"]._data, state["step_size"]._data
                if p.device.type != "cpu" and fused(p.device).rprop_(  # on a GPU: one kernel
                        p._data, grad, prev, step_size, etaminus, etaplus, step_size_min, step_size_max,
                        maximize=maximize):
                    p._vc[0] += 1
                    continue
                # the factor for each step size, written over the sign of grad * prev (as torch does,
                # so the etas are rounded to the parameter's dtype)
                factor = xp.multiply(grad, prev, out=xp.empty_like(prev))  # (out=: an array even if 0-d)
                xp.sign(factor, out=factor)
                if maximize:
                    factor *= -1
                flipped = factor < 0
                factor[factor > 0] = etaplus
                factor[flipped] = etaminus
                factor[factor == 0] = 1
                step_size *= factor
                xp.clip(step_size, step_size_min, step_size_max, out=step_size)
                # where the gradient changed sign, no move this step, and no sign to compare next step
                xp.copyto(prev, -grad if maximize else grad)
                prev[flipped] = 0
                move = xp.sign(prev)
                move *= step_size
                p._data -= move
                p._vc[0] += 1
        return loss
