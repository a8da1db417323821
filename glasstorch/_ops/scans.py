"""Scans along a dim beyond cumsum: cumprod, cummax/cummin (with indices), logcumsumexp, and diff."""
from __future__ import annotations

from ..amp.autocast_mode import autocast_op
from ._util import Node, Tensor, _GradMode, _make, not_implemented, numpy_name, record, wrap_dim
from . import pointwise as P
from .reduction import _ReturnTypes, _acc_dtype, _alias, cumsum


def _scan(xp, ufunc, d, axis: int):
    """ufunc.accumulate(d, axis): running results of an associative binary ufunc along axis.

    Backends whose ufuncs lack accumulate (CuPy's have it for add and multiply only) get a
    Hillis-Steele scan: log2(n) whole-array steps, each combining every element with the one
    `shift` places before it."""
    try:
        return ufunc.accumulate(d, axis=axis)
    except (AttributeError, NotImplementedError, TypeError):
        pass
    out = xp.moveaxis(d, axis, 0).copy()
    shift = 1
    while shift < out.shape[0]:
        out[shift:] = ufunc(out[shift:], out[:-shift].copy())
        shift *= 2
    return xp.moveaxis(out, 0, axis)


def _reverse_cumsum(t: Tensor, dim: int) -> Tensor:
    """Sums from each position to the end of dim."""
    from .shape import flip

    return flip(cumsum(flip(t, (dim,)), dim), (dim,))


# ---- cumprod ---------------------------------------------------------------------------------------
class CumprodBackward0(Node):
    def __init__(self, x, result, dim):
        super().__init__((x,), (x, result))
        self.dim = dim

    def backward(self, g):
        x, result = self.saved_tensors
        if x._data.ndim == 0:
            return (g,)
        dim = self.dim
        if not bool((x._data == 0).any()):
            # d out_j / d x_i = out_j / x_i for j >= i
            return (_reverse_cumsum(g * result, dim) / x,)
        return (_cumprod_grad_with_zeros(g, x, dim),)


def _cumprod_grad_with_zeros(g: Tensor, x: Tensor, dim: int) -> Tensor:
    """grad_i = sum over j >= i of g_j * prod(x_k for k <= j, k != i), exact where x has zeros.

    An (n, n) table per slice along dim: row i is x with x_i replaced by 1, whose cumprod gives
    the products without x_i (n is the length of dim; fine for the short scans this path meets)."""
    from .creation import eye
    from .shape import movedim

    n = x._data.shape[dim]
    xm = movedim(x, dim, -1).unsqueeze(-2)          # (..., 1, n)
    gm = movedim(g, dim, -1).unsqueeze(-2)          # (..., 1, n)
    ident = eye(n, dtype=x.dtype, device=x.device) > 0
    table = P.where(ident, 1.0, xm)                 # (..., n [i], n [k]): x with x_i -> 1
    others = cumprod(table, -1)                     # prod over k <= j, k != i
    upper = P.where(_upper_mask(n, x), others * gm, 0.0)  # keep j >= i
    return movedim(upper.sum(-1), -1, dim)


def _upper_mask(n: int, like: Tensor) -> Tensor:
    xp = like.device.xp
    return _make(xp.triu(xp.ones((n, n), dtype=bool)), like.device)


@autocast_op("cumprod")
def cumprod(x: Tensor, dim: int | None = None, *, dtype=None, axis=None) -> Tensor:
    """Running products along dim (integers accumulate in int64, as in PyTorch)."""
    if axis is not None or dim is None:  # NumPy's name, as torch accepts it (dim is required)
        dim = numpy_name(dim, axis, "cumprod")
    d = x._data
    dim = wrap_dim(dim, d.ndim)
    acc = _acc_dtype(x, dtype)
    data = d.cumprod(axis=dim, dtype=acc) if d.ndim else d.astype(acc or d.dtype)
    out = _make(data, x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, CumprodBackward0(x, _alias(out), dim))
    return out


# ---- cummax / cummin -----------------------------------------------------------------------------
class cummax_rt(_ReturnTypes):
    _name = "cummax"
    __slots__ = ()


