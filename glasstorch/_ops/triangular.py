"""Triangular linear algebra: solves with a triangular matrix, and the inverse of A = L L^T from
its Cholesky factor L (the factor itself: linalg_decomp.cholesky).

Both carry their own backward, written with Tensor ops (so second derivatives work too):

- X = solve_triangular(A, B, upper) solves A X = B. With G = dL/dX: dL/dB = A^-T G (a solve with
  the transposed, oppositely triangular A) and dL/dA = -dL/dB X^T, kept on A's triangle.
- P = cholesky_inverse(L) = (L L^T)^-1: dL/dL = -P (G + G^T) P L.

The forward solve uses the backend's general solver on the triangular matrix (NumPy has no
triangular one); it agrees with a triangular substitution to rounding for the well-conditioned
factors distributions use.
"""
from __future__ import annotations

import numpy as np

from ._util import Node, Tensor, _GradMode, _make, record, sum_to


def _batch_broadcast(xp, a, b):
    """a (..., n, n) and b (..., n, k) with their batch dims broadcast together."""
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return xp.broadcast_to(a, batch + a.shape[-2:]), xp.broadcast_to(b, batch + b.shape[-2:])


def _triangle(x: Tensor, upper: bool) -> Tensor:
    return x.triu() if upper else x.tril()


class LinalgSolveTriangularBackward0(Node):
    def __init__(self, a: Tensor, b: Tensor, out: Tensor, upper: bool):
        from .pointwise import _saved_output

        super().__init__((a, b), (a, _saved_output(out)))
        self.upper = upper
        self.a_shape, self.b_shape = a._data.shape, b._data.shape

    def backward(self, g):
        a, x = self.saved_tensors
        gb = solve_triangular(a.mT, g, upper=not self.upper)
        ga = None
        if self.next_functions[0][0] is not None:
            ga = sum_to(_triangle(-(gb @ x.mT), self.upper), self.a_shape)
        return ga, sum_to(gb, self.b_shape)


def solve_triangular(a: Tensor, b: Tensor, *, upper: bool) -> Tensor:
    """X with A X = B, A (..., n, n) upper or lower triangular (only that triangle is read),
    B (..., n, k); batch dims broadcast."""
    xp = a.device.xp
    ad = xp.triu(a._data) if upper else xp.tril(a._data)
    ad, bd = _batch_broadcast(xp, ad, b._data)
    out = _make(xp.linalg.solve(ad, bd), a.device)
    if _GradMode.enabled and (a._requires_grad or b._requires_grad):
        record(out, LinalgSolveTriangularBackward0(a, b, out, upper))
    return out


class CholeskyInverseBackward0(Node):
    """P = (L L^T)^-1: dL = -P (G + G^T) P L. Like PyTorch's, this gradient covers the whole of L,
    upper triangle included (the formula treats L as a general matrix)."""

    def __init__(self, low: Tensor, out: Tensor):
        from .pointwise import _saved_output

        super().__init__((low,), (low, _saved_output(out)))

    def backward(self, g):
        low, p = self.saved_tensors
        return (-(p @ (g + g.mT) @ p @ low),)


def cholesky_inverse(low: Tensor) -> Tensor:
    """(L L^T)^-1 from the lower Cholesky factor L (..., n, n) (only its lower triangle is read)."""
    xp = low.device.xp
    n = low._data.shape[-1]
    ld = xp.tril(low._data)
    eye = xp.broadcast_to(xp.eye(n, dtype=ld.dtype), ld.shape)
    inv = xp.linalg.solve(ld, eye)
    out = _make(xp.swapaxes(inv, -1, -2) @ inv, low.device)
    if _GradMode.enabled and low._requires_grad:
        record(out, CholeskyInverseBackward0(low, out))
    return out


# ---- torch's older spellings: triangular_solve, cholesky_solve, cholesky_inverse(upper=) ----------------------
def _at_least_2d(t: Tensor, message: str) -> None:
    if t._data.ndim < 2:
        raise RuntimeError(message.format(t._data.ndim))


def _triangular_solve_rt():
    from .linalg_decomp import _rt

    return _rt("triangular_solve", ("solution", "cloned_coefficient"))


triangular_solve_rt = _triangular_solve_rt()


def triangular_solve(b: Tensor, a: Tensor, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False):
    """(X, A.clone()) with op(A) X = b, op(A) = A or A^T; A's other triangle is ignored, and its diagonal too
    (taken as ones) when unitriangular."""
    _at_least_2d(b, "torch.triangular_solve: Expected b to have at least 2 dimensions, but it has {} dimensions "
                    "instead")
    _at_least_2d(a, "torch.triangular_solve: Expected A to have at least 2 dimensions, but it has {} dimensions "
                    "instead")
    m = a
    if unitriangular:
        from .creation import eye

        m = (a.triu(1) if upper else a.tril(-1)) + eye(a._data.shape[-1], dtype=a.dtype, device=a.device)
    if transpose:
        m, upper = m.mT, not upper
    from .shape import clone, expand

    batch = np.broadcast_shapes(a._data.shape[:-2], b._data.shape[:-2])  # A's copy comes batched like X
    return triangular_solve_rt(solve_triangular(m, b, upper=upper), clone(expand(a, batch + a._data.shape[-2:])))


class CholeskySolveBackward0(Node):
    """X = (L L^T)^-1 b: db = (L L^T)^-1 G, and dL = -(C + C^T) L with C = db X^T (U: -U (C + C^T)). Like
    PyTorch's, the factor's gradient covers the whole matrix (the formula treats it as a general one)."""

    def __init__(self, b: Tensor, factor: Tensor, out: Tensor, upper: bool):
        from .pointwise import _saved_output

        super().__init__((b, factor), (factor, _saved_output(out)))
        self.upper, self.b_shape, self.factor_shape = upper, b._data.shape, factor._data.shape

    def backward(self, g):
        factor, x = self.saved_tensors
        gb = cholesky_solve(g, factor, self.upper)
        gf = None
        if self.next_functions[1][0] is not None:
            common = gb @ x.mT
            common = common + common.mT
            gf = sum_to(-(factor @ common) if self.upper else -(common @ factor), self.factor_shape)
        return sum_to(gb, self.b_shape), gf


def cholesky_solve(b: Tensor, factor: Tensor, upper: bool = False) -> Tensor:
    """X with A X = b for A = L L^T (factor L, lower) or U^T U (factor U, upper): two triangular solves."""
    _at_least_2d(b, "b should have at least 2 dimensions, but has {} dimensions instead")
    _at_least_2d(factor, "u should have at least 2 dimensions, but has {} dimensions instead")
    from .pointwise import _no_grad

    with _no_grad():
        low = factor.mT if upper else factor
        x = solve_triangular(low.mT, solve_triangular(low, b, upper=False), upper=True)
    out = _make(x._data, x.device)
    if _GradMode.enabled and (b._requires_grad or factor._requires_grad):
        record(out, CholeskySolveBackward0(b, factor, out, upper))
    return out


def cholesky_inverse_of(factor: Tensor, upper: bool = False) -> Tensor:
    """A^-1 from A's Cholesky factor (lower L, or upper U with A = U^T U)."""
    if factor._data.ndim < 2:
        raise RuntimeError("cholesky_inverse: The input tensor A must have at least 2 dimensions.")
    return cholesky_inverse(factor.mT if upper else factor)
