"""Searching and sorting: unique, order statistics (kthvalue, median, mode, quantile), searchsorted,
bincount and histograms.

The order statistics pick one element per row, so their gradients go to the picked index (the
`MaxBackward0` rule); quantile is composed of sort, gather and lerp, so autograd differentiates it.
Counting ops (unique, bincount, histc, ...) have no gradient, as in PyTorch.
"""
from __future__ import annotations

from .. import _dtype
from ..amp.autocast_mode import autocast_op
from ._util import _C_TYPES, Node, Tensor, _GradMode, _make, c_type_name, not_implemented, numpy_name, record, wrap_dim
from .reduction import MaxBackward0, _return_type, sort

kthvalue_rt, median_rt, nanmedian_rt, mode_rt = (_return_type(n) for n in ("kthvalue", "median", "nanmedian", "mode"))


class _HistogramPair(tuple):
    """torch.return_types.histogram: a named (hist, bin_edges) pair."""

    def __new__(cls, hist, bin_edges):
        return tuple.__new__(cls, (hist, bin_edges))

    hist = property(lambda self: self[0])
    bin_edges = property(lambda self: self[1])

    def __repr__(self) -> str:
        return f"torch.return_types.histogram(\nhist={self[0]!r},\nbin_edges={self[1]!r})"


histogram_rt = type("histogram", (_HistogramPair,), {"__slots__": ()})


# ---- helpers -------------------------------------------------------------------------------------
def _rows(xp, d, dim: int):
    """`d` with `dim` moved last and flattened to (rows, n), plus the shape to undo it."""
    moved = xp.moveaxis(d, dim, -1)
    return moved.reshape(-1, moved.shape[-1] if moved.ndim else 1), moved.shape[:-1]


def _unrows(xp, r, lead_shape, dim: int, keepdim: bool):
    """One value per row of `_rows` back to the reduced shape (dim kept as 1 with keepdim)."""
    out = r.reshape(lead_shape)
    return xp.expand_dims(out, dim) if keepdim else out


class _NoDerivative(Node):
    """A result that requires grad but whose op PyTorch cannot differentiate."""

    op = ""

    def __init__(self, x):
        super().__init__((x,), ())

    def backward(self, g):
        raise NotImplementedError(f"the derivative for '{self.op}' is not implemented.")


class Unique2Backward0(_NoDerivative):
    op = "_unique2"


class UniqueDimBackward0(_NoDerivative):
    op = "unique_dim"


class UniqueConsecutiveBackward0(_NoDerivative):
    op = "unique_consecutive"


def _no_derivative(out: Tensor, x: Tensor, node) -> Tensor:
    if _GradMode.enabled and x._requires_grad:
        record(out, node(x))
    return out


class NotImplementedBackward(Node):
    """PyTorch's stand-in node for an op without a derivative formula (its grad_fn prints NotImplemented)."""

    def __init__(self, inputs, op: str):
        super().__init__(tuple(inputs), ())
        self.op = op

    def name(self) -> str:
        return "torch::autograd::NotImplemented"

    def __repr__(self) -> str:
        return f"<NotImplemented object at {hex(id(self))}>"

    def backward(self, g):
        raise RuntimeError(f"derivative for aten::{self.op} is not implemented")


def not_differentiable(out: Tensor, inputs, op: str) -> Tensor:
    """Mark `out` as requiring grad (as PyTorch does) with a node whose backward is an error."""
    if _GradMode.enabled and any(getattr(t, "_requires_grad", False) for t in inputs):
        record(out, NotImplementedBackward(inputs, op))
    return out


# ---- unique ----------------------------------------------------------------------------------------
def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,
           dim: int | None = None):
    """The distinct values (sorted; of slices along `dim` if given), with optional inverse and counts.

    inverse has input's shape (or (input.size(dim),)); counts has one entry per distinct value.
    `sorted=False` is accepted and still sorts, as PyTorch does on the CPU.
    """
    xp = input.device.xp
    d = input._data
    if dim is None:
        # NaNs stay apart, as in PyTorch (each NaN is its own value)
        values, inverse, counts = xp.unique(d.reshape(-1), return_inverse=True, return_counts=True, equal_nan=False)
        inverse = inverse.reshape(d.shape)
        node = Unique2Backward0
    else:
        dim = wrap_dim(dim, d.ndim)
        _check_unique_dims(d, dim)
        if d.ndim == 0 or d.shape[dim] == 0:
            values, inverse, counts = d, xp.zeros(0, dtype=xp.int64), xp.zeros(0, dtype=xp.int64)
        else:
            values, inverse, counts = xp.unique(d, return_inverse=True, return_counts=True, axis=dim)
        inverse = inverse.reshape(-1)
        node = UniqueDimBackward0
    out = _no_derivative(_make(values, input.device), input, node)
    extra = []
    if return_inverse:
        extra.append(_make(inverse.astype(xp.int64), input.device))
    if return_counts:
        extra.append(_make(counts.astype(xp.int64), input.device))
    return (out, *extra) if extra else out


