"""torch.nn.functional: the stateless functions behind the layers (activations, losses, ...).

Argument checking and dispatch live here; the ops with graph nodes of their own live in
_activations.py, _losses.py and _norms.py.
"""
from __future__ import annotations

import warnings

import numpy as np

from .._ops import linalg as _linalg, pointwise as P, reduction as R
from .._ops._util import Node, Tensor, _GradMode, _make, record
from .._ops.indexing import index_into_zeros, index_select as _index_select
from .._ops.inplace import apply as _apply_inplace
from .._random import rng_of
from ..autograd.grad_mode import no_grad
from . import _activations as A, _losses as L, _norms as N

__all__ = [
    "linear", "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "gelu", "silu", "mish", "sigmoid", "tanh",
    "softmax", "softmin", "log_softmax", "softplus", "logsigmoid", "hardtanh", "hardtanh_", "elu", "elu_",
    "threshold", "softsign", "dropout", "one_hot", "embedding", "layer_norm", "batch_norm", "pad", "normalize",
    "cosine_similarity", "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
]


# ---- linear -------------------------------------------------------------------------------------


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight.T + bias, for weight of shape (out_features, in_features)."""
    return _linalg.linear(input, weight, bias)


# ---- activations ----------------------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    return input.relu_() if inplace else P.relu(input)


def relu_(input: Tensor) -> Tensor:
    return input.relu_()


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    if inplace:
        return _apply_inplace(input, A.leaky_relu, negative_slope)
    return A.leaky_relu(input, negative_slope)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, inplace=True)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    return A.gelu(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    return _apply_inplace(input, A.silu) if inplace else A.silu(input)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x))."""
    out = input * P.tanh(A.softplus(input))
    return input.copy_(out) if inplace else out


def sigmoid(input: Tensor) -> Tensor:
    return P.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    return P.tanh(input)


def softsign(input: Tensor) -> Tensor:
    return input / (P.abs(input) + 1)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    if inplace:
        return _apply_inplace(input, A.hardtanh, min_val, max_val)
    return A.hardtanh(input, min_val, max_val)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, inplace=True)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    return _apply_inplace(input, A.elu, alpha) if inplace else A.elu(input, alpha)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, inplace=True)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return A.softplus(input, beta, threshold)


def logsigmoid(input: Tensor) -> Tensor:
    return A.logsigmoid(input)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else value."""
    out = P.where(input > threshold, input, value)
    return input.copy_(out) if inplace else out


def _softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  "as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    if dim is None:
        dim = _softmax_dim("softmax", input.dim(), _stacklevel)
    return R.softmax(input, dim, dtype=dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    if dim is None:
        dim = _softmax_dim("softmin", input.dim(), _stacklevel)
    return R.softmax(-input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    if dim is None:
        dim = _softmax_dim("log_softmax", input.dim(), _stacklevel)
    return R.log_softmax(input, dim, dtype=dtype)


# ---- dropout ------------------------------------------------------------------------------------
def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (inverted dropout).

    The mask is drawn from the global generator; outside training the input is returned as is.
    """
    _check_p(p)
    if not training or p == 0.0:
        return input
    d = input._data
    if p == 1.0:
        mask = input.device.xp.zeros(d.shape, d.dtype)
    else:
        work = d.dtype if d.dtype in (np.float32, np.float64) else np.float32
        keep = rng_of(None).random(d.shape, dtype=work) >= p
        mask = keep.astype(d.dtype) * d.dtype.type(1.0 / (1.0 - p))
        if input.device.type != "cpu":
            mask = input.device.backend.from_numpy(mask)
    mask_t = _make(mask, input.device)
    return input.mul_(mask_t) if inplace else input * mask_t


# ---- embeddings and one-hot -----------------------------------------------------------------------
def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 tensor of shape (*tensor.shape, num_classes) with a 1 at each value's position."""
    d = tensor._data
    if d.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if d.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(d.max()) + 1
    if d.size:
        if d.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        if d.max() >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    xp = tensor.device.xp
    return _make((d[..., None] == xp.arange(num_classes)).astype(np.int64), tensor.device)


