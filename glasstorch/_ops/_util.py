"""Helpers shared by every op family: operand preparation, broadcasting, recording graph nodes."""
from __future__ import annotations

import functools
import math
import numbers

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _make
from ..autograd.graph import Node, _GradMode

__all__ = ["Tensor", "Node", "_GradMode", "_make", "wrap_out", "needs_grad", "sum_to", "prepare", "wrap_dim", "wrap_dims",
           "broadcast_error", "scalar_value", "record", "type_word", "c_type_name", "not_implemented", "check_divisor",
           "device_mismatch", "result_device", "wrap_int",
           "fill_value", "numpy_name"]


def needs_grad(*tensors) -> bool:
    """Whether an op on these inputs must record a graph node."""
    if not _GradMode.enabled:
        return False
    for t in tensors:
        if type(t) is not float and getattr(t, "_requires_grad", False):
            return True
    return False


def record(out: Tensor, node: Node) -> Tensor:
    out.grad_fn = node
    out._requires_grad = True
    return out


wrap_out = _make


def scalar_value(x):
    """A Python number from a Python/NumPy number (NumPy scalars would widen float32 math)."""
    if isinstance(x, np.generic):
        return x.item()
    return x


def device_mismatch(first, second) -> RuntimeError:
    """PyTorch's error for tensors of one op on two devices."""
    return RuntimeError("Expected all tensors to be on the same device, but found at least two "
                        f"devices, {first} and {second}!")


def _same_device(a: Tensor, b: Tensor):
    if a.device is not b.device and a.device != b.device:
        if b._data.ndim == 0 and b.device.type == "cpu":
            return a.device.backend.from_numpy(b._data)
        if a._data.ndim == 0 and a.device.type == "cpu":
            return None
        raise device_mismatch(a.device, b.device)
    return b._data


def result_device(a: Tensor, ad, b):
    """The device of a result of `prepare(a, b)`: a's, or b's when a was a CPU scalar tensor moved to it."""
    return a.device if type(ad) is type(a._data) else b.device


_PY_NUMBERS = (int, float, bool)


def prepare(a: Tensor, b, out_dtype: _dtype.dtype | None = None):
    """Arrays for a binary op of tensor `a` and tensor-or-number `b`, promoted as PyTorch does.

    Returns (a_array, b_array_or_number, result dtype).
    """
    ad = a._data
    if type(b) is float and ad.dtype.kind == "f":  # `x * 0.5`, the commonest case, first
        return ad, b, None
    if type(b) is Tensor or isinstance(b, Tensor):
        bd = _same_device(a, b)
        if bd is None:  # a is a cpu scalar tensor next to a cuda tensor
            ad = b.device.backend.from_numpy(ad)
            bd = b._data
        if ad.dtype is bd.dtype or ad.dtype == bd.dtype:
            return ad, bd, None
        rt = _dtype.result_type(a, b).np
        if ad.dtype != rt:
            ad = ad.astype(rt)
        if bd.dtype != rt:
            bd = bd.astype(rt)
        return ad, bd, None
    if type(b) in _PY_NUMBERS or isinstance(b, numbers.Number):  # (an ABC: slow, so tried last)
        b = scalar_value(b)
        kind = ad.dtype.kind
        if kind == "f" or (kind in "iu" and type(b) is int) or type(b) is bool:
            return ad, b, None
        # int/bool tensor with a float (or bool tensor with an int): compute in the result dtype
        rt = _dtype.result_type(a, b).np
        return ad.astype(rt), b, None
    if isinstance(b, np.ndarray):
        from .creation import from_numpy

        return prepare(a, from_numpy(b))
    raise TypeError(f"unsupported operand type(s): 'Tensor' and '{type(b).__name__}'")


def broadcast_error(sa, sb) -> RuntimeError:
    """PyTorch's message for shapes that do not broadcast."""
    n = max(len(sa), len(sb))
    pa = (1,) * (n - len(sa)) + tuple(sa)
    pb = (1,) * (n - len(sb)) + tuple(sb)
    for i in range(n - 1, -1, -1):
        if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
            return RuntimeError(f"The size of tensor a ({pa[i]}) must match the size of tensor b "
                                f"({pb[i]}) at non-singleton dimension {i}")
    return RuntimeError(f"shapes {list(sa)} and {list(sb)} cannot be broadcast together")


def sum_to(g: Tensor, shape: tuple) -> Tensor:
    """Undo broadcasting: sum `g` down to `shape` (the one unbroadcast of the library)."""
    gshape = g._data.shape
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    dims = _summed_dims(gshape, shape)
    if not _GradMode.enabled:  # no graph of the gradient wanted: sum the array directly
        d = g._data.sum(axis=dims, keepdims=True) if dims else g._data
        return _make(d.reshape(shape) if lead else d, g.device)
    from .reduction import sum as _sum

    out = _sum(g, dims, keepdim=True) if dims else g
    if lead:
        from .shape import reshape

        out = reshape(out, shape)
    return out


