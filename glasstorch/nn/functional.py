"""torch.nn.functional: the stateless functions behind the layers (activations, losses, ...).

Argument checking and dispatch live here; the ops with graph nodes of their own live in
_activations.py, _losses.py and _norms.py.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .._ops import linalg as _linalg, pointwise as P, reduction as R
from ..amp.autocast_mode import autocast_op, user_stacklevel
from .._ops._util import Node, Tensor, _GradMode, _make, record
from .._ops.indexing import index_into_zeros
from .._ops.inplace import apply as _apply_inplace
from .._random import rng_of
from ..backends import cpu_fused as _cpu_fused
from ..autograd.grad_mode import no_grad
from . import _activations as A, _losses as L, _norms as N
from . import _activations_extra as AX
from . import _losses_extra as LX
from . import _conv
from .._ops import padding as _padding
from ._conv import *  # noqa: F401,F403  conv1d, max_pool2d, unfold, ... (listed in _conv.__all__)
from . import _dropout as _D
from .._ops import grid_sample as _grid_sample, pixel_shuffle as _pixel_shuffle, upsample as _upsample

__all__ = [
    "linear", "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "gelu", "silu", "mish", "sigmoid", "tanh",
    "softmax", "softmin", "log_softmax", "softplus", "logsigmoid", "hardtanh", "hardtanh_", "elu", "elu_",
    "threshold", "softsign", "dropout", "one_hot", "embedding", "layer_norm", "batch_norm", "pad", "normalize",
    "cosine_similarity", "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
    "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout", "group_norm", "instance_norm",
    "local_response_norm", "rms_norm", "interpolate", "upsample", "upsample_nearest", "upsample_bilinear",
    "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle", "affine_grid", "grid_sample",
    "scaled_dot_product_attention", "multi_head_attention_forward", "embedding_bag",
]
__all__ += _conv.__all__  # convolution, pooling, unfold/fold (nn/_conv.py)


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
    return _apply_inplace(input, AX.mish) if inplace else AX.mish(input)


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


@autocast_op("softplus")
def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return A.softplus(input, beta, threshold)


def logsigmoid(input: Tensor) -> Tensor:
    return A.logsigmoid(input)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else value."""
    return _apply_inplace(input, AX.threshold, threshold, value) if inplace else AX.threshold(input, threshold, value)


# ---- more activations (nodes in _activations_extra.py) ----------------------------------------------
__all__ += ["selu", "selu_", "celu", "celu_", "prelu", "rrelu", "rrelu_", "hardswish", "hardsigmoid", "tanhshrink",
            "softshrink", "hardshrink", "glu", "threshold_"]


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    return _apply_inplace(input, AX.threshold, threshold, value)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with alpha = 1.6733, scale = 1.0507 (self-normalising networks)."""
    return _apply_inplace(input, AX.selu) if inplace else AX.selu(input)


def selu_(input: Tensor) -> Tensor:
    return selu(input, inplace=True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    return _apply_inplace(input, AX.celu, alpha) if inplace else AX.celu(input, alpha)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return celu(input, alpha, inplace=True)


@autocast_op("prelu")
def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x for x > 0, weight * x otherwise; weight (1,) or (C,) for the channel dim 1."""
    return AX.prelu(input, weight)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Leaky ReLU with a random slope in U(lower, upper) per element (training) or their mean (eval)."""
    if inplace:
        return _apply_inplace(input, AX.rrelu, lower, upper, training)
    return AX.rrelu(input, lower, upper, training)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    return rrelu(input, lower, upper, training, inplace=True)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6."""
    return _apply_inplace(input, AX.hardswish) if inplace else AX.hardswish(input)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6."""
    return _apply_inplace(input, AX.hardsigmoid) if inplace else AX.hardsigmoid(input)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)."""
    return input - P.tanh(input)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""
    return AX.softshrink(input, lambd)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd, else 0."""
    return AX.hardshrink(input, lambd)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a * sigmoid(b) for the two halves a, b of `dim`."""
    return AX.glu(input, dim)


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
        u = rng_of(None).random(d.shape, dtype=work)
        scale = d.dtype.type(1.0 / (1.0 - p))
        out = None if inplace else _cpu_fused.dropout_(d, u, p, scale)  # one compiled pass (extra `fast`)
        if out is not None:  # u is the mask now; the same numbers and node as `input * mask_t` below
            return _record_product(_make(out, input.device), input, _make(u, input.device))
        mask = (u >= p).astype(d.dtype) * scale
        if input.device.type != "cpu":
            mask = input.device.backend.from_numpy(mask)
    mask_t = _make(mask, input.device)
    return input.mul_(mask_t) if inplace else input * mask_t


