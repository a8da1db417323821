"""Shape ops: views (reshape, permute, expand, ...), joins (cat, stack) and splits.

Views share their base's array and version counter, so in-place changes show through both ways.
"""
from __future__ import annotations

from ..amp.autocast_mode import autocast_op
from ._util import Node, Tensor, _GradMode, _make, device_mismatch, numpy_name, record, sum_to, wrap_dim

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
        wrap_dim(start_dim, 0), wrap_dim(end_dim, 0)
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
    sizes = tuple(sizes)
    if sizes.count(-1) <= 1:
        known = 1
        for s in sizes:
            known *= s if s != -1 else 1
        if (-1 in sizes and (known == 0 or shape[dim] % known)) or (-1 not in sizes and known != shape[dim]):
            raise RuntimeError(f"unflatten: Provided sizes [{', '.join(map(str, sizes))}] don't multiply up to the "
                               f"size of dim {dim} ({shape[dim]}) in the input tensor")
    sizes = _infer(sizes, shape[dim])
    return view(x, shape[:dim] + sizes + shape[dim + 1:])


class SqueezeBackward0(ViewBackward0):
    pass


class SqueezeBackward1(ViewBackward0):
    pass


class SqueezeBackward2(ViewBackward0):
    pass


class UnsqueezeBackward0(ViewBackward0):
    pass


def squeeze(x: Tensor, dim=None, *, axis=None) -> Tensor:
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "squeeze", None)
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


def unsqueeze(x: Tensor, dim: int | None = None, *, axis=None) -> Tensor:
    if axis is not None or dim is None:  # NumPy's name, as torch accepts it (dim is required)
        dim = numpy_name(dim, axis, "unsqueeze")
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
        return permute(x, (), TransposeBackward0)
    a, b = wrap_dim(dim0, nd), wrap_dim(dim1, nd)
    dims[a], dims[b] = dims[b], dims[a]
    return permute(x, dims, TransposeBackward0)


def t(x: Tensor) -> Tensor:
    nd = x._data.ndim
    if nd > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {nd}D")
    return permute(x, tuple(range(nd - 1, -1, -1)), TBackward0)


def _dims_str(dims) -> str:
    return "[" + ", ".join(map(str, dims if isinstance(dims, (tuple, list)) else (dims,))) + "]"


def movedim(x: Tensor, source, destination) -> Tensor:
    nd = x._data.ndim
    src = [wrap_dim(s, nd) for s in (source if isinstance(source, (tuple, list)) else (source,))]
    dst = [wrap_dim(d, nd) for d in (destination if isinstance(destination, (tuple, list)) else (destination,))]
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({_dims_str(source)} dims) should "
                           f"contain the same number of dims as destination ({_dims_str(destination)} dims)")
    for name, dims, given in (("source", src, source), ("destination", dst, destination)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({_dims_str(given)})")
    if nd == 0:  # dims 0 and -1 name the tensor itself: nothing moves
        return permute(x, ())
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
    wrapped = []
    for d in (_sizes(dims) if dims else ()):  # left to right: a repeat is reported where it is met
        d = wrap_dim(d, nd)
        if d in wrapped:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        wrapped.append(d)
    dims = tuple(wrapped)
    if nd == 0:  # dims 0 and -1 name the 0-dim tensor itself: flipping it changes nothing
        dims = ()
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
    def __init__(self, tensors, parts, dim):
        super().__init__(tensors, ())
        self.dim = dim
        self.joined = [any(t is p for p in parts) for t in tensors]  # False: a skipped empty 1-D tensor
        self.sizes = [t._data.shape[dim] for t in parts]

    def backward(self, g):
        pieces = iter(split(g, self.sizes, self.dim) if self.sizes else ())
        empty = _make(g.device.xp.zeros((0,), dtype=g._data.dtype), g.device)
        return tuple(next(pieces) if joined else empty for joined in self.joined)


class StackBackward0(Node):
    def __init__(self, tensors, dim):
        super().__init__(tensors, ())
        self.dim = dim

    def backward(self, g):
        return tuple(unbind(g, self.dim))


def _join_dtype(tensors):
    from .. import _dtype

    return _dtype.result_type(*tensors).np


@autocast_op("cat")
def cat(tensors, dim: int = 0, *, axis=None) -> Tensor:
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "cat", 0)
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if t._data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    # PyTorch skips 1-D empty tensors in cat (legacy behaviour), though they still take part in
    # type promotion and autograd (their gradient is empty)
    parts = [t for t in tensors if not (t._data.ndim == 1 and t._data.shape[0] == 0)]
    rt = _join_dtype(tensors)
    if not parts:  # nothing but empty 1-D tensors: an empty result, whatever dim says
        out = _make(tensors[0].device.xp.zeros((0,), dtype=rt), tensors[0].device)
        if _GradMode.enabled and any(t._requires_grad for t in tensors):
            record(out, CatBackward0(tensors, parts, 0))
        return out
    nd = parts[0]._data.ndim
    dim = wrap_dim(dim, nd)
    first = parts[0]._data.shape
    for i, t in enumerate(parts[1:], 1):
        if t.device is not parts[0].device:
            raise device_mismatch(parts[0].device, t.device)
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
    if _GradMode.enabled and any(t._requires_grad for t in tensors):
        record(out, CatBackward0(tensors, parts, dim))
    return out


