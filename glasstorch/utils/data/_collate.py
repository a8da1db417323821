"""Collation: merging a list of samples into one batch (`default_collate`) and converting a
single sample's arrays to tensors (`default_convert`, used when automatic batching is off).

The structure of a sample is kept: dicts collate per key, namedtuples per field, other
sequences are transposed (a tuple sample gives a *list* of batches, as in torch).
"""
from __future__ import annotations

import collections.abc
import copy
import re
from collections.abc import Callable
from typing import Any

import numpy as np

import glasstorch  # attributes are looked up at call time, so a half-initialised package is fine

from ..._tensor import Tensor

__all__ = ["collate", "default_collate", "default_convert", "default_collate_fn_map"]

# numpy dtypes with no tensor equivalent: bytes, str, unicode and object arrays
_np_str_obj_array_pattern = re.compile(r"[SaUO]")
_np_string_scalars = ("str_", "string_", "bytes_")

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}")


def _is_namedtuple(obj) -> bool:
    return isinstance(obj, tuple) and hasattr(obj, "_fields")


def _rebuild_mapping(template: collections.abc.Mapping, values: dict) -> collections.abc.Mapping:
    """A mapping of the template's type holding `values` (a plain dict when the type refuses)."""
    try:
        if isinstance(template, collections.abc.MutableMapping):
            clone = copy.copy(template)  # keeps e.g. a defaultdict's factory
            clone.update(values)
            return clone
        return type(template)(values)
    except TypeError:
        return values


def _rebuild_sequence(template: collections.abc.Sequence, values: list) -> collections.abc.Sequence:
    """A sequence of the template's type holding `values` (a plain list when the type refuses)."""
    try:
        if isinstance(template, collections.abc.MutableSequence):
            clone = copy.copy(template)
            for i, v in enumerate(values):
                clone[i] = v
            return clone
        return type(template)(values)
    except TypeError:
        return values


# ---- default_convert ----------------------------------------------------------------------------

def default_convert(data: Any) -> Any:
    """Turn numpy arrays and scalars inside `data` into tensors; keep everything else.

    Tuples become lists (torch's backwards-compatible behaviour); Python numbers stay numbers.
    """
    if isinstance(data, Tensor):
        return data
    if _is_numpy(data):
        if isinstance(data, np.ndarray) and _np_str_obj_array_pattern.search(data.dtype.str):
            return data
        return glasstorch.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {k: default_convert(data[k]) for k in data})
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def _is_numpy(obj) -> bool:
    """A numpy array or numpy scalar, but not a numpy string scalar (those are str/bytes)."""
    t = type(obj)
    return t.__module__ == "numpy" and t.__name__ not in _np_string_scalars


# ---- collate ------------------------------------------------------------------------------------

def collate(batch: list, *, collate_fn_map: dict[type | tuple[type, ...], Callable] | None = None) -> Any:
    """Merge a list of samples into a batch, recursing into containers.

    `collate_fn_map` maps an element type (or tuple of types) to `fn(batch, *, collate_fn_map)`;
    the exact type of the first element is looked up first, then isinstance in insertion order.
    """
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type, fn in collate_fn_map.items():
            if isinstance(elem, collate_type):
                return fn(batch, collate_fn_map=collate_fn_map)

    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {k: collate([d[k] for d in batch], collate_fn_map=collate_fn_map)
                                       for k in elem})
    if _is_namedtuple(elem):
        return elem_type(*(collate(field, collate_fn_map=collate_fn_map) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [collate(column, collate_fn_map=collate_fn_map) for column in zip(*batch)]
        if isinstance(elem, tuple):
            return columns  # a list, as torch returns for tuple samples
        return _rebuild_sequence(elem, columns)
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def collate_tensor_fn(batch, *, collate_fn_map=None):
    """B tensors of shape S -> one tensor of shape (B, *S)."""
    return glasstorch.stack(batch, 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    """B arrays of shape S -> one tensor of shape (B, *S); str/object arrays are refused."""
    elem = batch[0]
    if _np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    return collate([glasstorch.as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    """B numpy scalars -> a (B,) tensor of their dtype."""
    return glasstorch.as_tensor(np.asarray(batch))


def collate_float_fn(batch, *, collate_fn_map=None):
    """Python floats -> float64, whatever the default dtype (as torch does)."""
    return glasstorch.tensor(batch, dtype=glasstorch.float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    """Python ints -> int64 (bools -> bool: torch.tensor infers the dtype)."""
    return glasstorch.tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    """Strings and bytes are returned as they come (the batch container unchanged)."""
    return batch


# Order matters: np.float64 is also a float, and must take the numpy-scalar path
default_collate_fn_map: dict[type | tuple[type, ...], Callable] = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch: list) -> Any:
    """Merge a list of samples into a batch.

    Tensors -> `glasstorch.stack` (B, ...); numpy arrays and scalars -> tensors; floats -> float64;
    ints -> int64; bools -> bool; str/bytes -> the list as is; dicts per key; namedtuples per
    field; tuples and lists transposed (tuple samples give a list). Raises TypeError on other types.
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)
