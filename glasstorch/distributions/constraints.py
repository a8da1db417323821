"""Constraints: the sets a distribution's parameters and samples live in (torch.distributions.constraints).

`constraint.check(value)` gives a bool tensor of value's shape less the constraint's `event_dim`
rightmost dims: whether each event lies in the set. Checks read values only, so they run on the
arrays and record no graph.
"""
from __future__ import annotations

from .._ops._util import _make
from .._tensor import Tensor

__all__ = [
    "Constraint", "boolean", "dependent", "dependent_property", "greater_than", "greater_than_eq", "half_open_interval",
    "independent", "integer_interval", "interval", "is_dependent", "less_than", "lower_cholesky", "lower_triangular",
    "nonnegative", "nonnegative_integer", "one_hot", "positive", "positive_definite", "positive_integer", "real",
    "real_vector", "simplex", "square", "symmetric", "unit_interval",
]


def _bool(like: Tensor, array) -> Tensor:
    return _make(like.device.xp.asarray(array), like.device)


def _data(x):
    return x._data if isinstance(x, Tensor) else x


class Constraint:
    """A region a variable is valid in; `is_discrete` and `event_dim` (rightmost dims forming one event)."""

    is_discrete = False
    event_dim = 0

    def check(self, value: Tensor) -> Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.__class__.__name__[1:] + "()"


class _Dependent(Constraint):
    """A placeholder for a set that depends on other parameters (not checked)."""

    def __init__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        self._is_discrete = is_discrete
        self._event_dim = event_dim

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        if self._is_discrete is NotImplemented:
            raise NotImplementedError(".is_discrete cannot be determined statically")
        return self._is_discrete

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        if self._event_dim is NotImplemented:
            raise NotImplementedError(".event_dim cannot be determined statically")
        return self._event_dim

    def __call__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented) -> "_Dependent":
        if is_discrete is NotImplemented:
            is_discrete = self._is_discrete
        if event_dim is NotImplemented:
            event_dim = self._event_dim
        return _Dependent(is_discrete=is_discrete, event_dim=event_dim)

    def check(self, x):
        raise ValueError("Cannot determine validity of dependent constraint")


def is_dependent(constraint) -> bool:
    """Whether `constraint` is a dependent placeholder (validation skips those)."""
    return isinstance(constraint, _Dependent)


class _DependentProperty(property, _Dependent):
    """`@dependent_property`: a property on instances, a dependent constraint on the class."""

    def __init__(self, fn=None, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        property.__init__(self, fn)
        self._is_discrete = is_discrete
        self._event_dim = event_dim

    def __call__(self, fn) -> "_DependentProperty":  # type: ignore[override]
        return _DependentProperty(fn, is_discrete=self._is_discrete, event_dim=self._event_dim)


class _IndependentConstraint(Constraint):
    """`base_constraint` over events that also span `reinterpreted_batch_ndims` more rightmost dims."""

    def __init__(self, base_constraint: Constraint, reinterpreted_batch_ndims: int):
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return self.base_constraint.is_discrete

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        return self.base_constraint.event_dim + self.reinterpreted_batch_ndims

    def check(self, value):
        result = self.base_constraint.check(value)
        n = self.reinterpreted_batch_ndims
        if result.dim() < n:
            raise ValueError(f"Expected value.dim() >= {self.base_constraint.event_dim + n} but got {value.dim()}")
        d = result._data
        return _bool(result, d.reshape(d.shape[:d.ndim - n] + (-1,)).all(-1))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__[1:]}({self.base_constraint!r}, {self.reinterpreted_batch_ndims})"


class _Boolean(Constraint):
    is_discrete = True

    def check(self, value):
        d = value._data
        return _bool(value, (d == 0) | (d == 1))


class _OneHot(Constraint):
    is_discrete = True
    event_dim = 1

    def check(self, value):
        d = value._data
        return _bool(value, ((d == 0) | (d == 1)).all(-1) & (d.sum(-1) == 1))


