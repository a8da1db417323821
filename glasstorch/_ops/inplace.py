"""In-place ops (add_, mul_, x[i] = v, copy_, fill_, ...).

Without autograd they write straight into the array. With autograd, the op runs out of place on
a copy of the old value and the tensor takes over the result's array contents and grad_fn, so the
graph stays correct and the version counter tells backward that the old value is gone.
"""
from __future__ import annotations

from .. import _dtype
from ._util import Node, Tensor, _GradMode, _make, c_type_name, fill_value, prepare, record, sum_to, type_word
from .deferred import _Deferred, begin_write, update_in_place

# out-of-place op -> the backend ufunc that can do it in place (the fast path of optimizer loops)
_UFUNC = {"add": "add", "sub": "subtract", "mul": "multiply", "div": "true_divide"}


def _track(self: Tensor, args) -> bool:
    if not _GradMode.enabled:
        return False
    if self._requires_grad:
        return True
    for a in args:
        if getattr(a, "_requires_grad", False):
            return True
    return False


def _write(self: Tensor, data, c_names: bool = False) -> None:
    """Store an op's result into self's array (keeping views of self in sync)."""
    d = self._data
    if data.shape != d.shape:
        try:
            shape = _broadcast_shape(d.shape, data.shape)
        except ValueError:
            shape = data.shape
        raise RuntimeError(f"output with shape [{', '.join(map(str, d.shape))}] doesn't match the broadcast shape "
                           f"[{', '.join(map(str, shape))}]")
    if data.dtype != d.dtype and not _can_cast(self, data):
        raise _cast_error(data.dtype, d.dtype, c_names)
    try:
        d[...] = data
    except ValueError:
        raise RuntimeError(_OVERLAP) from None


_OVERLAP = ("unsupported operation: more than one element of the written-to tensor refers to a single memory "
            "location. Please clone() the tensor before performing the operation.")


def _broadcast_shape(a, b):
    import numpy as np

    return np.broadcast_shapes(a, b)


def _can_cast(self: Tensor, data) -> bool:
    xp = self.device.xp
    return bool(xp.can_cast(data.dtype, self._data.dtype, casting="same_kind"))


def _cast_error(result_dtype, out_dtype, c_names: bool = False) -> RuntimeError:
    out = c_type_name(out_dtype) if c_names else type_word(out_dtype)  # clamp_'s kernel says "long int"
    return RuntimeError(f"result type {type_word(result_dtype)} can't be cast to the desired output type {out}")


def _scalar_clamp(op, args) -> bool:
    """Whether op is a clamp with number bounds, whose kernel names dtypes as C does ("long int") in its errors."""
    return op.__name__ in ("clamp", "clamp_min", "clamp_max") and not any(isinstance(a, Tensor) for a in args)


def apply(self: Tensor, op, *args, **kwargs) -> Tensor:
    """Run `op(self, *args)` and make its result self's new value, in place."""
    begin_write(self)
    if _track(self, args):
        self._check_inplace()
        base = getattr(self, "_base", None)
        if base is not None:
            _check_not_custom_function_view(self)
            return _apply_to_view(self, base, op, args, kwargs)
        retains = getattr(self, "_retains_grad", False)
        old = _make(self._data.copy(), self.device)
        old.grad_fn = self.grad_fn
        old._requires_grad = self._requires_grad
        if self.grad_fn is None and self._requires_grad:
            old._grad_acc = self._grad_acc
        res = op(old, *args, **kwargs)
        _write(self, res._data, _scalar_clamp(op, args))
        self.grad_fn = res.grad_fn
        self._requires_grad = res._requires_grad
        if retains:  # the retained gradient is the new value's: re-attach to the new grad_fn
            retains.remove()
            self._retains_grad = False
            self.retain_grad()
    else:
        ufunc = _UFUNC.get(op.__name__)
        if ufunc is not None and kwargs.get("alpha", 1) == 1 and not kwargs.get("rounding_mode") and args:
            if not (type(args[0]) is _Deferred and update_in_place(self, op.__name__, args[0])):
                _fast(self, op, ufunc, args[0])
        else:
            _write(self, op(self, *args, **kwargs)._data, _scalar_clamp(op, args))
    self._vc[0] += 1
    return self


