"""torch.linalg's factorizations and solvers: det, slogdet, inv, solve, cholesky, qr, eigh, svd, pinv,
and what is built on them (lstsq, matrix_rank, matrix_power, matrix norms).

Forward passes call the backend's LAPACK wrappers (numpy.linalg or cupy.linalg), which batch over
leading dims. Backward formulas are the standard matrix-calculus results (as in PyTorch's
FunctionsManual), written with recorded Tensor ops so that they are differentiable again.

An op with several outputs (slogdet, qr, eigh, svd) records one node per output, all of the
op's grad_fn class: each node turns its own output's gradient into the input's, and since these
formulas are linear in the output gradients, the engine's sum over nodes is the whole gradient.
"""
from __future__ import annotations

import math

from ..amp.autocast_mode import autocast_op
from ._util import Node, Tensor, _GradMode, _make, not_implemented, record, type_word
from . import linalg as L
from . import pointwise as P
from .reduction import _alias


class LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError: a factorization or solve failed (singular or not positive-definite)."""


LinAlgError.__module__ = "glasstorch._C"
LinAlgError.__qualname__ = LinAlgError.__name__ = "_LinAlgError"


def _rt(name: str, fields: tuple):
    """A torch.return_types.linalg_* named tuple type."""
    def make(cls, *values):
        return tuple.__new__(cls, values)

    def rep(self):
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"torch.return_types.{name}(\n{body})"

    attrs = {"__new__": make, "__repr__": rep, "__slots__": (), "_name": name}
    for i, f in enumerate(fields):
        attrs[f] = property(lambda self, i=i: self[i])
    return type(name, (tuple,), attrs)


slogdet_rt = _rt("linalg_slogdet", ("sign", "logabsdet"))
qr_rt = _rt("linalg_qr", ("Q", "R"))
eigh_rt = _rt("linalg_eigh", ("eigenvalues", "eigenvectors"))
svd_rt = _rt("linalg_svd", ("U", "S", "Vh"))
legacy_svd_rt = _rt("svd", ("U", "S", "V"))
lstsq_rt = _rt("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))
inv_ex_rt = _rt("linalg_inv_ex", ("inverse", "info"))
cholesky_ex_rt = _rt("linalg_cholesky_ex", ("L", "info"))


# ---- input checks ----------------------------------------------------------------------------------
def _check_float(name: str, x: Tensor, half_kernel: str | None = None) -> None:
    """Floating point only; half precision has no LAPACK kernel (PyTorch words it per op:
    the missing kernel's name where given, else 'Low precision dtypes not supported')."""
    d = x._data.dtype
    if d.kind != "f":
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got {type_word(d)}")
    if d.itemsize < 4:
        if half_kernel is not None:
            raise not_implemented(half_kernel, d)
        raise RuntimeError(f"{name}: Low precision dtypes not supported. Got {type_word(d)}")


def _check_square(name: str, x: Tensor, what: str = "A") -> None:
    s = x._data.shape
    if len(s) < 2:
        raise RuntimeError(f"{name}: The input tensor {what} must have at least 2 dimensions.")
    if s[-1] != s[-2]:
        raise RuntimeError(f"{name}: {what} must be batches of square matrices, but they are {s[-2]} by {s[-1]} "
                           "matrices")


def _check_matrix(name: str, x: Tensor) -> None:
    if x._data.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")


def _batch_prefix(shape, index) -> str:
    """PyTorch's '(Batch element k): ' for an error in one matrix of a batch."""
    if len(shape) <= 2:
        return ""
    return f"(Batch element {index}): "


def _eye_like(x: Tensor, n: int) -> Tensor:
    from .creation import eye

    return eye(n, dtype=x.dtype, device=x.device)


def _sym(x: Tensor) -> Tensor:
    return (x + x.mT) * 0.5


class _OneOfOutputs(Node):
    """The node of one output of a several-output op, saving (aliases of) all the op's outputs.

    Under create_graph a saved output must lead back to the node that made it: Node.saved_tensors
    reattaches every alias to the node reading it, so here each is handed to its own output's node
    (`siblings`, one list shared by the op's nodes, in output order)."""

    siblings = ()  # the op's nodes in output order: one list shared by them (set by _record_outputs)

    @property
    def saved_tensors(self) -> tuple:
        saved = Node.saved_tensors.fget(self)
        if _GradMode.enabled:
            for t, owner in zip(saved, self.siblings):
                if t is not None and t.grad_fn is self:  # (a reattached alias, a fresh tensor)
                    t.grad_fn = owner
        return saved


def _record_outputs(outputs, node_of) -> None:
    """Record node_of(i) on output i; the nodes know each other (see _OneOfOutputs)."""
    siblings = []
    for i, t in enumerate(outputs):
        node = node_of(i)
        node.siblings = siblings
        siblings.append(node)
        record(t, node)


# ---- det / slogdet ---------------------------------------------------------------------------------
class LinalgDetBackward0(Node):
    def __init__(self, a, result):
        super().__init__((a,), (a, result))

    def backward(self, g):
        a, det = self.saved_tensors
        g = g.unsqueeze(-1).unsqueeze(-1)
        try:  # d det(A) = det(A) tr(A^-1 dA): the gradient is g det(A) A^-T
            return (g * det.unsqueeze(-1).unsqueeze(-1) * linalg_inv(a).mT,)
        except LinAlgError:  # a singular matrix in the batch: the adjugate, which needs no inverse
            return (g * _adjugate(a).mT,)


def _adjugate(a: Tensor) -> Tensor:
    """adj(A) = det(A) A^-1, defined for singular A too: with A = U S Vh,
    adj(A) = det(U) det(Vh) Vh^T diag(prod of the other singular values) U^T."""
    from .reduction import prod

    u, s, vh = svd(a, full_matrices=False)
    n = s._data.shape[-1]
    eye = _eye_like(s, n) > 0
    others = prod(P.where(eye, 1.0, s.unsqueeze(-2).expand(*s.shape[:-1], n, n)), -1)
    sign = (det(u) * det(vh)).unsqueeze(-1).unsqueeze(-1)
    return sign * L.matmul(vh.mT * others.unsqueeze(-2), u.mT)


def det(a: Tensor) -> Tensor:
    _check_matrix("linalg.det", a)
    _check_float("linalg.det", a, "lu_cpu")
    _check_square("linalg.det", a)
    out = _make(a.device.xp.asarray(a.device.xp.linalg.det(a._data)), a.device)
    if _GradMode.enabled and a._requires_grad:
        record(out, LinalgDetBackward0(a, _alias(out)))
    return out


class LinalgSlogdetBackward0(Node):
    """One node per output: the sign (output 0) passes no gradient, logabsdet (1) gives g A^-T."""

    def __init__(self, a, which: int):
        super().__init__((a,), (a,) if which else ())
        self.which = which

    def backward(self, g):
        if not self.which:
            return (None,)
        (a,) = self.saved_tensors
        return (g.unsqueeze(-1).unsqueeze(-1) * linalg_inv(a).mT,)


def slogdet(a: Tensor):
    """(sign, log|det|) of square matrices."""
    _check_matrix("linalg.slogdet", a)
    _check_float("linalg.slogdet", a)
    _check_square("linalg.slogdet", a)
    xp = a.device.xp
    sign, logabs = xp.linalg.slogdet(a._data)
    sign, logabs = _make(xp.asarray(sign), a.device), _make(xp.asarray(logabs), a.device)
    if _GradMode.enabled and a._requires_grad:
        record(sign, LinalgSlogdetBackward0(a, 0))
        record(logabs, LinalgSlogdetBackward0(a, 1))
    return slogdet_rt(sign, logabs)


def logdet(a: Tensor) -> Tensor:
    """log det(A): NaN for a negative determinant, -inf for a singular matrix."""
    sign, logabs = slogdet(a)
    return P.where(sign < 0, math.nan, logabs)


# ---- inverse and solve -----------------------------------------------------------------------------
def _lu_zero_pivot(xp, m) -> int:
    """The 1-based column of the first zero pivot of LU with partial pivoting (LAPACK's getrf info),
    for the error message of a singular matrix."""
    import numpy as np

    a = np.array(m.get() if hasattr(m, "get") else m, dtype=np.float64)
    n = a.shape[0]
    for k in range(n):  # (only on the error path)
        p = k + int(np.argmax(np.abs(a[k:, k])))
        if a[p, k] == 0:
            return k + 1
        a[[k, p]] = a[[p, k]]
        a[k + 1:, k:] -= np.outer(a[k + 1:, k] / a[k, k], a[k, k:])
    return n


def _singular_batch(xp, data, test):
    """The first matrix of a batch for which `test(matrix)` fails: (flat index, matrix)."""
    flat = data.reshape((-1,) + data.shape[-2:])
    for i in range(flat.shape[0]):
        if not test(flat[i]):
            return i, flat[i]
    return 0, flat[0]


def _inv_array(name: str, a: Tensor):
    xp = a.device.xp
    try:
        return xp.linalg.inv(a._data)
    except Exception as e:  # LAPACK's getrf met an exact zero pivot
        if "singular" not in str(e).lower():
            raise

        def ok(m):
            try:
                xp.linalg.inv(m)
                return True
            except Exception:  # noqa: BLE001
                return False
        i, m = _singular_batch(xp, a._data, ok)
        k = _lu_zero_pivot(xp, m)
        raise LinAlgError(f"{name}: {_batch_prefix(a._data.shape, i)}The diagonal element {k} is zero, the "
                          "inversion could not be completed because the input matrix is singular.") from None


class LinalgInvExBackward0(Node):
    def __init__(self, a, result):
        super().__init__((a,), (result,))

    def backward(self, g):
        (inv,) = self.saved_tensors
        # d(A^-1) = -A^-1 dA A^-1, so the gradient is -A^-T g A^-T
        return (-L.matmul(L.matmul(inv.mT, g), inv.mT),)


@autocast_op("linalg_inv")
def linalg_inv(a: Tensor) -> Tensor:
    _check_matrix("linalg.inv", a)
    _check_float("linalg.inv", a)
    _check_square("linalg.inv", a)
    out = _make(_inv_array("linalg.inv", a), a.device)
    if _GradMode.enabled and a._requires_grad:
        record(out, LinalgInvExBackward0(a, _alias(out)))
    return out


def inv_ex(a: Tensor, *, check_errors: bool = False):
    """(inverse, info): info is 0, or k where the k-th pivot was zero (then the inverse is garbage)."""
    xp = a.device.xp
    try:
        return inv_ex_rt(linalg_inv(a), _make(xp.zeros(a._data.shape[:-2], dtype=xp.int32), a.device))
    except LinAlgError:
        if check_errors:
            raise
    # (the error path, matrix by matrix) the inverses of the invertible ones, NaN for the others
    flat = a._data.reshape((-1,) + a._data.shape[-2:])
    good = [_invertible(xp, m) for m in flat]
    info = xp.asarray([0 if ok else _lu_zero_pivot(xp, m) for ok, m in zip(good, flat)], dtype=xp.int32)
    inverses = xp.stack([xp.linalg.inv(m) if ok else xp.full(m.shape, xp.nan, m.dtype) for ok, m in zip(good, flat)])
    return inv_ex_rt(_make(inverses.reshape(a._data.shape), a.device), _make(info.reshape(a._data.shape[:-2]),
                                                                             a.device))


def _invertible(xp, m) -> bool:
    try:
        xp.linalg.inv(m)
        return True
    except Exception:  # noqa: BLE001
        return False


class LinalgSolveExBackward0(Node):
    """X = A^-1 B: gB = A^-T g, gA = -gB X^T (B and X as matrices here)."""

    def __init__(self, a, b, x, vector: bool, left: bool):
        super().__init__((a, b), (a, x))
        self.vector, self.left = vector, left
        self.shapes = (a._data.shape, b._data.shape)

    def backward(self, g):
        from ._util import sum_to

        a, x = self.saved_tensors
        n = self.next_functions
        if not self.left:  # X A = B is A^T X^T = B^T
            a, x, g = a.mT, x.mT, g.mT
        if self.vector:
            x, g = x.unsqueeze(-1), g.unsqueeze(-1)
        gb = linalg_solve(a.mT, g)
        ga = -L.matmul(gb, x.mT) if n[0][0] is not None else None
        if not self.left:
            gb = gb.mT
            ga = None if ga is None else ga.mT
        if self.vector:
            gb = gb.squeeze(-1)
        ga = None if ga is None else sum_to(ga, self.shapes[0])
        gb = sum_to(gb, self.shapes[1]) if n[1][0] is not None else None
        return ga, gb


def _is_vector_rhs(a: Tensor, b: Tensor) -> bool:
    """PyTorch treats B as a (batch of) vector(s) when B.ndim == 1 or B is A's batch shape plus (n,)."""
    sb = b._data.shape
    return len(sb) == 1 or (len(sb) == a._data.ndim - 1 and sb == a._data.shape[:-1])


def linalg_solve(a: Tensor, b: Tensor, *, left: bool = True) -> Tensor:
    """The X with A X = B (left=True) or X A = B, for square A; batch dims broadcast."""
    _check_matrix("linalg.solve", a)
    _check_float("linalg.solve", a, "lu_cpu")
    _check_square("linalg.solve", a)
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{type_word(a._data.dtype)} and B of type {type_word(b._data.dtype)} instead")
    xp = a.device.xp
    vector = _is_vector_rhs(a, b)
    ad, bd = a._data, b._data
    bm = bd[..., None] if vector else bd
    if not left:
        ad, bm = xp.swapaxes(ad, -1, -2), xp.swapaxes(bm, -1, -2)
    n = ad.shape[-1]
    if bm.shape[-2] != n:
        shown = (bd.shape[-1], 1) if vector else bd.shape[-2:]  # a vector B is a column, either side
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation {eq} "
                           f"({a._data.shape[-2]}x{a._data.shape[-1]} and {shown[0]}x{shown[1]})")
    batch = xp.broadcast_shapes(ad.shape[:-2], bm.shape[:-2])
    full_a = xp.broadcast_to(ad, batch + ad.shape[-2:])
    try:
        data = xp.linalg.solve(full_a, xp.broadcast_to(bm, batch + bm.shape[-2:]))
    except Exception as e:
        if "singular" not in str(e).lower():
            raise
        i, _ = _singular_batch(xp, full_a, lambda m: _invertible(xp, m))
        raise LinAlgError(f"torch.linalg.solve: {_batch_prefix(full_a.shape, i)}The solver failed because the input "
                          "matrix is singular.") from None
    if not left:
        data = xp.swapaxes(data, -1, -2)
    if vector:
        data = data[..., 0]
    out = _make(xp.ascontiguousarray(data), a.device)
    if _GradMode.enabled and (a._requires_grad or b._requires_grad):
        record(out, LinalgSolveExBackward0(a, b, _alias(out), vector, left))
    return out


