"""Splitting a batch loop over the CPU cores, each part with single-threaded BLAS.

The convolution products are many small matrix products (one per sample: (64, 288) @ (288, 576) for
the MNIST net's second layer). OpenBLAS splits each of them over its own threads, which gains little
at that size (measured: 1.1-1.25x on 2 cores), and its idle workers then spin on the second core, so
the serial window and pooling loops between the products cannot use it either. Running whole parts
of the batch in Python threads instead, each calling BLAS single-threaded (OpenBLAS's per-thread
setting, `openblas_set_num_threads_local`), keeps both cores on the products *and* on the window
loops (NumPy's matmul and the compiled loops of cpu_conv.py release the GIL).

Used only where that per-thread setting exists (NumPy's bundled OpenBLAS exports it: 0.3.31 in NumPy 2.4
wheels): without it, a split would run threaded BLAS inside threads, which oversubscribes the cores,
so `workers()` is 1 and callers run their loop in one piece. GLASSTORCH_THREADS=1 (or OMP_NUM_THREADS=1
when GLASSTORCH_THREADS is unset) turns it off too.
"""
from __future__ import annotations

import ctypes
import glob
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from .. import _cpu_process

_blas_local = None  # OpenBLAS's openblas_set_num_threads_local, or False when unavailable
_blas_global = None  # (get, set) of OpenBLAS's process-wide thread count, found with _blas_local
_pool = None  # the helper threads (workers() of them), started on first use
_pool_size = 0
_lock = threading.Lock()


def _blas_function(lib, names):
    for name in names:  # (NumPy's wheels export OpenBLAS's symbols with a scipy_ prefix and 64 suffix)
        fn = getattr(lib, name, None)
        if fn is not None:
            return fn
    return None


def _find_blas_local():
    """OpenBLAS's per-thread thread-count setter from NumPy's bundled library, or False. Also finds its
    global getter and setter (kept in _blas_global): in pthreads builds of OpenBLAS (NumPy's wheels)
    the 'local' setter changes the count for the whole process, so run() puts the caller's back."""
    global _blas_global
    import numpy

    here = os.path.dirname(numpy.__file__)
    candidates = glob.glob(os.path.join(here + ".libs", "*openblas*")) + \
        glob.glob(os.path.join(here, ".dylibs", "*openblas*"))
    for path in candidates:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        local = _blas_function(lib, ("openblas_set_num_threads_local",))
        get = _blas_function(lib, ("openblas_get_num_threads", "scipy_openblas_get_num_threads64_",
                                   "openblas_get_num_threads64_"))
        put = _blas_function(lib, ("openblas_set_num_threads", "scipy_openblas_set_num_threads64_",
                                   "openblas_set_num_threads64_"))
        if local is None or get is None or put is None:
            continue
        local.restype, local.argtypes = ctypes.c_int, [ctypes.c_int]
        get.restype, get.argtypes = ctypes.c_int, []
        put.restype, put.argtypes = None, [ctypes.c_int]
        _blas_global = (get, put)
        return local
    return False


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # (not on every OS)
        return os.cpu_count() or 1


def workers() -> int:
    """How many parts a batch loop is split into (at most 8, at most the usable cores; 1 without the
    per-thread BLAS setting).

    GLASSTORCH_THREADS=N asks for N parts (1: no split). Unset, the batch is split over as many parts as
    BLAS has threads, but only while OpenBLAS's idle workers stop spinning soon after a product
    (glasstorch/_cpu_process.py, set when glasstorch is imported before NumPy). With OpenBLAS's default
    spin of ~0.1 s the split loses (benchmark 6, MNIST CNN, 2 cores: 1.82x PyTorch against 1.52x
    unsplit), because the worker woken by the next product of the step spins on the core the helper
    threads need; with the short spin it wins (1.36x)."""
    global _blas_local
    limit = os.environ.get("GLASSTORCH_THREADS", "").strip()
    if limit and (not limit.isdigit() or int(limit) < 2):
        return 1
    if not limit and not _cpu_process.short_blas_spin():
        return 1
    if _blas_local is None:
        _blas_local = _find_blas_local()
    if not _blas_local:
        return 1
    wanted = int(limit) if limit else _blas_global[0]()  # (OPENBLAS_NUM_THREADS=1 or OMP_NUM_THREADS=1: 1)
    return max(1, min(_cores(), 8, wanted))


def _single_blas():
    if _blas_local:  # (tests force several parts where the setting is missing)
        _blas_local(1)


def _helpers(k: int) -> ThreadPoolExecutor:
    """A pool of at least k helper threads (a larger one replaces a smaller one)."""
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size < k:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(k, thread_name_prefix="glasstorch-cpu")
            _pool_size = k
        return _pool


def _forget_pool() -> None:
    """In a forked child the helper threads do not exist: start a new pool there on first use."""
    global _pool, _lock
    _pool, _lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def split(n: int) -> list:
    """range(n) cut into workers() contiguous (start, stop) parts (fewer when n is small)."""
    k = max(1, min(workers(), n))
    return [(n * i // k, n * (i + 1) // k) for i in range(k)]


def run(fn, parts: list) -> list:
    """[fn(start, stop) for each part], results in the parts' order. Several parts run in the helper
    threads, whose BLAS is single-threaded; the caller's BLAS thread count is the same afterwards."""
    if len(parts) <= 1:
        return [fn(*p) for p in parts]
    pool = _helpers(len(parts))
    before = _blas_global[0]() if _blas_global else None
    try:
        return [f.result() for f in [pool.submit(_in_helper, fn, *p) for p in parts]]
    finally:
        if before is not None and _blas_global[0]() != before:
            _blas_global[1](before)


def _in_helper(fn, start: int, stop: int):
    _single_blas()  # each time: run() restores the process-wide count that this may have changed
    return fn(start, stop)
