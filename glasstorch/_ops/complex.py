"""Complex tensors: building them (complex, polar, view_as_complex), taking them apart (real, imag,
view_as_real, angle) and conj.

Arithmetic on complex64/complex128 needs nothing of its own: the backend's ufuncs handle complex
arrays, and `_dtype.result_type` promotes as PyTorch does (float64 + complex64 -> complex128).
Gradients follow PyTorch's convention for a real loss L: the gradient of a complex tensor z is
dL/d(re z) + i dL/d(im z). Building and splitting complex tensors (complex, view_as_complex,
view_as_real, real, imag, conj) and torch.fft record nodes under it, so real parameters can be
differentiated through complex intermediates. So do the binary ops' nodes (a real operand of a complex
result gets the real part of its gradient; mul and div conjugate the other factor) and abs (x / |x|).
Other formulas (exp, matmul, einsum, ...) are still written for real numbers, and autograd/engine.py
refuses a complex leaf.
"""
from __future__ import annotations

import math

from .. import _dtype
from ._util import Node, Tensor, _GradMode, _make, record, sum_to, type_word
from .conv import array_module, linear_map

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
    result = _make(out.astype(rd.to_complex().np, copy=False), real.device)
    if _GradMode.enabled and (real._requires_grad or imag._requires_grad):
        record(result, ComplexBackward0(real, imag))
    return result


class ComplexBackward0(Node):
    """The real part of the gradient goes to `real`, the imaginary part to `imag` (unbroadcast)."""

    def __init__(self, re: Tensor, im: Tensor):
        super().__init__((re, im), ())
        self.shapes = (re._data.shape, im._data.shape)

    def backward(self, g):
        from .creation import zeros_like

        g_re = _part(g, 0) if g.dtype.is_complex else g
        g_im = _part(g, 1) if g.dtype.is_complex else zeros_like(g)
        return sum_to(g_re, self.shapes[0]), sum_to(g_im, self.shapes[1])


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
    out = _view(x._data[..., None].view(x.dtype.to_real().np), x)
    if _GradMode.enabled and x._requires_grad:
        record(out, ViewAsRealBackward0(x))
    return out


def _pairs_to_complex(a):
    """(..., 2) real pairs -> (...) complex numbers (a new array)."""
    c = array_module(a).ascontiguousarray(a).view({4: "complex64", 8: "complex128"}[a.dtype.itemsize])
    return c[..., 0].copy()


def _complex_to_pairs(c):
    """(...) complex numbers -> (..., 2) real pairs (a new array)."""
    return array_module(c).stack([c.real, c.imag], axis=-1)


class ViewAsRealBackward0(Node):
    def __init__(self, x: Tensor):
        super().__init__((x,), ())

    def backward(self, g):
        return (linear_map(g, _pairs_to_complex, _complex_to_pairs),)


class ViewAsComplexBackward0(Node):
    def __init__(self, x: Tensor):
        super().__init__((x,), ())

    def backward(self, g):
        return (linear_map(g, _complex_to_pairs, _pairs_to_complex),)


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
    out = _view(d.view(x.dtype.to_complex().np)[..., 0], x)
    if _GradMode.enabled and x._requires_grad:
        record(out, ViewAsComplexBackward0(x))
    return out


def _part(x: Tensor, index: int) -> Tensor:
    """The real (0) or imaginary (1) parts of complex x as PyTorch takes them, a select of
    view_as_real: so its grad_fn is SelectBackward0."""
    from .shape import select

    return select(view_as_real(x), -1, index)


def real(x: Tensor) -> Tensor:
    """The real parts (a view); a real tensor is its own real part."""
    if not x.dtype.is_complex:
        return x
    if _GradMode.enabled and x._requires_grad:
        return _part(x, 0)
    return _view(x._data.real, x)


def imag(x: Tensor) -> Tensor:
    """The imaginary parts (a view)."""
    if not x.dtype.is_complex:
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    if _GradMode.enabled and x._requires_grad:
        return _part(x, 1)
    return _view(x._data.imag, x)


def conj(x: Tensor) -> Tensor:
    """The complex conjugate (a copy here; PyTorch makes a lazy view). Real tensors are returned as is."""
    if not x.dtype.is_complex:
        return x
    out = _make(x.device.xp.conj(x._data), x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, ConjBackward0(x))
    return out


def _conj_array(a):
    return array_module(a).conj(a)


class ConjBackward0(Node):
    """Conjugation is real-linear and its own adjoint."""

    def __init__(self, x: Tensor):
        super().__init__((x,), ())

    def backward(self, g):
        return (linear_map(g, _conj_array, _conj_array),)


def angle(x: Tensor) -> Tensor:
    """The argument of each element; for real numbers pi where negative, else 0 (nan stays nan)."""
    xp, d = x.device.xp, x._data
    if x.dtype.is_complex:
        return _make(xp.angle(d), x.device)
    if not x.dtype.is_floating_point:
        d = d.astype(_dtype.get_default_dtype().np)
    out = xp.where(d < 0, d.dtype.type(math.pi), d.dtype.type(0))
    return _make(xp.where(d != d, d, out), x.device)
