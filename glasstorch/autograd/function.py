"""Custom differentiable operations: subclass Function with static forward and backward.

    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

The `ctx` is the graph node itself, as in PyTorch.
"""
from __future__ import annotations

import functools

from .graph import Node, _GradMode
from .grad_mode import no_grad


class FunctionCtx(Node):
    """What forward and backward see as `ctx`."""

    _fn_class = None

    def __init__(self):
        self.next_functions = ()
        self._saved = ()
        self._versions = None
        self._pre_hooks = None
        self._post_hooks = None
        self._materialize = True
        self._non_diff = ()

    def save_for_backward(self, *tensors) -> None:
        self._saved = tensors
        self._versions = [t._vc[0] if t is not None else 0 for t in tensors]

    @property
    def saved_tensors(self):
        if self._saved is None:
            from .graph import _FREED

            raise RuntimeError(_FREED)
        for t, v in zip(self._saved, self._versions or ()):
            if t is not None and t._vc[0] != v:
                from .graph import _raise_modified

                _raise_modified(self, t, v)
        return self._saved

    def mark_non_differentiable(self, *tensors) -> None:
        self._non_diff = tensors

    def mark_dirty(self, *tensors) -> None:
        pass

    def set_materialize_grads(self, value: bool) -> None:
        self._materialize = value

    def backward(self, g):
        grads = g if isinstance(g, _GradTuple) else (g,)
        if self._materialize:
            from .._ops.creation import zeros_like

            grads = tuple(zeros_like(o) if gi is None else gi for gi, o in zip(grads, self._outputs_like))
        out = self._fn_class.backward(self, *grads)
        if not isinstance(out, tuple):
            out = (out,)
        n = len(self.next_functions)
        if len(out) != n:
            raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients (expected {n}, got {len(out)})")
        return out

    def release(self) -> None:
        self._saved = None

    def __repr__(self) -> str:
        return f"<torch.autograd.function.{self.name()} object at {hex(id(self))}>"


class _GradTuple(tuple):
    """Gradients of several outputs of one Function, summed slot by slot by the engine."""

    def __add__(self, other):
        return _GradTuple(a if b is None else b if a is None else a + b for a, b in zip(self, other))


class _OutputNode(Node):
    """Routes the gradient of output `i` of a multi-output Function into its shared node."""

    def __init__(self, fn_node, i, n):
        self.next_functions = ((fn_node, 0),)
        self._saved = ()
        self._versions = None
        self._pre_hooks = None
        self._post_hooks = None
        self.i, self.n = i, n

    def name(self) -> str:
        return self.next_functions[0][0].name()

    def backward(self, g):
        slots = [None] * self.n
        slots[self.i] = g
        return (_GradTuple(slots),)


class _FunctionMeta(type):
    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        cls._backward_cls = type(name + "Backward", (FunctionCtx,), {"_fn_class": cls})


class Function(metaclass=_FunctionMeta):
    """Base class of custom ops: implement forward(ctx, *args) and backward(ctx, *grads)."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        from .._tensor import Tensor, _make
        from .graph import edge

        ctx = cls._backward_cls()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        with no_grad():
            outputs = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        track = _GradMode.enabled and any(ctx.needs_input_grad)
        if not track:
            return outputs
        ctx.next_functions = tuple((edge(a) if isinstance(a, Tensor) else None, 0) for a in args)
        ids = {id(a) for a in args}
        fixed = []
        for o in outs:
            if isinstance(o, Tensor) and id(o) in ids:  # an input returned as-is: give it its own identity
                alias = _make(o._data, o.device)
                alias._vc = o._vc
                o = alias
            fixed.append(o)
        tensors = [o for o in fixed if isinstance(o, Tensor)]
        ctx._outputs_like = tensors
        non_diff = {id(t) for t in ctx._non_diff}
        for i, o in enumerate(tensors):
            if id(o) in non_diff or not o.dtype.is_floating_point:
                continue
            o.grad_fn = ctx if len(tensors) == 1 else _OutputNode(ctx, i, len(tensors))
            o._requires_grad = True
        return fixed[0] if single else tuple(fixed)


def once_differentiable(fn):
    """Mark a backward as not differentiable again: it runs with gradient recording off."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            return fn(ctx, *args)
    return wrapper
