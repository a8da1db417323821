"""Indexing: x[i], x[i] = v, gather/scatter, index_select, masked_fill, nonzero.

Gradients of indexing scatter-*add* into zeros, so repeated indices accumulate.
"""
from __future__ import annotations

from .. import _dtype
from .deferred import begin_write
from ._util import (Node, Tensor, _GradMode, _make, c_type_name, fill_value, not_implemented, numpy_name, record,
                    sum_to, type_word, wrap_dim)


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
    if type(index) is slice and index.step is not None and index.step <= 0:
        raise ValueError("step must be greater than zero")  # x[::-1]: before any dim is looked at
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
            if i.device is not x.device:  # torch takes CPU index tensors for a tensor on any device
                if i.device.type != "cpu":
                    raise RuntimeError("indices should be either on cpu or on the same device as the indexed "
                                       f"tensor ({x.device})")
                d = x.device.backend.from_numpy(d)
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
        elif isinstance(i, (list, tuple, range)) or (hasattr(i, "dtype") and hasattr(i, "shape")):
            # a range is a sequence of ints to PyTorch: x[range(n), target] picks one element per row
            arr = xp.asarray(list(i) if isinstance(i, range) else i)
            if arr.size == 0 and isinstance(i, (list, tuple, range)):  # x[[]]: an empty integer index
                arr = arr.astype(xp.int64)
            if arr.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(arr)
            advanced = True
        elif type(i) is bool:  # x[True] adds a dim of size 1 (x[False] one of size 0), as advanced indexing
            out.append(i)
            advanced = True
        elif i is None or i is Ellipsis or isinstance(i, (int, slice)):
            out.append(i)
        elif hasattr(i, "__index__"):
            out.append(i.__index__())
        else:
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                             "are valid indices (got " + type(i).__name__ + ")")
    # PyTorch counts the indices first, then applies them left to right
    taken = sum(_dims_taken(i) for i in out if i is not Ellipsis)
    if taken > x._data.ndim:
        raise IndexError(f"too many indices for tensor of dimension {x._data.ndim}")
    if any(type(i) is slice and i.step is not None and i.step <= 0 for i in out):
        _first_basic_error(out, x._data.shape, taken)
    if advanced and taken == x._data.ndim and any(i is Ellipsis for i in out):
        # a `...` that stands for no dims: PyTorch ignores it, NumPy would let it separate two
        # advanced indices (which moves their dims to the front)
        out = [i for i in out if i is not Ellipsis]
    if advanced and any(_is_mask(i) for i in out):  # NumPy lets a misfit mask on an empty tensor pass
        error = _mask_error(x._data.shape, out)
        if error is not None:
            raise error
    return tuple(out), advanced


def _first_basic_error(idx, shape, taken: int):
    """Raise what PyTorch meets first, left to right: an integer out of range or a step <= 0."""
    dim = 0
    for i in idx:
        if i is Ellipsis:
            dim += len(shape) - taken
        elif type(i) is int and not -shape[dim] <= i < shape[dim]:
            raise IndexError(f"index {i} is out of bounds for dimension {dim} with size {shape[dim]}")
        elif type(i) is slice and i.step is not None and i.step <= 0:
            raise ValueError("step must be greater than zero")
        if i is not Ellipsis:
            dim += _dims_taken(i)


def _split_selects(idx):
    """PyTorch applies integer indices as selects before any advanced index; NumPy counts them in
    the advanced block, which can move the result's dims (x[0, :, mask]). With both kinds present:
    (the selects, the rest of the index), applied one after the other; else None."""
    if not any(type(i) is int for i in idx):
        return None
    selects, rest = [], []
    for i in idx:
        if type(i) is int:
            selects.append(i)
        elif i is Ellipsis:
            selects.append(i)
            rest.append(i)
        elif i is None or type(i) is bool:
            rest.append(i)
        else:
            selects += [slice(None)] * _dims_taken(i)
            rest.append(i)
    return tuple(selects), tuple(rest)


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
    split = _split_selects(idx) if advanced else None
    if split is not None:  # as PyTorch: select, then index (its grad_fn: IndexBackward0)
        return getitem(getitem(x, split[0]), split[1])
    d = x._data
    try:
        if advanced and len(idx) == 1 and getattr(idx[0], "ndim", 0) == 1 and idx[0].dtype.kind in "iu" \
                and d.ndim:  # x[indices], e.g. a batch of rows: take is faster than d[idx]
            data = d.take(idx[0], axis=0)
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


