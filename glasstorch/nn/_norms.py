"""layer_norm, batch_norm and group_norm as single ops with their own nodes; instance_norm (batch_norm
on a view, as in PyTorch) and local_response_norm (composed of tensor ops).

All three compute xhat = (x - mean) / sqrt(var + eps) over some axes, then y = xhat * weight + bias.
The input gradient of a normalisation over axes A (with g_hat = g * weight) is

    dx = rstd * (g_hat - mean_A(g_hat) - xhat * mean_A(g_hat * xhat))

which `_normalized_grad` writes once for arrays (fast path) and Tensors (create_graph=True).
"""
from __future__ import annotations

import math

import numpy as np

from .._ops._util import Node, Tensor, _GradMode, _make, not_implemented, record
from .._ops import deferred
from .._ops.shape import cat
from ..autograd.grad_mode import no_grad


def _opmath(a):
    """16-bit arrays compute in float32 (PyTorch's opmath type for half and bfloat16), others as they are."""
    return a.astype(np.float32) if a.dtype.itemsize == 2 else a


def _opmath_tensor(t: Tensor) -> Tensor:
    return t.float() if t.dtype.itemsize == 2 else t


def _normalized_grad(g_hat, xhat, rstd, mean):
    """d loss / d x for xhat = (x - mean(x)) * rstd, given g_hat = d loss / d xhat."""
    return rstd * (g_hat - mean(g_hat) - xhat * mean(g_hat * xhat))


def _array_mean(axes, count: int):
    """Mean over axes keeping dims (sum times 1/count: ndarray.mean costs several microseconds more)."""
    scale = 1.0 / max(count, 1)

    def mean(a):
        s = a.sum(axis=axes, keepdims=True)
        s *= scale
        return s

    return mean


def _tensor_mean(axes):
    return lambda t: t.mean(axes, keepdim=True)


def _tensor_stats(x: Tensor, axes: tuple, eps: float):
    """(xhat, rstd) of x over axes, as differentiable Tensors."""
    centred = x - x.mean(axes, keepdim=True)
    rstd = ((centred * centred).mean(axes, keepdim=True) + eps).rsqrt()
    return centred * rstd, rstd


def _affine_grads(g, xhat, sum_axes, want_w: bool, want_b: bool):
    """(d weight, d bias) of y = xhat * weight + bias: g * xhat and g summed over `sum_axes`."""
    gw = (g * xhat).sum(sum_axes) if want_w else None
    gb = g.sum(sum_axes) if want_b else None
    return gw, gb


def _affine(xhat, weight, bias, shape):
    """xhat * weight + bias as a new array (xhat is saved for backward: the output must not alias it);
    weight and bias are reshaped to `shape` when given."""
    w = None if weight is None else (weight._data if shape is None else weight._data.reshape(shape))
    b = None if bias is None else (bias._data if shape is None else bias._data.reshape(shape))
    if w is not None:
        y = xhat * w
        if b is not None:
            y += b
        return y
    return xhat + b if b is not None else xhat.copy()


class _NormBackward(Node):
    """Shared plumbing: inputs (x, weight, bias); saves x and weight, plus xhat/rstd arrays."""

    def __init__(self, x: Tensor, weight, bias, xhat, rstd, eps: float):
        super().__init__((x, weight, bias), (x,) if weight is None else (x, weight))
        self.xhat, self.rstd, self.eps = xhat, rstd, eps
        # a 16-bit x may come with float32 weight and bias (PyTorch's CPU mixed type): each gradient
        # leaves in its own input's dtype, having been computed in float32
        self.dtypes = tuple(None if t is None else t.dtype for t in (x, weight, bias))

    def _in_input_dtypes(self, grads: tuple) -> tuple:
        return tuple(g if g is None or g.dtype is dt else g.to(dt) for g, dt in zip(grads, self.dtypes))

    def _release_extra(self) -> None:
        self.xhat = self.rstd = None