def _record_product(out: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """`out`, computed as a * b, with the node `a * b` records."""
    if _GradMode.enabled and (a._requires_grad or b._requires_grad):
        record(out, P.MulBackward0(a, b))
    return out


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) inputs with probability p; scale the rest by 1 / (1 - p)."""
    return _D.dropout1d(input, p, training, inplace)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) inputs with probability p; scale the rest by 1 / (1 - p)."""
    return _D.dropout2d(input, p, training, inplace)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs with probability p."""
    return _D.dropout3d(input, p, training, inplace)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: dropped units take SELU's saturation value, then an affine map keeps
    the mean and variance."""
    _D.check_p(p)
    return _D.alpha_dropout(input, p, training, inplace)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """alpha_dropout of whole channels."""
    _D.check_p(p)
    return _D.feature_alpha_dropout(input, p, training, inplace)


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
@autocast_op("layer_norm")
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


@autocast_op("cosine_similarity")
def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps)) along dim (each norm floored, as in PyTorch)."""
    return LX.cosine_similarity(x1, x2, dim, eps)


@autocast_op("group_norm")
def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise (N, C, *) over groups of C // num_groups channels per sample, then a per-channel affine."""
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    _verify_batch_size([input.shape[0] * input.shape[1] // num_groups, num_groups] + list(input.shape[2:]))
    return N.group_norm(input, num_groups, weight, bias, eps)


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each (sample, channel) of (N, C, *) over its spatial positions."""
    if use_input_stats:
        _verify_spatial_size(list(input.shape))
    N._check_float(input, "batch_norm")
    return N.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def _verify_batch_size(size: list) -> None:
    """Training statistics need more than one value per channel (size: [N, C, *spatial])."""
    if size[0] * math.prod(size[2:]) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")


def _verify_spatial_size(size: list) -> None:
    if math.prod(size[2:]) == 1:
        from .._tensor import Size

        raise ValueError(f"Expected more than 1 spatial element when training, got input size {Size(size)}")


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """input / sqrt(mean(input^2 over the trailing `normalized_shape` dims) + eps) * weight."""
    if not isinstance(normalized_shape, (tuple, list)):
        raise TypeError(f"rms_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not "
                        f"{type(normalized_shape).__name__}")
    return N.rms_norm(input, tuple(normalized_shape), weight, eps)


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """x / (k + alpha * mean(x^2 over `size` neighbouring channels)) ** beta, for (N, C, *) inputs."""
    return N.local_response_norm(input, size, alpha, beta, k)


# ---- resampling ---------------------------------------------------------------------------------
@autocast_op("interpolate")
def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """Resize (N, C, *spatial) to `size` or by `scale_factor`: modes nearest, nearest-exact, linear, bilinear,
    bicubic, trilinear."""
    return _upsample.interpolate(input, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None):
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleave the channels of `groups` groups: (N, g * k, *) with channel i * k + j moved to j * g + i."""
    return _pixel_shuffle.channel_shuffle(input, groups)


native_channel_shuffle = channel_shuffle


def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    """The sampling grid (N, H, W, 2) of the affine maps theta (N, 2, 3) (or (N, D, H, W, 3) from (N, 3, 4))."""
    return _grid_sample.affine_grid(theta, size, align_corners)


@autocast_op("grid_sample")
def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """input (N, C, H, W) read at the normalised (x, y) points of grid (N, Ho, Wo, 2): (N, C, Ho, Wo)."""
    return _grid_sample.grid_sample(input, grid, mode, padding_mode, align_corners)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C * r^2, H, W) -> (*, C, H * r, W * r)."""
    return _pixel_shuffle.pixel_shuffle(input, upscale_factor)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H * r, W * r) -> (*, C * r^2, H, W)."""
    return _pixel_shuffle.pixel_unshuffle(input, downscale_factor)


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
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    # reflect / replicate: array code with PyTorch's nodes; circular: slice copies (CopySlices)
    _padding.check_non_constant(input, pad)
    if mode == "circular":
        return _padding.circular_pad(input, pad)
    return _padding.reflect_or_replicate_pad(input, pad, mode)


# ---- losses -------------------------------------------------------------------------------------
def _reduction(size_average, reduce, reduction: str) -> str:
    if size_average is not None or reduce is not None:
        reduction = L.legacy_reduction(size_average, reduce)
    return L.check_reduction(reduction)


@autocast_op("cross_entropy")
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


@autocast_op("nll_loss")
def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """-input[n, target[n]] for log-probabilities `input` (N, C) or (N, C, d1, ...)."""
    return L.nll_loss(input, target, weight, ignore_index, _reduction(size_average, reduce, reduction))


def _warn_size(input: Tensor, target: Tensor) -> None:
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
                      "This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", stacklevel=user_stacklevel())


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


