"""The legacy tensor types: torch.FloatTensor, torch.LongTensor, ... and torch.Tensor(...) itself.

In PyTorch these are not subclasses of Tensor but "tensor types": calling one makes an ordinary
Tensor of its dtype (from data, or uninitialised of a size), and `isinstance(x, torch.FloatTensor)`
asks whether x is a float32 tensor on the CPU. A metaclass gives the classes those two behaviours.
"""
from __future__ import annotations

import numbers

from . import _dtype
from ._tensor import _CPP_TYPE, Size, Tensor, _make

# name used in 'torch.<Name>Tensor' -> dtype
_NAMES = {"Float": _dtype.float32, "Double": _dtype.float64, "Half": _dtype.float16, "Long": _dtype.int64,
          "Int": _dtype.int32, "Short": _dtype.int16, "Char": _dtype.int8, "Byte": _dtype.uint8,
          "Bool": _dtype.bool}


def _options(d: _dtype.dtype) -> str:
    return (f"TensorOptions(dtype={_CPP_TYPE[d.name]}, device=cpu, layout=Strided, requires_grad=false (default), "
            "pinned_memory=false (default), memory_format=(nullopt))")


def _is_size(args) -> bool:
    """Whether the constructor's arguments are a size: ints, or one torch.Size."""
    if len(args) == 1 and isinstance(args[0], Size):
        return True
    return all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args)


def legacy_new(dtype: _dtype.dtype | None, args: tuple, device=None) -> Tensor:
    """What `torch.FloatTensor(*args)` (dtype float32) or `torch.Tensor(*args)` (dtype None) makes.

    No arguments: an empty 1-d tensor. Ints or a torch.Size: a tensor of that size (zero-filled here;
    PyTorch leaves it uninitialised). A tensor: that tensor's data, shared (its dtype must match).
    Anything else: a copy of the data, converted to the dtype."""
    from ._ops import creation

    want = dtype or _dtype.get_default_dtype()
    if len(args) == 1 and isinstance(args[0], Tensor):
        src = args[0]
        if dtype is not None and src.dtype is not dtype:
            raise TypeError(f"expected {_options(dtype)} (got {_options(src.dtype)})")
        out = _make(src._data, src.device)
        out._vc = src._vc  # an alias of src, as in PyTorch
        return out
    if _is_size(args):
        size = tuple(args[0]) if len(args) == 1 and isinstance(args[0], Size) else args
        return creation.zeros(size or (0,), dtype=want, device=device)
    if len(args) == 1:
        data = args[0]
        if isinstance(data, (numbers.Number, str)) or not hasattr(data, "__len__"):
            raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
        return creation.tensor(data, dtype=want, device=device)
    raise TypeError(f"new() received an invalid combination of arguments - got "
                    f"({', '.join(type(a).__name__ for a in args)})")


class _TensorType(type):
    """The metaclass of torch.FloatTensor & co.: calling makes a Tensor, isinstance checks the dtype."""

    def __call__(cls, *args, device=None) -> Tensor:
        return legacy_new(cls.dtype, args, device)

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype and obj.device.type == "cpu"


def _tensor_type(name: str, dtype: _dtype.dtype) -> type:
    cls = _TensorType(name + "Tensor", (), {"dtype": dtype, "__doc__": f"Legacy constructor of {dtype} tensors."})
    cls.__module__ = "glasstorch"
    return cls


FloatTensor = _tensor_type("Float", _dtype.float32)
DoubleTensor = _tensor_type("Double", _dtype.float64)
HalfTensor = _tensor_type("Half", _dtype.float16)
LongTensor = _tensor_type("Long", _dtype.int64)
IntTensor = _tensor_type("Int", _dtype.int32)
ShortTensor = _tensor_type("Short", _dtype.int16)
CharTensor = _tensor_type("Char", _dtype.int8)
ByteTensor = _tensor_type("Byte", _dtype.uint8)
BoolTensor = _tensor_type("Bool", _dtype.bool)


def type_target(t) -> tuple:
    """`x.type(t)`'s target as (dtype, device or None): a dtype, a tensor type or its name."""
    if isinstance(t, _TensorType):
        return t.dtype, "cpu"
    if isinstance(t, str):
        parts = t.split(".")
        cuda = parts[:2] == ["torch", "cuda"] and len(parts) == 3
        name = parts[-1]
        if (len(parts) == 2 and parts[0] == "torch" or cuda) and name.endswith("Tensor") and name[:-6] in _NAMES:
            return _NAMES[name[:-6]], ("cuda" if cuda else "cpu")
        raise ValueError(f"invalid type: '{t}'")
    from ._tensor import _dtype_arg

    return _dtype_arg(t), None