# ---- layer_norm ---------------------------------------------------------------------------------
class NativeLayerNormBackward0(_NormBackward):
    def __init__(self, x, weight, bias, xhat, rstd, eps: float, n_normalized: int):
        super().__init__(x, weight, bias, xhat, rstd, eps)
        self.n_normalized = n_normalized

    def backward(self, g):
        saved = self.saved_tensors
        x, w = saved[0], (saved[1] if len(saved) > 1 else None)
        n = self.next_functions
        k = self.n_normalized
        nd = x._data.ndim
        axes = tuple(range(nd - k, nd))
        batch_axes = tuple(range(nd - k))
        if _GradMode.enabled:
            x, g = _opmath_tensor(x), _opmath_tensor(g)
            xhat, rstd = _tensor_stats(x, axes, self.eps)
            g_hat = g if w is None else g * w
            gx = _normalized_grad(g_hat, xhat, rstd, _tensor_mean(axes)) if n[0][0] is not None else None
            gw, gb = _affine_grads(g, xhat, batch_axes, n[1][0] is not None, n[2][0] is not None)
            return self._in_input_dtypes((gx, gw, gb))
        gd = _opmath(g._data)
        g_hat = gd if w is None else gd * w._data
        gx = gw = gb = None
        if n[0][0] is not None:
            mean = _array_mean(axes, math.prod(x._data.shape[nd - k:]))
            gx = _make(_normalized_grad(g_hat, self.xhat, self.rstd, mean), g.device)
        if n[1][0] is not None:
            gw = _make((gd * self.xhat).sum(axis=batch_axes), g.device)
        if n[2][0] is not None:
            gb = _make(gd.sum(axis=batch_axes), g.device)
        return self._in_input_dtypes((gx, gw, gb))


def layer_norm(x: Tensor, normalized_shape: tuple, weight: Tensor | None, bias: Tensor | None, eps: float) -> Tensor:
    """Normalise over the last len(normalized_shape) dims, then scale and shift elementwise."""
    k = len(normalized_shape)
    shape = x._data.shape
    if k == 0 or tuple(shape[len(shape) - k:]) != tuple(normalized_shape) or len(shape) < k:
        dims = ", ".join(str(s) for s in normalized_shape)
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape [*, {dims}], "
                           f"but got input of size{list(shape)}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p._data.shape) != tuple(normalized_shape):
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                               f"{list(p._data.shape)} and normalized_shape = {list(normalized_shape)}")
    xp = x.device.xp
    d = _opmath(x._data)
    axes = tuple(range(d.ndim - k, d.ndim))
    mean = _array_mean(axes, math.prod(normalized_shape))
    centred = d - mean(d)
    var = mean(centred * centred)
    var += eps
    rstd = 1.0 / xp.sqrt(var)
    xhat = centred
    xhat *= rstd
    out = _make(_affine(xhat, weight, bias, None).astype(x._data.dtype, copy=False), x.device)
    if _GradMode.enabled and (x._requires_grad or getattr(weight, "_requires_grad", False)
                              or getattr(bias, "_requires_grad", False)):
        record(out, NativeLayerNormBackward0(x, weight, bias, xhat, rstd, eps, k))
    return out


