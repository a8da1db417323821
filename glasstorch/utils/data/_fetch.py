"""Fetchers: turn one entry of the index sampler (an index, or a list of indices when batching)
into data. Shared by the main process (num_workers=0) and the worker processes."""
from __future__ import annotations

from typing import Any, Callable

from ._collate import default_collate


class _DatasetKind:
    Map = 0
    Iterable = 1

    @staticmethod
    def create_fetcher(kind: int, dataset, auto_collation: bool, collate_fn: Callable, drop_last: bool):
        cls = _MapDatasetFetcher if kind == _DatasetKind.Map else _IterableDatasetFetcher
        return cls(dataset, auto_collation, collate_fn, drop_last)


class _MapDatasetFetcher:
    """`fetch([i, j, ...])` -> `collate_fn([ds[i], ds[j], ...])`; `fetch(i)` -> `collate_fn(ds[i])`
    when automatic batching is off.

    A batch is fetched by the cheapest route that gives the same result: the dataset's
    vectorized `_collated_batch` (TensorDataset, default collate only), else one
    `__getitems__(indices)` call, else `__getitem__` per sample.
    """

    def __init__(self, dataset, auto_collation: bool, collate_fn: Callable, drop_last: bool) -> None:
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        fast = auto_collation and collate_fn is default_collate
        self._collated_batch = getattr(dataset, "_collated_batch", None) if fast else None

    def fetch(self, possibly_batched_index) -> Any:
        if not self.auto_collation:
            return self.collate_fn(self.dataset[possibly_batched_index])
        if self._collated_batch is not None:
            batch = self._collated_batch(possibly_batched_index)
            if batch is not None:
                return batch
        if callable(getattr(self.dataset, "__getitems__", None)):
            data = self.dataset.__getitems__(possibly_batched_index)
        else:
            data = [self.dataset[i] for i in possibly_batched_index]
        return self.collate_fn(data)


class _IterableDatasetFetcher:
    """Draws from `iter(dataset)`: `len(batch_index)` samples per batch (the indices themselves
    are placeholders), raising StopIteration once the stream is exhausted."""

    def __init__(self, dataset, auto_collation: bool, collate_fn: Callable, drop_last: bool) -> None:
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, possibly_batched_index) -> Any:
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.dataset_iter))
        data = []
        for _ in possibly_batched_index:
            try:
                data.append(next(self.dataset_iter))
            except StopIteration:
                self.ended = True
                break
        if not data or (self.drop_last and len(data) < len(possibly_batched_index)):
            raise StopIteration
        return self.collate_fn(data)