def _check_put_dtype(data, idx, value: Tensor) -> None:
    """Writing through integer-array indices (index_put_) needs the value's dtype to be x's, unless
    PyTorch turns the write into a masked_fill_: one value through one boolean mask."""
    vd = value._data
    if vd.dtype == data.dtype:
        return
    advanced = [i for i in idx if hasattr(i, "dtype") or type(i) is bool]
    if not advanced:
        return
    if vd.size == 1 and len(advanced) == 1 and _is_mask(advanced[0]) and advanced[0].ndim >= 1:
        return
    try:  # indices that do not broadcast, or index an empty dim, are reported first (a read on the
        data[idx]  # error path only); other out-of-range indices only after the dtypes, as in PyTorch
    except IndexError as e:
        if str(e).startswith("shape mismatch") or str(e).endswith("with size 0"):
            raise _index_error(e, data.shape, idx) from None
    raise RuntimeError(f"Index put requires the source and destination dtypes match, got {type_word(data.dtype)} "
                       f"for the destination and {type_word(vd.dtype)} for the source.")


def _assign(data, idx, value, x: Tensor):
    v = value._data if isinstance(value, Tensor) else value
    if isinstance(value, Tensor) and value.device != x.device:
        raise RuntimeError(f"expected device {x.device} but got device {value.device}")
    if isinstance(value, Tensor):
        _check_put_dtype(data, idx, value)
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
    begin_write(x)
    idx, advanced = to_array_index(index, x)
    split = _split_selects(idx) if advanced else None
    recording = _GradMode.enabled and (x._requires_grad or getattr(value, "_requires_grad", False))
    if split is not None:  # integers select a view first, as in PyTorch; the write goes through it
        if recording and x.grad_fn is None and x._requires_grad:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
        setitem(getitem(x, split[0]), split[1], value)
        return
    if recording:
        from . import inplace

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
    """gather/scatter indices must lie in [0, n): no negative indices, unlike x[i].

    On a GPU this is one comparison, one any() and ONE host read (a negative index seen as unsigned is
    huge, so a single test covers both ends). It cannot be none: a Python error needs the host to know,
    CuPy has no device-side assertion like the one torch's CUDA kernels fail asynchronously, and without
    the check CuPy would silently wrap an out-of-range index around."""
    if not idx.size:
        return
    unsigned = idx.view(f"u{idx.dtype.itemsize}")  # int64 as uint64, int32 as uint32: a view, no copy
    if (unsigned >= n).any():
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


def gather(x: Tensor, dim: int | None = None, index: Tensor | None = None, *, sparse_grad: bool = False,
           axis=None) -> Tensor:
    if axis is not None or dim is None:  # NumPy's name, as torch accepts it (dim is required)
        dim = numpy_name(dim, axis, "gather")
    if index is None:  # a default only so that the alias can stand before it
        raise TypeError('gather() missing 1 required positional arguments: "index"')
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
    backend.scatter_add(target, _grids(xp, idx, dim), src)
    return target


