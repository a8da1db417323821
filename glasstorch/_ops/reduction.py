"""Reductions (sum, mean, max, var, norm, ...), scans, softmax and sorting."""
from __future__ import annotations

import math

from .. import _dtype
from ..amp.autocast_mode import autocast_op
from ._util import Node, Tensor, _GradMode, _make, not_implemented, numpy_name, record, type_word, wrap_dim, wrap_dims
from . import pointwise as P


class _ReturnTypes(tuple):
    """torch.return_types.* : a named (values, indices) pair with PyTorch's repr."""

    _name = "max"

    def __new__(cls, values, indices):
        return tuple.__new__(cls, (values, indices))

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]

    def __repr__(self) -> str:
        return f"torch.return_types.{self._name}(\nvalues={self[0]!r},\nindices={self[1]!r})"


def _return_type(name):
    return type(name, (_ReturnTypes,), {"_name": name, "__slots__": ()})


max_rt, min_rt, sort_rt, topk_rt = (_return_type(n) for n in ("max", "min", "sort", "topk"))


def _axes(x: Tensor, dim):
    """Axis argument for the backend (None = all) and the wrapped dims tuple."""
    if x._data.ndim == 0:
        if dim is not None:
            wrap_dims(dim, 0)  # 0 and -1 only, each once
        return None, None
    dims = wrap_dims(dim, x._data.ndim)
    return dims, dims


def _keep_shape(in_shape, dims):
    """The reduced shape with keepdim=True."""
    if dims is None:
        return (1,) * len(in_shape)
    return tuple(1 if i in dims else s for i, s in enumerate(in_shape))


def _expand_back(g: Tensor, in_shape, dims, keepdim: bool) -> Tensor:
    """Broadcast a reduced gradient back over the reduced dims."""
    from .shape import expand, reshape

    if not keepdim:
        g = reshape(g, _keep_shape(in_shape, dims))
    return expand(g, in_shape)


def _count(in_shape, dims) -> int:
    n = 1
    for i, s in enumerate(in_shape):
        if dims is None or i in dims:
            n *= s
    return n


_SMALL = 1 << 14  # elements: below this a reduction's gradient is filled in, above it is a broadcast view


class _ReduceBackward(Node):
    def __init__(self, x, saved, dims, keepdim):
        super().__init__((x,), saved)
        self.in_shape = x._data.shape
        self.dims = dims
        self.keepdim = keepdim

    def expand(self, g):
        """g broadcast back over the reduced dims (in_shape)."""
        if _GradMode.enabled:  # create_graph: Tensor ops, so that the result is differentiable
            return _expand_back(g, self.in_shape, self.dims, self.keepdim)
        # otherwise the same two steps straight on the array (loss.sum().backward() starts here)
        d = g._data
        if not self.keepdim:
            d = d.reshape(_keep_shape(self.in_shape, self.dims))
        if d.shape != self.in_shape:
            xp = g.device.xp
            if _count(self.in_shape, None) <= _SMALL:  # filling a small array costs less than a broadcast view
                out = xp.empty(self.in_shape, dtype=d.dtype)
                out[...] = d
                d = out
            else:
                d = xp.broadcast_to(d, self.in_shape)
        return _make(d, g.device)


# ---- sum / mean / prod ----------------------------------------------------------------------------
class SumBackward0(_ReduceBackward):
    def backward(self, g):
        return (self.expand(g),)


class SumBackward1(SumBackward0):
    pass


def _acc_dtype(x: Tensor, dtype):
    """sum/prod of integers and bools accumulate in int64, as PyTorch does."""
    if dtype is not None:
        return _dtype_of(dtype).np
    k = x._data.dtype.kind
    return _dtype.int64.np if k in "iub" else None


def _dtype_of(d):
    from .._tensor import _dtype_arg

    return _dtype_arg(d)


@autocast_op("sum")
def sum(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None) -> Tensor:
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "sum", None)
    if keepdims is not None:
        keepdim = numpy_name(keepdim, keepdims, "sum", False, "keepdims")
    axis, dims = _axes(x, dim)
    acc = _acc_dtype(x, dtype)
    data = x._data.sum(axis=axis, keepdims=keepdim, dtype=acc)
    out = _make(data, x.device)  # (_make turns NumPy's scalar result into a 0-dim array)
    if _GradMode.enabled and x._requires_grad:
        record(out, (SumBackward0 if dim is None else SumBackward1)(x, (), dims, keepdim))
    return out