@autocast_op("stack")
def stack(tensors, dim: int = 0, *, axis=None) -> Tensor:
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "stack", 0)
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
    _at_least_1d(x, "split")
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


def _at_least_1d(x: Tensor, name: str) -> None:
    if x._data.ndim == 0:
        raise RuntimeError(f"{name} expects at least a 1-dimensional tensor")


def chunk(x: Tensor, chunks: int, dim: int = 0, *, axis=None):
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "chunk", 0)
    _at_least_1d(x, "chunk")
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    n = x._data.shape[wrap_dim(dim, x._data.ndim)]
    if n == 0:  # PyTorch gives `chunks` empty pieces
        return split(x, [0] * chunks, dim)
    return split(x, -(-n // chunks), dim)


def unbind(x: Tensor, dim: int = 0, *, axis=None):
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "unbind", 0)
    if x._data.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    dim = wrap_dim(dim, x._data.ndim)
    pieces = []
    for i in range(x._data.shape[dim]):
        index = (slice(None),) * dim + (i,)
        out = _view_of(x, x._data[index])
        if _GradMode.enabled and x._requires_grad:
            record(out, UnbindBackward0(x, dim, i, i + 1))
        pieces.append(out)
    return tuple(pieces)


def narrow(x: Tensor, dim: int | None = None, start: int | None = None, length: int | None = None, *,
           axis=None) -> Tensor:
    if axis is not None or dim is None:  # NumPy's name, as torch accepts it (dim is required)
        dim = numpy_name(dim, axis, "narrow")
    if start is None or length is None:  # defaults only so that the alias can stand before them
        raise TypeError('narrow() missing required positional arguments: "start", "length"')
    if x._data.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    dim = wrap_dim(dim, x._data.ndim)
    n = x._data.shape[dim]
    if start < 0:
        start += n
    if not (0 <= start <= n and 0 <= length and start + length <= n):
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    from .indexing import getitem

    return getitem(x, (slice(None),) * dim + (slice(start, start + length),))


def select(x: Tensor, dim: int, index: int) -> Tensor:
    """x[:, ..., index] along dim: a view with that dim removed (grad_fn SelectBackward0)."""
    if x._data.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    dim = wrap_dim(dim, x._data.ndim)
    n = x._data.shape[dim]
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(x._data.shape)} at "
                         f"dimension {dim}")
    from .indexing import getitem

    return getitem(x, (slice(None),) * dim + (index,))


# ---- more shape ops: roll, rot90, tile, repeat_interleave, tensor_split, stacks, diagonals ------------
def _dims_list(dims) -> tuple:
    """An int or a sequence of ints as a tuple."""
    return tuple(int(d) for d in dims) if isinstance(dims, (tuple, list)) else (int(dims),)


class RollBackward0(Node):
    def __init__(self, x, shifts, dims):
        super().__init__((x,), ())
        self.shifts, self.dims = shifts, dims

    def backward(self, g):
        return (roll(g, tuple(-s for s in self.shifts), self.dims),)


def roll(x: Tensor, shifts, dims=None) -> Tensor:
    """Elements shifted cyclically along dims (over the flattened tensor when dims is None)."""
    shifts = _dims_list(shifts)
    given = () if dims is None else _dims_list(dims)
    if dims is None and len(shifts) != 1 or dims is not None and len(shifts) != len(given):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(given)}")
    xp = x.device.xp
    if dims is None:
        data = xp.roll(x._data.reshape(-1), shifts[0]).reshape(x._data.shape)
        axes = None
    else:
        if x._data.ndim == 0:
            raise IndexError(f"Dimension specified as {given[0]} but tensor has no dimensions")
        axes = tuple(wrap_dim(d, x._data.ndim) for d in given)
        data = xp.roll(x._data, shifts, axis=axes)
    out = _make(data, x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, RollBackward0(x, shifts, dims))
    return out


class Rot90Backward0(Node):
    def __init__(self, x, k, dims):
        super().__init__((x,), ())
        self.k, self.dims = k, dims

    def backward(self, g):
        return (rot90(g, -self.k, self.dims),)