@functools.lru_cache(maxsize=1024)  # a training loop asks the same few shape pairs every step
def _summed_dims(gshape: tuple, shape: tuple) -> tuple:
    """The dims of a gradient of shape `gshape` that broadcasting added or stretched from `shape`."""
    lead = len(gshape) - len(shape)
    return tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1)


def numpy_name(value, alias, fn: str, default=None, alias_name: str = "axis"):
    """`alias` (NumPy's `axis`/`keepdims`) standing for `value` (`dim`/`keepdim`), as torch's parser maps them.

    Callers test `alias is not None` first, so the everyday call pays one comparison. A `value` still at its
    `default` counts as not given (an explicit default next to the alias cannot be told apart). Where the dim is
    required, callers also come here when it is None, to get torch's missing-argument error if `alias` is too.
    """
    if alias is None:
        raise TypeError(f'{fn}() missing 1 required positional arguments: "dim"')
    if not (value is default or (type(value) is type(default) and value == default)):
        raise TypeError(f"{fn}() got an unexpected keyword argument '{alias_name}'")
    return alias


def wrap_dim(dim: int, ndim: int) -> int:
    """A dim index in range(ndim), negative dims counting from the end (0-dim counts as 1)."""
    n = ndim if ndim > 0 else 1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n if ndim > 0 else 0


def wrap_dims(dim, ndim: int):
    """None (every dim) or a sorted tuple of wrapped dims, from an int, a sequence, or None."""
    if dim is None:
        return None
    if isinstance(dim, int) or hasattr(dim, "__index__") and not isinstance(dim, (tuple, list)):
        return (wrap_dim(int(dim), ndim),)
    dims = tuple(wrap_dim(int(d), ndim) for d in dim)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"dim {dims[0]} appears multiple times in the list of dims")
    return tuple(sorted(dims)) if dims else None


# ---- PyTorch's words for dtype errors ---------------------------------------------------------------
_TYPE_WORDS = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
               "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool", "bfloat16": "BFloat16",
               "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def type_word(np_dtype) -> str:
    """PyTorch's short name of a dtype in its messages: 'Float', 'Long', 'Bool', ..."""
    return _TYPE_WORDS[np.dtype(np_dtype).name]


def not_implemented(kernel: str, np_dtype) -> NotImplementedError:
    """PyTorch's error for a kernel that has no version for this dtype."""
    return NotImplementedError(f'"{kernel}" not implemented for \'{type_word(np_dtype)}\'')


def check_divisor(divisor) -> None:
    """Integer division by zero is an error in PyTorch (NumPy would silently give 0)."""
    if isinstance(divisor, np.ndarray) or hasattr(divisor, "dtype"):
        if divisor.dtype.kind in "iub" and not divisor.all():
            raise RuntimeError("ZeroDivisionError")
    elif type(divisor) in (int, bool) and divisor == 0:
        raise RuntimeError("ZeroDivisionError")


def wrap_int(value: int, np_dtype):
    """A Python int outside an integer dtype's range, wrapped around as C (and PyTorch) does.

    A NumPy scalar, not a 0-d array: CuPy takes scalars next to its arrays but refuses host arrays."""
    return np.array(value).astype(np_dtype)[()]


_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int",
            "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool",
            "bfloat16": "c10::BFloat16", "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def c_type_name(np_dtype) -> str:
    """The C++ name of a dtype, which some PyTorch messages print ('long int', 'unsigned char')."""
    return _C_NAMES[np.dtype(np_dtype).name]


_C_TYPES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t",
            "bool": "bool", "float16": "c10::Half", "float32": "float", "float64": "double"}


def fill_value(value, np_dtype):
    """A Python number converted for storing into an array of `np_dtype` (fill_, masked_fill, full).

    Integers may wrap around by at most one range (-1 -> 255 in uint8), as in PyTorch; anything
    further, or a float that does not fit an integer dtype, is an error rather than garbage.
    """
    info = np.iinfo(np_dtype) if np.dtype(np_dtype).kind in "iu" else None
    if info is None or isinstance(value, (bool, np.bool_)):
        return value
    top = info.max
    if isinstance(value, (int, np.integer)):
        ok = info.min <= value <= top or (info.min == 0 and -top <= value < 0)
    else:
        ok = math.isfinite(value) and info.min <= value <= top
    if not ok:
        raise RuntimeError(f"value cannot be converted to type {_C_TYPES[np.dtype(np_dtype).name]} without overflow")
    return wrap_int(int(value), np_dtype) if isinstance(value, (int, np.integer)) else value
