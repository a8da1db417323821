"""Gradient clipping: clip_grad_norm_ (rescale all gradients together) and clip_grad_value_."""
from __future__ import annotations

import math
from typing import Iterable

from ..._tensor import Tensor, _make
from ...autograd.grad_mode import no_grad

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _as_list(tensors) -> list:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _array_norm(xp, a, p: float):
    """The p-norm of an array (flattened), in the array's dtype."""
    flat = a.reshape(-1)
    if p == 2.0:
        return xp.sqrt(flat @ flat) if flat.dtype.kind == "f" and flat.size else xp.sqrt((flat * flat).sum())
    if math.isinf(p):
        if flat.size == 0:
            return flat.dtype.type(0)
        return xp.abs(flat).max() if p > 0 else xp.abs(flat).min()
    if p == 0:
        return flat.dtype.type((flat != 0).sum())
    return (xp.abs(flat) ** p).sum() ** (1.0 / p)


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """The norm of all the tensors together, as if they were concatenated into one vector."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        from ..._ops.creation import tensor

        return tensor(0.0)
    xp = tensors[0].device.xp
    dtype = tensors[0]._data.dtype
    norms = xp.stack([xp.asarray(_array_norm(xp, t._data, norm_type), dtype=dtype) for t in tensors])
    total = _array_norm(xp, norms, norm_type)
    out = _make(xp.asarray(total, dtype=dtype), tensors[0].device)
    if error_if_nonfinite and not math.isfinite(float(total)):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
                           "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
                           "anyway, set `error_if_nonfinite=False`")
    return out


def clip_grads_with_norm_(parameters, max_norm: float, total_norm: Tensor, foreach=None) -> None:
    """Scale every gradient by min(1, max_norm / (total_norm + 1e-6)), in place."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    total = total_norm._data
    kind = total.dtype.type  # the coefficient is computed in the norm's dtype, as in PyTorch
    coef = total_norm.device.xp.minimum(kind(max_norm) / (total + kind(1e-6)), kind(1.0))
    coef_t = _make(total_norm.device.xp.asarray(coef), total_norm.device)
    with no_grad():
        for g in grads:
            g.mul_(coef_t)


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Rescale the gradients so their total norm is at most max_norm; returns the norm before clipping."""
    parameters = _as_list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        from ..._ops.creation import tensor

        return tensor(0.0)
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, float(max_norm), total, foreach)
    return total


def clip_grad_norm(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach=None) -> Tensor:
    """Deprecated alias of clip_grad_norm_."""
    import warnings

    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
                  FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float, foreach=None) -> None:
    """Clamp every gradient element to [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _as_list(parameters):
            if p.grad is not None:
                p.grad.clamp_(min=-clip_value, max=clip_value)