def rot90(x: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotate by 90 degrees k times in the plane of dims, from the first towards the second."""
    dims = list(dims)
    nd = x._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    if dims[0] == dims[1] or abs(dims[0] - dims[1]) == nd:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} and dim1 = {dims[1]}")
    a, b = wrap_dim(dims[0], nd), wrap_dim(dims[1], nd)
    out = _make(x.device.xp.rot90(x._data, k, axes=(a, b)).copy(), x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, Rot90Backward0(x, k, (a, b)))
    return out


def tile(x: Tensor, dims) -> Tensor:
    """repeat, with missing leading repeat counts taken as 1."""
    reps = _sizes(dims) if not isinstance(dims, int) else (dims,)
    reps = (1,) * (x._data.ndim - len(reps)) + tuple(reps)
    if any(r < 0 for r in reps):
        shape = [s * r for s, r in zip((1,) * (len(reps) - x._data.ndim) + x._data.shape, reps)]
        raise RuntimeError(f"Trying to create tensor with negative dimension {next(s for s in shape if s < 0)}: "
                           f"[{', '.join(map(str, shape))}]")
    return repeat(x, reps)


def repeat_interleave(x: Tensor, repeats=None, dim: int | None = None, *, output_size: int | None = None) -> Tensor:
    """Each element (or slice along dim) repeated `repeats` times (an int or one count per element).

    repeat_interleave(repeats) with a tensor alone gives each index i repeated repeats[i] times.
    """
    from .creation import arange

    if repeats is None:  # torch.repeat_interleave(repeats)
        counts = x
        return repeat_interleave(arange(counts._data.shape[0] if counts._data.ndim else 1, device=counts.device),
                                 counts, 0, output_size=output_size)
    if dim is None:
        x, dim = flatten(x), 0
    dim = wrap_dim(dim, x._data.ndim)
    if isinstance(repeats, int):
        return _repeat_each(x, int(repeats), dim, output_size)
    from .indexing import index_select

    xp = x.device.xp
    r = repeats._data if isinstance(repeats, Tensor) else xp.asarray(repeats)
    if r.ndim > 1:
        raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
    n = x._data.shape[dim] if x._data.ndim else 1
    r = xp.broadcast_to(r.reshape(-1), (n,)) if r.size == 1 else r.reshape(-1)
    if r.shape[0] != n:
        raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                           f"{r.shape[0]} and input.size({dim}) = {n}")
    if r.size and r.min() < 0:
        raise RuntimeError("repeats can not be negative")
    if output_size is not None and int(r.sum()) != output_size:
        raise RuntimeError("allocated size does not match required size")
    index = _make(xp.repeat(xp.arange(n, dtype=xp.int64), r), x.device)
    return index_select(x, dim, index)


def _repeat_each(x: Tensor, repeats: int, dim: int, output_size) -> Tensor:
    """repeat_interleave with an int: each slice along dim side by side `repeats` times (a view, then a copy)."""
    if repeats < 0:
        raise RuntimeError("Repeats must be non-negative")
    shape = x._data.shape
    if output_size is not None and output_size != (shape[dim] if shape else 1) * repeats:
        raise RuntimeError("allocated size does not match required size")
    if not shape:
        x, shape = reshape(x, (1,)), (1,)
    wide = expand(unsqueeze(x, dim + 1), shape[:dim + 1] + (repeats,) + shape[dim + 1:])
    return view(clone(wide), shape[:dim] + (shape[dim] * repeats,) + shape[dim + 1:])


class SliceBackward0(SplitBackward0):
    """One piece of tensor_split / hsplit / vsplit / dsplit: PyTorch slices for them."""


def tensor_split(x: Tensor, indices_or_sections, dim: int = 0):
    """Split into n nearly equal pieces (an int), or at the given indices along dim."""
    nd = x._data.ndim
    if nd == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    if isinstance(indices_or_sections, Tensor):
        t = indices_or_sections
        if t._data.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                               f"one-dimensional tensor, but got a tensor with {t._data.ndim} dims")
        if t._data.dtype.name != "int64":
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have dtype of long, but got "
                               f"{_TYPE_NAMES.get(t._data.dtype.name, t._data.dtype.name)}")
        indices_or_sections = int(t.item()) if t._data.ndim == 0 else [int(i) for i in t.tolist()]
    dim = wrap_dim(dim, nd)
    n = x._data.shape[dim]
    if isinstance(indices_or_sections, int):
        sections = indices_or_sections
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        small, extra = divmod(n, sections)
        bounds, start = [], 0
        for i in range(sections):
            stop = start + small + (1 if i < extra else 0)
            bounds.append((start, stop))
            start = stop
    else:  # pieces [i_k:i_k+1] with Python's slice rules: negative indices count from the end
        cuts = [0] + [int(i) for i in indices_or_sections] + [n]
        bounds = [slice(a, b).indices(n)[:2] for a, b in zip(cuts[:-1], cuts[1:])]
    return tuple(_piece(x, dim, a, max(a, b), SliceBackward0) for a, b in bounds)


_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int32": "Int", "int16": "Short",
               "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _split_along(name: str, x: Tensor, sections, dim: int, min_dims: int):
    nd = x._data.ndim
    if nd < min_dims:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} dimension, but got a tensor "
                           f"with {nd} dimensions!")
    if isinstance(sections, int):
        size = x._data.shape[dim]
        if sections == 0 or size % sections:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size of the dimension "
                               f"{size} is not divisible by the split_size {sections}!")
    return tensor_split(x, sections, dim)


def hsplit(x: Tensor, indices_or_sections):
    return _split_along("hsplit", x, indices_or_sections, 0 if x._data.ndim == 1 else 1, 1)


def vsplit(x: Tensor, indices_or_sections):
    return _split_along("vsplit", x, indices_or_sections, 0, 2)


def dsplit(x: Tensor, indices_or_sections):
    return _split_along("dsplit", x, indices_or_sections, 2, 3)


def _tensor_args(tensors) -> tuple:
    """f(a, b) or f([a, b]) -> (a, b)."""
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        return tuple(tensors[0])
    return tuple(tensors)


def _atleast(tensors, nd: int):
    ts = _tensor_args(tensors)
    out = tuple(_to_nd(t, nd) for t in ts)
    return out[0] if len(tensors) == 1 and isinstance(tensors[0], Tensor) else out


def _to_nd(t: Tensor, nd: int) -> Tensor:
    shape = t._data.shape
    if len(shape) >= nd:
        return t
    if len(shape) == 0:
        return reshape(t, (1,) * nd)
    if nd == 2:
        return unsqueeze(t, 0)
    return unsqueeze(unsqueeze(t, 0), -1) if len(shape) == 1 else unsqueeze(t, -1)


def atleast_1d(*tensors):
    """Each tensor viewed with at least 1 dim (a 0-d one as shape (1,))."""
    return _atleast(tensors, 1)


def atleast_2d(*tensors):
    """Each tensor viewed with at least 2 dims (1-D as a row)."""
    return _atleast(tensors, 2)


def atleast_3d(*tensors):
    """Each tensor viewed with at least 3 dims (1-D (n,) as (1, n, 1), 2-D (m, n) as (m, n, 1))."""
    return _atleast(tensors, 3)


def _nonempty(name: str, tensors) -> list:
    ts = list(_tensor_args(tensors) if not isinstance(tensors, Tensor) else (tensors,))
    if not ts:
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    return ts


def hstack(tensors) -> Tensor:
    """Concatenate column-wise (along dim 1; dim 0 for 1-D tensors)."""
    ts = atleast_1d(_nonempty("hstack", tensors))
    return cat(ts, 0 if ts[0]._data.ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Concatenate row-wise (1-D tensors become rows)."""
    return cat(atleast_2d(_nonempty("vstack", tensors)), 0)


row_stack = vstack


def dstack(tensors) -> Tensor:
    """Concatenate depth-wise (along dim 2, after atleast_3d)."""
    return cat(atleast_3d(_nonempty("dstack", tensors)), 2)


def column_stack(tensors) -> Tensor:
    """hstack with 0-D and 1-D tensors as columns."""
    ts = _nonempty("column_stack", tensors)
    cols = [reshape(t, (t._data.size, 1)) if t._data.ndim <= 1 else t for t in ts]
    return cat(cols, 1)


def meshgrid(*tensors, indexing: str | None = None):
    """Coordinate grids: the i-th result varies along dim i ('ij'), or with the first two dims swapped ('xy')."""
    ts = _tensor_args(tensors)
    if indexing is None:
        import warnings

        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    for t in ts:
        if t._data.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}")
    order = list(range(len(ts)))
    if indexing == "xy" and len(ts) >= 2:
        order[0], order[1] = 1, 0
    sizes = [t._data.size for t in ts]
    shape = tuple(sizes[i] for i in order)
    out = []
    for i, t in enumerate(ts):
        view_shape = [1] * len(ts)
        view_shape[order.index(i)] = sizes[i]
        out.append(expand(view(t, tuple(view_shape)), shape))
    return tuple(out)