def scatter_add(x: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    _check_index(x, dim, index, "scatter_add")
    if src._data.dtype != x._data.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
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


def index_select(x: Tensor, dim: int | None = None, index: Tensor | None = None, *, axis=None) -> Tensor:
    if axis is not None or dim is None:  # NumPy's name, as torch accepts it (dim is required)
        dim = numpy_name(dim, axis, "index_select")
    if index is None:  # a default only so that the alias can stand before it
        raise TypeError('index_select() missing 1 required positional arguments: "index"')
    if index._data.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if index._data.dtype.kind not in "iu":
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    dim = wrap_dim(dim, x._data.ndim)
    idx = index._data.reshape(-1)
    n = x._data.shape[dim] if x._data.ndim else 1
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = int(idx.max()) if idx.max() >= n else int(idx.min())
        if dim == 0 or x._data.ndim <= 1:  # PyTorch's two CPU kernels word it differently
            raise IndexError("index out of range in self")
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
        self.value = value  # the fill value, a number or a tensor (torch.onnx.export reads it)
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
    if x._data.ndim == 0:  # a 0-d tensor: one (or no) row of zero coordinates
        return _make(xp.zeros((idx[0].size, 0), dtype=xp.int64), x.device)
    return _make(xp.stack(idx, axis=1).astype(xp.int64, copy=False), x.device)


def where(condition, a=None, b=None):
    from .pointwise import where as _where

    return _where(condition, a, b)


# ---- the scatter family: scatter, scatter_reduce, index_add/copy/fill/reduce, index_put, put -------
# Each index_* op along `dim` is the scatter op with its 1-D index spread over the source's shape,
# so one set of kernels (scatter by coordinate grids, reduce by ufunc.at) serves both families.
# ufunc.at applies every repeated index in turn, so repeats accumulate and no gradient is lost.
def _grids(xp, idx, dim: int) -> tuple:
    """Coordinates of every element of `idx` with its own values along `dim` (for target[grids] = src)."""
    nd = idx.ndim
    grids = [xp.arange(n).reshape((1,) * i + (n,) + (1,) * (nd - i - 1)) for i, n in enumerate(idx.shape)]
    grids[dim] = idx  # (open grids that broadcast, like np.indices(sparse=True), on either backend)
    return tuple(grids)


def _shape_str(shape) -> str:
    return "[" + ", ".join(map(str, shape)) + "]"


def _check_scatter(name: str, x: Tensor, dim: int, index: Tensor, src=None) -> int:
    """PyTorch's checks for scatter-like ops; returns the wrapped dim."""
    d, idx = x._data, index._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    dim = wrap_dim(dim, d.ndim)
    if idx.ndim != d.ndim and not (idx.ndim <= 1 and d.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    sd = src._data if isinstance(src, Tensor) else None
    if sd is not None and sd.dtype != d.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
    if d.ndim and idx.ndim:
        too_big = any(i != dim and idx.shape[i] > d.shape[i] for i in range(d.ndim))
        if sd is not None and sd.ndim == idx.ndim:
            too_big = too_big or any(idx.shape[i] > sd.shape[i] for i in range(d.ndim))
        if too_big:
            raise RuntimeError(f"Expected index {_shape_str(idx.shape)} to be no larger than self "
                               f"{_shape_str(d.shape)} apart from dimension {dim}"
                               + (f" and to be no larger size than src {_shape_str(sd.shape)}" if sd is not None else ""))
    _check_bounds(idx, dim, d.shape[dim] if d.ndim else 1)
    return dim


def _as_nd(d, idx):
    """0-d self/index/src are scattered as 1-element 1-d arrays."""
    return d.reshape(1) if d.ndim == 0 else d, idx.reshape(1) if idx.ndim == 0 else idx


def _src_part(sd, idx_shape):
    """The corner of src that the index covers (PyTorch reads only src[:index.shape])."""
    if sd.ndim == 0:
        return sd.reshape((1,) * len(idx_shape)) if idx_shape else sd
    return sd[tuple(slice(0, s) for s in idx_shape)]


def _scatter_array(x: Tensor, dim: int, index: Tensor, src, reduce: str | None = None):
    """A copy of x's array with src (a tensor or a number) scattered in along dim."""
    xp = x.device.xp
    data, idx = _as_nd(x._data.copy(), index._data)
    grids = _grids(xp, idx, dim)
    values = _src_part(src._data, idx.shape) if isinstance(src, Tensor) else fill_value(src, data.dtype)
    if reduce is None:
        data[grids] = values
    else:
        _ufunc_at(x.device.backend, "add" if reduce == "add" else "multiply", data, grids, values)
    return data.reshape(x._data.shape)


def _ufunc_at(backend, name: str, target, grids, values) -> None:
    """target[grids] = name(target[grids], values) in place, repeated positions applied one after another.

    NumPy's ufunc.at does this for every ufunc; CuPy's only for those with atomic GPU operations
    (add, maximum, minimum), so the rest go through `_ufunc_at_in_rounds`.
    """
    if backend.name == "cpu" or name in ("add", "maximum", "minimum"):
        getattr(backend.xp, name).at(target, grids, values)
    else:
        _ufunc_at_in_rounds(backend.xp, name, target, grids, values)


def _ufunc_at_in_rounds(xp, name: str, target, grids, values) -> None:
    """ufunc.at by plain fancy-index writes: round r applies every position's r-th value (in input order),
    so no write has a repeated index; as many rounds as the most repeated position has values."""
    import numpy as np

    shape = np.broadcast_shapes(*(g.shape for g in grids))
    flat = 0
    for g, n in zip(grids, target.shape):
        flat = flat * n + g  # each element's position in target.reshape(-1)
    flat = xp.broadcast_to(flat, shape).reshape(-1)
    vals = xp.broadcast_to(xp.asarray(values, dtype=target.dtype), shape).reshape(-1)
    order = xp.argsort(flat, kind="stable")
    sorted_flat = flat[order]
    first = xp.ones(flat.shape, dtype=bool)
    first[1:] = sorted_flat[1:] != sorted_flat[:-1]
    start = xp.flatnonzero(first)
    rank = xp.arange(flat.size) - xp.repeat(start, xp.diff(xp.append(start, flat.size)))
    out = target.reshape(-1)
    ufunc = getattr(xp, name)
    for r in range(int(rank.max()) + 1 if rank.size else 0):
        pick = order[rank == r]
        out[flat[pick]] = ufunc(out[flat[pick]], vals[pick])


class ScatterBackward0(Node):
    """scatter with a src tensor: self's gradient is zero where written, src's is read back at index."""

    def __init__(self, x, dim, index, src):
        super().__init__((x, src), ())
        self.dim, self.index, self.src_shape = dim, index, src._data.shape

    def backward(self, g):
        n = self.next_functions
        gx = scatter(g, self.dim, self.index, 0.0) if n[0][0] is not None else None
        gsrc = None
        if n[1][0] is not None:
            gsrc = gather(g, self.dim, self.index)
            if gsrc._data.shape != self.src_shape:  # src larger than index: the unread part gets zeros
                gsrc = slice_into_zeros(gsrc, tuple(slice(0, s) for s in gsrc._data.shape), self.src_shape)
        return gx, gsrc

    def _release_extra(self):
        self.index = None


class ScatterBackward1(Node):
    def __init__(self, x, dim, index):
        super().__init__((x,), ())
        self.dim, self.index = dim, index

    def backward(self, g):
        return (scatter(g, self.dim, self.index, 0.0),)

    def _release_extra(self):
        self.index = None


def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce: str | None = None) -> Tensor:
    """A copy of input with src[i][j] (or a number) written at input[index[i][j]][j] (dim=0), and so on.

    reduce='add' or 'multiply' combines with what is there instead of overwriting (no gradient).
    """
    if src is None:
        src = value
    if reduce is not None and reduce not in ("add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    dim = _check_scatter("scatter", input, dim, index, src)
    if reduce is not None and isinstance(src, Tensor):
        import warnings

        warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated and will be removed in a "
                      "future PyTorch release. Use torch.scatter_reduce instead for more reduction options.",
                      UserWarning, stacklevel=2)
    out = _make(_scatter_array(input, dim, index, src, reduce), input.device)
    tensor_src = isinstance(src, Tensor)
    if reduce is not None:  # PyTorch has no derivative for scatter's reduce forms
        from .sorting import not_differentiable

        return not_differentiable(out, (input, src if tensor_src else None), "scatter")
    if _GradMode.enabled and (input._requires_grad or (tensor_src and src._requires_grad)):
        record(out, ScatterBackward0(input, dim, index, src) if tensor_src else ScatterBackward1(input, dim, index))
    return out


# ---- scatter_reduce ------------------------------------------------------------------------------
_REDUCE_UFUNCS = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum", "amin": "minimum"}


def _identity(reduce: str, np_dtype):
    """The value a reduction starts from when self is not included."""
    import numpy as np

    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if np.dtype(np_dtype).kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    if np.dtype(np_dtype).kind == "b":
        return reduce == "amin"
    info = np.iinfo(np_dtype)
    return info.min if reduce == "amax" else info.max


def _scatter_reduce_array(x: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, include_self: bool):
    xp = x.device.xp
    data, idx = _as_nd(x._data.copy(), index._data)
    grids = _grids(xp, idx, dim)
    values = _src_part(src._data, idx.shape)
    if not include_self:
        data[grids] = _identity(reduce, data.dtype)
    if reduce == "sum" or reduce == "mean":
        x.device.backend.scatter_add(data, grids, values)
    else:
        _ufunc_at(x.device.backend, _REDUCE_UFUNCS[reduce], data, grids, values)
    if reduce == "mean":
        count = xp.ones(data.shape, dtype=xp.int64) if include_self else xp.zeros(data.shape, dtype=xp.int64)
        x.device.backend.scatter_add(count, grids, xp.ones(idx.shape, dtype=xp.int64))
        count[count == 0] = 1
        data = data // count.astype(data.dtype) if data.dtype.kind in "iub" else data / count.astype(data.dtype)
    return data.reshape(x._data.shape)


class ScatterReduceBackward0(Node):
    """PyTorch's scatter_reduce gradients: ties of amax/amin share the gradient evenly."""

    def __init__(self, x, dim, index, src, reduce, include_self, result):
        super().__init__((x, src), (x, src, result))
        self.dim, self.index, self.reduce, self.include_self = dim, index, reduce, include_self

    def _release_extra(self):
        self.index = None

    def backward(self, g):
        from . import pointwise as P

        x, src, result = self.saved_tensors
        dim, index, reduce = self.dim, self.index, self.reduce
        take = self._take
        if reduce == "sum":
            gx, gsrc = g, take(g)
        elif reduce == "mean":
            n = P.add(_ones_or_zeros(g, self.include_self), _count_scatters(g, dim, index, src))
            n = n.masked_fill(P.eq(n, 0), 1)
            gx, gsrc = P.div(g, n), P.div(take(g), take(n))
        elif reduce == "prod":
            gx, gsrc = self._prod(g, x, src, result)
        else:  # amax / amin
            value = take(result)
            self_hit = P.eq(x, result).to(g.dtype)
            src_hit = P.eq(src, value).to(g.dtype)
            spread = P.div(g, self._scatter_add(self_hit, src_hit))
            gx, gsrc = P.mul(self_hit, spread), P.mul(src_hit, take(spread))
        if not self.include_self:
            gx = self._zero_scattered(gx)
        return gx, gsrc

    # the index_* subclass reads and writes along dim with a 1-D index instead
    def _take(self, t):
        return gather(t, self.dim, self.index)

    def _scatter_add(self, t, src):
        return scatter_add(t, self.dim, self.index, src)

    def _zero_scattered(self, t):
        return scatter(t, self.dim, self.index, 0.0)

    def _reduce_again(self, x, src):
        return scatter_reduce(x, self.dim, self.index, src, "prod", include_self=self.include_self)

    def _prod(self, g, x, src, result):
        """Products divided by the factor left out, with zeros (one per product) handled exactly."""
        from . import pointwise as P

        masked_self = x.masked_fill(P.eq(x, 0), 1)
        gx = P.div(P.mul(g, self._reduce_again(masked_self, src)), masked_self)
        src_zero = P.eq(src, 0)
        zeros_at = self._take(self._scatter_add(P.mul(x, 0.0), src_zero.to(x.dtype)))
        single_zero = P.logical_and(src_zero, P.eq(zeros_at, 1))
        without_zero = self._reduce_again(x, src.masked_fill(single_zero, 1))
        gsrc = P.where(single_zero, self._take(P.mul(g, without_zero)),
                       P.div(self._take(P.mul(g, result)), src.masked_fill(src_zero, 1)))
        return gx, gsrc


def _ones_or_zeros(g: Tensor, ones: bool) -> Tensor:
    xp = g.device.xp
    return _make((xp.ones if ones else xp.zeros)(g._data.shape, dtype=g._data.dtype), g.device)


def _count_scatters(g: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """How many src elements each position of the result receives."""
    xp = g.device.xp
    counts = _make(xp.zeros(g._data.shape, dtype=g._data.dtype), g.device)
    return scatter_add(counts, dim, index, _make(xp.ones(index._data.shape, dtype=g._data.dtype), g.device))


def _check_reduce(name: str, reduce: str, allowed: tuple) -> None:
    if reduce not in allowed:
        raise RuntimeError(f"{name}(): Expected reduce to be one of {', '.join(allowed[:-1])} or {allowed[-1]} "
                           f"but got {reduce}.")


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """src reduced into a copy of input at index along dim: 'sum', 'prod', 'mean', 'amax' or 'amin'."""
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)  # PyTorch's older names
    if reduce not in _REDUCE_UFUNCS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    dim = _check_scatter("scatter_reduce", input, dim, index, src)
    if reduce == "mean" and input._data.dtype.kind == "b":
        raise not_implemented("scatter_gather_tensor_cpu_reduce_mean", input._data.dtype)
    out = _make(_scatter_reduce_array(input, dim, index, src, reduce, include_self), input.device)
    if _GradMode.enabled and (input._requires_grad or src._requires_grad):
        from .reduction import _alias

        record(out, ScatterReduceBackward0(input, dim, index, src, reduce, include_self, _alias(out)))
    return out


# ---- index_add / index_copy / index_fill / index_reduce -----------------------------------------
def _check_index_op(name: str, x: Tensor, dim: int, index: Tensor, source=None, *, error=RuntimeError,
                    negative: bool = False) -> int:
    """PyTorch's checks for the index_* family (a 1-D index along dim); returns the wrapped dim."""
    d, idx = x._data, index._data
    dim = wrap_dim(dim, d.ndim)
    if idx.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector, but got dim: {idx.ndim} with type: "
                         f"{_TYPE_WORDS.get(idx.dtype.name, idx.dtype.name)} and size: {_shape_str(idx.shape)}")
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index but got: "
                           f"{_TYPE_WORDS.get(idx.dtype.name, idx.dtype.name)}")
    if isinstance(source, Tensor):
        sd = source._data
        n = sd.shape[dim] if sd.ndim else 1
        if idx.size != n:
            sep = ": " if name == "index_add_" else " "
            raise error(f"{name}(): Number of indices ({idx.size}) should be equal to source.size(dim){sep}({n})"
                        + (f", for dim: {dim}" if name == "index_add_" else ""))
    size = d.shape[dim] if d.ndim else 1
    if idx.size and (idx.min() < (-size if negative else 0) or idx.max() >= size):  # only index_fill wraps
        bad = int(idx.max()) if idx.max() >= size else int(idx.min())
        if name == "index_reduce_":
            raise IndexError("index out of range in self")
        raise error(f"{'index_copy_(): ' if name == 'index_copy_' else ''}index {bad} is out of bounds for "
                    f"dimension {dim} with size {size}")
    return dim


