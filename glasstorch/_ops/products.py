"""Products beyond matmul: the fused add-and-multiply family (addmm, addmv, baddbmm, addbmm), vdot,
trace, cross, and the composites inner, kron, tensordot, multi_dot, cdist and dist.

The fused ops and trace/cross record one node each, named as PyTorch's; the composites are written
with recorded ops (as several are in PyTorch), so their gradients come for free.
"""
from __future__ import annotations

import math
import warnings

from ..amp.autocast_mode import autocast_op, user_stacklevel
from ._util import (Node, Tensor, _GradMode, _make, broadcast_error, fill_value, not_implemented, record, sum_to,
                    type_word, wrap_dim)
from . import linalg as L


def _matmul_grads(g: Tensor, m1: Tensor, m2: Tensor, need1: bool, need2: bool):
    """Gradients of m1 @ m2 (matrix-matrix, matrix-vector or batched) for an output gradient g."""
    g1 = g2 = None
    if m2._data.ndim == 1:  # (n, k) @ (k,)
        if need1:
            g1 = g.unsqueeze(-1) * m2
        if need2:
            g2 = L.matmul(m1.mT, g.unsqueeze(-1)).squeeze(-1)
        return g1, g2
    if need1:
        g1 = L.matmul(g, m2.mT)
    if need2:
        g2 = L.matmul(m1.mT, g)
    return g1, g2


class AddmmBackward0(Node):
    """beta * input + alpha * (m1 @ m2); subclasses differ in the product's ranks."""

    def __init__(self, inp, m1, m2, beta, alpha):
        super().__init__((inp, m1, m2), (m1, m2))
        self.beta, self.alpha = beta, alpha
        self.in_shape = inp._data.shape

    def product_grad(self, g):
        """The gradient of m1 @ m2 (addbmm: spread back over the batch it summed)."""
        return g

    def backward(self, g):
        m1, m2 = self.saved_tensors
        n = self.next_functions
        gi = None
        if n[0][0] is not None:
            gi = sum_to(g if self.beta == 1 else g * self.beta, self.in_shape)
        gp = self.product_grad(g if self.alpha == 1 else g * self.alpha)
        g1, g2 = _matmul_grads(gp, m1, m2, n[1][0] is not None, n[2][0] is not None)
        return gi, g1, g2


class AddmvBackward0(AddmmBackward0):
    pass


class BaddbmmBackward0(AddmmBackward0):
    pass


class AddbmmBackward0(AddmmBackward0):
    def product_grad(self, g):
        return g.unsqueeze(0)  # every batch's product was summed into g: each gets all of it


def _check_same_dtype(inp: Tensor, m1: Tensor, m2: Tensor) -> None:
    if inp._data.dtype != m2._data.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {type_word(inp._data.dtype)} and "
                           f"{type_word(m2._data.dtype)}")
    if m1._data.dtype != m2._data.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {type_word(m1._data.dtype)} and "
                           f"{type_word(m2._data.dtype)}")


def _no_bool(kernel: str, *tensors) -> None:
    for t in tensors:
        if t._data.dtype.kind == "b":
            raise not_implemented(kernel, t._data.dtype)


def _product(a, b):
    """a @ b on arrays; float16/bfloat16 products are summed in float32 (rounded once by the caller),
    as PyTorch's CPU kernels do (NumPy's bfloat16 matmul returns float32, its float16 one rounds each step)."""
    if a.dtype.itemsize == 2 and a.dtype.kind in "fV":
        return a.astype("float32") @ b.astype("float32")
    return a @ b


