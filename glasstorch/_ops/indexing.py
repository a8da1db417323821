"""Indexing: x[i], x[i] = v, gather/scatter, index_select, masked_fill, nonzero.

Gradients of indexing scatter-*add* into zeros, so repeated indices accumulate.
"""
from __future__ import annotations

from .. import _dtype
from ._util import Node, Tensor, _GradMode, _make, c_type_name, fill_value, record, sum_to, wrap_dim


# ---- index conversion ----------------------------------------------------------------------------
def _warn_list_as_tuple() -> None:
    import warnings

    warnings.warn("Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed in "
                  "pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be interpreted as "
                  "tensor index, x[torch.tensor(seq)], which will result either in an error or a different result",
                  UserWarning, stacklevel=5)  # the caller of x[...]


def _has_index_parts(index: list) -> bool:
    for i in index:
        if i is None or i is Ellipsis or isinstance(i, (list, tuple, slice, Tensor)):
            return True
    return False


def _last_view_op(idx, shape) -> str | None:
    """The view op PyTorch's indexing applies last for the basic part of `idx` (None: no view op).

    PyTorch turns x[1, 2:4, None] into select, slice, unsqueeze, and names the result's grad_fn
    after the last; `...` and slices that keep a whole dim (`:`, `0:`, `:n`) apply nothing.
    """
    last = None
    dim = 0
    for i in idx:
        if i is None:
            last = "unsqueeze"
        elif i is Ellipsis:
            dim += len(shape) - sum(_dims_taken(j) for j in idx if j is not Ellipsis)
            continue
        elif type(i) is slice:
            if not _keeps_dim(i, shape[dim]):
                last = "slice"
        elif type(i) is int:
            last = "select"
        dim += _dims_taken(i)
    return last


def _keeps_dim(s: slice, size: int) -> bool:
    return s.start in (None, 0) and s.step in (None, 1) and (s.stop is None or s.stop >= size)


def _dims_taken(i) -> int:
    """How many dims of the indexed tensor one index element uses up."""
    if i is None or type(i) is bool:
        return 0
    if hasattr(i, "dtype") and i.dtype.kind == "b":
        return i.ndim
    return 1


def to_array_index(index, x: Tensor):
    """A backend index from a Python/Tensor index. Returns (index, advanced?)."""
    if not isinstance(index, tuple):
        # PyTorch (like old NumPy) reads a short list holding sequences, slices, None or ... as a tuple
        if type(index) is list and len(index) < 32 and _has_index_parts(index):
            _warn_list_as_tuple()
            index = tuple(index)
        else:
            index = (index,)
    xp = x.device.xp
    out = []
    advanced = False
    for i in index:
        if isinstance(i, Tensor):
            d = i._data
            if d.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            if d.dtype.kind == "u" and d.dtype.itemsize == 1:
                d = d.astype(bool)
            if d.dtype.kind != "b" and d.ndim == 0 and not advanced:
                i = int(d)
                out.append(i)
                continue
            out.append(d)
            advanced = True
        elif isinstance(i, list) or (hasattr(i, "dtype") and hasattr(i, "shape")):
            arr = xp.asarray(i)
            if arr.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(arr)
            advanced = True
        elif type(i) is bool:  # x[True] adds a dim of size 1 (x[False] one of size 0), as advanced indexing
            out.append(i)
            advanced = True
        elif i is None or i is Ellipsis or isinstance(i, (int, slice)):
            if isinstance(i, slice) and i.step is not None and i.step <= 0:
                raise ValueError("step must be greater than zero")
            out.append(i)
        elif hasattr(i, "__index__"):
            out.append(i.__index__())
        else:
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                             "are valid indices (got " + type(i).__name__ + ")")
    return tuple(out), advanced


# ---- getitem ---------------------------------------------------------------------------------------
class IndexBackward0(Node):
    def __init__(self, x, index):
        super().__init__((x,), ())
        self.in_shape = x._data.shape
        self.index = index

    def backward(self, g):
        return (index_into_zeros(g, self.index, self.in_shape),)

    def _release_extra(self):
        self.index = None


class SliceBackward0(IndexBackward0):
    def backward(self, g):
        return (slice_into_zeros(g, self.index, self.in_shape),)


class SelectBackward0(SliceBackward0):
    pass


class UnsqueezeBackward0(SliceBackward0):
    pass


class AliasBackward0(SliceBackward0):
    pass


_VIEW_NODES = {"select": SelectBackward0, "slice": SliceBackward0, "unsqueeze": UnsqueezeBackward0,
               None: AliasBackward0}


