"""Elementwise ops. Each op: forward on backend arrays, then a Node whose backward uses Tensor ops
(so gradients are themselves differentiable when create_graph=True). Formulas made of arithmetic
operators only also run straight on the arrays when no such graph is wanted (see _UnaryBackward)."""
from __future__ import annotations

import math
import numbers
import operator

from .. import _dtype
from ..backends import cpu_fused as _cpu_fused, fused as _fused
from ..backends.cpu import ndarray as _ndarray, scalar as _cpu_scalar
from ..amp.autocast_mode import autocast_op
from . import deferred as _deferred
from ._util import (Node, Tensor, _GradMode, _make, broadcast_error, c_type_name, check_divisor, not_implemented,
                    prepare, record, result_device, scalar_value, sum_to, type_word, wrap_int)


# ---- helpers --------------------------------------------------------------------------------------
def _binary(a: Tensor, b, ufunc, node_cls=None):
    """Apply a broadcasting binary array function and record `node_cls` if gradients are needed.

    The commonest calls (`x * 0.5` on a float tensor) are spared a few function calls: this runs
    for every arithmetic operator, and Python calls are most of an op's cost on small tensors.
    """
    ad = a._data
    if type(b) is float and ad.dtype.kind == "f":  # prepare()'s first case, inlined
        # (the four operators take NumPy's kept conversion of the number, see backends/cpu.scalar; other
        # functions get the number itself, as some compute with it in double precision)
        bd = _cpu_scalar(b, ad.dtype) if type(ad) is _ndarray and ufunc in _KEEP_NUMBER else b
    elif type(b) is Tensor and b.device is a.device and b._data.dtype is ad.dtype:  # and its second
        bd = b._data
    else:
        ad, bd, _ = prepare(a, b)
    try:
        data = ufunc(ad, bd)
    except ValueError:
        raise broadcast_error(a._data.shape, getattr(b, "shape", ())) from None
    except OverflowError:  # a Python int out of an integer dtype's range wraps around, as in PyTorch
        data = ufunc(ad, wrap_int(bd, ad.dtype))
    out = _make(data, a.device if ad is a._data else result_device(a, ad, b))
    if node_cls is not None and _GradMode.enabled and (a._requires_grad or isinstance(b, Tensor) and b._requires_grad):
        out.grad_fn = node_cls(a, b)  # record(), inlined
        out._requires_grad = True
    return out


def _wait(op: str, x: Tensor, *operands):
    """op(*operands) as a deferred tensor when the tensor operand x is large (see deferred.py), else
    None. Callers ask only when `not _GradMode.enabled and _deferred.ON`, which costs nothing."""
    if type(x) is _deferred._Deferred or x._data.size >= _deferred.MIN_SIZE:
        return _deferred.defer(op, *operands)
    return None


def _float_array(x: Tensor):
    """The input array, cast to the default float dtype when it is integral (exp(int) is float)."""
    d = x._data
    if d.dtype.kind in "fcV":  # (V: bfloat16, from ml_dtypes)
        return d
    return d.astype(_dtype.get_default_dtype().np)


def _as_tensor(x, like: Tensor) -> Tensor:
    if isinstance(x, Tensor):
        return x
    from .creation import scalar_like

    return scalar_like(x, like)


def _shape(x):
    return x._data.shape if isinstance(x, Tensor) else ()


def _arrays(g: Tensor, a, b=None):
    """(g, a, b) as backend arrays (numbers and None kept), for a backward formula written with
    operators only, or None when it must run on Tensors: while a graph of the gradient is being
    recorded (create_graph=True), or when an operand's dtype or device differs from g's (Tensor
    promotion is PyTorch's; NumPy's differs, e.g. for 0-dim tensors).

    (Callers unpack the tuple rather than call `formula(*arrays)`: a star-call costs more than
    the rest of this function.)"""
    if _GradMode.enabled:
        return None
    gd = g._data
    if isinstance(a, Tensor):
        if a._data.dtype is not gd.dtype or a.device is not g.device:
            return None
        a = a._data
    if isinstance(b, Tensor):
        if b._data.dtype is not gd.dtype or b.device is not g.device:
            return None
        b = b._data
    return gd, a, b


def _tensor_of(result, g: Tensor):
    """An array result of a backward formula as a Tensor on g's device (g itself when the formula
    passed g's array through unchanged)."""
    if result is g._data:
        return g
    return _make(result, g.device)


class _UnaryBackward(Node):
    """Saves its input (x), its output (result) or nothing (`saves`) for `formula(g, x_or_result)`.

    A formula written with arithmetic operators and numbers only, like `g * (1 - result * result)`,
    means the same on Tensors and on backend arrays. Such classes set `arithmetic = True`: when no
    graph of the gradient is being recorded (create_graph=False, the usual case) their formula runs
    on the bare arrays, one array operation per operator instead of a Tensor op with its dispatch
    and result Tensor. Under create_graph it runs on Tensors, so the gradient is differentiable
    again. One formula, two ways to evaluate it.
    """

    saves = "input"
    arithmetic = False

    def backward(self, g):
        saved = self.saved_tensors
        v = saved[0] if saved else None
        arrays = _arrays(g, v) if self.arithmetic else None
        if arrays is not None:
            gd, vd, _ = arrays
            return (_make(self.formula(gd, vd), g.device),)
        return (self.formula(g, v),)


class _BinaryBackward(Node):
    """Backward of a broadcasting `a op b`, b a tensor or a Python number.

    Subclasses write `formula(g, a, b, need_a, need_b) -> (ga, gb)`: the gradients before
    unbroadcasting (each given where needed, anything where not); backward sums each down to its
    input's shape.
    `saved_operands` picks the inputs the formula reads (a Python-number b is always kept).
    With `arithmetic = True` the formula uses only operators and numbers and runs on arrays when
    create_graph is off, as in _UnaryBackward.
    """

    # (slots, not the instance dict: one node is made per recorded op, and slot writes cost less)
    __slots__ = ("a_shape", "b_shape", "b_scalar")

    saves_inputs = True  # False: the formula reads neither input (add, sub)
    arithmetic = False
    # True: the array formula only multiplies or divides arrays by a number b, so b may be NumPy's kept
    # conversion of it (not where the formula does arithmetic on b itself, which must stay in double)
    kept_number = False
    a_const = b_const = None  # an operand tensor that records no graph (a constant), for torch.onnx.export
    real_parts = None  # complex operands: (a is real, b is real), whose gradients are real parts

    def __init__(self, a: Tensor, b):
        b_is_tensor = isinstance(b, Tensor)
        saved = ()
        if self.saves_inputs:  # (requires_grad: exactly the inputs that get an edge)
            need_b = b_is_tensor and b._requires_grad
            saved = self.saved_operands(a, b if b_is_tensor else None, a._requires_grad, need_b)
        Node.__init__(self, (a, b), saved)
        self.a_shape = a._data.shape
        if a._data.dtype.kind == "c" or (b._data.dtype.kind == "c" if b_is_tensor else type(b) is complex):
            self.real_parts = (a._data.dtype.kind != "c", b_is_tensor and b._data.dtype.kind != "c")
        if not a._requires_grad:
            self.a_const = a
        if b_is_tensor:
            self.b_shape = b._data.shape
            self.b_scalar = None
            if not b._requires_grad:
                self.b_const = b
        else:  # a NumPy scalar as a Python number: it would widen float32 math
            self.b_shape = ()
            self.b_scalar = b if type(b) is float else scalar_value(b)

    @staticmethod
    def saved_operands(a, b, need_a: bool, need_b: bool) -> tuple:
        """(a or None, b or None): the tensors the formula reads, given which gradients it gives."""
        return (a, b)

    def backward(self, g):
        n = self.next_functions
        need_a = n[0][0] is not None
        need_b = n[1][0] is not None
        a = b = None  # the operands the formula reads: saved tensors, or b's number
        if self.saves_inputs:
            a, b = self.saved_tensors
        if self.b_scalar is not None:
            b = self.b_scalar
        arrays = _arrays(g, a, b) if self.arithmetic else None
        if arrays is not None:
            gd, ad, bd = arrays
            if self.kept_number and type(bd) is float and type(gd) is _ndarray and gd.dtype.kind == "f":
                bd = _cpu_scalar(bd, gd.dtype)  # (see _binary)
            ga, gb = self.formula(gd, ad, bd, need_a, need_b)
            ga = _tensor_of(ga, g) if need_a else None
            gb = _tensor_of(gb, g) if need_b else None
        else:
            ga, gb = self.formula(g, a, b, need_a, need_b)
        # undo broadcasting (the shape test first: sum_to's own, saving a call in the common case)
        if not need_a:
            ga = None
        elif ga._data.shape != self.a_shape:
            ga = sum_to(ga, self.a_shape)
        if not need_b:
            gb = None
        elif gb._data.shape != self.b_shape:
            gb = sum_to(gb, self.b_shape)
        if self.real_parts is not None:
            ga, gb = _real_part(ga, self.real_parts[0]), _real_part(gb, self.real_parts[1])
        return ga, gb


