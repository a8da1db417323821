"""The op table's vocabulary: the `Op` row, input domains and shape sets.

Each family of ops keeps its rows in a file of its own, `tests/optable_<family>.py`, defining
`TABLE = [Op(...), ...]`; `family_tables()` gathers them and tests/test_ops.py runs every row
through the same generic checks (forward and backward against torch in float64 and float32,
non-contiguous inputs, gradcheck, gradgradcheck, other dtypes).
"""
from __future__ import annotations

import importlib
import pathlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np


# ---- input domains ------------------------------------------------------------------------------
def real(rng, shape):
    return rng.standard_normal(shape)


def pos(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def small(rng, shape):
    return rng.uniform(-1.0, 1.0, shape)


def away(*points, margin=0.1, lo=-2.0, hi=2.0):
    """Uniform values in [lo, hi] at least `margin` from every kink in `points`."""
    def draw(rng, shape):
        x = rng.uniform(lo, hi, shape)
        for _ in range(100):
            near = np.zeros(x.shape, dtype=bool)
            for p in points:
                near |= np.abs(x - p) < margin
            if not near.any():
                return x
            x = np.where(near, rng.uniform(lo, hi, x.shape), x)
        raise AssertionError("could not draw away from the kinks")
    return draw


AWAY0 = away(0.0)
AWAY_INT = away(*range(-3, 4), lo=-2.9, hi=2.9)
AWAY_HALF = away(*(k + 0.5 for k in range(-4, 4)), lo=-2.9, hi=2.9)
AWAY_CLAMP = away(-0.5, 0.5)


# ---- the table ----------------------------------------------------------------------------------
@dataclass
class Op:
    name: str
    fn: Callable
    shapes: list                      # input shape sets: one tuple of shapes per set
    domain: object = real             # a sampler, or a tuple of samplers (one per input)
    grad: bool = True                 # differentiable: compare gradients and gradcheck
    gradcheck: bool = True
    noncontig: bool = True            # also run on non-contiguous inputs
    dtypes: tuple = ("float64", "float32")
    grad_fn: object = "torch"         # "torch": the same grad_fn name as torch's; or the names we allow
    tol32: dict = field(default_factory=dict)  # looser float32 tolerance where summation order shows
    gradgrad: bool = True             # also gradgradcheck (False where torch has no double backward either)
    other_dtypes: bool = True         # also run on integer, bool and half inputs
    special_values: bool = True       # also run on NaN/inf/signed-zero inputs (test_special_values)

    def __repr__(self) -> str:
        return self.name


UNARY = [((3, 4),), ((),), ((2, 3, 4),)]
BINARY = [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((4,), (2, 3, 4)), ((), (3, 4)), ((2, 3, 4), ()), ((2, 1, 4), (3, 1))]
ONE = [((3, 4),)]
R3 = [((2, 3, 4),)]
R = [((3, 4),), ((2, 3, 4),)]
INPLACE_SHAPES = [((3, 4), (3, 4)), ((3, 4), (1, 4)), ((2, 3, 4), (3, 1))]


# PyTorch's matmul is a composite of view/mm/bmm ops and its result's grad_fn is the last of them
# (SqueezeBackward4, UnsafeViewBackward0, CloneBackward0); glasstorch's is one node named after
# the product: MmBackward0, DotBackward0, MvBackward0, or BmmBackward0 for everything batched.
MATMUL_NAMES = ("MmBackward0", "DotBackward0", "MvBackward0", "BmmBackward0")


def _unary(name, fn, domain=real, **kw):
    return Op(name, fn, UNARY, domain, **kw)


def _binary(name, fn, domain=real, **kw):
    return Op(name, fn, BINARY, domain, **kw)


def family_tables() -> list:
    """The rows of every `tests/optable_*.py`, in file-name order."""
    rows = []
    for path in sorted(pathlib.Path(__file__).parent.glob("optable_*.py")):
        rows += importlib.import_module(path.stem).TABLE
    return rows
