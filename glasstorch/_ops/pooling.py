"""Pooling: max and average pooling over sliding windows, adaptive pooling, max-unpooling.

Sliding-window pools loop over the kernel's taps (kh * kw of them, a handful), each tap a strided
slice of the padded input covering every output position at once: the running max (or sum) is
updated tap by tap, in the order PyTorch's kernels visit a window, so ties and rounding come out
the same. The backward passes walk the same taps, adding the gradient into strided slices.
Adaptive pools (windows of varying size) use small averaging matrices (avg) or per-tap gathers
with a bincount scatter (max). With the optional extra `fast`, 2-d max pooling and its gradient run
as compiled loops (backends/cpu_conv.py) that give the same bits as the tap loops here.
"""
from __future__ import annotations

import itertools
import math

from ..backends import cpu_conv
from .conv import array_module as _xp_of, linear_map
from ._util import Node, Tensor, _GradMode, _make, not_implemented, record

__all__ = ["max_pool_nd", "avg_pool_nd", "adaptive_avg_pool_nd", "adaptive_max_pool_nd", "max_unpool_nd",
           "pool_output_size"]


def pool_output_size(size: int, k: int, pad: int, stride: int, dilation: int, ceil_mode: bool) -> int:
    """PyTorch's pooling_output_shape: in ceil mode the last window must start inside the input or left pad."""
    num = size + 2 * pad - dilation * (k - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = num // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _tap_slices(tap, stride, dilation, out):
    """The strided slice of the padded input that tap `tap` reads for every output position."""
    return tuple(slice(t * d, t * d + s * (o - 1) + 1, s) for t, d, s, o in zip(tap, dilation, stride, out))


def _padded(x, pad, reach, fill):
    """x (*, *S) inside a buffer of spatial extent `reach`, offset by `pad`, the rest `fill`."""
    nd = len(pad)
    if not any(pad) and tuple(x.shape[-nd:]) == tuple(reach):
        return x
    xp = _xp_of(x)
    buf = xp.full(x.shape[:-nd] + tuple(reach), fill, dtype=x.dtype)
    buf[(Ellipsis,) + tuple(slice(p, p + s) for p, s in zip(pad, x.shape[-nd:]))] = x
    return buf


def _reach(size, pad, kernel, stride, dilation, out):
    """Padded extent holding the input, its padding and every window (ceil mode may reach past it)."""
    return tuple(max(s + 2 * p, d * (k - 1) + st * (o - 1) + 1)
                 for s, p, k, st, d, o in zip(size, pad, kernel, stride, dilation, out))


def _lowest(dtype):
    import numpy as np

    return -np.inf if np.dtype(dtype).kind in "fV" else np.iinfo(dtype).min  # (V: bfloat16)


# ---- max pooling ------------------------------------------------------------------------------------
class MaxPool2DWithIndicesBackward0(Node):
    """Route each output's gradient to the input element its window picked (tap by tap)."""

    def __init__(self, x, arg, geo):
        super().__init__((x,), ())
        self.arg, self.geo = arg, geo
        self.x_shape = x._data.shape

    def _release_extra(self):
        self.arg = None

    def backward(self, g):
        arg, geo, shape = self.arg, self.geo, self.x_shape
        return (linear_map(g, lambda a: _max_scatter(a, arg, geo, shape), lambda a: _max_gather(a, arg, geo)),)


def _max_scatter(gd, arg, geo, x_shape):
    """(N, C, *out) gradients onto the picked elements of a zero (N, C, *S) array."""
    kernel, stride, pad, dilation, out = geo
    if len(kernel) == 2:  # the compiled loop (optional extra `fast`), when it takes gd
        gx = cpu_conv.max_pool_backward(gd, arg, kernel, stride, pad, dilation, x_shape)
        if gx is not None:
            return gx
    xp = _xp_of(gd)
    size = x_shape[-len(kernel):]
    reach = _reach(size, pad, kernel, stride, dilation, out)
    buf = xp.zeros(gd.shape[:-len(kernel)] + reach, dtype=gd.dtype)
    zero = gd.dtype.type(0)
    # windows that cannot overlap (stride past the dilated kernel, e.g. 2x2 stride 2) write
    # disjoint slices: a plain assignment, cheaper than adding
    disjoint = all(st >= d * (k - 1) + 1 for k, st, d in zip(kernel, stride, dilation))
    for t, tap in enumerate(itertools.product(*(range(k) for k in kernel))):
        where = (Ellipsis,) + _tap_slices(tap, stride, dilation, out)
        if disjoint:
            buf[where] = xp.where(arg == t, gd, zero)
        else:
            buf[where] += xp.where(arg == t, gd, zero)
    if reach == tuple(size):  # nothing to crop
        return buf
    inner = tuple(slice(p, p + s) for p, s in zip(pad, size))
    return xp.ascontiguousarray(buf[(Ellipsis,) + inner])


def _max_gather(a, arg, geo):
    """The adjoint of _max_scatter: each window's picked element of a (N, C, *S) array."""
    kernel, stride, pad, dilation, out = geo
    xp = _xp_of(a)
    size = a.shape[-len(kernel):]
    buf = _padded(a, pad, _reach(size, pad, kernel, stride, dilation, out), 0)
    result = xp.zeros(arg.shape, dtype=a.dtype)
    for t, tap in enumerate(itertools.product(*(range(k) for k in kernel))):
        xp.copyto(result, buf[(Ellipsis,) + _tap_slices(tap, stride, dilation, out)], where=arg == t)
    return result


def _flat_index(arg, kernel, stride, pad, dilation, size, xp):
    """Input-plane flat indices (h * W + w) of the taps `arg` picked per output position."""
    taps = xp.unravel_index(arg, kernel) if len(kernel) > 1 else (arg,)
    nd = len(kernel)
    flat = None
    for i, (t, k, st, p, d, s) in enumerate(zip(taps, kernel, stride, pad, dilation, size)):
        shape = [1] * nd
        shape[i] = arg.shape[arg.ndim - nd + i]
        start = (xp.arange(shape[i], dtype=xp.int64) * st - p).reshape(shape)
        pos = start + t.astype(xp.int64) * d
        flat = pos if flat is None else flat * s + pos
    return flat


def _max_windows(xd, kernel, stride, pad, dilation, out):
    """(best, arg): each window's maximum and the tap that holds it (int8 when the kernel has < 128 taps)."""
    if len(kernel) == 2:  # the compiled loop (optional extra `fast`), when it takes xd
        fast = cpu_conv.max_pool(xd, kernel, stride, pad, dilation, out)
        if fast is not None:
            return fast
    xp = _xp_of(xd)
    size = xd.shape[-len(kernel):]
    buf = _padded(xd, pad, _reach(size, pad, kernel, stride, dilation, out), _lowest(xd.dtype))
    best = arg = None
    for t, tap in enumerate(itertools.product(*(range(k) for k in kernel))):
        v = buf[(Ellipsis,) + _tap_slices(tap, stride, dilation, out)]
        if best is None:
            best, arg = v.copy(), xp.zeros(v.shape, dtype=xp.int8 if math.prod(kernel) < 128 else xp.int64)
            continue
        # PyTorch's rule: a strictly greater value, or any NaN, takes the window. maximum(v, best)
        # gives those values (it returns its NaN operand, and `best` on a tie, so of +0 and -0 the
        # first stays); the mask gives the index.
        take = v > best
        if xd.dtype.kind == "f":
            take |= xp.isnan(v)
        xp.maximum(v, best, out=best)
        arg = xp.where(take, arg.dtype.type(t), arg)
    return best, arg


def max_pool_nd(x: Tensor, kernel, stride, pad, dilation, ceil_mode: bool, return_indices: bool):
    """Max pooling over the last len(kernel) dims of x (the caller checked the arguments)."""
    xd = x._data
    if xd.dtype.kind == "b":
        raise not_implemented("max_pool2d", xd.dtype)
    xp = _xp_of(xd)
    nd = len(kernel)
    size = xd.shape[-nd:]
    out = tuple(pool_output_size(s, k, p, st, d, ceil_mode)
                for s, k, p, st, d in zip(size, kernel, pad, stride, dilation))
    _check_output(xd.shape, out)
    best, arg = _max_windows(xd, kernel, stride, pad, dilation, out)
    result = _make(best, x.device)
    indices = None
    if return_indices or (_GradMode.enabled and x._requires_grad):
        if return_indices:
            indices = _make(_flat_index(arg, kernel, stride, pad, dilation, size, xp).astype(xp.int64), x.device)
        if _GradMode.enabled and x._requires_grad:
            record(result, MaxPool2DWithIndicesBackward0(x, arg, (kernel, stride, pad, dilation, out)))
    return (result, indices) if return_indices else result


def _check_output(shape, out):
    if any(o < 1 for o in out):
        nd = len(out)
        lead = shape[-nd - 1:-nd] if len(shape) > nd else ()
        given = "x".join(str(s) for s in tuple(lead) + tuple(shape[-nd:]))
        calc = "x".join(str(s) for s in tuple(lead) + tuple(out))
        raise RuntimeError(f"Given input size: ({given}). Calculated output size: ({calc}). Output size is too small")


# ---- average pooling ----------------------------------------------------------------------------------
class AvgPool2DBackward0(Node):
    """Each output's gradient, divided by its divisor, spread evenly over its window."""

    def __init__(self, x, divisor, geo):
        super().__init__((x,), ())
        self.divisor, self.geo = divisor, geo
        self.x_shape = x._data.shape

    def backward(self, g):
        div, geo, shape = self.divisor, self.geo, self.x_shape
        return (linear_map(g, lambda a: _avg_spread(a, div, geo, shape), lambda a: _window_sum(a, geo) / div),)


def _avg_spread(gd, divisor, geo, x_shape):
    kernel, stride, pad, out = geo
    gd = gd / divisor
    xp = _xp_of(gd)
    ones = (1,) * len(kernel)
    size = x_shape[-len(kernel):]
    buf = xp.zeros(gd.shape[:-len(kernel)] + _reach(size, pad, kernel, stride, ones, out), dtype=gd.dtype)
    for tap in itertools.product(*(range(k) for k in kernel)):
        buf[(Ellipsis,) + _tap_slices(tap, stride, ones, out)] += gd
    inner = tuple(slice(p, p + s) for p, s in zip(pad, size))
    return xp.ascontiguousarray(buf[(Ellipsis,) + inner])


def _window_sum(a, geo):
    """The sum of each (zero-padded) window, taps added left to right as PyTorch sums a window."""
    kernel, stride, pad, out = geo
    ones = (1,) * len(kernel)
    size = a.shape[-len(kernel):]
    buf = _padded(a, pad, _reach(size, pad, kernel, stride, ones, out), 0)
    total = None
    for tap in itertools.product(*(range(k) for k in kernel)):
        v = buf[(Ellipsis,) + _tap_slices(tap, stride, ones, out)]
        total = v.copy() if total is None else total.__iadd__(v)
    return total


def _divisor(size, kernel, stride, pad, out, count_include_pad, divisor_override, xp, dtype):
    """Per output position: how many elements its average divides by (PyTorch's rule), shape out."""
    if divisor_override is not None:
        return dtype.type(divisor_override)
    total = None
    nd = len(kernel)
    for i, (s, k, st, p, o) in enumerate(zip(size, kernel, stride, pad, out)):
        start = xp.arange(o) * st - p
        end = xp.minimum(start + k, s + p)  # windows are cut at the end of the padding (ceil mode)
        n = end - start if count_include_pad else xp.minimum(end, s) - xp.maximum(start, 0)
        shape = [1] * nd
        shape[i] = o
        n = n.reshape(shape)
        total = n if total is None else total * n
    return total.astype(dtype)


def avg_pool_nd(x: Tensor, kernel, stride, pad, ceil_mode: bool, count_include_pad: bool, divisor_override):
    """Average pooling over the last len(kernel) dims of x (the caller checked the arguments)."""
    xd = x._data
    if xd.dtype.kind == "b" or (xd.dtype.kind in "iu" and xd.dtype.itemsize < 8):  # (int64 has a kernel)
        raise not_implemented("avg_pool2d", xd.dtype)
    xp = _xp_of(xd)
    nd = len(kernel)
    size = xd.shape[-nd:]
    out = tuple(pool_output_size(s, k, p, st, 1, ceil_mode) for s, k, p, st in zip(size, kernel, pad, stride))
    _check_output(xd.shape, out)
    total = _window_sum(xd, (kernel, stride, pad, out))
    divisor = _divisor(size, kernel, stride, pad, out, count_include_pad, divisor_override, xp, xd.dtype)
    if xd.dtype.kind in "iu":  # integer average: truncated like PyTorch's integer division
        y = _int_div(total, divisor, xp)
    else:
        y = total / divisor
    result = _make(y, x.device)
    if _GradMode.enabled and x._requires_grad:
        record(result, AvgPool2DBackward0(x, divisor, (kernel, stride, pad, out)))
    return result


def _int_div(total, divisor, xp):
    q = xp.abs(total) // xp.abs(divisor)
    return (xp.sign(total) * xp.sign(divisor) * q).astype(total.dtype)


# ---- adaptive pooling ------------------------------------------------------------------------------------
def _adaptive_bounds(size: int, out: int, xp):
    """Window i covers [floor(i * size / out), ceil((i + 1) * size / out))."""
    i = xp.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def _averaging_matrix(size: int, out: int, xp, dtype):
    """(out, size): row i holds 1/len over window i and 0 elsewhere."""
    start, end = _adaptive_bounds(size, out, xp)
    j = xp.arange(size)
    inside = (j >= start[:, None]) & (j < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


class AdaptiveAvgPool2DBackward0(Node):
    def __init__(self, x, mats):
        super().__init__((x,), ())
        self.mats = mats

    def backward(self, g):
        mats = self.mats
        return (linear_map(g, lambda a: _apply_mats(a, mats, transpose=True), lambda a: _apply_mats(a, mats)),)


def _apply_mats(a, mats, transpose=False):
    """Multiply each of the last len(mats) dims of `a` by its matrix (or its transpose)."""
    nd = len(mats)
    for i, m in enumerate(mats):
        axis = a.ndim - nd + i
        a = (a.swapaxes(axis, -1) @ (m if transpose else m.T)).swapaxes(axis, -1)
    xp = _xp_of(a)
    return xp.ascontiguousarray(a)


def adaptive_avg_pool_nd(x: Tensor, out: tuple, name: str) -> Tensor:
    xd = x._data
    if xd.dtype.kind in "biu":
        raise not_implemented(name, xd.dtype)
    xp = _xp_of(xd)
    nd = len(out)
    size = xd.shape[-nd:]
    mats = tuple(_averaging_matrix(s, o, xp, xd.dtype) for s, o in zip(size, out))
    result = _make(_apply_mats(xd, mats), x.device)
    if _GradMode.enabled and x._requires_grad:
        record(result, AdaptiveAvgPool2DBackward0(x, mats))
    return result


class AdaptiveMaxPool2DBackward0(Node):
    """Scatter each output's gradient onto the element its window picked (windows may overlap:
    a bincount over flat indices adds repeated targets)."""

    def __init__(self, x, indices, nd: int):
        super().__init__((x,), ())
        self.indices = indices
        self.x_shape = x._data.shape
        self.nd = nd

    def backward(self, g):
        idx, shape, nd = self.indices, self.x_shape, self.nd
        return (linear_map(g, lambda a: scatter_plane(a, idx, shape, nd), lambda a: gather_plane(a, idx, nd)),)


def scatter_plane(values, indices, shape, nd: int):
    """Zeros of `shape` with values added at `indices` (flat positions within each plane of the
    last nd dims); repeated positions add up (a bincount, which PyTorch's scatter-add matches)."""
    xp = _xp_of(values)
    planes = math.prod(shape[:-nd])
    plane_size = math.prod(shape[-nd:])
    flat = indices.reshape(planes, -1) + (xp.arange(planes, dtype=xp.int64) * plane_size)[:, None]
    summed = xp.bincount(flat.reshape(-1), weights=values.reshape(-1).astype(xp.float64),
                         minlength=planes * plane_size)
    return summed.astype(values.dtype).reshape(shape)


def gather_plane(a, indices, nd: int):
    """The adjoint of scatter_plane: a's values at `indices` within each plane of the last nd dims."""
    xp = _xp_of(a)
    planes = a.reshape(a.shape[:-nd] + (-1,))
    flat = indices.reshape(indices.shape[:-nd] + (-1,))
    return xp.take_along_axis(planes, flat, axis=-1).reshape(indices.shape)


def adaptive_max_pool_nd(x: Tensor, out: tuple, return_indices: bool, name: str):
    xd = x._data
    if xd.dtype.kind in "biu":
        raise not_implemented(name, xd.dtype)
    xp = _xp_of(xd)
    nd = len(out)
    size = xd.shape[-nd:]
    bounds = [_adaptive_bounds(s, o, xp) for s, o in zip(size, out)]
    widths = [int((e - s).max()) if o else 1 for (s, e), o in zip(bounds, out)]
    best = flat = None
    for tap in itertools.product(*(range(w) for w in widths)):
        pos, valid = [], None
        for i, (t, (s, e)) in enumerate(zip(tap, bounds)):
            shape = [1] * nd
            shape[i] = -1
            p = s + t
            ok = (p < e).reshape(shape)
            pos.append(xp.minimum(p, e - 1).reshape(shape))
            valid = ok if valid is None else valid & ok
        v = xd[(Ellipsis,) + xp.ix_(*[q.reshape(-1) for q in pos])] if nd > 1 else xd[..., pos[0].reshape(-1)]
        idx = pos[0]
        for q, s in zip(pos[1:], size[1:]):
            idx = idx * s + q
        if best is None:
            best = v.copy()
            flat = xp.broadcast_to(idx, v.shape).astype(xp.int64)
            continue
        take = (v > best) & valid
        if xd.dtype.kind == "f":
            take |= xp.isnan(v) & valid
        xp.copyto(best, v, where=take)
        flat = xp.where(take, idx, flat)
    result = _make(xp.ascontiguousarray(best), x.device)
    indices = _make(xp.ascontiguousarray(flat), x.device)
    if _GradMode.enabled and x._requires_grad:
        record(result, AdaptiveMaxPool2DBackward0(x, flat, nd))
    return (result, indices) if return_indices else result


# ---- max unpooling -----------------------------------------------------------------------------------------
class MaxUnpool2DBackward0(Node):
    """The gradient at each input's index (a gather); its adjoint puts values back (a scatter)."""

    def __init__(self, x, indices):
        super().__init__((x,), ())
        self.indices = indices
        self.x_shape = x._data.shape

    def backward(self, g):
        idx, nd = self.indices, len(self.indices.shape) - len(self.x_shape) + 2
        out = tuple(g.shape[-nd:])
        return (linear_map(g, lambda a: gather_plane(a, idx, nd), lambda a: _unpool(a, idx, out)),)


def _unpool(xd, idx, out):
    """xd's values at `idx` in zero planes of size `out` (a repeated index keeps one value)."""
    xp = _xp_of(xd)
    lead = xd.shape[:-len(out)]
    plane = math.prod(out)
    flat = idx.reshape(lead + (-1,))
    y = xp.zeros(lead + (plane,), dtype=xd.dtype)
    offsets = (xp.arange(math.prod(lead), dtype=xp.int64) * plane).reshape(lead + (1,))
    y.reshape(-1)[(flat + offsets).reshape(-1)] = xd.reshape(-1)
    return y.reshape(lead + tuple(out))


def max_unpool_nd(x: Tensor, indices: Tensor, out: tuple) -> Tensor:
    """Place x's values at `indices` in zero planes of size `out` (the inverse of max_pool's selection)."""
    xd, idx = x._data, indices._data
    if xd.dtype.kind in "biu":
        raise not_implemented("max_unpool2d", xd.dtype)
    lead = xd.shape[:-len(out)]
    plane = math.prod(out)
    flat = idx.reshape(lead + (-1,))
    if flat.size and (int(flat.min()) < 0 or int(flat.max()) >= plane):
        bad = int(flat.max()) if int(flat.max()) >= plane else int(flat.min())
        raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                           f"{'x'.join(str(o) for o in out)})")
    result = _make(_unpool(xd, idx, out), x.device)
    if _GradMode.enabled and x._requires_grad:
        record(result, MaxUnpool2DBackward0(x, idx))
    return result