class _IntegerInterval(Constraint):
    is_discrete = True

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value):
        d = value._data
        return _bool(value, (d % 1 == 0) & (_data(self.lower_bound) <= d) & (d <= _data(self.upper_bound)))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__[1:]}(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _IntegerGreaterThan(Constraint):
    is_discrete = True

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def check(self, value):
        d = value._data
        return _bool(value, (d % 1 == 0) & (d >= _data(self.lower_bound)))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__[1:]}(lower_bound={self.lower_bound})"


class _Real(Constraint):
    def check(self, value):
        d = value._data
        return _bool(value, d == d)  # everything but NaN (infinities count as real, as in PyTorch)


class _GreaterThan(Constraint):
    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def check(self, value):
        return _bool(value, _data(self.lower_bound) < value._data)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__[1:]}(lower_bound={self.lower_bound})"


class _GreaterThanEq(_GreaterThan):
    def check(self, value):
        return _bool(value, _data(self.lower_bound) <= value._data)


class _LessThan(Constraint):
    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, value):
        return _bool(value, value._data < _data(self.upper_bound))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__[1:]}(upper_bound={self.upper_bound})"


class _Interval(Constraint):
    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value):
        d = value._data
        return _bool(value, (_data(self.lower_bound) <= d) & (d <= _data(self.upper_bound)))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__[1:]}(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _HalfOpenInterval(_Interval):
    def check(self, value):
        d = value._data
        return _bool(value, (_data(self.lower_bound) <= d) & (d < _data(self.upper_bound)))


class _Simplex(Constraint):
    """Non-negative vectors summing to 1 (within 1e-6, as PyTorch)."""

    event_dim = 1

    def check(self, value):
        d = value._data
        xp = value.device.xp
        return _bool(value, (d >= 0).all(-1) & (xp.abs(d.sum(-1) - 1) < 1e-6))


class _LowerTriangular(Constraint):
    event_dim = 2

    def check(self, value):
        d = value._data
        xp = value.device.xp
        return _bool(value, (xp.tril(d) == d).reshape(d.shape[:-2] + (-1,)).min(-1))


class _LowerCholesky(Constraint):
    event_dim = 2

    def check(self, value):
        d = value._data
        xp = value.device.xp
        lower = (xp.tril(d) == d).reshape(d.shape[:-2] + (-1,)).min(-1)
        positive_diag = (xp.diagonal(d, axis1=-2, axis2=-1) > 0).min(-1)
        return _bool(value, lower & positive_diag)


class _Square(Constraint):
    event_dim = 2

    def check(self, value):
        d = value._data
        return _bool(value, value.device.xp.full(d.shape[:-2], d.shape[-2] == d.shape[-1], dtype=bool))


class _Symmetric(_Square):
    def check(self, value):
        square = super().check(value)
        if not bool(square._data.all()):
            return square
        d = value._data
        xp = value.device.xp
        close = xp.isclose(d, xp.swapaxes(d, -1, -2), atol=1e-6)
        return _bool(value, close.reshape(d.shape[:-2] + (-1,)).all(-1))


class _PositiveDefinite(_Symmetric):
    def check(self, value):
        sym = super().check(value)
        if not bool(sym._data.all()):
            return sym
        xp = value.device.xp
        return _bool(value, xp.linalg.eigvalsh(value._data).min(-1) > 0)


dependent = _Dependent()
dependent_property = _DependentProperty
independent = _IndependentConstraint
boolean = _Boolean()
one_hot = _OneHot()
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
integer_interval = _IntegerInterval
real = _Real()
real_vector = independent(real, 1)
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
unit_interval = _Interval(0.0, 1.0)
interval = _Interval
half_open_interval = _HalfOpenInterval
simplex = _Simplex()
lower_triangular = _LowerTriangular()
lower_cholesky = _LowerCholesky()
square = _Square()
symmetric = _Symmetric()
positive_definite = _PositiveDefinite()