def _real_part(g, operand_is_real: bool):
    """The gradient reaching a real operand of a complex result: its real part (PyTorch's convention,
    dL/d(re) + i dL/d(im), leaves a real tensor dL/dx)."""
    if operand_is_real and g is not None and g.dtype.is_complex:
        from .complex import real

        return real(g)
    return g


def _conj(v):
    """The complex conjugate of a formula's operand (a Tensor, backend array or number); real ones, the
    common case, as they are. PyTorch's gradient of a holomorphic f is g * conj(f'(z))."""
    if isinstance(v, Tensor):
        return v.conj()  # (a real tensor's conj is itself)
    if type(v) is complex:
        return v.conjugate()
    if getattr(v, "dtype", None) is not None and v.dtype.kind == "c":
        return v.conj()
    return v


# ---- arithmetic -----------------------------------------------------------------------------------
class AddBackward0(_BinaryBackward):
    """a + b (add(a, b, alpha=k) records b * k as its b, with its own MulBackward0)."""

    saves_inputs = False

    def formula(self, g, a, b, need_a, need_b):
        return g, g


class SubBackward0(AddBackward0):
    arithmetic = True

    def formula(self, g, a, b, need_a, need_b):
        return g, (-g if need_b else None)


def add(a: Tensor, b, *, alpha=1) -> Tensor:
    if not isinstance(a, Tensor):
        a = _as_tensor(a, b)
    if not _GradMode.enabled and _deferred.ON and alpha == 1:
        out = _wait("add", a, a, b)
        if out is not None:
            return out
    if alpha != 1:
        b = _scaled(a, b, alpha)
        out = _binary(a, b, _np_add)
        return _rename(out, AddBackward0, a, b)
    return _binary(a, b, _np_add, AddBackward0)


def _scaled(a, b, alpha):
    """b * alpha computed in the result dtype, as PyTorch does (no float alpha for integer results)."""
    rt = _dtype.result_type(a, b)
    if not rt.is_floating_point:
        if isinstance(alpha, float):
            raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
        if rt is _dtype.bool:
            alpha = bool(alpha)
            if not isinstance(b, Tensor):
                return bool(b) and alpha  # (True * True would be the int 1)
    if isinstance(b, Tensor) and b.dtype is not rt and rt is not _dtype.bool:
        # (bool * int would widen to int64; float32 * alpha would round before a float64 sum)
        b = b.to(rt)
    return b * alpha


def _is_bool(x) -> bool:
    return x._data.dtype.kind == "b" if isinstance(x, Tensor) else type(x) is bool


def _check_sub(a, b) -> None:
    a_bool, b_bool = _is_bool(a), _is_bool(b)
    if a_bool and b_bool:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
                           "`logical_xor()` operator instead.")
    if a_bool or b_bool:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you "
                           "are trying to invert a mask, use the `~` or `logical_not()` operator instead.")


def sub(a: Tensor, b, *, alpha=1) -> Tensor:
    if not _GradMode.enabled and _deferred.ON and alpha == 1 and isinstance(a, Tensor):
        out = _wait("sub", a, a, b)
        if out is not None:
            return out
    if a._data.dtype.kind == "b" or (type(b) is not float and _is_bool(b)):  # only bools are refused
        _check_sub(a, b)
    if alpha != 1:
        b = _scaled(a, b, alpha)
        return _rename(_binary(a, b, _np_sub), SubBackward0, a, b)
    return _binary(a, b, _np_sub, SubBackward0)


class RsubBackward1(Node):
    """b - a for a Python number b: the gradient is -g."""

    def __init__(self, a, other=None):
        super().__init__((a,), ())
        self.other = other  # the number b (torch.onnx.export reads it)

    def backward(self, g):
        if _arrays(g, None) is not None:  # -g on the array (see _UnaryBackward)
            return (_make(-g._data, g.device),)
        return (-g,)


def rsub(a: Tensor, b) -> Tensor:
    """b - a for a Python number b (or a tensor b)."""
    if isinstance(b, Tensor):
        return sub(b, a)
    if not _GradMode.enabled and _deferred.ON:
        out = _wait("sub", a, b, a)
        if out is not None:
            return out
    _check_sub(a, b)
    ad, bd, _ = prepare(a, b)
    try:
        data = bd - ad
    except OverflowError:  # a Python int out of an integer dtype's range wraps around, as in PyTorch
        data = wrap_int(bd, ad.dtype) - ad
    out = _make(data, a.device)
    if _GradMode.enabled and a._requires_grad:
        record(out, RsubBackward1(a, b))
    return out


def _rename(out, node_cls, a, b):
    if out.grad_fn is None and _GradMode.enabled and (a._requires_grad or getattr(b, "_requires_grad", False)):
        record(out, node_cls(a, b))
    return out


# the array operators as functions (C functions: cheaper to call than a Python `def`)
_np_add = operator.add
_np_sub = operator.sub
_np_mul = operator.mul


class MulBackward0(_BinaryBackward):
    arithmetic = True
    kept_number = True

    @staticmethod
    def saved_operands(a, b, need_a, need_b):
        return (a if need_b else None, b if need_a else None)  # each gradient reads the other input

    def formula(self, g, a, b, need_a, need_b):
        return (g * _conj(b) if need_a else None, g * _conj(a) if need_b else None)


def mul(a: Tensor, b) -> Tensor:
    if not _GradMode.enabled and _deferred.ON:
        out = _wait("mul", a, a, b)
        if out is not None:
            return out
    return _binary(a, b, _np_mul, MulBackward0)


class DivBackward0(_BinaryBackward):
    arithmetic = True
    kept_number = True  # (b * b below is only formed for a tensor b)

    @staticmethod
    def saved_operands(a, b, need_a, need_b):
        return (a if need_b else None, b)

    def formula(self, g, a, b, need_a, need_b):
        ga = g / _conj(b) if need_a else None
        gb = -g * _conj(a) / _conj(b * b) if need_b else None
        return ga, gb


