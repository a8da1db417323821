"""The Tensor: an array of the device's backend, plus what autograd needs (grad, grad_fn, version).

Math lives in glasstorch/_ops (forward and backward side by side); the methods below are thin
doors into it, so that `x.exp()` and `torch.exp(x)` are one implementation.
"""
from __future__ import annotations

import builtins
import sys
import warnings

from . import _dtype
from .backends import cpu as _cpu
from ._device import CPU
from . import autograd as _autograd
from .autograd.graph import _GradMode, _Handle
from .autograd.grad_mode import NO_VERSION


def _refs_seen(x) -> int:
    return sys.getrefcount(x)


# what sys.getrefcount reports for an object held by one frame only (2 on CPython 3.10-3.13: the
# frame and the call's argument); measured, since interpreters differ in what they count
_UNIQUE_REFS = _refs_seen(object())

_new = object.__new__


class Size(tuple):
    """torch.Size: a tuple of ints with PyTorch's repr."""

    def __repr__(self) -> str:
        return f"torch.Size([{', '.join(str(s) for s in self)}])"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item):
        out = tuple.__getitem__(self, item)
        return Size(out) if isinstance(item, slice) else out

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __reduce__(self):
        return (Size, (tuple(self),))


def _make(data, device=CPU) -> "Tensor":
    """A new tensor around a backend array: the fast path every op uses."""
    if type(data) in _cpu.SCALAR_TYPES:  # NumPy ops on 0-d arrays return scalars; keep an array
        data = _cpu.xp.asarray(data)
    t = _new(Tensor)
    t._data = data
    t.device = device
    t._requires_grad = False
    t._grad = None
    t.grad_fn = None
    t._vc = NO_VERSION if _GradMode.inference else [0]  # made in inference mode: an inference tensor
    t._hooks = None
    t._grad_acc = None
    return t


def _dtype_arg(d):
    if d is None or isinstance(d, _dtype.dtype):
        return d
    if isinstance(d, str):
        return _dtype._by_name(d.replace("torch.", ""))
    if d is float:
        return _dtype.float64
    if d is int:
        return _dtype.int64
    if d is builtins.bool:
        return _dtype.bool
    return _dtype.from_numpy_dtype(d)