def _check_unique_dims(d, dim: int) -> None:
    if d.size == 0 and d.ndim and d.shape[dim] != 0:
        raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique cannot be applied")


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None):
    """Collapse runs of equal values (or equal slices along `dim`) into one."""
    xp = input.device.xp
    d = input._data
    if dim is None:
        flat = d.reshape(-1)
        change = flat[1:] != flat[:-1]
        along = flat
    else:
        dim = wrap_dim(dim, d.ndim)
        _check_unique_dims(d, dim)
        if d.size == 0:  # the selected dim is empty: no slices at all
            out = _no_derivative(_make(d.copy(), input.device), input, UniqueConsecutiveBackward0)
            empty = _make(xp.zeros(0, dtype=xp.int64), input.device)
            extra = [empty] * (bool(return_inverse) + bool(return_counts))
            return (out, *extra) if extra else out
        along = xp.moveaxis(d, dim, 0)
        change = (along[1:] != along[:-1]).reshape(along.shape[0] - 1, d.size // along.shape[0]).any(axis=1)
    n = along.shape[0] if along.ndim else 1
    start = xp.ones(n, dtype=bool)
    start[1:] = change
    firsts = xp.flatnonzero(start)
    values = along[firsts] if dim is None else xp.moveaxis(along[firsts], 0, dim)
    out = _no_derivative(_make(values, input.device), input, UniqueConsecutiveBackward0)
    extra = []
    if return_inverse:
        inv = xp.cumsum(start) - 1
        extra.append(_make(inv.reshape(d.shape if dim is None else -1).astype(xp.int64), input.device))
    if return_counts:
        extra.append(_make(xp.diff(xp.append(firsts, n)).astype(xp.int64), input.device))
    return (out, *extra) if extra else out


# ---- where the nonzeros are ---------------------------------------------------------------------
def argwhere(input: Tensor) -> Tensor:
    """The (n, input.dim()) indices of the nonzero elements."""
    from .indexing import nonzero

    return nonzero(input)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False, *, axis=None) -> Tensor:
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "argsort", -1)
    return sort(input, dim, descending, stable).indices


def msort(input: Tensor) -> Tensor:
    """sort along the first dim, values only."""
    return sort(input, 0).values


# ---- order statistics ----------------------------------------------------------------------------
class KthvalueBackward0(MaxBackward0):
    pass


class MedianBackward1(MaxBackward0):
    pass


class NanmedianBackward1(MaxBackward0):
    pass


class ModeBackward0(MaxBackward0):
    pass


def _pick(x: Tensor, dim: int, keepdim: bool, position, rt, node, name: str, fixed: int | None = None):
    """values/indices of the element at `position(sorted_rows, order_rows)` of each row along dim.

    `position` returns, per row, the column (in sorted order) to take; the index reported is
    that element's place in the input. `fixed`: that column when it is the same for every row
    of NaN-free data, which a partition finds without sorting.
    """
    xp = x.device.xp
    d = x._data
    dim = wrap_dim(dim, d.ndim)
    if d.ndim == 0:  # one element: itself, at index 0
        vals, idx = _make(d.copy(), x.device), _make(xp.zeros((), dtype=xp.int64), x.device)
        if _GradMode.enabled and x._requires_grad:
            record(vals, node(x, idx, dim, keepdim))
        return rt(vals, idx)
    if d.shape[dim] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {dim} to have non-zero size.")
    rows, lead = _rows(xp, d, dim)
    if fixed is not None and not (d.dtype.kind == "f" and xp.isnan(d).any()):
        indices = xp.argpartition(rows, fixed, axis=1)[:, fixed]  # linear time, where a sort is not
        values = xp.take_along_axis(rows, indices[:, None], axis=1)[:, 0]
    else:
        order = _stable_order(xp, rows)
        srt = xp.take_along_axis(rows, order, axis=1)
        col = position(srt, order)[:, None]
        values = xp.take_along_axis(srt, col, axis=1)[:, 0]
        indices = xp.take_along_axis(order, col, axis=1)[:, 0]
    vals = _make(_unrows(xp, values, lead, dim, keepdim), x.device)
    idx = _make(_unrows(xp, indices.astype(xp.int64), lead, dim, keepdim), x.device)
    if _GradMode.enabled and x._requires_grad:
        record(vals, node(x, idx, dim, keepdim))
    return rt(vals, idx)