_true_divide = operator.truediv
_KEEP_NUMBER = frozenset({_np_add, _np_sub, _np_mul, _true_divide})  # (see _binary)


class DivBackward2(_BinaryBackward):
    """div with a rounding mode: piecewise constant, so zero gradients (even where g is inf or nan)."""

    saves_inputs = False

    def formula(self, g, a, b, need_a, need_b):
        zeros = _make(g.device.xp.zeros_like(g._data), g.device)
        return zeros, zeros


class NotImplemented(Node):  # noqa: A001 - PyTorch's name for an op without a derivative
    """floor_divide (and a number % a tensor) record a node whose backward fails, as PyTorch's do."""

    op = "floor_divide"

    def __init__(self, a: Tensor, b):
        super().__init__((a, b), ())

    def name(self) -> str:
        return "torch::autograd::NotImplemented"

    def backward(self, g):
        raise RuntimeError(f"derivative for aten::{self.op} is not implemented")


class _RemainderNotImplemented(NotImplemented):
    op = "remainder"


def div(a: Tensor, b, *, rounding_mode=None) -> Tensor:
    if not _GradMode.enabled and _deferred.ON and rounding_mode is None and isinstance(a, Tensor):
        out = _wait("div", a, a, b)
        if out is not None:
            return out
    if rounding_mode == "floor":
        return _rename(_binary(a, b, _floor_divide), DivBackward2, a, b)
    if rounding_mode == "trunc":
        if _is_float(a, b):
            with _no_grad():
                out = trunc(div(a, b))
            return _rename(out, DivBackward2, a, b)
        return _binary(a, b, _int_division("div_trunc_cpu", _trunc_div))
    if rounding_mode is not None:
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")
    if not _is_float(a, b):  # integer true division gives the default float dtype
        a = a.to(_dtype.get_default_dtype())
    return _binary(a, b, _true_divide, DivBackward0)


def rdiv(a: Tensor, b) -> Tensor:
    """b / a; for a Python number b computed as b * (1 / a), as PyTorch does."""
    if isinstance(b, Tensor):
        return div(b, a)
    return mul(reciprocal(a), b)


def _is_float(a, b) -> bool:
    if isinstance(a, Tensor) and a._data.dtype.kind == "f":  # the common case, without the promotion table
        if type(b) is float or type(b) is int or isinstance(b, Tensor) and b._data.dtype.kind == "f":
            return True
    d = _dtype.result_type(a, b)
    return d.is_floating_point or d.is_complex


def _floor_div(x, y):
    return x // y


def _trunc_div(x, y):
    """Integer division rounding toward zero (C's), exact where a float detour would not be."""
    q = x // y
    return q + ((q < 0) & (q * y != x))


def _int_division(kernel: str, fn):
    """fn with PyTorch's integer rules: no bool kernel, and division by zero is an error."""
    def divide(x, y):
        if x.dtype.kind in "iub":
            if x.dtype.kind == "b":  # after promotion, both operands are bool
                raise not_implemented(kernel, x.dtype)
            check_divisor(y)
        return fn(x, y)
    return divide


_floor_divide = _int_division("div_floor_cpu", _floor_div)


def floor_divide(a: Tensor, b) -> Tensor:
    return _binary(a, b, _floor_divide, NotImplemented)


def _np_mod(x, y):
    return x % y


_remainder = _int_division("remainder_cpu", _np_mod)


class RemainderBackward0(_BinaryBackward):
    """a % b for a Python number b: the gradient passes to a unchanged."""

    saves_inputs = False

    def formula(self, g, a, b, need_a, need_b):
        return g, None


class RemainderBackward1(_BinaryBackward):
    """a % b for tensors a and b."""

    def formula(self, g, a, b, need_a, need_b):
        return g, (-g * div(a, b, rounding_mode="floor") if need_b else None)


def remainder(a: Tensor, b) -> Tensor:
    return _binary(a, b, _remainder, RemainderBackward1 if isinstance(b, Tensor) else RemainderBackward0)


def rremainder(a: Tensor, b) -> Tensor:
    """b % a for a Python number b: PyTorch's remainder(Scalar, Tensor) has no derivative."""
    from .creation import scalar_like

    return _binary(scalar_like(b, a), a, _remainder, _RemainderNotImplemented)


class FmodBackward0(RemainderBackward0):
    """fmod(a, b) for a Python number b."""


class FmodBackward1(RemainderBackward1):
    def formula(self, g, a, b, need_a, need_b):
        return g, (-g * trunc(a / b) if need_b else None)


def fmod(a: Tensor, b) -> Tensor:
    node = FmodBackward1 if isinstance(b, Tensor) else FmodBackward0
    return _binary(a, b, _int_division("fmod_cpu", a.device.xp.fmod), node)


class PowBackward0(_UnaryBackward):
    """x ** c for a Python number c."""

    arithmetic = True

    def __init__(self, x, c):
        super().__init__((x,), (x,))
        self.c = c
        if c == 0.5:  # its formula calls sqrt, so it runs on Tensors
            self.arithmetic = False

    def formula(self, g, x):
        c = self.c
        if c == 0:
            return g * 0
        if c == 0.5:  # PyTorch's x ** -0.5 is 1 / sqrt(x): -inf at -0.0 and nan at -inf, unlike pow()
            return g * 0.5 / sqrt(x)
        return g * c * x ** (c - 1)


class PowBackward1(_BinaryBackward):
    """x ** y for tensors x and y."""

    def formula(self, g, a, b, need_a, need_b):
        ga = gb = None
        if need_a:
            # d/da a^b = b a^(b-1), defined as 0 where b == 0 (PyTorch's convention)
            ga = where(b == 0, 0.0, g * b * a ** (b - 1))
        if need_b:
            res = a ** b
            # log of an integer base in the result's dtype (log(int) alone gives float32)
            base = a if a.is_floating_point() else a.to(res.dtype)
            gb = where((a == 0) & (b >= 0), 0.0, g * res * log(base))
        return ga, gb


class PowBackward2(Node):
    """c ** x for a Python number c."""

    def __init__(self, x, c, out):
        super().__init__((x,), (x,))
        self.c = c

    def backward(self, g):
        (x,) = self.saved_tensors
        if self.c == 0:  # 0 ** x: zero gradient where x >= 0, as PyTorch defines it
            return (where(x >= 0, g * 0.0, g * -math.inf),)
        log_c = math.log(self.c) if self.c > 0 else math.nan  # a negative base: nan, as log(c) in PyTorch
        return (g * (self.c ** x) * log_c,)


@autocast_op("pow")
def pow(a, b) -> Tensor:
    if not isinstance(a, Tensor):
        return rpow(b, a)
    if type(b) is int or type(b) is float or isinstance(b, numbers.Number):
        return _pow_scalar(a, b)
    ad, bd, _ = prepare(a, b)
    if ad.dtype.kind == "b":
        raise not_implemented("pow", ad.dtype)
    try:
        data = _powers(result_device(a, ad, b).xp, ad, bd)
    except ValueError:
        raise broadcast_error(a._data.shape, b._data.shape) from None
    out = _make(data, result_device(a, ad, b))
    if _GradMode.enabled and (a._requires_grad or b._requires_grad):
        record(out, PowBackward1(a, b))
    return out


