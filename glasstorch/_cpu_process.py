"""Two process-wide settings for the CPU, made when glasstorch is imported (first, before NumPy).

1. How long NumPy's OpenBLAS keeps its idle worker threads spinning. After every matrix product they
   spin for 2**28 CPU cycles (about 0.1 s) by default, waiting for the next product. On a 2-core machine
   that holds the second core through all the work between products that is not BLAS: a convolution's
   window copies, pooling, elementwise loops. 2**22 cycles (1-2 ms) still covers the gap between the
   back-to-back products of an LSTM step (tens of microseconds) and hands the core back soon after a
   burst of products ends, so work that backends/cpu_threads.py splits over the cores gets it (measured
   on the MNIST CNN benchmark: 1.36x PyTorch's time with the split, 1.52-1.65x without; the LSTM and
   MLP benchmarks unchanged). OpenBLAS reads OPENBLAS_THREAD_TIMEOUT (the exponent, 4 to 30) once,
   when NumPy loads it: when NumPy is already loaded, or the user chose a value, nothing is changed.
   `short_blas_spin()` says whether the spin in effect is short enough for the split.

2. Where glibc's malloc takes large blocks from. Every op result is a fresh NumPy array. By default
   glibc maps blocks above a threshold (128 KiB, raised as such blocks are freed) straight from the
   kernel and unmaps them when freed, and trims the heap's top, so the next array of that size faults
   its pages in again, and each unmap interrupts the other core (OpenBLAS's threads) to flush its TLB.
   Blocks up to 32 MiB from the heap, with up to 64 MiB of freed top kept, remove that churn: the
   LSTM benchmark's main-thread time per chunk 34-35 -> 30-32 ms, the MNIST MLP epoch's peak memory
   growth 67.5 -> 52.7 MiB. glibc only; MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ set by the
   user win (glibc reads them at start-up, and nothing is changed here).
"""
from __future__ import annotations

import ctypes
import os
import sys

_BLAS_SPIN = "OPENBLAS_THREAD_TIMEOUT"
_SHORT_ENOUGH = 24  # exponents up to this (16.8M cycles, under 10 ms) leave the core soon enough

if "numpy" not in sys.modules:
    os.environ.setdefault(_BLAS_SPIN, "22")
_spin_in_effect = os.environ.get(_BLAS_SPIN)  # what OpenBLAS read (or will read); None: its default of 28


def short_blas_spin() -> bool:
    """True when OpenBLAS's workers stop spinning within a few milliseconds of a product."""
    value = _spin_in_effect
    return value is not None and value.strip().isdigit() and int(value) <= _SHORT_ENOUGH


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameter numbers (malloc.h)


def _is_glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (AttributeError, ValueError, OSError):  # (no confstr, or not this name: not glibc)
        return False


def _keep_freed_blocks() -> bool:
    """Large blocks from glibc's heap and freed memory kept there (see the module docstring); False
    where that is not glibc or the user set the thresholds."""
    if not _is_glibc():
        return False
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.restype, mallopt.argtypes = ctypes.c_int, [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(_M_MMAP_THRESHOLD, 32 << 20)) and bool(mallopt(_M_TRIM_THRESHOLD, 64 << 20))


malloc_tuned = _keep_freed_blocks()
