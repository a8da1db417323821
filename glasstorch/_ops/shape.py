"""Shape ops: views (reshape, permute, expand, ...), joins (cat, stack) and splits.

Views share their base's array and version counter, so in-place changes show through both ways.
"""
from __future__ import annotations

from ._util import Node, Tensor, _GradMode, _make, record, sum_to, wrap_dim

__all__ = ["wrap_dim"]


def _view_of(x: Tensor, data) -> Tensor:
    """A tensor sharing x's memory and version counter, remembering its base for in-place autograd."""
    out = _make(data, x.device)
    out._vc = x._vc
    base = getattr(x, "_base", None)
    out._base = x if base is None else base
    return out


def _sizes(shape) -> tuple:
    """Sizes given as f(2, 3), f((2, 3)) or f([2, 3]) -> (2, 3)."""
    if len(shape) == 1 and not isinstance(shape[0], int) and shape[0] is not None:
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _infer(shape: tuple, numel: int) -> tuple:
    """Resolve one -1 in `shape`, with PyTorch's errors."""
    known = 1
    neg = None
    for i, s in enumerate(shape):
        if s == -1:
            if neg is not None:
                raise RuntimeError("only one dimension can be inferred")
            neg = i
        elif s < 0:
            raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape [{', '.join(map(str, shape))}]")
        else:
            known *= s
    if neg is not None:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '[{', '.join(map(str, shape))}]' is invalid for input of size {numel}")
        shape = shape[:neg] + (numel // known,) + shape[neg + 1:]
    elif known != numel:
        raise RuntimeError(f"shape '[{', '.join(map(str, shape))}]' is invalid for input of size {numel}")
    return shape


class ViewBackward0(Node):
    def __init__(self, x):
        super().__init__((x,), ())
        self.in_shape = x._data.shape

    def backward(self, g):
        return (reshape(g, self.in_shape),)


class UnsafeViewBackward0(ViewBackward0):
    pass


def view(x: Tensor, shape) -> Tensor:
    shape = _infer(_sizes(shape), x._data.size)
    try:
        data = x._data.reshape(shape, copy=False)
    except (ValueError, TypeError):
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                           "dimension spans across two contiguous subspaces). Use .reshape(...) instead.") from None
    out = _view_of(x, data)
    if _GradMode.enabled and x._requires_grad:
        record(out, ViewBackward0(x))
    return out


def reshape(x: Tensor, shape) -> Tensor:
    shape = _infer(_sizes(shape), x._data.size)
    d = x._data
    if shape == d.shape:
        out = _view_of(x, d.view())
        node = ViewBackward0
    else:
        data = d.reshape(shape)
        shares = data.base is not None and (data.base is d or data.base is d.base)
        out = _view_of(x, data) if shares else _make(data, x.device)
        node = ViewBackward0 if shares else UnsafeViewBackward0
    if _GradMode.enabled and x._requires_grad:
        record(out, node(x))
    return out


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    shape = x._data.shape
    if not shape:
        return reshape(x, (1,))
    s, e = wrap_dim(start_dim, len(shape)), wrap_dim(end_dim, len(shape))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return x
    n = 1
    for v in shape[s:e + 1]:
        n *= v
    return reshape(x, shape[:s] + (n,) + shape[e + 1:])


def unflatten(x: Tensor, dim: int, sizes) -> Tensor:
    shape = x._data.shape
    dim = wrap_dim(dim, len(shape))
    sizes = _infer(tuple(sizes), shape[dim])
    return view(x, shape[:dim] + sizes + shape[dim + 1:])


class SqueezeBackward0(ViewBackward0):
    pass


class SqueezeBackward1(ViewBackward0):
    pass


class SqueezeBackward2(ViewBackward0):
    pass


class UnsqueezeBackward0(ViewBackward0):
    pass


