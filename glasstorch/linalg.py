"""torch.linalg: factorizations, solvers and norms (kernels in glasstorch/_ops/linalg_decomp.py)."""
from __future__ import annotations

from ._ops import linalg as _l, linalg_decomp as _d, products as _p

LinAlgError = _d.LinAlgError

det, slogdet, inv, inv_ex, solve = _d.det, _d.slogdet, _d.linalg_inv, _d.inv_ex, _d.linalg_solve
cholesky, cholesky_ex, qr, eigh, eigvalsh = _d.cholesky, _d.cholesky_ex, _d.qr, _d.eigh, _d.eigvalsh
svd, svdvals, pinv, lstsq = _d.svd, _d.svdvals, _d.pinv, _d.lstsq
matrix_rank, matrix_power = _d.matrix_rank, _d.matrix_power
norm, vector_norm, matrix_norm = _d.linalg_norm, _d.vector_norm, _d.matrix_norm
cross, multi_dot = _p.linalg_cross, _p.multi_dot
matmul = _l.matmul


def vecdot(x, y, *, dim: int = -1):
    """The dot product of x and y along dim (broadcasting the others)."""
    return (x * y).sum(dim)


def diagonal(A, *, offset: int = 0, dim1: int = -2, dim2: int = -1):
    return A.diagonal(offset, dim1, dim2)
