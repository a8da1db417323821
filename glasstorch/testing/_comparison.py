"""torch.testing.assert_close: are two (nested) tensor-likes or numbers close?

The inputs are walked together (sequences item by item, mappings key by key) into pairs of leaves;
every leaf pair is checked before any is compared, so a bad input (a length mismatch, an unsupported
type, only one of rtol/atol) is reported ahead of a value mismatch, as PyTorch does. Each pair is then
compared; the first failing one raises, its message ending with "The failure occurred for item
[0]['key']" when it sits inside a container.

Leaves, in the order they are tried: None, bools, Python/NumPy numbers, tensors (and NumPy arrays,
turned into tensors, when both sides are of one type). Values are compared on the host with NumPy in
the pair's promoted dtype: |actual - expected| <= atol + rtol * |expected|, elementwise, with infinities
equal only to themselves and NaN equal to NaN only under equal_nan.
"""
from __future__ import annotations

import cmath
import collections.abc
import contextlib
import math
from typing import Any, Callable

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor

__all__ = ["assert_close", "default_tolerances"]

# {dtype: (rtol, atol)}: PyTorch's defaults; every other dtype (integers, bool) is compared exactly.
_DTYPE_PRECISIONS = {
    D.float16: (0.001, 1e-5),
    D.bfloat16: (0.016, 1e-5),
    D.float32: (1.3e-6, 1e-5),
    D.float64: (1e-7, 1e-7),
    D.complex64: (1.3e-6, 1e-5),
    D.complex128: (1e-7, 1e-7),
}
# A Python number is compared with the tolerances of the dtype torch would give it.
_NUMBER_DTYPES = {int: D.int64, float: D.float64, complex: D.complex128}


class _Failure(Exception):
    """A comparison failed: the exception class to raise, its message, and where in the inputs."""

    def __init__(self, kind: type[Exception], msg: str, where: tuple = ()):
        super().__init__(msg)
        self.kind, self.msg, self.where = kind, msg, where

    def to_error(self, msg: str | Callable[[str], str] | None = None) -> Exception:
        if isinstance(msg, str):  # the caller's message replaces ours whole
            return self.kind(msg)
        text = self.msg
        if self.where:
            text += "\n\nThe failure occurred for item " + "".join(str([key]) for key in self.where)
        return self.kind(msg(text) if callable(msg) else text)


def default_tolerances(*inputs, dtype_precisions: dict | None = None) -> tuple[float, float]:
    """The loosest (rtol, atol) of the inputs' dtypes (tensors or dtypes)."""
    table = dtype_precisions or _DTYPE_PRECISIONS
    dtypes = []
    for x in inputs:
        if isinstance(x, Tensor):
            dtypes.append(x.dtype)
        elif isinstance(x, D.dtype):
            dtypes.append(x)
        else:
            raise TypeError(f"Expected a torch.Tensor or a torch.dtype, but got {type(x)} instead.")
    rtols, atols = zip(*[table.get(d, (0.0, 0.0)) for d in dtypes])
    return max(rtols), max(atols)


def _tolerances(*inputs, rtol, atol, where) -> tuple[float, float]:
    if (rtol is None) != (atol is None):  # one alone would surprise: atol=0 still passes by rtol
        raise _Failure(ValueError, "Both 'rtol' and 'atol' must be either specified or omitted, "
                                   f"but got no {'rtol' if rtol is None else 'atol'}.", where)
    if rtol is not None:
        return rtol, atol
    return default_tolerances(*inputs)


# ---- messages ------------------------------------------------------------------------------------------
def _mismatch_msg(identifier, extra: str, abs_diff, abs_idx, atol: float, rel_diff, rel_idx, rtol: float) -> str:
    equality = rtol == 0 and atol == 0

    def line(kind: str, diff, idx, tol) -> str:
        if idx is None:
            text = f"{kind.title()} difference: {diff}"
        else:
            text = f"Greatest {kind} difference: {diff} at index {idx}"
        return text + ("" if equality else f" (up to {tol} allowed)") + "\n"

    if identifier is None:
        identifier = "Scalars" if abs_idx is None else "Tensor-likes"
    msg = f"{identifier} are not {'equal' if equality else 'close'}!\n\n{extra.strip()}\n"
    msg += line("absolute", abs_diff, abs_idx, atol) + line("relative", rel_diff, rel_idx, rtol)
    return msg.strip()