def squeeze(x: Tensor, dim=None) -> Tensor:
    shape = x._data.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
        node = SqueezeBackward0
    else:
        many = isinstance(dim, (tuple, list))
        dims = {wrap_dim(d, len(shape)) for d in (dim if many else (dim,))}
        new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
        node = SqueezeBackward2 if many else SqueezeBackward1
    out = _view_of(x, x._data.reshape(new))
    if _GradMode.enabled and x._requires_grad:
        record(out, node(x))
    return out


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    shape = x._data.shape
    dim = wrap_dim(dim, len(shape) + 1)
    out = _view_of(x, x._data.reshape(shape[:dim] + (1,) + shape[dim:]))
    if _GradMode.enabled and x._requires_grad:
        record(out, UnsqueezeBackward0(x))
    return out


class PermuteBackward0(Node):
    def __init__(self, x, dims):
        super().__init__((x,), ())
        self.dims = dims

    def backward(self, g):
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        return (permute(g, tuple(inverse)),)


class TransposeBackward0(PermuteBackward0):
    pass


class TBackward0(PermuteBackward0):
    pass


def permute(x: Tensor, dims, _node=PermuteBackward0) -> Tensor:
    nd = x._data.ndim
    dims = _sizes(dims)
    if len(dims) != nd:
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           f"length of the desired ordering of dimensions i.e. input.dim() = {nd} is not equal "
                           f"to len(dims) = {len(dims)}")
    dims = tuple(wrap_dim(d, nd) for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    out = _view_of(x, x._data.transpose(dims))
    if _GradMode.enabled and x._requires_grad:
        record(out, _node(x, dims))
    return out


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    nd = x._data.ndim
    dims = list(range(nd))
    if nd == 0:
        wrap_dim(dim0, 0), wrap_dim(dim1, 0)
        return _view_of(x, x._data)
    a, b = wrap_dim(dim0, nd), wrap_dim(dim1, nd)
    dims[a], dims[b] = dims[b], dims[a]
    return permute(x, dims, TransposeBackward0)


def t(x: Tensor) -> Tensor:
    nd = x._data.ndim
    if nd > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {nd}D")
    return permute(x, tuple(range(nd - 1, -1, -1)), TBackward0)


def movedim(x: Tensor, source, destination) -> Tensor:
    nd = x._data.ndim
    src = [wrap_dim(s, nd) for s in (source if isinstance(source, (tuple, list)) else (source,))]
    dst = [wrap_dim(d, nd) for d in (destination if isinstance(destination, (tuple, list)) else (destination,))]
    order = [i for i in range(nd) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(x, tuple(order))


class ExpandBackward0(Node):
    def __init__(self, x):
        super().__init__((x,), ())
        self.in_shape = x._data.shape

    def backward(self, g):
        return (sum_to(g, self.in_shape),)


def expand(x: Tensor, sizes) -> Tensor:
    sizes = _sizes(sizes)
    shape = x._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(f"expand({x._type_name()}{{[{', '.join(map(str, shape))}]}}, size=[{', '.join(map(str, sizes))}]): "
                           "the number of sizes provided "
                           f"({len(sizes)}) must be greater or equal to the number of dimensions in the tensor ({len(shape)})")
    lead = len(sizes) - len(shape)
    target = []
    for i, s in enumerate(sizes):
        own = shape[i - lead] if i >= lead else None
        if s == -1:
            if own is None:
                raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension {i}")
            s = own
        elif own is not None and own != s and own != 1:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size ({own}) at "
                               f"non-singleton dimension {i}.  Target sizes: [{', '.join(map(str, sizes))}].  "
                               f"Tensor sizes: [{', '.join(map(str, shape))}]")
        target.append(s)
    target = tuple(target)
    if target == shape:
        out = _view_of(x, x._data.view())
    else:
        out = _view_of(x, x.device.xp.broadcast_to(x._data, target))
    if _GradMode.enabled and x._requires_grad:
        record(out, ExpandBackward0(x))
    return out


class RepeatBackward0(Node):
    def __init__(self, x, reps):
        super().__init__((x,), ())
        self.in_shape = x._data.shape
        self.reps = reps

    def backward(self, g):
        # view each repeated dim as (rep, size) and sum the reps away
        lead = len(self.reps) - len(self.in_shape)
        shape = (1,) * lead + tuple(self.in_shape)
        split = []
        for r, s in zip(self.reps, shape):
            split += [r, s]
        g = reshape(g, tuple(split))
        from .reduction import sum as _sum

        g = _sum(g, tuple(range(0, 2 * len(shape), 2)))
        return (reshape(g, self.in_shape),)


def repeat(x: Tensor, sizes) -> Tensor:
    reps = _sizes(sizes)
    if len(reps) < x._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    out = _make(x.device.xp.tile(x._data, reps), x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, RepeatBackward0(x, reps))
    return out


class CloneBackward0(Node):
    def __init__(self, x):
        super().__init__((x,), ())

    def backward(self, g):
        return (g,)


def clone(x: Tensor) -> Tensor:
    out = _make(x._data.copy(), x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, CloneBackward0(x))
    return out


def contiguous(x: Tensor) -> Tensor:
    if x._data.flags.c_contiguous:
        return x
    return clone(x)


class FlipBackward0(Node):
    def __init__(self, x, dims):
        super().__init__((x,), ())
        self.dims = dims

    def backward(self, g):
        return (flip(g, self.dims),)


def flip(x: Tensor, dims) -> Tensor:
    nd = x._data.ndim
    dims = tuple(wrap_dim(d, nd) for d in _sizes(dims)) if dims else ()
    out = _make(x.device.xp.flip(x._data, dims).copy() if dims else x._data.copy(), x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, FlipBackward0(x, dims))
    return out


class TrilBackward0(Node):
    def __init__(self, x, k):
        super().__init__((x,), ())
        self.k = k

    def backward(self, g):
        return (tril(g, self.k),)


class TriuBackward0(TrilBackward0):
    def backward(self, g):
        return (triu(g, self.k),)


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    if x._data.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    out = _make(x.device.xp.tril(x._data, diagonal), x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, TrilBackward0(x, diagonal))
    return out


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    if x._data.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    out = _make(x.device.xp.triu(x._data, diagonal), x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, TriuBackward0(x, diagonal))
    return out


# ---- joins ---------------------------------------------------------------------------------------
class CatBackward0(Node):
    def __init__(self, tensors, dim):
        super().__init__(tensors, ())
        self.dim = dim
        self.sizes = [t._data.shape[dim] for t in tensors]

    def backward(self, g):
        return tuple(split(g, self.sizes, self.dim))


class StackBackward0(Node):
    def __init__(self, tensors, dim):
        super().__init__(tensors, ())
        self.dim = dim

    def backward(self, g):
        return tuple(unbind(g, self.dim))


def _join_dtype(tensors):
    from .. import _dtype

    return _dtype.result_type(*tensors).np


def cat(tensors, dim: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    # PyTorch skips 1-D empty tensors in cat (legacy behaviour)
    parts = [t for t in tensors if not (t._data.ndim == 1 and t._data.shape[0] == 0)] or tensors[:1]
    nd = parts[0]._data.ndim
    if nd == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    dim = wrap_dim(dim, nd)
    rt = _join_dtype(parts)
    first = parts[0]._data.shape
    for i, t in enumerate(parts[1:], 1):
        s = t._data.shape
        if len(s) != nd:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {nd} and {len(s)}")
        for d in range(nd):
            if d != dim and s[d] != first[d]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {dim}. Expected size "
                                   f"{first[d]} but got size {s[d]} for tensor number {i} in the list.")
    xp = parts[0].device.xp
    data = xp.concatenate([t._data.astype(rt, copy=False) for t in parts], axis=dim)
    out = _make(data, parts[0].device)
    if _GradMode.enabled and any(t._requires_grad for t in parts):
        record(out, CatBackward0(parts, dim))
    return out


def stack(tensors, dim: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0]._data.shape
    for i, t in enumerate(tensors[1:], 1):
        if t._data.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got [{', '.join(map(str, shape))}] "
                               f"at entry 0 and [{', '.join(map(str, t._data.shape))}] at entry {i}")
    dim = wrap_dim(dim, len(shape) + 1)
    rt = _join_dtype(tensors)
    xp = tensors[0].device.xp
    data = xp.stack([t._data.astype(rt, copy=False) for t in tensors], axis=dim)
    out = _make(data, tensors[0].device)
    if _GradMode.enabled and any(t._requires_grad for t in tensors):
        record(out, StackBackward0(tensors, dim))
    return out