_TYPE_WORDS = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
               "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _spread_index(x: Tensor, dim: int, index: Tensor, shape) -> Tensor:
    """The 1-D `index` along dim, broadcast to `shape` (a scatter index for the index_* ops)."""
    xp = x.device.xp
    idx = index._data.reshape(-1).astype(xp.int64, copy=False)
    size = x._data.shape[dim] if x._data.ndim else 1
    idx = xp.where(idx < 0, idx + size, idx)  # the index_* ops accept negative indices
    if not shape:
        return _make(idx.reshape(()), x.device)
    view = [1] * len(shape)
    view[dim] = idx.size
    return _make(xp.ascontiguousarray(xp.broadcast_to(idx.reshape(view), shape)), x.device)


class IndexAddBackward0(Node):
    def __init__(self, x, dim, index, source, alpha):
        super().__init__((x, source), ())
        self.dim, self.index, self.alpha, self.src_shape = dim, index, alpha, source._data.shape

    def backward(self, g):
        n = self.next_functions
        gs = None
        if n[1][0] is not None:  # source's gradient: the rows it was added to
            gs = index_select(g, self.dim, self.index)
            gs = gs.reshape(self.src_shape) if gs._data.shape != self.src_shape else gs
            if self.alpha != 1:
                gs = gs * self.alpha
        return (g if n[0][0] is not None else None), gs

    def _release_extra(self):
        self.index = None


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """input with alpha * source[.., i, ..] added at input[.., index[i], ..] along dim (repeats add up)."""
    dim = _check_index_op("index_add_", input, dim, index, source)
    d, sd = input._data, source._data
    if sd.dtype != d.dtype:
        raise RuntimeError(f"index_add_(): self ({_TYPE_WORDS[d.dtype.name]}) and source "
                           f"({_TYPE_WORDS[sd.dtype.name]}) must have the same scalar type")
    if sd.ndim and d.ndim and (sd.ndim != d.ndim or any(a != b for i, (a, b) in enumerate(zip(d.shape, sd.shape))
                                                      if i != dim)):
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the specified dimension. "
                           f"Got self.shape = {_shape_str(d.shape)} source.shape = {_shape_str(sd.shape)}")
    if d.dtype.kind in "iu":
        fill_value(alpha, d.dtype)  # PyTorch converts alpha to the integer type, which must hold it
        alpha = fill_value(int(alpha), d.dtype)
    src = (sd * alpha if alpha != 1 else sd).astype(d.dtype, copy=False)
    data = d.copy().reshape(d.shape or (1,))
    # whole slices along dim at once; ufunc.at adds the slices of repeated indices one after another
    input.device.backend.scatter_add(data, (slice(None),) * dim + (index._data.reshape(-1),),
                                     src.reshape(data.shape[:dim] + (-1,) + data.shape[dim + 1:]))
    out = _make(data.reshape(d.shape), input.device)
    if _GradMode.enabled and (input._requires_grad or source._requires_grad):
        record(out, IndexAddBackward0(input, dim, index, source, alpha))
    return out