# ---- cholesky --------------------------------------------------------------------------------------
def _leading_minor_failure(xp, m) -> int:
    """The order of the first leading minor that is not positive-definite (for the error message)."""
    for k in range(1, m.shape[-1] + 1):
        try:
            xp.linalg.cholesky(m[:k, :k])
        except Exception:  # noqa: BLE001
            return k
    return m.shape[-1]


class LinalgCholeskyExBackward0(Node):
    def __init__(self, a, result, upper: bool):
        super().__init__((a,), (result,))
        self.upper = upper

    def backward(self, g):
        (factor,) = self.saved_tensors
        low, gl = (factor.mT, g.mT) if self.upper else (factor, g)
        # A = L L^T: gA = L^-T Phi(L^T gL) L^-1, symmetrized; Phi keeps the lower triangle, half the diagonal
        from .shape import tril

        phi = tril(L.matmul(low.mT, gl))
        phi = phi - 0.5 * phi.diagonal(0, -2, -1).diag_embed()
        s = linalg_solve(low.mT, phi)            # L^-T Phi
        ga = linalg_solve(low.mT, s.mT).mT       # (L^-T Phi) L^-1
        return (_sym(ga),)


class CholeskyBackward0(LinalgCholeskyExBackward0):
    """torch.cholesky (deprecated): the same gradient."""


