"""DataLoader: iterate over a dataset in (optionally shuffled) batches, in the main process or
with worker processes that prefetch batches and hand them back in order.
"""
from __future__ import annotations

import atexit
import itertools
import multiprocessing
import multiprocessing.context
import os
import queue
import time
import warnings
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from ... import _random
from ..._tensor import Tensor
from . import _worker
from ._collate import default_collate, default_convert
from ._fetch import _DatasetKind
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]

get_worker_info = _worker.get_worker_info

# Time allowed for workers to exit on their own before they are terminated
_SHUTDOWN_GRACE_S = 5.0


class _InfiniteConstantSampler(Sampler):
    """None forever: the placeholder indices of an IterableDataset (it yields its own samples)."""

    def __iter__(self):
        return itertools.repeat(None)


def _default_context():
    """'fork' where the OS has it (fast, nothing to pickle), else 'spawn'."""
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


def _cpu_count() -> int | None:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


class DataLoader:
    """Batches of `dataset`, drawn in the order of a sampler.

    `batch_size=None` disables batching (each item is one sample, passed through
    `default_convert`). `shuffle=True` draws a new permutation every epoch from `generator` (or
    the global generator). `num_workers > 0` loads in worker processes, each keeping
    `prefetch_factor` batches in flight; batches still come back in order.
    """

    _initialized = False

    def __init__(self, dataset: Dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Iterable | None = None, batch_sampler: Sampler | Iterable | None = None,
                 num_workers: int = 0, collate_fn: Callable[[list], Any] | None = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None, multiprocessing_context=None,
                 generator: _random.Generator | None = None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, pin_memory_device: str = "", in_order: bool = True) -> None:
        prefetch_factor = _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers)
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = _DatasetKind.Iterable
            _check_iterable_options(shuffle, sampler, batch_sampler)
        else:
            self._dataset_kind = _DatasetKind.Map
            shuffle = bool(shuffle)

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                 "sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive "
                             "with drop_last")

        if sampler is None:
            if self._dataset_kind == _DatasetKind.Iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._IterableDataset_len_called = None
        self._iterator = None
        self._initialized = True
        self.check_worker_number_rationality()

    # ---- configuration ----

    @property
    def multiprocessing_context(self):
        return self._multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context) -> None:
        """None (the default: fork where available), a start-method name, or a context object."""
        if context is not None:
            if self.num_workers <= 0:
                raise ValueError("multiprocessing_context can only be used with multi-process loading "
                                 f"(num_workers > 0), but got num_workers={self.num_workers}")
            if isinstance(context, str):
                methods = multiprocessing.get_all_start_methods()
                if context not in methods:
                    raise ValueError("multiprocessing_context option should specify a valid start method "
                                     f"in {methods!r}, but got multiprocessing_context={context!r}")
                context = multiprocessing.get_context(context)
            if not isinstance(context, multiprocessing.context.BaseContext):
                raise TypeError("multiprocessing_context option should be a valid context object or a "
                                f"string specifying the start method, but got multiprocessing_context={context}")
        self._multiprocessing_context = context

    def __setattr__(self, attr, val) -> None:
        # These define the sampling; changing them would silently desynchronise the samplers
        if self._initialized and attr in ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                                          "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after {self.__class__.__name__} is initialized")
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        """What the iterator draws from: lists of indices when batching, single indices otherwise."""
        return self.batch_sampler if self._auto_collation else self.sampler

    def check_worker_number_rationality(self) -> None:
        """Warn when asking for more workers than this machine has CPUs."""
        if not self.num_workers:
            return
        suggested = _cpu_count()
        if suggested is None or self.num_workers > suggested:
            if suggested is None:
                advice = "DataLoader is not able to compute a suggested max number of worker in current system."
            else:
                cpuset = "" if hasattr(os, "sched_getaffinity") else " (`cpuset` is not taken into account)"
                advice = (f"Our suggested max number of worker in current system is {suggested}{cpuset}, "
                          "which is smaller than what this DataLoader is going to create.")
            warnings.warn(
                f"This DataLoader will create {self.num_workers} worker processes in total. {advice} "
                "Please be aware that excessive worker creation might get DataLoader running slow or even "
                "freeze, lower the worker number to avoid potential slowness/freeze if necessary.",
                stacklevel=2)

    # ---- iteration ----

    def _get_iterator(self) -> "_BaseDataLoaderIter":
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        self.check_worker_number_rationality()
        return _MultiProcessingDataLoaderIter(self)

    def __iter__(self) -> "_BaseDataLoaderIter":
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None or self._iterator._shutdown:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    def __len__(self) -> int:
        """Number of batches (samples when batch_size=None). For an IterableDataset, an estimate
        from len(dataset)."""
        if self._dataset_kind == _DatasetKind.Iterable:
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else -(-length // self.batch_size)
            return length
        return len(self._index_sampler)


def _check_worker_options(num_workers: int, timeout: float, prefetch_factor: int | None,
                          persistent_workers: bool) -> int | None:
    """Validate the multi-process options; returns prefetch_factor with its default filled in."""
    if num_workers < 0:
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                         "multiprocessing.")
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers "
                         "> 0 to enable multiprocessing, otherwise set prefetch_factor to None.")
    if num_workers > 0 and prefetch_factor is None:
        prefetch_factor = 2
    elif prefetch_factor is not None and prefetch_factor < 0:
        raise ValueError("prefetch_factor option should be non-negative")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")
    return prefetch_factor


