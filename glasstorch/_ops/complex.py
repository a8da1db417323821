"""Complex tensors: building them (complex, polar, view_as_complex), taking them apart (real, imag,
view_as_real, angle) and conj.

Arithmetic on complex64/complex128 needs nothing of its own: the backend's ufuncs handle complex
arrays, and `_dtype.result_type` promotes as PyTorch does (float64 + complex64 -> complex128).
These ops record no graph: glasstorch's backward formulas are for real numbers (see
autograd/engine.py, which refuses a complex leaf).
"""
from __future__ import annotations

import math

from .. import _dtype
from ._util import Tensor, _make, type_word

_FLOATS = ("float16", "float32", "float64")


def _view(data, of: Tensor) -> Tensor:
    """A tensor viewing `data`, which shares `of`'s memory: it shares the version counter too."""
    out = _make(data, of.device)
    out._vc = of._vc
    return out


def is_complex(x: Tensor) -> bool:
    return x.dtype.is_complex


def complex(real: Tensor, imag: Tensor) -> Tensor:  # noqa: A001  (torch.complex)
    """real + i*imag, broadcast; both float tensors of one dtype."""
    rd, idt = real.dtype, imag.dtype
    if rd.name not in _FLOATS or idt.name not in _FLOATS:
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got "
                           f"{type_word(real._data.dtype)} and {type_word(imag._data.dtype)}")
    if rd is not idt:
        raise RuntimeError(f"Expected object of scalar type {type_word(real._data.dtype)} but got scalar type "
                           f"{type_word(imag._data.dtype)} for second argument")
    out = real._data + 1j * imag._data.astype(rd.to_complex().np)  # (float16 parts: complex64 here)
    return _make(out.astype(rd.to_complex().np, copy=False), real.device)


def polar(abs: Tensor, angle: Tensor) -> Tensor:  # noqa: A002
    """abs * (cos(angle) + i sin(angle))."""
    xp = abs.device.xp
    return complex(_make(abs._data * xp.cos(angle._data), abs.device),
                   _make(abs._data * xp.sin(angle._data), abs.device))


def view_as_real(x: Tensor) -> Tensor:
    """A complex tensor's memory seen as floats, with a last dimension of 2 (real, imag)."""
    if not x.dtype.is_complex:
        raise RuntimeError("view_as_real is only supported for complex tensors")
    # a new last axis of size 1 is contiguous whatever the strides, so the view is always allowed
    return _view(x._data[..., None].view(x.dtype.to_real().np), x)


def view_as_complex(x: Tensor) -> Tensor:
    """A float tensor whose last dimension is (real, imag) pairs, seen as complex numbers."""
    if x.dtype.name not in _FLOATS:
        raise RuntimeError("view_as_complex is only supported for half, float and double tensors, but got a "
                           f"tensor of scalar type: {type_word(x._data.dtype)}")
    d = x._data
    if d.ndim == 0 or d.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if d.strides[-1] != d.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    return _view(d.view(x.dtype.to_complex().np)[..., 0], x)


def real(x: Tensor) -> Tensor:
    """The real parts (a view); a real tensor is its own real part."""
    return _view(x._data.real, x) if x.dtype.is_complex else x


def imag(x: Tensor) -> Tensor:
    """The imaginary parts (a view)."""
    if not x.dtype.is_complex:
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return _view(x._data.imag, x)


def conj(x: Tensor) -> Tensor:
    """The complex conjugate (a copy here; PyTorch makes a lazy view). Real tensors are returned as is."""
    return _make(x.device.xp.conj(x._data), x.device) if x.dtype.is_complex else x


def angle(x: Tensor) -> Tensor:
    """The argument of each element; for real numbers pi where negative, else 0 (nan stays nan)."""
    xp, d = x.device.xp, x._data
    if x.dtype.is_complex:
        return _make(xp.angle(d), x.device)
    if not x.dtype.is_floating_point:
        d = d.astype(_dtype.get_default_dtype().np)
    out = xp.where(d < 0, d.dtype.type(math.pi), d.dtype.type(0))
    return _make(xp.where(d != d, d, out), x.device)