def _cholesky_array(name: str, a: Tensor, upper: bool):
    xp = a.device.xp
    try:
        low = xp.linalg.cholesky(a._data)
    except Exception as e:
        if "definite" not in str(e).lower() and "cholesky" not in str(e).lower():
            raise

        def ok(m):
            try:
                xp.linalg.cholesky(m)
                return True
            except Exception:  # noqa: BLE001
                return False
        i, m = _singular_batch(xp, a._data, ok)
        k = _leading_minor_failure(xp, m)
        raise LinAlgError(f"{name}: {_batch_prefix(a._data.shape, i)}The factorization could not be completed because "
                          f"the input is not positive-definite (the leading minor of order {k} is not "
                          "positive-definite).") from None
    return xp.ascontiguousarray(xp.swapaxes(low, -1, -2)) if upper else low


@autocast_op("cholesky")
def cholesky(a: Tensor, *, upper: bool = False) -> Tensor:
    """The lower (or upper) triangular L with A = L L^T, for symmetric positive-definite A (its lower
    triangle is read)."""
    _check_matrix("linalg.cholesky", a)
    _check_float("linalg.cholesky", a, "cholesky_cpu")
    _check_square("linalg.cholesky", a)
    out = _make(_cholesky_array("linalg.cholesky", a, upper), a.device)
    if _GradMode.enabled and a._requires_grad:
        record(out, LinalgCholeskyExBackward0(a, _alias(out), upper))
    return out


