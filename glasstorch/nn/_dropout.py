"""Channel-wise (feature) dropout and alpha dropout, the variants behind Dropout1d/2d/3d and AlphaDropout.

All of them multiply the input by a random noise tensor (and alpha dropout adds a shift), so their
gradients are the Mul/Add nodes of those ops, as in PyTorch. Masks are drawn from the global generator:
the same distributions as PyTorch's, not the same bits.
"""
from __future__ import annotations

import warnings

import numpy as np

from .._ops._util import Tensor, _make

# SELU's negative saturation value, -scale * alpha: alpha dropout sets dropped units to it
_SELU_SATURATION = 1.7580993408473766


def check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(x: Tensor, shape: tuple, p: float):
    """A 0/1 array of `shape` in x's dtype (float32 for others), each 1 with probability 1 - p."""
    from .._random import rng_of

    d = x._data
    work = d.dtype if d.dtype in (np.float32, np.float64) else np.float32
    keep = (rng_of(None).random(shape, dtype=work) >= p).astype(d.dtype if d.dtype.kind == "f" else work)
    return x.device.backend.from_numpy(keep) if x.device.type != "cpu" else keep


def _noise_shape(x: Tensor, feature: bool) -> tuple:
    """One draw per element, or per (sample, channel) plane for feature dropout."""
    shape = tuple(x._data.shape)
    if not feature:
        return shape
    if len(shape) < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return shape[:2] + (1,) * (len(shape) - 2)


def _dropout(x: Tensor, p: float, training: bool, inplace: bool, *, feature: bool, alpha: bool) -> Tensor:
    """The one implementation of the four variants (ATen's _dropout_impl)."""
    check_p(p)
    if p == 0.0 or not training or x.numel() == 0:
        return x
    if p == 1.0:
        zero = _make(x.device.xp.zeros((), dtype=x._data.dtype), x.device)
        return x.mul_(zero) if inplace else x * zero
    keep = _keep_mask(x, _noise_shape(x, feature), p)
    if not alpha:
        noise = _make(keep * keep.dtype.type(1.0 / (1.0 - p)), x.device)
        return x.mul_(noise) if inplace else x * noise
    # dropped units go to -saturation, then an affine map a * y + c restores zero mean and unit variance
    a = 1.0 / np.sqrt((_SELU_SATURATION ** 2 * p + 1) * (1 - p))
    shift = _make((keep - 1) * keep.dtype.type(_SELU_SATURATION * a) + keep.dtype.type(_SELU_SATURATION * a * p),
                  x.device)
    noise = _make(keep * keep.dtype.type(a), x.device)
    return x.mul_(noise).add_(shift) if inplace else x * noise + shift


def feature_dropout(x: Tensor, p: float, training: bool, inplace: bool) -> Tensor:
    return _dropout(x, p, training, inplace, feature=True, alpha=False)


def alpha_dropout(x: Tensor, p: float, training: bool, inplace: bool) -> Tensor:
    return _dropout(x, p, training, inplace, feature=False, alpha=True)


def feature_alpha_dropout(x: Tensor, p: float, training: bool, inplace: bool) -> Tensor:
    return _dropout(x, p, training, inplace, feature=True, alpha=True)


def _with_batch_dim(x: Tensor, batched: bool, inplace: bool, fn) -> Tensor:
    """fn on x, adding (and then removing) a leading batch dim when x has none."""
    if batched:
        return fn(x)
    x = x.unsqueeze_(0) if inplace else x.unsqueeze(0)
    out = fn(x)
    return out.squeeze_(0) if inplace else out.squeeze(0)


def dropout1d(x: Tensor, p: float, training: bool, inplace: bool) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) inputs."""
    check_p(p)
    nd = x.dim()
    if nd not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {nd}D input. Note that dropout1d "
                           "exists to provide channel-wise dropout on inputs with 1 spatial dimension, a channel "
                           "dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _with_batch_dim(x, nd == 3, inplace, lambda t: feature_dropout(t, p, training, inplace))


def _warn_dims(name: str, nd: int, spatial: int) -> None:
    warnings.warn(f"{name}: Received a {nd}-D input to {name}, which is deprecated and will result in an error in a "
                  "future release. To retain the behavior and silence this warning, please use dropout instead. "
                  f"Note that {name} exists to provide channel-wise dropout on inputs with {spatial} spatial "
                  "dimensions, a channel dimension, and an optional batch dimension "
                  f"(i.e. {spatial + 1}D or {spatial + 2}D inputs).", stacklevel=4)


def dropout2d(x: Tensor, p: float, training: bool, inplace: bool) -> Tensor:
    """Zero whole channels of (N, C, H, W) inputs (a 3D input is taken as (N, C, L), as PyTorch does)."""
    check_p(p)
    nd = x.dim()
    if nd not in (3, 4):
        _warn_dims("dropout2d", nd, 2)
    if nd == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
                      "is desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior "
                      "will change in a future release to interpret the input as one without a batch dimension, i.e. "
                      "shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using "
                      "dropout1d instead.", stacklevel=3)
    return feature_dropout(x, p, training, inplace)


def dropout3d(x: Tensor, p: float, training: bool, inplace: bool) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs."""
    check_p(p)
    nd = x.dim()
    if nd not in (4, 5):
        _warn_dims("dropout3d", nd, 3)
    return _with_batch_dim(x, nd == 5, inplace, lambda t: feature_dropout(t, p, training, inplace))