def getitem(x: Tensor, index) -> Tensor:
    idx, advanced = to_array_index(index, x)
    d = x._data
    try:
        if advanced and len(idx) == 1 and getattr(idx[0], "ndim", 0) == 1 and idx[0].dtype.kind in "iu":
            data = d.take(idx[0], axis=0)  # x[indices], e.g. a batch of rows: take is faster than d[idx]
        else:
            data = d[idx]
    except IndexError as e:
        raise _index_error(e, d.shape, idx) from None
    out = _make(data, x.device)
    if not advanced:
        if type(data) is not type(d):  # all ints: NumPy returns a scalar; `...` makes it a 0-dim view
            out._data = d[idx + (Ellipsis,)]
        out._vc = x._vc  # basic indexing gives a view
        base = getattr(x, "_base", None)
        out._base = x if base is None else base
    if _GradMode.enabled and x._requires_grad:
        if advanced:
            node = IndexBackward0
        else:  # x[a:b] (a slice, not in a tuple) always slices in PyTorch
            node = SliceBackward0 if type(index) is slice else _VIEW_NODES[_last_view_op(idx, d.shape)]
        record(out, node(x, idx))
    return out


def index_into_zeros(g: Tensor, index, shape) -> Tensor:
    """zeros(shape) with g scatter-added at an advanced index (repeats accumulate)."""
    xp = g.device.xp
    data = xp.zeros(shape, dtype=g._data.dtype)
    g.device.backend.scatter_add(data, index, g._data)
    out = _make(data, g.device)
    if _GradMode.enabled and g._requires_grad:
        record(out, IndexPutBackward0(None, index, g))
    return out


def slice_into_zeros(g: Tensor, index, shape) -> Tensor:
    """zeros(shape) with g written at a basic (slice/int) index: no repeats, so plain assignment."""
    xp = g.device.xp
    data = xp.zeros(shape, dtype=g._data.dtype)
    data[index] = g._data
    out = _make(data, g.device)
    if _GradMode.enabled and g._requires_grad:
        record(out, IndexPutBackward0(None, index, g))
    return out


# ---- setitem ---------------------------------------------------------------------------------------
class CopySlices(Node):
    """x[index] = v as an out-of-place op: x's gradient is zero at index, v's is g[index]."""

    def __init__(self, x, index, v):
        super().__init__((x, v), ())
        self.index = index
        self.v_shape = v._data.shape if isinstance(v, Tensor) else ()

    def _release_extra(self):
        self.index = None

    def backward(self, g):
        n = self.next_functions
        gx = gv = None
        if n[0][0] is not None:
            mask = _make(g.device.xp.ones(g._data.shape, dtype=bool), g.device)
            mask._data[self.index] = False
            gx = g * mask
        if n[1][0] is not None:
            gv = sum_to(getitem(g, self.index), self.v_shape)
        return gx, gv


class IndexPutBackward0(CopySlices):
    """x[advanced index] = v (and the gradient of advanced indexing, v written into zeros)."""


def _setitem_node(idx, shape, advanced: bool):
    """PyTorch's grad_fn for x[idx] = value: CopySlices when the write goes through a view."""
    if _last_view_op(idx, shape) is not None:
        return CopySlices
    return IndexPutBackward0 if advanced else None  # None: the whole tensor, a plain copy_/fill_


def index_put(x: Tensor, index, value) -> Tensor:
    """The out-of-place form of `x[index] = value` (what in-place setitem records)."""
    idx, advanced = to_array_index(index, x)
    data = x._data.copy()
    _assign(data, idx, value, x)
    out = _make(data, x.device)
    if _GradMode.enabled and (x._requires_grad or getattr(value, "_requires_grad", False)):
        record(out, (_setitem_node(idx, x._data.shape, advanced) or CopySlices)(x, idx, value))
    return out


def _index_error(e: IndexError, shape, idx) -> IndexError:
    """NumPy's indexing error in PyTorch's words."""
    msg = str(e)
    if msg.startswith("too many indices"):
        return IndexError(f"too many indices for tensor of dimension {len(shape)}")
    if msg.startswith("boolean index did not match"):
        return _mask_error(shape, idx) or IndexError(msg)
    return IndexError(msg.replace("axis", "dimension"))


def _is_mask(i) -> bool:
    return hasattr(i, "dtype") and i.dtype.kind == "b"


def _mask_error(shape, idx):
    """PyTorch's message for the first boolean mask that does not fit the tensor.

    PyTorch applies the basic indices (ints, slices, None) first and reports the mask against
    that view's shape, so the view's shape is worked out here the same way.
    """
    import numpy as np

    basic = []
    for i in idx:
        if _is_mask(i):
            basic += [slice(None)] * i.ndim
        elif hasattr(i, "dtype") or type(i) is bool:
            basic.append(slice(None) if hasattr(i, "dtype") else None)
        else:
            basic.append(i)
    try:
        view = np.broadcast_to(np.empty(()), shape)[tuple(basic)].shape
    except IndexError:
        return None
    used = sum(_view_dims(i) for i in idx if i is not Ellipsis)
    dim = 0
    for i in idx:
        if i is Ellipsis:
            dim += len(view) - used
            continue
        if _is_mask(i):
            for k, size in enumerate(i.shape):
                if view[dim + k] != size:
                    return IndexError(f"The shape of the mask {list(i.shape)} at index {k} does not match the shape "
                                      f"of the indexed tensor {list(view)} at index {dim + k}")
        dim += _view_dims(i)
    return None