class IndexCopyBackward0(ScatterBackward0):
    pass


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """input with source[.., i, ..] written at input[.., index[i], ..] along dim."""
    dim = _check_index_op("index_copy_", input, dim, index, source, error=IndexError)
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, but got (self) "
                           f"{_TYPE_WORDS[input._data.dtype.name]} and (source) {_TYPE_WORDS[source._data.dtype.name]}")
    spread = _spread_index(input, dim, index, source._data.shape)
    out = _make(_scatter_array(input, dim, spread, source), input.device)
    if _GradMode.enabled and (input._requires_grad or source._requires_grad):
        record(out, IndexCopyBackward0(input, dim, spread, source))
    return out


class IndexFillBackward0(Node):
    def __init__(self, x, dim, index, value):
        super().__init__((x, value), ())
        self.dim, self.index = dim, index

    def backward(self, g):
        from .reduction import sum as _sum

        n = self.next_functions
        gx = index_fill(g, self.dim, self.index, 0.0) if n[0][0] is not None else None
        gv = _sum(index_select(g, self.dim, self.index)) if n[1][0] is not None else None
        return gx, gv

    def _release_extra(self):
        self.index = None


class IndexFillBackward1(IndexFillBackward0):
    pass


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """input with every slice input[.., index[i], ..] along dim filled with `value` (a number or 0-d tensor)."""
    if isinstance(value, Tensor) and value._data.ndim != 0:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value._data.ndim} dimension(s).")
    dim = _check_index_op("index_fill_", input, dim, index, error=IndexError, negative=True)
    xp = input.device.xp
    d = input._data
    data = d.copy().reshape(d.shape or (1,))
    idx = index._data.reshape(-1)
    v = value._data if isinstance(value, Tensor) else fill_value(value, d.dtype)
    data[(slice(None),) * dim + (idx,)] = xp.asarray(v).astype(d.dtype)
    out = _make(data.reshape(d.shape), input.device)
    if _GradMode.enabled and (input._requires_grad or getattr(value, "_requires_grad", False)):
        node = IndexFillBackward1 if isinstance(value, Tensor) else IndexFillBackward0
        record(out, node(input, dim, _make(idx, input.device), value))
    return out