class MeanBackward0(_ReduceBackward):
    def backward(self, g):
        n = _count(self.in_shape, self.dims)
        # divide before expanding (fewer elements), on the array when no graph is being recorded
        g = g / n if _GradMode.enabled else _make(g._data / n, g.device)
        return (self.expand(g),)


class MeanBackward1(MeanBackward0):
    pass


def mean(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None) -> Tensor:
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "mean", None)
    if keepdims is not None:
        keepdim = numpy_name(keepdim, keepdims, "mean", False, "keepdims")
    if dtype is not None:
        x = x.to(_dtype_of(dtype))
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        name = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                "bool": "Bool"}[x.dtype.name]
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a floating "
                           f"point or complex dtype. Got: {name}")
    axis, dims = _axes(x, dim)
    d = x._data
    if d.dtype.itemsize >= 4 and d.dtype.kind == "f":  # what the backend's mean() does, minus its overhead
        out = _make(d.sum(axis=axis, keepdims=keepdim) / _count(d.shape, dims), x.device)
    else:  # (half precision: mean() sums in float32)
        out = _make(x.device.xp.asarray(d.mean(axis=axis, keepdims=keepdim)), x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, (MeanBackward0 if dim is None else MeanBackward1)(x, (), dims, keepdim))
    return out


class ProdBackward0(_ReduceBackward):
    def backward(self, g):
        x, result = self.saved_tensors
        if x._data.ndim == 0:  # the product of one number is itself: result / x would be nan at 0 or inf
            return (g,)
        dims = self.dims
        g = self.expand(g)
        xp = x.device.xp
        zeros = int((x._data == 0).sum())
        if not zeros:
            return (g * _expand_back(result, self.in_shape, dims, self.keepdim) / x,)
        if dims is None and zeros > 1 and not _GradMode.enabled:  # PyTorch's shortcut: every product of
            return (_make(xp.zeros_like(g._data), g.device),)    # "all the others" holds a zero (nan or not)
        if _GradMode.enabled:
            raise RuntimeError("glasstorch: double backward through prod() of a tensor containing zeros "
                               "is not supported")
        # product of all the other elements, zeros included: exclusive cumprods from both sides
        data = x._data
        axes = list(range(data.ndim)) if dims is None else list(dims)
        moved = xp.moveaxis(data, axes, list(range(len(axes))))
        flat = moved.reshape((-1,) + moved.shape[len(axes):])
        ones = xp.ones_like(flat[:1])
        left = xp.cumprod(xp.concatenate([ones, flat[:-1]]), axis=0)
        right = xp.flip(xp.cumprod(xp.concatenate([ones, xp.flip(flat, 0)[:-1]]), axis=0), 0)
        others = (left * right).reshape(moved.shape)
        others = xp.moveaxis(others, list(range(len(axes))), axes)
        return (g * _make(others, x.device),)


class ProdBackward1(ProdBackward0):
    pass


@autocast_op("prod")
def prod(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None) -> Tensor:
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "prod", None)
    if keepdims is not None:
        keepdim = numpy_name(keepdim, keepdims, "prod", False, "keepdims")
    if isinstance(dim, (tuple, list)):
        raise TypeError("prod() received an invalid combination of arguments: dim must be an int")
    axis, dims = _axes(x, dim)
    data = x._data.prod(axis=axis, keepdims=keepdim, dtype=_acc_dtype(x, dtype))
    out = _make(x.device.xp.asarray(data), x.device)
    if _GradMode.enabled and x._requires_grad:
        alias = _alias(out)
        record(out, (ProdBackward0 if dim is None else ProdBackward1)(x, (x, alias), dims, keepdim))
    return out


# ---- max / min ------------------------------------------------------------------------------------
class AmaxBackward0(_ReduceBackward):
    """Gradient shared evenly among the elements equal to the extreme value."""

    def backward(self, g):
        x, result = self.saved_tensors
        mask = x == _expand_back(result, self.in_shape, self.dims, self.keepdim)
        count = sum(mask, self.dims, keepdim=True)
        return (self.expand(g) * mask / count,)