def _stable_order(xp, rows):
    """argsort of each row, stable, NaN last (NumPy's order, which is PyTorch's)."""
    return xp.argsort(rows, axis=1, kind="stable")


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False, *, axis=None, keepdims=None):
    """The k-th smallest element along dim (k counts from 1) and its index."""
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "kthvalue", -1)
    if keepdims is not None:
        keepdim = numpy_name(keepdim, keepdims, "kthvalue", False, "keepdims")
    d = input._data
    n = d.shape[wrap_dim(dim, d.ndim)] if d.ndim else 1
    if d.dtype.kind == "b":
        raise not_implemented("kthvalue_cpu", d.dtype)
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {wrap_dim(dim, d.ndim)}")
    return _pick(input, dim, keepdim, lambda srt, order: _full_col(input, srt, k - 1), kthvalue_rt,
                 KthvalueBackward0, "kthvalue", fixed=k - 1)


def _full_col(x: Tensor, srt, col: int):
    return x.device.xp.full(srt.shape[0], col, dtype=x.device.xp.int64)


def _lower_median_col(xp, srt, ignore_nan: bool):
    """Per row, the sorted column of the lower median; a NaN's column where NaN decides the result."""
    nan = xp.isnan(srt) if srt.dtype.kind == "f" else xp.zeros(srt.shape, dtype=bool)
    valid = srt.shape[1] - nan.sum(axis=1)
    if ignore_nan:  # NaNs sort last: the median of the valid ones (an all-NaN row gives a NaN)
        return xp.maximum((valid - 1) // 2, 0)
    # any NaN makes the median NaN: the first NaN, which sorts right after the valid values
    return xp.where(valid < srt.shape[1], valid, (srt.shape[1] - 1) // 2)


class MedianBackward0(Node):
    """median of all elements: the gradient is shared evenly by the elements equal to the result."""

    def __init__(self, x, result):
        super().__init__((x,), (x, result))

    def backward(self, g):
        from . import pointwise as P
        from .reduction import sum as _sum

        x, result = self.saved_tensors
        hit = P.eq(x, result)
        if result._data.dtype.kind == "f" and bool(x.device.xp.isnan(result._data)):
            hit = P.isnan(x)
        mask = hit.to(g.dtype)
        return (mask * (g / _sum(mask)),)


class NanmedianBackward0(MedianBackward0):
    pass


def _median_all(input: Tensor, ignore_nan: bool, node, name: str) -> Tensor:
    xp = input.device.xp
    d = input._data
    if d.dtype.kind == "b":
        raise not_implemented("median_cpu", d.dtype)
    if d.size == 0:
        return _make(xp.asarray(xp.nan, dtype=d.dtype), input.device) if d.dtype.kind == "f" else \
            _raise_empty(name)
    srt = xp.sort(d.reshape(1, -1), axis=1)
    col = _lower_median_col(xp, srt, ignore_nan)
    out = _make(srt[0, col[0]].reshape(()).copy(), input.device)
    if _GradMode.enabled and input._requires_grad:
        from .reduction import _alias

        record(out, node(input, _alias(out)))
    return out


def _raise_empty(name: str):
    raise IndexError(f"{name}() cannot compute for an empty tensor")


def median(input: Tensor, dim: int | None = None, keepdim: bool = False, *, axis=None, keepdims=None):
    """The lower median (of all elements, or along dim with its index); NaN if any NaN is present."""
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "median", None)
    if keepdims is not None:
        keepdim = numpy_name(keepdim, keepdims, "median", False, "keepdims")
    if dim is None:
        return _median_all(input, False, MedianBackward0, "median")
    _no_bool(input, "median_out")
    xp = input.device.xp
    return _pick(input, dim, keepdim, lambda srt, order: _lower_median_col(xp, srt, False), median_rt,
                 MedianBackward1, "median", fixed=_middle(input, dim))


def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False, *, axis=None, keepdims=None):
    """median ignoring NaNs (NaN only where every value is NaN)."""
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "nanmedian", None)
    if keepdims is not None:
        keepdim = numpy_name(keepdim, keepdims, "nanmedian", False, "keepdims")
    if dim is None:
        return _median_all(input, True, NanmedianBackward0, "nanmedian")
    _no_bool(input, "median_out")
    xp = input.device.xp
    return _pick(input, dim, keepdim, lambda srt, order: _lower_median_col(xp, srt, True), nanmedian_rt,
                 NanmedianBackward1, "nanmedian", fixed=_middle(input, dim))


