"""dtypes and PyTorch's type-promotion rules: the one table the whole library uses."""
from __future__ import annotations

import builtins

import numpy as np

__all__ = ["dtype", "float16", "bfloat16", "float32", "float64", "complex64", "complex128", "int32", "int64",
           "uint8", "int8", "int16", "bool"]

_BOOL, _INT, _FLOAT, _COMPLEX = 0, 1, 2, 3  # promotion categories, lowest first


class dtype:
    """A tensor element type; `repr` is PyTorch's (`torch.float32`)."""

    __slots__ = ("name", "np", "category", "itemsize", "is_floating_point", "is_signed", "_aliases")

    def __init__(self, name: str, np_dtype, category: int, aliases=()):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.category = category
        self.itemsize = self.np.itemsize
        self.is_floating_point = category == _FLOAT
        self.is_signed = name not in ("uint8", "bool")
        self._aliases = aliases

    @property
    def is_complex(self) -> builtins.bool:
        return self.category == _COMPLEX

    def __repr__(self) -> str:
        return "torch." + self.name

    def __reduce__(self):
        return (_by_name, (self.name,))

    def to_real(self) -> "dtype":
        """The dtype of a complex dtype's parts (complex64 -> float32); others are their own."""
        return _REAL_OF.get(self.name, self)

    def to_complex(self) -> "dtype":
        """The complex dtype with parts of this dtype (float32 -> complex64)."""
        if self.category == _COMPLEX:
            return self
        try:
            return _COMPLEX_OF[self.name]
        except KeyError:
            what = "complex32 (ComplexHalf), which glasstorch does not have" if self is float16 else "none"
            raise RuntimeError(f"Unsupported dtype {self.name}: its complex counterpart is {what}") from None


class _OptionalDtype(dtype):
    """A dtype whose NumPy type comes from an optional package (bfloat16: `ml_dtypes`).

    It exists either way, so `torch.bfloat16` can be named; making an array of it without the
    package is an ImportError that says what to install."""

    __slots__ = ("_np", "_package", "_extra")

    def __init__(self, name: str, np_dtype, category: int, itemsize: int, package: str, extra: str):
        self.name, self._np, self.category, self.itemsize = name, np_dtype, category, itemsize
        self.is_floating_point = category == _FLOAT
        self.is_signed = True
        self._aliases = ()
        self._package, self._extra = package, extra

    @property
    def np(self):
        if self._np is None:
            raise ImportError(f"torch.{self.name} tensors need the '{self._package}' package: "
                              f"pip install {self._package}  (or glasstorch[{self._extra}])")
        return self._np


def _ml_dtype(name: str):
    try:
        import ml_dtypes
    except ImportError:
        return None
    return np.dtype(getattr(ml_dtypes, name))


float16 = dtype("float16", np.float16, _FLOAT, ("half",))
float32 = dtype("float32", np.float32, _FLOAT, ("float",))
float64 = dtype("float64", np.float64, _FLOAT, ("double",))
bfloat16 = _OptionalDtype("bfloat16", _ml_dtype("bfloat16"), _FLOAT, 2, "ml_dtypes", "bfloat16")
complex64 = dtype("complex64", np.complex64, _COMPLEX, ("cfloat",))
complex128 = dtype("complex128", np.complex128, _COMPLEX, ("cdouble",))
uint8 = dtype("uint8", np.uint8, _INT)
int8 = dtype("int8", np.int8, _INT)
int16 = dtype("int16", np.int16, _INT, ("short",))
int32 = dtype("int32", np.int32, _INT, ("int",))
int64 = dtype("int64", np.int64, _INT, ("long",))
bool = dtype("bool", np.bool_, _BOOL)  # noqa: A001  (torch.bool)

ALL = (float16, float32, float64, complex64, complex128, uint8, int8, int16, int32, int64, bool)
_FROM_NP = {d.np: d for d in ALL}
if bfloat16._np is not None:
    _FROM_NP[bfloat16.np] = bfloat16
_NAMES = {d.name: d for d in ALL + (bfloat16,)}
_REAL_OF = {"complex64": float32, "complex128": float64}
_COMPLEX_OF = {"float32": complex64, "float64": complex128, "bfloat16": complex64}  # no complex32 here
for _d in ALL:
    for _a in _d._aliases:
        _NAMES[_a] = _d


def _by_name(name: str) -> dtype:
    return _NAMES[name]


def from_numpy_dtype(np_dtype) -> dtype:
    """The glasstorch dtype of a NumPy dtype; TypeError for ones PyTorch has no tensor for."""
    try:
        return _FROM_NP[np_dtype]
    except KeyError:
        pass
    try:
        return _FROM_NP[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        raise TypeError(
            f"can't convert np.ndarray of type {np.dtype(np_dtype)}. The only supported types are: "
            "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint8, and bool."
        ) from None


# ---- default dtype ------------------------------------------------------------------------------
_default = [float32]


def get_default_dtype() -> dtype:
    return _default[0]


def set_default_dtype(d: dtype) -> None:
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _default[0] = d


# ---- promotion ----------------------------------------------------------------------------------
def promote_types(a: dtype, b: dtype) -> dtype:
    """PyTorch's promote_types: the higher category wins; within one, NumPy's lattice."""
    if a is b:
        return a
    if a.category != b.category:
        high, low = (a, b) if a.category > b.category else (b, a)
        if high.category == _COMPLEX and low.category == _FLOAT:  # float64 + complex64 -> complex128
            return _FROM_NP[np.promote_types(low.np, high.np)]
        return high
    return _FROM_NP[np.promote_types(a.np, b.np)]  # (with ml_dtypes, bfloat16 + float16 -> float32)


def scalar_dtype(value) -> dtype:
    """The dtype a Python number takes when it is wrapped into a tensor."""
    if isinstance(value, (builtins.bool, np.bool_)):
        return bool
    if isinstance(value, (int, np.integer)):
        return int64
    if isinstance(value, (complex, np.complexfloating)):
        return _default[0].to_complex()
    return _default[0]


def _combine(higher, lower):
    """Fold a lower-priority operand's dtype in (zero-dim tensors, then Python scalars)."""
    if higher is None:
        return lower
    if lower is None or higher.category == _COMPLEX:
        return higher
    if lower.category == _COMPLEX:  # a float keeps its width (float64 + 1j -> complex128); ints take lower's
        return higher.to_complex() if higher.category == _FLOAT else lower
    if higher.category == _FLOAT:
        return higher
    if higher.category == _BOOL or lower.category > higher.category:
        return promote_types(higher, lower)
    return higher


def result_type(*operands) -> dtype:
    """torch.result_type over tensors and Python scalars.

    Dimensioned tensors take priority over zero-dim tensors, which take priority over Python
    numbers, unless the lower-priority operand is of a higher category (int -> float).
    """
    dim = zero = wrapped = None
    for x in operands:
        d = getattr(x, "dtype", None)
        if isinstance(d, dtype):
            if x.ndim:
                dim = d if dim is None else promote_types(dim, d)
            else:
                zero = d if zero is None else promote_types(zero, d)
        else:
            d = scalar_dtype(x)
            # a float scalar's category matters, its width does not: use the default dtype
            wrapped = d if wrapped is None else promote_types(wrapped, d)
    return _combine(dim, _combine(zero, wrapped))