class EmbeddingBackward0(Node):
    """Scatter-add the gradient rows back to the rows they were read from (the padding row gets none)."""

    def __init__(self, weight: Tensor, index, padding_idx: int, scale_grad_by_freq: bool):
        super().__init__((weight,), ())
        self.index = index
        self.shape = weight._data.shape
        self.padding_idx = padding_idx
        self.scale_grad_by_freq = scale_grad_by_freq

    def backward(self, g):
        idx = self.index
        xp = g.device.xp
        if self.scale_grad_by_freq:
            counts = xp.bincount(idx.reshape(-1), minlength=self.shape[0]).astype(g._data.dtype)
            g = g / _make(counts[idx][..., None], g.device)
        if self.padding_idx >= 0:
            keep = (idx != self.padding_idx).astype(g._data.dtype)[..., None]
            g = g * _make(keep, g.device)
        return (index_into_zeros(g, (idx,), self.shape),)

    def _release_extra(self) -> None:
        self.index = None


def _embedding_renorm(weight: Tensor, idx, max_norm: float, norm_type: float) -> None:
    """Rescale, in place, the looked-up rows whose norm exceeds max_norm (like torch.embedding_renorm_)."""
    xp = weight.device.xp
    rows = xp.unique(idx)
    w = weight._data
    norms = xp.linalg.norm(w[rows], ord=norm_type, axis=1)
    big = norms > max_norm
    if big.any():
        w[rows[big]] *= (max_norm / (norms[big] + 1e-7))[:, None].astype(w.dtype)
        weight._vc[0] += 1


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of `weight` (num_embeddings, dim) looked up by the integer tensor `input`."""
    n = weight.shape[0]
    if padding_idx is not None:
        if padding_idx > 0:
            assert padding_idx < n, "Padding_idx must be within num_embeddings"
        elif padding_idx < 0:
            assert padding_idx >= -n, "Padding_idx must be within num_embeddings"
            padding_idx = n + padding_idx
    else:
        padding_idx = -1
    idx = input._data
    if idx.dtype not in (np.int64, np.int32):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {input.type()} instead (while checking arguments for embedding)")
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        with no_grad():
            _embedding_renorm(weight, idx, max_norm, norm_type)
    out = _make(weight._data[idx], weight.device)
    if _GradMode.enabled and weight._requires_grad:
        record(out, EmbeddingBackward0(weight, idx, padding_idx, scale_grad_by_freq))
    return out


# ---- normalisation ------------------------------------------------------------------------------
def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing `normalized_shape` dims: (x - mean) / sqrt(var + eps) * weight + bias."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    return N.layer_norm(input, tuple(normalized_shape), weight, bias, eps)


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dim 1) with batch statistics (training; updates the running ones) or running ones."""
    return N.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None) -> Tensor:
    """input / max(||input||_p along dim, eps)."""
    denom = P.clamp(R.norm(input, p, dim, keepdim=True), min=eps)
    return input / denom


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """x1 . x2 / max(||x1|| ||x2||, eps) along dim."""
    dot = R.sum(x1 * x2, dim)
    norms = R.norm(x1, 2, dim) * R.norm(x2, 2, dim)
    return dot / P.clamp(norms, min=eps)


# ---- padding ------------------------------------------------------------------------------------
class ConstantPadNdBackward0(Node):
    """The gradient of padding is the gradient cropped back: pad(g, -pad)."""

    def __init__(self, x: Tensor, pad: tuple):
        super().__init__((x,), ())
        self.pad = pad

    def backward(self, g):
        return (_constant_pad(g, tuple(-p for p in self.pad), 0.0),)