class AminBackward0(AmaxBackward0):
    pass


class MaxBackward1(AmaxBackward0):
    pass


class MinBackward1(AmaxBackward0):
    pass


class MaxBackward0(Node):
    """max/min along a dim: the gradient goes to the index that was picked."""

    def __init__(self, x, indices, dim, keepdim):
        super().__init__((x,), ())
        self.indices, self.dim, self.keepdim = indices, dim, keepdim
        self.in_shape = x._data.shape

    def backward(self, g):
        from .indexing import scatter_into_zeros
        from .shape import unsqueeze

        idx = self.indices
        if not _GradMode.enabled and len(self.in_shape) == 2 and self.dim == 1:  # rows of a batch: one index
            xp = g.device.xp  # per row, so no repeats: a plain assignment into zeros
            out = xp.zeros(self.in_shape, dtype=g._data.dtype)
            out[xp.arange(self.in_shape[0]), idx._data.reshape(-1)] = g._data.reshape(-1)
            return (_make(out, g.device),)
        if not self.keepdim and len(self.in_shape):
            g, idx = unsqueeze(g, self.dim), unsqueeze(idx, self.dim)
        return (scatter_into_zeros(g, self.dim, idx, self.in_shape),)

    def _release_extra(self):
        self.indices = None


class MinBackward0(MaxBackward0):
    pass


def _extreme(x: Tensor, dim, keepdim, largest: bool, rt):
    xp = x.device.xp
    d = x._data
    if d.size == 0:
        _check_nonempty("max" if largest else "min", d.shape, None if dim is None else (wrap_dim(dim, d.ndim),))
    if dim is None:
        out = _make(xp.asarray(d.max() if largest else d.min()), x.device)
        if _GradMode.enabled and x._requires_grad:
            record(out, (MaxBackward1 if largest else MinBackward1)(x, (x, _alias(out)), None, False))
        return out
    dim = wrap_dim(dim, d.ndim)
    if d.ndim == 0:
        return rt(x.clone(), _make(xp.zeros((), dtype=xp.int64), x.device))
    arg = _nan_aware_arg(xp, d, dim, largest)
    idx = xp.expand_dims(arg, dim)
    if d.ndim == 2 and dim == 1:  # rows of a batch: a plain gather, several times faster than take_along_axis
        values = d[xp.arange(d.shape[0]), arg][:, None]
    else:
        values = xp.take_along_axis(d, idx, axis=dim)
    if not keepdim:
        values = values.squeeze(dim)
        idx = arg
    vals = _make(values, x.device)
    indices = _make(idx.astype(xp.int64, copy=False), x.device)
    if _GradMode.enabled and x._requires_grad:
        record(vals, (MaxBackward0 if largest else MinBackward0)(x, indices, dim, keepdim))
    return rt(vals, indices)


def _nan_aware_arg(xp, d, dim, largest):
    # NaN wins a max/min in PyTorch; argmax already returns the first NaN in NumPy
    return d.argmax(axis=dim) if largest else d.argmin(axis=dim)


def _alias(out: Tensor) -> Tensor:
    a = _make(out._data, out.device)
    a._vc = out._vc
    a._out_alias = True  # autograd reattaches it to its node under create_graph
    return a


def _check_keepdim(name: str, dim, keepdim) -> bool:
    """max/min take keepdim only with a dim (keepdim=None: not given)."""
    if dim is None and keepdim is not None:
        raise TypeError(f"{name}() received an invalid combination of arguments - got (Tensor, keepdim=bool), "
                        "but expected one of: (Tensor input), (Tensor input, Tensor other), "
                        "(Tensor input, int dim, bool keepdim = False)")
    return bool(keepdim)


def max(x: Tensor, dim=None, keepdim: bool | None = None, *, out=None, axis=None, keepdims=None):
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "max", None)
    if keepdims is not None:
        keepdim = numpy_name(keepdim, keepdims, "max", None, "keepdims")
    if isinstance(dim, Tensor):
        return P.maximum(x, dim)
    return _extreme_out("max", x, dim, keepdim, out, True, max_rt)


