"""The margin, embedding, likelihood and sequence losses of torch.nn.functional.

Most are short compositions of recorded ops (as they are in PyTorch, whose graphs end in the same
Clamp/Mean/Sum nodes), so their gradients and second derivatives come for free. CTC has a node of
its own: the alpha-beta recursion in log space, vectorised over the batch and the label positions,
looping over time only.
"""
from __future__ import annotations

import math

import numpy as np

from .._ops import pointwise as P, reduction as R
from .._ops._util import Node, Tensor, _GradMode, _make, record, sum_to
from .._ops.creation import ones_like
from ..autograd.grad_mode import no_grad
from . import _activations as A
from ._activations import _piecewise, _SlopeBackward
from ._losses import check_reduction


class ClampMinBackward0(_SlopeBackward):
    pass


def clamp_min(x: Tensor, low: float) -> Tensor:
    """max(x, low) as PyTorch's clamp_min: NaN stays NaN, and the gradient passes where x >= low."""
    d = x._data
    return _piecewise(x, x.device.xp.maximum(d, d.dtype.type(low)), ClampMinBackward0, lambda a: a >= low)


def reduce(loss: Tensor, reduction: str) -> Tensor:
    """loss as it is ('none'), summed or averaged over all its elements."""
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


# ---- distances ----------------------------------------------------------------------------------
def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p over the last dim of the broadcast inputs."""
    last = max(x1.dim(), x2.dim()) - 1
    return R.norm(x1 - x2 + eps, p, last, keepdim)


def _clamped_norm(x: Tensor, dim: int, eps: float) -> Tensor:
    """||x||_2 along dim (kept), raised to at least eps without changing its gradient (PyTorch's
    no_grad clamp on a copy: the division sees the clamped value, the norm's backward the true one)."""
    n = R.norm(x, 2, dim, keepdim=True).clone()
    with no_grad():
        n.clamp_(min=eps)
    return n


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps)) along dim, inputs broadcast together."""
    if x1.shape != x2.shape:
        shape = np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
        x1, x2 = x1.expand(shape), x2.expand(shape)
    return R.sum((x1 / _clamped_norm(x1, dim, eps)) * (x2 / _clamped_norm(x2, dim, eps)), dim)


# ---- ranking and embedding losses -------------------------------------------------------------------
def margin_ranking_loss(x1: Tensor, x2: Tensor, target: Tensor, margin: float, reduction: str) -> Tensor:
    """max(0, -y (x1 - x2) + margin)."""
    if x1.dim() != x2.dim() or x1.dim() != target.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {x1.shape}, input2: {x2.shape}, target: {target.shape} ")
    return reduce(clamp_min(-target * (x1 - x2) + margin, 0.0), reduction)


def hinge_embedding_loss(x: Tensor, target: Tensor, margin: float, reduction: str) -> Tensor:
    """x where y == 1, max(0, margin - x) where y == -1 (both terms where y is neither)."""
    below = P.where(target != 1, P.clamp(margin - x, min=0), 0.0)
    above = P.where(target != -1, x, 0.0)
    return reduce(below + above, reduction)


def cosine_embedding_loss(x1: Tensor, x2: Tensor, target: Tensor, margin: float, reduction: str) -> Tensor:
    """1 - cos(x1, x2) where y == 1, max(0, cos(x1, x2) - margin) where y == -1."""
    tdim = target.dim()
    if tdim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if tdim == 1 and (x1.dim() != 2 or x2.dim() != 2):
        raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with sizes {list(x1.shape)} "
                           f"and {list(x2.shape)}.")
    if tdim == 0 and (x1.dim() != 1 or x2.dim() != 1):
        raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with sizes {list(x1.shape)} "
                           f"and {list(x2.shape)}.")
    dim = x1.dim() - 1
    tiny = 1e-12  # PyTorch's guard against zero vectors, added to each squared magnitude
    dot = R.sum(x1 * x2, dim)
    mag = P.sqrt((R.sum(x1 * x1, dim) + tiny) * (R.sum(x2 * x2, dim) + tiny))
    cos = dot / mag
    pos = P.where(target == 1, 1 - cos, 0.0)
    neg = P.where(target == -1, P.clamp(cos - margin, min=0), 0.0)
    return reduce(pos + neg, reduction)


def _check_triplet_dims(a: Tensor, p: Tensor, n: Tensor) -> None:
    if not (a.dim() == p.dim() == n.dim()):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {a.dim()}D, positive {p.dim()}D, and negative {n.dim()}D "
                           f"inputs")


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, distance_function=None,
                                      margin: float = 1.0, swap: bool = False, reduction: str = "mean") -> Tensor:
    """max(0, margin + d(a, p) - d(a, n)); with swap, d(a, n) becomes min(d(a, n), d(p, n))."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    dist = pairwise_distance if distance_function is None else distance_function
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = P._minimum(d_neg, dist(positive, negative))
    return reduce(clamp_min(margin + d_pos - d_neg, 0.0), reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float, p: float, eps: float,
                        swap: bool, reduction: str) -> Tensor:
    """triplet_margin_with_distance_loss with the p-norm distance ||x - y + eps||_p."""
    _check_triplet_dims(anchor, positive, negative)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = P._minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return reduce(clamp_min(margin + d_pos - d_neg, 0.0), reduction)