def _pow_scalar(a: Tensor, c) -> Tensor:
    """a ** c for a Python number c; squares and square roots take faster roads."""
    c = scalar_value(c)
    if not _GradMode.enabled and _deferred.ON and (c == 2 or c == 0.5):
        out = _wait("square" if c == 2 else "sqrt", a, a)
        if out is not None:
            return out
    ad = a._data
    if ad.dtype.kind != "f":
        rt = _dtype.result_type(a, c)
        if not rt.is_floating_point and c < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        ad = ad.astype(rt.np, copy=False)
    if c == 2:
        data = a.device.xp.square(ad)
    elif c == 0.5 and ad.dtype.kind == "f":
        data = a.device.xp.sqrt(ad)
    elif c == -0.5 and ad.dtype.kind == "f":  # as PyTorch, 1 / sqrt(x): -inf at -0.0, nan at -inf
        data = a.device.xp.reciprocal(a.device.xp.sqrt(ad))
    else:
        data = ad ** c
        if data.dtype != ad.dtype:  # NumPy widens bool ** bool to int8
            data = data.astype(ad.dtype)
    out = _make(data, a.device)
    if _GradMode.enabled and a._requires_grad:
        record(out, PowBackward0(a, c))
    return out


def _powers(xp, x, y):
    """x ** y; integer powers with negative exponents follow PyTorch (1, -1 or 0) instead of failing."""
    if x.dtype.kind not in "iu":
        return x ** y
    neg = y < 0
    if not neg.any():
        return x ** y
    out = x ** xp.where(neg, 0, y)
    odd = (y % 2) != 0
    inverse = xp.where(x == 1, 1, xp.where(x == -1, xp.where(odd, -1, 1), 0)).astype(out.dtype)
    return xp.where(neg, inverse, out)


def rpow(a: Tensor, c) -> Tensor:
    """c ** a for a Python number c."""
    if isinstance(c, Tensor):
        return pow(c, a)
    rt = _dtype.result_type(a, c).np
    if rt.kind == "b":
        raise not_implemented("pow", rt)
    xp = a.device.xp
    try:
        base = xp.asarray(c, dtype=rt)
    except OverflowError:  # a Python int out of an integer dtype's range wraps around, as in PyTorch
        base = wrap_int(c, rt)
    out = _make(_powers(xp, base, a._data.astype(rt, copy=False)), a.device)
    if _GradMode.enabled and a._requires_grad:
        record(out, PowBackward2(a, c, out))
    return out


# ---- unary ----------------------------------------------------------------------------------------
def _unary(x: Tensor, data, node_cls) -> Tensor:
    out = _make(data, x.device)
    if node_cls is not None and _GradMode.enabled and x._requires_grad:
        if node_cls.saves == "input":
            saved = (x,)
        elif node_cls.saves == "output":
            saved = (_saved_output(out),)
        else:
            saved = ()
        out.grad_fn = node_cls((x,), saved)  # record(), inlined (the hot path, as in _binary)
        out._requires_grad = True
    return out


def _saved_output(out: Tensor) -> Tensor:
    """A graph-free alias of an op's output for its own node (avoids a reference cycle)."""
    alias = _make(out._data, out.device)
    alias._vc = out._vc
    alias._out_alias = True  # autograd reattaches it to its node under create_graph
    return alias


class NegBackward0(_UnaryBackward):
    saves = None
    arithmetic = True

    def formula(self, g, _):
        return -g


def neg(x: Tensor) -> Tensor:
    if not _GradMode.enabled and _deferred.ON:
        out = _wait("neg", x, x)
        if out is not None:
            return out
    if x._data.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are "
                           "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    return _unary(x, -x._data, NegBackward0)


class AbsBackward0(_UnaryBackward):
    def formula(self, g, x):
        if x.dtype.is_complex:  # sgn(x) = x / |x| (0 at 0), written with ops so it has a derivative too
            r = abs(x)
            return g * (x / (r + (r == 0)))
        return g * sign(x)


def abs(x: Tensor) -> Tensor:
    _no_bool(x, "abs_cpu")
    return _unary(x, x.device.xp.abs(x._data), AbsBackward0)


def _no_bool(x: Tensor, kernel: str) -> None:
    if x._data.dtype.kind == "b":
        raise not_implemented(kernel, x._data.dtype)


class _ZeroGrad(_UnaryBackward):
    saves = None
    arithmetic = True

    def formula(self, g, _):
        return g * 0


class SignBackward0(_ZeroGrad):
    pass


class FloorBackward0(_ZeroGrad):
    pass


class CeilBackward0(_ZeroGrad):
    pass


class RoundBackward0(_ZeroGrad):
    pass


class RoundBackward1(_ZeroGrad):
    pass


class TruncBackward0(_ZeroGrad):
    pass


def sign(x: Tensor) -> Tensor:
    d = x._data
    if d.dtype.kind == "b":
        return _unary(x, d.copy(), SignBackward0)
    xp = x.device.xp
    data = xp.sign(d)
    if d.dtype.kind == "f":
        data = xp.where(d == d, data, xp.zeros((), d.dtype))  # sign(nan) is 0 in PyTorch
    return _unary(x, data, SignBackward0)


def floor(x: Tensor) -> Tensor:
    _no_bool(x, "floor_vml_cpu")
    d = x._data
    return _unary(x, d.copy() if d.dtype.kind in "iub" else x.device.xp.floor(d), FloorBackward0)


def ceil(x: Tensor) -> Tensor:
    _no_bool(x, "ceil_vml_cpu")
    d = x._data
    return _unary(x, d.copy() if d.dtype.kind in "iub" else x.device.xp.ceil(d), CeilBackward0)


def trunc(x: Tensor) -> Tensor:
    _no_bool(x, "trunc_vml_cpu")
    d = x._data
    return _unary(x, d.copy() if d.dtype.kind in "iub" else x.device.xp.trunc(d), TruncBackward0)


def round(x: Tensor, *, decimals: int = 0) -> Tensor:
    d = x._data
    if decimals:
        if d.dtype.kind != "f":
            raise not_implemented("round_cpu", d.dtype)
    else:
        _no_bool(x, "round_vml_cpu")
    if d.dtype.kind in "iu":
        return _unary(x, d.copy(), RoundBackward0)
    # numpy rounds half to even, as PyTorch does
    return _unary(x, x.device.xp.round(d, decimals), RoundBackward1 if decimals else RoundBackward0)


class ExpBackward0(_UnaryBackward):
    saves = "output"
    arithmetic = True

    def formula(self, g, result):
        return g * result


@autocast_op("exp")
def exp(x: Tensor) -> Tensor:
    return _unary(x, x.device.xp.exp(_float_array(x)), ExpBackward0)


class Expm1Backward0(_UnaryBackward):
    saves = "output"
    arithmetic = True

    def formula(self, g, result):
        return g * (result + 1)


@autocast_op("expm1")
def expm1(x: Tensor) -> Tensor:
    return _unary(x, x.device.xp.expm1(_float_array(x)), Expm1Backward0)


class LogBackward0(_UnaryBackward):
    arithmetic = True

    def formula(self, g, x):
        return g / x


@autocast_op("log")
def log(x: Tensor) -> Tensor:
    return _unary(x, x.device.xp.log(_float_array(x)), LogBackward0)


class Log2Backward0(_UnaryBackward):
    arithmetic = True

    def formula(self, g, x):
        return g / (x * math.log(2.0))