def cartesian_prod(*tensors) -> Tensor:
    """Every combination of one element from each 1-D tensor, as rows (a single tensor is returned as is)."""
    ts = _tensor_args(tensors)
    for t in ts:
        if t._data.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape [{', '.join(map(str, t._data.shape))}]")
    if len(ts) == 1:
        return ts[0]
    grids = meshgrid(*ts, indexing="ij")
    return stack([flatten(g) for g in grids], 1)


def combinations(x: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-r combinations of a 1-D tensor's elements as rows, in lexicographic order of positions."""
    from .creation import tensor
    from .indexing import index_select

    if x._data.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape [{', '.join(map(str, x._data.shape))}]")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return _make(x.device.xp.zeros(0, dtype=x._data.dtype), x.device)
    import numpy as np

    n = x._data.shape[0]
    # all r-tuples of positions, kept where they never decrease (with replacement) or always increase
    grid = np.stack(np.meshgrid(*([np.arange(n)] * r), indexing="ij"), -1).reshape(-1, r)
    steps = np.diff(grid, axis=1)
    keep = (steps >= 0).all(axis=1) if with_replacement else (steps > 0).all(axis=1)
    pos = grid[keep]
    if pos.shape[0] == 0:
        return _make(x.device.xp.zeros((0, r), dtype=x._data.dtype), x.device)
    cols = [index_select(x, 0, tensor(pos[:, k], device=x.device)) for k in range(r)]
    return stack(cols, 1)


def _tri_indices(row: int, col: int, offset: int, dtype, device, upper: bool) -> Tensor:
    import numpy as np

    from .. import _dtype
    from ._util import not_implemented
    from .creation import tensor

    dt = dtype or _dtype.int64
    if dt not in (_dtype.int64, _dtype.int32):
        raise not_implemented("triu_indices" if upper else "tril_indices", dt.np)
    mask = np.ones((row, col), dtype=bool)
    mask = np.triu(mask, offset) if upper else np.tril(mask, offset)
    return tensor(np.stack(np.nonzero(mask)).reshape(2, -1), dtype=dt, device=device)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None) -> Tensor:
    """The (2, N) coordinates of the upper triangle (from diagonal `offset`) of a row x col matrix."""
    return _tri_indices(row, col, offset, dtype, device, True)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None) -> Tensor:
    """The (2, N) coordinates of the lower triangle (up to diagonal `offset`) of a row x col matrix."""
    return _tri_indices(row, col, offset, dtype, device, False)


