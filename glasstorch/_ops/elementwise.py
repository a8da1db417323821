"""More elementwise math: inverse and hyperbolic trigonometry, hypot/atan2/copysign, logaddexp,
xlogy, logit, sinc, nan_to_num, the error-function and Bessel family (kernels in
backends/special_extra.py), isin, heaviside and the bit shifts.

Same conventions as pointwise.py: a forward on the backend arrays and a Node named as PyTorch's
grad_fn whose formula is written with Tensor ops (so gradients are differentiable again).
"""
from __future__ import annotations

import math

from .. import _dtype
from ..amp.autocast_mode import autocast_op
from ._util import Node, Tensor, _GradMode, _make, broadcast_error, not_implemented, prepare, record
from . import pointwise as P
from .pointwise import _BinaryBackward, _UnaryBackward, _float_array, _unary


def _special(x: Tensor, name: str, float_array=None):
    """backends.special_extra.<name> on x's float array, in x's float dtype, 0-dim kept 0-dim."""
    from ..backends import special_extra

    d = _float_array(x) if float_array is None else float_array
    xp = x.device.xp
    out = getattr(special_extra, name)(xp, d.reshape(1) if d.ndim == 0 else d)
    return xp.asarray(out).astype(d.dtype, copy=False).reshape(d.shape)


# ---- inverse trigonometric and hyperbolic functions ------------------------------------------------
class AsinBackward0(_UnaryBackward):
    def formula(self, g, x):
        return g * P.rsqrt(1 - x * x)


class AcosBackward0(_UnaryBackward):
    def formula(self, g, x):
        return -g * P.rsqrt(1 - x * x)


class AtanBackward0(_UnaryBackward):
    arithmetic = True

    def formula(self, g, x):
        return g / (x * x + 1)


class SinhBackward0(_UnaryBackward):
    def formula(self, g, x):
        return g * cosh(x)


class CoshBackward0(_UnaryBackward):
    def formula(self, g, x):
        return g * sinh(x)


class AsinhBackward0(_UnaryBackward):
    def formula(self, g, x):
        return g * P.rsqrt(x * x + 1)


class AcoshBackward0(_UnaryBackward):
    def formula(self, g, x):
        return g * P.rsqrt(x * x - 1)


class AtanhBackward0(_UnaryBackward):
    arithmetic = True

    def formula(self, g, x):
        return g / (1 - x * x)


@autocast_op("asin")
def asin(x: Tensor) -> Tensor:
    return _unary(x, x.device.xp.arcsin(_float_array(x)), AsinBackward0)


@autocast_op("acos")
def acos(x: Tensor) -> Tensor:
    return _unary(x, x.device.xp.arccos(_float_array(x)), AcosBackward0)


def atan(x: Tensor) -> Tensor:
    return _unary(x, x.device.xp.arctan(_float_array(x)), AtanBackward0)


@autocast_op("sinh")
def sinh(x: Tensor) -> Tensor:
    return _unary(x, x.device.xp.sinh(_float_array(x)), SinhBackward0)


@autocast_op("cosh")
def cosh(x: Tensor) -> Tensor:
    return _unary(x, x.device.xp.cosh(_float_array(x)), CoshBackward0)


def asinh(x: Tensor) -> Tensor:
    return _unary(x, x.device.xp.arcsinh(_float_array(x)), AsinhBackward0)


def acosh(x: Tensor) -> Tensor:
    return _unary(x, x.device.xp.arccosh(_float_array(x)), AcoshBackward0)


def atanh(x: Tensor) -> Tensor:
    return _unary(x, x.device.xp.arctanh(_float_array(x)), AtanhBackward0)


# ---- angles, fractions, sinc ------------------------------------------------------------------------
class Deg2RadBackward0(_UnaryBackward):
    saves = None
    arithmetic = True

    def formula(self, g, _):
        return g * (math.pi / 180.0)