def min(x: Tensor, dim=None, keepdim: bool | None = None, *, out=None, axis=None, keepdims=None):
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "min", None)
    if keepdims is not None:
        keepdim = numpy_name(keepdim, keepdims, "min", None, "keepdims")
    if isinstance(dim, Tensor):
        return P.minimum(x, dim)
    return _extreme_out("min", x, dim, keepdim, out, False, min_rt)


def _extreme_out(name: str, x: Tensor, dim, keepdim, out, largest: bool, rt):
    """max/min, written into `out` when given (a tensor, or a (values, indices) pair with a dim)."""
    if out is not None:
        from .out import refuse_autograd

        refuse_autograd(name, out if isinstance(out, Tensor) else out[0], (x,), {})
    result = _extreme(x, dim, _check_keepdim(name, dim, keepdim), largest, rt)
    if out is None:
        return result
    from .out import write_out

    if isinstance(out, Tensor):
        return write_out(out, result)
    return _OUT_RT[name](write_out(out[0], result[0]), write_out(out[1], result[1]))


_OUT_RT = {"max": _return_type("max_out"), "min": _return_type("min_out")}  # PyTorch's names with out=


def _check_nonempty(name: str, shape, dims) -> None:
    """Reductions without an identity (max, argmax, ...) refuse empty slices, in PyTorch's words."""
    if dims is None:
        if 0 in shape:
            if name.startswith("arg"):
                raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                               "Specify the reduction dim with the 'dim' argument.")
        return
    for d in dims:
        if shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _amax_amin(x: Tensor, dim, keepdim, largest):
    if x._data.size == 0 and x._data.ndim and isinstance(dim, (tuple, list)):  # (before repeated dims)
        _check_nonempty("amax" if largest else "amin", x._data.shape, [wrap_dim(d, x._data.ndim) for d in dim])
    axis, dims = _axes(x, dim if dim != () else None)
    if x._data.size == 0:
        _check_nonempty("amax" if largest else "amin", x._data.shape, dims)
    data = x._data.max(axis=axis, keepdims=keepdim) if largest else x._data.min(axis=axis, keepdims=keepdim)
    out = _make(x.device.xp.asarray(data), x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, (AmaxBackward0 if largest else AminBackward0)(x, (x, _alias(out)), dims, keepdim))
    return out


def amax(x: Tensor, dim=(), keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "amax", ())
    if keepdims is not None:
        keepdim = numpy_name(keepdim, keepdims, "amax", False, "keepdims")
    return _amax_amin(x, dim, keepdim, True)


def amin(x: Tensor, dim=(), keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "amin", ())
    if keepdims is not None:
        keepdim = numpy_name(keepdim, keepdims, "amin", False, "keepdims")
    return _amax_amin(x, dim, keepdim, False)


def argmax(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "argmax", None)
    if keepdims is not None:
        keepdim = numpy_name(keepdim, keepdims, "argmax", False, "keepdims")
    return _arg(x, dim, keepdim, True)


def argmin(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "argmin", None)
    if keepdims is not None:
        keepdim = numpy_name(keepdim, keepdims, "argmin", False, "keepdims")
    return _arg(x, dim, keepdim, False)


def _arg(x: Tensor, dim, keepdim, largest):
    xp = x.device.xp
    d = x._data
    if d.dtype.kind == "b":
        raise RuntimeError(f"{'argmax' if largest else 'argmin'}(): does not support bool input")
    if d.size == 0:
        _check_nonempty("argmax" if largest else "argmin", d.shape, None if dim is None else (wrap_dim(dim, d.ndim),))
    if dim is None:
        flat = d.reshape(-1)
        i = flat.argmax() if largest else flat.argmin()
        data = xp.asarray(i, dtype=xp.int64)
        if keepdim:
            data = data.reshape((1,) * d.ndim)
        return _make(data, x.device)
    dim = wrap_dim(dim, d.ndim)
    if d.ndim == 0:
        return _make(xp.zeros((), dtype=xp.int64), x.device)
    i = _nan_aware_arg(xp, d, dim, largest)
    if keepdim:
        i = xp.expand_dims(i, dim)
    return _make(i.astype(xp.int64, copy=False), x.device)


