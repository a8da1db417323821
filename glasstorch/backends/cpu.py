"""The CPU backend: NumPy."""
from __future__ import annotations

import numpy as np

from . import special

name = "cpu"
xp = np
ndarray = np.ndarray
# what NumPy returns instead of a 0-d array from ufuncs and reductions
SCALAR_TYPES = frozenset({np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8,
                          np.bool_})


def erf(a: np.ndarray) -> np.ndarray:
    return special.erf(np, a)


def erfc(a: np.ndarray) -> np.ndarray:
    return special.erfc(np, a)


def scatter_add(target: np.ndarray, index, values) -> np.ndarray:
    """target[index] += values, accumulating over repeated indices (in place)."""
    np.add.at(target, index, values)
    return target


def view_positions(view: np.ndarray, base: np.ndarray) -> np.ndarray:
    """For each element of `view` (a view into `base`), its index in base.reshape(-1)."""
    if not base.flags.c_contiguous:
        raise RuntimeError("in-place operation on a view of a non-contiguous tensor that requires grad: "
                           "call .contiguous() on the base tensor first")
    item = base.itemsize
    offset = (view.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // item
    flat = np.arange(base.size, dtype=np.int64)
    strides = tuple(s // item * flat.itemsize for s in view.strides)
    return np.lib.stride_tricks.as_strided(flat[offset:], view.shape, strides).copy()


def to_numpy(a: np.ndarray) -> np.ndarray:
    return a


def from_numpy(a: np.ndarray) -> np.ndarray:
    return a


def is_array(a) -> bool:
    return isinstance(a, np.ndarray)
