"""Loss functions with their own graph nodes.

The hot one is cross-entropy with class-index targets: one fused op computes a stable
log-softmax once on arrays, and its backward is (softmax - onehot) * scale, a handful of array
operations. nll_loss, MSE and the binary cross-entropies have nodes of their own too.

Every backward has two paths: raw arrays when no graph is being recorded (the usual case), and
differentiable Tensor ops under create_graph=True, so double backward is correct.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _dtype
from .._ops import pointwise as P, reduction as R
from .._ops._util import Node, Tensor, _GradMode, _make, broadcast_error, record, sum_to

_REDUCTIONS = ("none", "mean", "sum")
_TYPE_WORD = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
              "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def check_reduction(reduction: str) -> str:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def legacy_reduction(size_average, reduce, emit_warning: bool = True) -> str:
    """The reduction string for the deprecated size_average/reduce flags."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else ("sum" if reduce else "none")
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
                      stacklevel=3)
    return ret


def _word(t: Tensor) -> str:
    return _TYPE_WORD[t.dtype.name]


def _reduce(losses, reduction: str, denom=None):
    """Sum or mean of an array of per-element losses (mean divides by `denom` when given)."""
    if reduction == "none":
        return losses
    total = losses.sum()
    if reduction == "sum":
        return total
    if denom is None:
        denom = losses.size
    return _divide(total, denom)


def _divide(a, denom):
    """a / denom in a's dtype; 0 / 0 is nan without a warning (the mean of nothing, as in PyTorch)."""
    if hasattr(denom, "astype"):  # a sum of weights, maybe a 0-d GPU array: cast it there, no host copy
        with np.errstate(divide="ignore", invalid="ignore"):
            return a / denom.astype(a.dtype)
    if denom == 0:
        with np.errstate(divide="ignore", invalid="ignore"):
            return a / a.dtype.type(denom)
    return a / a.dtype.type(denom)


# ---- class-index targets ----------------------------------------------------------------------
class _ClassTargets:
    """Class-index targets checked and prepared once for nll_loss and cross_entropy.

    index:  (N, *rest) int array of classes, ignored entries replaced by 0
    rows:   arange(N) for 2-D inputs (picking x[rows, index] is the fastest gather), else None
    weight: (N, *rest) array: class weight * (not ignored), or None when every element counts 1
    denom:  what 'mean' divides by (sum of weight, or the number of elements)
    """

    __slots__ = ("index", "rows", "weight", "denom", "reduction", "out_shape", "xp")

    def __init__(self, x: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int, reduction: str,
                 out_shape: tuple):
        """`x` is the (N, C, *rest) input (1-D inputs already given a batch dim of 1); out_shape is
        the shape of reduction='none' results (the caller's target shape)."""
        self.xp = xp = x.device.xp
        td = target._data
        n_class = x._data.shape[1]
        self.reduction = reduction
        self.out_shape = out_shape
        valid = None
        if td.size:
            lo, hi = td.min(), td.max()
            if lo < 0 or hi >= n_class or lo <= ignore_index <= hi:
                valid = td != ignore_index
                bad = valid & ((td < 0) | (td >= n_class))
                if bad.any():
                    raise IndexError(f"Target {int(td[bad].reshape(-1)[0])} is out of bounds.")
                if valid.all():
                    valid = None
        self.index = td if valid is None else xp.where(valid, td, 0)
        self.rows = xp.arange(td.shape[0]) if td.ndim == 1 else None
        w = None
        if weight is not None:
            w = weight._data[self.index]
            if valid is not None:
                w = w * valid
        elif valid is not None:
            w = valid.astype(x._data.dtype)
        self.weight = w
        self.denom = td.size if w is None else w.sum()

    def pick(self, a):
        """a[n, index[n], ...]: each element's entry at its target class, shape (N, *rest)."""
        if self.rows is not None:
            return a[self.rows, self.index]
        return self.xp.take_along_axis(a, self.index[:, None], axis=1)[:, 0]

    def add_at_targets(self, a, value) -> None:
        """a[n, index[n], ...] += value, in place."""
        if self.rows is not None:
            a[self.rows, self.index] += value
        else:
            idx = self.index[:, None]
            xp = self.xp
            xp.put_along_axis(a, idx, xp.take_along_axis(a, idx, axis=1) + value, axis=1)

    def scale(self, g):
        """d loss / d (picked log-probability), up to sign: g weighted and divided as the reduction
        says, as an array (or scalar) broadcastable to (N, 1, *rest)."""
        w = self.weight
        if self.reduction == "none":
            s = g if w is None else g * w
            return s[:, None]
        # (a mean over no counted targets: PyTorch's gradient is 0, and w is 0 there, so divide by 1)
        s = g if self.reduction == "sum" else _divide(g, self.denom or 1)
        return s if w is None else (s * w)[:, None]

    def onehot(self, shape, dtype):
        """An array of `shape` (N, C, *rest) with 1 at each element's target class."""
        classes = self.xp.arange(shape[1]).reshape((1, -1) + (1,) * (len(shape) - 2))
        return (self.index[:, None] == classes).astype(dtype)