# ---- batch_norm ---------------------------------------------------------------------------------
class NativeBatchNormBackward0(_NormBackward):
    """training: batch statistics (depend on x); eval: running statistics (constants)."""

    def __init__(self, x, weight, bias, xhat, rstd, eps: float, training: bool, mean):
        super().__init__(x, weight, bias, xhat, rstd, eps)
        self.training, self.mean = training, mean

    def backward(self, g):
        saved = self.saved_tensors
        x, w = saved[0], (saved[1] if len(saved) > 1 else None)
        n = self.next_functions
        nd = x._data.ndim
        axes = (0,) + tuple(range(2, nd))
        shape = (1, -1) + (1,) * (nd - 2)
        if _GradMode.enabled:
            x, g = _opmath_tensor(x), _opmath_tensor(g)
            if self.training:
                xhat, rstd = _tensor_stats(x, axes, self.eps)
            else:
                rstd = _make(self.rstd, x.device)
                xhat = (x - _make(self.mean, x.device)) * rstd
            g_hat = g if w is None else g * w.reshape(shape)
            gx = None
            if n[0][0] is not None:
                gx = _normalized_grad(g_hat, xhat, rstd, _tensor_mean(axes)) if self.training else g_hat * rstd
            gw, gb = _affine_grads(g, xhat, axes, n[1][0] is not None, n[2][0] is not None)
            return self._in_input_dtypes((gx, gw, gb))
        gd = _opmath(g._data)
        g_hat = gd if w is None else gd * w._data.reshape(shape)
        gx = gw = gb = None
        if n[0][0] is not None:
            if self.training:
                gx = _normalized_grad(g_hat, self.xhat, self.rstd, _array_mean(axes, x._data.size // x._data.shape[1]))
            else:
                gx = g_hat * self.rstd
            gx = _make(gx, g.device)
        if n[1][0] is not None:
            gw = _make((gd * self.xhat).sum(axis=axes), g.device)
        if n[2][0] is not None:
            gb = _make(gd.sum(axis=axes), g.device)
        return self._in_input_dtypes((gx, gw, gb))

    def _release_extra(self) -> None:
        self.xhat = self.rstd = self.mean = None


def _update_running(buf: Tensor, value, momentum: float) -> None:
    """buf = (1 - momentum) * buf + momentum * value, in place (buffers are shared with the module)."""
    deferred.before_write(buf)
    d = buf._data
    d *= 1 - momentum
    d += (momentum * value.reshape(d.shape)).astype(d.dtype, copy=False)
    buf._vc[0] += 1


def batch_norm(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None,
               bias: Tensor | None, training: bool, momentum: float, eps: float) -> Tensor:
    """Normalise each channel (dim 1) over the batch and any spatial dims."""
    d = _opmath(x._data)
    xp = x.device.xp
    if d.ndim < 2:
        raise ValueError(f"Expected 2D or more input (got {d.ndim}D input)")
    channels = d.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and t._data.size != channels:
            raise RuntimeError(f"{name} should contain {channels} elements not {t._data.size}")
    axes = (0,) + tuple(range(2, d.ndim))
    shape = (1, channels) + (1,) * (d.ndim - 2)
    count = d.size // channels if channels else 0
    if training:
        if count == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.shape}")
        batch_mean = _array_mean(axes, count)
        mean = batch_mean(d)
        centred = d - mean
        var = batch_mean(centred * centred)
        if running_mean is not None:
            _update_running(running_mean, mean, momentum)
        if running_var is not None:
            # the running estimate is of the population variance: unbiased (n - 1)
            _update_running(running_var, var * (count / max(count - 1, 1)), momentum)
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
        mean = running_mean._data.reshape(shape).astype(d.dtype, copy=False)
        var = running_var._data.reshape(shape).astype(d.dtype, copy=False)
        centred = d - mean
    rstd = (1.0 / xp.sqrt(var + eps)).astype(d.dtype, copy=False)
    xhat = centred  # a fresh array: normalise it in place
    xhat *= rstd
    out = _make(_affine(xhat, weight, bias, shape).astype(x._data.dtype, copy=False), x.device)
    if _GradMode.enabled and (x._requires_grad or getattr(weight, "_requires_grad", False)
                              or getattr(bias, "_requires_grad", False)):
        record(out, NativeBatchNormBackward0(x, weight, bias, xhat, rstd, eps, training, mean))
    return out


# ---- group_norm ---------------------------------------------------------------------------------
def _channel_shape(ndim: int, channels: int) -> tuple:
    """The shape that broadcasts a per-channel vector against an (N, C, *spatial) tensor."""
    return (1, channels) + (1,) * (ndim - 2)


class NativeGroupNormBackward0(_NormBackward):
    """Statistics per (sample, group of channels); weight and bias per channel."""

    def __init__(self, x, weight, bias, xhat, rstd, eps: float, groups: int):
        super().__init__(x, weight, bias, xhat, rstd, eps)
        self.groups = groups

    def backward(self, g):
        saved = self.saved_tensors
        x, w = saved[0], (saved[1] if len(saved) > 1 else None)
        n = self.next_functions
        shape = x._data.shape
        grouped = (shape[0], self.groups, -1)
        chan = _channel_shape(len(shape), shape[1])
        affine_axes = (0,) + tuple(range(2, len(shape)))
        if _GradMode.enabled:
            x, g = _opmath_tensor(x), _opmath_tensor(g)
            xhat, rstd = _tensor_stats(x.reshape(grouped), (2,), self.eps)
            g_hat = (g if w is None else g * w.reshape(chan)).reshape(grouped)
            gx = None
            if n[0][0] is not None:
                gx = _normalized_grad(g_hat, xhat, rstd, _tensor_mean((2,))).reshape(shape)
            gw, gb = _affine_grads(g, xhat.reshape(shape), affine_axes, n[1][0] is not None, n[2][0] is not None)
            return self._in_input_dtypes((gx, gw, gb))
        gd = _opmath(g._data)
        xhat = self.xhat.reshape(shape)
        gx = gw = gb = None
        if n[0][0] is not None:
            g_hat = (gd if w is None else gd * w._data.reshape(chan)).reshape(grouped)
            xhat_g = self.xhat.reshape(grouped)
            gx = _normalized_grad(g_hat, xhat_g, self.rstd, _array_mean((2,), xhat_g.shape[2]))
            gx = _make(gx.reshape(shape), g.device)
        if n[1][0] is not None:
            gw = _make((gd * xhat).sum(axis=affine_axes), g.device)
        if n[2][0] is not None:
            gb = _make(gd.sum(axis=affine_axes), g.device)
        return self._in_input_dtypes((gx, gw, gb))


def _check_float(x: Tensor, kernel: str, *others) -> None:
    """PyTorch's errors for integer inputs and for parameters of another dtype than the input (float32
    parameters of a 16-bit input are PyTorch's mixed type, allowed)."""
    d = x._data
    if not x.dtype.is_floating_point:
        raise not_implemented(kernel, d.dtype)
    for t in others:
        if t is not None and t._data.dtype != d.dtype and not (d.dtype.itemsize == 2 and t._data.dtype == np.float32):
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")


def group_norm(x: Tensor, num_groups: int, weight: Tensor | None, bias: Tensor | None, eps: float) -> Tensor:
    """Normalise (N, C, *) over each group of C // num_groups channels (and all spatial positions) per
    sample, then scale and shift each channel."""
    d = x._data
    shape = d.shape
    channels = shape[1]
    if num_groups <= 0 or channels % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {list(shape)} and num_groups={num_groups}")
    # (PyTorch's bias message shows the weight's shape, [0] without one: kept, so messages match)
    weight_shape = list(weight._data.shape) if weight is not None else [0]
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and (p._data.ndim != 1 or p._data.shape[0] != channels):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of channels in input, "
                               f"but got {name} of shape {weight_shape} and input of shape {list(shape)}")
    _check_float(x, "GroupNormKernelImpl", weight, bias)
    work = _opmath(d)
    grouped = work.reshape(shape[0], num_groups, -1)
    mean = _array_mean((2,), grouped.shape[2])
    centred = grouped - mean(grouped)
    var = mean(centred * centred)
    var += eps
    rstd = 1.0 / x.device.xp.sqrt(var)
    xhat = centred
    xhat *= rstd
    out = _affine(xhat.reshape(shape), weight, bias, _channel_shape(len(shape), channels))
    out = _make(out.astype(d.dtype, copy=False), x.device)
    if _GradMode.enabled and (x._requires_grad or getattr(weight, "_requires_grad", False)
                              or getattr(bias, "_requires_grad", False)):
        record(out, NativeGroupNormBackward0(x, weight, bias, xhat, rstd, eps, num_groups))
    return out