def cholesky_ex(a: Tensor, *, upper: bool = False, check_errors: bool = False):
    xp = a.device.xp
    try:
        return cholesky_ex_rt(cholesky(a, upper=upper), _make(xp.zeros(a._data.shape[:-2], dtype=xp.int32), a.device))
    except LinAlgError:
        if check_errors:
            raise
    # (the error path, matrix by matrix) the factors of the positive-definite ones, NaN for the others
    flat = a._data.reshape((-1,) + a._data.shape[-2:])
    info, factors = [], []
    for m in flat:
        try:
            low = xp.linalg.cholesky(m)
            info.append(0)
        except Exception:  # noqa: BLE001
            low = xp.full(m.shape, xp.nan, m.dtype)
            info.append(_leading_minor_failure(xp, m))
        factors.append(low.T if upper else low)
    shape = a._data.shape
    return cholesky_ex_rt(_make(xp.stack(factors).reshape(shape), a.device),
                          _make(xp.asarray(info, dtype=xp.int32).reshape(shape[:-2]), a.device))


def torch_cholesky(a: Tensor, upper: bool = False) -> Tensor:
    """torch.cholesky (deprecated in PyTorch in favour of torch.linalg.cholesky)."""
    import warnings

    warnings.warn("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a future "
                  "PyTorch release.\nL = torch.cholesky(A)\nshould be replaced with\nL = torch.linalg.cholesky(A)\n"
                  "and\nU = torch.cholesky(A, upper=True)\nshould be replaced with\nU = torch.linalg.cholesky(A).mH\n"
                  "This transform will produce equivalent results for all valid (symmetric positive definite) "
                  "inputs.", UserWarning, stacklevel=2)
    _check_float("cholesky", a, "cholesky_cpu")
    _check_square("cholesky", a)
    out = _make(_cholesky_array("cholesky", a, upper), a.device)
    if _GradMode.enabled and a._requires_grad:
        record(out, CholeskyBackward0(a, _alias(out), upper))
    return out


