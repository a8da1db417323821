"""torch.fft: discrete Fourier transforms on the backend's FFT (NumPy's pocketfft, CuPy's cuFFT).

Every transform is one of three kinds, as in PyTorch:

    c2c   complex (or real) in, complex out, all bins         fft, ifft, fft2, ifft2, fftn, ifftn
    r2c   real in, the non-negative half of the last dim out   rfft*, and ihfft* (conjugated)
    c2r   a Hermitian half in, real out                        irfft*, and hfft* (of the conjugate)

A call becomes a `_Transform`: the input is zero-padded or trimmed to the signal sizes `s` along the
transformed dims, then transformed with a scale set by `norm`. As a map of real vector spaces (a complex
number is two reals) each transform is linear, and PyTorch's gradient of a real loss with respect to a
complex tensor is dL/d(re) + i dL/d(im), so the gradient of a transform is its adjoint for the real
inner product Re(sum(conj(u) v)):

    c2c   the opposite transform with the adjoint scale ("backward" <-> "forward", "ortho" stays),
          then the padding undone (trimmed back, or zeros where the input was trimmed); its real
          part when the input was real
    r2c   the half spectrum put back into a full one with zeros for the other bins, the inverse c2c
          with the adjoint scale, its real part (PyTorch's fft_r2c_backward); computed as the c2r
          transform of the half spectrum with its doubled bins halved, which is the same map
    c2r   r2c of the gradient with the adjoint scale, the bins that stand for two conjugate bins
          (all but bin 0 and, for an even length, bin n/2) doubled (PyTorch's fft_c2r_backward)

Conjugation is real-linear and its own adjoint, so hfft/ihfft only add a conj on both sides. The
gradient is recorded with `linear_map`, whose own gradient is the forward transform again, so
gradients of any order work.
"""
from __future__ import annotations

import operator

import numpy as np

from .. import _dtype
from ._util import Node, Tensor, _GradMode, _make, record, type_word, wrap_dim
from .conv import array_module, linear_map
from .deferred import begin_write

__all__ = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2",
           "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn", "fftfreq", "rfftfreq", "fftshift", "ifftshift"]

_NORMS = (None, "backward", "forward", "ortho")
# the scale of a transform's adjoint: the unscaled DFT's adjoint is the unscaled inverse DFT
_ADJOINT_NORM = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


# ---- the arrays ----------------------------------------------------------------------------------------
def _resize(a, axes: tuple, sizes: tuple):
    """`a` zero-padded or trimmed at the end of each axis in `axes` to the matching size in `sizes`."""
    if all(a.shape[ax] == n for ax, n in zip(axes, sizes)):
        return a
    shape, keep = list(a.shape), [slice(None)] * a.ndim
    for ax, n in zip(axes, sizes):
        shape[ax] = n
        keep[ax] = slice(0, min(n, a.shape[ax]))
    keep = tuple(keep)
    out = array_module(a).zeros(tuple(shape), dtype=a.dtype)
    out[keep] = a[keep]
    return out


def _along(a, axis: int, sl: slice):
    return a[(slice(None),) * axis + (sl,)]