class IndexReduceBackward0(ScatterReduceBackward0):
    pass


def index_reduce(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """source reduced into input along dim at the 1-D index: 'prod', 'mean', 'amax' or 'amin'."""
    import warnings

    warnings.warn("index_reduce() is in beta and the API may change at any time.", UserWarning, stacklevel=2)
    _check_reduce("index_reduce", reduce, ("prod", "mean", "amax", "amin"))
    dim = _check_index_op("index_reduce_", input, dim, index, source, error=IndexError)
    if source._data.dtype != input._data.dtype:
        raise RuntimeError("index_reduce_(): self and source must have the same scalar type")
    if input._data.dtype.kind == "b" and (reduce == "mean" or not include_self):
        raise not_implemented("div_floor_cpu" if include_self else "index_reduce_func_exclude_input_init",
                              input._data.dtype)
    spread = _spread_index(input, dim, index, source._data.shape)
    out = _make(_scatter_reduce_array(input, dim, spread, source, reduce, include_self), input.device)
    if _GradMode.enabled and (input._requires_grad or source._requires_grad):
        from .reduction import _alias

        record(out, IndexReduceBackward0(input, dim, spread, source, reduce, include_self, _alias(out)))
    return out


# ---- index_put with tensors, put, take -----------------------------------------------------------
class _IndexPutAccumulate(Node):
    """x.index_put(indices, v, accumulate=True): x's gradient passes through, v's is read back."""

    def name(self) -> str:
        return "IndexPutBackward0"  # PyTorch's name for both forms of index_put

    def __init__(self, x, index, v):
        super().__init__((x, v), ())
        self.index, self.v_shape = index, v._data.shape

    def backward(self, g):
        n = self.next_functions
        gv = sum_to(getitem(g, self.index), self.v_shape) if n[1][0] is not None else None
        return (g if n[0][0] is not None else None), gv

    def _release_extra(self):
        self.index = None


def index_put_tensors(input: Tensor, indices, values: Tensor, accumulate: bool = False) -> Tensor:
    """torch.index_put: input with input[indices] = values (or += values, repeats adding up)."""
    if values._data.dtype != input._data.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{_TYPE_WORDS[input._data.dtype.name]} for the destination and "
                           f"{_TYPE_WORDS[values._data.dtype.name]} for the source.")
    index = tuple(indices)
    if not accumulate:
        return index_put(input, index, values)
    idx, _ = to_array_index(index, input)
    data = input._data.copy()
    try:
        target_shape = data[idx].shape
        v = input.device.xp.broadcast_to(values._data, target_shape)
    except IndexError as e:
        raise _index_error(e, data.shape, idx) from None
    except ValueError:
        raise RuntimeError(f"shape mismatch: value tensor of shape {_shape_str(values._data.shape)} cannot be "
                           f"broadcast to indexing result of shape {_shape_str(target_shape)}") from None
    input.device.backend.scatter_add(data, idx, v)
    out = _make(data, input.device)
    if _GradMode.enabled and (input._requires_grad or values._requires_grad):
        record(out, _IndexPutAccumulate(input, idx, values))
    return out


