"""Padding layers: constant (and zero), reflection, replication and circular padding of 1 or 2 dims."""
from __future__ import annotations

from ..._tensor import Tensor
from .. import functional as F
from .module import Module
from .utils import _pair, _quadruple

__all__ = ["ConstantPad1d", "ConstantPad2d", "ZeroPad1d", "ZeroPad2d", "ReflectionPad1d", "ReflectionPad2d",
           "ReplicationPad1d", "ReplicationPad2d", "CircularPad1d", "CircularPad2d"]


class _ConstantPadNd(Module):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with `value`: padding = (before, after) or an int for both."""

    def __init__(self, padding, value: float) -> None:
        super().__init__(value)
        self.padding = _pair(padding)


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dims with `value`: padding = (left, right, top, bottom) or an int for all."""

    def __init__(self, padding, value: float) -> None:
        super().__init__(value)
        self.padding = _quadruple(padding)


class ZeroPad1d(ConstantPad1d):
    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ModePadNd(Module):
    mode = "reflect"

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _Pad1d(_ModePadNd):
    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _pair(padding)


class _Pad2d(_ModePadNd):
    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _quadruple(padding)


class ReflectionPad1d(_Pad1d):
    """Pad the last dim with its mirror image (the edge not repeated)."""

    mode = "reflect"


class ReflectionPad2d(_Pad2d):
    mode = "reflect"


class ReplicationPad1d(_Pad1d):
    """Pad the last dim by repeating its edge values."""

    mode = "replicate"


class ReplicationPad2d(_Pad2d):
    mode = "replicate"


class CircularPad1d(_Pad1d):
    """Pad the last dim by wrapping around (periodic boundary)."""

    mode = "circular"


class CircularPad2d(_Pad2d):
    mode = "circular"