# ---- QR --------------------------------------------------------------------------------------------
class LinalgQrBackward0(_OneOfOutputs):
    """A = QR. For m >= n (reduced): with M = R gR^T - gQ^T Q, gA = (gQ + Q copyltu(M)) R^-T, where
    copyltu(M) is the symmetric matrix with M's lower triangle. For m < n, A = [X | Y] and R = [U | V]
    with X = QU square: gY = Q gV, and X takes the square formula with gQ + Y gV^T in place of gQ.
    One node per output (Q: 0, R: 1)."""

    def __init__(self, a, q, r, which: int, mode: str):
        super().__init__((a,), (q, r))
        self.which, self.mode = which, mode
        self.shape = a._data.shape

    def backward(self, g):
        from .shape import cat

        q, r = self.saved_tensors
        m, n = self.shape[-2:]
        if self.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        gq, gr = (g, None) if self.which == 0 else (None, g)
        if m >= n:
            return (_qr_tall_grad(q, r, gq, gr),)
        u, v = r[..., :, :m], r[..., :, m:]
        if gr is None:  # Y = QV and V has no gradient: Y gets none
            zeros = _make(q.device.xp.zeros(q._data.shape[:-1] + (n - m,), dtype=q._data.dtype), q.device)
            return (cat([_qr_tall_grad(q, u, gq, None), zeros], -1),)
        gu, gv = gr[..., :, :m], gr[..., :, m:]
        y = L.matmul(q, v)
        gx = _qr_tall_grad(q, u, L.matmul(y, gv.mT), gu)
        return (cat([gx, L.matmul(q, gv)], -1),)


def _qr_tall_grad(q: Tensor, r: Tensor, gq, gr) -> Tensor:
    """The m >= n formula; gq or gr may be None (no gradient from that output)."""
    from .shape import tril

    big_m = 0
    if gr is not None:
        big_m = L.matmul(r, gr.mT)
    if gq is not None:
        big_m = big_m - L.matmul(gq.mT, q)
    low = tril(big_m, -1)
    copyltu = low + low.mT + big_m.diagonal(0, -2, -1).diag_embed()
    inner = L.matmul(q, copyltu)
    if gq is not None:
        inner = inner + gq
    return linalg_solve(r, inner.mT).mT  # (...) R^-T: solve R X^T = (...)^T


def qr(a: Tensor, mode: str = "reduced"):
    """A = QR with orthonormal Q and upper-triangular R; mode 'reduced', 'complete' or 'r' (Q empty)."""
    _check_matrix("linalg.qr", a)
    _check_float("linalg.qr", a, "geqrf_cpu")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           "or 'complete'")
    xp = a.device.xp
    q, r = xp.linalg.qr(a._data, mode="complete" if mode == "complete" else "reduced")
    if mode == "r":
        q = xp.zeros((0,), dtype=a._data.dtype)
    qt, rt = _make(xp.ascontiguousarray(q), a.device), _make(xp.ascontiguousarray(r), a.device)
    if _GradMode.enabled and a._requires_grad:
        qa, ra = _alias(qt), _alias(rt)
        _record_outputs((qt, rt), lambda i: LinalgQrBackward0(a, qa, ra, i, mode))
    return qr_rt(qt, rt)


# ---- symmetric eigendecomposition ------------------------------------------------------------------
def _inverse_gaps(lam: Tensor) -> Tensor:
    """F[i, j] = 1 / (lam_j - lam_i) off the diagonal, 0 on it (distinct eigenvalues assumed)."""
    gaps = lam.unsqueeze(-2) - lam.unsqueeze(-1)
    n = lam._data.shape[-1]
    eye = _eye_like(lam, n) > 0
    return P.where(eye, 0.0, 1 / P.where(eye, 1.0, gaps))


class LinalgEighBackward0(_OneOfOutputs):
    """A = Q diag(L) Q^T: gA = Q (diag(gL) + F o (Q^T gQ - gQ^T Q) / 2) Q^T, one node per output."""

    def __init__(self, a, lam, vecs, which: int):
        super().__init__((a,), (lam, vecs))
        self.which = which

    def backward(self, g):
        lam, q = self.saved_tensors
        if self.which == 0:
            inner = g.diag_embed()
        else:
            x = L.matmul(q.mT, g)
            inner = _inverse_gaps(lam) * (x - x.mT) * 0.5
        return (L.matmul(L.matmul(q, inner), q.mT),)