# ---- var / std / norm / logsumexp -----------------------------------------------------------------
def _check_var_input(x: Tensor) -> None:
    if not x.dtype.is_floating_point:  # (bfloat16 arrays are NumPy kind 'V')
        raise RuntimeError("std and var only support floating point and complex dtypes")


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None or unbiased is True:
        return 1
    return 0


class VarBackward0(_ReduceBackward):
    def __init__(self, x, dims, keepdim, correction):
        super().__init__(x, (x,), dims, keepdim)
        self.correction = correction

    def backward(self, g):
        x = self.saved_tensors[0]
        dof = _count(self.in_shape, self.dims) - self.correction
        if self.dims is None and dof <= 0:  # PyTorch, over all of x: inf, or nan where x is its mean
            return (self.expand(g) * P.where(x == mean(x), math.nan, math.inf),)
        centered = x - mean(x, self.dims, keepdim=True)
        # like PyTorch, no clamp at 0 degrees of freedom here (the forward clamps): 0 gives inf (and nan)
        return (self.expand(g) * centered * (2.0 / dof if dof else math.inf),)


class StdBackward0(VarBackward0):
    def __init__(self, x, dims, keepdim, correction, result):
        _ReduceBackward.__init__(self, x, (x, result), dims, keepdim)  # the result is saved as well
        self.correction = correction

    def backward(self, g):
        std = self.saved_tensors[1]
        g = P.where(std == 0, 0.0, g / (std * 2))
        return VarBackward0.backward(self, g)


def var(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, axis=None, keepdims=None) -> Tensor:
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "var", None)
    if keepdims is not None:
        keepdim = numpy_name(keepdim, keepdims, "var", False, "keepdims")
    if isinstance(dim, bool):  # var(unbiased) positional form
        dim, unbiased = None, dim
    _check_var_input(x)
    c = _correction(unbiased, correction)
    axis, dims = _axes(x, dim)
    data = x.device.xp.asarray(x._data.var(axis=axis, ddof=c, keepdims=keepdim))
    out = _make(data, x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, VarBackward0(x, dims, keepdim, c))
    return out


def std(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, axis=None, keepdims=None) -> Tensor:
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "std", None)
    if keepdims is not None:
        keepdim = numpy_name(keepdim, keepdims, "std", False, "keepdims")
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    _check_var_input(x)
    c = _correction(unbiased, correction)
    axis, dims = _axes(x, dim)
    data = x.device.xp.asarray(x._data.std(axis=axis, ddof=c, keepdims=keepdim))
    out = _make(data, x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, StdBackward0(x, dims, keepdim, c, _alias(out)))
    return out


class LinalgVectorNormBackward0(_ReduceBackward):
    def __init__(self, x, result, dims, keepdim, p):
        super().__init__(x, (x, result), dims, keepdim)
        self.p = p

    def backward(self, g):
        x, result = self.saved_tensors
        p = self.p
        g = self.expand(g)
        norm = _expand_back(result, self.in_shape, self.dims, self.keepdim)
        # PyTorch's subgradients, case by case (norm_backward): none for p = 0 (a count); zero where
        # the norm is 0; for +-inf the elements that attain it (or are NaN) share the gradient
        if p == 0:
            return (None,)
        if p == 1:
            return (P.sign(x) * g,)
        if p == 2:
            return (g * P.where(norm == 0, 0.0, x / norm),)
        if math.isinf(p):
            mask = P.logical_or(P.abs(x) == norm, P.isnan(x))
            return (P.sign(x) * ((g / sum(mask, self.dims, keepdim=True)) * mask),)
        if p < 1:
            scaled = P.sign(x) * P.where(x == 0, 0.0, P.abs(x) ** (p - 1))
            return (scaled * g * norm ** (1 - p),)
        scaled = P.sign(x) * P.abs(x) ** (p - 1) if p < 2 else x * P.abs(x) ** (p - 2)
        return (scaled * P.where(norm == 0, 0.0, g / norm ** (p - 1)),)


def _check_norm_identity(shape, dims, p: float) -> None:
    """A max, min or negative-power norm over nothing has no value (no identity), as in PyTorch."""
    name = ("-inf" if p < 0 else "inf") if math.isinf(p) else (str(int(p)) if p.is_integer() else str(p))
    if dims is None:
        if math.prod(shape) == 0:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {name} norm on an empty tensor because the "
                               "operation does not have an identity")
        return
    for d in dims:
        if shape[d] == 0:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {name} norm on the dimension {d}because this "
                               "dimension is empty and the operation does not have an identity")