# ---- diagonals -------------------------------------------------------------------------------------
def _diagonal_view(xp, d, offset: int, dim1: int, dim2: int):
    """A writable view of the diagonal (moved to the last dim), like PyTorch's diagonal."""
    v = xp.diagonal(d, offset, dim1, dim2)
    if not getattr(v.flags, "writeable", True) and d.flags.writeable:
        v.flags.writeable = True  # NumPy returns diagonals read-only for backward compatibility only
    return v


def _check_diag_dims(nd: int, dim1: int, dim2: int):
    a, b = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return a, b


class DiagonalBackward0(Node):
    def __init__(self, x, offset, dim1, dim2):
        super().__init__((x,), ())
        self.in_shape, self.offset, self.dim1, self.dim2 = x._data.shape, offset, dim1, dim2

    def backward(self, g):
        return (_diagonal_into_zeros(g, self.in_shape, self.offset, self.dim1, self.dim2),)


class DiagonalBackward0_copy(DiagonalBackward0):  # noqa: N801 - PyTorch's name for diag() of a matrix
    pass


class _DiagonalScatter(Node):
    """The gradient of diagonal: g written on the diagonal of zeros (its own gradient is the diagonal again)."""

    def name(self) -> str:
        return "DiagonalBackwardBackward0"

    def __init__(self, g, offset, dim1, dim2):
        super().__init__((g,), ())
        self.offset, self.dim1, self.dim2 = offset, dim1, dim2

    def backward(self, gg):
        return (diagonal(gg, self.offset, self.dim1, self.dim2),)


def _diagonal_into_zeros(g: Tensor, shape, offset: int, dim1: int, dim2: int) -> Tensor:
    xp = g.device.xp
    data = xp.zeros(shape, dtype=g._data.dtype)
    _diagonal_view(xp, data, offset, dim1, dim2)[...] = g._data
    out = _make(data, g.device)
    if _GradMode.enabled and g._requires_grad:
        record(out, _DiagonalScatter(g, offset, dim1, dim2))
    return out


