"""torch.finfo and torch.iinfo: the numeric limits of a dtype (NumPy's, or ml_dtypes' for bfloat16)."""
from __future__ import annotations

import math

import numpy as np

from . import _dtype


class finfo:
    """Limits of a floating-point dtype (a complex dtype: of its parts); `finfo()` is the default dtype's."""

    def __init__(self, type: _dtype.dtype | None = None) -> None:  # noqa: A002  (PyTorch's argument name)
        d = _dtype.get_default_dtype() if type is None else type
        if not isinstance(d, _dtype.dtype) or not (d.is_floating_point or d.is_complex):
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            "'torch.finfo'")
        d = d.to_real()
        if d is _dtype.bfloat16:
            import ml_dtypes

            info = ml_dtypes.finfo(d.np)
        else:
            info = np.finfo(d.np)
        self.bits = int(info.bits)
        self.eps, self.max, self.min = float(info.eps), float(info.max), float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -math.floor(-math.log10(self.eps))  # as PyTorch: a power of ten
        self.dtype = d.name

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype."""

    def __init__(self, type: _dtype.dtype) -> None:  # noqa: A002
        if not isinstance(type, _dtype.dtype) or type.category not in (_dtype._INT, _dtype._BOOL):
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle 'torch.iinfo'")
        info = np.iinfo(type.np) if type is not _dtype.bool else np.iinfo(np.uint8)
        self.bits = type.itemsize * 8
        self.max, self.min = int(info.max), int(info.min)
        self.dtype = type.name

    def __repr__(self) -> str:
        return f"iinfo(min={float(self.min):g}, max={float(self.max):g}, dtype={self.dtype})"