def _check_class_input(x: Tensor, target: Tensor, weight: Tensor | None):
    """PyTorch's checks on (input, class-index target, weight), in PyTorch's order."""
    nd = x._data.ndim
    if nd < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {nd})")
    td = target._data
    if nd != 1 and td.ndim >= 1 and x._data.shape[0] != td.shape[0]:
        raise ValueError(f"Expected input batch_size ({x._data.shape[0]}) to match target batch_size ({td.shape[0]}).")
    if nd <= 2:
        if td.ndim > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if nd == 1 and td.ndim == 1 and td.shape[0] != 1:
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {td.shape[0]}")
    else:
        expected = (x._data.shape[0],) + x._data.shape[2:]
        if td.shape != expected:
            raise RuntimeError(f"Expected target size {list(expected)}, got {list(td.shape)}")
    if td.dtype != np.int64 and td.dtype != np.uint8:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_word(target)}")
    n_class = x._data.shape[1] if nd > 1 else x._data.shape[0]
    if weight is not None:
        if weight._data.ndim != 1 or weight._data.shape[0] != n_class:
            raise RuntimeError(f"weight tensor should be defined either for all {n_class} classes or no classes but "
                               f"got weight tensor of shape: {list(weight._data.shape)}")
        if weight._data.dtype != x._data.dtype:
            raise RuntimeError(f"expected scalar type {_word(x)} but found {_word(weight)}")


def _batched(x: Tensor, target: Tensor):
    """(input, target) with a batch dim of 1 added to a 1-D input of class scores."""
    if x._data.ndim == 1:
        return x.reshape(1, -1), target.reshape(1)
    return x, target


def _result(data, targets: _ClassTargets, x: Tensor) -> Tensor:
    if targets.reduction == "none":
        data = data.reshape(targets.out_shape)
    return _make(x.device.xp.asarray(data, dtype=x._data.dtype), x.device)


def _batched_shape(shape: tuple) -> tuple:
    return shape if len(shape) > 1 else (1,) + shape


def _scale_tensor(g: Tensor, tg: _ClassTargets, bshape: tuple, dtype) -> Tensor:
    """tg.scale(g) built from differentiable ops on the Tensor g (for create_graph=True)."""
    xp = g.device.xp
    if tg.reduction == "none":
        const = tg.scale(xp.ones(bshape[:1] + bshape[2:], dtype))  # (N, 1, *rest)
        return g.reshape(bshape[:1] + (1,) + bshape[2:]) * _make(const, g.device)
    return g * _make(xp.asarray(tg.scale(xp.ones((), dtype))), g.device)


def _scale_array(g, tg: _ClassTargets, bshape: tuple):
    """tg.scale of the raw gradient array (per element for reduction='none')."""
    if tg.reduction == "none":
        g = g.reshape(bshape[:1] + bshape[2:])
    return tg.scale(g)


def _nll_node_name(ndim: int, reduction: str) -> str:
    """The grad_fn name PyTorch shows for nll_loss / cross_entropy on an ndim-D input: its (N, C, d1, ...)
    inputs go through nll_loss2d, and a 'none' result of other than 4-D inputs is reshaped last."""
    if ndim <= 2:
        return "NllLossBackward0"
    return "ViewBackward0" if reduction == "none" and ndim != 4 else "NllLoss2DBackward0"


class NllLossBackward0(Node):
    """Backward of nll_loss: minus the scaled gradient, put at each target's position."""

    def __init__(self, x: Tensor, targets: _ClassTargets):
        super().__init__((x,), ())
        self.targets = targets
        self.shape = x._data.shape
        self.dtype = x._data.dtype
        self._name = _nll_node_name(len(self.shape), targets.reduction)

    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"<{self._name} object at {hex(id(self))}>"

    def backward(self, g):
        tg = self.targets
        bshape = _batched_shape(self.shape)
        onehot = tg.onehot(bshape, self.dtype)
        if _GradMode.enabled:  # linear in g: a constant times the (differentiable) g
            return ((_make(-onehot, g.device) * _scale_tensor(g, tg, bshape, self.dtype)).reshape(self.shape),)
        onehot *= -_scale_array(g._data, tg, bshape)
        return (_make(onehot.reshape(self.shape), g.device),)

    def _release_extra(self) -> None:
        self.targets = None


