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
