"""Activation functions with their own graph nodes (GELU, SiLU, ELU, softplus, ...).

Each smooth activation writes its derivative once, as a formula over a small math namespace `m`
(`m.exp`, `m.erf`, ...). Backward evaluates it on raw arrays (fast) or, when the gradient must
itself be differentiable (create_graph=True), on Tensors, so double backward works.
"""
from __future__ import annotations

import math
from types import SimpleNamespace

from .._ops import pointwise as P
from ..backends import special
from .._ops._util import Node, Tensor, _GradMode, _make, record, type_word

_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715

# the Tensor version of the math namespace: every op records its own node
TENSOR_MATH = SimpleNamespace(exp=P.exp, log1p=P.log1p, tanh=P.tanh, erf=P.erf, sigmoid=P.sigmoid, abs=P.abs,
                              where=P.where, maximum=P._maximum, minimum=P._minimum)
_ARRAY_MATH: dict = {}


def array_math(device) -> SimpleNamespace:
    """The raw-array version of the math namespace for a device (NumPy on cpu)."""
    m = _ARRAY_MATH.get(device.type)
    if m is None:
        xp = device.xp
        m = SimpleNamespace(exp=xp.exp, log1p=xp.log1p, tanh=xp.tanh, erf=device.backend.erf, abs=xp.abs,
                            where=xp.where, maximum=xp.maximum, minimum=xp.minimum,
                            sigmoid=lambda a: P._sigmoid_array(xp, a))
        _ARRAY_MATH[device.type] = m
    return m


def _check_float(x: Tensor, name: str) -> None:
    """PyTorch's error for an integer or bool input to a floating-point kernel."""
    if not x.dtype.is_floating_point:
        raise NotImplementedError(f'"{name}" not implemented for \'{type_word(x._data.dtype)}\'')


class _SmoothBackward(Node):
    """Backward of an elementwise y = f(x): g * f'(x), with f' given by `derivative(m, x, ...)`.

    `cache` is an array the forward already computed that the fast path can reuse (GELU's cdf,
    SiLU's sigmoid); the Tensor path recomputes it so that it is differentiable.
    """

    def __init__(self, x: Tensor, params: tuple, cache=None):
        super().__init__((x,), (x,))
        self.params = params
        self.cache = cache

    def backward(self, g):
        (x,) = self.saved_tensors
        if _GradMode.enabled:
            return (g * self.derivative(TENSOR_MATH, x, *self.params),)
        d = self.derivative(array_math(x.device), x._data, *self.params, cache=self.cache)
        return (_make(g._data * d, g.device),)

    def _release_extra(self) -> None:
        self.cache = None


def _smooth(x: Tensor, data, node_cls, params: tuple = (), cache=None) -> Tensor:
    out = _make(data, x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, node_cls(x, params, cache))
    return out


# ---- GELU ---------------------------------------------------------------------------------------
def normal_cdf(xp, x):
    """Phi(x) = erfc(-x / sqrt 2) / 2, the standard normal CDF, elementwise (in x's dtype)."""
    out = special.erfc(xp, x * -_SQRT1_2)
    out *= 0.5
    return out


def _gelu_cdf(m, x):
    """Phi(x) on Tensors (differentiable, through erf)."""
    return 0.5 * (1.0 + m.erf(x * _SQRT1_2))


def _gelu_tanh_inner(m, x):
    return m.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x))


class GeluBackward0(_SmoothBackward):
    @staticmethod
    def derivative(m, x, approximate, cache=None):
        if approximate == "tanh":
            t = _gelu_tanh_inner(m, x) if cache is None else cache
            dinner = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_CUBIC * x * x)
            return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * dinner
        cdf = _gelu_cdf(m, x) if cache is None else cache
        return cdf + x * m.exp(-0.5 * x * x) * _INV_SQRT_2PI


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x); approximate='tanh' uses 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    _check_float(x, "GeluKernelImpl")
    m = array_math(x.device)
    d = x._data
    if approximate == "tanh":
        t = _gelu_tanh_inner(m, d)
        return _smooth(x, 0.5 * d * (1.0 + t), GeluBackward0, (approximate,), t)
    cdf = normal_cdf(x.device.xp, d if d.dtype.itemsize >= 4 else d.astype("float32")).astype(d.dtype, copy=False)
    return _smooth(x, d * cdf, GeluBackward0, (approximate,), cdf)


# ---- SiLU ---------------------------------------------------------------------------------------
class SiluBackward0(_SmoothBackward):
    @staticmethod
    def derivative(m, x, cache=None):
        s = m.sigmoid(x) if cache is None else cache
        return s * (1.0 + x * (1.0 - s))