# ---- margin losses for classification ---------------------------------------------------------------
def soft_margin_loss(x: Tensor, target: Tensor, reduction: str) -> Tensor:
    """log(1 + exp(-y x)), computed as -logsigmoid(y x) so large |x| cannot overflow."""
    if target._requires_grad and _GradMode.enabled:
        raise RuntimeError("The function 'soft_margin_loss' is not differentiable with respect to argument "
                           "'target'. This input cannot have requires_grad True.")
    xd, td = _promoted_arrays(x, target)
    xp = x.device.xp
    z = td * xd
    losses = xp.log1p(xp.exp(-xp.abs(z))) - xp.minimum(z, 0)
    return _elementwise_loss(x, target, losses, reduction, SoftMarginLossBackward0, 0.0)


def multilabel_soft_margin_loss(x: Tensor, target: Tensor, weight: Tensor | None, reduction: str) -> Tensor:
    """-(y logsigmoid(x) + (1 - y) logsigmoid(-x)), weighted, averaged over classes (the last dim)."""
    loss = -(target * A.logsigmoid(x) + (1 - target) * A.logsigmoid(-x))
    if weight is not None:
        loss = loss * weight
    class_dim = x.dim() - 1
    loss = R.sum(loss, class_dim) / x.shape[class_dim]
    return reduce(loss, reduction)


def _positive_part(z: Tensor, counted: Tensor) -> Tensor:
    """z where z > 0 and `counted`, else 0: PyTorch's kernels add a term only `if (z > 0)`, which
    also drops NaN terms (a clamp would keep them)."""
    return P.where((z > 0) & counted, z, 0.0)


def _as_rows(x: Tensor, target: Tensor, name: str):
    """(x, target) as (N, C) and (N, ...) with a batch dim added to unbatched inputs."""
    if x.dim() > 2:
        raise RuntimeError(f"{name}: Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(x.shape)}")
    if x.dim() <= 1:
        return x.reshape(1, -1), target.reshape(1, -1)
    return x, target


def multilabel_margin_loss(x: Tensor, target: Tensor, reduction: str) -> Tensor:
    """sum over target classes j (the entries of y up to the first -1) and non-target classes i of
    max(0, 1 - (x[y_j] - x[i])), divided by C."""
    unbatched = x.dim() <= 1
    xs, ts = _as_rows(x, target, "multilabel_margin_loss")
    if ts.shape != xs.shape:
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: {list(x.shape)}")
    xp = x.device.xp
    td = ts._data
    n_class = xs.shape[1]
    if td.size and (td.max() >= n_class or td.min() < -1):
        raise RuntimeError("multilabel_margin_loss: target values must be in [-1, C)")
    valid = xp.cumprod(td >= 0, axis=1).astype(bool)  # targets are read up to the first -1
    index = xp.where(valid, td, 0)
    is_target = xp.zeros(xs.shape, dtype=bool)
    rows = xp.arange(xs.shape[0])[:, None]
    is_target[rows, xp.where(valid, index, 0)] = True
    is_target[:, 0] &= (valid & (index == 0)).any(axis=1)  # index 0 stood in for the padding above
    picked = xs.gather(1, _make(index, x.device))  # (N, J): x at each target class
    z = 1 - picked.unsqueeze(2) + xs.unsqueeze(1)  # (N, J, C)
    pairs = _make(valid[:, :, None] & ~is_target[:, None, :], x.device)
    loss = R.sum(_positive_part(z, pairs), (1, 2)) / n_class
    if unbatched and reduction == "none":
        loss = loss.reshape(())
    return reduce(loss, reduction)