@autocast_op("mse_loss")
def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """mean (or sum) of (input - target)^2."""
    _warn_size(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if weight is not None:
        return _weighted((input - target) ** 2, weight, input, reduction)
    return L.mse_loss(input, target, reduction)


@autocast_op("l1_loss")
def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:
    """mean (or sum) of |input - target|."""
    _warn_size(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    errors = P.abs(input - target)
    if weight is not None:
        return _weighted(errors, weight, input, reduction)
    return _reduce_tensor(errors, reduction)


@autocast_op("huber_loss")
def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """0.5 e^2 where |e| < delta, delta (|e| - 0.5 delta) elsewhere; e = input - target."""
    _warn_size(input, target)
    reduction = L.check_reduction(reduction)
    if weight is None:
        return LX.huber_loss(input, target, reduction, delta)
    err = P.abs(input - target)
    errors = P.where(err < delta, 0.5 * err * err, delta * (err - 0.5 * delta))
    return _weighted(errors, weight, input, reduction)


@autocast_op("smooth_l1_loss")
def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """0.5 e^2 / beta where |e| < beta, |e| - 0.5 beta elsewhere."""
    _warn_size(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if beta == 0.0:  # the L1 loss, as PyTorch computes it then
        return _reduce_tensor(P.abs(input - target), reduction)
    return LX.smooth_l1_loss(input, target, reduction, beta)


@autocast_op("kl_div")
def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """target * (log target - input), input being log-probabilities."""
    if size_average is not None or reduce is not None:
        reduction = L.legacy_reduction(size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=user_stacklevel())
    if log_target:
        pointwise = P.exp(target) * (target - input)
    else:
        # xlogy(t, t) - t * input, as PyTorch: 0 log 0 = 0 (the log of 1 stands in, so no inf reaches a gradient)
        zero = target == 0
        pointwise = P.where(zero, 0.0, target * P.log(P.where(zero, 1.0, target))) - target * input
    if reduction == "batchmean":
        return pointwise.sum() / (input.shape[0] if input.dim() else 1)
    return _reduce_tensor(pointwise, L.check_reduction(reduction))


@autocast_op("binary_cross_entropy")
def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """-(t log x + (1 - t) log(1 - x)) for probabilities x in [0, 1]."""
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size "
                         f"({input.shape}) is deprecated. Please ensure they have the same size.")
    return L.binary_cross_entropy(input, target, weight, reduction)


@autocast_op("binary_cross_entropy_with_logits")
def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """binary_cross_entropy(sigmoid(input), target), computed stably from the logits."""
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    return L.binary_cross_entropy_with_logits(input, target, weight, pos_weight, reduction)


# ---- more losses and distances (_losses_extra.py) --------------------------------------------------
__all__ += ["pairwise_distance", "margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss",
            "triplet_margin_loss", "triplet_margin_with_distance_loss", "soft_margin_loss",
            "multilabel_soft_margin_loss", "multilabel_margin_loss", "multi_margin_loss", "poisson_nll_loss",
            "gaussian_nll_loss", "ctc_loss"]


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p over the last dim."""
    return LX.pairwise_distance(x1, x2, p, eps, keepdim)


@autocast_op("margin_ranking_loss")
def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0, size_average=None,
                        reduce=None, reduction: str = "mean") -> Tensor:
    """max(0, -target * (input1 - input2) + margin), target in {1, -1}."""
    return LX.margin_ranking_loss(input1, input2, target, margin, _reduction(size_average, reduce, reduction))


@autocast_op("hinge_embedding_loss")
def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """input where target == 1, max(0, margin - input) where target == -1."""
    return LX.hinge_embedding_loss(input, target, margin, _reduction(size_average, reduce, reduction))


@autocast_op("cosine_embedding_loss")
def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0, size_average=None,
                          reduce=None, reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) for target 1, max(0, cos(x1, x2) - margin) for target -1; inputs (N, D) or (D,)."""
    return LX.cosine_embedding_loss(input1, input2, target, margin, _reduction(size_average, reduce, reduction))


@autocast_op("triplet_margin_loss")
def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """max(0, margin + d(anchor, positive) - d(anchor, negative)), d the pairwise p-norm distance."""
    reduction = _reduction(size_average, reduce, reduction)
    return LX.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap, reduction)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *, distance_function=None,
                                      margin: float = 1.0, swap: bool = False, reduction: str = "mean") -> Tensor:
    """triplet_margin_loss with any distance_function(x, y) -> (N,) (pairwise_distance by default)."""
    return LX.triplet_margin_with_distance_loss(anchor, positive, negative, distance_function, margin, swap,
                                                reduction)