def _scalar_mismatch_msg(actual, expected, rtol: float, atol: float) -> str:
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return _mismatch_msg("Scalars", f"Expected {expected} but got {actual}.", abs_diff, None, atol,
                         rel_diff, None, rtol)


def _floating(a: np.ndarray) -> bool:
    """Floating or complex (ml_dtypes' bfloat16 is a float NumPy files under kind 'V')."""
    return a.dtype.kind in "fc" or a.dtype.name == "bfloat16"


def _item(x):
    """A NumPy scalar as the Python number tensor.item() gives (bfloat16 too)."""
    return x.item() if x.dtype.kind in "biufc" else float(x)


def _abs(x: np.ndarray) -> np.ndarray:
    """|x| as torch computes it: a complex magnitude correctly rounded (NumPy's hypot can be an ulp off).

    complex64: from double, which is exact enough to round once. complex128: from long double, within
    an ulp where that is wider than double (x86); `_hypot` gives the printed values exactly.
    """
    if x.dtype == np.complex64:
        return np.abs(x.astype(np.complex128)).astype(np.float32)
    if x.dtype == np.complex128:
        re, im = x.real.astype(np.longdouble), x.imag.astype(np.longdouble)
        return np.sqrt(re * re + im * im).astype(np.float64)
    return np.abs(x)


def _hypot(z) -> float:
    return math.hypot(z.real, z.imag)


def _tensor_mismatch_msg(a: np.ndarray, e: np.ndarray, matches: np.ndarray, rtol: float, atol: float) -> str:
    """Mismatch count and the greatest absolute/relative difference among the mismatched elements."""
    total = matches.size
    wrong = total - int(matches.sum())
    extra = f"Mismatched elements: {wrong} / {total} ({wrong / total:.1%})"
    integral = not _floating(a)
    if integral:  # integers and bools: differences in int64, as torch upcasts them
        a, e = a.astype(np.int64), e.astype(np.int64)
    with np.errstate(all="ignore"):
        abs_diff = _abs(a - e).reshape(-1)
        abs_diff[matches.reshape(-1)] = 0
        rel_diff = abs_diff / _abs(e).reshape(-1)
        if integral:  # int64 / int64 is a true division into torch's default float dtype
            rel_diff = rel_diff.astype(D.get_default_dtype().np)
        rel_diff[matches.reshape(-1)] = 0
    abs_at, rel_at = int(np.argmax(abs_diff)), int(np.argmax(rel_diff))  # argmax: the first NaN, as torch.max

    def index(flat: int) -> tuple:
        return tuple(int(i) for i in np.unravel_index(flat, matches.shape))

    abs_value, rel_value = _item(abs_diff[abs_at]), _item(rel_diff[rel_at])
    if a.dtype == np.complex128:  # the printed digits, correctly rounded
        diff, flat_e, flat_matches = (a - e).reshape(-1), e.reshape(-1), matches.reshape(-1)
        if not flat_matches[abs_at]:
            abs_value = _hypot(diff[abs_at])
        if not flat_matches[rel_at] and _hypot(flat_e[rel_at]) != 0:
            rel_value = _hypot(diff[rel_at]) / _hypot(flat_e[rel_at])
    return _mismatch_msg(None, extra, abs_value, index(abs_at), atol, rel_value, index(rel_at), rtol)


# ---- leaf pairs -----------------------------------------------------------------------------------------
class _Unsupported(Exception):
    """This kind of pair cannot take these inputs: try the next kind."""


class _Pair:
    def __init__(self, actual, expected, where: tuple):
        self.actual, self.expected, self.where = actual, expected, where

    def fail(self, msg: str, kind: type[Exception] = AssertionError):
        raise _Failure(kind, msg, self.where)


class _NonePair(_Pair):
    def __init__(self, actual, expected, where, **options):
        if actual is not None and expected is not None:
            raise _Unsupported
        super().__init__(actual, expected, where)

    def compare(self) -> None:
        if not (self.actual is None and self.expected is None):
            self.fail(f"None mismatch: {self.actual} is not {self.expected}")