def _flat_positions(x: Tensor, index: Tensor, name: str):
    """take/put's indices into the flattened tensor (negative ones counted from the end), checked."""
    idx = index._data
    n = x._data.size
    if idx.dtype != _dtype.int64.np:
        raise RuntimeError(f"{name}(): Expected a long tensor for index, but got "
                           f"{_TYPE_WORDS.get(idx.dtype.name, idx.dtype.name)}")
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = int(idx.max()) if idx.max() >= n else int(idx.min())
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")
    return idx % n if n else idx


class TakeBackward0(Node):
    def __init__(self, x, positions):
        super().__init__((x,), ())
        self.in_shape, self.positions = x._data.shape, positions

    def backward(self, g):
        flat = index_into_zeros(g.reshape(-1), (self.positions.reshape(-1),), (_numel(self.in_shape),))
        return (flat.reshape(self.in_shape),)

    def _release_extra(self):
        self.positions = None


def _numel(shape) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def take(input: Tensor, index: Tensor) -> Tensor:
    """input's elements at flat positions `index` (as if input were 1-D), in index's shape."""
    pos = _flat_positions(input, index, "take")
    out = _make(input._data.reshape(-1)[pos], input.device)
    if _GradMode.enabled and input._requires_grad:
        record(out, TakeBackward0(input, pos))
    return out


