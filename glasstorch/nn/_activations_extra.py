"""More activations with graph nodes of their own: SELU/CELU (ELU's node), PReLU, RReLU, Hardswish,
Hardsigmoid, Mish, Threshold, Softshrink, Hardshrink and GLU.

They reuse the two backward shapes of `_activations.py`: a smooth f' written once over the math
namespace `m` (arrays on the fast path, Tensors under create_graph), and piecewise-constant slopes.
"""
from __future__ import annotations

import numpy as np

from .._ops import pointwise as P, shape as S
from .._ops._util import Node, Tensor, _GradMode, _make, record, sum_to, type_word, wrap_dim
from .._random import rng_of
from ._activations import _check_float, _piecewise, _SlopeBackward, _smooth, _SmoothBackward, array_math

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


# ---- the ELU family: scale * (x if x > 0 else alpha * (exp(x * input_scale) - 1)) --------------------
class EluBackward0(_SmoothBackward):
    @staticmethod
    def derivative(m, x, alpha, scale, input_scale, cache=None):
        neg = (alpha * scale * input_scale) * m.exp(m.minimum(x, 0.0) * input_scale)
        return m.where(x > 0, scale, neg)


class CeluBackward0(EluBackward0):
    pass


def _elu(x: Tensor, alpha: float, scale: float, input_scale: float, node_cls, grad_input_scale=None) -> Tensor:
    xp = x.device.xp
    d = x._data
    neg = (alpha * scale) * xp.expm1(xp.minimum(d, 0.0) * input_scale)  # min(): no overflow on the unused side
    out = xp.where(d > 0, d * d.dtype.type(scale), neg).astype(d.dtype, copy=False)
    grad_scale = input_scale if grad_input_scale is None else grad_input_scale
    return _smooth(x, out, node_cls, (alpha, scale, grad_scale))


def selu(x: Tensor) -> Tensor:
    """scale * elu(x, alpha) with the self-normalising constants of Klambauer et al. (2017)."""
    _check_float(x, "elu_cpu")
    return _elu(x, _SELU_ALPHA, _SELU_SCALE, 1.0, EluBackward0)


def celu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    _check_float(x, "elu_cpu")
    # PyTorch's CeluBackward0 takes 1 / alpha with alpha rounded to float32 (its derivatives.yaml uses
    # alpha.toFloat()); the forward uses the double 1 / alpha. Both are kept so gradients agree to 1e-16.
    return _elu(x, alpha, 1.0, 1.0 / alpha, CeluBackward0, 1.0 / float(np.float32(alpha)))


# ---- PReLU: a learnt slope per channel ------------------------------------------------------------
class PreluKernelBackward0(Node):
    """d/dx = where(x > 0, 1, w); d/dw = g * min(x, 0) summed over all but the channel dim."""

    def __init__(self, x: Tensor, weight: Tensor, w_view: Tensor):
        super().__init__((x, weight), (x, weight))
        self.w_view_shape = w_view.shape

    def backward(self, g):
        x, weight = self.saved_tensors
        n = self.next_functions
        w = weight.reshape(self.w_view_shape)
        pos = x > 0
        gx = P.where(pos, g, g * w) if n[0][0] is not None else None
        gw = None
        if n[1][0] is not None:
            gw = sum_to(P.where(pos, 0.0, g * x), tuple(self.w_view_shape)).reshape(weight.shape)
        return gx, gw


def prelu(x: Tensor, weight: Tensor) -> Tensor:
    """x for x > 0, weight[c] * x otherwise; weight has 1 or C (= x.shape[1]) elements."""
    if weight.dim() > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.dim()}")
    channels = x.shape[1] if x.dim() >= 2 else 1
    n = weight.numel()
    if n != 1 and n != channels:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = {n} "
                           f"and channel size = {channels}.")
    view = (n,) + (1,) * (x.dim() - 2) if x.dim() >= 2 and n > 1 else (1,) * x.dim()
    w_view = weight.detach().reshape(view)
    d = x._data
    out = _make(x.device.xp.where(d > 0, d, d * w_view._data), x.device)
    if _GradMode.enabled and (x._requires_grad or weight._requires_grad):
        record(out, PreluKernelBackward0(x, weight, w_view))
    return out


# ---- RReLU: random negative slopes in training, their mean in evaluation ---------------------------
class RreluWithNoiseBackward0(_SlopeBackward):
    pass