@autocast_op("norm")
def norm(x: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    if p == "fro" or p is None:
        if isinstance(dim, (tuple, list)) and len(dim) > 2:  # Frobenius is a matrix norm: at most 2 dims
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dim))}")
        p = 2
    if isinstance(p, str):
        raise RuntimeError(f"norm(): p={p!r} is not supported; use 'fro' or a number")
    p = float(p)
    if not x.dtype.is_floating_point:
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as input. "
                           f"Got {type_word(x._data.dtype)}")
    axis, dims = _axes(x, dim)
    if p < 0 or math.isinf(p):
        _check_norm_identity(x._data.shape, dims, p)
    xp = x.device.xp
    a = xp.abs(x._data)
    if p == 2:
        data = xp.sqrt((a * a).sum(axis=axis, keepdims=keepdim))
    elif p == 1:
        data = a.sum(axis=axis, keepdims=keepdim)
    elif p == math.inf:
        data = a.max(axis=axis, keepdims=keepdim)
    elif p == -math.inf:
        data = a.min(axis=axis, keepdims=keepdim)
    elif p == 0:
        data = (a != 0).sum(axis=axis, keepdims=keepdim).astype(a.dtype)
    else:
        data = (a ** p).sum(axis=axis, keepdims=keepdim) ** (1.0 / p)
    out = _make(xp.asarray(data), x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, LinalgVectorNormBackward0(x, _alias(out), dims, keepdim, p))
    return out


class LogsumexpBackward0(_ReduceBackward):
    def __init__(self, x, result, dims, keepdim):
        super().__init__(x, (x, result), dims, keepdim)

    def backward(self, g):
        x, result = self.saved_tensors
        return (self.expand(g) * P.exp(x - _expand_back(result, self.in_shape, self.dims, self.keepdim)),)


@autocast_op("logsumexp")
def logsumexp(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    if axis is not None or dim is None:  # NumPy's name, as torch accepts it (dim is required)
        dim = numpy_name(dim, axis, "logsumexp")
    if keepdims is not None:
        keepdim = numpy_name(keepdim, keepdims, "logsumexp", False, "keepdims")
    xp = x.device.xp
    axis, dims = _axes(x, dim)
    d = P._float_array(x)
    m = d.max(axis=axis, keepdims=True) if d.size else xp.zeros(_keep_shape(d.shape, dims), d.dtype)
    m = xp.where(xp.isfinite(m), m, 0)
    data = xp.log(xp.exp(d - m).sum(axis=axis, keepdims=True)) + m
    if not keepdim:
        data = data.reshape(tuple(s for i, s in enumerate(d.shape) if dims is not None and i not in dims))
    out = _make(data, x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, LogsumexpBackward0(x, _alias(out), dims, keepdim))
    return out


# ---- scans -----------------------------------------------------------------------------------------
class CumsumBackward0(Node):
    def __init__(self, x, dim):
        super().__init__((x,), ())
        self.dim = dim

    def backward(self, g):
        from .shape import flip

        if g._data.ndim == 0:  # a 0-dim input: cumsum was the identity
            return (g,)
        return (flip(cumsum(flip(g, (self.dim,)), self.dim), (self.dim,)),)


@autocast_op("cumsum")
def cumsum(x: Tensor, dim: int | None = None, *, dtype=None, axis=None) -> Tensor:
    if axis is not None or dim is None:  # NumPy's name, as torch accepts it (dim is required)
        dim = numpy_name(dim, axis, "cumsum")
    d = x._data
    dim = wrap_dim(dim, d.ndim)
    acc = _acc_dtype(x, dtype)
    data = d.cumsum(axis=dim, dtype=acc) if d.ndim else d.astype(acc or d.dtype)
    out = _make(data, x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, CumsumBackward0(x, dim))
    return out


# ---- logical reductions ----------------------------------------------------------------------------
def _no_dims(dim) -> bool:
    """all/any over dim=() reduce nothing in PyTorch (unlike sum and amax, which reduce everything)."""
    return isinstance(dim, (tuple, list)) and len(dim) == 0


def all(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "all", None)
    if keepdims is not None:
        keepdim = numpy_name(keepdim, keepdims, "all", False, "keepdims")
    if _no_dims(dim):
        return _logical_result(x, x._data != 0)
    axis, _ = _axes(x, dim)
    return _logical_result(x, x._data.all(axis=axis, keepdims=keepdim))


def any(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "any", None)
    if keepdims is not None:
        keepdim = numpy_name(keepdim, keepdims, "any", False, "keepdims")
    if _no_dims(dim):
        return _logical_result(x, x._data != 0)
    axis, _ = _axes(x, dim)
    return _logical_result(x, x._data.any(axis=axis, keepdims=keepdim))


def _logical_result(x: Tensor, data) -> Tensor:
    # all/any of a uint8 tensor stay uint8 in PyTorch (a legacy of byte masks); everything else is bool
    data = x.device.xp.asarray(data)
    if x._data.dtype == _dtype.uint8.np:
        data = data.astype(x._data.dtype)
    return _make(data, x.device)


def count_nonzero(x: Tensor, dim=None, *, axis=None) -> Tensor:
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "count_nonzero", None)
    axis, _ = _axes(x, dim)
    return _make(x.device.xp.asarray((x._data != 0).sum(axis=axis), dtype=x.device.xp.int64), x.device)