# ---- instance_norm ------------------------------------------------------------------------------
def _repeat_per_sample(t: Tensor | None, n: int) -> Tensor | None:
    """A per-channel vector repeated for each of n samples: (C,) -> (n * C,)."""
    return None if t is None else t.unsqueeze(0).expand(n, t.shape[0]).reshape(n * t.shape[0])


def instance_norm(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None,
                  bias: Tensor | None, use_input_stats: bool, momentum: float, eps: float) -> Tensor:
    """Normalise each (sample, channel) plane over its spatial positions.

    As in PyTorch, this is batch_norm on the input viewed as one sample of N * C channels; running
    statistics (when given) are updated with the average over the batch of the per-instance ones.
    """
    d = x._data
    n, c = d.shape[0], d.shape[1]
    folded = x.reshape((1, n * c) + tuple(d.shape[2:]))
    with no_grad():
        run_mean = None if running_mean is None else running_mean.repeat(n)
        run_var = None if running_var is None else running_var.repeat(n)
    out = batch_norm(folded, run_mean, run_var, _repeat_per_sample(weight, n), _repeat_per_sample(bias, n),
                     use_input_stats, momentum, eps)
    with no_grad():
        if running_mean is not None:
            running_mean.copy_(run_mean.view(n, c).mean(0))
        if running_var is not None:
            running_var.copy_(run_var.view(n, c).mean(0))
    return out.view(tuple(d.shape))