def _fused(inp: Tensor, product, beta, alpha, node_cls, m1: Tensor, m2: Tensor, out_shape) -> Tensor:
    """beta * inp + alpha * product (arrays), with inp broadcast to the product's shape."""
    xp = inp.device.xp
    if product.dtype.kind in "iu":  # the scalars are cast to the integer dtype first, as in PyTorch
        beta, alpha = (int(fill_value(v, product.dtype)) for v in (beta, alpha))
    try:
        base = xp.broadcast_to(inp._data, out_shape)
    except ValueError:
        raise RuntimeError(f"The expanded size of the tensor ({out_shape[-1]}) must match the existing size "
                           f"({inp._data.shape[-1]}) at non-singleton dimension {len(out_shape) - 1}.  Target sizes: "
                           f"{list(out_shape)}.  Tensor sizes: {list(inp._data.shape)}") from None
    # beta == 0 ignores the input altogether (NaN and inf in it do not show), as in PyTorch
    data = alpha * product if beta == 0 else beta * base + alpha * product
    out = _make(xp.asarray(data).astype(m1._data.dtype, copy=False), inp.device)
    if _GradMode.enabled and (inp._requires_grad or m1._requires_grad or m2._requires_grad):
        record(out, node_cls(inp, m1, m2, beta, alpha))
    return out


@autocast_op("addmm")
def addmm(inp: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * inp + alpha * mat1 @ mat2 for matrices mat1 (n, k), mat2 (k, m)."""
    for name, t in (("mat1", mat1), ("mat2", mat2)):
        if t._data.ndim != 2:
            raise RuntimeError(f"{name} must be a matrix, got {t._data.ndim}-D tensor")
    _check_same_dtype(inp, mat1, mat2)
    _no_bool("addmm_impl_cpu_", mat1)
    if mat1._data.shape[1] != mat2._data.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({mat1._data.shape[0]}x{mat1._data.shape[1]} "
                           f"and {mat2._data.shape[0]}x{mat2._data.shape[1]})")
    prod = _product(mat1._data, mat2._data)
    return _fused(inp, prod, beta, alpha, AddmmBackward0, mat1, mat2, prod.shape)


@autocast_op("addmv")
def addmv(inp: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * inp + alpha * mat @ vec for a matrix (n, k) and a vector (k,)."""
    if mat._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {inp._data.ndim}, {mat._data.ndim}, "
                           f"{vec._data.ndim}")
    if mat._data.shape[1] != vec._data.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({mat._data.shape[0]}), mat ({mat._data.shape[0]}x"
                           f"{mat._data.shape[1]}), vec ({vec._data.shape[0]})")
    if not (inp._data.dtype == mat._data.dtype == vec._data.dtype):
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got {type_word(inp._data.dtype)}, "
                           f"{type_word(mat._data.dtype)}, and {type_word(vec._data.dtype)}")
    _no_bool("addmv_impl_cpu", mat)
    prod = _product(mat._data, vec._data)
    return _fused(inp, prod, beta, alpha, AddmvBackward0, mat, vec, prod.shape)


def _check_batches(b1: Tensor, b2: Tensor) -> None:
    for name, t in (("batch1", b1), ("batch2", b2)):
        if t._data.ndim != 3:
            raise RuntimeError(f"{name} must be a 3D tensor")
    s1, s2 = b1._data.shape, b2._data.shape
    if s1[0] != s2[0]:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got {s1[0]} and {s2[0]}")
    if s1[2] != s2[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{s1[0]}, {s1[2]}] "
                           f"but got: [{s2[0]}, {s2[1]}].")


@autocast_op("baddbmm")
def baddbmm(inp: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * inp + alpha * batch1 @ batch2, batch by batch: (b, n, k) @ (b, k, m) -> (b, n, m)."""
    _check_batches(batch1, batch2)
    _check_same_dtype(inp, batch1, batch2)
    _no_bool("baddbmm", batch1)
    prod = _product(batch1._data, batch2._data)
    return _fused(inp, prod, beta, alpha, BaddbmmBackward0, batch1, batch2, prod.shape)


@autocast_op("addbmm")
def addbmm(inp: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * inp + alpha * sum over the batch of batch1[i] @ batch2[i]: (n, m)."""
    _check_batches(batch1, batch2)
    _check_same_dtype(inp, batch1, batch2)
    _no_bool("addmm_impl_cpu_", batch1)
    prod = _product(batch1._data, batch2._data)
    prod = prod.sum(0, dtype=prod.dtype)
    return _fused(inp, prod, beta, alpha, AddbmmBackward0, batch1, batch2, prod.shape)


class VdotBackward0(L.MmBackward0):
    pass


@autocast_op("vdot")
def vdot(a: Tensor, b: Tensor) -> Tensor:
    """The dot product of two vectors (for real tensors, dot)."""
    if a._data.ndim != 1 or b._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a._data.ndim}D and {b._data.ndim}D tensors")
    if a._data.shape != b._data.shape:
        return L.dot(a, b)  # (dot's message)
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {type_word(a._data.dtype)} "
                           f"and {type_word(b._data.dtype)}")
    if a._data.dtype.kind == "b":
        raise not_implemented("dot", a._data.dtype)
    out = _make(a.device.xp.asarray(a._data @ b._data), a.device)
    if _GradMode.enabled and (a._requires_grad or b._requires_grad):
        record(out, VdotBackward0(a, b))
    return out


