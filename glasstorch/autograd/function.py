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

`Square.apply(x)` runs forward without recording a graph, then makes one node, `ctx`, the grad_fn
of every differentiable output (named `SquareBackward`, as in PyTorch). backward returns one
gradient per forward argument (None for non-tensors); the node's edges are its tensor arguments.
"""
from __future__ import annotations

import functools

from .grad_mode import no_grad
from .graph import Node, _GradMode, edge


class FunctionCtx(Node):
    """What forward and backward see as `ctx`: the graph node of one call of a custom Function."""

    _fn_class = None

    def __init__(self):
        self.next_functions = ()
        self._saved = ()
        self._versions = None
        self._materialize = True
        self._non_diff = ()
        self._dirty = ()
        self.needs_input_grad = ()
        self._tensor_args = ()  # positions of the tensor arguments (the node's edges, in order)
        self._arg_shapes = ()
        self._outputs = ()  # (shape, dtype, device) of each output, None for non-tensors
        self._out_hooks = None  # {output_nr: {id: hook}} for outputs 1, 2, ...

    # -- what forward calls ------------------------------------------------------------------------
    def save_for_backward(self, *tensors) -> None:
        """Keep tensors (or None) for backward; in-place changes to them are detected."""
        self._saved = tensors
        self._versions = [t._vc[0] if t is not None else 0 for t in tensors]

    def mark_non_differentiable(self, *tensors) -> None:
        """These outputs get no grad_fn; backward receives zeros for them."""
        self._non_diff = tensors

    def mark_dirty(self, *tensors) -> None:
        """These inputs were modified in place by forward (and are returned as outputs)."""
        self._dirty = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """False: backward receives None (instead of zeros) for outputs that got no gradient."""
        self._materialize = value

    # -- what the engine calls ---------------------------------------------------------------------
    def _add_output_grad(self, nr: int, g) -> None:
        slots = self._out_grads
        if slots is None:
            slots = self._out_grads = [None] * len(self._outputs)
        slots[nr] = g if slots[nr] is None else slots[nr] + g

    def backward(self, g):
        grads = self._output_grads(g)
        out = self._fn_class.backward(self, *grads)
        return self._input_grads(out if isinstance(out, tuple) else (out,))

    def _output_grads(self, g) -> list:
        """One gradient per forward output: output 0's from the engine, the others from their slots."""
        slots, self._out_grads = self._out_grads, None
        grads = [g] + (slots[1:] if slots is not None else [None] * (len(self._outputs) - 1))
        if self._out_hooks:
            for nr, hooks in self._out_hooks.items():
                for hook in list(hooks.values()):
                    if grads[nr] is not None:
                        res = hook(grads[nr])
                        grads[nr] = grads[nr] if res is None else res
        if self._materialize:
            from .._ops.creation import zeros

            grads = [zeros(m[0], dtype=m[1], device=m[2]) if gi is None and m is not None else gi
                     for gi, m in zip(grads, self._outputs)]
        return grads

    def _input_grads(self, out: tuple) -> tuple:
        """Check backward's result (one gradient per forward argument) and keep the tensors' ones."""
        n = len(self.needs_input_grad)
        if len(out) > n and all(o is None for o in out[n:]):
            out = out[:n]
        if len(out) != n:
            raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients "
                               f"(expected {n}, got {len(out)})")
        tensor_args = set(self._tensor_args)
        for i, gi in enumerate(out):
            if gi is not None and i not in tensor_args:
                raise RuntimeError(f"function {self.name()} returned a gradient different than None at "
                                   f"position {i + 1}, but the corresponding forward input was not a Variable")
        grads = tuple(out[i] for i in self._tensor_args)
        for i, gi, shape in zip(self._tensor_args, grads, self._arg_shapes):
            if gi is not None and tuple(gi.shape) != shape:
                raise RuntimeError(f"Function {self.name()} returned an invalid gradient at index {i} - got "
                                   f"{list(gi.shape)} but expected shape compatible with {list(shape)}")
        return grads

    def _output_hook_table(self, nr: int) -> dict:
        """The hooks of output `nr` (output 0's are the node's pre-hooks)."""
        if nr == 0:
            if self._pre_hooks is None:
                self._pre_hooks = {}
            return self._pre_hooks
        if self._out_hooks is None:
            self._out_hooks = {}
        return self._out_hooks.setdefault(nr, {})

    def release(self) -> None:
        self._saved = None

    def __repr__(self) -> str:
        return f"<torch.autograd.function.{self.name()} object at {hex(id(self))}>"


