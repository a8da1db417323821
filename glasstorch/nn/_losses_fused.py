"""Cross-entropy and nll_loss by a device's fused kernels (`backends.fused(device)`).

`_losses.cross_entropy_indices` and `nll_loss` check their class-index targets on the host (min, max,
any ignored?), which on CUDA means waiting for the GPU at every step, and take a dozen launches. With
`backends/cuda_fused.py` the checks move into the kernels (ignored targets weigh 0, out-of-range ones
give NaN): cross-entropy is three launches plus the reduction forward and one backward, nll_loss one
and one. (On the CPU, cross-entropy takes `cpu_fused`'s compiled loops the same way.) mse_loss is one
launch each way, recomputing x - t in the backward instead of keeping it. Values are the reference's:
the same formula, term by term.
"""
from __future__ import annotations

from .. import backends
from .._ops._util import Node, Tensor, _GradMode, _make, record
from . import _losses as L


class _FusedCrossEntropyBackward(Node):
    """(softmax(x) - onehot(target)) * g * w / denom in one kernel, from the forward's row max and sum;
    PyTorch's graph ends in NllLossBackward0 here, so that is the name this node reports."""

    def __init__(self, x: Tensor, target: Tensor, ignore_index: int, reduction: str, rows: tuple, denom):
        super().__init__((x,), (x,))
        self.target, self.ignore_index, self.reduction = target, ignore_index, reduction
        self.rows, self.denom = rows, denom  # (w, m, s) of cross_entropy_rows
        self._name = L._nll_node_name(2, reduction)

    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"<{self._name} object at {hex(id(self))}>"

    def backward(self, g):
        (x,) = self.saved_tensors
        if _GradMode.enabled:  # create_graph: the reference's differentiable formula (host checks are fine here)
            tg = L._ClassTargets(x, self.target, None, self.ignore_index, self.reduction, self.target._data.shape)
            return (L._CrossEntropyBackward._differentiable_grad(self, g, x, tg),)
        w, m, s = self.rows
        gx = backends.fused(x.device).cross_entropy_grad(x._data, self.target._data, m, s, w, g._data, self.denom)
        return (_make(gx, g.device),)

    def _release_extra(self) -> None:
        self.target = self.rows = self.denom = None


def _reduced(loss, w, reduction: str) -> tuple:
    """(the reduced per-row losses, what the gradient divides by: the count of targets that count for a
    mean, else 1 as a scalar of the losses' dtype). 0 / 0 = nan when every target is ignored, as in PyTorch."""
    if reduction == "none":
        return loss, loss.dtype.type(1)
    if reduction == "sum":
        return loss.sum(), loss.dtype.type(1)
    denom = w.sum()
    return loss.sum() / denom, denom


def cross_entropy(x: Tensor, target: Tensor, ignore_index: int, reduction: str) -> Tensor | None:
    """cross_entropy of (N, C) scores and (N,) int64 class targets without weights, by the device's fused
    kernels; None when they cannot take the arrays (the caller runs the reference code)."""
    xd = x._data
    if xd.ndim != 2 or 0 in xd.shape:
        return None
    pieces = backends.fused(x.device).cross_entropy_rows(xd, target._data, ignore_index)
    if pieces is None:
        return None
    loss, w, m, s = pieces
    out, denom = _reduced(loss, w, reduction)
    result = _make(out, x.device)
    if _GradMode.enabled and x._requires_grad:
        record(result, _FusedCrossEntropyBackward(x, target, ignore_index, reduction, (w, m, s), denom))
    return result


class _FusedNllLossBackward(Node):
    """-g * w / denom at each row's target in one kernel (NllLossBackward0, as PyTorch names it)."""

    def __init__(self, x: Tensor, target: Tensor, ignore_index: int, reduction: str, w, denom):
        super().__init__((x,), ())
        self.target, self.ignore_index, self.reduction = target, ignore_index, reduction
        self.w, self.denom = w, denom
        self.shape = x._data.shape
        self._name = L._nll_node_name(2, reduction)

    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"<{self._name} object at {hex(id(self))}>"

    def backward(self, g):
        if _GradMode.enabled:  # create_graph: the reference's formula, linear in g (host checks are fine here)
            dtype = self.w.dtype
            tg = L._ClassTargets(_make(g.device.xp.empty(self.shape, dtype), g.device), self.target, None,
                                 self.ignore_index, self.reduction, self.target._data.shape)
            onehot = _make(-tg.onehot(self.shape, dtype), g.device)
            return (onehot * L._scale_tensor(g, tg, self.shape, dtype),)
        return (_make(backends.fused(g.device).nll_grad(self.shape, self.target._data, self.w, g._data, self.denom),
                      g.device),)

    def _release_extra(self) -> None:
        self.target = self.w = self.denom = None


def nll_loss(x: Tensor, target: Tensor, ignore_index: int, reduction: str) -> Tensor | None:
    """nll_loss of (N, C) log-probabilities and (N,) int64 class targets without weights, by the device's
    fused kernels; None when they cannot take the arrays (the caller runs the reference code)."""
    xd = x._data
    if xd.ndim != 2 or 0 in xd.shape:
        return None
    pieces = backends.fused(x.device).nll_rows(xd, target._data, ignore_index)
    if pieces is None:
        return None
    loss, w = pieces
    out, denom = _reduced(loss, w, reduction)
    result = _make(out, x.device)
    if _GradMode.enabled and x._requires_grad:
        record(result, _FusedNllLossBackward(x, target, ignore_index, reduction, w, denom))
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