# ---- trace and cross --------------------------------------------------------------------------------
class TraceBackward0(Node):
    def __init__(self, x):
        super().__init__((x,), ())
        self.shape = x._data.shape

    def backward(self, g):
        from .creation import eye

        eye_ = eye(*self.shape, dtype=g.dtype, device=g.device)
        return (eye_ * g,)


@autocast_op("trace")
def trace(x: Tensor) -> Tensor:
    """The sum of the main diagonal of a matrix."""
    d = x._data
    if d.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {d.ndim}")
    if d.dtype.kind == "b":
        raise not_implemented("trace", d.dtype)
    acc = x.device.xp.int64 if d.dtype.kind in "iu" else None  # integers sum in int64, as sum does
    out = _make(x.device.xp.asarray(x.device.xp.trace(d, dtype=acc)), x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, TraceBackward0(x))
    return out


class LinalgCrossBackward0(Node):
    def __init__(self, a, b, dim):
        super().__init__((a, b), (a, b))
        self.dim = dim
        self.shapes = (a._data.shape, b._data.shape)

    def backward(self, g):
        a, b = self.saved_tensors
        n = self.next_functions
        # d/da <g, a x b> = b x g; d/db = g x a
        ga = sum_to(linalg_cross(b, g, dim=self.dim), self.shapes[0]) if n[0][0] is not None else None
        gb = sum_to(linalg_cross(g, a, dim=self.dim), self.shapes[1]) if n[1][0] is not None else None
        return ga, gb