def silu(x: Tensor) -> Tensor:
    """x * sigmoid(x)."""
    _check_float(x, "silu_cpu")
    s = array_math(x.device).sigmoid(x._data)
    return _smooth(x, x._data * s, SiluBackward0, (), s)


# ---- ELU ----------------------------------------------------------------------------------------
class EluBackward0(_SmoothBackward):
    @staticmethod
    def derivative(m, x, alpha, cache=None):
        return m.where(x > 0, 1.0, alpha * m.exp(m.minimum(x, 0.0)))


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    _check_float(x, "elu_cpu")
    xp = x.device.xp
    d = x._data
    neg = alpha * xp.expm1(xp.minimum(d, 0.0))  # min() keeps exp from overflowing on the unused side
    return _smooth(x, xp.where(d > 0, d, neg), EluBackward0, (alpha,))


# ---- softplus and logsigmoid ----------------------------------------------------------------------
class SoftplusBackward0(_SmoothBackward):
    @staticmethod
    def derivative(m, x, beta, threshold, cache=None):
        bx = x * beta
        return m.where(bx > threshold, 1.0, m.sigmoid(bx))


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (for stability)."""
    _check_float(x, "softplus_cpu")
    xp = x.device.xp
    d = x._data
    bx = d * beta
    # log1p(exp(-|bx|)) + max(bx, 0) == log(1 + exp(bx)) without overflow
    soft = (xp.log1p(xp.exp(-xp.abs(bx))) + xp.maximum(bx, 0.0)) / beta
    return _smooth(x, xp.where(bx > threshold, d, soft), SoftplusBackward0, (beta, threshold))


class LogSigmoidBackward0(_SmoothBackward):
    @staticmethod
    def derivative(m, x, cache=None):
        return m.sigmoid(-x)


def logsigmoid(x: Tensor) -> Tensor:
    """log(sigmoid(x)) = min(x, 0) - log(1 + exp(-|x|)), stable for large |x|."""
    _check_float(x, "log_sigmoid_cpu")
    xp = x.device.xp
    d = x._data
    return _smooth(x, xp.minimum(d, 0.0) - xp.log1p(xp.exp(-xp.abs(d))), LogSigmoidBackward0)


# ---- piecewise-linear activations -----------------------------------------------------------------
class _SlopeBackward(Node):
    """Backward of a piecewise-linear f: g * f'(x), where f' is a constant on each piece.

    f' does not depend on x except through the piece, so `g * slopes` is differentiable as it is
    (its derivative with respect to x is zero almost everywhere). A boolean `slopes` is a mask:
    the gradient passes where it is true and is +0 elsewhere (never -0, as g * 0 would give).
    """

    def __init__(self, x: Tensor, slopes_fn):
        super().__init__((x,), (x,))
        self.slopes_fn = slopes_fn

    def backward(self, g):
        (x,) = self.saved_tensors
        slopes = self.slopes_fn(x._data)
        masked = slopes.dtype == bool
        if _GradMode.enabled:
            s = _make(slopes, x.device)
            return (P.where(s, g, 0.0) if masked else g * s,)
        gd = g._data
        return (_make(x.device.xp.where(slopes, gd, gd.dtype.type(0)) if masked else gd * slopes, g.device),)


class LeakyReluBackward0(_SlopeBackward):
    pass


class HardtanhBackward0(_SlopeBackward):
    pass


def _piecewise(x: Tensor, data, node_cls, slopes_fn) -> Tensor:
    out = _make(data, x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, node_cls(x, slopes_fn))
    return out


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, negative_slope * x otherwise."""
    _check_float(x, "leaky_relu_cpu")
    xp = x.device.xp
    d = x._data
    one, slope = d.dtype.type(1), d.dtype.type(negative_slope)
    return _piecewise(x, xp.where(d > 0, d, d * slope), LeakyReluBackward0,
                      lambda a: xp.where(a > 0, one, slope))


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """x clamped to [min_val, max_val]; the gradient is 0 at and beyond the bounds."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if x.dtype.name == "bool":
        raise RuntimeError("Bool inputs not supported for hardtanh")
    xp = x.device.xp
    d = x._data
    out = _piecewise(x, xp.clip(d, min_val, max_val).astype(d.dtype, copy=False), HardtanhBackward0,
                     lambda a: (a > min_val) & (a < max_val))
    if out.grad_fn is not None:
        out.grad_fn.bounds = (min_val, max_val)  # (torch.onnx.export reads them)
    return out