def _check_iterable_options(shuffle, sampler, batch_sampler) -> None:
    """An IterableDataset decides its own order: no shuffle, sampler or batch_sampler."""
    if shuffle not in {False, None}:
        raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                         f"shuffle={shuffle}")
    if sampler is not None:
        raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                         f"sampler={sampler}")
    if batch_sampler is not None:
        raise ValueError("DataLoader with IterableDataset: expected unspecified batch_sampler option, but got "
                         f"batch_sampler={batch_sampler}")


def _accelerator_available() -> bool:
    from ...backends import cuda_module

    return cuda_module().is_available()


def _pinned(data):
    """A batch with its tensors in pinned memory (torch's pin_memory over the batch's structure)."""
    if isinstance(data, Tensor):
        return data.pin_memory()
    if isinstance(data, dict):
        return type(data)({k: _pinned(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(_pinned(v) for v in data))
    if isinstance(data, (list, tuple)):
        return type(data)(_pinned(v) for v in data)
    return data


class _BaseDataLoaderIter:
    """One pass over a DataLoader (persistent workers reuse it across passes via `_reset`)."""

    def __init__(self, loader: DataLoader) -> None:
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._persistent_workers = loader.persistent_workers
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        _warn_pin_memory(loader)
        self._pin_memory = loader.pin_memory and _accelerator_available()
        self._sampler_iter = iter(self._index_sampler)
        # Drawn from the loader's generator (or the global one) for every pass, as torch does,
        # so num_workers does not change which random numbers the sampler gets
        self._base_seed = int(_random.rng_of(loader.generator).integers(0, 2**63 - 1))
        self._num_yielded = 0

    def __iter__(self) -> "_BaseDataLoaderIter":
        return self

    def _reset(self, loader: DataLoader, first_iter: bool = False) -> None:
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def _next_index(self):
        return next(self._sampler_iter)  # StopIteration ends the pass

    def _next_data(self):
        raise NotImplementedError

    def __next__(self) -> Any:
        data = self._next_data()
        if self._pin_memory:
            data = _pinned(data)
        self._num_yielded += 1
        self._warn_if_past_reported_length()
        return data

    def _warn_if_past_reported_length(self) -> None:
        reported = self._IterableDataset_len_called
        if self._dataset_kind == _DatasetKind.Iterable and reported is not None and self._num_yielded > reported:
            msg = (f"Length of IterableDataset {self._dataset} was reported to be {reported}(when accessing "
                   f"len(dataloader)), but {self._num_yielded} samples have been fetched. ")
            if self._num_workers > 0:
                msg += ("For multiprocessing data-loading, this could be caused by not properly configuring "
                        "the IterableDataset replica at each worker.")
            warnings.warn(msg, stacklevel=3)

    def __len__(self) -> int:
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError(f"{self.__class__.__name__} cannot be pickled")


def _warn_pin_memory(loader: DataLoader) -> None:
    """Pinned memory is a no-op for NumPy arrays; say so the way torch does without a GPU."""
    if not loader.pin_memory:
        return
    if loader.pin_memory_device:
        warnings.warn("pin_memory_device is deprecated, the current accelerator will be used as the device,"
                      f"ignore pin_memory_device='{loader.pin_memory_device}'.", stacklevel=4)
    if not _accelerator_available():
        warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device pinned "
                      "memory won't be used.", stacklevel=4)


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    """Loads each batch in the main process when it is asked for."""

    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        self._fetcher = _DatasetKind.create_fetcher(self._dataset_kind, self._dataset, self._auto_collation,
                                                    self._collate_fn, self._drop_last)

    def _next_data(self):
        index = self._next_index()  # may raise StopIteration
        return self._fetcher.fetch(index)  # may raise StopIteration (IterableDataset exhausted)


# Iterators that may still own worker processes, shut down at interpreter exit
_live_iterators: "weakref.WeakSet[_MultiProcessingDataLoaderIter]" = weakref.WeakSet()
_atexit_registered = False


def _shutdown_all_at_exit() -> None:
    for it in list(_live_iterators):
        it._shutdown_workers()


def _track(it: "_MultiProcessingDataLoaderIter") -> None:
    # Registered after multiprocessing's own exit hook, so it runs before it (atexit is LIFO)
    global _atexit_registered
    if not _atexit_registered:
        atexit.register(_shutdown_all_at_exit)
        _atexit_registered = True
    _live_iterators.add(it)


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """Batches loaded by `num_workers` processes, handed out in sampler order.

    Tasks are numbered; task k goes to worker k mod num_workers (skipping exhausted ones). At most
    `prefetch_factor * num_workers` tasks are in flight or waiting to be returned. Replies that
    arrive early wait in `_arrived`. Every task and reply carries the epoch number, so replies to
    an abandoned epoch (a `break` with persistent workers) are recognised and dropped.

    Workers are shut down at the end of the pass (unless persistent), on any exception or Ctrl-C
    while waiting, when the iterator is garbage-collected, and at interpreter exit.
    """

    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        if not self._prefetch_factor:
            raise AssertionError("prefetch_factor must be greater than 0 for MultiProcessingDataLoaderIter")
        self._shutdown = False
        self._epoch = 0
        self._workers: list = []
        self._index_queues: list = []
        ctx = loader.multiprocessing_context or _default_context()
        self._data_queue = ctx.Queue()
        self._done_event = ctx.Event()
        _track(self)
        try:
            for worker_id in range(self._num_workers):
                self._start_worker(ctx, worker_id, loader.worker_init_fn)
        except BaseException:
            self._shutdown_workers()
            raise
        self._reset(loader, first_iter=True)

    def _start_worker(self, ctx, worker_id: int, init_fn) -> None:
        index_queue = ctx.Queue()
        index_queue.cancel_join_thread()  # never let exiting block on undelivered indices
        w = ctx.Process(target=_worker._worker_loop, daemon=True, args=(
            self._dataset_kind, self._dataset, index_queue, self._data_queue, self._done_event,
            self._auto_collation, self._collate_fn, self._drop_last, self._base_seed, init_fn,
            worker_id, self._num_workers))
        w.start()
        self._index_queues.append(index_queue)
        self._workers.append(w)

    def _reset(self, loader: DataLoader, first_iter: bool = False) -> None:
        super()._reset(loader, first_iter)
        self._send_idx = 0  # number of the next task to send
        self._rcvd_idx = 0  # number of the next task to return
        self._task_worker: dict[int, int] = {}  # sent, not yet answered: task -> worker
        self._arrived: dict[int, Any] = {}  # answered ahead of its turn: task -> reply
        self._active = [True] * self._num_workers  # False once a worker's IterableDataset is exhausted
        self._worker_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            self._epoch += 1
            for q in self._index_queues:
                q.put(_worker._ResumeIteration())
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _try_put_index(self) -> None:
        """Send the next index to the next active worker, if the sampler has one."""
        try:
            index = self._next_index()
        except StopIteration:
            return
        for _ in range(self._num_workers):
            worker_id = next(self._worker_cycle)
            if self._active[worker_id]:
                break
        else:
            return  # every worker is exhausted
        self._index_queues[worker_id].put((self._epoch, self._send_idx, index))
        self._task_worker[self._send_idx] = worker_id
        self._send_idx += 1

    def __next__(self) -> Any:
        try:
            return super().__next__()
        except StopIteration:
            raise
        except BaseException:  # a worker's error, a dead worker, a timeout, Ctrl-C: stop them all
            self._shutdown_workers()
            raise

    def _next_data(self):
        while not self._shutdown:
            # Return the next task's batch if it is here; skip tasks answered without one
            while self._rcvd_idx < self._send_idx and self._rcvd_idx not in self._task_worker:
                reply = self._arrived.pop(self._rcvd_idx, None)
                self._rcvd_idx += 1
                if reply is not None:
                    return self._process(reply)
            if self._rcvd_idx == self._send_idx:
                break  # nothing left in flight: the pass is over
            epoch, task_idx, worker_id, reply = self._get_reply()
            if epoch != self._epoch:
                continue  # answer to a task of an abandoned pass
            del self._task_worker[task_idx]
            if isinstance(reply, _worker._Exhausted):
                self._active[worker_id] = False
                self._try_put_index()
            elif self._in_order:
                self._arrived[task_idx] = reply
            else:
                return self._process(reply)
        if not self._persistent_workers:
            self._shutdown_workers()
        raise StopIteration

    def _process(self, reply):
        """Refill the pipeline, then return the batch (or raise the worker's exception)."""
        self._try_put_index()
        if isinstance(reply, _worker.ExceptionWrapper):
            reply.reraise()
        return _worker.unpack(reply)

    def _get_reply(self):
        """Block until a worker answers, checking every few seconds that none has died."""
        start = time.monotonic()
        while True:
            wait = _worker.MP_STATUS_CHECK_INTERVAL
            if self._timeout > 0:
                wait = min(wait, max(self._timeout - (time.monotonic() - start), 0.0))
            try:
                return self._data_queue.get(timeout=wait)
            except queue.Empty:
                pass
            dead = [w for w in self._workers if not w.is_alive()]
            if dead:
                pids = ", ".join(str(w.pid) for w in dead)
                raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly")
            if self._timeout > 0 and time.monotonic() - start >= self._timeout:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")

    def _shutdown_workers(self) -> None:
        """Ask every worker to exit, wait a little, terminate the rest, close the queues.
        Safe to call more than once."""
        if self._shutdown:
            return
        self._shutdown = True
        _live_iterators.discard(self)
        try:
            self._done_event.set()
            for q in self._index_queues:
                q.put(None)
            deadline = time.monotonic() + _SHUTDOWN_GRACE_S
            for w in self._workers:
                w.join(timeout=max(deadline - time.monotonic(), 0.0))
        finally:
            for w in self._workers:
                if w.is_alive():
                    w.terminate()
                    w.join(timeout=_SHUTDOWN_GRACE_S)
            for q in (*self._index_queues, self._data_queue):
                q.cancel_join_thread()
                q.close()

    def __del__(self) -> None:
        try:
            self._shutdown_workers()
        except Exception:  # during interpreter teardown modules may already be gone
            pass