def diagonal(x: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """A view of the diagonal of the (dim1, dim2) planes, appended as the last dim."""
    a, b = _check_diag_dims(x._data.ndim, dim1, dim2)
    out = _view_of(x, _diagonal_view(x.device.xp, x._data, offset, a, b))
    if _GradMode.enabled and x._requires_grad:
        record(out, DiagonalBackward0(x, offset, a, b))
    return out


class DiagEmbedBackward0(Node):
    def __init__(self, x, offset, dim1, dim2):
        super().__init__((x,), ())
        self.offset, self.dim1, self.dim2 = offset, dim1, dim2

    def backward(self, g):
        return (diagonal(g, self.offset, self.dim1, self.dim2),)


def diag_embed(x: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Tensors whose (dim1, dim2) planes have x's last dim on their `offset` diagonal, zeros elsewhere."""
    nd = x._data.ndim + 1
    a, b = _check_diag_dims(nd, dim1, dim2)
    n = (x._data.shape[-1] if x._data.ndim else 1) + abs(offset)
    lead = list(x._data.shape[:-1])
    shape = []
    for i in range(nd):
        shape.append(n if i in (a, b) else lead.pop(0))
    xp = x.device.xp
    data = xp.zeros(tuple(shape), dtype=x._data.dtype)
    _diagonal_view(xp, data, offset, a, b)[...] = x._data
    out = _make(data, x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, DiagEmbedBackward0(x, offset, a, b))
    return out


def diag(x: Tensor, diagonal: int = 0) -> Tensor:
    """A square matrix with the 1-D x on a diagonal, or the diagonal of the 2-D x as a new tensor."""
    nd = x._data.ndim
    if nd == 1:
        return diag_embed(x, diagonal, 0, 1)
    if nd != 2:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {nd}D")
    out = _make(_diagonal_view(x.device.xp, x._data, diagonal, 0, 1).copy(), x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, DiagonalBackward0_copy(x, diagonal, 0, 1))
    return out


def diagflat(x: Tensor, offset: int = 0) -> Tensor:
    """A matrix with the flattened x on diagonal `offset`."""
    return diag_embed(reshape(x, (-1,)), offset, 0, 1)


class BlockDiagBackward0(Node):
    def __init__(self, tensors, blocks):
        super().__init__(tensors, ())
        self.blocks = blocks  # (row, col, shape) of each input

    def backward(self, g):
        out = []
        for (r, c, shape), (node, _) in zip(self.blocks, self.next_functions):
            if node is None:
                out.append(None)
                continue
            rows, cols = (shape[0], shape[1]) if len(shape) == 2 else (1, shape[0] if shape else 1)
            piece = g[r:r + rows, c:c + cols]
            out.append(reshape(piece, shape))
        return tuple(out)


def block_diag(*tensors) -> Tensor:
    """The tensors (each 0-, 1- or 2-D) as blocks along the diagonal of one matrix, zeros elsewhere."""
    from .. import _dtype

    ts = list(tensors)
    for i, t in enumerate(ts):
        if t._data.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t._data.ndim} dimensions")
    xp = ts[0].device.xp if ts else None
    if not ts:
        from .creation import zeros

        return zeros(1, 0)
    mats = [t._data.reshape(t._data.shape if t._data.ndim == 2 else (1, t._data.size)) for t in ts]
    rt = _dtype.result_type(*ts).np
    rows, cols = sum(m.shape[0] for m in mats), sum(m.shape[1] for m in mats)
    data = xp.zeros((rows, cols), dtype=rt)
    blocks, r, c = [], 0, 0
    for t, m in zip(ts, mats):
        data[r:r + m.shape[0], c:c + m.shape[1]] = m
        blocks.append((r, c, t._data.shape))
        r, c = r + m.shape[0], c + m.shape[1]
    out = _make(data, ts[0].device)
    if _GradMode.enabled and any(t._requires_grad for t in ts):
        record(out, BlockDiagBackward0(ts, blocks))
    return out


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape (a tensor already of that shape is returned as is)."""
    import numpy as np

    ts = _tensor_args(tensors)
    try:
        shape = np.broadcast_shapes(*(t._data.shape for t in ts))
    except ValueError:
        from .pointwise import _first_broadcast_error

        raise _first_broadcast_error(*(t._data.shape for t in ts)) from None
    return tuple(t if t._data.shape == shape else expand(t, shape) for t in ts)


moveaxis = movedim


# ---- flips, ravel, conjugate transposes ------------------------------------------------------------
def fliplr(x: Tensor) -> Tensor:
    """x with the order of its columns (dim 1) reversed; x must be at least 2-D."""
    if x._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(x, (1,))


def flipud(x: Tensor) -> Tensor:
    """x with the order of its rows (dim 0) reversed; x must be at least 1-D."""
    if x._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(x, (0,))


def ravel(x: Tensor) -> Tensor:
    """x flattened to 1-D: a view when x is contiguous, else a contiguous copy viewed (as in PyTorch)."""
    return view(contiguous(x), (-1,))


def adjoint(x: Tensor, what: str = "tensor.adjoint()") -> Tensor:
    """The conjugate transpose of the last two dims (x.mH)."""
    if x._data.ndim < 2:
        raise RuntimeError(f"{what} is only supported on matrices or batches of matrices. Got {x._data.ndim}-D tensor.")
    if x._data.dtype.kind == "c":
        from .complex import conj

        x = conj(x)
    return transpose(x, -2, -1)


def conj_transpose(x: Tensor) -> Tensor:
    """x.H: the conjugate transpose of a matrix (PyTorch allows 0-D too, with a deprecation warning)."""
    nd = x._data.ndim
    if nd == 0:
        import warnings

        warnings.warn("Tensor.H is deprecated on 0-D tensors. Consider using x.conj().", UserWarning, stacklevel=3)
        from .complex import conj

        return conj(x) if x._data.dtype.kind == "c" else x
    if nd != 2:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {nd}-D tensor."
                           + (" For batches of matrices, consider using tensor.mH" if nd > 2 else ""))
    return adjoint(x)


# ---- scatters into a view's region: diagonal_scatter, select_scatter, slice_scatter ---------------------
class _RegionScatterBackward(Node):
    """out = x with region(x) replaced by src: x gets g with the region zeroed, src gets region(g)."""

    def __init__(self, x, src, region):
        super().__init__((x, src), ())
        self.region = region

    def backward(self, g):
        n = self.next_functions
        gs = self.region(g)
        gx = _region_scatter(g, gs * 0, self.region, type(self)) if n[0][0] is not None else None
        return gx, (gs if n[1][0] is not None else None)


class DiagonalScatterBackward0(_RegionScatterBackward):
    pass


class SelectScatterBackward0(_RegionScatterBackward):
    pass


class SliceScatterBackward0(_RegionScatterBackward):
    pass


def _region_scatter(x: Tensor, src: Tensor, region, node_cls) -> Tensor:
    """A copy of x whose elements in region(x) (a view op) are src's values."""
    from .pointwise import _no_grad

    with _no_grad():
        data = x._data.copy()
        target = region(_make(data, x.device))._data  # a view into the copy
    if target.shape != src._data.shape:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src._data.shape)}, slice size = {list(target.shape)}")
    target[...] = src._data
    out = _make(data, x.device)
    if _GradMode.enabled and (x._requires_grad or src._requires_grad):
        record(out, node_cls(x, src, region))
    return out


