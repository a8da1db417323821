"""torch.optim.SGD: stochastic gradient descent with optional (Nesterov) momentum and weight decay."""
from __future__ import annotations

from collections.abc import Callable

from .._tensor import Tensor
from ..backends import fused
from .optimizer import (Optimizer, ParamsT, _as_float, _check_no_differentiable, _check_tensor_hparam,
                        _eval_closure, _state_copy)

__all__ = ["SGD"]


class SGD(Optimizer):
    """Implements stochastic gradient descent (optionally with momentum), torch's formulation:

        g = grad (+ weight_decay * p);  b = momentum * b + (1 - dampening) * g  (b = g at the first step)
        g = g + momentum * b (nesterov) or b;  p = p - lr * g
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float | Tensor = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None) -> None:
        _check_tensor_hparam(lr, "lr")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_no_differentiable(differentiable)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    def __setstate__(self, state):
        super().__setstate__(state)
        self._upgrade_state((("nesterov", False), ("maximize", False), ("foreach", None), ("differentiable", False),
                             ("fused", False)), step_counters=False)

    def step(self, closure: Callable | None = None):
        """One SGD update of every parameter that has a gradient; returns the closure's loss."""
        loss = _eval_closure(closure)
        for group in self.param_groups:
            lr = _as_float(group["lr"])
            weight_decay = _as_float(group["weight_decay"])
            momentum, dampening = group["momentum"], group["dampening"]
            nesterov, maximize = group["nesterov"], group["maximize"]
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if self._fused(p, lr, weight_decay, momentum, dampening, nesterov, maximize):
                    continue
                g = -grad._data if maximize else grad._data
                if weight_decay != 0:
                    g = g + weight_decay * p._data
                if momentum != 0:
                    g = self._momentum(p, g, momentum, dampening, nesterov)
                self._add_scaled_(p._data, g, -lr, p.device.xp)
                p._vc[0] += 1
        return loss

    def _fused(self, p: Tensor, lr: float, weight_decay: float, momentum: float, dampening: float, nesterov: bool,
               maximize: bool) -> bool:
        """p's whole update in one compiled pass (one kernel on CUDA), when the device's fused kernels can
        take it (with momentum: from the second step on, once the buffer exists); False leaves everything
        to the NumPy code below."""
        buf = None
        if momentum != 0:
            buf = self.state[p].get("momentum_buffer")
            if buf is None:
                return False
            buf = buf._data
        if not fused(p.device).sgd_(p._data, p.grad._data, buf, lr, momentum=momentum, dampening=dampening,
                                    nesterov=nesterov, maximize=maximize, weight_decay=weight_decay):
            return False
        p._vc[0] += 1
        return True

    def _momentum(self, p: Tensor, g, momentum: float, dampening: float, nesterov: bool):
        """Update p's momentum buffer with the gradient g; returns the direction to descend."""
        state = self.state[p]
        buf_t = state.get("momentum_buffer")
        if buf_t is None:
            # the first buffer is the gradient itself, undamped (torch's convention)
            buf_t = state["momentum_buffer"] = _state_copy(g, p)
            buf = buf_t._data
        else:
            buf = buf_t._data
            buf *= momentum
            buf += g if dampening == 0 else (1 - dampening) * g
        return g + momentum * buf if nesterov else buf