@autocast_op("soft_margin_loss")
def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """log(1 + exp(-target * input)), target in {1, -1}."""
    return LX.soft_margin_loss(input, target, _reduction(size_average, reduce, reduction))


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                                reduce=None, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of sigmoid(input) against 0/1 targets, averaged over the C classes of (N, C)."""
    return LX.multilabel_soft_margin_loss(input, target, weight, _reduction(size_average, reduce, reduction))


@autocast_op("multilabel_margin_loss")
def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """Hinge loss between every target class (target's entries before the first -1) and every other class."""
    return LX.multilabel_margin_loss(input, target, _reduction(size_average, reduce, reduction))


@autocast_op("multi_margin_loss")
def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                      size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss: sum over i != y of max(0, margin - x[y] + x[i])^p / C."""
    return LX.multi_margin_loss(input, target, p, margin, weight, _reduction(size_average, reduce, reduction))


@autocast_op("poisson_nll_loss")
def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False, size_average=None,
                     eps: float = 1e-8, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of target under Poisson(exp(input)) (or Poisson(input), log_input=False)."""
    if size_average is not None or reduce is not None:
        reduction = L.legacy_reduction(size_average, reduce)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not a valid value for reduction")
    return LX.poisson_nll_loss(input, target, log_input, full, eps, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of target under N(input, var); var per element, per row, or a float."""
    return LX.gaussian_nll_loss(input, target, var, full, eps, reduction)


@autocast_op("ctc_loss")
def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """Connectionist temporal classification loss of log_probs (T, N, C) against label sequences."""
    return LX.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity)


# ---- attention and bags of embeddings (their ops live in _attention.py and _embedding_bag.py) ------
from ._attention import multi_head_attention_forward, scaled_dot_product_attention  # noqa: E402,F401
from ._attention import _canonical_mask, _none_or_dtype  # noqa: E402,F401  (layers copied from PyTorch call them)
from ._embedding_bag import embedding_bag  # noqa: E402,F401