@autocast_op("cross")
def linalg_cross(a: Tensor, b: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along dim, broadcasting the other dims."""
    sa, sb = a._data.shape, b._data.shape
    if len(sa) != len(sb):
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    d = wrap_dim(dim, len(sa))
    if sa[d] != 3 or sb[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {sa[d]} and {sb[d]}")
    ad, bd = a._data, b._data
    if ad.dtype != bd.dtype:
        from .. import _dtype

        rt = _dtype.result_type(a, b).np
        ad, bd = ad.astype(rt), bd.astype(rt)
    if ad.dtype.kind == "b":
        raise not_implemented("cross", ad.dtype)
    xp = a.device.xp
    try:
        data = xp.cross(ad, bd, axis=d)
    except ValueError:
        raise broadcast_error(sa, sb) from None
    out = _make(data, a.device)
    if _GradMode.enabled and (a._requires_grad or b._requires_grad):
        record(out, LinalgCrossBackward0(a, b, d))
    return out


@autocast_op("cross")
def cross(a: Tensor, b: Tensor, dim: int | None = None) -> Tensor:
    """torch.cross: linalg.cross, except that without dim it takes the first dim of size 3."""
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                      "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
                      "with that of linalg.cross in a future release.", UserWarning, stacklevel=user_stacklevel())
        sizes = a._data.shape
        dim = next((i for i, s in enumerate(sizes) if s == 3), -1)
    return linalg_cross(a, b, dim=dim)


# ---- composites ---------------------------------------------------------------------------------------
def inner(a: Tensor, b: Tensor) -> Tensor:
    """The sum over the last dims of a and b: shape a.shape[:-1] + b.shape[:-1]."""
    if a._data.ndim == 0 or b._data.ndim == 0:
        return a * b
    if a._data.shape[-1] != b._data.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(a._data.shape)} and {list(b._data.shape)}")
    return tensordot(a, b, dims=([-1], [-1]))


def kron(a: Tensor, b: Tensor) -> Tensor:
    """The Kronecker product: block (i, j, ...) is a[i, j, ...] * b."""
    n = max(a._data.ndim, b._data.ndim)
    sa = (1,) * (n - a._data.ndim) + a._data.shape
    sb = (1,) * (n - b._data.ndim) + b._data.shape
    # interleave the dims: a as (a0, 1, a1, 1, ...), b as (1, b0, 1, b1, ...); their product, flattened in pairs
    a2 = a.reshape(tuple(x for s in sa for x in (s, 1)))
    b2 = b.reshape(tuple(x for s in sb for x in (1, s)))
    return (a2 * b2).reshape(tuple(x * y for x, y in zip(sa, sb)))


@autocast_op("tensordot")
def tensordot(a: Tensor, b: Tensor, dims=2, out=None) -> Tensor:
    """Contract dims of a with dims of b: dims an int (a's last `dims` with b's first) or two lists."""
    na, nb = a._data.ndim, b._data.ndim
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > na or dims > nb:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        da, db = list(range(na - dims, na)), list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
        if len(da) != len(db):
            raise RuntimeError("both dimension lists should have same length")
        da = [wrap_dim(d, na) for d in da]
        db = [wrap_dim(d, nb) for d in db]
    for x, y in zip(da, db):
        if a._data.shape[x] != b._data.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a._data.shape[x]} in dim "
                               f"{x} and second has size {b._data.shape[y]} in dim {y}")
    free_a = [d for d in range(na) if d not in da]
    free_b = [d for d in range(nb) if d not in db]
    k = math.prod(a._data.shape[d] for d in da)
    left = a.permute(*free_a, *da).reshape(-1, k)
    right = b.permute(*db, *free_b).reshape(k, -1)
    shape = tuple(a._data.shape[d] for d in free_a) + tuple(b._data.shape[d] for d in free_b)
    return L.matmul(left, right).reshape(shape)


def _chain_order(shapes):
    """The cheapest parenthesization of a matrix chain (the textbook dynamic programme): split[i][j]."""
    n = len(shapes)
    dims = [shapes[0][0]] + [s[1] for s in shapes]
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


@autocast_op("linalg_multi_dot")
def multi_dot(tensors) -> Tensor:
    """The product of a chain of matrices in the cheapest order; the first and last may be vectors."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    first_vec, last_vec = tensors[0]._data.ndim == 1, tensors[-1]._data.ndim == 1
    mats = list(tensors)
    if first_vec:
        mats[0] = mats[0].unsqueeze(0)
    if last_vec:
        mats[-1] = mats[-1].unsqueeze(-1)
    for i, t in enumerate(mats):
        if t._data.ndim != 2:
            which = "first and last tensors" if i in (0, len(mats) - 1) else f"tensor {i}"
            raise RuntimeError(f"multi_dot(): {which} must be 1D or 2D but got {tensors[i]._data.ndim}D"
                               if i in (0, len(mats) - 1) else
                               f"multi_dot(): tensor {i} must be 2D but got {t._data.ndim}D")
    split = _chain_order([t._data.shape for t in mats])
    # evaluate the parenthesization without recursion: a stack of (i, j, stage) tasks
    results = {}
    stack = [(0, len(mats) - 1)]
    while stack:
        i, j = stack[-1]
        if i == j:
            results[(i, j)] = mats[i]
            stack.pop()
            continue
        k = split[i][j]
        left, right = (i, k), (k + 1, j)
        todo = [p for p in (left, right) if p not in results]
        if todo:
            stack.extend(todo)
            continue
        results[(i, j)] = L.mm(results[left], results[right])
        stack.pop()
    out = results[(0, len(mats) - 1)]
    if first_vec:
        out = out.squeeze(0)
    if last_vec:
        out = out.squeeze(-1)
    return out


@autocast_op("chain_matmul")
def chain_matmul(*matrices) -> Tensor:
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
                  "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than multiple "
                  "parameters.", UserWarning, stacklevel=user_stacklevel())
    if len(matrices) == 1:
        return matrices[0].clone()
    return multi_dot(matrices)