def eigh(a: Tensor, UPLO: str = "L"):
    """Eigenvalues (ascending) and orthonormal eigenvectors of symmetric matrices (one triangle is read)."""
    _check_matrix("linalg.eigh", a)
    _check_float("linalg.eigh", a, "linalg_eigh_cpu")
    _check_square("linalg.eigh", a)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    xp = a.device.xp
    lam, vecs = xp.linalg.eigh(a._data, UPLO=UPLO)
    lt, vt = _make(lam, a.device), _make(vecs, a.device)
    if _GradMode.enabled and a._requires_grad:
        la, va = _alias(lt), _alias(vt)
        _record_outputs((lt, vt), lambda i: LinalgEighBackward0(a, la, va, i))
    return eigh_rt(lt, vt)


def eigvalsh(a: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues of symmetric matrices, ascending (their gradient needs the eigenvectors too)."""
    if _GradMode.enabled and a._requires_grad:
        return eigh(a, UPLO).eigenvalues
    _check_matrix("linalg.eigvalsh", a)
    _check_float("linalg.eigvalsh", a, "linalg_eigh_cpu")
    _check_square("linalg.eigvalsh", a)
    return _make(a.device.xp.linalg.eigvalsh(a._data, UPLO=UPLO), a.device)


# ---- singular value decomposition --------------------------------------------------------------------
class LinalgSvdBackward0(_OneOfOutputs):
    """A = U diag(S) Vh (reduced; distinct nonzero singular values assumed). With V = Vh^T, k = min(m, n),
    E[j, l] = S_l^2 - S_j^2 and skew(X) = X - X^T:
        gA = U [skew(U^T gU) / E S + S skew(V^T gV) / E + diag(gS)] V^T
             + (I - U U^T) gU S^-1 V^T + U S^-1 gV^T (I - V V^T)
    one node per output (U: 0, S: 1, Vh: 2), each giving its own term."""

    def __init__(self, a, u, s, vh, which: int):
        super().__init__((a,), (u, s, vh))
        self.which = which
        self.shape = a._data.shape

    def backward(self, g):
        u, s, vh = self.saved_tensors
        m, n = self.shape[-2:]
        k = min(m, n)
        # full_matrices: the columns of U (rows of Vh) beyond k do not depend on A in a unique way;
        # as PyTorch, their gradients are dropped and the reduced formula is used
        u, vh = u[..., :, :k], vh[..., :k, :]
        v = vh.mT
        if self.which == 1:
            return (L.matmul(u * g.unsqueeze(-2), vh),)
        s2 = s * s
        eye = _eye_like(s, k) > 0
        gaps = s2.unsqueeze(-2) - s2.unsqueeze(-1)        # E[j, l] = S_l^2 - S_j^2
        inv_e = P.where(eye, 0.0, 1 / P.where(eye, 1.0, gaps))
        if self.which == 0:
            gu = g[..., :, :k]
            x = L.matmul(u.mT, gu)
            inner = ((x - x.mT) * inv_e) * s.unsqueeze(-2)  # (skew / E) S
            out = L.matmul(L.matmul(u, inner), vh)
            if m > k:  # the part of gU outside U's span
                proj = gu - L.matmul(u, x)
                out = out + L.matmul(proj / s.unsqueeze(-2), vh)
            return (out,)
        gv = g[..., :k, :].mT
        y = L.matmul(v.mT, gv)
        inner = s.unsqueeze(-1) * ((y - y.mT) * inv_e)      # S (skew / E)
        out = L.matmul(L.matmul(u, inner), vh)
        if n > k:
            proj = gv - L.matmul(v, y)
            out = out + L.matmul(u / s.unsqueeze(-2), proj.mT)
        return (out,)


def svd(a: Tensor, full_matrices: bool = True, *, driver=None):
    """A = U diag(S) Vh, singular values descending."""
    _check_matrix("linalg.svd", a)
    _check_float("linalg.svd", a, "linalg_svd_cpu")
    xp = a.device.xp
    u, s, vh = xp.linalg.svd(a._data, full_matrices=full_matrices)
    ut, st, vt = (_make(xp.ascontiguousarray(t), a.device) for t in (u, s, vh))
    if _GradMode.enabled and a._requires_grad:
        saved = (_alias(ut), _alias(st), _alias(vt))
        _record_outputs((ut, st, vt), lambda i: LinalgSvdBackward0(a, *saved, i))
    return svd_rt(ut, st, vt)


def svd_legacy(a: Tensor, some: bool = True, compute_uv: bool = True):
    """torch.svd: A = U diag(S) V^T, the older spelling of linalg.svd (V, not Vh). `some` keeps the
    reduced factors; without `compute_uv`, U (m, m) and V (n, n) are zeros, as PyTorch returns them."""
    if not compute_uv:
        m, n = a.shape[-2:]
        xp = a.device.xp
        zeros = (_make(xp.zeros(a.shape[:-2] + k, a._data.dtype), a.device) for k in ((m, m), (n, n)))
        u, v = zeros
        return legacy_svd_rt(u, svdvals(a), v)
    u, s, vh = svd(a, full_matrices=not some)
    return legacy_svd_rt(u, s, vh.mT)


def svdvals(a: Tensor, *, driver=None) -> Tensor:
    _check_matrix("linalg.svd", a)
    _check_float("linalg.svd", a, "linalg_svd_cpu")
    if _GradMode.enabled and a._requires_grad:
        return svd(a, full_matrices=False).S
    return _make(a.device.xp.linalg.svd(a._data, compute_uv=False), a.device)


# ---- pseudo-inverse, least squares, rank ---------------------------------------------------------------
def _default_rtol(a: Tensor, atol, rtol):
    """PyTorch's rule: rtol = eps * max(m, n) when neither tolerance is given, else 0 unless given."""
    if rtol is None:
        m, n = a._data.shape[-2:]
        return a.device.xp.finfo(a._data.dtype).eps * max(m, n) if atol is None or atol == 0 else 0.0
    return rtol


class LinalgPinvBackward0(Node):
    """P = A^+: gA = -P^T gP P^T + (I - A P) gP^T P P^T + P^T P gP^T (I - P A) (full-rank A)."""

    def __init__(self, a, result):
        super().__init__((a,), (a, result))

    def backward(self, g):
        a, p = self.saved_tensors
        m, n = a._data.shape[-2:]
        pt = p.mT
        ap = L.matmul(a, p)
        pa = L.matmul(p, a)
        out = -L.matmul(L.matmul(pt, g), pt)
        out = out + L.matmul(L.matmul(_eye_like(a, m) - ap, g.mT), L.matmul(p, pt))
        out = out + L.matmul(L.matmul(pt, p), L.matmul(g.mT, _eye_like(a, n) - pa))
        return (out,)


def _tolerance(xp, s, atol, rtol):
    """max(atol, rtol * largest singular value), per matrix (keepdims for broadcasting against s)."""
    smax = s.max(axis=-1, keepdims=True) if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,), s.dtype)
    return xp.maximum(0.0 if atol is None else atol, rtol * smax)