def multi_margin_loss(x: Tensor, target: Tensor, p: int, margin: float, weight: Tensor | None,
                      reduction: str) -> Tensor:
    """sum over i != y of max(0, margin - x[y] + x[i])^p (times weight[y]), divided by C."""
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    unbatched = x.dim() <= 1
    xs = x.reshape(1, -1) if unbatched else x
    if xs.dim() != 2:
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(x.shape)}")
    ts = target.reshape(-1)
    n_class = xs.shape[1]
    if ts.shape[0] != xs.shape[0]:
        raise RuntimeError(f"inconsistent target size, expected {xs.shape[0]} but got {list(target.shape)}")
    td = ts._data
    if td.size and (td.min() < 0 or td.max() >= n_class):
        raise RuntimeError("target out of range")
    picked = xs.gather(1, ts.reshape(-1, 1))  # (N, 1)
    others = _make(td[:, None] != x.device.xp.arange(n_class), x.device)
    z = _positive_part(margin - picked + xs, others)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight[ts].reshape(-1, 1)
    loss = R.sum(z, 1) / n_class
    if unbatched and reduction == "none":
        loss = loss.reshape(())
    return reduce(loss, reduction)


# ---- likelihood losses ------------------------------------------------------------------------------
def poisson_nll_loss(x: Tensor, target: Tensor, log_input: bool, full: bool, eps: float, reduction: str) -> Tensor:
    """exp(x) - y x (log_input) or x - y log(x + eps); full adds Stirling's y log y - y + log(2 pi y) / 2."""
    if log_input:
        loss = P.exp(x) - target * x
    else:
        loss = x - target * P.log(x + eps)
    if full:  # the approximation of log(y!) counts only where y > 1 (safe: no log of values <= 1 elsewhere)
        big = target > 1
        safe = P.where(big, target, 1.0)
        stirling = safe * P.log(safe) - safe + 0.5 * P.log(2 * math.pi * safe)
        loss = loss + P.where(big, stirling, 0.0)
    return reduce(loss, reduction)


