"""nn.Parameter (a tensor a Module registers as learnable) and nn.Buffer (one it registers as state)."""
from __future__ import annotations

from .._ops.creation import empty
from .._tensor import Tensor, _make


class Parameter(Tensor):
    """A leaf tensor that shares `data`'s array and, by default, requires grad.

    Assigning one to a Module attribute registers it, so `module.parameters()` finds it.
    Operations on a Parameter return plain Tensors.
    """

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"_make_subclass(): argument 'data' (position 2) must be Tensor, not {type(data).__name__}")
        if requires_grad and not data.dtype.is_floating_point:
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        self = _make(data._data, data.device)
        self.__class__ = cls
        self._vc = data._vc  # like detach(): the array is shared, so in-place writes are seen by both
        self._requires_grad = bool(requires_grad)
        return self

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        pass  # __new__ did the work; Tensor.__init__ would rebuild the data

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        out = type(self)(_make(self._data.copy(), self.device), self._requires_grad)
        memo[id(self)] = out
        return out

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.detach(), self._requires_grad))


def _rebuild_parameter(data: Tensor, requires_grad: bool) -> Parameter:
    return Parameter(data, requires_grad)


class _BufferMeta(type):
    """isinstance(t, Buffer) is true for tensors made by Buffer(...) (which are plain Tensors)."""

    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)


class Buffer(metaclass=_BufferMeta):
    """`Buffer(data, persistent=True)`: assigning it to a Module attribute registers a buffer."""

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True):
        if data is None:
            data = empty(0)
        t = data.detach().requires_grad_(data.requires_grad)
        t._is_buffer = True
        t.persistent = persistent
        return t


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet: a lazy module's (nn.LazyLinear, ...) until its first
    forward, when `materialize(shape)` gives it an array and turns it into a plain Parameter (the same
    object, so an optimizer built before the first forward updates it)."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device=None, dtype=None):
        return Parameter.__new__(cls, empty(0, device=device, dtype=dtype), requires_grad)

    def __init__(self, requires_grad: bool = True, device=None, dtype=None) -> None:
        pass

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Give the parameter an (uninitialised) array of `shape`; it becomes a Parameter."""
        data = empty(tuple(shape), device=device or self.device, dtype=dtype or self.dtype)
        self._data = data._data
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. This error usually "
                           "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
                           "initialized one. Call `forward` to initialize the parameters before accessing their "
                           "attributes.")

    def __repr__(self) -> str:
        return "<UninitializedParameter>"

    __str__ = __repr__

    def detach(self) -> "UninitializedParameter":  # (state_dict's entry: still without a shape)
        return UninitializedParameter(False, self.device, self.dtype)

    def __deepcopy__(self, memo):
        out = memo[id(self)] = UninitializedParameter(self._requires_grad, self.device, self.dtype)
        return out


def is_lazy(param) -> bool:
    """Whether `param` is an uninitialized parameter of a lazy module."""
    return isinstance(param, UninitializedParameter)