def pinv(a: Tensor, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """The Moore-Penrose pseudo-inverse, singular values below max(atol, rtol * S_max) treated as 0."""
    _check_matrix("linalg.pinv", a)
    if a._data.dtype.kind == "f" and a._data.dtype.itemsize < 4:
        raise RuntimeError(f"linalg.pinv({type_word(a._data.dtype)}{{{list(a._data.shape)}}}): expected a tensor "
                           "with 2 or more dimensions of float, double, cfloat or cdouble types")
    _check_float("linalg.pinv", a)
    xp = a.device.xp
    rtol = _default_rtol(a, atol, rtol)
    u, s, vh = xp.linalg.svd(a._data, full_matrices=False)
    keep = s > _tolerance(xp, s, atol, rtol)
    inv_s = xp.where(keep, 1 / xp.where(keep, s, 1), 0)
    data = xp.swapaxes(vh, -1, -2) @ (inv_s[..., :, None] * xp.swapaxes(u, -1, -2))
    out = _make(data.astype(a._data.dtype, copy=False), a.device)
    if _GradMode.enabled and a._requires_grad:
        record(out, LinalgPinvBackward0(a, _alias(out)))
    return out


@autocast_op("pinverse")
def pinverse(a: Tensor, rcond: float = 1e-15) -> Tensor:
    return pinv(a, rtol=rcond)


def matrix_rank(a: Tensor, *, atol=None, rtol=None, hermitian: bool = False, tol=None) -> Tensor:
    """The number of singular values above max(atol, rtol * S_max)."""
    _check_matrix("linalg.matrix_rank", a)
    if a._data.dtype.kind == "f" and a._data.dtype.itemsize < 4:
        raise RuntimeError("This function doesn't handle types other than float and double")
    _check_float("linalg.matrix_rank", a)
    if tol is not None:
        atol, rtol = tol, 0.0
    xp = a.device.xp
    rtol = _default_rtol(a, atol, rtol)
    s = xp.abs(xp.linalg.eigvalsh(a._data)) if hermitian else xp.linalg.svd(a._data, compute_uv=False)
    rank = (s > _tolerance(xp, s, atol, rtol)).sum(axis=-1)
    return _make(xp.asarray(rank, dtype=xp.int64), a.device)


def lstsq(a: Tensor, b: Tensor, rcond=None, *, driver=None):
    """The least-squares solution of A X = B, as the pseudo-inverse applied to B (full-rank A);
    residuals, rank and singular values are empty, as with PyTorch's default CPU driver ('gelsy')."""
    _check_matrix("linalg.lstsq", a)
    _check_float("linalg.lstsq", a)
    if b._data.ndim < 1:
        raise RuntimeError("torch.linalg.lstsq: input.dim() must be greater or equal to other.dim() and "
                           "(input.dim() - other.dim()) <= 1")
    vector = b._data.ndim == a._data.ndim - 1
    if (b._data.shape[-1] if vector else b._data.shape[-2]) != a._data.shape[-2]:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-{1 if vector else 2})")
    rm = b.unsqueeze(-1) if vector else b
    x = L.matmul(pinv(a), rm)
    if vector:
        x = x.squeeze(-1)
    xp = a.device.xp
    empty = _make(xp.zeros((0,), dtype=a._data.dtype), a.device)
    rank = _make(xp.asarray(matrix_rank(a)._data), a.device)
    return lstsq_rt(x, empty, rank, _make(xp.zeros((0,), dtype=a._data.dtype), a.device))