def nll_loss(x: Tensor, target: Tensor, weight: Tensor | None = None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """-x[n, target[n]] (times weight[target[n]]), averaged over the weights or summed."""
    _check_class_input(x, target, weight)
    if x.device.type != "cpu":  # a GPU's fused kernels: no host sync, two launches
        from ._losses_fused import nll_loss as fused_nll_loss

        out = fused_nll_loss(x, target, ignore_index, reduction, weight)
        if out is not None:
            return out
    xb, tb = _batched(x, target)
    tg = _ClassTargets(xb, tb, weight, ignore_index, reduction, target._data.shape)
    picked = tg.pick(xb._data)
    losses = -picked if tg.weight is None else -picked * tg.weight
    out = _result(_reduce(losses, reduction, tg.denom), tg, x)
    if _GradMode.enabled and x._requires_grad:
        record(out, NllLossBackward0(x, tg))
    return out


class _CrossEntropyBackward(Node):
    """Backward of the fused log_softmax + nll_loss: (softmax - onehot) * scale.

    PyTorch's graph ends in NllLossBackward0 here, so that is the name this node reports.
    """

    def __init__(self, x: Tensor, targets: _ClassTargets, exp_shifted, sum_exp):
        super().__init__((x,), (x,))
        self.targets = targets
        self.exp_shifted = exp_shifted  # exp(x - max) and its sum over classes: softmax = their ratio
        self.sum_exp = sum_exp
        self._name = _nll_node_name(x._data.ndim, targets.reduction)

    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"<{self._name} object at {hex(id(self))}>"

    def backward(self, g):
        (x,) = self.saved_tensors
        tg = self.targets
        if _GradMode.enabled:
            return (self._differentiable_grad(g, x, tg),)
        p = self.exp_shifted / self.sum_exp  # softmax, (N, C, *rest)
        tg.add_at_targets(p, -1)
        p *= _scale_array(g._data, tg, p.shape)
        return (_make(p.reshape(x._data.shape), g.device),)

    def _differentiable_grad(self, g: Tensor, x: Tensor, tg: _ClassTargets) -> Tensor:
        """The same gradient from Tensor ops (softmax of x, g), for create_graph=True."""
        bshape = _batched_shape(x._data.shape)
        p = R.softmax(x.reshape(bshape), 1)
        onehot = _make(tg.onehot(bshape, x._data.dtype), x.device)
        return ((p - onehot) * _scale_tensor(g, tg, bshape, x._data.dtype)).reshape(x._data.shape)

    def _release_extra(self) -> None:
        self.targets = self.exp_shifted = self.sum_exp = None


def cross_entropy_indices(x: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int,
                          reduction: str) -> Tensor:
    """cross_entropy with class-index targets as one op: stable log-softmax, pick, weight, reduce."""
    if not x.dtype.is_floating_point:
        raise NotImplementedError(f'"log_softmax_lastdim_kernel_impl" not implemented for \'{_word(x)}\'')
    _check_class_input(x, target, weight)
    # the device's fused kernels (GPU: no host sync, few launches; CPU: extra `fast`, unweighted only)
    if weight is None or x.device.type != "cpu":
        from ._losses_fused import cross_entropy as fused_cross_entropy

        out = fused_cross_entropy(x, target, ignore_index, reduction, weight)
        if out is not None:
            return out
    xb, tb = _batched(x, target)
    tg = _ClassTargets(xb, tb, weight, ignore_index, reduction, target._data.shape)
    xp = x.device.xp
    xd = xb._data
    shifted = xd - xd.max(axis=1, keepdims=True)
    e = xp.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    losses = xp.log(s[:, 0]) - tg.pick(shifted)  # -log_softmax at the target
    if tg.weight is not None:
        losses *= tg.weight
    out = _result(_reduce(losses, reduction, tg.denom), tg, x)
    if _GradMode.enabled and x._requires_grad:
        record(out, _CrossEntropyBackward(x, tg, e, s))
    return out


# ---- soft targets and label smoothing (compositions of differentiable ops) ------------------------------
def _class_view(w: Tensor, ndim: int) -> Tensor:
    """A (C,) weight shaped to broadcast over the class dim (dim 1, or 0 for 1-D inputs)."""
    if ndim == 1:
        return w
    return w.reshape((1, -1) + (1,) * (ndim - 2))


def cross_entropy_probs(x: Tensor, target: Tensor, weight: Tensor | None, reduction: str,
                        label_smoothing: float) -> Tensor:
    """Cross-entropy against class probabilities (target has the input's shape)."""
    if not target.dtype.is_floating_point:
        raise RuntimeError(f"Expected floating point type for target with class probabilities, got {_word(target)}")
    class_dim = 0 if x.dim() == 1 else 1
    n_class = x.shape[class_dim]
    logp = R.log_softmax(x, class_dim)
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / n_class
    if weight is not None:
        logp = logp * _class_view(weight, x.dim())
    per_element = logp * target
    if reduction == "none":
        return -R.sum(per_element, class_dim)
    total = -R.sum(per_element)
    return total if reduction == "sum" else total / (x.numel() / n_class)


def cross_entropy_smoothed(x: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int, reduction: str,
                           label_smoothing: float) -> Tensor:
    """(1 - eps) * cross_entropy + eps * (mean over classes of -log p), eps = label_smoothing."""
    class_dim = 0 if x.dim() == 1 else 1
    n_class = x.shape[class_dim]
    logp = R.log_softmax(x, class_dim)
    nll = nll_loss(logp, target, weight, ignore_index, reduction)
    if weight is not None:
        logp = logp * _class_view(weight, x.dim())
    smooth = -R.sum(logp, class_dim)
    ignored = target == ignore_index
    smooth = smooth.masked_fill(ignored, 0.0)
    if reduction == "mean":
        kept = P.logical_not(ignored)
        if weight is not None:
            denom = weight[target[kept]].sum()
        else:
            denom = kept.sum()
        smooth = smooth.sum() / denom
    elif reduction == "sum":
        smooth = smooth.sum()
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / n_class)


