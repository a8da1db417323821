"""Non-constant padding: reflect, replicate (array code with their own nodes) and circular (slice copies).

Along one padded dim, output position j reads input position p = j - pad_before, mapped into range:

    region      reflect          replicate     circular
    p < 0       -p               0             p + size
    0 <= p < S  p                p             p
    p >= S      2 (S - 1) - p    S - 1         p - size

Each region is a run of output positions whose source moves by -1, 0 or +1 per step, so the forward
pass is one `take` per dim and the backward pass a few slice-adds per dim (a flipped slice for
reflect, a sum for replicate): no scatter, no loop over positions. That backward is a linear map
whose adjoint is the padding itself, which is how gradients of gradients are recorded.
"""
from __future__ import annotations

from .conv import array_module as _xp_of, linear_map
from ..amp.autocast_mode import autocast_op
from ._util import Node, Tensor, _GradMode, _make, not_implemented, record

__all__ = ["reflect_or_replicate_pad", "circular_pad", "check_non_constant"]


def _regions(mode: str, size: int, before: int, out: int):
    """(j0, j1, slope, t0): output run [j0, j1) reads input t0, t0 + slope, ... (clipped to the output)."""
    s = size
    runs = []
    # left padding: j in [0, before), p = j - before < 0
    if before > 0:
        j1 = min(before, out)
        if mode == "reflect":
            runs.append((0, j1, -1, before))  # p = -before .. : input -p = before - j
        else:
            runs.append((0, j1, 0, 0))
    # the input itself
    j0, j1 = max(before, 0), min(before + s, out)
    if j1 > j0:
        runs.append((j0, j1, 1, j0 - before))
    # right padding: p >= S
    j0 = max(before + s, 0)
    if out > j0:
        if mode == "reflect":
            runs.append((j0, out, -1, 2 * (s - 1) - (j0 - before)))
        else:
            runs.append((j0, out, 0, s - 1))
    return runs


def _source_index(mode: str, size: int, before: int, out: int, xp):
    """For each output position along a dim, the input position it copies."""
    p = xp.arange(out, dtype=xp.int64) - before
    if mode == "reflect":
        p = xp.abs(p)
        return xp.where(p >= size, 2 * (size - 1) - p, p)
    return xp.clip(p, 0, size - 1)


class _PadBackward(Node):
    """Sum the gradient of every copy back onto the input element it came from."""

    mode = "reflect"

    def __init__(self, x, pad):
        super().__init__((x,), ())
        self.pad = pad
        self.x_shape = x._data.shape

    def backward(self, g):
        mode, pad, shape = self.mode, self.pad, self.x_shape
        # the adjoint of this sum is the padding itself (a gather)
        return (linear_map(g, lambda a: _pad_sum_back(a, mode, pad, shape), lambda a: _pad_gather(a, mode, pad)),)