def rrelu(x: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    """x for x >= 0; a * x otherwise, a ~ U(lower, upper) per element in training, (lower + upper) / 2 in eval."""
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    _check_float(x, "rrelu_with_noise_cpu" if training else "leaky_relu_cpu")  # eval is leaky_relu in PyTorch
    d = x._data
    xp = x.device.xp
    if training:
        noise = rng_of(None).uniform(lower, upper, d.shape).astype(d.dtype)
        if x.device.type != "cpu":
            noise = x.device.backend.from_numpy(noise)
        slopes = xp.where(d >= 0, d.dtype.type(1), noise)
        return _piecewise(x, d * slopes, RreluWithNoiseBackward0, lambda a: slopes)
    slope = d.dtype.type((lower + upper) / 2)
    one = d.dtype.type(1)
    return _piecewise(x, xp.where(d >= 0, d, d * slope), RreluWithNoiseBackward0,
                      lambda a: xp.where(a >= 0, one, slope))


# ---- hard (piecewise-linear) approximations ------------------------------------------------------
class HardswishBackward0(_SmoothBackward):
    @staticmethod
    def derivative(m, x, cache=None):
        return m.where(x < -3.0, 0.0, m.where(x <= 3.0, x / 3.0 + 0.5, 1.0))


def hardswish(x: Tensor) -> Tensor:
    """x * relu6(x + 3) / 6."""
    _check_float(x, "hardswish_cpu")
    xp = x.device.xp
    d = x._data
    out = d * xp.clip(d + 3.0, 0.0, 6.0).astype(d.dtype, copy=False) / d.dtype.type(6)
    return _smooth(x, out, HardswishBackward0)


class HardsigmoidBackward0(_SlopeBackward):
    pass


def hardsigmoid(x: Tensor) -> Tensor:
    """relu6(x + 3) / 6; slope 1/6 strictly inside (-3, 3)."""
    _check_float(x, "hardsigmoid_cpu")
    xp = x.device.xp
    d = x._data
    sixth = d.dtype.type(np.float32(1.0 / 6.0))  # PyTorch's backward kernel uses the float 1.0f / 6.0f
    out = xp.clip(d + 3.0, 0.0, 6.0).astype(d.dtype, copy=False) / d.dtype.type(6)
    return _piecewise(x, out, HardsigmoidBackward0,
                      lambda a: xp.where((a > -3.0) & (a < 3.0), sixth, d.dtype.type(0)))


# ---- Mish ---------------------------------------------------------------------------------------
class MishBackward0(_SmoothBackward):
    @staticmethod
    def derivative(m, x, cache=None):
        t = m.tanh(m.log1p(m.exp(-m.abs(x))) + m.maximum(x, 0.0))  # tanh(softplus(x))
        return t + x * m.sigmoid(x) * (1.0 - t * t)


def mish(x: Tensor) -> Tensor:
    """x * tanh(softplus(x))."""
    _check_float(x, "mish_cpu")
    xp = x.device.xp
    d = x._data
    sp = xp.log1p(xp.exp(-xp.abs(d))) + xp.maximum(d, 0.0)
    return _smooth(x, d * xp.tanh(sp), MishBackward0)


# ---- thresholds and shrinkage --------------------------------------------------------------------
class ThresholdBackward0(_SlopeBackward):
    pass


def threshold(x: Tensor, threshold: float, value: float) -> Tensor:
    """x where x > threshold, else value (any dtype; the gradient passes only where x > threshold)."""
    if x.dtype.name == "bool":
        raise NotImplementedError('"threshold_cpu" not implemented for \'Bool\'')
    d = x._data
    out = x.device.xp.where(d <= threshold, d.dtype.type(value), d)  # NaN stays NaN, as in PyTorch
    return _piecewise(x, out, ThresholdBackward0, lambda a: ~(a <= threshold))


def _check_lambd(x: Tensor, lambd: float) -> None:
    if lambd < 0:
        top = float(np.finfo(x._data.dtype).max)
        raise RuntimeError(f"lambda must be in range [0, {top:g}] for input dtype {type_word(x._data.dtype)}, "
                           f"but found {lambd:g}")


class SoftshrinkBackward0(_SlopeBackward):
    pass


def softshrink(x: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd for x > lambd, x + lambd for x < -lambd, 0 in between."""
    _check_float(x, "softshrink_check")
    _check_lambd(x, lambd)
    xp = x.device.xp
    d = x._data
    lam = d.dtype.type(lambd)
    out = xp.where(d > lam, d - lam, xp.where(d < -lam, d + lam, d * 0))  # d * 0: PyTorch's signed zeros
    return _piecewise(x, out, SoftshrinkBackward0, lambda a: (a > lambd) | (a < -lambd))


class HardshrinkBackward0(_SlopeBackward):
    pass


def hardshrink(x: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd, 0 elsewhere."""
    _check_float(x, "hardshrink_cpu")
    xp = x.device.xp
    d = x._data
    inside = (d >= -lambd) & (d <= lambd)  # NaN is not inside: it passes through, as in PyTorch
    return _piecewise(x, xp.where(inside, d.dtype.type(0), d), HardshrinkBackward0,
                      lambda a: (a > lambd) | (a < -lambd))


# ---- GLU: a gated linear unit over two halves of a dim -----------------------------------------------
class GluBackward0(Node):
    """For out = a * sigmoid(b): d/da = g s, d/db = g a s (1 - s); the two halves concatenated back."""

    def __init__(self, x: Tensor, dim: int):
        super().__init__((x,), (x,))
        self.dim = dim

    def backward(self, g):
        (x,) = self.saved_tensors
        a, b = S.chunk(x, 2, self.dim)
        s = P.sigmoid(b)
        ga = g * s
        return (S.cat([ga, ga * a * (1.0 - s)], self.dim),)


def glu(x: Tensor, dim: int = -1) -> Tensor:
    """First half of `dim` times the sigmoid of the second half; `dim` must have even size."""
    if x.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    dim = wrap_dim(dim, x.dim())
    size = x.shape[dim]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim} is size {size}")
    _check_float(x, "glu_cpu")
    d = x._data
    a, b = x.device.xp.split(d, 2, axis=dim)
    out = _make(a * array_math(x.device).sigmoid(b), x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, GluBackward0(x, dim))
    return out
