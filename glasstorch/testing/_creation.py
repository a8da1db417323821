"""torch.testing.make_tensor: a random tensor of a given shape, dtype and device, for tests."""
from __future__ import annotations

import math
import warnings

from .. import _dtype as D
from .._tensor import Tensor

__all__ = ["make_tensor"]

_INTEGRAL = (D.uint8, D.int8, D.int16, D.int32, D.int64)
_FLOATING = (D.float16, D.bfloat16, D.float32, D.float64)
_COMPLEX = (D.complex64, D.complex128)


def _low_high(dtype, low, high, lowest: float, highest: float, default_low: float, default_high: float):
    """The user's [low, high) (or the dtype's default), checked and clamped to what `dtype` holds."""
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low == high and dtype in _FLOATING + _COMPLEX:
        warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or complex types is "
                      "deprecated since 2.1 and will be removed in 2.3. Use `torch.full(...)` instead.",
                      FutureWarning, stacklevel=3)
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest or low >= highest:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), "
                         f"but {dtype} only supports [{lowest}, {highest})")
    low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
    if dtype is D.bool or dtype in _INTEGRAL:
        return math.ceil(low), math.ceil(high)
    return low, high


def make_tensor(*shape, dtype: D.dtype, device, low: float | None = None, high: float | None = None,
                requires_grad: bool = False, noncontiguous: bool = False, exclude_zero: bool = False,
                memory_format=None) -> Tensor:
    """A tensor of `shape` with values drawn uniformly from [low, high) (from glasstorch's generator).

    Defaults: bool [0, 2), unsigned [0, 10), signed integers [-9, 10), floating and complex [-9, 9).
    noncontiguous=True returns every other element of a twice-as-wide last dimension (for two or
    more elements); exclude_zero replaces zeros by 1 (integers, bool) or finfo(dtype).tiny.
    """
    from .._finfo import finfo, iinfo
    from .._ops import creation as C

    if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        shape = shape[0]
    shape = tuple(shape)
    if noncontiguous and memory_format is not None:
        raise ValueError(f"The parameters `noncontiguous` and `memory_format` are mutually exclusive, "
                         f"but got noncontiguous={noncontiguous} and memory_format={memory_format}")
    if requires_grad and (dtype is D.bool or dtype in _INTEGRAL):
        raise ValueError("`requires_grad=True` is not supported for boolean and integral dtypes, "
                         f"but got dtype={dtype}")
    noncontiguous = noncontiguous and math.prod(shape) > 1
    if noncontiguous:
        shape = (*shape[:-1], 2 * shape[-1])
    if dtype is D.bool:
        low, high = _low_high(dtype, low, high, 0, 2, 0, 2)
        result = C.randint(low, high, shape, device=device, dtype=dtype)
    elif dtype in _INTEGRAL:
        info = iinfo(dtype)
        highest = info.max + (1 if dtype is not D.int64 else 0)
        low, high = _low_high(dtype, low, high, info.min, highest, -9, 10)
        result = C.randint(low, high, shape, device=device, dtype=dtype)
    elif dtype in _FLOATING + _COMPLEX:
        info = finfo(dtype)
        low, high = _low_high(dtype, low, high, info.min, info.max, -9, 9)
        real = dtype.to_real() if dtype in _COMPLEX else dtype
        parts = shape + ((2,) if dtype in _COMPLEX else ())
        result = C.empty(parts, device=device, dtype=real)
        if high - low >= info.max:  # the width would overflow: draw half the range and double it
            result.uniform_(low / 2, high / 2).mul_(2)
        else:
            result.uniform_(low, high)
        if dtype in _COMPLEX:
            from .._ops.complex import view_as_complex

            result = view_as_complex(result)
    else:
        raise TypeError(f"The requested dtype '{dtype}' is not supported by torch.testing.make_tensor()."
                        " To request support, file an issue at: https://github.com/pytorch/pytorch/issues")
    if noncontiguous:
        result = result[..., 1::2]
    if exclude_zero:
        result[result == 0] = 1 if (dtype is D.bool or dtype in _INTEGRAL) else finfo(dtype).tiny
    if dtype in _FLOATING + _COMPLEX:
        result.requires_grad = requires_grad
    return result