class cummin_rt(_ReturnTypes):
    _name = "cummin"
    __slots__ = ()


cummax_rt.__name__ = cummax_rt.__qualname__ = "cummax"  # type(result).__name__, as in torch.return_types
cummin_rt.__name__ = cummin_rt.__qualname__ = "cummin"


class CummaxBackward0(Node):
    """The gradient of each running extreme goes to the element it came from."""

    def __init__(self, x, indices, dim):
        super().__init__((x,), ())
        self.indices, self.dim, self.shape = indices, dim, x._data.shape

    def backward(self, g):
        from .indexing import scatter_add

        if g._data.ndim == 0:
            return (g,)
        zeros = _make(g.device.xp.zeros(self.shape, dtype=g._data.dtype), g.device)
        return (scatter_add(zeros, self.dim, self.indices, g),)

    def _release_extra(self):
        self.indices = None


class CumminBackward0(CummaxBackward0):
    pass


def _cum_extreme(x: Tensor, dim: int, largest: bool):
    xp = x.device.xp
    d = x._data
    dim = wrap_dim(dim, d.ndim)
    if d.ndim == 0:
        values, idx = d.copy(), xp.zeros((), dtype=xp.int64)
    else:
        if d.dtype.kind == "b":
            acc = xp.logical_or if largest else xp.logical_and
        else:  # (maximum, not fmax: a NaN propagates, as in PyTorch)
            acc = xp.maximum if largest else xp.minimum
        values = _scan(xp, acc, d, dim)
        # the running extreme before each position (the first element always starts a run)
        before = xp.take(values, xp.arange(-1, d.shape[dim] - 1), axis=dim) if d.shape[dim] else values
        wins = (d >= before) if largest else (d <= before)
        if d.dtype.kind == "f":  # a NaN takes over, and every later NaN too (PyTorch's rule)
            wins = xp.isnan(d) | (~xp.isnan(before) & wins)
        shape = [1] * d.ndim
        shape[dim] = d.shape[dim]
        pos = xp.arange(d.shape[dim]).reshape(shape)
        first = pos == 0
        idx = _scan(xp, xp.maximum, xp.where(wins | first, pos, 0), dim).astype(xp.int64)
    vals = _make(values, x.device)
    indices = _make(idx, x.device)
    if _GradMode.enabled and x._requires_grad:
        record(vals, (CummaxBackward0 if largest else CumminBackward0)(x, indices, dim))
    return (cummax_rt if largest else cummin_rt)(vals, indices)


def cummax(x: Tensor, dim: int):
    """Running maxima along dim and the index each came from (the latest one among equals)."""
    return _cum_extreme(x, dim, True)


def cummin(x: Tensor, dim: int):
    return _cum_extreme(x, dim, False)


# ---- logcumsumexp --------------------------------------------------------------------------------
class LogcumsumexpBackward0(Node):
    def __init__(self, x, result, dim):
        super().__init__((x,), (x, result))
        self.dim = dim

    def backward(self, g):
        from .shape import flip

        x, result = self.saved_tensors
        if x._data.ndim == 0:
            return (g,)
        dim = self.dim

        def reverse_lcse(t):
            return flip(logcumsumexp(flip(t, (dim,)), dim), (dim,))

        # grad_i = sum over j >= i of g_j exp(x_i - out_j), in log space for each sign of g
        # (exp(x_i - out_j) <= 1, but exp(-out_j) alone could overflow). Where g has the other sign
        # its log is the dtype's lowest finite number, not -inf: -inf - -inf would be NaN, and the
        # formula must stay differentiable for double backward
        lowest = float(g.device.xp.finfo(g._data.dtype).min)
        log_abs = P.log(P.abs(g))
        pos = P.exp(reverse_lcse(P.where(g > 0, log_abs, lowest) - result) + x)
        neg = P.exp(reverse_lcse(P.where(g < 0, log_abs, lowest) - result) + x)
        return (pos - neg,)


