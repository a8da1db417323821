"""The worker side of multi-process loading, and what crosses the process boundary.

A worker takes `(epoch, task_idx, index)` tasks from its own index queue and answers every one on
the shared data queue with `(epoch, task_idx, worker_id, reply)`, where reply is the pickled
batch (bytes), an `ExceptionWrapper`, or `_Exhausted` (an IterableDataset ran dry). Tensors travel
as numpy arrays (`_TensorPayload`), so nothing depends on how glasstorch tensors pickle.
A worker leaves its loop on a `None` task, or when its parent process has died.
"""
from __future__ import annotations

import collections.abc
import os
import pickle
import queue
import random
import signal
import sys
import traceback
from typing import Any, Callable

import numpy as np

import glasstorch

from ... import _random
from ..._tensor import Tensor
from ._collate import _is_namedtuple, _rebuild_mapping, _rebuild_sequence
from ._fetch import _DatasetKind

# How often (seconds) a blocked queue read wakes up to check that the other side is still alive
MP_STATUS_CHECK_INTERVAL = 1.0


# ---- worker info --------------------------------------------------------------------------------

class WorkerInfo:
    """What a worker knows about itself: `id`, `num_workers`, `seed`, `dataset` (its own copy).
    Read-only."""

    id: int
    num_workers: int
    seed: int
    dataset: Any

    def __init__(self, **kwargs) -> None:
        for k, v in kwargs.items():
            object.__setattr__(self, k, v)
        object.__setattr__(self, "_keys", tuple(kwargs))

    def __setattr__(self, key, val) -> None:
        raise RuntimeError(f"Cannot assign attributes to {self.__class__.__name__} objects")

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)}" for k in self._keys)
        return f"{self.__class__.__name__}({fields})"


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker process, its WorkerInfo; in the main process, None.

    Use it in an IterableDataset's `__iter__` to split the stream between workers.
    """
    return _worker_info


# ---- exceptions across processes ----------------------------------------------------------------

class _KeyErrorMessage(str):
    """A KeyError message that prints as itself: KeyError shows repr() of its argument."""

    def __repr__(self) -> str:
        return self


class ExceptionWrapper:
    """An exception caught in a worker, carried to the main process as class + traceback text."""

    def __init__(self, exc_info=None, where: str = "in background") -> None:
        # Keep only text: a live traceback would pin frames and cannot be pickled anyway
        exc_info = exc_info or sys.exc_info()
        self.exc_type = _picklable_type(exc_info[0])
        self.exc_name = exc_info[0].__name__
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        """Raise the same exception class with 'Caught X in ... Original Traceback ...'."""
        msg = f"Caught {self.exc_name} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        elif getattr(self.exc_type, "message", None):
            raise self.exc_type(message=msg)
        try:
            exception = self.exc_type(msg)
        except Exception:  # a constructor with other arguments: the text still gets through
            raise RuntimeError(msg) from None
        raise exception


def _picklable_type(exc_type: type) -> type:
    """The exception class itself if it pickles (importable by name), else RuntimeError."""
    try:
        pickle.dumps(exc_type)
        return exc_type
    except Exception:
        return RuntimeError


class _Exhausted:
    """Reply of a worker whose IterableDataset has no more samples this epoch."""


class _ResumeIteration:
    """Task telling a persistent worker that a new epoch starts (restart its dataset iterator)."""


# ---- tensors across processes -------------------------------------------------------------------

class _TensorPayload:
    """A tensor as a numpy array (what pickles between processes) plus its requires_grad flag."""

    __slots__ = ("array", "requires_grad")

    def __init__(self, t: Tensor) -> None:
        self.array = t.detach().cpu().numpy()
        self.requires_grad = t.requires_grad

    def __getstate__(self):
        return self.array, self.requires_grad

    def __setstate__(self, state) -> None:
        self.array, self.requires_grad = state

    def to_tensor(self) -> Tensor:
        t = glasstorch.from_numpy(self.array)
        return t.requires_grad_() if self.requires_grad else t


def _map_leaves(obj, leaf_type: type, fn: Callable):
    """`obj` with every `leaf_type` inside dicts, lists and tuples replaced by `fn(leaf)`."""
    if isinstance(obj, leaf_type):
        return fn(obj)
    if isinstance(obj, collections.abc.Mapping):
        return _rebuild_mapping(obj, {k: _map_leaves(v, leaf_type, fn) for k, v in obj.items()})
    if _is_namedtuple(obj):
        return type(obj)(*(_map_leaves(v, leaf_type, fn) for v in obj))
    if isinstance(obj, (list, tuple)):
        return _rebuild_sequence(obj, [_map_leaves(v, leaf_type, fn) for v in obj])
    return obj


def pack(data) -> bytes:
    """A batch as bytes, tensors turned into numpy arrays (raises if something won't pickle)."""
    return pickle.dumps(_map_leaves(data, Tensor, _TensorPayload), protocol=pickle.HIGHEST_PROTOCOL)


def unpack(payload: bytes):
    """Inverse of `pack`: the batch with its tensors rebuilt."""
    return _map_leaves(pickle.loads(payload), _TensorPayload, _TensorPayload.to_tensor)


# ---- the worker process -------------------------------------------------------------------------

def _seed_worker(base_seed: int, worker_id: int) -> int:
    """Seed Python's, glasstorch's and numpy's global RNGs differently in every worker."""
    seed = base_seed + worker_id
    random.seed(seed)
    _random.manual_seed(seed)
    np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(4))
    return seed


def _worker_loop(dataset_kind: int, dataset, index_queue, data_queue, done_event, auto_collation: bool,
                 collate_fn: Callable, drop_last: bool, base_seed: int, init_fn: Callable | None,
                 worker_id: int, num_workers: int) -> None:
    """Serve tasks from `index_queue` until told to stop (a None task) or orphaned."""
    global _worker_info
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    seed = _seed_worker(base_seed, worker_id)
    _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
    where = f"in DataLoader worker process {worker_id}"

    def new_fetcher():
        return _DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation, collate_fn, drop_last)

    init_error = fetcher = None
    try:
        if init_fn is not None:
            init_fn(worker_id)
        fetcher = new_fetcher()
    except Exception:
        init_error = ExceptionWrapper(where=where)

    parent = os.getppid()
    while os.getppid() == parent:  # once the main process is gone nobody reads our answers
        try:
            task = index_queue.get(timeout=MP_STATUS_CHECK_INTERVAL)
        except queue.Empty:
            continue
        if task is None:
            break
        if isinstance(task, _ResumeIteration):
            if init_error is None:
                try:
                    fetcher = new_fetcher()
                except Exception:
                    init_error = ExceptionWrapper(where=where)
            continue
        if done_event.is_set():
            continue  # shutting down: drain the queue without working
        epoch, task_idx, index = task
        reply = init_error or _answer(fetcher, index, dataset_kind, where)
        data_queue.put((epoch, task_idx, worker_id, reply))

    if done_event.is_set():
        # The main process may have stopped reading: don't block exiting on unsent data
        data_queue.cancel_join_thread()
        data_queue.close()


def _answer(fetcher, index, dataset_kind: int, where: str):
    """The reply to one task: packed batch bytes, _Exhausted, or an ExceptionWrapper."""
    try:
        return pack(fetcher.fetch(index))
    except StopIteration:
        if dataset_kind == _DatasetKind.Iterable:
            return _Exhausted()
        return ExceptionWrapper(where=where)
    except Exception:
        return ExceptionWrapper(where=where)