def _middle(x: Tensor, dim: int) -> int | None:
    """The lower median's column in a sorted row along dim (None for an empty dim)."""
    shape = x._data.shape
    n = shape[wrap_dim(dim, len(shape))] if shape else 1
    return (n - 1) // 2 if n else None


def _no_bool(x: Tensor, kernel: str) -> None:
    if x._data.dtype.kind == "b":
        raise not_implemented(kernel, x._data.dtype)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False, *, axis=None, keepdims=None):
    """The most frequent value along dim (the smallest of equally frequent ones) and its last index."""
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "mode", -1)
    if keepdims is not None:
        keepdim = numpy_name(keepdim, keepdims, "mode", False, "keepdims")
    xp = input.device.xp

    def last_of_longest_run(srt, order):
        rows, n = srt.shape
        start = xp.ones(srt.shape, dtype=bool)
        start[:, 1:] = srt[:, 1:] != srt[:, :-1]
        run = xp.cumsum(start, axis=1) - 1  # run number of each sorted element, per row
        # run lengths: one bincount over all rows, each row's run numbers offset into a block of its own
        flat = (run + xp.arange(rows)[:, None] * n).reshape(-1)
        length = xp.bincount(flat, minlength=rows * n).reshape(rows, n)
        per_elem = xp.take_along_axis(length, run, axis=1)
        first = xp.argmax(per_elem, axis=1)  # the first longest run: the smallest value
        return first + xp.take_along_axis(per_elem, first[:, None], axis=1)[:, 0] - 1

    return _pick(input, dim, keepdim, last_of_longest_run, mode_rt, ModeBackward0, "mode")


# ---- quantiles -----------------------------------------------------------------------------------
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