# ---- in-place ops on views -------------------------------------------------------------------------
class CopySlices(Node):
    """The base after an in-place op on one of its views: gradient to the old base outside the
    view's elements, and to the op's result at them. `positions` maps view elements to base.reshape(-1)."""

    def __init__(self, old_base, result, positions):
        super().__init__((old_base, result), ())
        self.positions = positions
        self.base_shape = old_base._data.shape

    def backward(self, g):
        n = self.next_functions
        flat = g.reshape(-1)
        gb = gr = None
        if n[0][0] is not None:
            mask = g.device.xp.ones(flat._data.shape, dtype=bool)
            mask[self.positions._data] = False
            gb = (flat * _make(mask, g.device)).reshape(self.base_shape)
        if n[1][0] is not None:
            from .indexing import getitem

            gr = getitem(flat, self.positions)
        return gb, gr

    def _release_extra(self) -> None:
        self.positions = None


class AsStridedBackward0(Node):
    """A view re-read from its base after an in-place op: its gradient lands at `positions`."""

    def __init__(self, base, positions):
        super().__init__((base,), ())
        self.positions = positions
        self.base_shape = base._data.shape

    def backward(self, g):
        from .indexing import index_into_zeros

        n = 1
        for s in self.base_shape:
            n *= s
        return (index_into_zeros(g, (self.positions._data,), (n,)).reshape(self.base_shape),)

    def _release_extra(self) -> None:
        self.positions = None


def _check_not_custom_function_view(self: Tensor) -> None:
    """A view made inside a custom Function (e.g. a module's backward-hook node) must not change in place:
    the view+inplace rewrite of its graph would bypass the Function's own backward (PyTorch forbids it too)."""
    from ..autograd.function import FunctionCtx

    if isinstance(self.grad_fn, FunctionCtx):
        raise RuntimeError(
            f"Output {self._output_nr} of {self.grad_fn._fn_class.__name__} is a view and is being modified inplace. "
            "This view was created inside a custom Function (or because an input was returned as-is) and the "
            "autograd logic to handle view+inplace would override the custom backward associated with the custom "
            "Function, leading to incorrect gradients. This behavior is forbidden. You can fix this by cloning "
            "the output of the custom Function.")


def _apply_to_view(self: Tensor, base: Tensor, op, args, kwargs) -> Tensor:
    """In-place op on a view with autograd: the base's graph records which elements changed."""
    if base.grad_fn is None and base._requires_grad:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    positions = _make(self.device.backend.view_positions(self._data, base._data), self.device)
    old = _make(self._data.copy(), self.device)
    old.grad_fn = self.grad_fn
    old._requires_grad = self._requires_grad
    res = op(old, *args, **kwargs)
    _write(self, res._data, _scalar_clamp(op, args))  # writes through to the base's memory
    old_base = _make(base._data, base.device)
    old_base.grad_fn = base.grad_fn
    old_base._requires_grad = base._requires_grad
    record(base, CopySlices(old_base, res, positions))
    record(self, AsStridedBackward0(base, positions))
    self._vc[0] += 1
    return self


def _fast(self: Tensor, op, ufunc: str, other) -> None:
    """self = op(self, other) by the backend's ufunc writing straight into self's array."""
    d = self._data
    _, od, _ = prepare(self, other)
    fn = getattr(self.device.xp, ufunc)
    try:
        fn(d, od, out=d, casting="same_kind")
    except (TypeError, ValueError, OverflowError) as e:  # NumPy's casting/broadcast errors, in PyTorch's words
        _check_out_shape(d.shape, getattr(od, "shape", ()))
        if ufunc == "subtract" and d.dtype.kind == "b":
            from .pointwise import _check_sub

            _check_sub(self, other)
        if isinstance(e, OverflowError) or "cast" in str(e):
            rt = _dtype.result_type(self, other)
            if rt.np != d.dtype:
                raise _cast_error(rt.np, d.dtype) from None
            _write(self, op(self, other)._data)  # e.g. a Python int out of range: op wraps it like PyTorch
            return
        if "read-only" in str(e):
            raise RuntimeError(_OVERLAP) from None
        raise


def _check_out_shape(out_shape, other_shape) -> None:
    """PyTorch's errors when `other` does not broadcast to an in-place op's output shape."""
    try:
        shape = _broadcast_shape(out_shape, other_shape)
    except ValueError:
        from ._util import broadcast_error

        raise broadcast_error(out_shape, other_shape) from None
    if shape != out_shape:
        raise RuntimeError(f"output with shape [{', '.join(map(str, out_shape))}] doesn't match the broadcast shape "
                           f"[{', '.join(map(str, shape))}]")


# ---- fill_ / copy_ --------------------------------------------------------------------------------
class FillBackward2(Node):
    """fill_ with a number: the old values get no gradient."""

    def __init__(self, x, value):
        super().__init__((x, value), ())

    def backward(self, g):
        from .reduction import sum as _sum

        n = self.next_functions
        return (g * 0 if n[0][0] is not None else None), (_sum(g) if n[1][0] is not None else None)