def diagonal_scatter(x: Tensor, src: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """A copy of x with diagonal(x, offset, dim1, dim2) set to src."""
    _check_diag_dims(x._data.ndim, dim1, dim2)
    return _region_scatter(x, src, lambda t: diagonal(t, offset, dim1, dim2), DiagonalScatterBackward0)


def select_scatter(x: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """A copy of x with x.select(dim, index) set to src."""
    select(x, dim, index)  # (PyTorch's errors for a bad dim or index)
    return _region_scatter(x, src, lambda t: select(t, dim, index), SelectScatterBackward0)


def slice_scatter(x: Tensor, src: Tensor, dim: int = 0, start: int | None = None, end: int | None = None,
                  step: int = 1) -> Tensor:
    """A copy of x with x[..., start:end:step, ...] (along dim) set to src."""
    from .indexing import getitem

    index = (slice(None),) * wrap_dim(dim, max(x._data.ndim, 1)) + (slice(start, end, step),)
    return _region_scatter(x, src, lambda t: getitem(t, index), SliceScatterBackward0)


class NarrowCopyBackward0(Node):
    def __init__(self, x, dim, start, length):
        super().__init__((x,), ())
        self.shape, self.dim, self.start, self.length = x._data.shape, dim, start, length

    def backward(self, g):
        zeros = _make(g.device.xp.zeros(self.shape, dtype=g._data.dtype), g.device)
        return (slice_scatter(zeros, g, self.dim, self.start, self.start + self.length),)


def narrow_copy(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    """narrow(x, dim, start, length) as a new tensor of its own."""
    from .pointwise import _no_grad

    with _no_grad():
        part = narrow(x, dim, start, length)
    out = _make(part._data.copy(), x.device)
    if _GradMode.enabled and x._requires_grad:
        start = start + x._data.shape[wrap_dim(dim, x._data.ndim)] if start < 0 else start
        record(out, NarrowCopyBackward0(x, dim, start, length))
    return out


# ---- as_strided: a view with arbitrary sizes and strides into the tensor's storage ----------------------
def _address(d) -> int:
    return d.__array_interface__["data"][0] if hasattr(d, "__array_interface__") else int(d.data.ptr)


def storage_root(d):
    """The array owning d's memory (the end of its chain of views): PyTorch's storage of the tensor."""
    while True:
        base = d.base
        if not isinstance(base, type(d)):  # as_strided's results hold their array through a helper object
            base = getattr(base, "base", None)
        if not isinstance(base, type(d)):
            return d
        d = base


def storage_offset(x: Tensor) -> int:
    """How many elements into its storage x's first element lies."""
    d = x._data
    return (_address(d) - _address(storage_root(d))) // d.itemsize


def as_strided(x: Tensor, size, stride, storage_offset_: int | None = None) -> Tensor:
    """A view of x's storage with the given sizes and strides (in elements), starting storage_offset_ elements in
    (x's own offset by default). Elements may repeat (stride 0); writes through the view change x."""
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got strides: {list(stride)}")
    d = x._data
    root = storage_root(d)
    if not root.flags.c_contiguous:
        raise RuntimeError("as_strided: the tensor's storage is not one contiguous block here")
    offset = storage_offset(x) if storage_offset_ is None else int(storage_offset_)
    item = d.itemsize
    reach = offset + (sum((n - 1) * s for n, s in zip(size, stride)) + 1 if all(size) else 0)
    if reach > root.size:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and "
                           f"itemsize {item} requiring a storage size of {reach * item} are out of bounds for storage "
                           f"of size {root.size * item}")
    xp = x.device.xp
    data = xp.lib.stride_tricks.as_strided(root.reshape(-1)[offset:], size, tuple(s * item for s in stride))
    out = _view_of(x, data)
    if _GradMode.enabled and x._requires_grad:
        record(out, _as_strided_node(x, data, size, stride, offset))
    return out


def _as_strided_node(x: Tensor, data, size, stride, offset) -> Node:
    """The view's gradient lands at the positions of its elements in x (repeats add up)."""
    from .inplace import AsStridedBackward0

    xp = x.device.xp
    start = offset - storage_offset(x)
    pos = xp.full(size, start, dtype=xp.int64)
    for dim, (n, s) in enumerate(zip(size, stride)):
        pos = pos + (xp.arange(n, dtype=xp.int64) * s).reshape((n,) + (1,) * (len(size) - dim - 1))
    if not x._data.flags.c_contiguous or (pos.size and (int(pos.min()) < 0 or int(pos.max()) >= x._data.size)):
        raise RuntimeError("as_strided: the gradient of a view reaching outside a contiguous input is not supported; "
                           "call as_strided on a contiguous tensor (or its storage's owner)")
    return AsStridedBackward0(x, _make(pos, x.device))


def expandable(shape, target) -> bool:
    """Whether a tensor of `shape` can be expanded to `target` (each size equal, or 1)."""
    if len(shape) > len(target):
        return False
    return all(s == t or s == 1 for s, t in zip(reversed(tuple(shape)), reversed(tuple(target))))


# ---- unfold: sliding windows along a dim, as a view -------------------------------------------------------
class UnfoldBackward0(Node):
    """The windows' gradients added back into the input's shape (overlapping windows add up)."""

    def __init__(self, x, dim, size, step):
        super().__init__((x,), ())
        self.shape, self.dim, self.size, self.step = x._data.shape, dim, size, step

    def backward(self, g):
        return (_windows_added(g, self.shape, self.dim, self.size, self.step),)


class _WindowsAdded(Node):
    """The gradient of unfold's backward is unfold again (it is linear)."""

    def name(self) -> str:
        return "UnfoldBackwardBackward0"

    def __init__(self, g, dim, size, step):
        super().__init__((g,), ())
        self.dim, self.size, self.step = dim, size, step

    def backward(self, gg):
        return (unfold(gg, self.dim, self.size, self.step),)


def _windows_added(g: Tensor, shape, dim: int, size: int, step: int) -> Tensor:
    """zeros(shape) with every window's values of g added at its place: one strided add per window tap."""
    xp = g.device.xp
    data = xp.zeros(shape, dtype=g._data.dtype)
    if len(shape) == 0:
        data = data + g._data.reshape(())
    else:
        moved = xp.moveaxis(data, dim, -1)  # a view: adds land in data
        windows = xp.moveaxis(g._data, dim, -2)  # (..., n_windows, size)
        n = windows.shape[-2]
        for k in range(size):
            moved[..., k:k + (n - 1) * step + 1:step] += windows[..., k]
    out = _make(data, g.device)
    if _GradMode.enabled and g._requires_grad:
        record(out, _WindowsAdded(g, dim, size, step))
    return out


def unfold(x: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """A view of every slice of length `size` along `dimension`, `step` apart: that dim becomes the number of
    windows and a last dim of length `size` is appended."""
    d = x._data
    nd = d.ndim
    dim = wrap_dim(dimension, max(nd, 1))
    length = d.shape[dim] if nd else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {dim} is {length} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    xp = x.device.xp
    if nd == 0:
        data = d.reshape(1)
    else:
        n = (length - size) // step + 1
        shape = d.shape[:dim] + (n,) + d.shape[dim + 1:] + (size,)
        strides = d.strides[:dim] + (d.strides[dim] * step,) + d.strides[dim + 1:] + (d.strides[dim],)
        data = xp.lib.stride_tricks.as_strided(d, shape, strides)
    out = _view_of(x, data)
    if _GradMode.enabled and x._requires_grad:
        record(out, UnfoldBackward0(x, dim, size, step))
    return out


# the nodes of the in-place view ops (x.t_(), x.unsqueeze_(0), ...): PyTorch names them apart from their
# out-of-place twins; the formulas are the same
class TBackward1(TBackward0):
    pass


class TransposeBackward1(TransposeBackward0):
    pass


class UnsqueezeBackward1(UnsqueezeBackward0):
    pass


class SqueezeBackward3(SqueezeBackward0):
    pass


class SqueezeBackward4(SqueezeBackward1):
    pass


INPLACE_VIEW_NODES = {TBackward0: TBackward1, TransposeBackward0: TransposeBackward1,
                      UnsqueezeBackward0: UnsqueezeBackward1, SqueezeBackward0: SqueezeBackward3,
                      SqueezeBackward1: SqueezeBackward4}


class AsStridedScatterBackward0(_RegionScatterBackward):
    pass


def as_strided_scatter(x: Tensor, src: Tensor, size, stride, storage_offset_: int | None = None) -> Tensor:
    """A copy of x whose elements in x.as_strided(size, stride, storage_offset_) are src's values (sizes and
    strides count in a contiguous copy of x)."""
    def region(t: Tensor) -> Tensor:
        if storage_root(t._data) is not t._data or not t._data.flags.c_contiguous:
            t = clone(t)  # (a gradient may be a view of something else's memory: read a copy of its own)
        return as_strided(t, size, stride, 0 if storage_offset_ is None else storage_offset_)

    return _region_scatter(x, src, region, AsStridedScatterBackward0)