class CdistBackward0(Node):
    """d_ij = ||x1_i - x2_j||_p: each pair's gradient is g_ij times d d_ij / d(x1_i - x2_j), from the
    differences themselves (0 where d_ij is 0), as in PyTorch, whichever way the forward ran."""

    def __init__(self, x1, x2, result, p):
        super().__init__((x1, x2), (x1, x2, result))
        self.p = p
        self.shapes = (x1._data.shape, x2._data.shape)

    def backward(self, g):
        from . import pointwise as P

        x1, x2, dist_ = self.saved_tensors
        p = self.p
        diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)           # (..., P, R, M)
        d = dist_.unsqueeze(-1)
        if p == 0:
            w = diff * 0
        elif p == 1:
            w = P.sign(diff)
        elif p == 2:
            w = P.where(d == 0, 0.0, diff / P.where(d == 0, 1.0, d))
        elif math.isinf(p):
            w = P.sign(diff) * (P.abs(diff) == d)
        else:
            w = P.where(d == 0, 0.0, P.sign(diff) * P.abs(diff) ** (p - 1) / P.where(d == 0, 1.0, d) ** (p - 1))
        pair = g.unsqueeze(-1) * w
        n = self.next_functions
        g1 = sum_to(pair.sum(-2), self.shapes[0]) if n[0][0] is not None else None
        g2 = sum_to(-pair.sum(-3), self.shapes[1]) if n[1][0] is not None else None
        return g1, g2


_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")


def _cdist_array(xp, a, b, p: float, use_mm: bool):
    """Pairwise distances of the rows of a (..., P, M) and b (..., R, M)."""
    if use_mm:  # PyTorch's matrix-product form for p = 2: |a|^2 - 2 a.b + |b|^2 in one product
        an = (a * a).sum(-1, keepdims=True)
        bn = (b * b).sum(-1, keepdims=True)
        left = xp.concatenate([-2 * a, an, xp.ones_like(an)], -1)
        right = xp.concatenate([b, xp.ones_like(bn), bn], -1)
        return xp.sqrt(xp.maximum(left @ xp.swapaxes(right, -1, -2), 0))
    diff = xp.abs(a[..., :, None, :] - b[..., None, :, :])
    if p == 0:
        return (diff != 0).sum(-1).astype(a.dtype)
    if p == 1:
        return diff.sum(-1)
    if p == 2:
        return xp.sqrt((diff * diff).sum(-1))
    if math.isinf(p):
        return diff.max(-1) if diff.shape[-1] else diff.sum(-1)
    return (diff ** p).sum(-1) ** (1.0 / p)


@autocast_op("cdist")
def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str | None = None) -> Tensor:
    """Pairwise p-norm distances between the rows of x1 (..., P, M) and x2 (..., R, M): (..., P, R).

    For p = 2 with more than 25 rows on either side (or compute_mode='use_mm_for_euclid_dist') the
    distances come from one matrix product, as in PyTorch (faster, slightly less exact for near points)."""
    for name, t in (("X1", x1), ("X2", x2)):
        if t._data.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {t._data.ndim}D")
    if x1._data.shape[-1] != x2._data.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1._data.shape[-1]} "
                           f"X2: {x2._data.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    for name, t in (("X1", x1), ("X2", x2)):
        if t._data.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {type_word(t._data.dtype)}")
    mode = compute_mode or _CDIST_MODES[0]
    if mode not in _CDIST_MODES:
        raise ValueError(f"{mode} is not a valid value for compute_mode")
    xp = x1.device.xp
    a, b = x1._data, x2._data
    if a.dtype != b.dtype:
        raise RuntimeError(f"X1 and X2 must have the same dtype, but got {type_word(a.dtype)} and "
                           f"{type_word(b.dtype)}")
    rows = max(a.shape[-2], b.shape[-2])
    use_mm = p == 2 and (mode == _CDIST_MODES[1] or (mode == _CDIST_MODES[0] and rows > 25))
    if a.dtype.itemsize < 4 and not use_mm:  # (PyTorch's direct kernel has no half version; its product has)
        raise not_implemented("cdist", a.dtype)
    batch = xp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = xp.broadcast_to(a, batch + a.shape[-2:])
    b = xp.broadcast_to(b, batch + b.shape[-2:])
    out = _make(xp.ascontiguousarray(_cdist_array(xp, a, b, float(p), use_mm)), x1.device)
    if _GradMode.enabled and (x1._requires_grad or x2._requires_grad):
        from .reduction import _alias

        record(out, CdistBackward0(x1, x2, _alias(out), float(p)))
    return out