@autocast_op("log2")
def log2(x: Tensor) -> Tensor:
    return _unary(x, x.device.xp.log2(_float_array(x)), Log2Backward0)


class Log10Backward0(_UnaryBackward):
    arithmetic = True

    def formula(self, g, x):
        return g / (x * math.log(10.0))


@autocast_op("log10")
def log10(x: Tensor) -> Tensor:
    return _unary(x, x.device.xp.log10(_float_array(x)), Log10Backward0)


class Log1PBackward0(_UnaryBackward):
    arithmetic = True

    def formula(self, g, x):
        return g / (x + 1)


@autocast_op("log1p")
def log1p(x: Tensor) -> Tensor:
    return _unary(x, x.device.xp.log1p(_float_array(x)), Log1PBackward0)


class SqrtBackward0(_UnaryBackward):
    saves = "output"
    arithmetic = True

    def formula(self, g, result):
        return g / (result * 2)


def sqrt(x: Tensor) -> Tensor:
    if not _GradMode.enabled and _deferred.ON:
        out = _wait("sqrt", x, x)
        if out is not None:
            return out
    return _unary(x, x.device.xp.sqrt(_float_array(x)), SqrtBackward0)


class RsqrtBackward0(_UnaryBackward):
    saves = "output"
    arithmetic = True

    def formula(self, g, result):
        return g * result ** 3 * -0.5


@autocast_op("rsqrt")
def rsqrt(x: Tensor) -> Tensor:
    d = _float_array(x)
    return _unary(x, 1 / x.device.xp.sqrt(d), RsqrtBackward0)


class ReciprocalBackward0(_UnaryBackward):
    saves = "output"
    arithmetic = True

    def formula(self, g, result):
        return g * -(result * result)


@autocast_op("reciprocal")
def reciprocal(x: Tensor) -> Tensor:
    return _unary(x, 1 / _float_array(x), ReciprocalBackward0)


def square(x: Tensor) -> Tensor:
    return pow(x, 2)


class SinBackward0(_UnaryBackward):
    def formula(self, g, x):
        return g * cos(x)


def sin(x: Tensor) -> Tensor:
    return _unary(x, x.device.xp.sin(_float_array(x)), SinBackward0)


class CosBackward0(_UnaryBackward):
    def formula(self, g, x):
        return g * -sin(x)


def cos(x: Tensor) -> Tensor:
    return _unary(x, x.device.xp.cos(_float_array(x)), CosBackward0)


class TanBackward0(_UnaryBackward):
    saves = "output"
    arithmetic = True

    def formula(self, g, result):
        return g * (result * result + 1)


@autocast_op("tan")
def tan(x: Tensor) -> Tensor:
    return _unary(x, x.device.xp.tan(_float_array(x)), TanBackward0)


class TanhBackward0(_UnaryBackward):
    saves = "output"
    arithmetic = True

    def formula(self, g, result):
        return g * (1 - result * result)


def tanh(x: Tensor) -> Tensor:
    return _unary(x, x.device.xp.tanh(_float_array(x)), TanhBackward0)


class SigmoidBackward0(_UnaryBackward):
    saves = "output"
    arithmetic = True

    def formula(self, g, result):
        return g * (result * (1 - result))


def _sigmoid_array(xp, d):
    # 1 / (1 + exp(-x)) overflows harmlessly to 0 for very negative x; silence the warning
    with _np_errstate(xp):
        return 1 / (1 + xp.exp(-d))


def _np_errstate(xp):
    import contextlib

    return xp.errstate(over="ignore") if hasattr(xp, "errstate") else contextlib.nullcontext()


def sigmoid(x: Tensor) -> Tensor:
    return _unary(x, _sigmoid_array(x.device.xp, _float_array(x)), SigmoidBackward0)


class ReluBackward0(_UnaryBackward):
    saves = "output"

    def formula(self, g, result):
        if not _GradMode.enabled and result._data.dtype == g._data.dtype:  # every MLP's hot path
            gd, rd = g._data, result._data
            fused = _fused(g.device).relu_grad(gd, rd)  # one compiled pass (CPU: extra `fast`), else the reference:
            return _make(_select_or_zero(g.device.xp, rd <= 0, gd, keep=False) if fused is None else fused, g.device)
        return where(result <= 0, 0.0, g)  # not g * mask: that gives -0.0 where g < 0, nan where g is inf


_SAME_WIDTH_INT = {2: "int16", 4: "int32", 8: "int64"}


def _select_or_zero(xp, mask, a, *, keep: bool):
    """where(mask, a, +0.0) (keep=True) or where(mask, +0.0, a) (keep=False) for a float array `a`,
    as integer bit operations: a & 0 is +0.0 and a & ~0 is a, bit for bit (inf, nan and -0.0
    included). In a training loop this runs several times faster than the backend's where()."""
    ints = getattr(xp, _SAME_WIDTH_INT[a.dtype.itemsize])
    flags = mask.view(xp.int8)  # 1 where mask, else 0
    # -1 (every bit set) where a is kept, 0 elsewhere
    bits = xp.negative(flags, dtype=ints) if keep else xp.subtract(flags, 1, dtype=ints)
    return xp.bitwise_and(a.view(ints), bits).view(a.dtype)


def relu(x: Tensor) -> Tensor:
    d = x._data
    if d.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    return _unary(x, x.device.xp.maximum(d, 0), ReluBackward0)


class ErfBackward0(_UnaryBackward):
    def formula(self, g, x):
        return g * (2.0 / math.sqrt(math.pi)) * exp(-(x * x))


def erf(x: Tensor) -> Tensor:
    d = _float_array(x)
    # the backend's erf maps element by element and hands a 0-dim input back as a Python float
    data = x.device.backend.erf(d.reshape(1)).reshape(()) if d.ndim == 0 else x.device.backend.erf(d)
    return _unary(x, data, ErfBackward0)


# ---- the gamma function (kernels in backends/special.py) ---------------------------------------------
def _special_array(x: Tensor, fn: str, *args):
    """special.fn(xp, *args, array) on x's float array, 0-dim arrays kept 0-dim (NumPy would hand
    back a scalar)."""
    from ..backends import special

    d = _float_array(x)
    xp = x.device.xp
    return xp.asarray(getattr(special, fn)(xp, *args, d.reshape(1) if d.ndim == 0 else d)).reshape(d.shape)


class LgammaBackward0(_UnaryBackward):
    def formula(self, g, x):
        return g * digamma(x)


def lgamma(x: Tensor) -> Tensor:
    return _unary(x, _special_array(x, "lgamma"), LgammaBackward0)


class DigammaBackward0(_UnaryBackward):
    def formula(self, g, x):
        return g * polygamma(1, x)


def digamma(x: Tensor) -> Tensor:
    return _unary(x, _special_array(x, "digamma"), DigammaBackward0)


class PolygammaBackward0(_UnaryBackward):
    n = 1

    def formula(self, g, x):
        return g * polygamma(self.n + 1, x)


def polygamma(n: int, x: Tensor) -> Tensor:
    """The n-th derivative of digamma (polygamma(0, x) is digamma)."""
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    if n == 0:
        return digamma(x)
    out = _unary(x, _special_array(x, "polygamma", n), PolygammaBackward0)
    if out.grad_fn is not None:
        out.grad_fn.n = n
    return out


