"""Differentiable ops, by family. Each module keeps an op's forward and backward side by side."""
from . import creation, indexing, inplace, linalg, pointwise, reduction, shape  # noqa: F401