class _FunctionMeta(type):
    """Gives each Function subclass its node class, `<Name>Backward`."""

    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        cls._backward_cls = type(name + "Backward", (FunctionCtx,), {"_fn_class": cls})


class Function(metaclass=_FunctionMeta):
    """Base class of custom ops: implement forward(ctx, *args) and backward(ctx, *grads)."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    vjp = backward

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run forward without recording, then record one node for all its outputs."""
        from .._tensor import Tensor

        ctx = cls._backward_cls()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        with no_grad():
            if cls.setup_context is Function.setup_context:  # classic style: forward(ctx, *args)
                outputs = cls.forward(ctx, *args, **kwargs)
            else:  # PyTorch 2 style: forward(*args), then setup_context(ctx, inputs, output)
                outputs = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, outputs)
        if not (_GradMode.enabled and any(ctx.needs_input_grad)):
            return outputs
        ctx._tensor_args = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
        ctx._arg_shapes = tuple(tuple(args[i]._data.shape) for i in ctx._tensor_args)
        ctx.next_functions = tuple((edge(args[i]), 0) for i in ctx._tensor_args)
        single = not isinstance(outputs, tuple)
        outs = [_own_output(o, args, ctx) for o in ((outputs,) if single else outputs)]
        ctx._outputs = tuple((o.shape, o.dtype, o.device) if isinstance(o, Tensor) else None for o in outs)
        non_diff = {id(t) for t in ctx._non_diff}
        for nr, o in enumerate(outs):
            if isinstance(o, Tensor) and id(o) not in non_diff and o.dtype.is_floating_point:
                o.grad_fn = ctx
                o._requires_grad = True
                if nr:
                    o._output_nr = nr
        return outs[0] if single else tuple(outs)


def _own_output(o, args, ctx):
    """An output that is one of the inputs: the input itself if forward modified it in place
    (mark_dirty), otherwise a new tensor sharing its data, so the input keeps its own graph."""
    from .._tensor import Tensor, _make

    if not isinstance(o, Tensor) or not any(o is a for a in args):
        return o
    if any(o is d for d in ctx._dirty):
        if o.grad_fn is None and o._requires_grad:
            raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
        return o
    alias = _make(o._data, o.device)
    alias._vc = o._vc
    return alias


class DelayedError(Node):
    """Stands for a backward marked @once_differentiable: differentiating it again is an error."""

    def __init__(self, inputs, msg: str):
        super().__init__(inputs)
        self.msg = msg

    def backward(self, g):
        raise RuntimeError(self.msg)


def once_differentiable(fn):
    """Mark a backward as not differentiable again: it runs with gradient recording off, and a
    graph built through it (create_graph=True) raises if backpropagated."""

    @functools.wraps(fn)
    def wrapper(ctx, *grads):
        with no_grad():
            out = fn(ctx, *grads)
        if not _GradMode.enabled or not any(getattr(g, "_requires_grad", False) for g in grads):
            return out
        from .._ops._util import record

        msg = "trying to differentiate twice a function that was marked with @once_differentiable"
        tensors = [g for g in grads if getattr(g, "_requires_grad", False)]
        single = not isinstance(out, tuple)
        res = tuple(r if r is None else record(r.detach(), DelayedError(tensors, msg))
                    for r in ((out,) if single else out))
        return res[0] if single else res
    return wrapper