class CopyBackwards(Node):
    """A result copied from a constant of A's shape: zero gradient (PyTorch's name for it)."""

    def __init__(self, a):
        super().__init__((a,), ())

    def name(self) -> str:
        return "torch::autograd::CopyBackwards"

    def backward(self, g):
        return (g * 0,)


def matrix_power(a: Tensor, n: int) -> Tensor:
    """A^n by repeated squaring (n < 0: of the inverse; n = 0: the identity)."""
    s = a._data.shape
    if len(s) < 2 or s[-1] != s[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{s[-2] if len(s) >= 2 else 1} by {s[-1] if s else 1} matrices")
    if n == 0:  # the identity, still recorded as a function of A (with a zero gradient), as in PyTorch
        xp = a.device.xp
        out = _make(xp.ascontiguousarray(xp.broadcast_to(xp.eye(s[-1], dtype=a._data.dtype), s)), a.device)
        if _GradMode.enabled and a._requires_grad:
            record(out, CopyBackwards(a))
        return out
    if n < 0:
        a, n = linalg_inv(a), -n
    result, power = None, a
    while n:
        if n & 1:
            result = power if result is None else L.matmul(result, power)
        n >>= 1
        if n:
            power = L.matmul(power, power)
    return result


# ---- norms -----------------------------------------------------------------------------------------
@autocast_op("linalg_vector_norm")
def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    from .reduction import norm

    if dtype is not None:
        x = x.to(dtype)
    return norm(x, float(ord), dim, keepdim)


@autocast_op("linalg_matrix_norm")
def matrix_norm(a: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None) -> Tensor:
    """Frobenius, nuclear, or the operator norms 1, -1, inf, -inf, 2, -2 of the matrices in dims `dim`."""
    from .reduction import amax, amin, norm, sum as _sum
    from .shape import movedim

    if dtype is not None:
        a = a.to(dtype)
    if a._data.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    _check_float("linalg.matrix_norm", a)
    nd = a._data.ndim
    d0, d1 = (d % nd for d in dim)
    if ord == "fro":
        return norm(a, 2.0, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        moved = movedim(a, (d0, d1), (-2, -1))
        s = svdvals(moved)
        out = _sum(s, -1) if ord == "nuc" else (amax(s, -1) if ord == 2 else amin(s, -1))
        if keepdim:
            out = out.unsqueeze(-1).unsqueeze(-1)
            out = movedim(out, (-2, -1), (d0, d1))
        return out
    if ord in (1, -1, math.inf, -math.inf):
        # 1: the largest column sum of |A| (sum over rows, then max over columns); inf: rows and columns swapped
        sum_dim, max_dim = (d0, d1) if abs(ord) == 1 else (d1, d0)
        sums = _sum(P.abs(a), sum_dim, keepdim=True)
        out = amax(sums, max_dim, keepdim=True) if ord > 0 else amin(sums, max_dim, keepdim=True)
        return out if keepdim else out.squeeze((d0, d1))
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def linalg_norm(x: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Vector norm or matrix norm, by ord and dim (PyTorch's rules)."""
    if dim is not None and not isinstance(dim, int) and len(dim) == 1:
        dim = dim[0]
    if ord is None:
        if isinstance(dim, (tuple, list)):
            return matrix_norm(x, "fro", dim, keepdim, dtype=dtype)
        return vector_norm(x, 2, dim, keepdim, dtype=dtype)
    if dim is None:
        if x._data.ndim == 2:
            return matrix_norm(x, ord, (-2, -1), keepdim, dtype=dtype)
        if x._data.ndim != 1:
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
                               f"{x._data.ndim}D.")
        return vector_norm(x, ord, None, keepdim, dtype=dtype)
    if isinstance(dim, (tuple, list)):
        return matrix_norm(x, ord, dim, keepdim, dtype=dtype)
    return vector_norm(x, ord, dim, keepdim, dtype=dtype)


legacy_qr_rt = _rt("qr", ("Q", "R"))


def qr_legacy(a: Tensor, some: bool = True):
    """torch.qr / Tensor.qr: linalg.qr with `some` choosing the reduced (True) or complete (False) factors."""
    return legacy_qr_rt(*qr(a, "reduced" if some else "complete"))
