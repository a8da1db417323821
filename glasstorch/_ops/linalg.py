"""Matrix products: matmul (1-D, 2-D, batched with broadcasting) and the fused linear layer."""
from __future__ import annotations

import math

from ..amp.autocast_mode import autocast_op
from ._util import (Node, Tensor, _GradMode, _make, c_type_name, not_implemented, prepare, record, sum_to,
                    type_word)


def _shape_str(shape) -> str:
    return "x".join(str(s) for s in shape)


def _matmul_error(a, b) -> RuntimeError:
    sa, sb = a._data.shape, b._data.shape
    if len(sa) == 1 and len(sb) == 1:
        return RuntimeError(f"inconsistent tensor size, expected tensor [{sa[0]}] and src [{sb[0]}] to have the "
                            f"same number of elements, but got {sa[0]} and {sb[0]} elements respectively")
    if len(sa) >= 2 and len(sb) == 1:  # a's batch dims fold into its rows
        rows = math.prod(sa[:-1])
        return RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{sa[-1]}), vec ({sb[0]})")
    if len(sb) == 2:  # a's batch dims fold into its rows
        sa2 = (1,) + sa if len(sa) == 1 else (math.prod(sa[:-1]), sa[-1])
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


def _dtype_mismatch(a: Tensor, b: Tensor) -> RuntimeError:
    """PyTorch's error for operands of different dtypes (matmul does not promote), by the kernel it
    would run: dot, mv and mm check sizes first, then dtypes; bmm checks dtypes first."""
    ad, bd = a._data, b._data
    wa, wb = type_word(ad.dtype), type_word(bd.dtype)
    if ad.ndim == 1 and bd.ndim == 1:
        return RuntimeError(f"dot : expected both vectors to have same dtype, but found {wa} and {wb}")
    if bd.ndim <= 2:  # mv or mm, after folding a's batch dims into its rows
        if ad.shape[-1] != bd.shape[0]:
            return _matmul_error(a, b)
        if bd.ndim == 1:
            return RuntimeError(f"addmv input tensors must have the same dtype, but got {wb}, {wa}, and {wb}")
        return RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                            f"{c_type_name(ad.dtype)} != {c_type_name(bd.dtype)}")
    if ad.dtype.kind == "b":
        return not_implemented("bmm", ad.dtype)
    return RuntimeError(f"expected scalar type {wa} but found {wb}")


@autocast_op("matmul")
def matmul(a: Tensor, b: Tensor) -> Tensor:
    if not isinstance(b, Tensor):
        raise TypeError(f"matmul(): argument 'other' (position 1) must be Tensor, not {type(b).__name__}")
    if a._data.ndim == 0 or b._data.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {a._data.ndim}D and "
                           f"{b._data.ndim}D")
    if a._data.dtype != b._data.dtype:
        raise _dtype_mismatch(a, b)
    ad, bd, _ = prepare(a, b)
    if ad.dtype.kind == "b":  # NumPy would compute a logical product; PyTorch has no bool kernel
        raise not_implemented(_BOOL_KERNELS.get((ad.ndim, bd.ndim), "bmm"), ad.dtype)
    try:
        if ad.dtype.itemsize == 2 and ad.dtype.kind in "fV":
            # half precision: products summed in float32 and rounded once, as PyTorch's CPU kernels
            # do (NumPy's float16 loop rounds every step; its bfloat16 one returns float32)
            data = (ad.astype("float32") @ bd.astype("float32")).astype(ad.dtype)
        else:
            data = ad @ bd
    except ValueError:
        raise _matmul_error(a, b) from None
    out = _make(data, a.device)
    if _GradMode.enabled and (a._requires_grad or b._requires_grad):
        node = _NODE_BY_RANK.get((ad.ndim, bd.ndim), BmmBackward0)
        record(out, node(a, b))
    return out


@autocast_op("mm")
def mm(a: Tensor, b: Tensor) -> Tensor:
    if a._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    return matmul(a, b)


@autocast_op("bmm")
def bmm(a: Tensor, b: Tensor) -> Tensor:
    if a._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b._data.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    return matmul(a, b)


