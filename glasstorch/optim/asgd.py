"""torch.optim.ASGD: averaged stochastic gradient descent (Polyak & Juditsky), with a decaying step size."""
from __future__ import annotations

from collections.abc import Callable

from .. import _dtype
from .._tensor import Tensor
from ..backends import fused
from .adam import _gradient
from .optimizer import (Optimizer, ParamsT, _as_float, _check_no_differentiable, _check_tensor_hparam,
                        _eval_closure, _step_counter, _tick, _zeros_state)

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """Implements ASGD, torch's formulation:

        p = p * (1 - lambd * eta) - eta * g;  ax = ax + mu * (p - ax)   (ax = p while mu is 1)
        eta = lr / (1 + lambd * lr * t) ** alpha;  mu = 1 / max(1, t - t0)

    The averaged parameters are state['ax']; eta and mu are kept, like step, as 0-d tensors of the
    default float dtype (so in float32 unless the default is float64), and torch's update reads them
    back from there: their rounding is part of the trajectory.
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        _check_tensor_hparam(lr, "lr")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_no_differentiable(differentiable)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._upgrade_state((("foreach", None), ("maximize", False), ("differentiable", False),
                             ("capturable", False)))
        for p_state in self.state.values():
            for key in ("eta", "mu"):
                if p_state and not isinstance(p_state[key], Tensor):
                    p_state[key] = _step_counter(float(p_state[key]))

    def _state_of(self, p: Tensor, group: dict) -> dict:
        state = self.state[p]
        if not state:
            state["step"] = _step_counter()
            state["eta"] = _step_counter(_as_float(group["lr"]))
            state["mu"] = _step_counter(1.0)
            state["ax"] = _zeros_state(p)
        return state

    def step(self, closure: Callable | None = None):
        """One ASGD update of every parameter that has a gradient; returns the closure's loss."""
        loss = _eval_closure(closure)
        for group in self.param_groups:
            lr = _as_float(group["lr"])
            lambd, alpha, t0 = group["lambd"], group["alpha"], group["t0"]
            weight_decay, maximize = group["weight_decay"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self._state_of(p, group)
                t = _tick(state["step"])
                xp = p.device.xp
                param, ax = p._data, state["ax"]._data
                eta, mu = float(state["eta"]._data), float(state["mu"]._data)
                if not (p.device.type != "cpu" and fused(p.device).asgd_(  # on a GPU: one kernel
                        param, p.grad._data, ax, eta, mu, lambd, weight_decay=weight_decay, maximize=maximize)):
                    g = _gradient(p.grad._data, param, maximize, weight_decay)
                    param *= 1 - lambd * eta
                    self._add_scaled_(param, g, -eta, xp)
                    if mu != 1:
                        diff = param - ax
                        diff *= mu
                        ax += diff
                    else:
                        ax[...] = param
                p._vc[0] += 1
                # the next step's values: torch makes each a tensor of the default dtype before copying
                # it into the state, so they are rounded to that dtype even when the state is float64
                # (as it is after load_state_dict has cast it to a float64 parameter's dtype)
                default = _dtype.get_default_dtype().np.type
                state["eta"]._data[...] = default(lr / ((1 + lambd * lr * t) ** alpha))
                state["mu"]._data[...] = default(1 / max(1, t - t0))
        return loss
