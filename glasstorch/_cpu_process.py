"""A process-wide setting for the CPU, made when glasstorch is imported (first, before NumPy): how long
NumPy's OpenBLAS keeps its idle worker threads spinning.

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
"""
from __future__ import annotations

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