@autocast_op("dot")
def dot(a: Tensor, b: Tensor) -> Tensor:
    if a._data.ndim != 1 or b._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a._data.ndim}D and {b._data.ndim}D tensors")
    return matmul(a, b)


@autocast_op("mv")
def mv(a: Tensor, b: Tensor) -> Tensor:
    if a._data.ndim != 2 or b._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {a._data.ndim}, {a._data.ndim}, {b._data.ndim}")
    return matmul(a, b)


def outer(a: Tensor, b: Tensor) -> Tensor:
    return a.unsqueeze(-1) * b


# ---- linear ------------------------------------------------------------------------------------
class AddmmBackward0(Node):
    """y = x @ W.T + bias, with x flattened to 2-D: one node instead of three. Its inputs are in
    PyTorch's order, addmm(bias, x, W.T): `next_functions[0]` is the bias's."""

    def __init__(self, x, weight, bias):
        super().__init__((bias, x, weight), (x, weight))
        self.x_shape = x._data.shape

    def backward(self, g):
        (nb, _), (nx, _), (nw, _) = self.next_functions
        gx, gw, gb = self._grads(g, nx is not None, nw is not None, nb is not None)
        return gb, gx, gw

    def _grads(self, g, need_x: bool, need_w: bool, need_b: bool):
        """(grad x, grad weight, grad bias), None where not needed."""
        x, w = self.saved_tensors
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


def _check_linear_dtypes(x, w, b) -> None:
    """linear does not promote, as matmul does not: PyTorch's errors, in the order its kernels check
    (with a bias, addmm compares bias and weight first)."""
    if b is None:
        if x != w:
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {c_type_name(x)} != {c_type_name(w)}")
        return
    for names, first in (("self and mat2", b), ("mat1 and mat2", x)):
        if first != w:
            raise RuntimeError(f"{names} must have the same dtype, but got {type_word(first)} and {type_word(w)}")


@autocast_op("linear")
def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias, for x of shape (*, in_features) and weight (out_features, in_features)."""
    _check_linear_dtypes(x._data.dtype, weight._data.dtype, None if bias is None else bias._data.dtype)
    xd, wd, _ = prepare(x, weight)
    if xd.shape[-1:] != wd.shape[-1:] or wd.ndim != 2:
        sx = (xd.size // max(xd.shape[-1], 1), xd.shape[-1]) if xd.ndim > 1 else (1,) + xd.shape
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(sx)} and "
                           f"{_shape_str(wd.shape[::-1])})")
    half = xd.dtype.itemsize == 2 and xd.dtype.kind in "fV"
    if half:  # float16/bfloat16: sums in float32, rounded once at the end, as PyTorch's CPU kernels do
        xd, wd = xd.astype("float32"), wd.astype("float32")
    if wd.shape[1] < _SHORT_DOT:
        # The order in which BLAS (and PyTorch) add a short dot product depends on the CPU's
        # kernel; with a ReLU next, a sum that is exactly 0 on paper can land on either side of 0
        # (seed 003's first step). NumPy adds fewer than 8 terms left to right on every machine,
        # so glasstorch's answer for such layers does not depend on the machine.
        data = (xd[..., None, :] * wd).sum(-1)
    else:
        data = xd @ wd.T
    if bias is not None:
        data += bias._data
    if half:
        data = data.astype(x._data.dtype)
    out = _make(data, x.device)
    if _GradMode.enabled and (x._requires_grad or weight._requires_grad or (bias is not None and bias._requires_grad)):
        record(out, AddmmBackward0(x, weight, bias) if bias is not None else _LinearNoBias(x, weight))
    return out


class _LinearNoBias(AddmmBackward0):
    """linear without bias; PyTorch names this node MmBackward0."""

    def __init__(self, x, weight):
        Node.__init__(self, (x, weight), (x, weight))  # PyTorch's mm(x, W.T): no bias edge
        self.x_shape = x._data.shape

    def backward(self, g):
        (nx, _), (nw, _) = self.next_functions
        gx, gw, _ = self._grads(g, nx is not None, nw is not None, False)
        return gx, gw

    def name(self) -> str:
        return "MmBackward0"

    def __repr__(self) -> str:
        return f"<MmBackward0 object at {hex(id(self))}>"