class Rad2DegBackward0(_UnaryBackward):
    saves = None
    arithmetic = True

    def formula(self, g, _):
        return g * (180.0 / math.pi)


def deg2rad(x: Tensor) -> Tensor:
    return _unary(x, _float_array(x) * (math.pi / 180.0), Deg2RadBackward0)


def rad2deg(x: Tensor) -> Tensor:
    return _unary(x, _float_array(x) * (180.0 / math.pi), Rad2DegBackward0)


class FracBackward0(_UnaryBackward):
    saves = None
    arithmetic = True

    def formula(self, g, _):
        return g


def frac(x: Tensor) -> Tensor:
    """x - trunc(x), keeping x's sign."""
    d = x._data
    if d.dtype.kind != "f":
        raise not_implemented("frac_cpu", d.dtype)
    return _unary(x, d - x.device.xp.trunc(d), FracBackward0)


class SincBackward0(_UnaryBackward):
    def formula(self, g, x):
        # d/dx sin(pi x) / (pi x) = (cos(pi x) pi x - sin(pi x)) / (pi x^2); 0 at x = 0
        px = x * math.pi
        safe = P.where(x == 0, 1.0, x)
        slope = (P.cos(px) * px - P.sin(px)) / (safe * safe * math.pi)
        return g * P.where(x == 0, 0.0, slope)


def sinc(x: Tensor) -> Tensor:
    """sin(pi x) / (pi x), 1 at 0."""
    xp = x.device.xp
    d = _float_array(x)
    px = d * math.pi
    with _quiet(xp):
        data = xp.where(d == 0, xp.ones((), d.dtype), xp.sin(px) / px)
    return _unary(x, data.astype(d.dtype, copy=False), SincBackward0)


def _quiet(xp):
    """NumPy's division and invalid-value warnings off: PyTorch computes inf and NaN silently."""
    import contextlib

    return xp.errstate(divide="ignore", invalid="ignore") if hasattr(xp, "errstate") else contextlib.nullcontext()


# ---- logit and the error-function family -------------------------------------------------------------
class LogitBackward0(_UnaryBackward):
    eps = None

    def formula(self, g, x):
        grad = g / (x * (1 - x))
        if self.eps is None:  # outside [0, 1] the logit is NaN, and so is its gradient
            return P.where((x < 0) | (x > 1), math.nan, grad)
        return P.where((x < self.eps) | (x > 1 - self.eps), 0.0, grad)  # clamped: flat there


def logit(x: Tensor, eps: float | None = None) -> Tensor:
    """log(x / (1 - x)), x clamped to [eps, 1 - eps] first when eps is given."""
    xp = x.device.xp
    d = _float_array(x)
    z = d if eps is None else xp.clip(d, eps, 1 - eps)
    out = _unary(x, xp.log(z / (1 - z)).astype(d.dtype, copy=False), LogitBackward0)
    if out.grad_fn is not None:
        out.grad_fn.eps = eps
    return out


class ErfcBackward0(_UnaryBackward):
    def formula(self, g, x):
        return g * (-2.0 / math.sqrt(math.pi)) * P.exp(-(x * x))


def erfc(x: Tensor) -> Tensor:
    from ..backends import special

    d = _float_array(x)
    data = x.device.xp.asarray(special.erfc(x.device.xp, d.reshape(1) if d.ndim == 0 else d)).reshape(d.shape)
    return _unary(x, data.astype(d.dtype, copy=False), ErfcBackward0)


class ErfinvBackward0(_UnaryBackward):
    saves = "output"

    def formula(self, g, result):
        return g * (math.sqrt(math.pi) / 2.0) * P.exp(result * result)


@autocast_op("erfinv")
def erfinv(x: Tensor) -> Tensor:
    return _unary(x, _special(x, "erfinv"), ErfinvBackward0)


class I0Backward0(_UnaryBackward):
    def formula(self, g, x):
        return g * special_i1(x)


