"""Cross-entropy and nll_loss by a device's fused kernels (`backends.fused(device)`).

`_losses.cross_entropy_indices` and `nll_loss` check their class-index targets on the host (min, max,
any ignored?), which on CUDA means waiting for the GPU at every step, and take a dozen launches. With
`backends/cuda_fused.py` the checks move into the kernels (ignored targets weigh 0, out-of-range ones
give NaN): cross-entropy is three launches plus the reduction forward and one backward, nll_loss one
and one. (On the CPU, cross-entropy takes `cpu_fused`'s compiled loops the same way.) mse_loss is one
launch each way, recomputing x - t in the backward instead of keeping it. Values are the reference's:
the same formula, term by term. On a GPU class weights, 1-D (C,) inputs and (N, C, d1, ...) inputs take
the kernels too, as rows of classes (`_rows_of`); the CPU keeps its reference code for those.
"""
from __future__ import annotations

from .. import backends
from .._ops._util import Node, Tensor, _GradMode, _make, record
from . import _losses as L


def _rows_of(x: Tensor, target: Tensor) -> tuple:
    """(x as rows of class scores (M, C), target as (M,)) for a (C,), (N, C) or (N, C, d1, ...) input: the
    class dim moved last (one copy for the last kind), so each row is one target's scores."""
    xd, td = x._data, target._data
    if xd.ndim <= 2:
        return xd.reshape(-1, xd.shape[-1]), td.reshape(-1)
    return x.device.xp.moveaxis(xd, 1, -1).reshape(-1, xd.shape[1]), td.reshape(-1)


def _unrows(xp, gx, shape: tuple):
    """A gradient of rows (M, C) in the input's `shape` again (undoes `_rows_of`)."""
    if len(shape) <= 2:
        return gx.reshape(shape)
    return xp.ascontiguousarray(xp.moveaxis(gx.reshape((shape[0],) + shape[2:] + (shape[1],)), -1, 1))


def _unsupported_here(x: Tensor, weight: Tensor | None) -> bool:
    """The CPU's fused loop takes unweighted (N, C) inputs only; the reference serves the rest there."""
    return x.device.type == "cpu" and (weight is not None or x._data.ndim != 2)


class _FusedCrossEntropyBackward(Node):
    """(softmax(x) - onehot(target)) * g * w / denom in one kernel, from the forward's row max and sum;
    PyTorch's graph ends in NllLossBackward0 here, so that is the name this node reports."""

    def __init__(self, x: Tensor, target: Tensor, weight, ignore_index: int, reduction: str, rows: tuple, denom):
        super().__init__((x,), (x,))
        self.target, self.weight, self.ignore_index, self.reduction = target, weight, ignore_index, reduction
        self.rows, self.denom = rows, denom  # (x as rows, w, m, s) of cross_entropy_rows
        self._name = L._nll_node_name(x._data.ndim, reduction)

    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"<{self._name} object at {hex(id(self))}>"

    def backward(self, g):
        (x,) = self.saved_tensors
        if _GradMode.enabled:  # create_graph: the reference's differentiable formula (host checks are fine here)
            xb, tb = L._batched(x, self.target)
            tg = L._ClassTargets(xb, tb, self.weight, self.ignore_index, self.reduction, self.target._data.shape)
            return (L._CrossEntropyBackward._differentiable_grad(self, g, x, tg),)
        xr, w, m, s = self.rows
        gr = g._data.reshape(-1) if g._data.ndim else g._data  # reduction 'none': one gradient per row
        gx = backends.fused(x.device).cross_entropy_grad(xr, self.target._data.reshape(-1), m, s, w, gr, self.denom)
        return (_make(_unrows(x.device.xp, gx, x._data.shape), g.device),)

    def _release_extra(self) -> None:
        self.target = self.weight = self.rows = self.denom = None


def _reduced(loss, w, reduction: str) -> tuple:
    """(the reduced per-row losses, what the gradient divides by: the count of targets that count for a
    mean, else 1 as a scalar of the losses' dtype). 0 / 0 = nan when every target is ignored, as in PyTorch."""
    if reduction == "none":
        return loss, loss.dtype.type(1)
    if reduction == "sum":
        return loss.sum(), loss.dtype.type(1)
    denom = w.sum()
    return loss.sum() / denom, denom


def cross_entropy(x: Tensor, target: Tensor, ignore_index: int, reduction: str,
                  weight: Tensor | None = None) -> Tensor | None:
    """cross_entropy of scores (N, C) (on a GPU also (C,) or (N, C, d1, ...), and class weights) and int64
    class targets, by the device's fused kernels; None when they cannot take the arrays (the caller runs
    the reference code)."""
    if 0 in x._data.shape or _unsupported_here(x, weight):
        return None
    xr, tr = _rows_of(x, target)
    args = (xr, tr, ignore_index) if weight is None else (xr, tr, ignore_index, weight._data)
    pieces = backends.fused(x.device).cross_entropy_rows(*args)
    if pieces is None:
        return None
    loss, w, m, s = pieces
    out, denom = _reduced(loss.reshape(target._data.shape), w, reduction)
    result = _make(out, x.device)
    if _GradMode.enabled and x._requires_grad:
        record(result, _FusedCrossEntropyBackward(x, target, weight, ignore_index, reduction, (xr, w, m, s), denom))
    return result


