"""torch.autograd.functional: derivatives of a whole function, built from autograd.grad.

`func` takes tensors and returns a tensor or a tuple of tensors. Results follow the structure of
`inputs` and of `func`'s outputs: a tensor for a tensor, a tuple for a tuple. Every result is
detached unless `create_graph=True` (then it can be differentiated again).
"""
from __future__ import annotations

from .grad_mode import enable_grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _as_tuple(x) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _prepare(inputs, create_graph: bool):
    """(was a tuple, inputs that require grad): fresh leaves, or views keeping the graph."""
    xs = _as_tuple(inputs)
    xs = tuple(x.view_as(x) if create_graph and x.requires_grad else x.detach().requires_grad_(True) for x in xs)
    return isinstance(inputs, (tuple, list)), xs


def _finish(tensors, was_tuple: bool, create_graph: bool):
    out = tuple(t if create_graph or t is None else t.detach() for t in tensors)
    return out if was_tuple else out[0]


def _grads(outputs, xs, grad_outputs, create_graph: bool, retain_graph: bool = True) -> tuple:
    """d(outputs)/d(xs) contracted with grad_outputs; zeros where a part does not depend on xs."""
    from . import grad
    from .._ops.creation import zeros_like

    pairs = [(o, v) for o, v in zip(outputs, grad_outputs) if o.requires_grad]
    if not pairs:
        return tuple(zeros_like(x) for x in xs)
    gs = grad([o for o, _ in pairs], xs, [v for _, v in pairs], retain_graph=retain_graph,
              create_graph=create_graph, allow_unused=True)
    return tuple(zeros_like(x) if g is None else g for g, x in zip(gs, xs))


def _call(func, xs):
    with enable_grad():
        out = func(*xs)
    return isinstance(out, tuple), _as_tuple(out)


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T J): the vector-Jacobian product (v may be None for a scalar output)."""
    was_tuple, xs = _prepare(inputs, create_graph)
    out_tuple, outs = _call(func, xs)
    vs = _as_tuple(v) if v is not None else (None,) * len(outs)
    with enable_grad():
        gs = _grads(outs, xs, vs, create_graph)
    return _finish(outs, out_tuple, create_graph), _finish(gs, was_tuple, create_graph)


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), J v): the Jacobian-vector product, by differentiating a vjp (double backward)."""
    from .._ops.creation import ones_like, zeros_like

    was_tuple, xs = _prepare(inputs, create_graph)
    out_tuple, outs = _call(func, xs)
    vs = _as_tuple(v) if v is not None else tuple(ones_like(x) for x in xs)
    with enable_grad():
        us = tuple(zeros_like(o).requires_grad_(True) for o in outs)  # u -> J^T u is linear in u
        gs = _grads(outs, xs, us, create_graph=True)
        jv = _grads(gs, us, vs, create_graph)
    return _finish(outs, out_tuple, create_graph), _finish(jv, out_tuple, create_graph)


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode"):
    """J[i][j] = d outputs[i] / d inputs[j], of shape outputs[i].shape + inputs[j].shape."""
    from .._ops.creation import zeros, zeros_like
    from .._ops.shape import reshape, stack

    was_tuple, xs = _prepare(inputs, create_graph)
    out_tuple, outs = _call(func, xs)
    result = []
    with enable_grad():
        for o in outs:
            rows = []
            for r in range(o.numel()):
                onehot = zeros_like(o)
                onehot._data.reshape(-1)[r] = 1
                rows.append(_grads((o,), xs, (onehot,), create_graph))
            per_input = []
            for j, x in enumerate(xs):
                col = stack([row[j].reshape(-1) for row in rows]) if rows else zeros((0, x.numel()), dtype=x.dtype)
                per_input.append(reshape(col, tuple(o.shape) + tuple(x.shape)))
            result.append(_finish(per_input, was_tuple, create_graph))
    return tuple(result) if out_tuple else result[0]


def hessian(func, inputs, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode"):
    """The Jacobian of the gradient of a scalar function: shape inputs[i].shape + inputs[j].shape."""
    from . import grad

    was_tuple = isinstance(inputs, (tuple, list))

    def gradient(*xs):
        out = func(*xs)
        gs = grad(out, xs, create_graph=True, allow_unused=True)
        return tuple(g if g is not None else x * 0 for g, x in zip(gs, xs))

    h = jacobian(gradient, tuple(_as_tuple(inputs)), create_graph=create_graph)
    return h if was_tuple else h[0][0]


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T H) for a scalar function."""
    was_tuple, xs = _prepare(inputs, create_graph)
    _, outs = _call(func, xs)
    with enable_grad():
        gs = _grads(outs, xs, (None,), create_graph=True)
        hv = _grads(gs, xs, _as_tuple(v), create_graph)
    return _finish(outs, False, create_graph), _finish(hv, was_tuple, create_graph)


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), H v) for a scalar function (H is symmetric, so this is vhp)."""
    return vhp(func, inputs, v, create_graph, strict)