class SpecialI1Backward0(_UnaryBackward):
    saves = "input"

    def formula(self, g, x):
        # I1'(x) = I0(x) - I1(x) / x, which tends to 1/2 at 0
        safe = P.where(x == 0, 1.0, x)
        return g * P.where(x == 0, 0.5, i0(x) - special_i1(x) / safe)


class SpecialI0EBackward0(_UnaryBackward):
    def formula(self, g, x):
        # d/dx e^-|x| I0(x) = I1e(x) - sign(x) I0e(x)
        return g * (special_i1e(x) - P.sign(x) * special_i0e(x))


class SpecialI1EBackward0(_UnaryBackward):
    def formula(self, g, x):
        # d/dx e^-|x| I1(x) = I0e(x) - I1e(x) (sign(x) + 1/x), 1/2 at 0
        safe = P.where(x == 0, 1.0, x)
        return g * P.where(x == 0, 0.5, special_i0e(x) - special_i1e(x) * (P.sign(x) + 1 / safe))


def i0(x: Tensor) -> Tensor:
    """The modified Bessel function of the first kind, order 0."""
    return _unary(x, _special(x, "i0"), I0Backward0)


def special_i0e(x: Tensor) -> Tensor:
    return _unary(x, _special(x, "i0e"), SpecialI0EBackward0)


def special_i1(x: Tensor) -> Tensor:
    return _unary(x, _special(x, "i1"), SpecialI1Backward0)


def special_i1e(x: Tensor) -> Tensor:
    return _unary(x, _special(x, "i1e"), SpecialI1EBackward0)


def ndtr(x: Tensor) -> Tensor:
    """The standard normal distribution function, (1 + erf(x / sqrt 2)) / 2 as PyTorch computes it
    (a composite there too, so its gradient comes from erf's)."""
    if x._data.dtype.kind != "f":
        x = x.to(_dtype.get_default_dtype())
    return (P.erf(x * math.sqrt(0.5)) + 1) * 0.5


class SpecialLogNdtrBackward0(_UnaryBackward):
    def formula(self, g, x):
        # phi(x) / Phi(x) = exp(-x^2 / 2 - log_ndtr(x)) / sqrt(2 pi), fine far in the lower tail; in
        # float64, since the exponent is a difference of two large numbers there
        wide = x.to(_dtype.float64)
        ratio = P.exp(-(wide * wide) * 0.5 - log_ndtr(wide)) / math.sqrt(2 * math.pi)
        return g * ratio.to(x.dtype)


def log_ndtr(x: Tensor) -> Tensor:
    if x._data.dtype.kind == "f" and x._data.dtype.itemsize < 4:
        raise not_implemented("log_ndtr_cpu", x._data.dtype)
    return _unary(x, _special(x, "log_ndtr"), SpecialLogNdtrBackward0)


class SpecialEntrBackward0(_UnaryBackward):
    def formula(self, g, x):
        return g * -(P.log(x) + 1)


def entr(x: Tensor) -> Tensor:
    """-x log x elementwise: 0 at 0, -inf below 0."""
    xp = x.device.xp
    d = _float_array(x)
    with _quiet(xp):
        data = xp.where(d > 0, -d * xp.log(xp.where(d > 0, d, 1)), xp.where(d == 0, 0, -xp.inf))
    data = xp.where(xp.isnan(d), d, data).astype(d.dtype, copy=False)
    return _unary(x, data, SpecialEntrBackward0)


class NanToNumBackward0(_UnaryBackward):
    def formula(self, g, x):
        return P.where(P.isfinite(x), g, 0.0)