class Tensor:
    """A multi-dimensional array that can record the operations applied to it."""

    __slots__ = ("_data", "device", "_requires_grad", "_grad", "grad_fn", "_vc", "_hooks",
                 "_grad_acc", "_retains_grad", "_out_alias", "_name", "__weakref__", "__dict__")

    __array_priority__ = 1000  # so `ndarray * tensor` defers to Tensor.__rmul__
    _output_nr = 0  # which output of grad_fn this is (set per tensor only by multi-output Functions)

    def __init__(self, *args, dtype=None, device=None):
        """torch.Tensor(2, 3) (uninitialised float), torch.Tensor(data) (float copy), torch.Tensor(t) (alias)."""
        from ._legacy import legacy_new

        src = legacy_new(dtype, args, device)
        for name in ("_data", "device", "_requires_grad", "_grad", "grad_fn", "_vc", "_hooks", "_grad_acc"):
            setattr(self, name, getattr(src, name))

    # ---- attributes ------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self._data.shape)
        if self._data.ndim == 0:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        return self._data.shape[_ops.shape.wrap_dim(dim, self._data.ndim)]

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    @property
    def dtype(self) -> _dtype.dtype:
        return _dtype._FROM_NP[self._data.dtype]

    @property
    def is_cuda(self) -> builtins.bool:
        return self.device.type == "cuda"

    @property
    def is_leaf(self) -> builtins.bool:
        return self.grad_fn is None

    @property
    def requires_grad(self) -> builtins.bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: builtins.bool) -> None:
        if self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables." + (
                "" if flag else " If you want to use a computed variable in a subgraph that doesn't "
                "require differentiation use var_no_grad = var.detach()."))
        if flag and not (self.dtype.is_floating_point or self.dtype.is_complex):
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        if flag and self._vc is NO_VERSION and not _GradMode.inference:
            raise RuntimeError("Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.")
        self._requires_grad = builtins.bool(flag)

    def requires_grad_(self, requires_grad: builtins.bool = True) -> "Tensor":
        if requires_grad and self.grad_fn is not None:
            return self  # already requires grad
        if requires_grad and not (self.dtype.is_floating_point or self.dtype.is_complex):
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self.requires_grad = requires_grad
        return self

    @property
    def grad(self) -> "Tensor | None":
        """The gradient accumulated by backward (leaves, and non-leaves that called retain_grad)."""
        if self.grad_fn is not None and not getattr(self, "_retains_grad", False):
            warnings.warn(_NON_LEAF_GRAD, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: "Tensor | None") -> None:
        if value is not None:
            _check_grad_assignment(self, value)
        self._grad = value

    @property
    def _version(self) -> int:
        if self._vc is NO_VERSION:
            raise RuntimeError("Inference tensors do not track version counter.")
        return self._vc[0]

    def is_inference(self) -> builtins.bool:
        """Whether this tensor was made in inference mode (or is a view of one that was)."""
        return self._vc is NO_VERSION

    @property
    def data(self) -> "Tensor":
        """A tensor sharing this one's array, cut off from autograd."""
        out = _make(self._data, self.device)
        if self._vc is NO_VERSION:  # the data of an inference tensor is one too
            out._vc = NO_VERSION
        return out

    @data.setter
    def data(self, value: "Tensor") -> None:
        self._data = value._data
        self.device = value.device

    @property
    def retains_grad(self) -> builtins.bool:
        return builtins.bool(getattr(self, "_retains_grad", False))

    @property
    def T(self) -> "Tensor":
        return _ops.shape.permute(self, tuple(range(self._data.ndim - 1, -1, -1)))

    @property
    def mT(self) -> "Tensor":
        return _ops.shape.transpose(self, -2, -1)

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    def element_size(self) -> int:
        return self._data.itemsize

    def is_floating_point(self) -> builtins.bool:
        return self.dtype.is_floating_point

    # ---- complex numbers (_ops/complex.py) -------------------------------------------------------
    def is_complex(self) -> builtins.bool: return self.dtype.is_complex
    @property
    def real(self) -> "Tensor": return _ops.complex.real(self)
    @property
    def imag(self) -> "Tensor": return _ops.complex.imag(self)
    def conj(self) -> "Tensor": return _ops.complex.conj(self)
    conj_physical = conj
    def resolve_conj(self) -> "Tensor": return self  # conj() copies here, so there is never a lazy conjugate
    def is_conj(self) -> builtins.bool: return False
    def angle(self) -> "Tensor": return _ops.complex.angle(self)

    def is_contiguous(self, memory_format=None) -> builtins.bool:
        return self._data.flags.c_contiguous

    def stride(self, dim: int | None = None):
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[dim]

    def data_ptr(self) -> int:
        return self._data.__array_interface__["data"][0] if self.device is CPU else int(self._data.data.ptr)

    def _type_name(self) -> str:
        names = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
                 "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
                 "bfloat16": "BFloat16", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}
        prefix = "torch.cuda." if self.is_cuda else "torch."
        return f"{prefix}{names[self.dtype.name]}Tensor"

    def type(self, dtype=None, non_blocking: builtins.bool = False, **kwargs):
        """The type's name ('torch.FloatTensor'), or a copy converted to a dtype, tensor type or type name."""
        if dtype is None:
            return self._type_name()
        from ._legacy import type_target

        d, device = type_target(dtype)
        return self.to(d) if device is None else self.to(device=device, dtype=d)

    # ---- conversions -----------------------------------------------------------------------
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item() if self.device is CPU else self.cpu()._data.reshape(()).item()

    def tolist(self):
        return self.device.backend.to_numpy(self._data).tolist()

    def numpy(self, *, force: builtins.bool = False):
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if self.device is not CPU and not force:
            raise TypeError("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to "
                            "copy the tensor to host memory first.")
        if self.device is CPU:
            _ops.deferred.exported(self)  # NumPy code may now write the array behind glasstorch's back
        return self.device.backend.to_numpy(self._data)

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype, copy=False)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(_ops.shape.unbind(self, 0))

    def __bool__(self) -> builtins.bool:
        if self._data.size != 1:
            what = "no values" if self._data.size == 0 else "more than one value"
            raise RuntimeError(f"Boolean value of Tensor with {what} is ambiguous")
        return builtins.bool(self.item())

    def _scalar(self):
        """The single element, for float()/int()/complex()."""
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __float__(self) -> float:
        if self._requires_grad:
            warnings.warn(_SCALAR_OF_GRAD, UserWarning, stacklevel=2)
        return float(self._scalar())

    def __int__(self) -> int:
        return int(self._scalar())

    def __index__(self) -> int:
        if self.dtype.is_floating_point or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __complex__(self) -> complex:
        if self._requires_grad:
            warnings.warn(_SCALAR_OF_GRAD, UserWarning, stacklevel=2)
        return complex(self._scalar())

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return repr(self)

    def __repr__(self, *, tensor_contents=None) -> str:
        from ._tensor_str import format_tensor

        fn = self.grad_fn
        return format_tensor(
            self.device.backend.to_numpy(self._data), dtype_name=self.dtype.name,
            default_float=_dtype.get_default_dtype().name,
            device=None if self.device is CPU else str(self.device),
            grad_fn=fn.name().rsplit("::", 1)[-1] if fn is not None else None,  # torch::autograd::NotImplemented
            requires_grad=self._requires_grad and fn is None)

    __str__ = __repr__

    __hash__ = object.__hash__

    def __reduce_ex__(self, protocol):
        # plain pickling (DataLoader workers, multiprocessing): array + requires_grad, leaves only
        return (_rebuild, (self.device.backend.to_numpy(self._data), self._requires_grad, str(self.device)))

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the "
                               "deepcopy protocol at the moment.  If you were attempting to deepcopy a "
                               "module, this may be because of a torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        if id(self) in memo:
            return memo[id(self)]
        out = type(self).__new__(type(self))
        for slot in ("device", "_requires_grad", "_hooks", "_grad_acc", "grad_fn"):
            setattr(out, slot, getattr(self, slot))
        out._data = self._data.copy()
        out._vc = [0]
        out._hooks = None
        out._grad_acc = None
        out.grad = None if self.grad is None else self.grad.__deepcopy__(memo)
        if hasattr(self, "__dict__"):
            out.__dict__.update(self.__dict__)
            out.__dict__.pop("_post_accumulate_grad_hooks", None)  # hooks stay with the original, as in PyTorch
        memo[id(self)] = out
        return out

    # ---- autograd ----------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph: builtins.bool = False, inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's .grad (see autograd.backward)."""
        _autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> "Tensor":
        out = _make(self._data, self.device)
        out._vc = self._vc  # a detached tensor is a view: in-place changes are seen by both
        return out

    def detach_(self) -> "Tensor":
        self.grad_fn = None
        self._requires_grad = False
        self.__dict__.pop("_output_nr", None)
        return self

    def retain_grad(self) -> None:
        if self.grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if getattr(self, "_retains_grad", False):
            return
        import weakref

        ref = weakref.ref(self)

        def retain(g):
            t = ref()
            if t is not None:
                t._grad = g.detach() if t._grad is None else t._grad + g.detach()
        self._retains_grad = _Handle(self._grad_hooks(), retain)  # the handle (truthy)

    def _grad_hooks(self) -> dict:
        """The hooks run on this non-leaf tensor's gradient: pre-hooks of its grad_fn."""
        fn = self.grad_fn
        if self._output_nr:  # a later output of a multi-output custom Function
            return fn._output_hook_table(self._output_nr)
        if fn._pre_hooks is None:
            fn._pre_hooks = {}
        return fn._pre_hooks

    def register_hook(self, hook):
        """hook(grad) -> Tensor or None, called with this tensor's gradient during backward."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            hooks = self._grad_hooks()
            handle = _Handle(hooks, hook)
            retain = getattr(self, "_retains_grad", None)
            if retain:  # retain_grad stores the gradient after every other hook of the tensor ran
                hooks[retain.id] = hooks.pop(retain.id)
            return handle
        if self._hooks is None:
            self._hooks = {}
            acc = self._grad_acc() if self._grad_acc is not None else None
            if acc is not None:
                acc._pre_hooks = self._hooks
        return _Handle(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """hook(tensor) -> None, called after backward has accumulated a gradient into this leaf's .grad."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        return _Handle(self.__dict__.setdefault("_post_accumulate_grad_hooks", {}), hook)

    def _accumulate_grad(self, g: "Tensor", create_graph: builtins.bool) -> None:
        """The work of this leaf's AccumulateGrad node: add `g` into .grad, then run the post-accumulate hooks."""
        self._add_to_grad(g, create_graph)
        hooks = self.__dict__.get("_post_accumulate_grad_hooks")
        if hooks:
            for hook in list(hooks.values()):
                hook(self)

    def _add_to_grad(self, g: "Tensor", create_graph: builtins.bool) -> None:
        """Add a gradient into .grad."""
        old = self._grad
        if old is None:
            if create_graph and g._requires_grad:
                self._grad = _ops.shape.clone(g)  # its own tensor: other leaves may receive `g` too
                return
            arr = g._data
            # keep g's array (no copy) only when nobody else holds g or its array (as PyTorch does
            # by use_count): another leaf, a hook or the caller could otherwise see .grad change.
            # Unique means: the array is held by g and this frame; g by the engine's frame,
            # _accumulate_grad's and this one (counts measured against _UNIQUE_REFS, not pinned)
            if (arr.base is not None or sys.getrefcount(arr) > _UNIQUE_REFS + 1
                    or sys.getrefcount(g) > _UNIQUE_REFS + 2):
                arr = arr.copy()
            if arr.dtype != self._data.dtype:
                arr = arr.astype(self._data.dtype)
            self._grad = _make(arr, self.device)
        elif create_graph or old._requires_grad:
            self._grad = old + g
        else:
            old._data += g._data
            old._vc[0] += 1

    # ---- in-place plumbing ---------------------------------------------------------------------
    def _check_inplace(self) -> None:
        if self.grad_fn is None and self._requires_grad and _GradMode.enabled:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")

    # ---- operators ---------------------------------------------------------------------------
    def __add__(self, other): return _ops.pointwise.add(self, other)
    def __radd__(self, other): return _ops.pointwise.add(self, other)
    def __sub__(self, other): return _ops.pointwise.sub(self, other)
    def __rsub__(self, other): return _ops.pointwise.rsub(self, other)
    def __mul__(self, other): return _ops.pointwise.mul(self, other)
    def __rmul__(self, other): return _ops.pointwise.mul(self, other)
    def __truediv__(self, other): return _ops.pointwise.div(self, other)
    def __rtruediv__(self, other): return _ops.pointwise.rdiv(self, other)
    def __floordiv__(self, other): return _ops.pointwise.floor_divide(self, other)
    def __rfloordiv__(self, other): return _ops.pointwise.floor_divide(_ops.creation.scalar_like(other, self), self)
    def __mod__(self, other): return _ops.pointwise.remainder(self, other)
    def __rmod__(self, other): return _ops.pointwise.rremainder(self, other)
    def __pow__(self, other): return _ops.pointwise.pow(self, other)
    def __rpow__(self, other): return _ops.pointwise.rpow(self, other)
    def __matmul__(self, other): return _ops.linalg.matmul(self, other)
    def __rmatmul__(self, other): return _ops.linalg.matmul(_ops.creation.as_tensor(other), self)
    def __neg__(self): return _ops.pointwise.neg(self)
    def __pos__(self): return self
    def __abs__(self): return _ops.pointwise.abs(self)
    def __invert__(self): return _ops.pointwise.bitwise_not(self)
    def __and__(self, other): return _ops.pointwise.bitwise_and(self, other)
    def __or__(self, other): return _ops.pointwise.bitwise_or(self, other)
    def __xor__(self, other): return _ops.pointwise.bitwise_xor(self, other)
    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__
    def __eq__(self, other): return _ops.pointwise.eq(self, other)
    def __ne__(self, other): return _ops.pointwise.ne(self, other)
    def __lt__(self, other): return _ops.pointwise.lt(self, other)
    def __le__(self, other): return _ops.pointwise.le(self, other)
    def __gt__(self, other): return _ops.pointwise.gt(self, other)
    def __ge__(self, other): return _ops.pointwise.ge(self, other)
    def __getitem__(self, index): return _ops.indexing.getitem(self, index)
    def __setitem__(self, index, value): _ops.indexing.setitem(self, index, value)

    def __iadd__(self, other): return self.add_(other)
    def __isub__(self, other): return self.sub_(other)
    def __imul__(self, other): return self.mul_(other)
    def __itruediv__(self, other): return self.div_(other)

    # ---- math methods --------------------------------------------------------------------------
    def add(self, other, *, alpha=1): return _ops.pointwise.add(self, other, alpha=alpha)
    def sub(self, other, *, alpha=1): return _ops.pointwise.sub(self, other, alpha=alpha)
    subtract = sub
    def mul(self, other): return _ops.pointwise.mul(self, other)
    multiply = mul
    def div(self, other, *, rounding_mode=None): return _ops.pointwise.div(self, other, rounding_mode=rounding_mode)
    divide = true_divide = div
    def floor_divide(self, other): return _ops.pointwise.floor_divide(self, other)
    def remainder(self, other): return _ops.pointwise.remainder(self, other)
    def fmod(self, other): return _ops.pointwise.fmod(self, other)
    def pow(self, exponent): return _ops.pointwise.pow(self, exponent)
    def matmul(self, other): return _ops.linalg.matmul(self, other)
    def mm(self, other): return _ops.linalg.mm(self, other)
    def bmm(self, other): return _ops.linalg.bmm(self, other)
    def dot(self, other): return _ops.linalg.dot(self, other)
    def mv(self, other): return _ops.linalg.mv(self, other)
    def outer(self, other): return _ops.linalg.outer(self, other)
    def neg(self): return _ops.pointwise.neg(self)
    negative = neg
    def abs(self): return _ops.pointwise.abs(self)
    absolute = abs
    def sign(self): return _ops.pointwise.sign(self)
    def exp(self): return _ops.pointwise.exp(self)
    def expm1(self): return _ops.pointwise.expm1(self)
    def log(self): return _ops.pointwise.log(self)
    def log2(self): return _ops.pointwise.log2(self)
    def log10(self): return _ops.pointwise.log10(self)
    def log1p(self): return _ops.pointwise.log1p(self)
    def sqrt(self): return _ops.pointwise.sqrt(self)
    def rsqrt(self): return _ops.pointwise.rsqrt(self)
    def square(self): return _ops.pointwise.square(self)
    def reciprocal(self): return _ops.pointwise.reciprocal(self)
    def sin(self): return _ops.pointwise.sin(self)
    def cos(self): return _ops.pointwise.cos(self)
    def tan(self): return _ops.pointwise.tan(self)
    def tanh(self): return _ops.pointwise.tanh(self)
    def sigmoid(self): return _ops.pointwise.sigmoid(self)
    def relu(self): return _ops.pointwise.relu(self)
    def erf(self): return _ops.pointwise.erf(self)
    def lgamma(self): return _ops.pointwise.lgamma(self)
    def digamma(self): return _ops.pointwise.digamma(self)
    def polygamma(self, n): return _ops.pointwise.polygamma(n, self)
    def igamma(self, other): return _ops.pointwise.igamma(self, other)
    def igammac(self, other): return _ops.pointwise.igammac(self, other)
    def floor(self): return _ops.pointwise.floor(self)
    def ceil(self): return _ops.pointwise.ceil(self)
    def trunc(self): return _ops.pointwise.trunc(self)
    def round(self, *, decimals=0): return _ops.pointwise.round(self, decimals=decimals)
    def clamp(self, min=None, max=None): return _ops.pointwise.clamp(self, min, max)
    clip = clamp
    def maximum(self, other): return _ops.pointwise.maximum(self, other)
    def minimum(self, other): return _ops.pointwise.minimum(self, other)
    def lerp(self, end, weight): return _ops.pointwise.lerp(self, end, weight)
    def eq(self, other): return _ops.pointwise.eq(self, other)
    def ne(self, other): return _ops.pointwise.ne(self, other)
    def lt(self, other): return _ops.pointwise.lt(self, other)
    def le(self, other): return _ops.pointwise.le(self, other)
    def gt(self, other): return _ops.pointwise.gt(self, other)
    def ge(self, other): return _ops.pointwise.ge(self, other)
    greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
    def logical_not(self): return _ops.pointwise.logical_not(self)
    def logical_and(self, other): return _ops.pointwise.logical_and(self, other)
    def logical_or(self, other): return _ops.pointwise.logical_or(self, other)
    def isnan(self): return _ops.pointwise.isnan(self)
    def isinf(self): return _ops.pointwise.isinf(self)
    def isfinite(self): return _ops.pointwise.isfinite(self)
    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return _ops.pointwise.allclose(self, other, rtol, atol, equal_nan)
    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return _ops.pointwise.isclose(self, other, rtol, atol, equal_nan)
    def equal(self, other): return _ops.pointwise.equal(self, other)
    def where(self, condition, other): return _ops.indexing.where(condition, self, other)
    def softmax(self, dim=None, dtype=None, *, axis=None):
        if axis is not None or dim is None:  # dim is required here, unlike F.softmax's legacy implicit dim
            dim = _ops._util.numpy_name(dim, axis, "softmax")
        return _ops.reduction.softmax(self, dim, dtype=dtype)
    def log_softmax(self, dim=None, dtype=None, *, axis=None):
        if axis is not None or dim is None:  # dim is required here, unlike F.log_softmax's legacy implicit dim
            dim = _ops._util.numpy_name(dim, axis, "log_softmax")
        return _ops.reduction.log_softmax(self, dim, dtype=dtype)

    # ---- reductions ----------------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
        return _ops.reduction.sum(self, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)
    def mean(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
        return _ops.reduction.mean(self, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)
    def prod(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
        return _ops.reduction.prod(self, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)
    def max(self, dim=None, keepdim=None, *, axis=None, keepdims=None):
        return _ops.reduction.max(self, dim, keepdim, axis=axis, keepdims=keepdims)
    def min(self, dim=None, keepdim=None, *, axis=None, keepdims=None):
        return _ops.reduction.min(self, dim, keepdim, axis=axis, keepdims=keepdims)
    def amax(self, dim=(), keepdim=False, *, axis=None, keepdims=None):
        return _ops.reduction.amax(self, dim, keepdim, axis=axis, keepdims=keepdims)
    def amin(self, dim=(), keepdim=False, *, axis=None, keepdims=None):
        return _ops.reduction.amin(self, dim, keepdim, axis=axis, keepdims=keepdims)
    def argmax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _ops.reduction.argmax(self, dim, keepdim, axis=axis, keepdims=keepdims)
    def argmin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _ops.reduction.argmin(self, dim, keepdim, axis=axis, keepdims=keepdims)
    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
        return _ops.reduction.var(self, dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)
    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
        return _ops.reduction.std(self, dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)
    def norm(self, p="fro", dim=None, keepdim=False, dtype=None): return _ops.reduction.norm(self, p, dim, keepdim)
    def logsumexp(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _ops.reduction.logsumexp(self, dim, keepdim, axis=axis, keepdims=keepdims)
    def cumsum(self, dim=None, *, dtype=None, axis=None):
        return _ops.reduction.cumsum(self, dim, dtype=dtype, axis=axis)
    def all(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _ops.reduction.all(self, dim, keepdim, axis=axis, keepdims=keepdims)
    def any(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _ops.reduction.any(self, dim, keepdim, axis=axis, keepdims=keepdims)
    def count_nonzero(self, dim=None, *, axis=None): return _ops.reduction.count_nonzero(self, dim, axis=axis)

    # ---- shape ---------------------------------------------------------------------------------
    def reshape(self, *shape):
        if not shape:
            raise TypeError('reshape() missing 1 required positional arguments: "shape"')
        return _ops.shape.reshape(self, shape)

    def view(self, *shape):
        if not shape:
            raise TypeError("view() received an invalid combination of arguments - got (), but expected one of: "
                            "(torch.dtype dtype), (tuple of ints size)")
        if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list, Size)) and shape[0] is not None:
            return self.to(shape[0])
        return _ops.shape.view(self, shape)
    def view_as(self, other): return _ops.shape.view(self, other.shape)
    def reshape_as(self, other): return _ops.shape.reshape(self, other.shape)
    def flatten(self, start_dim=0, end_dim=-1): return _ops.shape.flatten(self, start_dim, end_dim)
    def unflatten(self, dim, sizes): return _ops.shape.unflatten(self, dim, sizes)
    def squeeze(self, dim=None, *, axis=None): return _ops.shape.squeeze(self, dim, axis=axis)
    def unsqueeze(self, dim=None, *, axis=None): return _ops.shape.unsqueeze(self, dim, axis=axis)
    def transpose(self, dim0, dim1): return _ops.shape.transpose(self, dim0, dim1)
    swapaxes = swapdims = transpose
    def permute(self, *dims):
        if not dims:  # x.permute(()) is fine for a 0-dim x, x.permute() never
            raise TypeError('permute() missing 1 required positional arguments: "dims"')
        return _ops.shape.permute(self, dims)

    def movedim(self, source, destination): return _ops.shape.movedim(self, source, destination)
    def t(self): return _ops.shape.t(self)
    def expand(self, *sizes):
        if not sizes:
            raise TypeError('expand() missing 1 required positional arguments: "size"')
        return _ops.shape.expand(self, sizes)

    def expand_as(self, other): return _ops.shape.expand(self, other.shape)
    def broadcast_to(self, shape): return _ops.shape.expand(self, shape)
    def repeat(self, *sizes): return _ops.shape.repeat(self, sizes)
    def chunk(self, chunks, dim=0, *, axis=None): return _ops.shape.chunk(self, chunks, dim, axis=axis)
    def split(self, split_size, dim=0): return _ops.shape.split(self, split_size, dim)
    def unbind(self, dim=0, *, axis=None): return _ops.shape.unbind(self, dim, axis=axis)
    def narrow(self, dim=None, start=None, length=None, *, axis=None):
        return _ops.shape.narrow(self, dim, start, length, axis=axis)
    def select(self, dim, index): return _ops.shape.select(self, dim, index)
    def flip(self, *dims): return _ops.shape.flip(self, dims)
    def tril(self, diagonal=0): return _ops.shape.tril(self, diagonal)
    def triu(self, diagonal=0): return _ops.shape.triu(self, diagonal)
    def contiguous(self, memory_format=None): return _ops.shape.contiguous(self)
    def clone(self, *, memory_format=None): return _ops.shape.clone(self)
    def gather(self, dim=None, index=None, *, axis=None): return _ops.indexing.gather(self, dim, index, axis=axis)
    def scatter_add(self, dim, index, src): return _ops.indexing.scatter_add(self, dim, index, src)
    def index_select(self, dim=None, index=None, *, axis=None):
        return _ops.indexing.index_select(self, dim, index, axis=axis)
    def masked_fill(self, mask, value): return _ops.indexing.masked_fill(self, mask, value)
    def masked_select(self, mask): return _ops.indexing.masked_select(self, mask)
    def nonzero(self, *, as_tuple=False): return _ops.indexing.nonzero(self, as_tuple=as_tuple)
    def sort(self, dim=-1, descending=False, stable=None, *, axis=None):
        return _ops.reduction.sort(self, dim, descending, stable, axis=axis)
    def argsort(self, dim=-1, descending=False, stable=False, *, axis=None):
        return _ops.sorting.argsort(self, dim, descending, stable, axis=axis)
    def topk(self, k, dim=-1, largest=True, sorted=True, *, axis=None):
        return _ops.reduction.topk(self, k, dim, largest, sorted, axis=axis)

    # ---- searching, sorting, scatter/gather and more shape ops (glasstorch/_ops/sorting.py, ...) ----------
    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        return _ops.sorting.unique(self, sorted, return_inverse, return_counts, dim)
    def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None):
        return _ops.sorting.unique_consecutive(self, return_inverse, return_counts, dim)
    def argwhere(self): return _ops.sorting.argwhere(self)
    def msort(self): return _ops.sorting.msort(self)
    def kthvalue(self, k, dim=-1, keepdim=False, *, axis=None, keepdims=None):
        return _ops.sorting.kthvalue(self, k, dim, keepdim, axis=axis, keepdims=keepdims)
    def median(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _ops.sorting.median(self, dim, keepdim, axis=axis, keepdims=keepdims)
    def nanmedian(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _ops.sorting.nanmedian(self, dim, keepdim, axis=axis, keepdims=keepdims)
    def mode(self, dim=-1, keepdim=False, *, axis=None, keepdims=None):
        return _ops.sorting.mode(self, dim, keepdim, axis=axis, keepdims=keepdims)
    def quantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return _ops.sorting.quantile(self, q, dim, keepdim, interpolation=interpolation)
    def nanquantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return _ops.sorting.nanquantile(self, q, dim, keepdim, interpolation=interpolation)
    def bincount(self, weights=None, minlength=0): return _ops.sorting.bincount(self, weights, minlength)
    def histc(self, bins=100, min=0, max=0): return _ops.sorting.histc(self, bins, min, max)
    def histogram(self, bins, *, range=None, weight=None, density=False):
        return _ops.sorting.histogram(self, bins, range=range, weight=weight, density=density)
    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        return _ops.indexing.scatter(self, dim, index, src, value=value, reduce=reduce)
    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        return _ops.inplace.apply(self, _ops.indexing.scatter, dim, index, src, value=value, reduce=reduce)
    def scatter_add_(self, dim, index, src): return _ops.inplace.apply(self, _ops.indexing.scatter_add, dim, index, src)
    def scatter_reduce(self, dim, index, src, reduce, *, include_self=True):
        return _ops.indexing.scatter_reduce(self, dim, index, src, reduce, include_self=include_self)
    def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
        return _ops.inplace.apply(self, _ops.indexing.scatter_reduce, dim, index, src, reduce, include_self=include_self)
    def index_add(self, dim, index, source, *, alpha=1): return _ops.indexing.index_add(self, dim, index, source, alpha=alpha)
    def index_add_(self, dim, index, source, *, alpha=1):
        return _ops.inplace.apply(self, _ops.indexing.index_add, dim, index, source, alpha=alpha)
    def index_copy(self, dim, index, source): return _ops.indexing.index_copy(self, dim, index, source)
    def index_copy_(self, dim, index, source): return _ops.inplace.apply(self, _ops.indexing.index_copy, dim, index, source)
    def index_fill(self, dim, index, value): return _ops.indexing.index_fill(self, dim, index, value)
    def index_fill_(self, dim, index, value): return _ops.inplace.apply(self, _ops.indexing.index_fill, dim, index, value)
    def index_put(self, indices, values, accumulate=False):
        return _ops.indexing.index_put_tensors(self, indices, values, accumulate)
    def index_put_(self, indices, values, accumulate=False):
        return _ops.inplace.apply(self, _ops.indexing.index_put_tensors, indices, values, accumulate)
    def index_reduce(self, dim, index, source, reduce, *, include_self=True):
        return _ops.indexing.index_reduce(self, dim, index, source, reduce, include_self=include_self)
    def index_reduce_(self, dim, index, source, reduce, *, include_self=True):
        return _ops.inplace.apply(self, _ops.indexing.index_reduce, dim, index, source, reduce, include_self=include_self)
    def masked_scatter(self, mask, source): return _ops.indexing.masked_scatter(self, mask, source)
    def masked_scatter_(self, mask, source): return _ops.inplace.apply(self, _ops.indexing.masked_scatter, mask, source)
    def take(self, index): return _ops.indexing.take(self, index)
    def take_along_dim(self, indices, dim=None, *, axis=None):
        return _ops.indexing.take_along_dim(self, indices, dim, axis=axis)
    def put(self, index, source, accumulate=False): return _ops.indexing.put(self, index, source, accumulate)
    def put_(self, index, source, accumulate=False):
        return _ops.inplace.apply(self, _ops.indexing.put, index, source, accumulate)
    def roll(self, shifts, dims=None): return _ops.shape.roll(self, shifts, dims)
    def rot90(self, k=1, dims=(0, 1)): return _ops.shape.rot90(self, k, dims)
    def tile(self, *dims): return _ops.shape.tile(self, dims[0] if len(dims) == 1 and not isinstance(dims[0], int) else dims)
    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        return _ops.shape.repeat_interleave(self, repeats, dim, output_size=output_size)
    def tensor_split(self, indices_or_sections, dim=0): return _ops.shape.tensor_split(self, indices_or_sections, dim)
    def hsplit(self, sections): return _ops.shape.hsplit(self, sections)
    def vsplit(self, sections): return _ops.shape.vsplit(self, sections)
    def dsplit(self, sections): return _ops.shape.dsplit(self, sections)
    def diag(self, diagonal=0): return _ops.shape.diag(self, diagonal)
    def diagonal(self, offset=0, dim1=0, dim2=1): return _ops.shape.diagonal(self, offset, dim1, dim2)
    def diag_embed(self, offset=0, dim1=-2, dim2=-1): return _ops.shape.diag_embed(self, offset, dim1, dim2)
    def diagflat(self, offset=0): return _ops.shape.diagflat(self, offset)
    def moveaxis(self, source, destination): return _ops.shape.movedim(self, source, destination)

    # ---- more math, linear algebra, logic and statistics (_ops/elementwise.py, products.py, scans.py,
    # statistics.py, linalg_decomp.py) ---------------------------------------------------------------
    def asin(self): return _ops.elementwise.asin(self)
    def acos(self): return _ops.elementwise.acos(self)
    def atan(self): return _ops.elementwise.atan(self)
    def sinh(self): return _ops.elementwise.sinh(self)
    def cosh(self): return _ops.elementwise.cosh(self)
    def asinh(self): return _ops.elementwise.asinh(self)
    def acosh(self): return _ops.elementwise.acosh(self)
    def atanh(self): return _ops.elementwise.atanh(self)
    arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
    def atan2(self, other): return _ops.elementwise.atan2(self, other)
    arctan2 = atan2
    def hypot(self, other): return _ops.elementwise.hypot(self, other)
    def copysign(self, other): return _ops.elementwise.copysign(self, other)
    def logaddexp(self, other): return _ops.elementwise.logaddexp(self, other)
    def logaddexp2(self, other): return _ops.elementwise.logaddexp2(self, other)
    def xlogy(self, other): return _ops.elementwise.xlogy(self, other)
    def heaviside(self, values): return _ops.elementwise.heaviside(self, values)
    def frac(self): return _ops.elementwise.frac(self)
    def fix(self): return _ops.pointwise.trunc(self)
    def deg2rad(self): return _ops.elementwise.deg2rad(self)
    def rad2deg(self): return _ops.elementwise.rad2deg(self)
    def sinc(self): return _ops.elementwise.sinc(self)
    def logit(self, eps=None): return _ops.elementwise.logit(self, eps)
    def erfc(self): return _ops.elementwise.erfc(self)
    def erfinv(self): return _ops.elementwise.erfinv(self)
    def i0(self): return _ops.elementwise.i0(self)
    def nan_to_num(self, nan=0.0, posinf=None, neginf=None): return _ops.elementwise.nan_to_num(self, nan, posinf, neginf)
    def signbit(self): return _ops.elementwise.signbit(self)
    def positive(self): return _ops.elementwise.positive(self)
    def logical_xor(self, other): return _ops.pointwise.logical_xor(self, other)
    def bitwise_and(self, other): return _ops.pointwise.bitwise_and(self, other)
    def bitwise_or(self, other): return _ops.pointwise.bitwise_or(self, other)
    def bitwise_xor(self, other): return _ops.pointwise.bitwise_xor(self, other)
    def bitwise_not(self): return _ops.pointwise.bitwise_not(self)
    def bitwise_left_shift(self, other): return _ops.elementwise.bitwise_left_shift(self, other)
    def bitwise_right_shift(self, other): return _ops.elementwise.bitwise_right_shift(self, other)
    def __lshift__(self, other): return _ops.elementwise.bitwise_left_shift(self, other)
    def __rshift__(self, other): return _ops.elementwise.bitwise_right_shift(self, other)
    def __rlshift__(self, other): return _ops.elementwise.bitwise_left_shift(other, self)
    def __rrshift__(self, other): return _ops.elementwise.bitwise_right_shift(other, self)
    def cumprod(self, dim=None, *, dtype=None, axis=None): return _ops.scans.cumprod(self, dim, dtype=dtype, axis=axis)
    def cummax(self, dim): return _ops.scans.cummax(self, dim)
    def cummin(self, dim): return _ops.scans.cummin(self, dim)
    def logcumsumexp(self, dim): return _ops.scans.logcumsumexp(self, dim)
    def diff(self, n=1, dim=-1, prepend=None, append=None, *, axis=None):
        return _ops.scans.diff(self, n, dim, prepend, append, axis=axis)
    def trace(self): return _ops.products.trace(self)
    def inner(self, other): return _ops.products.inner(self, other)
    def kron(self, other): return _ops.products.kron(self, other)
    def cross(self, other, dim=None): return _ops.products.cross(self, other, dim)
    def vdot(self, other): return _ops.products.vdot(self, other)
    def addmm(self, mat1, mat2, *, beta=1, alpha=1): return _ops.products.addmm(self, mat1, mat2, beta=beta, alpha=alpha)
    def addmv(self, mat, vec, *, beta=1, alpha=1): return _ops.products.addmv(self, mat, vec, beta=beta, alpha=alpha)
    def addbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return _ops.products.addbmm(self, batch1, batch2, beta=beta, alpha=alpha)
    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return _ops.products.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)
    def dist(self, other, p=2): return _ops.products.dist(self, other, p)
    def det(self): return _ops.linalg_decomp.det(self)
    def logdet(self): return _ops.linalg_decomp.logdet(self)
    def slogdet(self): return _ops.linalg_decomp.slogdet(self)
    def inverse(self): return _ops.linalg_decomp.linalg_inv(self)
    def pinverse(self, rcond=1e-15): return _ops.linalg_decomp.pinverse(self, rcond)
    def cholesky(self, upper=False): return _ops.linalg_decomp.torch_cholesky(self, upper)
    def matrix_power(self, n): return _ops.linalg_decomp.matrix_power(self, n)
    def svd(self, some=True, compute_uv=True): return _ops.linalg_decomp.svd_legacy(self, some, compute_uv)
    def aminmax(self, *, dim=None, keepdim=False): return _ops.statistics.aminmax(self, dim=dim, keepdim=keepdim)
    def nansum(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
        return _ops.statistics.nansum(self, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)
    def nanmean(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
        return _ops.statistics.nanmean(self, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)
    def cov(self, *, correction=1, fweights=None, aweights=None):
        return _ops.statistics.cov(self, correction=correction, fweights=fweights, aweights=aweights)
    def corrcoef(self): return _ops.statistics.corrcoef(self)
    def exp2(self): return _ops.elementwise.exp2(self)
    def ldexp(self, other): return _ops.elementwise.ldexp(self, other)
    def fmax(self, other): return _ops.elementwise.fmax(self, other)
    def fmin(self, other): return _ops.elementwise.fmin(self, other)
    def float_power(self, exponent): return _ops.elementwise.float_power(self, exponent)
    def sgn(self): return _ops.elementwise.sgn(self)
    def gcd(self, other): return _ops.elementwise.gcd(self, other)
    def lcm(self, other): return _ops.elementwise.lcm(self, other)

    # in-place forms of the above (glasstorch/_ops/inplace.py: result cast-checked against self's dtype)
    def asin_(self): return _ops.inplace.apply(self, _ops.elementwise.asin)
    def acos_(self): return _ops.inplace.apply(self, _ops.elementwise.acos)
    def atan_(self): return _ops.inplace.apply(self, _ops.elementwise.atan)
    def sinh_(self): return _ops.inplace.apply(self, _ops.elementwise.sinh)
    def cosh_(self): return _ops.inplace.apply(self, _ops.elementwise.cosh)
    def asinh_(self): return _ops.inplace.apply(self, _ops.elementwise.asinh)
    def acosh_(self): return _ops.inplace.apply(self, _ops.elementwise.acosh)
    def atanh_(self): return _ops.inplace.apply(self, _ops.elementwise.atanh)
    arcsin_, arccos_, arctan_, arcsinh_, arccosh_, arctanh_ = asin_, acos_, atan_, asinh_, acosh_, atanh_
    def atan2_(self, other): return _ops.inplace.apply(self, _ops.elementwise.atan2, other)
    arctan2_ = atan2_
    def hypot_(self, other): return _ops.inplace.apply(self, _ops.elementwise.hypot, other)
    def copysign_(self, other): return _ops.inplace.apply(self, _ops.elementwise.copysign, other)
    def xlogy_(self, other): return _ops.inplace.apply(self, _ops.elementwise.xlogy, other)
    def heaviside_(self, values): return _ops.inplace.apply(self, _ops.elementwise.heaviside, values)
    def frac_(self): return _ops.inplace.apply(self, _ops.elementwise.frac)
    def fix_(self): return _ops.inplace.apply(self, _ops.pointwise.trunc)
    def trunc_(self): return _ops.inplace.apply(self, _ops.pointwise.trunc)
    def deg2rad_(self): return _ops.inplace.apply(self, _ops.elementwise.deg2rad)
    def rad2deg_(self): return _ops.inplace.apply(self, _ops.elementwise.rad2deg)
    def sinc_(self): return _ops.inplace.apply(self, _ops.elementwise.sinc)
    def logit_(self, eps=None): return _ops.inplace.apply(self, _ops.elementwise.logit, eps)
    def erfc_(self): return _ops.inplace.apply(self, _ops.elementwise.erfc)
    def erfinv_(self): return _ops.inplace.apply(self, _ops.elementwise.erfinv)
    def i0_(self): return _ops.inplace.apply(self, _ops.elementwise.i0)
    def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
        return _ops.inplace.apply(self, _ops.elementwise.nan_to_num, nan, posinf, neginf)
    def cumprod_(self, dim, *, dtype=None): return _ops.inplace.apply(self, _ops.scans.cumprod, dim, dtype=dtype)
    def bitwise_and_(self, other): return _ops.inplace.apply(self, _ops.pointwise.bitwise_and, other)
    def bitwise_or_(self, other): return _ops.inplace.apply(self, _ops.pointwise.bitwise_or, other)
    def bitwise_xor_(self, other): return _ops.inplace.apply(self, _ops.pointwise.bitwise_xor, other)
    def bitwise_not_(self): return _ops.inplace.apply(self, _ops.pointwise.bitwise_not)
    def bitwise_left_shift_(self, other): return _ops.inplace.apply(self, _ops.elementwise.bitwise_left_shift, other)
    def bitwise_right_shift_(self, other): return _ops.inplace.apply(self, _ops.elementwise.bitwise_right_shift, other)
    __iand__, __ior__, __ixor__ = bitwise_and_, bitwise_or_, bitwise_xor_
    __ilshift__, __irshift__ = bitwise_left_shift_, bitwise_right_shift_
    def addmm_(self, mat1, mat2, *, beta=1, alpha=1):
        return _ops.inplace.apply(self, _ops.products.addmm, mat1, mat2, beta=beta, alpha=alpha)
    def addmv_(self, mat, vec, *, beta=1, alpha=1):
        return _ops.inplace.apply(self, _ops.products.addmv, mat, vec, beta=beta, alpha=alpha)
    def baddbmm_(self, batch1, batch2, *, beta=1, alpha=1):
        return _ops.inplace.apply(self, _ops.products.baddbmm, batch1, batch2, beta=beta, alpha=alpha)
    def addbmm_(self, batch1, batch2, *, beta=1, alpha=1):
        return _ops.inplace.apply(self, _ops.products.addbmm, batch1, batch2, beta=beta, alpha=alpha)

    # ---- more methods everyday programs call: one-sided clamps, the remaining in-place twins (all through
    # _ops/inplace.apply), predicates, flips, conjugate transposes, region scatters, strided views ----------
    def addcmul(self, tensor1, tensor2, *, value=1): return _ops.pointwise.addcmul(self, tensor1, tensor2, value=value)
    def addcdiv(self, tensor1, tensor2, *, value=1): return _ops.pointwise.addcdiv(self, tensor1, tensor2, value=value)
    def clamp_min(self, min): return _ops.pointwise.clamp_min(self, min)
    def clamp_max(self, max): return _ops.pointwise.clamp_max(self, max)
    def clamp_min_(self, min): return _ops.inplace.apply(self, _ops.pointwise.clamp_min, min)
    def clamp_max_(self, max): return _ops.inplace.apply(self, _ops.pointwise.clamp_max, max)
    def sin_(self): return _ops.inplace.apply(self, _ops.pointwise.sin)
    def cos_(self): return _ops.inplace.apply(self, _ops.pointwise.cos)
    def tan_(self): return _ops.inplace.apply(self, _ops.pointwise.tan)
    def log_(self): return _ops.inplace.apply(self, _ops.pointwise.log)
    def log2_(self): return _ops.inplace.apply(self, _ops.pointwise.log2)
    def log10_(self): return _ops.inplace.apply(self, _ops.pointwise.log10)
    def log1p_(self): return _ops.inplace.apply(self, _ops.pointwise.log1p)
    def expm1_(self): return _ops.inplace.apply(self, _ops.pointwise.expm1)
    def exp2_(self): return _ops.inplace.apply(self, _ops.elementwise.exp2)
    def ceil_(self): return _ops.inplace.apply(self, _ops.pointwise.ceil)
    def sign_(self): return _ops.inplace.apply(self, _ops.pointwise.sign)
    def sgn_(self): return _ops.inplace.apply(self, _ops.elementwise.sgn)
    def rsqrt_(self): return _ops.inplace.apply(self, _ops.pointwise.rsqrt)
    def reciprocal_(self): return _ops.inplace.apply(self, _ops.pointwise.reciprocal)
    def square_(self): return _ops.inplace.apply(self, _ops.pointwise.square)
    def erf_(self): return _ops.inplace.apply(self, _ops.pointwise.erf)
    def lgamma_(self): return _ops.inplace.apply(self, _ops.pointwise.lgamma)
    def digamma_(self): return _ops.inplace.apply(self, _ops.pointwise.digamma)
    def polygamma_(self, n): return _ops.inplace.apply(self, _polygamma_of, n)
    def igamma_(self, other): return _ops.inplace.apply(self, _ops.pointwise.igamma, other)
    def igammac_(self, other): return _ops.inplace.apply(self, _ops.pointwise.igammac, other)
    def mvlgamma(self, p): return _ops.elementwise.mvlgamma(self, p)
    def mvlgamma_(self, p): return _ops.inplace.apply(self, _ops.elementwise.mvlgamma, p)
    def negative_(self): return self.neg_()
    def absolute_(self): return self.abs_()
    def subtract_(self, other, *, alpha=1): return self.sub_(other, alpha=alpha)
    def multiply_(self, other): return self.mul_(other)
    def divide_(self, other, *, rounding_mode=None): return self.div_(other, rounding_mode=rounding_mode)
    def true_divide_(self, other): return self.div_(other)
    def eq_(self, other): return _ops.inplace.apply(self, _ops.pointwise.compared_into, other, "eq")
    def ne_(self, other): return _ops.inplace.apply(self, _ops.pointwise.compared_into, other, "ne")
    def lt_(self, other): return _ops.inplace.apply(self, _ops.pointwise.compared_into, other, "lt")
    def le_(self, other): return _ops.inplace.apply(self, _ops.pointwise.compared_into, other, "le")
    def gt_(self, other): return _ops.inplace.apply(self, _ops.pointwise.compared_into, other, "gt")
    def ge_(self, other): return _ops.inplace.apply(self, _ops.pointwise.compared_into, other, "ge")
    greater_, greater_equal_, less_, less_equal_, not_equal_ = gt_, ge_, lt_, le_, ne_
    def logical_and_(self, other): return _ops.inplace.apply(self, _ops.pointwise.logical_and, other)
    def logical_or_(self, other): return _ops.inplace.apply(self, _ops.pointwise.logical_or, other)
    def logical_xor_(self, other): return _ops.inplace.apply(self, _ops.pointwise.logical_xor, other)
    def logical_not_(self): return _ops.inplace.apply(self, _ops.pointwise.logical_not)
    def fmod_(self, other): return _ops.inplace.apply(self, _ops.pointwise.fmod, other)
    def remainder_(self, other): return _ops.inplace.apply(self, _ops.pointwise.remainder, other)
    def floor_divide_(self, other): return _ops.inplace.apply(self, _ops.pointwise.floor_divide, other)
    def float_power_(self, exponent):
        if self.dtype is not _dtype.float64 and self.dtype is not _dtype.complex128:
            raise RuntimeError(f"the base given to float_power_ has dtype {_ops._util.type_word(self._data.dtype)} "
                               "but the operation's result requires dtype Double")
        return _ops.inplace.apply(self, _ops.elementwise.float_power, exponent)
    def cumsum_(self, dim, *, dtype=None):  # (in self's dtype: an integer tensor is not widened to int64)
        return _ops.inplace.apply(self, _ops.reduction.cumsum, dim, dtype=dtype or self.dtype)
    def gcd_(self, other): return _ops.inplace.apply(self, _ops.elementwise.gcd, other)
    def lcm_(self, other): return _ops.inplace.apply(self, _ops.elementwise.lcm, other)
    def ldexp_(self, other): return _ops.inplace.apply(self, _ops.elementwise.ldexp, other)
    def nextafter(self, other): return _ops.elementwise.nextafter(self, other)
    def nextafter_(self, other): return _ops.inplace.apply(self, _ops.elementwise.nextafter, other)
    def tril_(self, diagonal=0): return _ops.inplace.apply(self, _ops.shape.tril, diagonal)
    def triu_(self, diagonal=0): return _ops.inplace.apply(self, _ops.shape.triu, diagonal)
    def conj_physical_(self): return _ops.inplace.apply(self, _ops.complex.conj)
    def frexp(self): return _ops.elementwise.frexp(self)
    def isneginf(self): return _ops.elementwise.isneginf(self)
    def isposinf(self): return _ops.elementwise.isposinf(self)
    def isreal(self): return _ops.elementwise.isreal(self)
    def hardshrink(self, lambd=0.5):
        from .nn import _activations_extra
        return _activations_extra.hardshrink(self, lambd)
    def prelu(self, weight):
        from .nn import functional
        return functional.prelu(self, weight)
    def renorm(self, p, dim, maxnorm): return _ops.reduction.renorm(self, p, dim, maxnorm)
    def renorm_(self, p, dim, maxnorm): return _ops.inplace.apply(self, _ops.reduction.renorm, p, dim, maxnorm)
    def addr(self, vec1, vec2, *, beta=1, alpha=1): return _ops.products.addr(self, vec1, vec2, beta=beta, alpha=alpha)
    def addr_(self, vec1, vec2, *, beta=1, alpha=1):
        return _ops.inplace.apply(self, _ops.products.addr, vec1, vec2, beta=beta, alpha=alpha)
    def ger(self, vec2): return _ops.linalg.outer(self, vec2)
    def adjoint(self): return _ops.shape.adjoint(self)
    @property
    def mH(self) -> "Tensor": return _ops.shape.adjoint(self, "tensor.mH")
    @property
    def H(self) -> "Tensor": return _ops.shape.conj_transpose(self)
    def ravel(self): return _ops.shape.ravel(self)
    def fliplr(self): return _ops.shape.fliplr(self)
    def flipud(self): return _ops.shape.flipud(self)
    def sum_to_size(self, *size):
        size = tuple(size[0]) if len(size) == 1 and not isinstance(size[0], builtins.int) else size
        if not _ops.shape.expandable(size, self._data.shape):
            raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(self._data.shape)}}}.")
        return _ops._util.sum_to(self, size)
    def split_with_sizes(self, split_sizes, dim=0): return _ops.shape.split(self, list(split_sizes), dim)
    unsafe_chunk, unsafe_split, unsafe_split_with_sizes = chunk, split, split_with_sizes
    def bernoulli(self, p=None, *, generator=None):
        if p is None:
            return _ops.creation.bernoulli(self, generator=generator)
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
        return _ops.creation.bernoulli_(_ops.creation.empty_like(self), p, generator)
    def multinomial(self, num_samples, replacement=False, *, generator=None):
        return _ops.creation.multinomial(self, num_samples, replacement, generator=generator)
    def diagonal_scatter(self, src, offset=0, dim1=0, dim2=1): return _ops.shape.diagonal_scatter(self, src, offset, dim1, dim2)
    def select_scatter(self, src, dim, index): return _ops.shape.select_scatter(self, src, dim, index)
    def slice_scatter(self, src, dim=0, start=None, end=None, step=1):
        return _ops.shape.slice_scatter(self, src, dim, start, end, step)
    def narrow_copy(self, dim, start, length): return _ops.shape.narrow_copy(self, dim, start, length)
    def as_strided(self, size, stride, storage_offset=None): return _ops.shape.as_strided(self, size, stride, storage_offset)
    def storage_offset(self) -> builtins.int: return _ops.shape.storage_offset(self)
    def as_strided_(self, size, stride, storage_offset=None):
        return _ops.inplace.restride_(self, _ops.shape.as_strided, size, stride, storage_offset)
    def as_strided_scatter(self, src, size, stride, storage_offset=None):
        return _ops.shape.as_strided_scatter(self, src, size, stride, storage_offset)
    def new(self, *args, **kwargs):
        """The legacy constructor, in this tensor's dtype and device: x.new(2, 3), x.new([1, 2]), x.new()."""
        from ._legacy import legacy_new
        return legacy_new(self.dtype, args, kwargs.get("device", self.device))
    def new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad=False):
        return _ops.creation.empty_strided(size, stride, dtype=dtype or self.dtype, device=device or self.device,
                                           requires_grad=requires_grad)
    def fill_diagonal_(self, fill_value, wrap=False): return _ops.inplace.fill_diagonal_(self, fill_value, wrap)
    def resize_(self, *sizes, memory_format=None): return _ops.inplace.resize_(self, *sizes)
    def resize_as_(self, the_template, *, memory_format=None): return _ops.inplace.resize_(self, the_template.shape)
    def apply_(self, callable): return _ops.inplace.apply_(self, callable)
    def map_(self, tensor, callable): return _ops.inplace.map_(self, tensor, callable)
    def share_memory_(self) -> "Tensor":
        """Mark the tensor shared between processes (NumPy memory is pickled by worker processes anyway)."""
        self.__dict__["_shared"] = True
        return self
    def is_shared(self) -> builtins.bool: return self.__dict__.get("_shared", False)
    @property
    def is_cpu(self) -> builtins.bool: return self.device.type == "cpu"
    @property
    def layout(self):
        from ._torch_functions import strided
        return strided
    @property
    def nbytes(self) -> builtins.int: return self._data.nbytes
    @property
    def output_nr(self) -> builtins.int: return self._output_nr
    def is_signed(self) -> builtins.bool: return self.dtype.is_signed
    def is_neg(self) -> builtins.bool: return False  # negation is never lazy here
    def is_same_size(self, other) -> builtins.bool: return self._data.shape == other._data.shape
    def qr(self, some=True): return _ops.linalg_decomp.qr_legacy(self, some)
    def triangular_solve(self, A, upper=True, transpose=False, unitriangular=False):
        return _ops.triangular.triangular_solve(self, A, upper, transpose, unitriangular)
    def cholesky_solve(self, input2, upper=False): return _ops.triangular.cholesky_solve(self, input2, upper)
    def cholesky_inverse(self, upper=False): return _ops.triangular.cholesky_inverse_of(self, upper)
    def unfold(self, dimension, size, step): return _ops.shape.unfold(self, dimension, size, step)
    def squeeze_(self, dim=None): return _ops.inplace.restride_(self, _ops.shape.squeeze, dim)
    def unsqueeze_(self, dim): return _ops.inplace.restride_(self, _ops.shape.unsqueeze, dim)
    def t_(self): return _ops.inplace.restride_(self, _ops.shape.t)
    def transpose_(self, dim0, dim1): return _ops.inplace.restride_(self, _ops.shape.transpose, dim0, dim1)
    swapaxes_ = swapdims_ = transpose_
    def resolve_neg(self) -> "Tensor": return self  # negation is never lazy here
    def const_data_ptr(self) -> builtins.int: return self.data_ptr()
    def dim_order(self) -> tuple:
        """The dims from outermost to innermost in memory (largest stride first; ties keep their order)."""
        st = self.stride()
        return tuple(sorted(range(self._data.ndim), key=lambda d: -st[d]))
    def is_distributed(self) -> builtins.bool: return False
    def to_dense(self, dtype=None, *, masked_grad=None): return self if dtype is None else self.to(dtype)
    def nonzero_static(self, *, size, fill_value=-1): return _ops.indexing.nonzero_static(self, size, fill_value)
    def map2_(self, x, y, callable): return _ops.inplace.map2_(self, x, y, callable)
    # layouts and backends glasstorch does not have: every tensor is dense and strided, on the CPU or CUDA
    is_sparse = is_sparse_csr = is_quantized = is_meta = is_mkldnn = is_nested = property(lambda self: False)
    is_mps = is_xpu = is_xla = is_ipu = is_mtia = is_maia = is_vulkan = property(lambda self: False)
    def is_nonzero(self) -> builtins.bool:
        if self._data.size == 0:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
        if self._data.size > 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return builtins.bool(self.item())

    # ---- dtype / device ------------------------------------------------------------------------
    def to(self, *args, **kwargs): return _ops.creation.to(self, *args, **kwargs)
    def float(self): return _ops.creation.to(self, _dtype.float32)
    def double(self): return _ops.creation.to(self, _dtype.float64)
    def half(self): return _ops.creation.to(self, _dtype.float16)
    def bfloat16(self): return _ops.creation.to(self, _dtype.bfloat16)
    def cfloat(self): return _ops.creation.to(self, _dtype.complex64)
    def cdouble(self): return _ops.creation.to(self, _dtype.complex128)
    def long(self): return _ops.creation.to(self, _dtype.int64)
    def int(self): return _ops.creation.to(self, _dtype.int32)
    def short(self): return _ops.creation.to(self, _dtype.int16)
    def byte(self): return _ops.creation.to(self, _dtype.uint8)
    def char(self): return _ops.creation.to(self, _dtype.int8)
    def bool(self): return _ops.creation.to(self, _dtype.bool)
    def cpu(self): return _ops.creation.to(self, "cpu")
    def cuda(self, device=None): return _ops.creation.to(self, "cuda" if device is None else _cuda_name(device))

    def pin_memory(self) -> "Tensor":
        """A copy in page-locked host memory, for faster copies to the GPU (here: a flagged copy)."""
        from . import backends

        if not backends.cuda_module().is_available():
            raise RuntimeError("Cannot access accelerator device when none is available.")
        if self.device is not CPU:
            raise RuntimeError(f"cannot pin '{self._type_name()}' only dense CPU tensors can be pinned")
        if self.is_pinned():
            return self
        out = _ops.creation.to(self, copy=True)
        out._pinned = True  # NumPy memory is never page-locked: the flag is all that pinning changes
        return out

    def is_pinned(self) -> builtins.bool:
        return self.__dict__.get("_pinned", False)

    def get_device(self) -> builtins.int:
        """The CUDA device index, or -1 for a CPU tensor."""
        return -1 if self.device is CPU else self.device.index
    def type_as(self, other): return _ops.creation.to(self, other.dtype)
    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return _ops.creation.zeros(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)
    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return _ops.creation.ones(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)
    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
        return _ops.creation.full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)
    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return self.new_zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)
    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
        return _ops.creation.tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    # ---- in-place ------------------------------------------------------------------------------
    def add_(self, other, *, alpha=1): return _ops.inplace.apply(self, _ops.pointwise.add, other, alpha=alpha)
    def sub_(self, other, *, alpha=1): return _ops.inplace.apply(self, _ops.pointwise.sub, other, alpha=alpha)
    def mul_(self, other): return _ops.inplace.apply(self, _ops.pointwise.mul, other)
    def div_(self, other, *, rounding_mode=None):
        return _ops.inplace.apply(self, _ops.pointwise.div, other, rounding_mode=rounding_mode)
    def pow_(self, exponent): return _ops.inplace.apply(self, _ops.pointwise.pow, exponent)
    def clamp_(self, min=None, max=None): return _ops.inplace.apply(self, _ops.pointwise.clamp, min, max)
    clip_ = clamp_
    def relu_(self): return _ops.inplace.apply(self, _ops.pointwise.relu)
    def sigmoid_(self): return _ops.inplace.apply(self, _ops.pointwise.sigmoid)
    def tanh_(self): return _ops.inplace.apply(self, _ops.pointwise.tanh)
    def exp_(self): return _ops.inplace.apply(self, _ops.pointwise.exp)
    def sqrt_(self): return _ops.inplace.apply(self, _ops.pointwise.sqrt)
    def neg_(self): return _ops.inplace.apply(self, _ops.pointwise.neg)
    def abs_(self): return _ops.inplace.apply(self, _ops.pointwise.abs)
    def floor_(self): return _ops.inplace.apply(self, _ops.pointwise.floor)
    def round_(self): return _ops.inplace.apply(self, _ops.pointwise.round)
    def masked_fill_(self, mask, value): return _ops.inplace.apply(self, _ops.indexing.masked_fill, mask, value)
    def lerp_(self, end, weight): return _ops.inplace.apply(self, _ops.pointwise.lerp, end, weight)
    def addcmul_(self, t1, t2, *, value=1): return _ops.inplace.apply(self, _ops.pointwise.addcmul, t1, t2, value=value)
    def addcdiv_(self, t1, t2, *, value=1): return _ops.inplace.apply(self, _ops.pointwise.addcdiv, t1, t2, value=value)
    def copy_(self, src, non_blocking=False): return _ops.inplace.copy_(self, src)
    def zero_(self): return _ops.inplace.zero_(self)
    def fill_(self, value): return _ops.inplace.fill_(self, value)
    def normal_(self, mean=0.0, std=1.0, *, generator=None): return _ops.creation.normal_(self, mean, std, generator)
    def uniform_(self, a=0.0, b=1.0, *, generator=None): return _ops.creation.uniform_(self, a, b, generator)
    def bernoulli_(self, p=0.5, *, generator=None): return _ops.creation.bernoulli_(self, p, generator)
    def random_(self, *args, generator=None): return _ops.creation.random_(self, *args, generator=generator)
    def exponential_(self, lambd=1.0, *, generator=None): return _ops.creation.exponential_(self, lambd, generator)
    def geometric_(self, p, *, generator=None): return _ops.creation.geometric_(self, p, generator)
    def log_normal_(self, mean=1.0, std=2.0, *, generator=None): return _ops.creation.log_normal_(self, mean, std, generator)
    def cauchy_(self, median=0.0, sigma=1.0, *, generator=None): return _ops.creation.cauchy_(self, median, sigma, generator)