# ---- softmax ---------------------------------------------------------------------------------------
class SoftmaxBackward0(Node):
    def __init__(self, x, result, dim):
        super().__init__((x,), (result,))
        self.dim = dim

    def backward(self, g):
        (y,) = self.saved_tensors
        return (y * (g - sum(g * y, self.dim, keepdim=True)),)


class LogSoftmaxBackward0(SoftmaxBackward0):
    def backward(self, g):
        (y,) = self.saved_tensors
        return (g - P.exp(y) * sum(g, self.dim, keepdim=True),)


def _softmax_input(x: Tensor, dim, dtype, name="softmax"):
    if dtype is not None:
        x = x.to(_dtype_of(dtype))
    if dim is None:
        dim = 0 if x._data.ndim in (0, 1, 3) else 1  # PyTorch's legacy implicit-dim choice
    dim = wrap_dim(dim, x._data.ndim)
    if not x.dtype.is_floating_point:
        last = "_lastdim" if dim == x._data.ndim - 1 or x._data.ndim == 0 else ""
        raise not_implemented(f"{name}{last}_kernel_impl", x._data.dtype)
    return x, dim


@autocast_op("softmax")
def softmax(x: Tensor, dim=None, *, dtype=None, axis=None) -> Tensor:
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "softmax", None)
    x, dim = _softmax_input(x, dim, dtype)
    xp = x.device.xp
    d = x._data
    axis = dim if d.ndim else None
    e = xp.exp(d - d.max(axis=axis, keepdims=True)) if d.size else d.copy()
    e /= e.sum(axis=axis, keepdims=True)
    out = _make(e, x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, SoftmaxBackward0(x, _alias(out), dim))
    return out


@autocast_op("log_softmax")
def log_softmax(x: Tensor, dim=None, *, dtype=None, axis=None) -> Tensor:
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "log_softmax", None)
    x, dim = _softmax_input(x, dim, dtype, "log_softmax")
    xp = x.device.xp
    d = x._data
    axis = dim if d.ndim else None
    shifted = d - d.max(axis=axis, keepdims=True) if d.size else d.copy()
    shifted -= xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
    out = _make(shifted, x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, LogSoftmaxBackward0(x, _alias(out), dim))
    return out


# ---- sorting -------------------------------------------------------------------------------------
class SortBackward0(MaxBackward0):
    def backward(self, g):
        from .indexing import scatter_into_zeros

        return (scatter_into_zeros(g, self.dim, self.indices, self.in_shape),)


class SortBackward1(SortBackward0):
    """sort called with `stable=` (PyTorch's other overload)."""


class TopkBackward0(SortBackward0):
    pass


