"""How long NumPy's OpenBLAS keeps its idle worker threads spinning: set before NumPy is loaded.

After every matrix product OpenBLAS's worker threads spin for 2**28 CPU cycles (about 0.1 s) by
default, waiting for the next product. On a 2-core machine that holds the second core through all the
work between products that is not BLAS: a convolution's window copies, pooling, elementwise loops.
2**22 cycles (1-2 ms) still covers the gap between the back-to-back products of an LSTM step (tens of
microseconds), and hands the core back soon after a burst of products ends, so work that
backends/cpu_threads.py splits over the cores gets it (measured on the MNIST CNN benchmark: 1.36x
PyTorch's time with the split, 1.52-1.65x without; the LSTM and MLP benchmarks unchanged).

OpenBLAS reads OPENBLAS_THREAD_TIMEOUT (the exponent, 4 to 30) once, when NumPy loads it, so this module
is the first thing glasstorch imports, before NumPy: when NumPy is already loaded, or the user chose a
value, nothing is changed. `short()` says whether the spin in effect is short enough for the split.
"""
from __future__ import annotations

import os
import sys

_VARIABLE = "OPENBLAS_THREAD_TIMEOUT"
_OURS = "22"
_SHORT_ENOUGH = 24  # exponents up to this (16.8M cycles, under 10 ms) leave the core soon enough

if "numpy" not in sys.modules:
    os.environ.setdefault(_VARIABLE, _OURS)
_in_effect = os.environ.get(_VARIABLE)  # what OpenBLAS read (or will read); None: its default of 28


def short() -> bool:
    """True when OpenBLAS's workers stop spinning within a few milliseconds of a product."""
    return _in_effect is not None and _in_effect.strip().isdigit() and int(_in_effect) <= _SHORT_ENOUGH