def _pad_sum_back(gd, mode: str, pad: tuple, x_shape):
    """The gradient of a reflect/replicate pad: each output's gradient added onto its source element."""
    xp = _xp_of(gd)
    for i in range(len(pad) // 2):
        dim = gd.ndim - 1 - i
        size = x_shape[dim]
        out = gd.shape[dim]
        gx = xp.zeros(gd.shape[:dim] + (size,) + gd.shape[dim + 1:], dtype=gd.dtype)
        for j0, j1, slope, t0 in _regions(mode, size, pad[2 * i], out):
            piece = _along(gd, dim, slice(j0, j1))
            n = j1 - j0
            if slope == 1:
                _along(gx, dim, slice(t0, t0 + n))[...] += piece
            elif slope == -1:
                _along(gx, dim, slice(t0 - n + 1, t0 + 1))[...] += xp.flip(piece, dim)
            else:
                _along(gx, dim, slice(t0, t0 + 1))[...] += piece.sum(dim, keepdims=True)
        gd = gx
    return gd


def _pad_gather(xd, mode: str, pad: tuple):
    """reflect/replicate padding on the arrays: one `take` per padded dim."""
    xp = _xp_of(xd)
    out = xd
    for i in range(len(pad) // 2):
        dim = xd.ndim - 1 - i
        n = xd.shape[dim] + pad[2 * i] + pad[2 * i + 1]
        out = xp.take(out, _source_index(mode, xd.shape[dim], pad[2 * i], n, xp), axis=dim)
    return out


def _along(a, dim: int, sl: slice):
    return a[(slice(None),) * dim + (sl,)]


class ReflectionPad1DBackward0(_PadBackward):
    mode = "reflect"


class ReflectionPad2DBackward0(_PadBackward):
    mode = "reflect"


class ReflectionPad3DBackward0(_PadBackward):
    mode = "reflect"


class ReplicationPad1DBackward0(_PadBackward):
    mode = "replicate"


class ReplicationPad2DBackward0(_PadBackward):
    mode = "replicate"


class ReplicationPad3DBackward0(_PadBackward):
    mode = "replicate"


_NODES = {("reflect", 1): ReflectionPad1DBackward0, ("reflect", 2): ReflectionPad2DBackward0,
          ("reflect", 3): ReflectionPad3DBackward0, ("replicate", 1): ReplicationPad1DBackward0,
          ("replicate", 2): ReplicationPad2DBackward0, ("replicate", 3): ReplicationPad3DBackward0}


def check_non_constant(x: Tensor, pad: tuple) -> None:
    """torch.pad's rule: non-constant modes pad the last 1, 2 or 3 dims of a (batched or not) input."""
    k = len(pad) // 2
    if not (1 <= k <= 3 and x.dim() in (k + 1, k + 2)):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {x.dim()}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def _check_sizes(x: Tensor, pad: tuple, mode: str) -> None:
    k = len(pad) // 2
    shape = tuple(x.shape)
    if any(s == 0 for s in shape[len(shape) - k - 1:]) and shape:
        lo, hi = {1: ("2D", "3D"), 2: ("3D", "4D"), 3: ("4D", "5D")}[k]
        raise RuntimeError(f"Expected {lo} or {hi} (batch mode) tensor with possibly 0 batch size and other "
                           f"non-zero dimensions for input, but got: {list(shape)}")
    names = ("W", "H", "D")
    for i in range(k):
        dim = len(shape) - 1 - i
        before, after = pad[2 * i], pad[2 * i + 1]
        if mode == "reflect" and (before >= shape[dim] or after >= shape[dim]):
            raise RuntimeError(f"Argument #{4 + 2 * i}: Padding size should be less than the corresponding input "
                               f"dimension, but got: padding ({before}, {after}) at dimension {dim} of input "
                               f"{list(shape)}")
    for i in range(k):
        dim = len(shape) - 1 - i
        out = shape[dim] + pad[2 * i] + pad[2 * i + 1]
        if out < (1 if k == 1 else 0):  # (PyTorch allows an empty result when padding 2 or 3 dims)
            raise RuntimeError(f"input ({names[i]}: {shape[dim]}) is too small. Calculated output {names[i]}: {out}")


@autocast_op("reflection_pad")
def reflect_or_replicate_pad(x: Tensor, pad: tuple, mode: str) -> Tensor:
    """F.pad(x, pad, mode='reflect' | 'replicate'); pad = (last_before, last_after, 2nd-last_before, ...)."""
    _check_sizes(x, pad, mode)
    xd = x._data
    if xd.dtype.kind == "b":
        raise not_implemented(f"{'reflection' if mode == 'reflect' else 'replication'}_pad{len(pad) // 2}d", xd.dtype)
    result = _make(_pad_gather(xd, mode, pad), x.device)
    if _GradMode.enabled and x._requires_grad:
        record(result, _NODES[(mode, len(pad) // 2)](x, pad))
    return result


def circular_pad(x: Tensor, pad: tuple) -> Tensor:
    """F.pad(x, pad, mode='circular'): copy the input into the middle, then each side from the far end.

    Built from slice assignments, as PyTorch builds it, so the graph and its grad_fn (CopySlices)
    are the same; the wrap-around of one dim copies across the full extent of the dims done before,
    which fills the corners.
    """
    from .creation import zeros

    k = len(pad) // 2
    shape = list(x.shape)
    for i in range(k):
        dim = len(shape) - 1 - i
        if pad[2 * i] > shape[dim] or pad[2 * i + 1] > shape[dim]:
            raise RuntimeError("Padding value causes wrapping around more than once.")
    out_shape = list(shape)
    for i in range(k):
        dim = len(shape) - 1 - i
        out_shape[dim] = shape[dim] + pad[2 * i] + pad[2 * i + 1]
        if out_shape[dim] < 0:
            raise RuntimeError("narrow(): length must be non-negative.")
    out = zeros(*out_shape, dtype=x.dtype, device=x.device)
    dst, src = [slice(None)] * len(shape), [slice(None)] * len(shape)
    for i in range(k):
        dim = len(shape) - 1 - i
        before, after = pad[2 * i], pad[2 * i + 1]
        dst[dim] = slice(max(before, 0), out_shape[dim] - max(after, 0))
        src[dim] = slice(max(-before, 0), shape[dim] - max(-after, 0))
    out[tuple(dst)] = x[tuple(src)]
    for i in range(k):
        dim = len(shape) - 1 - i
        before, after = pad[2 * i], pad[2 * i + 1]
        end = out_shape[dim] - max(after, 0)  # one past the copied input
        if before > 0:
            out[_at(dim, slice(0, before))] = out[_at(dim, slice(end - before, end))]
        if after > 0:
            start = max(before, 0)
            out[_at(dim, slice(end, end + after))] = out[_at(dim, slice(start, start + after))]
    return out


def _at(dim: int, sl: slice) -> tuple:
    return (slice(None),) * dim + (sl,)