class PutBackward0(Node):
    def __init__(self, x, positions, source, accumulate):
        super().__init__((x, source), ())
        self.positions, self.src_shape, self.accumulate = positions, source._data.shape, accumulate

    def backward(self, g):
        n = self.next_functions
        gx = gs = None
        pos = _make(self.positions, g.device)
        if n[0][0] is not None:
            gx = g if self.accumulate else put(g, pos, _make(g.device.xp.zeros(self.src_shape, dtype=g._data.dtype),
                                                             g.device))
        if n[1][0] is not None:
            gs = take(g, pos).reshape(self.src_shape)
        return gx, gs

    def _release_extra(self):
        self.positions = None


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """input with source written (or added) at flat positions `index`."""
    if index._data.size != source._data.size:
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got "
                         f"source.numel() = {source._data.size}, index.numel() = {index._data.size}")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got self.dtype = "
                           f"{_TYPE_WORDS[input._data.dtype.name]} and source.dtype = "
                           f"{_TYPE_WORDS[source._data.dtype.name]}")
    pos = _flat_positions(input, index, "put_").reshape(-1)
    data = input._data.copy().reshape(-1)
    src = source._data.reshape(-1)
    if accumulate:
        input.device.backend.scatter_add(data, (pos,), src)
    else:
        data[pos] = src
    out = _make(data.reshape(input._data.shape), input.device)
    if _GradMode.enabled and (input._requires_grad or source._requires_grad):
        record(out, PutBackward0(input, pos, source, accumulate))
    return out


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None, *, axis=None) -> Tensor:
    """gather with indices broadcast against input outside dim (flattened input and indices if dim is None)."""
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "take_along_dim", None)
    from .shape import expand, view

    if indices._data.dtype != _dtype.int64.np:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{_TYPE_WORDS.get(indices._data.dtype.name, indices._data.dtype.name)}")
    if dim is None:  # PyTorch views both as 1-D, so non-contiguous inputs are an error there too
        return gather(view(input, (-1,)), 0, view(indices, (-1,)))
    nd = input._data.ndim
    if indices._data.ndim != nd:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {nd} dimensions for input, and {indices._data.ndim} dimensions for indices")
    dim = wrap_dim(dim, nd)
    import numpy as np

    shape = list(input._data.shape)
    shape[dim] = indices._data.shape[dim]
    try:
        common = list(np.broadcast_shapes(tuple(shape), indices._data.shape))
    except ValueError:
        from ._util import broadcast_error

        raise broadcast_error(tuple(shape), indices._data.shape) from None
    idx = expand(indices, common) if tuple(common) != indices._data.shape else indices
    common[dim] = input._data.shape[dim]
    src = expand(input, common) if tuple(common) != input._data.shape else input
    return gather(src, dim, idx)


# ---- masks -----------------------------------------------------------------------------------------
class MaskedSelectBackward0(Node):
    def __init__(self, x, mask):
        super().__init__((x,), ())
        self.in_shape, self.mask = x._data.shape, mask

    def backward(self, g):
        import numpy as np

        shape = np.broadcast_shapes(self.in_shape, self.mask.shape)
        mask = g.device.xp.broadcast_to(self.mask, shape)
        return (sum_to(index_into_zeros(g, (mask,), shape), self.in_shape),)

    def _release_extra(self):
        self.mask = None


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements of input where the (broadcast) bool mask is True, as a 1-D tensor."""
    xp = input.device.xp
    if mask._data.dtype.kind != "b":
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    try:
        d, m = xp.broadcast_arrays(input._data, mask._data)
    except ValueError:
        from ._util import broadcast_error

        raise broadcast_error(mask._data.shape, input._data.shape) from None
    out = _make(d[m], input.device)
    if _GradMode.enabled and input._requires_grad:
        record(out, MaskedSelectBackward0(input, mask._data))
    return out


class MaskedScatterBackward0(Node):
    def __init__(self, x, mask, source):
        super().__init__((x, source), ())
        self.mask, self.src_shape, self.in_shape = mask, source._data.shape, x._data.shape

    def backward(self, g):
        n = self.next_functions
        gx = gs = None
        mask = _make(self.mask, g.device)
        if n[0][0] is not None:
            gx = sum_to(masked_fill(g, mask, 0.0), self.in_shape)
        if n[1][0] is not None:  # the first mask.sum() elements of source were used, in order
            picked = masked_select(g, mask)
            size = _numel(self.src_shape)
            flat = slice_into_zeros(picked, (slice(0, picked._data.size),), (size,))
            gs = flat.reshape(self.src_shape)
        return gx, gs

    def _release_extra(self):
        self.mask = None


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """input with source's first elements, in order, written where the (broadcast) mask is True."""
    xp = input.device.xp
    if mask._data.dtype.kind != "b":
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{_TYPE_WORDS.get(mask._data.dtype.name, mask._data.dtype.name)}")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got"
                           f"{_TYPE_WORDS[input._data.dtype.name]} and {_TYPE_WORDS[source._data.dtype.name]}")
    try:  # the result has the broadcast shape of input and mask
        d, m = xp.broadcast_arrays(input._data, mask._data)
    except ValueError:
        from ._util import broadcast_error

        raise broadcast_error(input._data.shape, mask._data.shape) from None
    count = int(m.sum())
    if count > source._data.size:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    data = d.copy()
    data[m] = source._data.reshape(-1)[:count]
    out = _make(data, input.device)
    if _GradMode.enabled and (input._requires_grad or source._requires_grad):
        record(out, MaskedScatterBackward0(input, m, source))
    return out


def nonzero_static(x: Tensor, size: int, fill_value: int = -1) -> Tensor:
    """nonzero(x) cut or padded (with rows of fill_value) to exactly `size` rows: (size, x.dim()) int64."""
    idx = nonzero(x)._data
    xp = x.device.xp
    if idx.shape[0] >= size:
        return _make(xp.ascontiguousarray(idx[:size]), x.device)
    pad = xp.full((size - idx.shape[0], idx.shape[1]), fill_value, dtype=idx.dtype)
    return _make(xp.concatenate([idx, pad]), x.device)