def gaussian_nll_loss(x: Tensor, target: Tensor, var, full: bool, eps: float, reduction: str) -> Tensor:
    """(log(max(var, eps)) + (x - y)^2 / max(var, eps)) / 2 (+ log(2 pi) / 2 with full).

    var has the input's shape, or one dim fewer (the last), or one dim of size 1 where the input's is
    not: one variance shared along that dim.
    """
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * ones_like(x)
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.shape != x.shape:
        if tuple(x.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif x.dim() == var.dim() and sum(b for a, b in zip(x.shape, var.shape) if a != b) == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with no_grad():  # a floor for stability that the gradient does not see, as in PyTorch
        var.clamp_(min=eps)
    loss = 0.5 * (P.log(var) + (x - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce(loss, reduction)


# ---- connectionist temporal classification -----------------------------------------------------------
def _logaddexp(xp, a, b):
    """log(exp(a) + exp(b)) with -inf + -inf = -inf (no nan, no warning)."""
    m = xp.maximum(a, b)
    safe = xp.where(xp.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):  # log(0) where both are -inf, replaced just below
        out = safe + xp.log(xp.exp(a - safe) + xp.exp(b - safe))
    return xp.where(m == -xp.inf, m, out)


class _CtcProblem:
    """The padded extended label sequences of a batch: blank, l1, blank, l2, ..., blank.

    ext:   (N, L) class of each position, L = 2 * S_max + 1
    skip:  (N, L) whether a path may jump from position s - 2 to s (a label unlike the one before)
    last:  (N,) index of the final blank, 2 * target_length
    """

    def __init__(self, xp, targets, target_lengths, blank: int):
        n = target_lengths.shape[0]
        s_max = int(target_lengths.max()) if n else 0
        if targets.ndim == 1:  # concatenated targets: split by the lengths
            offsets = np.concatenate([[0], np.cumsum(target_lengths)[:-1]])
            cols = np.arange(s_max)
            gather = np.minimum(offsets[:, None] + cols, max(targets.shape[0] - 1, 0))
            padded = targets[gather] if targets.shape[0] else np.zeros((n, s_max), np.int64)
        else:
            padded = targets[:, :s_max]
        padded = np.where(np.arange(s_max) < target_lengths[:, None], padded, blank)
        length = 2 * s_max + 1
        ext = np.full((n, length), blank, dtype=np.int64)
        ext[:, 1::2] = padded
        skip = np.zeros((n, length), dtype=bool)
        skip[:, 3::2] = padded[:, 1:] != padded[:, :-1]
        self.ext = xp.asarray(ext)
        self.skip = xp.asarray(skip)
        self.last = 2 * target_lengths
        self.inside = xp.asarray(np.arange(length) <= self.last[:, None])  # (N, L): positions of the sequence


def _shift(xp, a, k: int):
    """a moved k places right along the last axis, -inf shifted in."""
    out = xp.full(a.shape, -xp.inf, dtype=a.dtype)
    out[..., k:] = a[..., :-k]
    return out


def _ctc_alpha(xp, emit, prob: _CtcProblem, input_lengths):
    """log alpha (T, N, L): log-probability of the prefixes ending at position s at time t."""
    t_max, n, length = emit.shape
    alpha = xp.full(emit.shape, -xp.inf, dtype=emit.dtype)
    start = xp.full((n, length), -xp.inf, dtype=emit.dtype)
    start[:, :2] = emit[0, :, :2]
    alpha[0] = xp.where(prob.inside, start, -xp.inf)
    for t in range(1, t_max):  # the recursion runs over time; every sample and position at once
        prev = alpha[t - 1]
        paths = _logaddexp(xp, _logaddexp(xp, prev, _shift(xp, prev, 1)),
                           xp.where(prob.skip, _shift(xp, prev, 2), -xp.inf))
        alpha[t] = paths + emit[t]
    return alpha


def _ctc_beta(xp, emit, prob: _CtcProblem, input_lengths):
    """log beta (T, N, L): log-probability of the suffixes from position s at time t (emission at t included)."""
    t_max, n, length = emit.shape
    beta = xp.full(emit.shape, -xp.inf, dtype=emit.dtype)
    pos = xp.arange(length)
    last = xp.asarray(prob.last)[:, None]
    end = xp.where((pos == last) | (pos == last - 1), 0.0, -xp.inf).astype(emit.dtype)
    lengths = xp.asarray(input_lengths)[:, None]
    nxt = xp.full((n, length), -xp.inf, dtype=emit.dtype)
    for t in range(t_max - 1, -1, -1):
        skip_next = xp.where(_shift_left_mask(xp, prob.skip), _shift_left(xp, nxt, 2), -xp.inf)
        paths = _logaddexp(xp, _logaddexp(xp, nxt, _shift_left(xp, nxt, 1)), skip_next)
        here = xp.where(lengths - 1 == t, end, xp.where(t < lengths - 1, paths, -xp.inf))
        beta[t] = xp.where(prob.inside, here + emit[t], -xp.inf)
        nxt = beta[t]
    return beta


def _shift_left(xp, a, k: int):
    out = xp.full(a.shape, -xp.inf, dtype=a.dtype)
    out[..., :-k] = a[..., k:]
    return out


def _shift_left_mask(xp, skip):
    """skip moved two places left: whether position s + 2 may be reached from s."""
    out = xp.zeros(skip.shape, dtype=bool)
    out[..., :-2] = skip[..., 2:]
    return out


class CtcLossBackward0(Node):
    """PyTorch's CTC gradient with respect to log_probs: exp(lp) - exp(log sum_{s: l'_s = c} alpha beta + nll - lp)
    at t < input_length (zero after). It is the loss's gradient through a log_softmax, which is
    how log_probs are made; it is not itself differentiable (as in PyTorch)."""

    def __init__(self, log_probs: Tensor, grad_lp, nll):
        super().__init__((log_probs,), ())
        self.grad_lp = grad_lp  # (T, N, C) per unit of each sample's loss
        self.shape = log_probs._data.shape

    def backward(self, g):
        gd = g._data.reshape((1, -1, 1)) if g._data.ndim else g._data
        return (_make((self.grad_lp * gd).reshape(self.shape), g.device),)

    def _release_extra(self) -> None:
        self.grad_lp = None


def _ctc_grad(xp, lp, alpha, beta, prob: _CtcProblem, nll, input_lengths):
    """(T, N, C) gradient of each sample's nll with respect to log_probs, in PyTorch's convention."""
    t_max, n, n_class = lp.shape
    ab = alpha + beta
    top = ab.max(axis=2, keepdims=True)
    top = xp.where(xp.isfinite(top), top, 0)
    onehot = (prob.ext[:, :, None] == xp.arange(n_class)).astype(lp.dtype)  # (N, L, C)
    summed = xp.matmul(xp.exp(ab - top).transpose(1, 0, 2), onehot).transpose(1, 0, 2)  # (T, N, C)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):  # impossible targets: nll = inf
        log_ab = xp.log(summed) + top
        grad = xp.exp(lp) - xp.exp(log_ab + nll[None, :, None] - lp)
    running = xp.arange(t_max)[:, None] < xp.asarray(input_lengths)[None, :]
    return xp.where(running[:, :, None], grad, 0)


def _lengths(value) -> np.ndarray:
    """Sequence lengths given as a tensor, list or tuple, as an int64 NumPy array."""
    if isinstance(value, Tensor):
        return np.asarray(value.detach().cpu().numpy(), dtype=np.int64).reshape(-1)
    return np.asarray(list(value), dtype=np.int64).reshape(-1)


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """-log p(target | log_probs) summed over all alignments, for log_probs (T, N, C) or (T, C).

    targets: (N, S) padded, or all targets concatenated (sum(target_lengths),). 'mean' divides each
    sample's loss by its target length, then averages over the batch.
    """
    check_reduction(reduction)
    unbatched = log_probs.dim() == 2
    lp_t = log_probs.unsqueeze(1) if unbatched else log_probs
    tgt = targets.unsqueeze(0) if unbatched else targets  # an unbatched target is one (S,) sequence
    in_len, tg_len = _lengths(input_lengths), _lengths(target_lengths)
    t_max, n, n_class = lp_t.shape
    if in_len.shape[0] != n:
        raise RuntimeError(f"input_lengths must be of size batch_size ({n}), but got {in_len.shape[0]}")
    if tg_len.shape[0] != n:
        raise RuntimeError(f"target_lengths must be of size batch_size ({n}), but got {tg_len.shape[0]}")
    if n and in_len.max() > t_max:
        raise RuntimeError(f"Expected input_lengths to have value at most {t_max}, but got value {in_len.max()} "
                           "(while checking arguments for ctc_loss_allocate_outputs)")
    if not 0 <= blank < n_class:
        raise RuntimeError("blank must be in label range")
    xp = log_probs.device.xp
    lp = lp_t._data
    td = np.asarray(tgt.detach().cpu().numpy(), dtype=np.int64)
    prob = _CtcProblem(xp, td, tg_len, blank)
    emit = xp.take_along_axis(lp, xp.broadcast_to(prob.ext[None], (t_max,) + prob.ext.shape), axis=2)
    emit = xp.where(prob.inside[None], emit, -xp.inf)
    alpha = _ctc_alpha(xp, emit, prob, in_len)
    beta = _ctc_beta(xp, emit, prob, in_len)
    rows = xp.arange(n)
    final = alpha[xp.asarray(in_len - 1), rows]  # (N, L): alpha at each sample's last step
    last = xp.asarray(prob.last)
    ends = _logaddexp(xp, final[rows, last], xp.where(last > 0, final[rows, xp.maximum(last - 1, 0)], -xp.inf))
    nll = -ends
    grad = _ctc_grad(xp, lp, alpha, beta, prob, nll, in_len)
    if zero_infinity:
        bad = xp.isinf(nll)
        nll = xp.where(bad, 0, nll)
        grad = xp.where(bad[None, :, None], 0, grad)
    out = _make(nll.astype(lp.dtype), log_probs.device)
    if _GradMode.enabled and log_probs._requires_grad:
        record(out, CtcLossBackward0(log_probs, grad, nll))
    if unbatched:
        out = out.reshape(())
    if reduction == "none":
        return out
    if reduction == "sum":
        return out.sum()
    lengths = _make(xp.asarray(np.maximum(tg_len, 1), dtype=lp.dtype), log_probs.device)
    return (out / (lengths.reshape(()) if unbatched else lengths)).mean()


# ---- elementwise regression losses with nodes of their own ------------------------------------------------
class _ElementwiseLossBackward(Node):
    """Backward of reduce(f(input - target)) (or of f(input, target)): g * f' / n for 'mean', summed back
    to each input's shape (they broadcast together); the target's gradient is minus the input's."""

    def __init__(self, x: Tensor, t: Tensor, reduction: str, param: float, numel: int):
        super().__init__((x, t), (x, t))
        self.reduction, self.param, self.numel = reduction, param, numel

    def backward(self, g):
        x, t = self.saved_tensors
        scale = g / self.numel if self.reduction == "mean" else g
        gx = self.derivative(x, t, self.param) * scale
        n = self.next_functions
        return (sum_to(gx, tuple(x.shape)) if n[0][0] is not None else None,
                sum_to(-gx, tuple(t.shape)) if n[1][0] is not None else None)


class SmoothL1LossBackward0(_ElementwiseLossBackward):
    @staticmethod
    def derivative(x, t, beta):
        return P.clamp((x - t) / beta, -1.0, 1.0)


class HuberLossBackward0(_ElementwiseLossBackward):
    @staticmethod
    def derivative(x, t, delta):
        return P.clamp(x - t, -delta, delta)


class SoftMarginLossBackward0(_ElementwiseLossBackward):
    @staticmethod
    def derivative(x, t, unused):
        return -t * P.sigmoid(-t * x)


def _elementwise_loss(x: Tensor, t: Tensor, losses, reduction: str, node_cls, param: float) -> Tensor:
    xp = x.device.xp
    data = losses if reduction == "none" else (losses.sum() if reduction == "sum" else losses.mean())
    out = _make(xp.asarray(data, dtype=losses.dtype), x.device)
    if _GradMode.enabled and (x._requires_grad or t._requires_grad):
        record(out, node_cls(x, t, reduction, param, losses.size))
    return out


def _promoted_arrays(x: Tensor, t: Tensor):
    """The two inputs' arrays in their common floating dtype."""
    from .. import _dtype

    dt = _dtype.result_type(x, t)
    return x._data.astype(dt.np, copy=False), t._data.astype(dt.np, copy=False)


def smooth_l1_loss(x: Tensor, t: Tensor, reduction: str, beta: float) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere, d = x - t (beta > 0)."""
    xd, td = _promoted_arrays(x, t)
    err = abs(xd - td)
    losses = x.device.xp.where(err < beta, 0.5 * err * err / beta, err - 0.5 * beta).astype(err.dtype, copy=False)
    return _elementwise_loss(x, t, losses, reduction, SmoothL1LossBackward0, beta)


def huber_loss(x: Tensor, t: Tensor, reduction: str, delta: float) -> Tensor:
    """0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere, d = x - t."""
    xd, td = _promoted_arrays(x, t)
    err = abs(xd - td)
    losses = x.device.xp.where(err < delta, 0.5 * err * err, delta * (err - 0.5 * delta)).astype(err.dtype,
                                                                                                 copy=False)
    return _elementwise_loss(x, t, losses, reduction, HuberLossBackward0, delta)