class FillBackward3(FillBackward2):
    """fill_ with a 0-dim tensor, which gets the summed gradient."""


class ZeroBackward0(FillBackward2):
    pass


def _filled(x: Tensor, value, node=None) -> Tensor:
    xp = x.device.xp
    v = value._data if isinstance(value, Tensor) else fill_value(value, x._data.dtype)
    out = _make(xp.full(x._data.shape, v, dtype=x._data.dtype), x.device)
    if _GradMode.enabled and (x._requires_grad or getattr(value, "_requires_grad", False)):
        if node is None:
            node = FillBackward3 if isinstance(value, Tensor) else FillBackward2
        record(out, node(x, value))
    return out


def fill_(self: Tensor, value) -> Tensor:
    if isinstance(value, Tensor) and value._data.ndim:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value._data.ndim} dimensions.")
    begin_write(self)
    if _track(self, (value,)):
        return apply(self, _filled, value)
    self._data[...] = value._data if isinstance(value, Tensor) else fill_value(value, self._data.dtype)
    self._vc[0] += 1
    return self


def zero_(self: Tensor) -> Tensor:
    begin_write(self)
    if _track(self, ()):
        return apply(self, _filled, 0, ZeroBackward0)
    self._data[...] = 0
    self._vc[0] += 1
    return self


class CopyBackwards(Node):
    def __init__(self, x, src):
        super().__init__((x, src), ())
        self.src_shape = src._data.shape
        self.src_dtype = src.dtype

    def backward(self, g):
        n = self.next_functions
        gs = sum_to(g, self.src_shape).to(self.src_dtype) if n[1][0] is not None else None
        return (g * 0 if n[0][0] is not None else None), gs


def _copied(x: Tensor, src: Tensor) -> Tensor:
    xp = x.device.xp
    data = xp.empty_like(x._data)
    data[...] = src._data if src.device == x.device else x.device.backend.from_numpy(src.device.backend.to_numpy(src._data))
    out = _make(data, x.device)
    if _GradMode.enabled and (x._requires_grad or src._requires_grad):
        record(out, CopyBackwards(x, src))
    return out


def copy_(self: Tensor, src) -> Tensor:
    begin_write(self)
    if not isinstance(src, Tensor):
        from .creation import tensor

        src = tensor(src)
    try:
        if _track(self, (src,)):
            return apply(self, _copied, src)
        if src.device != self.device:
            src_data = self.device.backend.from_numpy(src.device.backend.to_numpy(src._data))
        else:
            src_data = src._data
        self._data[...] = src_data
    except ValueError as e:
        if "read-only" in str(e):
            raise RuntimeError(_OVERLAP) from None
        raise RuntimeError(f"The size of tensor a ({self._data.shape[-1] if self._data.ndim else 1}) must match the "
                           f"size of tensor b ({src._data.shape[-1] if src._data.ndim else 1}) at non-singleton "
                           f"dimension {max(self._data.ndim - 1, 0)}") from None
    self._vc[0] += 1
    return self


# ---- fill_diagonal_, resize_, apply_/map_ -----------------------------------------------------------------
def _diagonal_mask(x: Tensor, wrap: bool):
    """A boolean array marking x's main diagonal (all dims equal; a tall matrix repeats it every
    cols + 1 rows when wrap)."""
    shape = x._data.shape
    if len(shape) < 2:
        raise RuntimeError("dimensions must larger than 1")
    if len(shape) > 2 and any(s != shape[0] for s in shape):
        raise RuntimeError("all dimensions of input must be of equal length")
    import math

    xp = x.device.xp
    size = x._data.size
    step = sum(math.prod(shape[k + 1:]) for k in range(len(shape)))  # one step along every dim at once
    n = min(shape)
    end = size if (wrap and len(shape) == 2) else min(size, n * step - step + 1)
    mask = xp.zeros(size, dtype=bool)
    mask[xp.arange(0, end, step)] = True
    return mask.reshape(shape)


def diagonal_filled(x: Tensor, value, wrap: bool = False) -> Tensor:
    """x with its main diagonal set to value (the out-of-place op behind fill_diagonal_)."""
    from .indexing import masked_fill

    return masked_fill(x, _make(_diagonal_mask(x, wrap), x.device), value)