def nan_to_num(x: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    """NaN -> nan, +inf -> posinf, -inf -> neginf (the dtype's largest finite values by default)."""
    xp = x.device.xp
    d = x._data
    if d.dtype.kind != "f":
        return _unary(x, d.copy(), None)
    info = xp.finfo(d.dtype)
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    data = xp.where(xp.isnan(d), nan, xp.where(d == xp.inf, posinf, xp.where(d == -xp.inf, neginf, d)))
    return _unary(x, data.astype(d.dtype), NanToNumBackward0)


# ---- binary functions -------------------------------------------------------------------------------
def _float_operands(a: Tensor, b, kernel: str | None = None):
    """(a_array, b_array_or_number) promoted as PyTorch does, then to the default float dtype when
    integral (kernel: the name of the error for ops that have no integer version)."""
    ad, bd, _ = prepare(a, b)
    if ad.dtype.kind != "f":
        if kernel is not None:
            raise not_implemented(kernel, ad.dtype)
        ad = ad.astype(_dtype.get_default_dtype().np)
        if hasattr(bd, "astype"):
            bd = bd.astype(ad.dtype)
    return ad, bd


def _binary_float(a, b, fn, node_cls, kernel=None) -> Tensor:
    if not isinstance(a, Tensor):
        a = P._as_tensor(a, b)
    ad, bd = _float_operands(a, b, kernel)
    try:
        data = fn(a.device.xp, ad, bd)
    except ValueError:
        raise broadcast_error(a._data.shape, getattr(b, "shape", ())) from None
    out = _make(a.device.xp.asarray(data).astype(ad.dtype, copy=False), a.device)
    if node_cls is not None and _GradMode.enabled and (a._requires_grad or getattr(b, "_requires_grad", False)):
        record(out, node_cls(a, b))
    return out


class HypotBackward0(_BinaryBackward):
    def formula(self, g, a, b, need_a, need_b):
        r = hypot(a, b)
        return (g * a / r if need_a else None), (g * b / r if need_b else None)


def hypot(a: Tensor, b: Tensor) -> Tensor:
    return _binary_float(a, b, lambda xp, x, y: xp.hypot(x, y), HypotBackward0, "hypot_cpu")


class Atan2Backward0(_BinaryBackward):
    def formula(self, g, a, b, need_a, need_b):
        r2 = a * a + b * b
        return (g * b / r2 if need_a else None), (g * -a / r2 if need_b else None)


@autocast_op("atan2")
def atan2(a: Tensor, b: Tensor) -> Tensor:
    return _binary_float(a, b, lambda xp, x, y: xp.arctan2(x, y), Atan2Backward0)


class CopysignBackward0(_BinaryBackward):
    """copysign(a, b) for a tensor b: the gradient of a is g * result / a (0 where a is 0); b gets 0."""

    def formula(self, g, a, b, need_a, need_b):
        ga = gb = None
        if need_a:
            ga = g * P.where(a == 0, 0.0, copysign(a, b) / P.where(a == 0, 1.0, a))
        if need_b:
            gb = g * 0
        return ga, gb


class CopysignBackward1(CopysignBackward0):
    """copysign(a, number)."""


def copysign(a: Tensor, b) -> Tensor:
    node = CopysignBackward0 if isinstance(b, Tensor) else CopysignBackward1
    return _binary_float(a, b, lambda xp, x, y: xp.copysign(x, y), node)


class LogaddexpBackward0(_BinaryBackward):
    def formula(self, g, a, b, need_a, need_b):
        return (g / (P.exp(b - a) + 1) if need_a else None), (g / (P.exp(a - b) + 1) if need_b else None)


class Logaddexp2Backward0(_BinaryBackward):
    def formula(self, g, a, b, need_a, need_b):
        return (g / (P.pow(2.0, b - a) + 1) if need_a else None), (g / (P.pow(2.0, a - b) + 1) if need_b else None)


def logaddexp(a: Tensor, b: Tensor) -> Tensor:
    """log(exp(a) + exp(b)) without overflow."""
    return _binary_float(a, b, lambda xp, x, y: xp.logaddexp(x, y), LogaddexpBackward0, "logaddexp_cpu")


def logaddexp2(a: Tensor, b: Tensor) -> Tensor:
    return _binary_float(a, b, lambda xp, x, y: xp.logaddexp2(x, y), Logaddexp2Backward0, "logaddexp2_cpu")


def _xlogy_array(xp, x, y):
    with _quiet(xp):
        out = x * xp.log(y)
    return xp.where((x == 0) & ~xp.isnan(y), 0, out)  # 0 * log(0) is 0 here, not NaN


def _xlog1py_array(xp, x, y):
    with _quiet(xp):
        out = x * xp.log1p(y)
    return xp.where((x == 0) & ~xp.isnan(y), 0, out)


class XlogyBackward0(_BinaryBackward):
    """xlogy(a, b) for tensors a and b."""

    def formula(self, g, a, b, need_a, need_b):
        ga = gb = None
        if need_a:  # xlogy(g, b), and 0 where a == 0 and b <= 0 (PyTorch's convention)
            ga = P.where((a == 0) & (b <= 0), 0.0, xlogy(g, b))
        if need_b:
            gb = g * a / b
        return ga, gb


class XlogyBackward2(XlogyBackward0):
    """xlogy(tensor, number)."""


class XlogyBackward1(Node):
    """xlogy(number, tensor)."""

    def __init__(self, a, b):
        super().__init__((b,), (b,))
        self.a = a

    def backward(self, g):
        (b,) = self.saved_tensors
        return (g * self.a / b,)


def xlogy(a, b) -> Tensor:
    """a * log(b), 0 where a is 0 (unless b is NaN)."""
    if not isinstance(a, Tensor):  # a Python number times log of a tensor
        out = _binary_float(P._as_tensor(a, b), b, _xlogy_array, None)
        if _GradMode.enabled and b._requires_grad:
            record(out, XlogyBackward1(a, b))
        return out
    return _binary_float(a, b, _xlogy_array, XlogyBackward0 if isinstance(b, Tensor) else XlogyBackward2)


class SpecialXlog1PyBackward0(_BinaryBackward):
    def formula(self, g, a, b, need_a, need_b):
        ga = gb = None
        if need_a:
            ga = P.where((a == 0) & (b <= -1), 0.0, xlog1py(g, b))
        if need_b:
            gb = g * a / (b + 1)
        return ga, gb


def xlog1py(a, b) -> Tensor:
    """a * log1p(b), 0 where a is 0 (unless b is NaN)."""
    if not isinstance(a, Tensor):
        a = P._as_tensor(a, b)
    return _binary_float(a, b, _xlog1py_array, SpecialXlog1PyBackward0)


def heaviside(x: Tensor, values: Tensor) -> Tensor:
    """0 where x < 0, `values` where x == 0, 1 where x > 0; no derivative (as in PyTorch)."""
    if not isinstance(values, Tensor):
        raise TypeError(f"heaviside(): argument 'values' (position 2) must be Tensor, not {type(values).__name__}")
    if x._data.dtype != values._data.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    xp = x.device.xp
    xd, vd, _ = prepare(x, values)
    try:
        data = xp.where(xd == 0, vd, (xd > 0).astype(xd.dtype)).astype(xd.dtype, copy=False)
    except ValueError:
        raise broadcast_error(x._data.shape, values._data.shape) from None
    out = _make(data, x.device)
    if _GradMode.enabled and (x._requires_grad or values._requires_grad):
        record(out, _HeavisideNotImplemented(x, values))
    return out


class _HeavisideNotImplemented(P.NotImplemented):
    op = "heaviside"


# ---- membership and signs ----------------------------------------------------------------------------
def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """Whether each element of `elements` occurs in `test_elements` (either may be a number)."""
    from .creation import tensor as _tensor

    like = elements if isinstance(elements, Tensor) else test_elements
    if not isinstance(elements, Tensor):
        elements = _tensor(elements, device=like.device)
    if not isinstance(test_elements, Tensor):
        test_elements = _tensor(test_elements, device=like.device)
    for t in (elements, test_elements):
        if t._data.dtype.kind == "b":
            raise RuntimeError("Unsupported input type encountered for isin(): Bool")
    xp = like.device.xp
    e, t = elements._data, test_elements._data.reshape(-1)
    # sorted test values + one binary search per element: O((n + m) log m), no n x m table
    ts = xp.sort(t)
    pos = xp.clip(xp.searchsorted(ts, e.reshape(-1)), 0, max(ts.size - 1, 0))
    found = (ts[pos] == e.reshape(-1)) if ts.size else xp.zeros(e.size, dtype=bool)
    found = found.reshape(e.shape)
    return _make(~found if invert else found, like.device)


def signbit(x: Tensor) -> Tensor:
    d = x._data
    if d.dtype.kind == "b":
        return _make(x.device.xp.zeros(d.shape, dtype=bool), x.device)
    return _make(x.device.xp.signbit(d), x.device)


def positive(x: Tensor) -> Tensor:
    if x._data.dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return x


# ---- bit shifts ---------------------------------------------------------------------------------------
def _shift(a, b, left: bool) -> Tensor:
    kernel = "lshift_cpu" if left else "rshift_cpu"
    if not isinstance(a, Tensor):
        a = P._as_tensor(a, b)
    ad, bd, _ = prepare(a, b)
    if ad.dtype.kind not in "iu":
        raise not_implemented(kernel, ad.dtype)
    xp = a.device.xp
    bits = ad.dtype.itemsize * 8
    shift = xp.asarray(bd).astype(ad.dtype)
    # PyTorch: a shift by the width or more (or a negative one) gives 0 (-1 for a negative number
    # shifted right); C would leave it undefined, and NumPy wraps the count around
    too_far = (shift < 0) | (shift >= bits)
    safe = xp.where(too_far, 0, shift)
    try:
        data = (ad << safe) if left else (ad >> safe)
    except ValueError:
        raise broadcast_error(a._data.shape, getattr(b, "shape", ())) from None
    far = xp.zeros((), ad.dtype) if left else xp.where(ad < 0, -1, 0).astype(ad.dtype)
    return _make(xp.where(too_far, far, data).astype(ad.dtype, copy=False), a.device)


def bitwise_left_shift(a, b) -> Tensor:
    return _shift(a, b, True)


def bitwise_right_shift(a, b) -> Tensor:
    return _shift(a, b, False)


# ---- powers of two, NaN-ignoring extremes, integer divisors -------------------------------------------
class Exp2Backward0(_UnaryBackward):
    saves = "output"
    arithmetic = True

    def formula(self, g, result):
        return g * result * math.log(2.0)


def exp2(x: Tensor) -> Tensor:
    """2 ** x elementwise."""
    return _unary(x, x.device.xp.exp2(_float_array(x)), Exp2Backward0)


class LdexpBackward0(_BinaryBackward):
    def formula(self, g, a, b, need_a, need_b):
        # PyTorch's formula takes 2 ** other in other's dtype: for an integer exponent an integer
        # power, which is 0 for negative exponents; so is the gradient there, as in PyTorch
        integral = isinstance(b, Tensor) and not b.dtype.is_floating_point
        scale = P.pow(2, b) if integral else exp2(b)
        return (g * scale if need_a else None), (g * a * scale * math.log(2.0) if need_b else None)


def ldexp(x: Tensor, other: Tensor) -> Tensor:
    """x * 2 ** other, in a floating dtype."""
    return _binary_float(x, other, lambda xp, a, b: a * xp.exp2(b), LdexpBackward0)


class FmaxBackward0(_BinaryBackward):
    largest = True

    def formula(self, g, a, b, need_a, need_b):
        # the gradient goes to the value taken: a wins ties, and wherever b is NaN
        a_wins = ((a >= b) if self.largest else (a <= b)) | P.isnan(b)
        return (P.where(a_wins, g, 0.0) if need_a else None), (P.where(a_wins, 0.0, g) if need_b else None)


class FminBackward0(FmaxBackward0):
    largest = False


def _nan_ignoring(a: Tensor, b: Tensor, largest: bool) -> Tensor:
    from .pointwise import _binary, _tensor_other

    _tensor_other("fmax" if largest else "fmin", b)
    xp = a.device.xp
    return _binary(a, b, xp.fmax if largest else xp.fmin, FmaxBackward0 if largest else FminBackward0)


def fmax(a: Tensor, b: Tensor) -> Tensor:
    """The elementwise maximum, ignoring NaN (NaN only where both are)."""
    return _nan_ignoring(a, b, True)


def fmin(a: Tensor, b: Tensor) -> Tensor:
    return _nan_ignoring(a, b, False)


def float_power(a, b) -> Tensor:
    """a ** b computed in float64 (either may be a Python number, not both)."""
    if not isinstance(a, Tensor):
        return P.pow(a, b.to(_dtype.float64))
    b = b.to(_dtype.float64) if isinstance(b, Tensor) else b
    return P.pow(a.to(_dtype.float64), b)


class SgnBackward0(P.SignBackward0):
    pass


def sgn(x: Tensor) -> Tensor:
    """sign(x) (for real tensors the two agree; PyTorch names the node after sgn)."""
    return _unary(x, P.sign(x.detach())._data, SgnBackward0)


def _int_only(name: str, a: Tensor, b: Tensor, fn) -> Tensor:
    ad, bd, _ = prepare(a, b)
    if ad.dtype.kind not in "iu":
        raise not_implemented(f"{name}_cpu", ad.dtype)
    xp = a.device.xp
    try:
        ad, bd = xp.broadcast_arrays(ad, xp.asarray(bd, dtype=ad.dtype))
    except ValueError:
        raise broadcast_error(a._data.shape, b._data.shape) from None
    data = fn(xp, _magnitude(xp, ad), _magnitude(xp, bd))
    return _make(data.astype(ad.dtype), a.device)  # (2^63 wraps to the smallest int64, as in C)


def _magnitude(xp, d):
    """|d| as an unsigned array: exact for the most negative value too, where abs() overflows (and
    NumPy's gcd would divide that by -1, a hardware fault)."""
    if d.dtype.kind == "u":
        return d
    u = d.view("u%d" % d.dtype.itemsize)
    return xp.where(d < 0, ~u + xp.ones((), u.dtype), u)


def _gcd(xp, a, b):
    return xp.gcd(a, b)


def _lcm(xp, a, b):
    g = xp.gcd(a, b)
    one = xp.ones((), g.dtype)
    return xp.where(g == 0, 0, (a // xp.maximum(g, one)) * b).astype(a.dtype)


def gcd(a: Tensor, b: Tensor) -> Tensor:
    """The greatest common divisor of integers (non-negative)."""
    return _int_only("gcd", a, b, _gcd)


def lcm(a: Tensor, b: Tensor) -> Tensor:
    """The least common multiple of integers (non-negative; 0 where either is 0)."""
    return _int_only("lcm", a, b, _lcm)


# ---- infinities, realness, mantissa/exponent, next float, multivariate log-gamma --------------------------
def _infinite(x: Tensor, sign: int) -> Tensor:
    xp = x.device.xp
    d = x._data
    if d.dtype.kind == "c":
        raise RuntimeError(f"{'isposinf' if sign > 0 else 'isneginf'} does not support complex inputs.")
    if d.dtype.kind not in "fV":  # integers and bools are never infinite
        return _make(xp.zeros(d.shape, dtype=bool), x.device)
    return _make(d == (xp.inf if sign > 0 else -xp.inf), x.device)


def isposinf(x: Tensor) -> Tensor:
    """x == +inf, elementwise (False for integer tensors)."""
    return _infinite(x, 1)


def isneginf(x: Tensor) -> Tensor:
    """x == -inf, elementwise (False for integer tensors)."""
    return _infinite(x, -1)


def isreal(x: Tensor) -> Tensor:
    """Whether each element has a zero imaginary part (True throughout for real dtypes)."""
    xp = x.device.xp
    d = x._data
    return _make(d.imag == 0 if d.dtype.kind == "c" else xp.ones(d.shape, dtype=bool), x.device)


class frexp_rt(tuple):
    """torch.return_types.frexp: (mantissa, exponent)."""

    __slots__ = ()

    def __new__(cls, mantissa, exponent):
        return tuple.__new__(cls, (mantissa, exponent))

    @property
    def mantissa(self):
        return self[0]

    @property
    def exponent(self):
        return self[1]

    def __repr__(self) -> str:
        return f"torch.return_types.frexp(\nmantissa={self[0]!r},\nexponent={self[1]!r})"


frexp_rt.__name__ = frexp_rt.__qualname__ = "frexp"


class FrexpBackward0(Node):
    """x = mantissa * 2 ** exponent with the exponent piecewise constant: d mantissa = g / 2 ** exponent."""

    def __init__(self, x, exponent):
        super().__init__((x,), ())
        self.exponent = exponent

    def backward(self, g):
        return (g / exp2(self.exponent.to(g.dtype)),)

    def _release_extra(self) -> None:
        self.exponent = None


def frexp(x: Tensor) -> frexp_rt:
    """(mantissa, exponent) with x = mantissa * 2 ** exponent, |mantissa| in [0.5, 1), exponent int32."""
    d = x._data
    if d.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    mantissa, exponent = x.device.xp.frexp(d)
    e = _make(exponent.astype("int32"), x.device)
    m = _make(mantissa.astype(d.dtype, copy=False), x.device)
    if _GradMode.enabled and x._requires_grad:
        record(m, FrexpBackward0(x, e))
    return frexp_rt(m, e)


class NextafterBackward0(_BinaryBackward):
    # PyTorch's formula: the step to the next float is treated as a constant, so self's gradient is
    # g and other's is zero (torch gives zeros, not None, to `other`)
    def formula(self, g, a, b, need_a, need_b):
        return (g if need_a else None), (g * 0 if need_b else None)


def nextafter(a: Tensor, b: Tensor) -> Tensor:
    """The next floating-point value after a in the direction of b."""
    from .pointwise import _tensor_other

    _tensor_other("nextafter", b)
    ad, bd, _ = prepare(a, b)
    if ad.dtype.kind != "f":
        raise not_implemented("nextafter_cpu", ad.dtype)
    try:
        data = a.device.xp.nextafter(ad, bd)
    except ValueError:
        raise broadcast_error(a._data.shape, b._data.shape) from None
    out = _make(data, a.device)
    if _GradMode.enabled and (a._requires_grad or b._requires_grad):
        record(out, NextafterBackward0(a, b))
    return out


class MvlgammaBackward0(Node):
    """d/dx sum_i lgamma(x - i/2) = sum_i digamma(x - i/2)."""

    def __init__(self, x, p):
        super().__init__((x,), (x,))
        self.p = p

    def backward(self, g):
        (x,) = self.saved_tensors
        return (g * P.digamma(_mvlgamma_args(x, self.p)).sum(-1),)


def _mvlgamma_args(x: Tensor, p: int) -> Tensor:
    """x[..., None] - [0, 1/2, ..., (p-1)/2]: the p arguments of the log-gamma terms."""
    from .creation import arange

    return x.unsqueeze(-1) - arange(p, dtype=x.dtype, device=x.device) / 2


def mvlgamma(x: Tensor, p: int) -> Tensor:
    """The multivariate log-gamma function of dimension p: sum_i lgamma(x - i/2) + p(p-1)/4 log(pi)."""
    if x._data.dtype.kind == "b":
        raise RuntimeError("The input tensor may not be a boolean tensor.")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    if not x.dtype.is_floating_point:
        x = x.to(_dtype.get_default_dtype())
    from .pointwise import _no_grad

    with _no_grad():
        out = P.lgamma(_mvlgamma_args(x, p)).sum(-1) + p * (p - 1) / 4 * math.log(math.pi)
    out = _make(out._data, x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, MvlgammaBackward0(x, p))
    return out