@autocast_op("dist")
def dist(a: Tensor, b: Tensor, p: float = 2) -> Tensor:
    """The p-norm of a - b."""
    from .reduction import norm

    return norm(a - b, p)


# ---- addr: a matrix plus a scaled outer product ------------------------------------------------------
class AddrBackward0(Node):
    def __init__(self, inp, vec1, vec2, beta, alpha):
        super().__init__((inp, vec1, vec2), (vec1, vec2))
        self.beta, self.alpha, self.inp_shape = beta, alpha, inp._data.shape

    def backward(self, g):
        v1, v2 = self.saved_tensors
        n = self.next_functions
        gi = sum_to(g * self.beta, self.inp_shape) if n[0][0] is not None else None
        g1 = L.mv(g, v2) * self.alpha if n[1][0] is not None else None
        g2 = L.mv(g.t(), v1) * self.alpha if n[2][0] is not None else None
        return gi, g1, g2


def _check_expandable(have: tuple, want: tuple, dtype) -> None:
    """PyTorch's error when a tensor of shape `have` cannot be expanded to `want` (first clash from the right)."""
    if len(have) > len(want):
        raise RuntimeError(f"expand(torch.{type_word(dtype)}Tensor{{{list(have)}}}, size={list(want)}): the number of "
                           f"sizes provided ({len(want)}) must be greater or equal to the number of dimensions in the "
                           f"tensor ({len(have)})")
    for i in range(1, len(have) + 1):
        if have[-i] != 1 and have[-i] != want[-i]:
            raise RuntimeError(f"The expanded size of the tensor ({want[-i]}) must match the existing size ({have[-i]}) "
                               f"at non-singleton dimension {len(want) - i}.  Target sizes: {list(want)}.  Tensor "
                               f"sizes: {list(have)}")


def addr(inp: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * inp + alpha * outer(vec1, vec2) for vectors vec1 (n,), vec2 (m,) and inp broadcastable to (n, m)."""
    for name, v in (("vec1", vec1), ("vec2", vec2)):
        if v._data.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {v._data.ndim}-D")
    shape = (vec1._data.shape[0], vec2._data.shape[0])
    integral = all(t._data.dtype.kind in "biu" for t in (inp, vec1, vec2))
    if integral and any(isinstance(s, float) for s in (beta, alpha)):
        which = "alpha" if isinstance(alpha, float) else "beta"
        raise RuntimeError(f"For integral input tensors, argument {which} must not be a floating point number.")
    _check_expandable(inp._data.shape, shape, inp._data.dtype)
    from .pointwise import _no_grad

    with _no_grad():
        if all(t._data.dtype.kind == "b" for t in (inp, vec1, vec2)):  # bools: or of ands, as in PyTorch
            prod = vec1.unsqueeze(-1) & vec2 if alpha else L.outer(vec1, vec2) & False
            out = (inp & bool(beta)) | prod if beta else prod
        else:
            prod = L.outer(vec1, vec2)
            prod = prod * alpha if alpha != 1 else prod
            out = prod if beta == 0 else (inp * beta if beta != 1 else inp) + prod  # beta == 0: inp's NaNs vanish
    out = _make(out._data if out._data.shape == shape else
                out.device.xp.broadcast_to(out._data, shape).copy(), out.device)
    if _GradMode.enabled and any(t._requires_grad for t in (inp, vec1, vec2)):
        record(out, AddrBackward0(inp, vec1, vec2, beta, alpha))
    return out
