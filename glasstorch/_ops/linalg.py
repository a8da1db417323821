"""Matrix products: matmul (1-D, 2-D, batched with broadcasting) and the fused linear layer."""
from __future__ import annotations

from ._util import Node, Tensor, _GradMode, _make, not_implemented, prepare, record, sum_to


def _shape_str(shape) -> str:
    return "x".join(str(s) for s in shape)


def _matmul_error(a, b) -> RuntimeError:
    sa, sb = a._data.shape, b._data.shape
    if len(sa) == 1 and len(sb) == 1:
        return RuntimeError(f"inconsistent tensor size, expected tensor [{sa[0]}] and src [{sb[0]}] to have the "
                            f"same number of elements, but got {sa[0]} and {sb[0]} elements respectively")
    if len(sa) == 2 and len(sb) == 1:
        return RuntimeError(f"size mismatch, got input ({sa[0]}), mat ({_shape_str(sa)}), vec ({sb[0]})")
    if len(sa) <= 2 and len(sb) <= 2:
        sa2 = sa if len(sa) == 2 else (1,) + sa
        return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(sa2)} and {_shape_str(sb)})")
    return RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                        f"[{sb[0] if len(sb) > 2 else 1}, {sa[-1]}] but got: [{sb[0] if len(sb) > 2 else 1}, {sb[-2]}].")


class MmBackward0(Node):
    """Gradients of a @ b for any ranks, computed only for inputs that need them."""

    def __init__(self, a, b):
        super().__init__((a, b), (a, b))

    def backward(self, g):
        a, b = self.saved_tensors
        need_a = self.next_functions[0][0] is not None
        need_b = self.next_functions[1][0] is not None
        na, nb = a._data.ndim, b._data.ndim
        ga = gb = None
        if na == 2 and nb == 2 and not _GradMode.enabled and a._data.dtype == b._data.dtype:
            # the common case, without a graph of the gradient: the same formulas on the arrays
            gd, dev = g._data, g.device
            return (_make(gd @ b._data.T, dev) if need_a else None), (_make(a._data.T @ gd, dev) if need_b else None)
        if na == 1 and nb == 1:
            return (g * b if need_a else None), (g * a if need_b else None)
        if nb == 1:  # (..., n, k) @ (k,) -> (..., n)
            if need_a:
                ga = g.unsqueeze(-1) * b
            if need_b:
                gb = sum_to(matmul(a.mT, g.unsqueeze(-1)).squeeze(-1), b._data.shape)
            return ga, gb
        if na == 1:  # (k,) @ (..., k, m) -> (..., m)
            if need_a:
                ga = sum_to(matmul(b, g.unsqueeze(-1)).squeeze(-1), a._data.shape)
            if need_b:
                gb = a.unsqueeze(-1) * g.unsqueeze(-2)
            return ga, gb
        if need_a:
            ga = sum_to(matmul(g, b.mT), a._data.shape)
        if need_b:
            gb = sum_to(matmul(a.mT, g), b._data.shape)
        return ga, gb


class DotBackward0(MmBackward0):
    pass


class MvBackward0(MmBackward0):
    pass


class BmmBackward0(MmBackward0):
    pass


_NODE_BY_RANK = {(1, 1): DotBackward0, (2, 1): MvBackward0, (2, 2): MmBackward0}
_BOOL_KERNELS = {(1, 1): "dot", (2, 1): "addmv_impl_cpu", (1, 2): "addmm_impl_cpu_", (2, 2): "addmm_impl_cpu_"}


def matmul(a: Tensor, b: Tensor) -> Tensor:
    if not isinstance(b, Tensor):
        raise TypeError(f"matmul(): argument 'other' (position 1) must be Tensor, not {type(b).__name__}")
    ad, bd, _ = prepare(a, b)
    if ad.ndim == 0 or bd.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {ad.ndim}D and {bd.ndim}D")
    if ad.dtype.kind == "b":  # NumPy would compute a logical product; PyTorch has no bool kernel
        raise not_implemented(_BOOL_KERNELS.get((ad.ndim, bd.ndim), "bmm"), ad.dtype)
    try:
        data = ad @ bd
    except ValueError:
        raise _matmul_error(a, b) from None
    out = _make(data, a.device)
    if _GradMode.enabled and (a._requires_grad or b._requires_grad):
        node = _NODE_BY_RANK.get((ad.ndim, bd.ndim), BmmBackward0)
        record(out, node(a, b))
    return out