# ---- splits ---------------------------------------------------------------------------------------
class SplitBackward0(Node):
    """Gradient of one piece of a split: zeros elsewhere (one node per piece)."""

    def __init__(self, x, dim, start, stop):
        super().__init__((x,), ())
        self.in_shape, self.dim, self.start, self.stop = x._data.shape, dim, start, stop

    def backward(self, g):
        from .indexing import slice_into_zeros

        index = (slice(None),) * self.dim + (slice(self.start, self.stop),)
        return (slice_into_zeros(g, index, self.in_shape),)


class UnbindBackward0(SplitBackward0):
    def backward(self, g):
        from .indexing import slice_into_zeros

        index = (slice(None),) * self.dim + (self.start,)
        return (slice_into_zeros(g, index, self.in_shape),)


class SplitWithSizesBackward0(SplitBackward0):
    pass


def _piece(x: Tensor, dim: int, start: int, stop: int, node=SplitBackward0) -> Tensor:
    index = (slice(None),) * dim + (slice(start, stop),)
    out = _view_of(x, x._data[index])
    if _GradMode.enabled and x._requires_grad:
        record(out, node(x, dim, start, stop))
    return out


def split(x: Tensor, split_size, dim: int = 0):
    dim = wrap_dim(dim, x._data.ndim)
    n = x._data.shape[dim]
    if isinstance(split_size, int):
        if split_size <= 0 and not (split_size == 0 and n == 0):
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        sizes = [split_size] * (n // split_size) + ([n % split_size] if n % split_size else []) if split_size else [0]
        sizes = sizes or [0]  # an empty dim still gives one (empty) piece
    else:
        sizes = [int(s) for s in split_size]
        if builtins_sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                               f"dimension {dim}), but got split_sizes=[{', '.join(map(str, sizes))}]")
    node = SplitBackward0 if isinstance(split_size, int) else SplitWithSizesBackward0
    out, start = [], 0
    for s in sizes:
        out.append(_piece(x, dim, start, start + s, node))
        start += s
    return tuple(out)


def builtins_sum(values):
    total = 0
    for v in values:
        total += v
    return total


def chunk(x: Tensor, chunks: int, dim: int = 0):
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    n = x._data.shape[wrap_dim(dim, x._data.ndim)]
    if n == 0:  # PyTorch gives `chunks` empty pieces
        return split(x, [0] * chunks, dim)
    return split(x, -(-n // chunks), dim)


def unbind(x: Tensor, dim: int = 0):
    dim = wrap_dim(dim, x._data.ndim)
    pieces = []
    for i in range(x._data.shape[dim]):
        index = (slice(None),) * dim + (i,)
        out = _view_of(x, x._data[index])
        if _GradMode.enabled and x._requires_grad:
            record(out, UnbindBackward0(x, dim, i, i + 1))
        pieces.append(out)
    return tuple(pieces)


def narrow(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    dim = wrap_dim(dim, x._data.ndim)
    n = x._data.shape[dim]
    if start < 0:
        start += n
    if not (0 <= start <= n and 0 <= length and start + length <= n):
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    from .indexing import getitem

    return getitem(x, (slice(None),) * dim + (slice(start, start + length),))
