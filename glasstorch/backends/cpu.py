"""The CPU backend: NumPy."""
from __future__ import annotations

import sys

import numpy as np

from . import _views, special

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
    rows = _row_index(target, index, values)
    if rows is None or not _add_rows(target, rows, values):
        np.add.at(target, index, values)
    return target


# np.add.at goes element by element (~1.7 us per 256-wide row); rows of at least this many elements are
# cheaper to add as whole rows with fancy indexing, a few passes over the distinct indices.
_MIN_ROW = 32
# A row repeated more often than this (a tiny vocabulary) would need that many passes: np.add.at is cheaper.
_MAX_PASSES = 16


def _row_index(target: np.ndarray, index, values):
    """The integer array of `target[index] += values` when that adds whole rows of equal-typed values, else None."""
    if isinstance(index, tuple):
        if len(index) != 1:
            return None
        index = index[0]
    if not (isinstance(index, np.ndarray) and index.dtype.kind in "iu" and target.ndim >= 2):
        return None
    row = target.size // max(target.shape[0], 1)
    if (row < _MIN_ROW or not isinstance(values, np.ndarray) or values.dtype != target.dtype
            or values.shape != index.shape + target.shape[1:] or np.may_share_memory(target, values)):
        return None  # (values read from target itself: a later pass would see an earlier one's sums)
    return index


def _add_rows(target: np.ndarray, index: np.ndarray, values: np.ndarray) -> bool:
    """target[index] += values row by row, in np.add.at's order: the k-th occurrence of each row is added in
    pass k, so every row receives its values in index order (bit-identical sums). False when too many passes."""
    n = target.shape[0]
    flat = index.reshape(-1).astype(np.int64, copy=False)
    if flat.size and (flat.min() < -n or flat.max() >= n):
        return False  # np.add.at raises the IndexError, before touching target
    flat = np.where(flat < 0, flat + n, flat)  # -1 and n-1 are one row: they must land in different passes
    rows = values.reshape((flat.size,) + target.shape[1:])
    order = np.argsort(flat, kind="stable")  # stable: equal rows keep index order
    ranked = flat[order]
    first = np.empty(ranked.size, dtype=bool)
    first[:1] = True
    np.not_equal(ranked[1:], ranked[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    occurrence = np.arange(ranked.size) - np.repeat(starts, np.diff(np.append(starts, ranked.size)))
    passes = int(occurrence.max()) + 1 if occurrence.size else 0
    if passes > _MAX_PASSES:
        return False
    by_pass = order[np.argsort(occurrence, kind="stable")]
    begin = 0
    for end in np.cumsum(np.bincount(occurrence, minlength=passes)).tolist():
        take = by_pass[begin:end]  # distinct rows: plain fancy-index += is exact here
        target[flat[take]] += rows[take]
        begin = end
    return True


def view_positions(view: np.ndarray, base: np.ndarray) -> np.ndarray:
    """For each element of `view` (a view into `base`), its index in base.reshape(-1)."""
    offset = view.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    return _views.view_positions(np, view, base, offset)


def to_numpy(a: np.ndarray) -> np.ndarray:
    return a


def from_numpy(a: np.ndarray) -> np.ndarray:
    return a


def is_array(a) -> bool:
    return isinstance(a, np.ndarray)


# ---- Python numbers as operands ------------------------------------------------------------------
# NumPy takes a Python float operand as a "weak" scalar and converts it to the array's dtype on every
# call, which costs about as much as the arithmetic itself on a small array (a * 1.01 on 16 floats:
# 420 ns, against 310 ns with the number already a 0-d array of a's dtype). The converted number is
# the same value either way (the one rounding of the double to the dtype), so the result is the same
# array bit for bit. Numbers recur (a loop multiplies by the same constants every step), so each
# conversion is kept.
_SCALARS: dict = {}  # dtype -> {number: 0-d array of that dtype}
_SCALARS_MAX = 256  # numbers kept per dtype (a learning-rate schedule makes new ones every step)


def scalar(value: float, dtype: np.dtype):
    """The Python float `value` as a 0-d array of the float dtype `dtype` (what NumPy would convert it to);
    zeros and NaN are given back as they are (0.0 and -0.0 are equal dict keys, NaN equals nothing)."""
    kept = _SCALARS.get(dtype)
    if kept is None:
        kept = _SCALARS[dtype] = {}
    a = kept.get(value)
    if a is None:
        if value == 0 or value != value:
            return value
        if len(kept) >= _SCALARS_MAX:
            kept.clear()
        a = kept[value] = np.array(value, dtype)
        a.flags.writeable = False  # (shared by every op that uses the number)
    return a


# ---- work arrays kept between calls --------------------------------------------------------------
# glibc gives freed blocks of a few MiB back to the kernel, so an op that allocates its large work
# arrays afresh on every call (an LSTM layer over each chunk of a sequence) page-faults every 4 KiB of
# them in again each time: ~10% of a word-LM chunk. Such ops take their work arrays from work_array()
# and hand them back with give_back() when done; an array is kept only if nothing else holds it.
_spares: dict = {}  # (shape, dtype) -> arrays nobody else holds, oldest shapes first
_spare_bytes = [0]
SPARE_BYTES = 64 << 20  # at most this much is kept (the oldest shapes go first)
_SPARES_PER_SHAPE = 4


def work_array(shape: tuple, dtype) -> np.ndarray:
    """np.empty(shape, dtype), or an array of that shape and dtype an earlier call gave back."""
    spares = _spares.get((shape, dtype))
    if spares:
        a = spares.pop()
        _spare_bytes[0] -= a.nbytes
        return a
    return np.empty(shape, dtype)


def _held_only_here() -> int:
    """What sys.getrefcount reads in give_back for an array nothing else holds (measured, not assumed:
    it differs between Python versions)."""
    arrays = {"a": np.empty(1)}
    _, a = arrays.popitem()
    return sys.getrefcount(a)


def give_back(arrays: dict) -> None:
    """Empty the dict `arrays`, keeping for later work_array calls each NumPy array that owns its memory and
    that nothing but the dict held."""
    while arrays:
        _, a = arrays.popitem()
        if type(a) is not np.ndarray or a.base is not None or sys.getrefcount(a) != _HELD_ONLY_HERE:
            continue
        spares = _spares.setdefault((a.shape, a.dtype), [])
        if len(spares) < _SPARES_PER_SHAPE:
            spares.append(a)
            _spare_bytes[0] += a.nbytes
    while _spare_bytes[0] > SPARE_BYTES:  # drop the oldest shapes' arrays
        key = next(iter(_spares))
        _spare_bytes[0] -= sum(a.nbytes for a in _spares.pop(key))


_HELD_ONLY_HERE = _held_only_here()
