"""Process-wide settings for the CPU, made when glasstorch is imported (first, before NumPy): how long
NumPy's OpenBLAS keeps its idle worker threads spinning, and whether NumPy asks for huge pages.

After every matrix product OpenBLAS's worker threads spin for 2**28 CPU cycles (about 0.1 s) by default,
waiting for the next product. On a 2-core machine that holds the second core through all the work
between products that is not BLAS: a convolution's window copies, pooling, elementwise loops. 2**22
cycles (1-2 ms) still covers the gap between the back-to-back products of an LSTM step (tens of
microseconds) and hands the core back soon after a burst of products ends, so work that
backends/cpu_threads.py splits over the cores gets it (measured on the MNIST CNN benchmark: 1.36x
PyTorch's time with the split, 1.52-1.65x without; the LSTM and MLP benchmarks unchanged). OpenBLAS
reads OPENBLAS_THREAD_TIMEOUT (the exponent, 4 to 30) once, when NumPy loads it: when NumPy is already
loaded, or the user chose a value, nothing is changed. `short_blas_spin()` says whether the spin in
effect is short enough for the split. (PyTorch's own kernels use MKL and OpenMP, which this does not
touch, so a PyTorch run in the same process is unaffected.)

Huge pages. NumPy advises the kernel to back arrays of 4 MiB and more with transparent huge pages. Where the
kernel's THP defrag policy is `madvise` or `defer+madvise` (the default of many distributions), a page fault
in such memory compacts memory synchronously when no free 2 MiB page is at hand, which is often the case
once other code has freed memory in 4 KiB pages. Measured on the 4096-wide MLP (2-core VM, defrag=madvise):
the first step 900-956 ms with the advice, 688-698 ms without; later steps 319-325 ms either way. Under those
two policies glasstorch sets NUMPY_MADVISE_HUGEPAGE=0, which NumPy reads once when it is imported; again
nothing changes when NumPy is already loaded or the user set the variable.
"""
from __future__ import annotations

import os
import sys

_BLAS_SPIN = "OPENBLAS_THREAD_TIMEOUT"
_SHORT_ENOUGH = 24  # exponents up to this (16.8M cycles, under 10 ms) leave the core soon enough

_HUGE_PAGES = "NUMPY_MADVISE_HUGEPAGE"
_DEFRAG = "/sys/kernel/mm/transparent_hugepage/defrag"


def _advice_compacts(path: str = _DEFRAG) -> bool:
    """Whether the kernel compacts memory synchronously on faults in memory advised for huge pages."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:  # not Linux, or no transparent huge pages
        return False
    start, end = text.find("["), text.find("]")  # the policy in effect is the bracketed one
    return text[start + 1:end] in ("madvise", "defer+madvise") if 0 <= start < end else False


if "numpy" not in sys.modules:
    os.environ.setdefault(_BLAS_SPIN, "22")
    if _advice_compacts():
        os.environ.setdefault(_HUGE_PAGES, "0")
_spin_in_effect = os.environ.get(_BLAS_SPIN)  # what OpenBLAS read (or will read); None: its default of 28


def short_blas_spin() -> bool:
    """True when OpenBLAS's workers stop spinning within a few milliseconds of a product."""
    value = _spin_in_effect
    return value is not None and value.strip().isdigit() and int(value) <= _SHORT_ENOUGH