class _BooleanPair(_Pair):
    def __init__(self, actual, expected, where, **options):
        if not all(isinstance(x, (bool, np.bool_)) for x in (actual, expected)):
            raise _Unsupported
        super().__init__(bool(actual), bool(expected), where)

    def compare(self) -> None:
        if self.actual is not self.expected:
            self.fail(f"Booleans mismatch: {self.actual} is not {self.expected}")


class _NumberPair(_Pair):
    def __init__(self, actual, expected, where, rtol=None, atol=None, equal_nan=False, check_dtype=False, **options):
        if not all(isinstance(x, (int, float, complex, np.number)) for x in (actual, expected)):
            raise _Unsupported
        actual, expected = (x.item() if isinstance(x, np.number) else x for x in (actual, expected))
        super().__init__(actual, expected, where)
        dtypes = [_NUMBER_DTYPES[type(x)] for x in (actual, expected)]
        self.rtol, self.atol = _tolerances(*dtypes, rtol=rtol, atol=atol, where=where)
        self.equal_nan, self.check_dtype = equal_nan, check_dtype

    def compare(self) -> None:
        a, e = self.actual, self.expected
        if self.check_dtype and type(a) is not type(e):
            self.fail(f"The (d)types do not match: {type(a)} != {type(e)}.")
        if a == e or (self.equal_nan and cmath.isnan(a) and cmath.isnan(e)):
            return
        diff = abs(a - e)
        if cmath.isfinite(diff) and diff <= self.atol + self.rtol * abs(e):
            return
        self.fail(_scalar_mismatch_msg(a, e, self.rtol, self.atol))