def logcumsumexp(x: Tensor, dim: int) -> Tensor:
    """log(cumsum(exp(x))) along dim, without overflow."""
    d = x._data
    if d.dtype.kind != "f":
        raise not_implemented("logcumsumexp_out_cpu", d.dtype)
    dim = wrap_dim(dim, d.ndim)
    xp = x.device.xp
    # pairwise log-adds: no overflow, and exact even for values far apart (a shift by the maximum
    # followed by cumsum(exp) would underflow the small early terms to log(0))
    data = d.copy() if d.ndim == 0 else _scan(xp, xp.logaddexp, d, dim)
    out = _make(data.astype(d.dtype, copy=False), x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, LogcumsumexpBackward0(x, _alias(out), dim))
    return out


# ---- diff ---------------------------------------------------------------------------------------
def diff(x: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None, append: Tensor | None = None, *,
         axis=None) -> Tensor:
    """The n-th forward difference along dim (x[1:] - x[:-1], n times); bools give x[1:] ^ x[:-1]."""
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "diff", -1)
    from .shape import cat, narrow

    if x._data.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    dim = wrap_dim(dim, x._data.ndim)
    parts = [t for t in (prepend, x, append) if t is not None]
    if len(parts) > 1:
        x = cat(parts, dim)
    for _ in range(n):
        length = x._data.shape[dim]
        if length == 0:
            break
        hi, lo = narrow(x, dim, 1, length - 1), narrow(x, dim, 0, length - 1)
        x = P.logical_xor(hi, lo) if x._data.dtype.kind == "b" else hi - lo
    return x


# ---- the trapezoidal rule: trapezoid (trapz) and its running form ------------------------------------------
def _spacing(y: Tensor, x, dim: int, name: str):
    """The widths of the intervals along dim: a tensor shaped to broadcast against y's pairs, or a number."""
    if not isinstance(x, Tensor):
        return x
    if x._data.ndim == 1:
        if x._data.shape[0] != y._data.shape[dim]:
            raise RuntimeError(f"{name}: There must be one `x` value for each sample point")
        widths = diff(x)
        return widths.reshape((-1,) + (1,) * (y._data.ndim - 1 - dim))
    return diff(x, 1, dim)


def _no_bool(name: str, y: Tensor, x) -> None:
    if y._data.dtype.kind == "b" or (isinstance(x, Tensor) and x._data.dtype.kind == "b"):
        which = "`x` or `y`" if isinstance(x, Tensor) else "`y`"
        raise RuntimeError(f"{name}: received a bool input for {which}, but bool is not supported")


def _pair_sums(y: Tensor, dim: int) -> Tensor:
    """y[i] + y[i + 1] along dim."""
    n = y._data.shape[dim]
    return y.narrow(dim, 1, n - 1) + y.narrow(dim, 0, n - 1)


def trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The integral of y along dim by the trapezoidal rule, at points x (a tensor) or spacing dx (default 1)."""
    _no_bool("trapezoid", y, x)
    if isinstance(x, Tensor) and dx is not None:
        raise TypeError("trapezoid() received an invalid combination of arguments - got both x and dx")
    dim = wrap_dim(dim, y._data.ndim)
    if y._data.shape[dim] == 0:
        return y.sum(dim) * 0
    if not isinstance(x, Tensor):
        spacing = 1 if x is None and dx is None else (x if dx is None else dx)
        ends = y.select(dim, 0) + y.select(dim, -1)
        return (y.sum(dim) - ends * 0.5) * spacing
    return (_spacing(y, x, dim, "trapezoid") * _pair_sums(y, dim)).sum(dim) / 2.0


def trapz(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The older name of trapezoid: trapz(y, x, dim=-1) or trapz(y, dx=1, dim=-1)."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The running trapezoidal integral of y along dim (one element fewer than y there)."""
    _no_bool("cumulative_trapezoid", y, x)
    dim = wrap_dim(dim, y._data.ndim)
    spacing = _spacing(y, x, dim, "cumulative_trapezoid") if isinstance(x, Tensor) else (
        1 if x is None and dx is None else (x if dx is None else dx))
    if y._data.shape[dim] == 0:
        return y.narrow(dim, 0, 0) * 1
    return cumsum(spacing * _pair_sums(y, dim) / 2.0, dim)
