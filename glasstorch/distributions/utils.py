"""Helpers shared by the distributions: parameter broadcasting, probs <-> logits, lazy properties."""
from __future__ import annotations

import numbers

import numpy as np

from .. import _dtype
from .._ops import creation, pointwise as P, reduction as R, shape as S
from .._tensor import Size, Tensor
from ..autograd.grad_mode import enable_grad

__all__ = ["broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs", "probs_to_logits"]


def broadcast_all(*values) -> tuple:
    """Tensors and numbers broadcast to one shape; numbers become tensors of the first tensor's
    dtype and device (the default dtype when all are numbers)."""
    if not all(isinstance(v, (Tensor, numbers.Number)) for v in values):
        raise ValueError("Input arguments must all be instances of Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    first = next((v for v in values if isinstance(v, Tensor)), None)
    dtype = first.dtype if first is not None else _dtype.get_default_dtype()
    device = first.device if first is not None else None
    tensors = [v if isinstance(v, Tensor) else creation.tensor(v, dtype=dtype, device=device) for v in values]
    return tuple(S.broadcast_tensors(*tensors))


def _standard_normal(shape, dtype, device) -> Tensor:
    return creation.randn(Size(shape), dtype=dtype, device=device)


def _uniform(shape, dtype, device) -> Tensor:
    return creation.rand(Size(shape), dtype=dtype, device=device)


def _sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """value summed over its `dim` rightmost dims."""
    if dim == 0:
        return value
    return R.sum(value.reshape(tuple(value.shape[:value.dim() - dim]) + (-1,)), -1)


def finfo_eps(dtype) -> float:
    return float(np.finfo(dtype.np).eps)


def finfo_tiny(dtype) -> float:
    return float(np.finfo(dtype.np).tiny)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """sigmoid(logits) (binary: log-odds) or softmax over the last dim (categories)."""
    if is_binary:
        return P.sigmoid(logits)
    return R.softmax(logits, -1)


def clamp_probs(probs: Tensor) -> Tensor:
    """probs clamped to [eps, 1 - eps], eps the dtype's machine epsilon."""
    eps = finfo_eps(probs.dtype)
    return P.clamp(probs, eps, 1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """log-odds (binary) or log-probabilities of clamped probs."""
    ps = clamp_probs(probs)
    if is_binary:
        return P.log(ps) - P.log1p(-ps)
    return P.log(ps)


class lazy_property:
    """A property computed on first access and then stored on the instance (with gradients
    recorded even under no_grad, since the cached value outlives that block)."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


def _clamp_values_(x: Tensor, low: float, high: float | None = None) -> Tensor:
    """Clamp a draw's values in place, leaving its gradient path alone (as PyTorch's
    `value.detach().clamp_()`): a draw that underflowed to 0 would otherwise score log_prob -inf."""
    xp = x.device.xp
    d = x._data
    xp.maximum(d, low, out=d)
    if high is not None:
        xp.minimum(d, high, out=d)
    return x