# ---- mean squared error -------------------------------------------------------------------------
class MseLossBackward0(Node):
    """Backward of reduce((x - t)^2): 2 (x - t) g / n, summed back to each input's shape."""

    def __init__(self, x: Tensor, t: Tensor, diff, reduction: str):
        super().__init__((x, t), (x, t))
        self.diff = diff
        self.reduction = reduction

    def backward(self, g):
        x, t = self.saved_tensors
        n = self.next_functions
        scale = 2.0 / max(self.diff.size, 1) if self.reduction == "mean" else 2.0
        if _GradMode.enabled:
            gx = (x - t) * (g * scale)
        else:
            gx = _make(self.diff * (g._data * scale).astype(self.diff.dtype, copy=False), g.device)
        return (_grad_as(sum_to(gx, x._data.shape), x) if n[0][0] is not None else None,
                _grad_as(sum_to(-gx, t._data.shape), t) if n[1][0] is not None else None)

    def _release_extra(self) -> None:
        self.diff = None


def _grad_as(g: Tensor, like: Tensor) -> Tensor:
    """A gradient in its input's dtype (inputs of different float dtypes were promoted)."""
    return g if g._data.dtype == like._data.dtype else g.to(like.dtype)


def mse_loss(x: Tensor, target: Tensor, reduction: str) -> Tensor:
    """reduce((x - target)^2), x and target broadcast together."""
    if x.device.type != "cpu":  # a GPU's fused kernels (same shapes and dtypes): one launch each way
        from ._losses_fused import mse_loss as fused_mse_loss

        out = fused_mse_loss(x, target, reduction)
        if out is not None:
            return out
    xd, td = x._data, target._data
    if xd.dtype != td.dtype or xd.dtype.kind != "f":
        dt = _dtype.result_type(x, target)
        if not dt.is_floating_point:
            raise NotImplementedError(f'"mse_cpu" not implemented for \'{_TYPE_WORD[dt.name]}\'')
        xd, td = xd.astype(dt.np, copy=False), td.astype(dt.np, copy=False)
    try:
        diff = xd - td
    except ValueError:
        raise broadcast_error(xd.shape, td.shape) from None
    squared = diff * diff
    out = _make(x.device.xp.asarray(_reduce(squared, reduction), dtype=diff.dtype), x.device)
    if _GradMode.enabled and (x._requires_grad or target._requires_grad):
        record(out, MseLossBackward0(x, target, diff, reduction))
    return out