class IgammaBackward0(_BinaryBackward):
    """d/dx P(a, x) = x^(a-1) e^-x / Gamma(a); PyTorch has no derivative in a either."""

    _kernel, sign = "igamma", 1.0

    def formula(self, g, a, x, need_a, need_x):
        if need_a:
            raise NotImplementedError(f"the derivative for '{self._kernel}: input' is not implemented.")
        return None, g * self.sign * exp((a - 1) * log(x) - x - lgamma(a))


class IgammacBackward0(IgammaBackward0):
    """Q = 1 - P: the same derivative, negated."""

    _kernel, sign = "igammac", -1.0


def _igamma(a: Tensor, x: Tensor, node_cls, kernel: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{kernel}(): argument 'other' (position 2) must be Tensor, not {type(x).__name__}")
    for t in (a, x):
        if t._data.dtype.kind not in "f":
            raise not_implemented(f"{kernel}_cpu", t._data.dtype)
    from ..backends import special

    xp = a.device.xp

    def regularised(ad, xd):
        return special.gammainc(xp, xp.asarray(ad), xp.asarray(xd), upper=kernel == "igammac").astype(ad.dtype)

    return _binary(a, x, regularised, node_cls)


def igamma(a: Tensor, x: Tensor) -> Tensor:
    """The regularised lower incomplete gamma function P(a, x) (torch.special.gammainc)."""
    return _igamma(a, x, IgammaBackward0, "igamma")


def igammac(a: Tensor, x: Tensor) -> Tensor:
    """The regularised upper incomplete gamma function Q(a, x) = 1 - P(a, x) (torch.special.gammaincc)."""
    return _igamma(a, x, IgammacBackward0, "igammac")


class ClampBackward1(Node):
    """clamp with number bounds: gradient passes where min <= x <= max."""

    def __init__(self, x, lo, hi):
        super().__init__((x,), (x,))
        self.lo, self.hi = lo, hi

    def backward(self, g):
        (x,) = self.saved_tensors
        on_arrays = not _GradMode.enabled and x._data.dtype == g._data.dtype
        if on_arrays:  # one compiled pass (extra `fast`), else the reference below
            fused = _cpu_fused.clamp_grad(g._data, x._data, self.lo, self.hi)
            if fused is not None:
                return (_make(fused, g.device),)
        xd = x._data if on_arrays else x
        mask = None
        if self.lo is not None:
            mask = xd >= self.lo
        if self.hi is not None:
            m = xd <= self.hi
            mask = m if mask is None else mask & m
        if on_arrays:
            return (_make(_select_or_zero(g.device.xp, mask, g._data, keep=True), g.device),)
        return (where(mask, g, 0.0),)  # not g * mask: that gives -0.0 where g < 0, nan where g is inf


class ClampBackward0(Node):
    """clamp with tensor bounds."""

    def __init__(self, x, lo, hi):
        inputs = (x, lo, hi)
        super().__init__(inputs, tuple(t for t in inputs if isinstance(t, Tensor)))
        self.has = (isinstance(lo, Tensor), isinstance(hi, Tensor))
        self.shapes = [t._data.shape if isinstance(t, Tensor) else () for t in inputs]

    def backward(self, g):
        saved = list(self.saved_tensors)
        x = saved.pop(0)
        lo = saved.pop(0) if self.has[0] else None
        hi = saved.pop(0) if self.has[1] else None
        # PyTorch's subgradients: x gets g where lo <= x <= hi; lo where x < lo (and lo < hi); hi
        # where x > hi or the bounds cross (hi < lo: the result is hi). A NaN x passes to no one.
        # where(), not g * mask: that would give nan where g is inf and mask is False.
        glo = ghi = None
        if lo is not None and hi is not None:
            gx = where((x >= lo) & (x <= hi), g, 0.0)
            glo = where((x < lo) & (lo < hi), g, 0.0)
            ghi = where((x > hi) | (hi < lo), g, 0.0)
        elif lo is not None:
            gx, glo = where(x >= lo, g, 0.0), where(x < lo, g, 0.0)
        else:
            gx, ghi = where(x <= hi, g, 0.0), where(x > hi, g, 0.0)
        return (sum_to(gx, self.shapes[0]), None if glo is None else sum_to(glo, self.shapes[1]),
                None if ghi is None else sum_to(ghi, self.shapes[2]))


def clamp(x: Tensor, min=None, max=None) -> Tensor:
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        rt = _dtype.result_type(x, *(t for t in (min, max) if t is not None))
        if min is not None and max is not None and rt is _dtype.bool:
            raise not_implemented("clamp_cpu", x._data.dtype)  # (one-sided bool clamps work in PyTorch)
        # everything in the dtype all three promote to first: two steps could promote differently
        # (float x and a 0-dim double min stay float, then a double max makes the result double)
        with _no_grad():
            out, lo, hi = (t.to(rt) if isinstance(t, Tensor) and t.dtype is not rt else t for t in (x, min, max))
            if lo is not None:
                out = _maximum(out, lo)
            if hi is not None:
                out = _minimum(out, hi)
        out = _make(out._data, x.device)
        if _GradMode.enabled and any(getattr(t, "_requires_grad", False) for t in (x, min, max)):
            record(out, ClampBackward0(x, min, max))
        return out
    xp = x.device.xp
    d = x._data
    if d.dtype.kind != "f":  # int/bool tensors take the promoted dtype (float bounds make them float)
        d = d.astype(_dtype.result_type(x, *(v for v in (min, max) if v is not None)).np, copy=False)
        if d.dtype.kind == "b":
            kernel = "clamp_scalar_cpu" if min is not None and max is not None else (
                "clamp_min_scalar_cpu" if max is None else "clamp_max_scalar_cpu")
            raise not_implemented(kernel, d.dtype)
        if d.dtype.kind in "iu":  # integer bounds are cast to the dtype, wrapping around as in PyTorch
            min = None if min is None else wrap_int(min, d.dtype)
            max = None if max is None else wrap_int(max, d.dtype)
    # np.clip propagates NaN, like torch.clamp
    data = xp.clip(d, min, max) if min is not None and max is not None else (
        xp.maximum(d, min) if min is not None else xp.minimum(d, max))
    out = _make(data.astype(d.dtype, copy=False), x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, ClampBackward1(x, min, max))
    return out


def _no_grad():
    from ..autograd.grad_mode import no_grad

    return no_grad()


class MaximumBackward0(_BinaryBackward):
    def formula(self, g, a, b, need_a, need_b):
        # ties split the gradient evenly; the loser gets none; a NaN (no winner: every comparison
        # is False) passes the whole gradient to both, as in PyTorch
        shared = where(a == b, g * 0.5, g)
        ga = where(a < b, 0.0, shared)
        gb = where(a > b, 0.0, shared)
        return ga, gb


class MinimumBackward0(_BinaryBackward):
    def formula(self, g, a, b, need_a, need_b):
        shared = where(a == b, g * 0.5, g)
        ga = where(a > b, 0.0, shared)
        gb = where(a < b, 0.0, shared)
        return ga, gb


def _maximum(a: Tensor, b) -> Tensor:
    """maximum for internal use, where b may also be a Python number."""
    b = _as_tensor(b, a)
    return _binary(a, b, a.device.xp.maximum, MaximumBackward0)


def _minimum(a: Tensor, b) -> Tensor:
    b = _as_tensor(b, a)
    return _binary(a, b, a.device.xp.minimum, MinimumBackward0)


def maximum(a: Tensor, b) -> Tensor:
    _tensor_other("maximum", b)
    return _maximum(a, b)


def minimum(a: Tensor, b) -> Tensor:
    _tensor_other("minimum", b)
    return _minimum(a, b)


class LerpBackward0(Node):
    """lerp(a, b, w) = a + w * (b - a) for a Python number w."""

    def __init__(self, a, b, w):
        super().__init__((a, b), ())
        self.w, self.shapes = w, (a._data.shape, b._data.shape)

    def backward(self, g):
        n = self.next_functions
        ga = sum_to(g * (1 - self.w), self.shapes[0]) if n[0][0] is not None else None
        gb = sum_to(g * self.w, self.shapes[1]) if n[1][0] is not None else None
        return ga, gb


class LerpBackward1(Node):
    """lerp with a tensor weight, which gets a gradient too."""

    def __init__(self, a, b, w):
        super().__init__((a, b, w), (a, b, w))

    def backward(self, g):
        a, b, w = self.saved_tensors
        n = self.next_functions
        ga = sum_to(g * (1 - w), a._data.shape) if n[0][0] is not None else None
        gb = sum_to(g * w, b._data.shape) if n[1][0] is not None else None
        gw = sum_to(g * (b - a), w._data.shape) if n[2][0] is not None else None
        return ga, gb, gw


def lerp(a: Tensor, end: Tensor, weight) -> Tensor:
    """a + weight * (end - a), elementwise (weight a number or a tensor)."""
    if not isinstance(end, Tensor):
        raise TypeError(f"lerp() received an invalid combination of arguments - got (Tensor, {type(end).__name__}, "
                        f"{type(weight).__name__})")
    for name, t in (("end", end), ("weight", weight)):  # lerp does not promote
        if isinstance(t, Tensor) and t._data.dtype != a._data.dtype:
            raise RuntimeError(f"expected dtype {c_type_name(a._data.dtype)} for `{name}` but got dtype "
                               f"{c_type_name(t._data.dtype)}")
    ad, bd, _ = prepare(a, end)
    is_tensor = isinstance(weight, Tensor)
    if ad.dtype.kind != "f":
        raise not_implemented("lerp_kernel_tensor" if is_tensor else "lerp_kernel_scalar", ad.dtype)
    wd = weight._data if is_tensor else weight
    try:
        data = ad + wd * (bd - ad)
    except ValueError:
        raise broadcast_error(a._data.shape, end._data.shape) from None
    out = _make(data.astype(ad.dtype, copy=False), a.device)
    if _GradMode.enabled and (a._requires_grad or end._requires_grad or getattr(weight, "_requires_grad", False)):
        record(out, LerpBackward1(a, end, weight) if is_tensor else LerpBackward0(a, end, weight))
    return out


class AddcmulBackward0(Node):
    """a + value * t1 * t2: a gets g, t1 gets g * value * t2, t2 gets g * value * t1 (each summed to its shape)."""

    def __init__(self, a, t1, t2, value):
        super().__init__((a, t1, t2), (t1, t2))
        self.value, self.shapes = value, (_shape(a), _shape(t1), _shape(t2))

    def backward(self, g):
        t1, t2 = self.saved_tensors
        n, v = self.next_functions, self.value
        return (sum_to(g, self.shapes[0]) if n[0][0] is not None else None,
                sum_to(self.partial(g * v, t1, t2, 1), self.shapes[1]) if n[1][0] is not None else None,
                sum_to(self.partial(g * v, t1, t2, 2), self.shapes[2]) if n[2][0] is not None else None)

    @staticmethod
    def partial(gv, t1, t2, which):
        return gv * (t2 if which == 1 else t1)


class AddcdivBackward0(AddcmulBackward0):
    @staticmethod
    def partial(gv, t1, t2, which):
        return gv / t2 if which == 1 else -gv * t1 / (t2 * t2)


def _addc(a: Tensor, t1: Tensor, t2: Tensor, value, product, node_cls) -> Tensor:
    """a + value * product(t1, t2), recorded as one node (PyTorch's AddcmulBackward0/AddcdivBackward0)."""
    if all(not isinstance(t, Tensor) or t._data.dtype.kind == "b" for t in (a, t1, t2)):
        raise not_implemented("addcmul_cpu_out" if node_cls is AddcmulBackward0 else "addcdiv_cpu_out", "bool")
    with _no_grad():
        out = a + value * product(t1, t2) if value != 1 else a + product(t1, t2)
    out = _make(out._data, out.device)
    if _GradMode.enabled and any(getattr(t, "_requires_grad", False) for t in (a, t1, t2)):
        record(out, node_cls(a, t1, t2, value))
    return out


@autocast_op("addcmul")
def addcmul(a: Tensor, t1: Tensor, t2: Tensor, *, value=1) -> Tensor:
    """a + value * t1 * t2, elementwise with broadcasting."""
    return _addc(a, t1, t2, value, operator.mul, AddcmulBackward0)


@autocast_op("addcdiv")
def addcdiv(a: Tensor, t1: Tensor, t2: Tensor, *, value=1) -> Tensor:
    """a + value * t1 / t2, elementwise with broadcasting."""
    if all(isinstance(t, Tensor) and t._data.dtype.kind in "biu" for t in (t1, t2)):
        from ..optim.swa_utils import _ADDCDIV_INTEGER  # (the message lives with the optimizer helper that needs it too)

        raise RuntimeError(_ADDCDIV_INTEGER)
    return _addc(a, t1, t2, value, operator.truediv, AddcdivBackward0)


# ---- where (here because the backward formulas above use it) --------------------------------------
class WhereBackward0(Node):
    def __init__(self, cond, a, b):
        super().__init__((a, b), ())
        self.cond = cond
        self.shapes = (_shape(a), _shape(b))
        # the operands that record no graph (numbers, constant tensors), for torch.onnx.export
        self.constants = tuple(None if getattr(t, "_requires_grad", False) else t for t in (a, b))

    def backward(self, g):
        c = self.cond
        n = self.next_functions
        zero = g * 0
        ga = sum_to(where(c, g, zero), self.shapes[0]) if n[0][0] is not None else None
        gb = sum_to(where(c, zero, g), self.shapes[1]) if n[1][0] is not None else None
        return ga, gb

    def _release_extra(self):
        self.cond = self.constants = None


def where(condition: Tensor, a=None, b=None):
    """where(cond, a, b): a where cond else b; where(cond) is nonzero(cond, as_tuple=True)."""
    if a is None and b is None:
        from .indexing import nonzero

        return nonzero(condition, as_tuple=True)
    like = a if isinstance(a, Tensor) else (b if isinstance(b, Tensor) else condition)
    xp = like.device.xp
    cd = condition._data
    if cd.dtype.kind != "b":
        raise RuntimeError("where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{type_word(cd.dtype)}")
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        rt = _dtype.result_type(a, b).np
    else:
        rt = _dtype.result_type(*(t for t in (a, b))).np
    ad = a._data if isinstance(a, Tensor) else a
    bd = b._data if isinstance(b, Tensor) else b
    try:
        data = xp.where(cd, ad, bd).astype(rt, copy=False)
    except ValueError:
        raise _first_broadcast_error(cd.shape, _shape(a), _shape(b)) from None
    out = _make(data, like.device)
    if _GradMode.enabled and (getattr(a, "_requires_grad", False) or getattr(b, "_requires_grad", False)):
        record(out, WhereBackward0(condition, a, b))
    return out


def _first_broadcast_error(*shapes) -> RuntimeError:
    """PyTorch's message for the first of `shapes` that does not broadcast with those before it."""
    import numpy as np

    shape = shapes[0]
    for s in shapes[1:]:
        try:
            shape = np.broadcast_shapes(shape, s)
        except ValueError:
            return broadcast_error(shape, s)
    return broadcast_error(shapes[0], shapes[-1])


# ---- comparisons and logic (no gradient) ----------------------------------------------------------
def _compare(a, b, fn):
    if not isinstance(a, Tensor):
        a = _as_tensor(a, b)
    ad, bd, _ = prepare(a, b)
    if type(bd) is int and ad.dtype.kind in "iu":
        bd = _fit_int(a.device.xp, bd, ad.dtype)
    if ad.dtype.kind == "c" and fn is not _op_eq and fn is not _op_ne:  # complex numbers have no order
        raise not_implemented(fn.__name__[len("_op_"):] + "_cpu", ad.dtype)
    try:
        return _make(fn(ad, bd), a.device)
    except ValueError:
        raise broadcast_error(a._data.shape, _shape(b)) from None


def _fit_int(xp, value: int, np_dtype):
    """PyTorch casts a Python int to the tensor's integer dtype before comparing (uint8 > -1 is False)."""
    info = xp.iinfo(np_dtype)
    return value if info.min <= value <= info.max else wrap_int(value, np_dtype)


def eq(a, b):
    if b is None:
        return False
    return _compare(a, b, _op_eq)


def ne(a, b):
    if b is None:
        return True
    return _compare(a, b, _op_ne)


def lt(a, b):
    return _compare(a, b, _op_lt)


def le(a, b):
    return _compare(a, b, _op_le)


def gt(a, b):
    return _compare(a, b, _op_gt)


def ge(a, b):
    return _compare(a, b, _op_ge)


def _op_eq(x, y): return x == y
def _op_ne(x, y): return x != y
def _op_lt(x, y): return x < y
def _op_le(x, y): return x <= y
def _op_gt(x, y): return x > y
def _op_ge(x, y): return x >= y


def _check_bitwise(a, b, kernel: str):
    for t in (a, b):
        if isinstance(t, float) or isinstance(t, Tensor) and t._data.dtype.kind == "f":
            raise not_implemented(kernel, _dtype.result_type(a, b).np)  # (named by the promoted dtype)


def bitwise_and(a, b):
    _check_bitwise(a, b, "bitwise_and_cpu")
    return _compare(a, b, _op_and)


def bitwise_or(a, b):
    _check_bitwise(a, b, "bitwise_or_cpu")
    return _compare(a, b, _op_or)


def bitwise_xor(a, b):
    _check_bitwise(a, b, "bitwise_xor_cpu")
    return _compare(a, b, _op_xor)


def _op_and(x, y): return x & y
def _op_or(x, y): return x | y
def _op_xor(x, y): return x ^ y


def bitwise_not(a: Tensor) -> Tensor:
    if a._data.dtype.kind == "f":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return _make(~a._data, a.device)


def logical_not(a: Tensor) -> Tensor:
    return _make(a.device.xp.logical_not(a._data), a.device)


def _tensor_other(name: str, b) -> None:
    """torch.logical_and & co. take a Tensor `other`, never a Python number."""
    if not isinstance(b, Tensor):
        raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not {type(b).__name__}")


def logical_and(a: Tensor, b) -> Tensor:
    _tensor_other("logical_and", b)
    return _compare(a, b, a.device.xp.logical_and)


def logical_or(a: Tensor, b) -> Tensor:
    _tensor_other("logical_or", b)
    return _compare(a, b, a.device.xp.logical_or)


def logical_xor(a: Tensor, b) -> Tensor:
    _tensor_other("logical_xor", b)
    return _compare(a, b, a.device.xp.logical_xor)


def isnan(a: Tensor) -> Tensor:
    return _make(a.device.xp.isnan(a._data), a.device)


def isinf(a: Tensor) -> Tensor:
    return _make(a.device.xp.isinf(a._data), a.device)


def isfinite(a: Tensor) -> Tensor:
    return _make(a.device.xp.isfinite(a._data), a.device)


def isclose(a: Tensor, b, rtol=1e-05, atol=1e-08, equal_nan=False) -> Tensor:
    b = _as_tensor(b, a)
    if a.dtype is not b.dtype:
        raise RuntimeError(f"{a.dtype} did not match {b.dtype}")
    return _make(a.device.xp.isclose(a._data, b._data, rtol=rtol, atol=atol, equal_nan=equal_nan), a.device)


def allclose(a: Tensor, b, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(isclose(a, b, rtol, atol, equal_nan)._data.all())


def equal(a: Tensor, b: Tensor) -> bool:
    return a._data.shape == b._data.shape and bool((a._data == b._data).all())


# ---- one-sided clamps and in-place comparisons (Tensor.clamp_min, x.eq_(y), ...) ----------------------
class ClampMinBackward0(ClampBackward1):
    pass


class ClampMaxBackward0(ClampBackward1):
    pass


class ClampMinBackward1(ClampBackward0):
    pass


class ClampMaxBackward1(ClampBackward0):
    pass


def _one_sided(x: Tensor, bound, is_min: bool) -> Tensor:
    lo, hi = (bound, None) if is_min else (None, bound)
    with _no_grad():
        out = clamp(x, lo, hi)
    out = _make(out._data, out.device)
    if _GradMode.enabled and (x._requires_grad or getattr(bound, "_requires_grad", False)):
        if isinstance(bound, Tensor):
            node = (ClampMinBackward1 if is_min else ClampMaxBackward1)(x, lo, hi)
        else:
            node = (ClampMinBackward0 if is_min else ClampMaxBackward0)(x, lo, hi)
        record(out, node)
    return out


def clamp_min(x: Tensor, min) -> Tensor:
    """max(x, min) elementwise (NaN stays NaN)."""
    if min is None:
        raise TypeError("clamp_min() missing 1 required positional arguments: \"min\"")
    return _one_sided(x, min, True)


def clamp_max(x: Tensor, max) -> Tensor:
    """min(x, max) elementwise (NaN stays NaN)."""
    if max is None:
        raise TypeError("clamp_max() missing 1 required positional arguments: \"max\"")
    return _one_sided(x, max, False)


class _ComparedInPlace(Node):
    """x.eq_(y) & co.: the result is piecewise constant, so every input gets a zero gradient."""

    def __init__(self, a, b):
        super().__init__((a, b), ())
        self.shapes = (_shape(a), _shape(b))

    def backward(self, g):
        zero = g * 0
        return tuple(sum_to(zero, s) if n[0] is not None else None for n, s in zip(self.next_functions, self.shapes))


def _compare_node(name: str, tensor_other: bool):
    suffix = "Backward1" if tensor_other else "Backward0"
    return type(name.capitalize() + suffix, (_ComparedInPlace,), {})


_COMPARISONS = {"eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge}
_COMPARE_NODES = {(n, t): _compare_node(n, t) for n in _COMPARISONS for t in (False, True)}


def compared_into(a: Tensor, b, name: str) -> Tensor:
    """The comparison `name` of a and b as 0/1 in a's dtype: the out-of-place op behind x.eq_(y) & co."""
    with _no_grad():
        out = _COMPARISONS[name](a, b)
    out = _make(out._data.astype(a._data.dtype), a.device)
    if _GradMode.enabled and (a._requires_grad or getattr(b, "_requires_grad", False)):
        record(out, _COMPARE_NODES[name, isinstance(b, Tensor)](a, b))
    return out