class _TensorLikePair(_Pair):
    def __init__(self, actual, expected, where, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, **options):
        related = isinstance(actual, type(expected)) or isinstance(expected, type(actual))
        if not related or (not allow_subclasses and type(actual) is not type(expected)):
            raise _Unsupported
        actual, expected = self._to_tensor(actual), self._to_tensor(expected)
        super().__init__(actual, expected, where)
        self.rtol, self.atol = _tolerances(actual, expected, rtol=rtol, atol=atol, where=where)
        self.equal_nan, self.check_device, self.check_dtype = equal_nan, check_device, check_dtype
        self.check_stride = check_stride  # check_layout: glasstorch has only strided tensors

    @staticmethod
    def _to_tensor(x) -> Tensor:
        if isinstance(x, Tensor):
            return x
        from .._ops.creation import as_tensor

        try:
            return as_tensor(x)
        except Exception:
            raise _Unsupported from None

    def _attribute_mismatch(self, name: str, a, e):
        self.fail(f"The values for attribute '{name}' do not match: {a} != {e}.")

    def compare(self) -> None:
        a, e = self.actual, self.expected
        if a.shape != e.shape:
            self._attribute_mismatch("shape", a.shape, e.shape)
        if self.check_stride and a.stride() != e.stride():
            self._attribute_mismatch("stride()", a.stride(), e.stride())
        if self.check_device and a.device != e.device:
            self._attribute_mismatch("device", a.device, e.device)
        if self.check_dtype and a.dtype != e.dtype:
            self._attribute_mismatch("dtype", a.dtype, e.dtype)
        self._compare_values(*self._host_arrays(a, e))

    @staticmethod
    def _host_arrays(a: Tensor, e: Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Both as NumPy arrays of their promoted dtype (the comparison runs on the host)."""
        dtype = D.promote_types(a.dtype, e.dtype) if a.dtype != e.dtype else a.dtype
        return tuple(t.device.backend.to_numpy(t._data).astype(dtype.np, copy=False) for t in (a, e))

    def _compare_values(self, a: np.ndarray, e: np.ndarray) -> None:
        matches = _isclose(a, e, self.rtol, self.atol, self.equal_nan)
        if matches.all():
            return
        if a.ndim == 0:
            self.fail(_scalar_mismatch_msg(_item(a[()]), _item(e[()]), self.rtol, self.atol))
        self.fail(_tensor_mismatch_msg(a, e, matches, self.rtol, self.atol))


def _isclose(a: np.ndarray, e: np.ndarray, rtol: float, atol: float, equal_nan: bool) -> np.ndarray:
    """torch.isclose on arrays, in the arrays' own precision (float32 rounds as it does in torch)."""
    close = a == e
    floating = _floating(a)
    if equal_nan and floating:
        close |= np.isnan(a) & np.isnan(e)
    if rtol == 0 and atol == 0:
        return close
    if not floating:  # integers and bools with a tolerance: measured in the default float dtype
        a, e = a.astype(D.get_default_dtype().np), e.astype(D.get_default_dtype().np)
    with np.errstate(all="ignore"):
        allowed = atol + _abs(rtol * e)
        actual = _abs(a - e)
        close |= np.isfinite(actual) & (actual <= allowed)
    return close


_PAIR_TYPES = (_NonePair, _BooleanPair, _NumberPair, _TensorLikePair)


def _pairs(actual, expected, where: tuple, options: dict) -> list[_Pair]:
    """The leaf pairs of two nested inputs (sequences by position, mappings by key)."""
    seq = collections.abc.Sequence
    if isinstance(actual, seq) and isinstance(expected, seq) and not isinstance(actual, str) \
            and not isinstance(expected, str):
        if len(actual) != len(expected):
            raise _Failure(AssertionError,
                           f"The length of the sequences mismatch: {len(actual)} != {len(expected)}", where)
        return [p for i in range(len(actual)) for p in _pairs(actual[i], expected[i], (*where, i), options)]
    if isinstance(actual, collections.abc.Mapping) and isinstance(expected, collections.abc.Mapping):
        a_keys, e_keys = set(actual.keys()), set(expected.keys())
        if a_keys != e_keys:
            raise _Failure(AssertionError, "The keys of the mappings do not match:\n"
                                           f"Missing keys in the actual mapping: {sorted(e_keys - a_keys)}\n"
                                           f"Additional keys in the actual mapping: {sorted(a_keys - e_keys)}", where)
        keys = list(a_keys)
        with contextlib.suppress(Exception):
            keys = sorted(keys)
        return [p for k in keys for p in _pairs(actual[k], expected[k], (*where, k), options)]
    for pair_type in _PAIR_TYPES:
        try:
            return [pair_type(actual, expected, where, **options)]
        except _Unsupported:
            continue
        except _Failure:
            raise
        except Exception as error:  # an input no pair foresaw (a bool against an int): PyTorch's class
            raise RuntimeError(f"Originating a {pair_type.__name__.lstrip('_')}() at item "
                               f"{''.join(str([key]) for key in where)} with\n\n{type(actual).__name__}(): {actual}"
                               f"\n\nand\n\n{type(expected).__name__}(): {expected}\n\nresulted in the unexpected "
                               "exception above.") from error
    raise _Failure(TypeError, f"No comparison pair was able to handle inputs of type {type(actual)} and "
                              f"{type(expected)}.", where)


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True, rtol: float | None = None,
                 atol: float | None = None, equal_nan: bool = False, check_device: bool = True,
                 check_dtype: bool = True, check_layout: bool = True, check_stride: bool = False,
                 msg: str | Callable[[str], str] | None = None) -> None:
    """Raise AssertionError unless `actual` and `expected` are close (PyTorch's rules and messages).

    Both may be tensors, NumPy arrays, numbers, bools, None, or sequences/mappings of those, nested.
    Omitted rtol/atol take the loosest of the two dtypes' defaults (float32: 1.3e-6, 1e-5; float64:
    1e-7, 1e-7; integers and bool: exact). `msg` replaces the message (a string) or edits it (a callable).
    """
    __tracebackhide__ = True
    options = dict(allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan,
                   check_device=check_device, check_dtype=check_dtype, check_layout=check_layout,
                   check_stride=check_stride)
    try:
        pairs = _pairs(actual, expected, (), options)
    except _Failure as failure:
        raise failure.to_error() from None
    for pair in pairs:
        try:
            pair.compare()
        except _Failure as failure:
            raise failure.to_error(msg) from None