def _c2r_array(h, axes: tuple, sizes: tuple, norm: str):
    """The real signal of the half spectrum h (sizes: the signal's; h's last axis holds sizes[-1] // 2 + 1
    bins): the inverse c2c over the other axes, then a 1-D c2r that reads only the real parts of bin 0
    and (even length) bin n/2. pocketfft's irfftn does exactly this; cuFFT leaves a non-Hermitian input
    undefined, so those imaginary parts are dropped here, and every backend computes the same map
    (the one whose adjoint the gradients are)."""
    xp, n, last = array_module(h), sizes[-1], axes[-1]
    if len(axes) > 1:
        h = xp.fft.ifftn(h, axes=axes[:-1], norm=norm)
    else:
        h = h.copy()
    for k in ((0, n // 2) if n % 2 == 0 and n > 1 else (0,)):
        _along(h, last, slice(k, k + 1))[...] = _along(h, last, slice(k, k + 1)).real
    return xp.fft.irfft(h, n=n, axis=last, norm=norm)


class _Transform:
    """One FFT call as a real-linear map on backend arrays: `apply` is the op, `adjoint` its gradient.

    kind: "c2c", "r2c" or "c2r"; axes: the transformed dims (the last is the halved one for r2c and
    c2r); sizes: the signal length along each (for c2r the last is the real output's length);
    in_sizes: the input's sizes along axes; norm: the scale of the transform itself; inverse: c2c's
    direction; conj: conjugate the complex side (ihfft's output, hfft's input); in_dtype/out_dtype:
    NumPy dtypes of input and result.
    """

    def __init__(self, kind: str, axes: tuple, sizes: tuple, in_sizes: tuple, norm: str, in_dtype, out_dtype,
                 *, inverse: bool = False, conj: bool = False):
        self.kind, self.axes, self.sizes, self.in_sizes, self.norm = kind, axes, sizes, in_sizes, norm
        self.in_dtype, self.out_dtype, self.inverse, self.conj = in_dtype, out_dtype, inverse, conj

    def _half(self) -> tuple:
        """The sizes of the half spectrum along axes (c2r's input, r2c's output)."""
        return self.sizes[:-1] + (self.sizes[-1] // 2 + 1,)

    def apply(self, a):
        xp, axes, kind = array_module(a), self.axes, self.kind
        if kind == "c2c":
            a = _resize(a, axes, self.sizes)
            if not axes:  # fftn(x, dim=()): nothing to transform, the input as complex
                return a.astype(self.out_dtype)
            if a.dtype.kind != "c":  # (NumPy's c2c of a real array is ~2x slower than of its complex copy)
                a = a.astype(self.out_dtype)
            out = (xp.fft.ifftn if self.inverse else xp.fft.fftn)(a, axes=axes, norm=self.norm)
        elif kind == "r2c":
            out = xp.fft.rfftn(_resize(a, axes, self.sizes), axes=axes, norm=self.norm)
            if self.conj:
                out = xp.conj(out)
        else:
            if a.dtype.kind != "c":  # a real half spectrum: its imaginary parts are zero
                a = a.astype(_complex_dtype(a))
            if self.conj:
                a = xp.conj(a)
            out = _c2r_array(_resize(a, axes, self._half()), axes, self.sizes, self.norm)
        # (NumPy before 2.0 computes float32 in double precision: PyTorch's result dtype either way)
        return out.astype(self.out_dtype, copy=False)

    def adjoint(self, g):
        xp, axes, kind = array_module(g), self.axes, self.kind
        adjoint_norm = _ADJOINT_NORM[self.norm]
        if kind == "c2c":
            if axes:
                g = (xp.fft.fftn if self.inverse else xp.fft.ifftn)(g, axes=axes, norm=adjoint_norm)
            g = _resize(g, axes, self.in_sizes)
            if self.in_dtype.kind != "c":
                g = g.real
        elif kind == "r2c":
            # Re(inverse c2c of g with zeros for the bins the half left out) is a c2r transform of g
            # with its doubled bins halved: c2r counts each of those twice (as itself and its mirror
            # image) and reads only the real parts of bin 0 and n/2, as Re() does. Half the work.
            n, last = self.sizes[-1], axes[-1]
            g = (xp.conj(g) if self.conj else g.copy()).astype(_complex_dtype(g), copy=False)
            doubled = n - (n // 2 + 1)
            if doubled > 0:
                _along(g, last, slice(1, 1 + doubled))[...] *= 0.5
            g = _resize(_c2r_array(g, axes, self.sizes, adjoint_norm), axes, self.in_sizes)
        else:
            n, last = self.sizes[-1], axes[-1]
            g = xp.fft.rfftn(g, axes=axes, norm=adjoint_norm)
            doubled = n - (n // 2 + 1)  # bins 1 .. that stand for themselves and their mirror image
            if doubled > 0:
                _along(g, last, slice(1, 1 + doubled))[...] *= 2
            g = _resize(g, axes, self.in_sizes)
            if self.in_dtype.kind != "c":
                g = g.real
            elif self.conj:
                g = xp.conj(g)
        return xp.ascontiguousarray(g).astype(self.in_dtype, copy=False)


# ---- the graph -----------------------------------------------------------------------------------------
class _FftBackward(Node):
    """The adjoint of the recorded transform (see the module docstring)."""

    def __init__(self, x: Tensor, transform: _Transform):
        super().__init__((x,), ())
        self.transform = transform

    def backward(self, g):
        t = self.transform
        return (linear_map(g, t.adjoint, t.apply),)


class FftC2CBackward0(_FftBackward):
    pass


class FftR2CBackward0(_FftBackward):
    pass


class FftC2RBackward0(_FftBackward):
    pass


class ConjBackward0(_FftBackward):
    """ifft and ihfft of a real input: PyTorch computes them as the conjugate of a forward r2c, so
    its outermost node is ConjBackward0; here one node does both."""


def _run(x: Tensor, a, transform: _Transform, node: type, out: Tensor | None, name: str) -> Tensor:
    grad = _GradMode.enabled and x._requires_grad
    if grad and out is not None:
        # PyTorch names the kernel: a real input's c2c transform is its r2c one
        kind = "r2c" if node in (FftR2CBackward0, ConjBackward0) else transform.kind
        raise RuntimeError(f"_fft_{kind}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    result = _make(transform.apply(a), x.device)
    if grad:
        record(result, node(x, transform))
    if out is not None:
        return _into(out, result, name)
    return result


def _into(out: Tensor, result: Tensor, name: str) -> Tensor:
    """fft(..., out=out): `out` resized to the result and filled with it."""
    begin_write(out)
    want_complex = result.dtype.is_complex
    if out.dtype.is_complex != want_complex:
        kind = "complex" if want_complex else "floating point"
        raise RuntimeError(f"{name} expects a {kind} output tensor, but got {type_word(out._data.dtype)}")
    if out._data.shape != result._data.shape:  # (PyTorch's resize_ of an out tensor)
        out._data = out.device.xp.empty(result._data.shape, dtype=out._data.dtype)
    out._data[...] = result._data
    out._vc[0] += 1
    return out


# ---- arguments -----------------------------------------------------------------------------------------
def _check_norm(norm, op: str) -> str:
    if norm is not None and not isinstance(norm, str):
        raise TypeError(f"fft_{op}(): argument 'norm' must be str, not {type(norm).__name__}")
    if norm not in _NORMS:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm or "backward"


def _check_points(n: int) -> int:
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return n


def _int_arg(value, op: str, arg: str) -> int:
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"fft_{op}(): argument '{arg}' must be int, not {type(value).__name__}")
    return operator.index(value)


def _operand(x: Tensor, op: str, *, real: bool = False, real_message: str | None = None):
    """x's array in a dtype the transforms take: integers and bools as the default float dtype (as
    PyTorch promotes them); half precision is refused, as by PyTorch's CPU kernels."""
    d = x._data
    kind = d.dtype.kind
    if kind in "biu":
        return d.astype(_dtype.get_default_dtype().np)
    if kind == "c":
        if real:
            raise RuntimeError(real_message or f"{op} expects a real input tensor, but got {type_word(d.dtype)}")
        return d
    if d.dtype.itemsize < 4:  # float16, bfloat16
        raise RuntimeError(f"Unsupported dtype {type_word(d.dtype)}")
    return d


def _complex_dtype(a):
    """The complex NumPy dtype of an array's precision."""
    if a.dtype.kind == "c":
        return a.dtype
    return np.dtype(np.complex64) if a.dtype.itemsize == 4 else np.dtype(np.complex128)


def _real_dtype(a):
    """The real NumPy dtype of an array's precision."""
    if a.dtype.kind != "c":
        return a.dtype
    return np.dtype(np.float32) if a.dtype.itemsize == 8 else np.dtype(np.float64)


def _one_dim(x: Tensor, n, dim, op: str):
    """(axes, n or None) of a 1-D transform's arguments."""
    if x._data.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    axis = wrap_dim(_int_arg(dim, op, "dim"), x._data.ndim)
    return (axis,), (None if n is None else _int_arg(n, op, "n"))


def _n_dims(x: Tensor, s, dim, op: str):
    """PyTorch's canonical (axes, sizes) of an n-D transform's s and dim: s alone means the last
    len(s) dims, dim alone their full sizes, neither every dim; -1 in s keeps that dim's size."""
    ndim, shape = x._data.ndim, x._data.shape
    if dim is not None:
        dims = (dim,) if hasattr(dim, "__index__") else tuple(dim)
        axes = tuple(wrap_dim(_int_arg(d, op, "dim"), ndim) for d in dims)
        if len(set(axes)) != len(axes):
            raise RuntimeError("FFT dims must be unique")
    if s is not None:
        s = (s,) if hasattr(s, "__index__") else tuple(s)
        s = tuple(_int_arg(v, op, "s") for v in s)
        if dim is not None and len(s) != len(axes):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
        if dim is None:
            if len(s) > ndim:
                raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has {ndim} dimensions.")
            axes = tuple(range(ndim - len(s), ndim))
        sizes = tuple(shape[ax] if v == -1 else v for ax, v in zip(axes, s))
        for v in sizes:
            _check_points(v)
        return axes, sizes, True
    if dim is None:
        axes = tuple(range(ndim))
    return axes, tuple(shape[ax] for ax in axes), False


# ---- the transforms ------------------------------------------------------------------------------------
def _c2c(x: Tensor, axes, sizes, norm, inverse: bool, out, name: str, node=None) -> Tensor:
    a = _operand(x, name)
    for v in sizes:
        _check_points(v)
    in_sizes = tuple(a.shape[ax] for ax in axes)
    t = _Transform("c2c", axes, tuple(sizes), in_sizes, _check_norm(norm, name), a.dtype, _complex_dtype(a),
                   inverse=inverse)
    if node is None:
        node = FftC2CBackward0 if a.dtype.kind == "c" else FftR2CBackward0
    return _run(x, a, t, node, out, name)


def _r2c(x: Tensor, axes, sizes, norm, out, name: str, *, conj: bool = False, node=FftR2CBackward0,
         real_message=None) -> Tensor:
    a = _operand(x, name, real=True, real_message=real_message)
    if not axes:
        raise RuntimeError(f"{name} must transform at least one axis")
    for v in sizes:
        _check_points(v)
    norm = _check_norm(norm, name)
    in_sizes = tuple(a.shape[ax] for ax in axes)
    t = _Transform("r2c", axes, tuple(sizes), in_sizes, _ADJOINT_NORM[norm] if conj else norm, a.dtype,
                   _complex_dtype(a), conj=conj)
    return _run(x, a, t, node, out, name)


def _c2r(x: Tensor, axes, sizes, last_size, norm, out, name: str, *, conj: bool = False) -> Tensor:
    """sizes: the signal sizes of axes[:-1]; last_size: the real output's length along axes[-1] (None:
    2 (m - 1) for an input of m bins)."""
    a = _operand(x, name)
    if not axes:
        raise RuntimeError(f"{name} must transform at least one axis")
    if last_size is None:
        last_size = 2 * (a.shape[axes[-1]] - 1)
    for v in tuple(sizes) + (last_size,):
        _check_points(v)
    norm = _check_norm(norm, name)
    in_sizes = tuple(a.shape[ax] for ax in axes)
    t = _Transform("c2r", axes, tuple(sizes) + (last_size,), in_sizes, _ADJOINT_NORM[norm] if conj else norm,
                   a.dtype, _real_dtype(a), conj=conj)
    return _run(x, a, t, FftC2RBackward0, out, name)


def _size_or_n(x: Tensor, axes, n):
    return (x._data.shape[axes[0]] if n is None else n,)


def fft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out=None) -> Tensor:
    """The 1-D discrete Fourier transform along dim (length n: zero-padded or trimmed)."""
    axes, n = _one_dim(input, n, dim, "fft")
    return _c2c(input, axes, _size_or_n(input, axes, n), norm, False, out, "fft")


def ifft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out=None) -> Tensor:
    """The 1-D inverse discrete Fourier transform along dim."""
    axes, n = _one_dim(input, n, dim, "ifft")
    node = FftC2CBackward0 if input.dtype.is_complex else ConjBackward0
    return _c2c(input, axes, _size_or_n(input, axes, n), norm, True, out, "ifft", node)


def rfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out=None) -> Tensor:
    """The 1-D transform of a real signal: bins 0 .. n // 2 of fft (the rest are their conjugates)."""
    axes, n = _one_dim(input, n, dim, "rfft")
    return _r2c(input, axes, _size_or_n(input, axes, n), norm, out, "rfft")


def irfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out=None) -> Tensor:
    """The inverse of rfft: a real signal of length n (default 2 (m - 1)) from m half-spectrum bins."""
    axes, n = _one_dim(input, n, dim, "irfft")
    return _c2r(input, axes, (), n, norm, out, "irfft")


def hfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out=None) -> Tensor:
    """The forward transform of a Hermitian-symmetric signal given by its first half: real, length n."""
    axes, n = _one_dim(input, n, dim, "hfft")
    return _c2r(input, axes, (), n, norm, out, "hfft", conj=True)


def ihfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out=None) -> Tensor:
    """The inverse of hfft: the first n // 2 + 1 bins of ifft of a real signal."""
    axes, n = _one_dim(input, n, dim, "ihfft")
    return _r2c(input, axes, _size_or_n(input, axes, n), norm, out, "ihfft", conj=True, node=ConjBackward0)


def fftn(input: Tensor, s=None, dim=None, norm: str | None = None, *, out=None) -> Tensor:
    """The n-D transform over dim (all dims by default), signal sizes s."""
    axes, sizes, _ = _n_dims(input, s, dim, "fftn")
    return _c2c(input, axes, sizes, norm, False, out, "fftn", FftC2CBackward0)


def ifftn(input: Tensor, s=None, dim=None, norm: str | None = None, *, out=None) -> Tensor:
    """The n-D inverse transform over dim (all dims by default)."""
    axes, sizes, _ = _n_dims(input, s, dim, "ifftn")
    return _c2c(input, axes, sizes, norm, True, out, "ifftn", FftC2CBackward0)


def rfftn(input: Tensor, s=None, dim=None, norm: str | None = None, *, out=None) -> Tensor:
    """The n-D transform of a real signal, the last dim halved as in rfft."""
    axes, sizes, _ = _n_dims(input, s, dim, "rfftn")
    return _r2c(input, axes, sizes, norm, out, "rfftn",
                real_message=f"rfftn expects a real-valued input tensor, but got {_word(input)}")