def _view_dims(i) -> int:
    """How many dims of the basic-indexed view one index element stands for."""
    if _is_mask(i):
        return i.ndim
    return 0 if type(i) is int else 1


def _assign(data, idx, value, x: Tensor):
    v = value._data if isinstance(value, Tensor) else value
    if isinstance(value, Tensor) and value.device != x.device:
        raise RuntimeError(f"expected device {x.device} but got device {value.device}")
    try:
        data[idx] = v
    except IndexError as e:
        raise _index_error(e, data.shape, idx) from None
    except ValueError as e:
        msg = str(e)
        if "read-only" in msg:
            raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to "
                               "a single memory location. Please clone() the tensor before performing the "
                               "operation.") from None
        target = data[idx].shape
        raise RuntimeError(f"shape mismatch: value tensor of shape [{', '.join(map(str, getattr(v, 'shape', ())))}] "
                           f"cannot be broadcast to indexing result of shape [{', '.join(map(str, target))}]") from None


def setitem(x: Tensor, index, value) -> None:
    """x[index] = value, in place; with autograd, recorded as index_put (or copy_/fill_ of all of x)."""
    if _GradMode.enabled and (x._requires_grad or getattr(value, "_requires_grad", False)):
        from . import inplace

        idx, advanced = to_array_index(index, x)
        node = _setitem_node(idx, x._data.shape, advanced)
        if node is None:  # x[...] = v writes all of x: PyTorch does it with copy_ / fill_
            if isinstance(value, Tensor):
                inplace.copy_(x, value)
            else:
                from .creation import scalar_like

                inplace.fill_(x, scalar_like(value, x))
            return
        if node is CopySlices and x.grad_fn is None and x._requires_grad:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
        inplace.apply(x, index_put, idx, value)
        return
    idx, _ = to_array_index(index, x)
    _assign(x._data, idx, value, x)
    x._vc[0] += 1


# ---- gather / scatter ----------------------------------------------------------------------------
def _check_index(x: Tensor, dim: int, index: Tensor, name: str):
    if index._data.dtype not in (_dtype.int64.np, _dtype.int32.np):
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    if index._data.ndim != x._data.ndim and x._data.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")


def _take(xp, d, dim, idx):
    if d.ndim == 0:
        return d.reshape(()) if idx.ndim == 0 else d.reshape(1)[idx]
    _check_bounds(idx, dim, d.shape[dim])
    return xp.take_along_axis(d, idx, axis=dim)


def _check_bounds(idx, dim: int, n: int) -> None:
    """gather/scatter indices must lie in [0, n): no negative indices, unlike x[i]."""
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = int(idx.max()) if idx.max() >= n else int(idx.min())
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {n}")


class GatherBackward0(Node):
    def __init__(self, x, dim, index):
        super().__init__((x,), ())
        self.in_shape, self.dim, self.index = x._data.shape, dim, index

    def backward(self, g):
        return (scatter_into_zeros(g, self.dim, self.index, self.in_shape),)

    def _release_extra(self):
        self.index = None


def gather(x: Tensor, dim: int, index: Tensor) -> Tensor:
    _check_index(x, dim, index, "gather")
    dim = wrap_dim(dim, x._data.ndim)
    d = x._data
    idx = index._data
    # take_along_axis needs equal shapes outside dim; PyTorch allows index smaller there
    if d.ndim and any(i != dim and idx.shape[i] < d.shape[i] for i in range(d.ndim)):
        d = d[tuple(slice(0, idx.shape[i]) if i != dim else slice(None) for i in range(d.ndim))]
    elif d.ndim and any(i != dim and idx.shape[i] > d.shape[i] for i in range(d.ndim)):
        raise RuntimeError(f"Size does not match at dimension {next(i for i in range(d.ndim) if i != dim and idx.shape[i] > d.shape[i])} "
                           "expected index to be smaller than self apart from dimension " + str(dim))
    out = _make(_take(x.device.xp, d, dim, idx), x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, GatherBackward0(x, dim, index))
    return out


class ScatterAddBackward0(Node):
    def __init__(self, x, dim, index, src):
        super().__init__((x, src), ())
        self.dim, self.index = dim, index

    def backward(self, g):
        n = self.next_functions
        gsrc = gather(g, self.dim, self.index) if n[1][0] is not None else None
        return (g if n[0][0] is not None else None), gsrc


