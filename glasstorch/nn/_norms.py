"""layer_norm and batch_norm as single ops with their own nodes.

Both compute xhat = (x - mean) / sqrt(var + eps) over some axes, then y = xhat * weight + bias.
The input gradient of a normalisation over axes A (with g_hat = g * weight) is

    dx = rstd * (g_hat - mean_A(g_hat) - xhat * mean_A(g_hat * xhat))

which `_normalized_grad` writes once for arrays (fast path) and Tensors (create_graph=True).
"""
from __future__ import annotations

import math

from .._ops._util import Node, Tensor, _GradMode, _make, record


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
            xhat, rstd = _tensor_stats(x, axes, self.eps)
            g_hat = g if w is None else g * w
            gx = _normalized_grad(g_hat, xhat, rstd, _tensor_mean(axes)) if n[0][0] is not None else None
            gw, gb = _affine_grads(g, xhat, batch_axes, n[1][0] is not None, n[2][0] is not None)
            return gx, gw, gb
        gd = g._data
        g_hat = gd if w is None else gd * w._data
        gx = gw = gb = None
        if n[0][0] is not None:
            mean = _array_mean(axes, math.prod(x._data.shape[nd - k:]))
            gx = _make(_normalized_grad(g_hat, self.xhat, self.rstd, mean), g.device)
        if n[1][0] is not None:
            gw = _make((gd * self.xhat).sum(axis=batch_axes), g.device)
        if n[2][0] is not None:
            gb = _make(gd.sum(axis=batch_axes), g.device)
        return gx, gw, gb


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
    d = x._data
    axes = tuple(range(d.ndim - k, d.ndim))
    mean = _array_mean(axes, math.prod(normalized_shape))
    centred = d - mean(d)
    var = mean(centred * centred)
    var += eps
    rstd = 1.0 / xp.sqrt(var)
    xhat = centred
    xhat *= rstd
    out = _make(_affine(xhat, weight, bias, None), x.device)
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
            return gx, gw, gb
        gd = g._data
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
        return gx, gw, gb

    def _release_extra(self) -> None:
        self.xhat = self.rstd = self.mean = None


def _update_running(buf: Tensor, value, momentum: float) -> None:
    """buf = (1 - momentum) * buf + momentum * value, in place (buffers are shared with the module)."""
    d = buf._data
    d *= 1 - momentum
    d += (momentum * value.reshape(d.shape)).astype(d.dtype, copy=False)
    buf._vc[0] += 1


def batch_norm(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None,
               bias: Tensor | None, training: bool, momentum: float, eps: float) -> Tensor:
    """Normalise each channel (dim 1) over the batch and any spatial dims."""
    d = x._data
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
    out = _make(_affine(xhat, weight, bias, shape), x.device)
    if _GradMode.enabled and (x._requires_grad or getattr(weight, "_requires_grad", False)
                              or getattr(bias, "_requires_grad", False)):
        record(out, NativeBatchNormBackward0(x, weight, bias, xhat, rstd, eps, training, mean))
    return out