def irfftn(input: Tensor, s=None, dim=None, norm: str | None = None, *, out=None) -> Tensor:
    """The inverse of rfftn; the last dim's output length is s[-1] (default 2 (m - 1))."""
    axes, sizes, given = _n_dims(input, s, dim, "irfftn")
    return _c2r(input, axes, sizes[:-1], sizes[-1] if given and axes else None, norm, out, "irfftn")


def hfftn(input: Tensor, s=None, dim=None, norm: str | None = None, *, out=None) -> Tensor:
    """The n-D transform of a Hermitian-symmetric signal given by the half of its last dim: real."""
    axes, sizes, given = _n_dims(input, s, dim, "hfftn")
    return _c2r(input, axes, sizes[:-1], sizes[-1] if given and axes else None, norm, out, "hfftn", conj=True)


def ihfftn(input: Tensor, s=None, dim=None, norm: str | None = None, *, out=None) -> Tensor:
    """The inverse of hfftn: the last dim's first half of ifftn of a real signal."""
    axes, sizes, _ = _n_dims(input, s, dim, "ihfftn")
    return _r2c(input, axes, sizes, norm, out, "ihfftn", conj=True, node=FftC2CBackward0,
                real_message=f"Only supports floating-point dtypes, but found: {_word(input)}")