def _scatter_add_array(backend, target, dim, idx, src):
    """target[..., idx[j], ...] += src[j] along dim, accumulating repeats (in place)."""
    xp = backend.xp
    if target.ndim == 0:
        target[...] += src.sum()
        return target
    src = src[tuple(slice(0, s) for s in idx.shape)]
    grids = list(xp.indices(idx.shape, sparse=True))
    grids[dim] = idx
    backend.scatter_add(target, tuple(grids), src)
    return target


def scatter_add(x: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    _check_index(x, dim, index, "scatter_add")
    dim = wrap_dim(dim, x._data.ndim)
    if x._data.ndim:
        _check_bounds(index._data, dim, x._data.shape[dim])
    return _scatter_add(x, dim, index, src)


def _scatter_add(x: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """scatter_add for checked arguments."""
    data = _scatter_add_array(x.device.backend, x._data.copy(), dim, index._data, src._data.astype(x._data.dtype, copy=False))
    out = _make(data, x.device)
    if _GradMode.enabled and (x._requires_grad or src._requires_grad):
        record(out, ScatterAddBackward0(x, dim, index, src))
    return out


def scatter_into_zeros(g: Tensor, dim: int, index: Tensor, shape) -> Tensor:
    """zeros(shape).scatter_add(dim, index, g): the gradient of gather and of max(dim)."""
    xp = g.device.xp
    zeros = _make(xp.zeros(shape, dtype=g._data.dtype), g.device)
    return _scatter_add(zeros, dim, index, g)


class IndexSelectBackward0(Node):
    def __init__(self, x, dim, index):
        super().__init__((x,), ())
        self.in_shape, self.dim, self.index = x._data.shape, dim, index

    def backward(self, g):
        idx = (slice(None),) * self.dim + (self.index,)
        return (index_into_zeros(g, idx, self.in_shape),)

    def _release_extra(self):
        self.index = None


def index_select(x: Tensor, dim: int, index: Tensor) -> Tensor:
    if index._data.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if index._data.dtype.kind not in "iu":
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    dim = wrap_dim(dim, x._data.ndim)
    idx = index._data.reshape(-1)
    n = x._data.shape[dim] if x._data.ndim else 1
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = int(idx.max()) if idx.max() >= n else int(idx.min())
        raise RuntimeError(f"INDICES element is out of DATA bounds, id={bad} axis_dim={n}")
    out = _make(x.device.xp.take(x._data, idx, axis=dim) if x._data.ndim else x._data.reshape(1)[idx], x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, IndexSelectBackward0(x, dim, idx))
    return out


# ---- masks -----------------------------------------------------------------------------------------
class MaskedFillBackward0(Node):
    def __init__(self, x, mask, value):
        super().__init__((x, value), ())
        self.mask = mask
        self.in_shape = x._data.shape

    def backward(self, g):
        from .pointwise import where
        from .reduction import sum as _sum

        n = self.next_functions
        gx = sum_to(where(self.mask, 0.0, g), self.in_shape) if n[0][0] is not None else None
        gv = _sum(where(self.mask, g, 0.0)) if n[1][0] is not None else None
        return gx, gv

    def _release_extra(self):
        self.mask = None


def masked_fill(x: Tensor, mask: Tensor, value) -> Tensor:
    if mask._data.dtype.kind != "b":
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{c_type_name(mask._data.dtype)}")
    if isinstance(value, Tensor) and value._data.ndim != 0:
        raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value._data.ndim} dimension(s).")
    xp = x.device.xp
    v = value._data if isinstance(value, Tensor) else fill_value(value, x._data.dtype)
    try:
        data = xp.where(mask._data, xp.asarray(v, dtype=x._data.dtype), x._data)
    except ValueError:
        from ._util import broadcast_error

        raise broadcast_error(x._data.shape, mask._data.shape) from None
    if data.shape != x._data.shape:
        raise RuntimeError(f"masked_fill: mask of shape {list(mask.shape)} cannot broadcast to the input's shape "
                           f"{list(x.shape)} in place")
    out = _make(data, x.device)
    if _GradMode.enabled and (x._requires_grad or getattr(value, "_requires_grad", False)):
        record(out, MaskedFillBackward0(x, mask, value))
    return out


def nonzero(x: Tensor, *, as_tuple: bool = False):
    xp = x.device.xp
    d = x._data if x._data.ndim else x._data.reshape(1)
    idx = xp.nonzero(d)
    if as_tuple:
        return tuple(_make(i.astype(xp.int64, copy=False), x.device) for i in idx)
    return _make(xp.stack(idx, axis=1).astype(xp.int64, copy=False), x.device)


def where(condition, a=None, b=None):
    from .pointwise import where as _where

    return _where(condition, a, b)
