"""Datasets: map-style (`Dataset`: `ds[i]`, `len(ds)`) and iterable-style (`IterableDataset`).

Besides torch's classes this module defines one private hook, `_collated_batch(indices)`: a dataset
that can gather a whole batch with one vectorized index per tensor (TensorDataset, and Subsets of
it) returns the batch exactly as `default_collate` would build it from the samples, so the
DataLoader skips the per-sample Python loop and the stack.
"""
from __future__ import annotations

import bisect
import itertools
import math
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

import glasstorch

from ... import _random
from ..._tensor import Tensor

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset",
           "ChainDataset", "Subset", "random_split"]


class Dataset:
    """A map-style dataset: subclasses implement `__getitem__(index)` and usually `__len__`.

    A subclass may also implement `__getitems__(indices: list) -> list` to fetch a whole batch of
    samples at once; the DataLoader then calls it once per batch instead of `__getitem__` per sample.
    """

    def __getitem__(self, index) -> Any:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: "Dataset") -> "ConcatDataset":
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """An iterable-style dataset: subclasses implement `__iter__`, yielding samples.

    With `num_workers > 0` every worker iterates its own copy; use `get_worker_info()` inside
    `__iter__` to give each worker its own share of the data.
    """

    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other: Dataset) -> "ChainDataset":
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Samples are rows of tensors sharing their first dimension: `ds[i] == (t[i] for t in tensors)`."""

    def __init__(self, *tensors) -> None:
        if any(tensors[0].size(0) != t.size(0) for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(tensor[index] for tensor in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].size(0)

    def _collated_batch(self, indices: Sequence[int]):
        """`default_collate([self[i] for i in indices])`, i.e. `[t[indices] for t in tensors]`.

        Each tensor is indexed once by an int64 index tensor of shape (B,), giving (B, *t.shape[1:]).
        Returns None when that might differ from the per-sample result: a subclass with its own
        `__getitem__`/`__getitems__` (they may transform samples), or non-glasstorch tensors.
        """
        if type(self).__getitem__ is not TensorDataset.__getitem__ or hasattr(self, "__getitems__"):
            return None
        if not all(isinstance(t, Tensor) for t in self.tensors):
            return None
        index = glasstorch.from_numpy(np.asarray(indices, dtype=np.int64))
        # default_collate turns the tuple sample into a list: torch returns [x_batch, y_batch]
        return [tensor[index] for tensor in self.tensors]


class StackDataset(Dataset):
    """Zips datasets of equal length: `StackDataset(a, b)[i] == (a[i], b[i])`;
    `StackDataset(x=a, y=b)[i] == {'x': a[i], 'y': b[i]}`."""

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or"
                             "``dict``- (via ``kwargs``) like input/output, but both types are given.")
        if not args and not kwargs:
            raise ValueError("At least one dataset should be passed")
        datasets = list(args) if args else list(kwargs.values())
        self._length = len(datasets[0])
        if any(self._length != len(d) for d in datasets):
            raise ValueError("Size mismatch between datasets")
        self.datasets = args if args else kwargs

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __getitems__(self, indices: list) -> list:
        """One `__getitems__` call per member dataset that has it, then regroup by sample."""
        named = isinstance(self.datasets, dict)
        members = self.datasets.items() if named else enumerate(self.datasets)
        columns = {key: _fetch_many(d, indices) for key, d in members}
        if named:
            return [{k: columns[k][j] for k in columns} for j in range(len(indices))]
        return [tuple(columns[k][j] for k in columns) for j in range(len(indices))]

    def __len__(self) -> int:
        return self._length


def _fetch_many(dataset, indices: list) -> list:
    """`[dataset[i] for i in indices]`, through the dataset's `__getitems__` when it has one."""
    if callable(getattr(dataset, "__getitems__", None)):
        items = dataset.__getitems__(indices)
        if len(items) != len(indices):
            raise ValueError(f"Nested dataset's output size mismatch. Expected {len(indices)}, got {len(items)}")
        return items
    return [dataset[i] for i in indices]


class ConcatDataset(Dataset):
    """The concatenation of map-style datasets; `cumulative_sizes[k]` = total length of the first k+1."""

    @staticmethod
    def cumsum(sequence) -> list[int]:
        return list(itertools.accumulate(len(d) for d in sequence))

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if len(self.datasets) == 0:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][idx - start]


class ChainDataset(IterableDataset):
    """Iterable datasets chained one after another (lazily, so streams can be huge)."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            _require_iterable(d)
            yield from d

    def __len__(self) -> int:
        total = 0
        for d in self.datasets:
            _require_iterable(d)
            total += len(d)
        return total


def _require_iterable(d) -> None:
    if not isinstance(d, IterableDataset):
        raise AssertionError("ChainDataset only supports IterableDataset")


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order: `Subset(ds, idx)[i] == ds[idx[i]]`."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices
        # A subclass transforming samples in __getitem__ would be bypassed by the batch path
        if type(self).__getitem__ is not Subset.__getitem__ and type(self).__getitems__ is Subset.__getitems__:
            raise NotImplementedError(
                f"{type(self).__name__} overrides __getitem__ but not __getitems__. "
                "When subclassing Subset and overriding __getitem__, you must also override "
                "__getitems__ to ensure DataLoader works correctly with your custom logic. "
                "A simple implementation:\n\n"
                "def __getitems__(self, indices):\n"
                "    return [self.__getitem__(idx) for idx in indices]")

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list) -> list:
        mapped = [self.indices[i] for i in indices]
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__(mapped)
        return [self.dataset[i] for i in mapped]

    def __len__(self) -> int:
        return len(self.indices)

    def _collated_batch(self, indices: Sequence[int]):
        """The parent's vectorized batch at the mapped indices, or None (see TensorDataset)."""
        if type(self).__getitems__ is not Subset.__getitems__:
            return None
        gather = getattr(self.dataset, "_collated_batch", None)
        return None if gather is None else gather([self.indices[i] for i in indices])


def random_split(dataset: Dataset, lengths: Sequence[int | float],
                 generator: _random.Generator | None = _random.default_generator) -> list[Subset]:
    """Split `dataset` into non-overlapping random Subsets of the given lengths.

    `lengths` are counts summing to `len(dataset)`, or fractions summing to 1 (floored counts,
    the remainder handed out one by one, round-robin, from the first split).
    """
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        lengths = _fractions_to_lengths(lengths, len(dataset))
    if sum(lengths) != len(dataset):
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    indices = _random.rng_of(generator).permutation(sum(lengths)).tolist()
    return [Subset(dataset, indices[end - n:end]) for end, n in zip(itertools.accumulate(lengths), lengths)]


def _fractions_to_lengths(fractions: Sequence[float], n: int) -> list[int]:
    lengths = []
    for i, frac in enumerate(fractions):
        if frac < 0 or frac > 1:
            raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        lengths.append(math.floor(n * frac))
    for i in range(n - sum(lengths)):
        lengths[i % len(lengths)] += 1
    for i, length in enumerate(lengths):
        if length == 0:
            warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.",
                          stacklevel=3)
    return lengths
