"""torch.optim.Muon (Jordan et al.): momentum SGD for 2-d weights whose step is the momentum
orthogonalised by a few Newton-Schulz iterations (roughly U V^T of its SVD U S V^T).

torch runs the Newton-Schulz iterations in bfloat16. NumPy has no bfloat16, so the iterations here
compute in float64 and round every result to bfloat16 (kept in float64 arrays) where torch's
bfloat16 ops round theirs: a matmul is summed exactly and rounded once, as torch's bfloat16 matmul
on the CPU (float32 sums) gives for these sizes.
"""
from __future__ import annotations

import math
from collections.abc import Callable

from .optimizer import Optimizer, ParamsT, _as_float, _check_tensor_hparam, _eval_closure, _lerp_, _zeros_state

__all__ = ["Muon"]

EPS = 1e-7
DEFAULT_A = 3.4445
DEFAULT_B = -4.7750
DEFAULT_C = 2.0315
DEFAULT_NS_STEPS = 5


def _round_bfloat16(x, xp):
    """x (float64) rounded to the nearest bfloat16 (ties to even), as float64: bfloat16 is float32 with
    the low 16 bits of the mantissa dropped, so round the float32 bit pattern there."""
    bits = x.astype(xp.float32).view(xp.uint32).astype(xp.uint64)
    bits += 0x7FFF + ((bits >> 16) & 1)
    bits &= 0xFFFF0000
    rounded = bits.astype(xp.uint32).view(xp.float32).astype(xp.float64)
    return xp.where(xp.isnan(x), x, rounded)  # (NaN's bit pattern must not carry into the exponent)


def _zeropower_via_newtonschulz(grad, ns_coefficients: tuple, ns_steps: int, eps: float, xp):
    """The quintic Newton-Schulz iteration that maps a matrix G toward U V^T (its singular values go to
    about 0.7..1.2, not 1, which is as good for Muon and takes fewer steps). Returns a float64 array
    of bfloat16 values."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if len(grad.shape) != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = ns_coefficients
    x = _round_bfloat16(grad.astype(xp.float64), xp)
    tall = grad.shape[0] > grad.shape[1]
    if tall:  # iterate on the wide orientation: the Gram matrix x x^T is the smaller one
        x = x.T
    norm = _round_bfloat16(xp.sqrt(xp.vdot(x, x)), xp)
    x = _round_bfloat16(x / _round_bfloat16(xp.maximum(norm, eps), xp), xp)
    for _ in range(ns_steps):
        gram = _round_bfloat16(x @ x.T, xp)
        gram_update = _round_bfloat16(b * gram + c * (gram @ gram), xp)
        x = _round_bfloat16(a * x + gram_update @ x, xp)
    return x.T if tall else x


def _adjust_lr(lr: float, adjust_lr_fn: str | None, param_shape) -> float:
    """lr scaled for the shape (A, B): by sqrt(max(1, A / B)) ('original', Keller Jordan's), or by
    0.2 sqrt(max(A, B)) ('match_rms_adamw', Moonshot's: the update's RMS then matches AdamW's)."""
    rows, cols = param_shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, rows / cols))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(rows, cols))
    else:
        ratio = 1.0
    return lr * ratio


class Muon(Optimizer):
    """Implements Muon for 2-d parameters (give biases and embeddings to another optimizer):

        B = lerp(B, g, 1 - momentum);  u = lerp(g, B, momentum) (nesterov) or B
        O = NewtonSchulz(u);  p = p * (1 - lr * weight_decay) - adjusted_lr * O
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, weight_decay: float = 0.1, momentum: float = 0.95,
                 nesterov: bool = True, ns_coefficients: tuple = (DEFAULT_A, DEFAULT_B, DEFAULT_C), eps: float = EPS,
                 ns_steps: int = DEFAULT_NS_STEPS, adjust_lr_fn: str | None = None) -> None:
        _check_tensor_hparam(lr, "lr")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ["original", "match_rms_adamw"]:
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                        ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(f"Muon only supports 2D parameters whereas we found a parameter with size: "
                                     f"{p.size()}")

    def step(self, closure: Callable | None = None):
        """One Muon update of every parameter that has a gradient; returns the closure's loss."""
        loss = _eval_closure(closure)
        for group in self.param_groups:
            lr = _as_float(group["lr"])
            momentum, weight_decay = group["momentum"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                xp = p.device.xp
                grad = p.grad._data
                if grad.ndim != 2:
                    raise ValueError("Param gradient must be a 2D matrix")
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = _zeros_state(p.grad)
                buf = state["momentum_buffer"]._data
                _lerp_(buf, grad, 1 - momentum, xp)
                if group["nesterov"]:
                    update = grad.copy()
                    _lerp_(update, buf, momentum, xp)
                else:
                    update = buf
                ortho = _zeropower_via_newtonschulz(update, group["ns_coefficients"], group["ns_steps"],
                                                    group["eps"], xp)
                adjusted_lr = _adjust_lr(lr, group["adjust_lr_fn"], p.shape)
                p._data *= 1 - lr * weight_decay
                p._data += (-adjusted_lr) * ortho.astype(p._data.dtype)
                p._vc[0] += 1
        return loss