def fill_diagonal_(self: Tensor, value, wrap: bool = False) -> Tensor:
    if self.grad_fn is None and self._requires_grad and _GradMode.enabled:  # (PyTorch writes through a diagonal view)
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    return apply(self, diagonal_filled, value, wrap)


def resize_(self: Tensor, *sizes) -> Tensor:
    """Give self a new shape, keeping its elements in order (truncated, or extended with zeros)."""
    if self._requires_grad:  # (under no_grad too, as in PyTorch)
        raise RuntimeError("cannot resize variables that require grad")
    begin_write(self)
    if len(sizes) == 1 and not isinstance(sizes[0], int):
        sizes = tuple(sizes[0])
    shape = tuple(int(s) for s in sizes)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: {list(shape)}")
    n = 1
    for s in shape:
        n *= s
    d = self._data
    if shape == d.shape:
        return self
    flat = d.reshape(-1)
    if n <= flat.size:
        self._data = flat[:n].reshape(shape)
    else:  # more elements than the storage holds: a larger one, the old elements first
        grown = self.device.xp.zeros(n, dtype=d.dtype)
        grown[:flat.size] = flat
        self._data = grown.reshape(shape)
    return self


def apply_(self: Tensor, fn) -> Tensor:
    """Replace every element v by fn(v) (a Python callable; CPU tensors only)."""
    _check_python_map(self, "apply_")
    values = [fn(v) for v in self._data.reshape(-1).tolist()]
    _store_python_values(self, values)
    return self


def map_(self: Tensor, other: Tensor, fn) -> Tensor:
    """Replace every element a by fn(a, b), b the matching element of other (broadcast to self's shape)."""
    _check_python_map(self, "map_")
    if other._requires_grad:
        raise RuntimeError("Can't call map_() on Variable that requires grad. Use var.detach().map_() instead.")
    if other._data.dtype != self._data.dtype:
        raise TypeError(f"map_: expected {self._type_name()} for 'other' (got {other._type_name()})")
    try:
        b = self.device.xp.broadcast_to(other._data, self._data.shape)
    except ValueError:
        from .products import _check_expandable

        _check_expandable(other._data.shape, self._data.shape, other._data.dtype)
        raise
    values = [fn(x, y) for x, y in zip(self._data.reshape(-1).tolist(), b.reshape(-1).tolist())]
    _store_python_values(self, values)
    return self


def _check_python_map(self: Tensor, name: str) -> None:
    if self._requires_grad:  # (under no_grad too, as in PyTorch)
        raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use var.detach().{name}() instead.")
    if self.device.type != "cpu":
        raise TypeError(f"{name} is only implemented on CPU tensors")
    begin_write(self)


def _store_python_values(self: Tensor, values) -> None:
    """Write Python numbers (as fn returned them) into self, converted as PyTorch converts them to its dtype."""
    import numpy as np

    kind = self._data.dtype.kind
    for v in values[:1] if kind in "fc" else ():
        if not isinstance(v, (int, float, bool, complex, np.generic)):
            raise TypeError(f"must be real number, not {type(v).__name__}")
    if kind in "iu":  # float results are truncated toward zero into an integer tensor
        values = [int(v) for v in values]
    self._data[...] = np.asarray(values, dtype=self._data.dtype).reshape(self._data.shape)
    self._vc[0] += 1


def restride_(self: Tensor, view_op, *args) -> Tensor:
    """self takes the shape and strides of view_op(self) (unsqueeze_, t_, transpose_, ...): same memory, and
    with autograd the view's node, as PyTorch records it."""
    begin_write(self)
    alias = _make(self._data, self.device)
    if _track(self, ()):
        self._check_inplace()
        alias.grad_fn, alias._requires_grad = self.grad_fn, True
    out = view_op(alias, *args)
    self._data = out._data
    if out.grad_fn is not None:
        from .shape import INPLACE_VIEW_NODES

        node = out.grad_fn
        # the same formula under the in-place op's name (the subclasses add no state, so the switch is safe)
        node.__class__ = INPLACE_VIEW_NODES.get(type(node), type(node))
        self.grad_fn = node
    self._vc[0] += 1
    return self


def map2_(self: Tensor, x: Tensor, y: Tensor, fn) -> Tensor:
    """Replace every element a by fn(a, b, c), b and c the matching elements of x and y (broadcast to self)."""
    _check_python_map(self, "map2_")
    shape = self._data.shape
    xp = self.device.xp
    b, c = (xp.broadcast_to(t._data, shape).reshape(-1).tolist() for t in (x, y))
    _store_python_values(self, [fn(v, p, q) for v, p, q in zip(self._data.reshape(-1).tolist(), b, c)])
    return self