# ---- binary cross-entropy -----------------------------------------------------------------------
class BinaryCrossEntropyBackward0(Node):
    """d/dx = w (x - t) / max(x (1 - x), 1e-12); d/dt = w (log(1 - x) - log(x)); times g."""

    def __init__(self, x: Tensor, t: Tensor, weight: Tensor | None, reduction: str):
        super().__init__((x, t), (x, t))
        self.weight = weight
        self.reduction = reduction

    def backward(self, g):
        x, t = self.saved_tensors
        n = self.next_functions
        if self.reduction == "mean":
            g = g / max(x.numel(), 1)
        if self.weight is not None:
            g = g * self.weight
        gx = gt = None
        if n[0][0] is not None:
            gx = g * (x - t) / P.clamp(x * (1 - x), 1e-12)
        if n[1][0] is not None:
            gt = g * (P.log1p(-x) - P.log(x))
        return (sum_to(gx, x._data.shape) if gx is not None else None,
                sum_to(gt, t._data.shape) if gt is not None else None)


def binary_cross_entropy(x: Tensor, target: Tensor, weight: Tensor | None, reduction: str) -> Tensor:
    """-w (t log x + (1 - t) log(1 - x)), each log clamped to >= -100 so x in {0, 1} stays finite."""
    xd, td = x._data, target._data
    if xd.dtype != td.dtype:
        raise RuntimeError(f"Found dtype {_word(target)} but expected {_word(x)}")
    xp = x.device.xp
    if ((xd < 0) | (xd > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    if ((td < 0) | (td > 1)).any():
        raise RuntimeError("all elements of target should be between 0 and 1")
    with np.errstate(divide="ignore"):  # log(0) = -inf, then clamped
        log_x = xp.maximum(xp.log(xd), -100)
        log_1mx = xp.maximum(xp.log1p(-xd), -100)
    losses = -(td * log_x + (1 - td) * log_1mx)
    if weight is not None:
        losses = losses * weight._data
    out = _make(xp.asarray(_reduce(losses, reduction), dtype=xd.dtype), x.device)
    if _GradMode.enabled and (x._requires_grad or target._requires_grad):
        record(out, BinaryCrossEntropyBackward0(x, target, weight, reduction))
    return out


class BinaryCrossEntropyWithLogitsBackward0(Node):
    """With L = 1 + (pos_weight - 1) t: d/dx = w (L sigmoid(x) - pos_weight t), d/dt = w ((pw - 1) softplus(-x) - x)."""

    def __init__(self, x: Tensor, t: Tensor, weight: Tensor | None, pos_weight: Tensor | None, reduction: str,
                 out_shape):
        super().__init__((x, t), (x, t))
        self.weight, self.pos_weight = weight, pos_weight
        self.reduction = reduction
        self.out_shape = out_shape

    def backward(self, g):
        x, t = self.saved_tensors
        n = self.next_functions
        if self.reduction == "mean":
            g = g / max(math.prod(self.out_shape), 1)
        if self.weight is not None:
            g = g * self.weight
        pw = self.pos_weight
        gx = gt = None
        if n[0][0] is not None:
            if pw is None:
                gx = g * (P.sigmoid(x) - t)
            else:
                gx = g * ((1 + (pw - 1) * t) * P.sigmoid(x) - pw * t)
        if n[1][0] is not None:
            gt = -g * x if pw is None else g * ((pw - 1) * _softplus_neg(x) - x)
        return (sum_to(gx, x._data.shape) if gx is not None else None,
                sum_to(gt, t._data.shape) if gt is not None else None)


def _softplus_neg(x: Tensor) -> Tensor:
    """log(1 + exp(-x)), stable."""
    return P.log1p(P.exp(-P.abs(x))) + P.clamp(-x, min=0.0)


def binary_cross_entropy_with_logits(x: Tensor, target: Tensor, weight: Tensor | None, pos_weight: Tensor | None,
                                     reduction: str) -> Tensor:
    """BCE on sigmoid(x) computed from x directly: (1 - t) x + L log(1 + exp(-x)), L = 1 + (pw - 1) t."""
    dt = _dtype.result_type(x, target)
    xd = x._data.astype(dt.np, copy=False)
    td = target._data.astype(dt.np, copy=False)
    xp = x.device.xp
    softplus_neg = xp.log1p(xp.exp(-xp.abs(xd))) + xp.maximum(-xd, 0)
    if pos_weight is None:
        losses = (1 - td) * xd + softplus_neg
    else:
        losses = (1 - td) * xd + (1 + (pos_weight._data - 1) * td) * softplus_neg
    if weight is not None:
        losses = losses * weight._data
    out = _make(xp.asarray(_reduce(losses, reduction), dtype=dt.np), x.device)
    if _GradMode.enabled and (x._requires_grad or target._requires_grad):
        record(out, BinaryCrossEntropyWithLogitsBackward0(x, target, weight, pos_weight, reduction, losses.shape))
    return out
