"""torch.optim.Adam (and, with decoupled_weight_decay=True, AdamW's update)."""
from __future__ import annotations

from collections.abc import Callable

from .._tensor import Tensor
from ..backends import fused
from .optimizer import (_PACK_MAX, Optimizer, ParamsT, _as_float, _check_no_differentiable, _check_tensor_hparam,
                        _eval_closure, _packable, _step_counter, _tick, _zeros_state)

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
            hp = (_as_float(group["lr"]),) + tuple(_as_float(b) for b in group["betas"]) + (group["eps"],)
            weight_decay, decoupled = group["weight_decay"], group["decoupled_weight_decay"]
            l2 = 0 if decoupled else weight_decay  # weight decay that enters the gradient (Adam's, not AdamW's)
            amsgrad, maximize = group["amsgrad"], group["maximize"]
            keys = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if amsgrad else ("exp_avg", "exp_avg_sq")
            small, small_states, small_steps = [], [], set()
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self._state_of(p, amsgrad)
                t = _tick(state["step"])
                decay = 1 - hp[0] * weight_decay if weight_decay != 0 and decoupled else 1  # AdamW's
                # small CPU parameters are updated below, together (on CUDA each update is one kernel
                # launch already, and packing would add launches)
                if p._data.size <= _PACK_MAX and p.device.type == "cpu":
                    if decay != 1:
                        p._data *= decay
                    small.append(p)
                    small_states.append(state)
                    small_steps.add(t)
                    continue
                self._update_one(p, [state[k]._data for k in keys], t, hp, maximize, l2, decay)
            if _packable(small) and len(small_steps) == 1:
                pack = self._pack(small, small_states, keys)
                xp = small[0].device.xp
                g = pack.gather_grads(small, xp)
                if maximize or l2 != 0:
                    g = _gradient(g, xp.concatenate([p._data.reshape(-1) for p in small]), maximize, l2)
                moments, t = [pack.flat[k] for k in keys], small_steps.pop()
                if not fused(small[0].device).adam_change_(pack.work, g, moments, t, *hp):
                    _adam_update(xp, g, moments, pack.work, t, *hp)
                pack.add_to_params(small, pack.work)
                continue
            for p, state in zip(small, small_states):
                self._update_one(p, [state[k]._data for k in keys], float(state["step"]), hp, maximize, l2)
        return loss

    def _update_one(self, p: Tensor, moments: list, t: float, hp: tuple, maximize: bool, l2: float,
                    decay: float = 1) -> None:
        """The Adam update of one parameter on its own arrays (a scratch array holds the change);
        decay: AdamW's factor on the parameter first. One compiled pass (one kernel on CUDA) when the
        device's fused kernels can take it."""
        if fused(p.device).adam_(p._data, p.grad._data, moments, t, *hp, maximize=maximize, l2=l2, decay=decay):
            p._vc[0] += 1
            return
        if decay != 1:
            p._data *= decay
        g = _gradient(p.grad._data, p._data, maximize, l2)
        tmp = self._scratch(p._data)
        _adam_update(p.device.xp, g, moments, tmp, t, *hp)
        p._data += tmp
        p._vc[0] += 1


def _gradient(grad, param, maximize: bool, weight_decay: float):
    """The gradient Adam follows: negated to maximize, plus weight_decay * param (L2 penalty)."""
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param
    return g


def _adam_update(xp, g, moments: list, out, t: float, lr: float, beta1: float, beta2: float, eps: float) -> None:
    """Update the moments [m, v] (or [m, v, v_max] with amsgrad) in place with gradient g, and write
    the parameter's change for step t into `out`: all arrays of one shape, updated in place."""
    m, v = moments[0], moments[1]
    # m <- lerp(m, g, 1 - beta1)
    xp.subtract(g, m, out=out)
    out *= 1 - beta1
    m += out
    # v <- beta2 * v + (1 - beta2) * g * g
    v *= beta2
    xp.multiply(g, 1 - beta2, out=out)
    out *= g
    v += out
    if len(moments) == 3:  # amsgrad: the denominator uses the largest v so far
        xp.maximum(moments[2], v, out=moments[2])
        v = moments[2]
    # change = -lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps), with sqrt(bc2) moved out of the
    # denominator: one pass over the arrays fewer, the same value up to rounding
    root_bc2 = (1 - beta2 ** t) ** 0.5
    xp.sqrt(v, out=out)
    out += eps * root_bc2
    xp.divide(m, out, out=out)
    out *= -lr / (1 - beta1 ** t) * root_bc2