def sort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool | None = None, *, axis=None):
    """Values sorted along dim, and their indices. Always stable: equal values keep their order."""
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "sort", -1)
    xp = x.device.xp
    d = x._data
    dim = wrap_dim(dim, d.ndim)
    idx = _sort_order(xp, d, dim, descending) if d.ndim else xp.zeros((), dtype=xp.int64)
    vals = _make(xp.take_along_axis(d, idx, axis=dim) if d.ndim else d.copy(), x.device)
    indices = _make(idx.astype(xp.int64, copy=False), x.device)
    if _GradMode.enabled and x._requires_grad:
        record(vals, (SortBackward0 if stable is None else SortBackward1)(x, indices, dim, True))
    return sort_rt(vals, indices)


def _sort_order(xp, d, dim: int, descending: bool):
    """Stable argsort along dim; NaN counts as the largest value, as in PyTorch."""
    if not descending:
        return xp.argsort(d, axis=dim, kind="stable")
    if d.dtype.kind != "f":
        return xp.argsort(~d, axis=dim, kind="stable")  # ~ reverses integer order without -d's overflow
    idx = xp.argsort(-d, axis=dim, kind="stable")
    nan = xp.isnan(xp.take_along_axis(d, idx, axis=dim))
    if nan.any():  # NaNs, the largest, go first
        idx = xp.take_along_axis(idx, xp.argsort(~nan, axis=dim, kind="stable"), axis=dim)
    return idx


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True, *, axis=None):
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "topk", -1)
    from .shape import narrow

    d = x._data
    if d.dtype.kind == "b":
        raise RuntimeError("topk does not support bool dtypes on CPU")
    dim = wrap_dim(dim, d.ndim)
    size = d.shape[dim] if d.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    xp = x.device.xp
    if d.ndim == 0:  # a 0-d tensor: itself, even for k=0
        vals_idx = _make(xp.zeros((), dtype=xp.int64), x.device)
    elif 0 < k and 8 * k <= size and not (d.dtype.kind == "f" and xp.isnan(d).any()):
        vals_idx = _make(_top_k_order(xp, d, k, dim, largest), x.device)
    else:
        vals_idx = narrow(sort(x.detach(), dim, descending=largest).indices, dim, 0, k)
    from .indexing import gather

    with _no_grad():
        vals = gather(x, dim, vals_idx)
    if _GradMode.enabled and x._requires_grad:
        record(vals, TopkBackward0(x, vals_idx, dim, True))
    return topk_rt(vals, vals_idx)


def _top_k_order(xp, d, k: int, dim: int, largest: bool):
    """The indices of the k largest (smallest) along dim, in sorted order: a partition, then a sort of k.

    (For small k: partitioning is linear where a full sort is not. NaN-free input only, since a
    partition orders NaN as the smallest of -d.)
    """
    key = (-d if d.dtype.kind == "f" else ~d) if largest else d
    part = xp.take(xp.argpartition(key, k - 1, axis=dim), xp.arange(k), axis=dim)
    part.sort(axis=dim)  # input order first, so that the stable sort below keeps ties in input order
    order = xp.argsort(xp.take_along_axis(key, part, axis=dim), axis=dim, kind="stable")
    return xp.take_along_axis(part, order, axis=dim).astype(xp.int64, copy=False)


def _no_grad():
    from ..autograd.grad_mode import no_grad

    return no_grad()


# ---- renorm: cap the p-norm of each slice along a dim ---------------------------------------------------
class _PassThrough(Node):
    """A node named as PyTorch's over a result computed by recorded ops: the gradient goes on to them."""

    def __init__(self, inner):
        super().__init__((inner,), ())

    def backward(self, g):
        return (g,)


class RenormBackward0(_PassThrough):
    pass


def renorm(x: Tensor, p, dim: int, maxnorm) -> Tensor:
    """x with each slice x.select(dim, i) whose p-norm exceeds maxnorm scaled to norm maxnorm (by maxnorm / (norm + 1e-7))."""
    if x._data.ndim <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {x._data.ndim} dimensions")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm:g}")
    dim = wrap_dim(dim, x._data.ndim)
    others = tuple(d for d in range(x._data.ndim) if d != dim)
    from .pointwise import where

    norms = norm(x, p, others, keepdim=True)
    out = x * where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)  # (the scale is differentiated too, as in PyTorch)
    if out.grad_fn is not None:
        result = _make(out._data, out.device)
        return record(result, RenormBackward0(out))
    return out