class _FusedNllLossBackward(Node):
    """-g * w / denom at each row's target in one kernel (NllLossBackward0, as PyTorch names it)."""

    def __init__(self, x: Tensor, target: Tensor, weight, ignore_index: int, reduction: str, w, denom):
        super().__init__((x,), ())
        self.target, self.weight, self.ignore_index, self.reduction = target, weight, ignore_index, reduction
        self.w, self.denom = w, denom
        self.shape = x._data.shape
        self._name = L._nll_node_name(len(self.shape), reduction)

    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"<{self._name} object at {hex(id(self))}>"

    def backward(self, g):
        if _GradMode.enabled:  # create_graph: the reference's formula, linear in g (host checks are fine here)
            dtype = self.w.dtype
            bshape = L._batched_shape(self.shape)
            target = self.target.reshape(1) if len(self.shape) == 1 else self.target
            tg = L._ClassTargets(_make(g.device.xp.empty(bshape, dtype), g.device), target, self.weight,
                                 self.ignore_index, self.reduction, self.target._data.shape)
            onehot = _make(-tg.onehot(bshape, dtype), g.device)
            return ((onehot * L._scale_tensor(g, tg, bshape, dtype)).reshape(self.shape),)
        shape, xp = self.shape, g.device.xp
        rows = (1 if len(shape) == 1 else self.target._data.size, shape[0] if len(shape) == 1 else shape[1])
        gr = g._data.reshape(-1) if g._data.ndim else g._data  # reduction 'none': one gradient per row
        gx = backends.fused(g.device).nll_grad(rows, self.target._data.reshape(-1), self.w, gr, self.denom)
        return (_make(_unrows(xp, gx, shape), g.device),)

    def _release_extra(self) -> None:
        self.target = self.weight = self.w = self.denom = None


def nll_loss(x: Tensor, target: Tensor, ignore_index: int, reduction: str,
             weight: Tensor | None = None) -> Tensor | None:
    """nll_loss of log-probabilities (N, C), (C,) or (N, C, d1, ...), with or without class weights, and int64
    class targets, by a GPU's fused kernels; None when they cannot take the arrays (the caller runs the
    reference code)."""
    if 0 in x._data.shape or _unsupported_here(x, weight):
        return None
    xr, tr = _rows_of(x, target)
    args = (xr, tr, ignore_index) if weight is None else (xr, tr, ignore_index, weight._data)
    pieces = backends.fused(x.device).nll_rows(*args)
    if pieces is None:
        return None
    loss, w = pieces
    out, denom = _reduced(loss.reshape(target._data.shape), w, reduction)
    result = _make(out, x.device)
    if _GradMode.enabled and x._requires_grad:
        record(result, _FusedNllLossBackward(x, target, weight, ignore_index, reduction, w, denom))
    return result


class _FusedMseLossBackward(Node):
    """2 (x - t) g / n in one kernel, from x and t (MseLossBackward0, as PyTorch names it)."""

    def __init__(self, x: Tensor, t: Tensor, reduction: str):
        super().__init__((x, t), (x, t))
        self.reduction = reduction
        self._name = "MseLossBackward0"

    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"<{self._name} object at {hex(id(self))}>"

    def backward(self, g):
        x, t = self.saved_tensors
        scale = 2.0 / max(x._data.size, 1) if self.reduction == "mean" else 2.0
        if _GradMode.enabled:  # create_graph: recorded ops, as the reference's
            gx = (x - t) * (g * scale)
        else:
            gx = _make(backends.fused(g.device).mse_grad(x._data, t._data, g._data, scale), g.device)
        (x_edge, _), (t_edge, _) = self.next_functions
        return (gx if x_edge is not None else None, -gx if t_edge is not None else None)


def mse_loss(x: Tensor, target: Tensor, reduction: str) -> Tensor | None:
    """mse_loss of same-shaped, same-dtype inputs by the device's fused kernels; None when they cannot
    take the arrays (the caller runs the reference code, which also broadcasts and promotes)."""
    pieces = backends.fused(x.device).squared_error(x._data, target._data, reduction)
    if pieces is None:
        return None
    out = pieces / pieces.dtype.type(x._data.size) if reduction == "mean" else pieces
    result = _make(out, x.device)
    if _GradMode.enabled and (x._requires_grad or target._requires_grad):
        record(result, _FusedMseLossBackward(x, target, reduction))
    return result