def _word(x: Tensor) -> str:
    return type_word(x._data.dtype)


def fft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None) -> Tensor:
    return fftn(input, s, dim, norm, out=out)


def ifft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None) -> Tensor:
    return ifftn(input, s, dim, norm, out=out)


def rfft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None) -> Tensor:
    return rfftn(input, s, dim, norm, out=out)


def irfft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None) -> Tensor:
    return irfftn(input, s, dim, norm, out=out)


def hfft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None) -> Tensor:
    return hfftn(input, s, dim, norm, out=out)


def ihfft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None) -> Tensor:
    return ihfftn(input, s, dim, norm, out=out)


# ---- helpers -------------------------------------------------------------------------------------------
def fftfreq(n: int, d: float = 1.0, *, out=None, dtype=None, layout=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """The sample frequencies of fft's bins: [0, 1, ..., (n - 1) // 2, -(n // 2), ..., -1] / (d n)."""
    return _frequencies(n, d, False, out, dtype, device, requires_grad)


def rfftfreq(n: int, d: float = 1.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """The sample frequencies of rfft's bins: [0, 1, ..., n // 2] / (d n)."""
    return _frequencies(n, d, True, out, dtype, device, requires_grad)


def _frequencies(n: int, d: float, half: bool, out, dtype, device, requires_grad: bool) -> Tensor:
    from .creation import _finish

    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    if dtype is None:
        dtype = out.dtype if out is not None else _dtype.get_default_dtype()
    k = np.arange(n // 2 + 1 if half else n, dtype=dtype.np)
    if not half:
        k[(n + 1) // 2:] -= n
    # PyTorch multiplies in the tensor's dtype by the scalar 1 / (n d), rounded to that dtype (inf for
    # n = 0, so rfftfreq(0) is [nan])
    scale = 1.0 / (n * d) if n * d else float("inf")
    with np.errstate(invalid="ignore"):
        freqs = k * dtype.np.type(scale)
    result = _finish(freqs, device, requires_grad)
    if out is not None:
        return _into(out, result, "fftfreq")
    return result


def _shift_dims(x: Tensor, dim) -> tuple:
    if dim is None:
        dims = tuple(range(x._data.ndim))
    else:
        dims = (dim,) if hasattr(dim, "__index__") else tuple(dim)
        dims = tuple(wrap_dim(int(d), x._data.ndim) for d in dims)
    if not dims:  # (a 0-d tensor: PyTorch's roll refuses no shifts)
        raise RuntimeError("`shifts` required")
    return dims


def fftshift(input: Tensor, dim=None) -> Tensor:
    """The zero-frequency bin moved to the middle of each dim in dim (all by default): a roll by size // 2."""
    from .shape import roll

    dims = _shift_dims(input, dim)
    return roll(input, [input._data.shape[d] // 2 for d in dims], dims)


def ifftshift(input: Tensor, dim=None) -> Tensor:
    """The inverse of fftshift: a roll by -(size // 2)."""
    from .shape import roll

    dims = _shift_dims(input, dim)
    return roll(input, [(input._data.shape[d] + 1) // 2 for d in dims], dims)