@autocast_op("quantile")
def quantile(input: Tensor, q, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The q-th quantiles (q a number or a 1-D tensor, prepended as a dim); NaN where a NaN is present."""
    return _quantile(input, q, dim, keepdim, interpolation, False)


@autocast_op("nanquantile")
def nanquantile(input: Tensor, q, dim: int | None = None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """quantile ignoring NaNs (NaN only where every value is NaN)."""
    return _quantile(input, q, dim, keepdim, interpolation, True)


def _quantile_checks(input: Tensor, q, name: str, interpolation: str):
    from .creation import tensor

    d = input._data
    if d.size == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if isinstance(q, Tensor):
        if q._data.ndim > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        if d.dtype.kind != "f" or d.dtype.itemsize < 4:
            raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
        if q._data.dtype != d.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        qd = q.device.backend.to_numpy(q._data)
        if qd.size and not ((qd >= 0) & (qd <= 1)).all():
            raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    else:
        if not 0 <= q <= 1:
            raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {q}")
        if d.dtype.kind != "f" or d.dtype.itemsize < 4:
            raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
        q = tensor(q, dtype=input.dtype, device=input.device)
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest, "
                           f"but got {interpolation}")
    return q


def _quantile(input: Tensor, q, dim, keepdim: bool, interpolation: str, ignore_nan: bool) -> Tensor:
    from . import pointwise as P
    from .creation import full_like
    from .indexing import gather
    from .reduction import any as _any, sum as _sum
    from .shape import flatten, movedim, reshape, squeeze, unsqueeze

    scalar_q = not isinstance(q, Tensor)
    q = _quantile_checks(input, q, "quantile", interpolation)  # nanquantile's messages say quantile() too
    nd = input._data.ndim
    # the values to rank, sorted along a last dim: every element (dim=None) or the slices along dim
    if dim is None:
        srt = sort(flatten(input), -1).values
        out_shape = (1,) * nd if keepdim else ()
    else:
        dim = wrap_dim(dim, nd)
        srt = sort(movedim(input, dim, -1), -1).values if nd else reshape(input, (1,))
        shape = list(input._data.shape)
        out_shape = tuple(1 if i == dim else s for i, s in enumerate(shape)) if keepdim else \
            tuple(s for i, s in enumerate(shape) if i != dim)
    srt = unsqueeze(srt, -2)                      # (..., 1, n): one row of ranks per q below
    qs = reshape(q, (-1,))
    n = srt._data.shape[-1]
    nan = P.isnan(srt)
    if ignore_nan:  # rank among the valid values; an all-NaN row has rank 0, a NaN
        ranks = qs * (_sum(P.logical_not(nan), -1) - 1)
        ranks = ranks.masked_fill(ranks < 0, 0)
    else:           # any NaN: rank the last element, which is a NaN
        ranks = (qs * (n - 1)).expand(*srt._data.shape[:-2], qs._data.shape[0])
        ranks = ranks.masked_fill(_any(nan, -1), n - 1)
    ranks = unsqueeze(ranks, -1).detach()         # (..., nq, 1)
    if interpolation == "lower":
        ranks = P.floor(ranks)
    elif interpolation == "higher":
        ranks = P.ceil(ranks)
    elif interpolation == "nearest":
        ranks = P.round(ranks)
    below_idx = ranks.to(_dtype.int64)
    rows = srt.expand(*srt._data.shape[:-2], qs._data.shape[0], n)
    values = gather(rows, -1, below_idx)
    if interpolation in ("linear", "midpoint"):
        weights = ranks - below_idx.to(ranks.dtype) if interpolation == "linear" else full_like(ranks, 0.5)
        above = gather(rows, -1, P.ceil(ranks).to(_dtype.int64))
        values = P.lerp(values, above, weights)
    values = squeeze(values, -1)                  # (..., nq)
    values = movedim(values, -1, 0)               # (nq, ...)
    if scalar_q:
        return reshape(values, out_shape)
    return reshape(values, (qs._data.shape[0],) + out_shape)


# ---- searchsorted / bucketize ------------------------------------------------------------------------
def searchsorted(sorted_sequence: Tensor, input, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter: Tensor | None = None) -> Tensor:
    """Indices where `input` would be inserted into the innermost dim of `sorted_sequence` to keep it sorted."""
    from .creation import scalar_like

    xp = sorted_sequence.device.xp
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left"
                               " while right was True")
        right = side == "right"
    scalar = not isinstance(input, Tensor)
    values = scalar_like(input, sorted_sequence) if scalar else input
    seq = sorted_sequence._data
    vd = values._data
    for a in (seq, vd):
        if a.dtype.kind == "b":
            raise not_implemented("searchsorted_out_cpu", a.dtype)
    _check_searchsorted(seq, vd, scalar, sorter)
    if sorter is not None:
        seq = xp.take_along_axis(seq, sorter._data, axis=-1)
    kind = xp.result_type(seq.dtype, vd.dtype)
    seq, vd = seq.astype(kind, copy=False), vd.astype(kind, copy=False)
    nan_free = seq.dtype.kind != "f" or not (xp.isnan(seq).any() or xp.isnan(vd).any())
    if seq.ndim == 1 and nan_free:  # the same answer as PyTorch's search, from the library's own
        idx = xp.searchsorted(seq, vd, side="right" if right else "left")
    else:
        idx = _binary_search(xp, seq, vd, right)
    return _make(idx.astype(xp.int32 if out_int32 else xp.int64), sorted_sequence.device)


def _binary_search(xp, seq, values, right: bool):
    """PyTorch's lower/upper-bound binary search, run for all values at once (one halving per step).

    Written out rather than np.searchsorted so that NaNs land where PyTorch's comparisons put them.
    """
    n = seq.shape[-1]
    start = xp.zeros(values.shape, dtype=xp.int64)
    end = xp.full(values.shape, n, dtype=xp.int64)
    rows = seq if seq.ndim == 1 else seq.reshape(seq.shape[:-1] + (n,))
    while True:
        active = start < end
        if not active.any():
            return start
        mid = start + ((end - start) >> 1)
        safe = xp.minimum(mid, max(n - 1, 0))
        mid_val = rows[safe] if seq.ndim == 1 else xp.take_along_axis(rows, safe, axis=-1)
        go_right = ~(mid_val > values) if right else ~(mid_val >= values)
        start = xp.where(active & go_right, mid + 1, start)
        end = xp.where(active & ~go_right, mid, end)


def _check_searchsorted(seq, vd, scalar: bool, sorter) -> None:
    if seq.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 "
                           "dimension")
    if seq.ndim > 1 and (scalar or seq.shape[:-1] != vd.shape[:-1]):
        if scalar:
            raise RuntimeError("torch.searchsorted(): input value can be a scalar only when boundaries tensor "
                               f"dimension is 1, but we got boundaries tensor dim({seq.ndim}) and input value's "
                               "dim(0) numel(1)")
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           "dimensions of boundaries tensor and input value tensor must match, but we got "
                           f"boundaries tensor [{', '.join(map(str, seq.shape))}] and input value tensor "
                           f"[{', '.join(map(str, vd.shape))}]")
    if sorter is not None:
        if sorter._data.shape != seq.shape:
            raise RuntimeError("torch.searchsorted(): boundary and sorter must have the same size, but got "
                               f"boundary tensor [{', '.join(map(str, seq.shape))}]and got sorter tensor "
                               f"[{', '.join(map(str, sorter._data.shape))}]")
        if sorter._data.dtype != _dtype.int64.np:
            raise RuntimeError("torch.searchsorted(): sorter must be a tensor of long dtype but got "
                               f"{sorter.dtype.name.capitalize()}")


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each element of `input` among the 1-D sorted `boundaries`."""
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries._data.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


# ---- counting ------------------------------------------------------------------------------------
def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each value 0..max occurs in the 1-D non-negative integer `input` (or the sum of its weights)."""
    xp = input.device.xp
    d = input._data
    if d.ndim != 1 or d.dtype.kind not in "iub":
        if d.dtype.kind not in "iub":
            raise not_implemented("bincount_cpu", d.dtype)
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if d.size and d.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return _make(xp.bincount(d, minlength=minlength).astype(xp.int64), input.device)
    w = weights._data
    if w.ndim != 1 or w.shape[0] != d.shape[0]:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    out_dtype = xp.float32 if w.dtype == xp.float32 else xp.float64  # PyTorch keeps float32, else double
    counts = xp.bincount(d, weights=w.astype(xp.float64), minlength=minlength)
    return not_differentiable(_make(counts.astype(out_dtype), input.device), (weights,), "bincount")


def histc(input: Tensor, bins: int = 100, min=0, max=0) -> Tensor:
    """Counts in `bins` equal-width bins over [min, max] (the data's range if min == max); outliers ignored."""
    xp = input.device.xp
    d = input._data
    if d.dtype.kind == "b":
        raise not_implemented("linspace_cpu", d.dtype)
    if d.dtype.kind != "f":
        _check_fits(min, d.dtype), _check_fits(max, d.dtype)  # PyTorch checks the range first
        raise not_implemented("histogram_cpu", d.dtype)
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    if min > max:
        raise RuntimeError("torch.histc: max must be larger than min")
    lo, hi = d.dtype.type(min), d.dtype.type(max)
    if lo == hi and d.size:
        lo, hi = d.min(), d.max()
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (xp.isfinite(lo) and xp.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{_c(lo)}, {_c(hi)}] is not finite")
    flat = d.reshape(-1)
    flat = flat[(flat >= lo) & (flat <= hi)]
    # PyTorch's linear bin formula (no search), the last edge counting into the last bin
    pos = ((flat - lo) * d.dtype.type(bins) / (hi - lo)).astype(xp.int64)
    pos = xp.minimum(pos, bins - 1)
    return _make(xp.bincount(pos, minlength=bins).astype(d.dtype), input.device)


def _check_fits(value, np_dtype) -> None:
    """An error for a bound outside an integer dtype's range (PyTorch's message)."""
    import numpy as np

    info = np.iinfo(np_dtype)
    if not info.min <= value <= info.max:
        raise RuntimeError(f"value cannot be converted to type {_C_TYPES[np.dtype(np_dtype).name]} without overflow")


def histogram(input: Tensor, bins=100, *, range=None, weight: Tensor | None = None, density: bool = False):
    """(hist, bin_edges): counts (or summed weights, or a density) in `bins` bins (a count or the edges)."""
    xp = input.device.xp
    d = input._data
    if d.dtype.kind != "f":
        _not_float_histogram(d, bins, range)
    if (d.dtype.itemsize < 4 and range is None and not isinstance(bins, Tensor)):
        raise not_implemented("histogramdd", d.dtype)  # (half works where no min/max must be found)
    flat = d.reshape(-1)
    if isinstance(bins, Tensor):
        edges = bins._data
        if edges.dtype != d.dtype:
            _not_float_histogram(d, bins, range)
        if edges.ndim != 1:
            raise RuntimeError("torch.histogramdd: bins tensor should have one dimension, but got "
                               f"{edges.ndim} dimensions in the bins tensor for dimension 0")
    else:
        if bins <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
        edges = _linear_edges(xp, flat, bins, range, d.dtype)
    n = edges.shape[0] - 1
    inside = (flat >= edges[0]) & (flat <= edges[-1])
    # each element's bin: the last edge at or below it, the rightmost edge counting into the last bin
    pos = xp.minimum(xp.searchsorted(edges, flat[inside], side="right") - 1, n - 1)
    w = None
    if weight is not None:
        if weight._data.shape != d.shape:
            raise RuntimeError("torch.histogramdd: if weight tensor is provided it should have the same shape as "
                               "the input tensor excluding its innermost dimension, but got input with shape "
                               f"[{d.size}, 1] and weight with shape [{', '.join(map(str, weight._data.shape))}]")
        w = weight._data.reshape(-1)[inside].astype(xp.float64)
    hist = xp.bincount(pos, weights=w, minlength=max(n, 0)).astype(d.dtype)
    if density:
        widths = xp.diff(edges)
        hist = hist / (hist.sum() * widths)
    hist = not_differentiable(_make(hist.astype(d.dtype), input.device),
                              (input, weight, bins if isinstance(bins, Tensor) else None), "histogram")
    return histogram_rt(hist, _make(edges.copy(), input.device))


def _not_float_histogram(d, bins, range) -> None:
    """PyTorch's errors for histogram of an integer or bool tensor, in its order of checks."""
    if isinstance(bins, Tensor):
        if bins._data.dtype != d.dtype:
            raise RuntimeError(f"torch.histogramdd: input tensor and bins tensors should have the same dtype, but "
                               f"got input with dtype {c_type_name(d.dtype)} and bins for dimension 0 with dtype "
                               f"{c_type_name(bins._data.dtype)}")
        raise not_implemented("histogram_cpu", d.dtype)
    if range is not None and d.dtype.kind != "b":
        for v in range:
            _check_fits(v, d.dtype)
    raise not_implemented("histogramdd", d.dtype)


def _c(value) -> str:
    """A number as C++ streams print it (PyTorch's messages): 1 for 1.0, 0.5, inf."""
    return format(float(value), "g")


def _linear_edges(xp, flat, bins: int, range, dtype):
    """bins + 1 evenly spaced edges over `range` (or the data's range), computed as torch.linspace does."""
    if range is not None:
        lo, hi = (dtype.type(v) for v in range)
        if lo > hi:
            raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min {_c(lo)} max {_c(hi)} "
                               "for dimension 0")
    elif flat.size:
        lo, hi = flat.min(), flat.max()
    else:  # no data: PyTorch's default range
        lo, hi = dtype.type(0), dtype.type(1)
    if lo == hi:
        lo, hi = lo - dtype.type(0.5), hi + dtype.type(0.5)
    if not (xp.isfinite(lo) and xp.isfinite(hi)):
        raise RuntimeError(f"torch.histogramdd: dimension 0's range [{_c(lo)}, {_c(hi)}] is not finite")
    i = xp.arange(bins + 1, dtype=dtype)
    step = (hi - lo) / dtype.type(bins)
    half = (bins + 1) // 2  # torch.linspace steps from both ends, so the last edge is exactly `hi`
    return xp.where(i < half, lo + i * step, hi - (bins - i) * step).astype(dtype)