_CPP_TYPE = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int",
             "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool",
             "bfloat16": "c10::BFloat16", "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def _check_grad_assignment(t: Tensor, g) -> None:
    """`t.grad = g` only for a tensor of t's shape and dtype (PyTorch's checks and messages)."""
    if not isinstance(g, Tensor):
        raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type {type(g).__name__}")
    if g._data.shape != t._data.shape:
        raise RuntimeError(f"attempting to assign a gradient of size '{list(g.shape)}' to a tensor of size "
                           f"'{list(t.shape)}'. Please ensure that the gradient and the tensor are the same size")
    if g._data.dtype != t._data.dtype:
        raise RuntimeError(
            f"attempting to assign a gradient with dtype '{_CPP_TYPE[g.dtype.name]}' to a tensor with grad_dtype "
            f"'{t._type_name().rsplit('.', 1)[1][:-len('Tensor')]}'. The gradient must match the tensor's grad_dtype (defaults to the tensor's "
            "dtype). You can set the tensor's grad_dtype attribute with a specific dtype, or None to allow any "
            "dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor and its gradient may break "
            "downstream systems that assume they match.")


_SCALAR_OF_GRAD = ("Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
                   "Consider using tensor.detach() first.")
_NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute "
    "won't be populated during autograd.backward(). If you indeed want the .grad field to be populated "
    "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor "
    "by mistake, make sure you access the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 "
    "for more informations.")


def _polygamma_of(x, n):
    """polygamma with the tensor first, as _ops.inplace.apply calls ops (x.polygamma_(n))."""
    return _ops.pointwise.polygamma(n, x)


def _cuda_name(device) -> str:
    return f"cuda:{device}" if isinstance(device, int) else str(device)


def _rebuild(array, requires_grad, device="cpu"):
    from ._ops.creation import from_numpy

    t = from_numpy(array)
    if device != "cpu":
        t = t.to(device)
    t._requires_grad = requires_grad
    return t


from . import _ops  # noqa: E402  (the ops import Tensor from this module)