def mm(a: Tensor, b: Tensor) -> Tensor:
    if a._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    return matmul(a, b)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    if a._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b._data.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    return matmul(a, b)


def dot(a: Tensor, b: Tensor) -> Tensor:
    if a._data.ndim != 1 or b._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a._data.ndim}D and {b._data.ndim}D tensors")
    return matmul(a, b)


def mv(a: Tensor, b: Tensor) -> Tensor:
    if a._data.ndim != 2 or b._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {a._data.ndim}, {a._data.ndim}, {b._data.ndim}")
    return matmul(a, b)


def outer(a: Tensor, b: Tensor) -> Tensor:
    return a.unsqueeze(-1) * b


# ---- linear ------------------------------------------------------------------------------------
class AddmmBackward0(Node):
    """y = x @ W.T + bias, with x flattened to 2-D: one node instead of three."""

    def __init__(self, x, weight, bias):
        super().__init__((x, weight, bias), (x, weight))
        self.x_shape = x._data.shape

    def backward(self, g):
        x, w = self.saved_tensors
        n = self.next_functions
        need_x, need_w, need_b = (n[i][0] is not None for i in range(3))
        if not _GradMode.enabled:  # no double backward needed: work on the arrays directly
            return self._backward_arrays(g, x._data, w._data, need_x, need_w, need_b)
        g2 = g.reshape(-1, g._data.shape[-1]) if g._data.ndim != 2 else g
        x2 = x.reshape(-1, x._data.shape[-1]) if x._data.ndim != 2 else x
        gx = matmul(g, w) if need_x else None
        gw = None
        if need_w:
            gw = matmul(g2.t(), x2) if x._data.ndim > 1 else g.unsqueeze(-1) * x
        gb = (g2.sum(0) if g._data.ndim > 1 else g) if need_b else None
        return gx, gw, gb

    @staticmethod
    def _backward_arrays(g, x, w, need_x, need_w, need_b):
        """The same formulas as above on backend arrays: x (*, in), w (out, in), g (*, out)."""
        gd, dev = g._data, g.device
        g2 = gd.reshape(-1, gd.shape[-1])
        gx = _make(gd @ w, dev) if need_x else None
        gw = None
        if need_w:
            gw = _make(g2.T @ x.reshape(-1, x.shape[-1]) if x.ndim > 1 else gd[:, None] * x, dev)
        gb = _make(g2.sum(0) if gd.ndim > 1 else gd.copy(), dev) if need_b else None
        return gx, gw, gb


_SHORT_DOT = 8


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias, for x of shape (*, in_features) and weight (out_features, in_features)."""
    xd, wd, _ = prepare(x, weight)
    if xd.shape[-1:] != wd.shape[-1:] or wd.ndim != 2:
        sx = (xd.size // max(xd.shape[-1], 1), xd.shape[-1]) if xd.ndim > 1 else (1,) + xd.shape
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(sx)} and "
                           f"{_shape_str(wd.shape[::-1])})")
    if wd.shape[1] < _SHORT_DOT:
        # BLAS adds a short dot product in another order than PyTorch, which adds left to right;
        # with a ReLU next, a sum that should be exactly 0 can land on the other side of 0
        # (seed 003's first step). NumPy's sum of fewer than 8 terms is left to right.
        data = (xd[..., None, :] * wd).sum(-1)
    else:
        data = xd @ wd.T
    if bias is not None:
        data += bias._data
    out = _make(data, x.device)
    if _GradMode.enabled and (x._requires_grad or weight._requires_grad or (bias is not None and bias._requires_grad)):
        record(out, AddmmBackward0(x, weight, bias) if bias is not None else _LinearNoBias(x, weight))
    return out


class _LinearNoBias(AddmmBackward0):
    """linear without bias; PyTorch names this node MmBackward0."""

    def __init__(self, x, weight):
        super().__init__(x, weight, None)

    def name(self) -> str:
        return "MmBackward0"

    def __repr__(self) -> str:
        return f"<MmBackward0 object at {hex(id(self))}>"