def _constant_pad(x: Tensor, pad: tuple, value) -> Tensor:
    """Pad (or, for negative amounts, crop) the last len(pad) // 2 dims of x with `value`."""
    d = x._data
    shape = list(d.shape)
    src, dst = [slice(None)] * d.ndim, [slice(None)] * d.ndim
    for i in range(len(pad) // 2):
        dim = d.ndim - 1 - i
        before, after = pad[2 * i], pad[2 * i + 1]
        size = shape[dim] + before + after
        if size < 0:
            raise RuntimeError(f"The input size {shape[dim]}, plus negative padding {before} and {after} resulted in a "
                               f"negative output size, which is invalid. Check dimension {dim} of your input.")
        src[dim] = slice(max(-before, 0), shape[dim] - max(-after, 0))
        dst[dim] = slice(max(before, 0), size - max(after, 0))
        shape[dim] = size
    data = x.device.xp.full(shape, value, dtype=d.dtype)
    data[tuple(dst)] = d[tuple(src)]
    out = _make(data, x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, ConstantPadNdBackward0(x, pad))
    return out


_INDEX_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last dims: pad = (last_left, last_right, 2nd_last_left, 2nd_last_right, ...)."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.dim():
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {input.dim()}")
    if mode == "constant":
        return _constant_pad(input, pad, 0.0 if value is None else value)
    if mode not in _INDEX_PAD_MODES:
        raise NotImplementedError(f"Unsupported padding mode: {mode}")
    if value:
        raise AssertionError(f'Padding mode "{mode}" doesn\'t take in value argument')
    # reflect / replicate / circular pick existing elements: an index_select per padded dim,
    # whose own backward scatters the gradient back
    out = input
    for i in range(len(pad) // 2):
        dim = input.dim() - 1 - i
        before, after = pad[2 * i], pad[2 * i + 1]
        size = input.shape[dim]
        if mode == "reflect" and (before >= size or after >= size):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({before}, {after}) at dimension {dim} of input {list(input.shape)}")
        index = np.pad(np.arange(size, dtype=np.int64), (before, after), mode=_INDEX_PAD_MODES[mode])
        out = _index_select(out, dim, _make(input.device.backend.from_numpy(index), input.device))
    return out


# ---- losses -------------------------------------------------------------------------------------
def _reduction(size_average, reduce, reduction: str) -> str:
    if size_average is not None or reduce is not None:
        reduction = L.legacy_reduction(size_average, reduce)
    return L.check_reduction(reduction)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """-log softmax(input)[target], for class-index targets (N,) or class probabilities (N, C).

    input: (N, C), (C,) or (N, C, d1, ...); a target with the input's shape holds probabilities.
    """
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if input._data.shape == target._data.shape:
        if target.dtype.is_floating_point and ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return L.cross_entropy_probs(input, target, weight, reduction, label_smoothing)
    if label_smoothing > 0.0:
        return L.cross_entropy_smoothed(input, target, weight, ignore_index, reduction, label_smoothing)
    return L.cross_entropy_indices(input, target, weight, ignore_index, reduction)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """-input[n, target[n]] for log-probabilities `input` (N, C) or (N, C, d1, ...)."""
    return L.nll_loss(input, target, weight, ignore_index, _reduction(size_average, reduce, reduction))


def _warn_size(input: Tensor, target: Tensor) -> None:
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
                      "This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", stacklevel=3)


def _weighted(errors: Tensor, weight: Tensor, input: Tensor, reduction: str) -> Tensor:
    """sum(errors * weight) / sum(weight) for 'mean' (the weighted-loss convention of mse/l1/huber)."""
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    errors = errors * weight
    if reduction == "none":
        return errors
    return errors.sum() if reduction == "sum" else errors.sum() / weight.sum()


def _reduce_tensor(errors: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return errors
    return errors.sum() if reduction == "sum" else errors.mean()


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """mean (or sum) of (input - target)^2."""
    _warn_size(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if weight is not None:
        return _weighted((input - target) ** 2, weight, input, reduction)
    return L.mse_loss(input, target, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:
    """mean (or sum) of |input - target|."""
    _warn_size(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    errors = P.abs(input - target)
    if weight is not None:
        return _weighted(errors, weight, input, reduction)
    return _reduce_tensor(errors, reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """0.5 e^2 where |e| < delta, delta (|e| - 0.5 delta) elsewhere; e = input - target."""
    _warn_size(input, target)
    reduction = L.check_reduction(reduction)
    err = P.abs(input - target)
    errors = P.where(err < delta, 0.5 * err * err, delta * (err - 0.5 * delta))
    if weight is not None:
        return _weighted(errors, weight, input, reduction)
    return _reduce_tensor(errors, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """0.5 e^2 / beta where |e| < beta, |e| - 0.5 beta elsewhere."""
    _warn_size(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    err = P.abs(input - target)
    if beta == 0.0:
        return _reduce_tensor(err, reduction)
    errors = P.where(err < beta, 0.5 * err * err / beta, err - 0.5 * beta)
    return _reduce_tensor(errors, reduction)


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """target * (log target - input), input being log-probabilities."""
    if size_average is not None or reduce is not None:
        reduction = L.legacy_reduction(size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    if log_target:
        pointwise = P.exp(target) * (target - input)
    else:
        pointwise = P.where(target > 0, target * (P.log(P.where(target > 0, target, 1.0)) - input), 0.0)
    if reduction == "batchmean":
        return pointwise.sum() / (input.shape[0] if input.dim() else 1)
    return _reduce_tensor(pointwise, L.check_reduction(reduction))


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """-(t log x + (1 - t) log(1 - x)) for probabilities x in [0, 1]."""
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size "
                         f"({input.shape}) is deprecated. Please ensure they have the same size.")
    return L.binary_cross_entropy(input, target, weight, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """binary_cross_entropy(sigmoid(input), target), computed stably from the logits."""
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    return L.binary_cross_entropy_with_logits(input, target, weight, pos_weight, reduction)