# ---- local_response_norm ------------------------------------------------------------------------
def local_response_norm(x: Tensor, size: int, alpha: float, beta: float, k: float) -> Tensor:
    """x / (k + alpha * mean of x^2 over `size` neighbouring channels) ** beta.

    The window around channel c covers c - size // 2 .. c + (size - 1) // 2, zero-padded at the ends,
    and the mean always divides by `size` (PyTorch's avg_pool with padding counted).
    """
    dim = x.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input (got {dim} dimensions)")
    if x.numel() == 0:
        return x
    sq = x * x
    channels = x.shape[1]
    before, after = size // 2, (size - 1) // 2
    zeros = [sq.new_zeros((x.shape[0], p) + tuple(x.shape[2:])) for p in (before, after)]
    padded = cat([zeros[0], sq, zeros[1]], 1)
    window = padded.narrow(1, 0, channels)
    for j in range(1, size):  # a loop over the window's taps, not over positions
        window = window + padded.narrow(1, j, channels)
    div = (window / size).mul(alpha).add(k).pow(beta)
    return x / div


# ---- rms_norm -----------------------------------------------------------------------------------
def rms_norm(x: Tensor, normalized_shape: tuple, weight: Tensor | None, eps: float | None) -> Tensor:
    """x / sqrt(mean(x^2 over the trailing dims) + eps) * weight, composed of recorded ops as in PyTorch
    (whose grad_fn is the final MulBackward0); eps=None means the dtype's machine epsilon."""
    k = len(normalized_shape)
    shape = tuple(x.shape)
    if k > len(shape):
        raise ValueError(f"Input tensor must have at least {k} dimensions, but got {len(shape)}")
    if shape[len(shape) - k:] != tuple(normalized_shape):
        dims = ", ".join(str(s) for s in normalized_shape)
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape [*{dims}], "
                           f"but got input of size{list(shape)}")
    if weight is not None and tuple(weight.shape) != tuple(normalized_shape):
        raise RuntimeError(f"Expected weight to be of same shape as normalized_shape, but got weight of shape "
                           f"{list(weight.shape)} and normalized_shape = {list(normalized_shape)}")
    _check_float(x, "rms_norm")
    work = x.float() if x.dtype.itemsize == 2 else x  # half computes in float (PyTorch's opmath)
    if eps is None:
        eps = float(np.finfo(work._data.dtype).eps)
    dims = tuple(range(len(shape) - k, len(shape)))
    out = work * (work.pow(2).mean(dims, keepdim=True) + eps).rsqrt()
    out = out.to(x.dtype) if out.dtype != x.dtype else out
    return out * weight if weight is not None else out
