"""Reverse-mode automatic differentiation: backward(), grad(), custom Functions, gradcheck."""
from __future__ import annotations

from .. import _tensor  # (partly initialised while _tensor imports autograd.graph; used only at call time)
from . import function, functional, graph  # noqa: F401  (torch.autograd.function.once_differentiable, ...)
from .anomaly_mode import detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled, set_detect_anomaly
from .engine import run_backward
from .function import Function, FunctionCtx, once_differentiable
from .grad_mode import (
    enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad, set_grad_enabled,
)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .graph import Node, edge

__all__ = ["backward", "grad", "Function", "FunctionCtx", "gradcheck", "gradgradcheck", "GradcheckError",
           "no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "detect_anomaly",
           "set_detect_anomaly", "Variable", "once_differentiable"]


def _as_tuple(x):
    """None, one tensor (or number), or any iterable of them (a list, dict.values(), a generator)."""
    if x is None:
        return None
    if isinstance(x, (tuple, list)):
        return tuple(x)
    if isinstance(x, _tensor.Tensor) or not hasattr(x, "__iter__"):
        return (x,)
    return tuple(x)


def _root_grads(outputs, grad_outputs, create_graph: bool):
    """The gradients to start from: given ones (shape-checked) or 1 for scalar outputs."""
    if not grad_outputs:
        grad_outputs = (None,) * len(outputs)
    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None:
            g = _implicit_grad(out)
        else:
            if not hasattr(g, "_data"):
                from .._ops.creation import tensor

                g = tensor(g, dtype=out.dtype)
            if g._data.shape != out._data.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] "
                                   f"has a shape of {out.shape}.")
            if not create_graph:
                g = _tensor._make(g._data.copy(), g.device)  # the caller keeps their tensor; leaves get their own
        grads.append(g)
    return grads


def _implicit_grad(out):
    """d(out)/d(out) = 1, for the scalar output of `loss.backward()` (called once per training step,
    so built straight from the backend rather than through ones_like's argument handling). None
    for an output outside the graph, which _roots then reports, as PyTorch does."""
    if not out._requires_grad:
        return None
    d = out._data
    if d.size != 1:
        raise RuntimeError("grad can be implicitly created only for scalar outputs")
    if not out.dtype.is_floating_point:
        raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {out.dtype}")
    return _tensor._make(out.device.xp.ones(d.shape, d.dtype), out.device)


def _roots(outputs, grads=None):
    """The graph nodes of `outputs`. An output that is output 1, 2, ... of a multi-output node (an LSTM
    layer's h_n, a custom Function's second result) gets its gradient through that node's slot for it:
    `grads` is updated so that the engine, which seeds roots as output 0, sees None there."""
    nodes = []
    for i, out in enumerate(outputs):
        node = edge(out)
        if node is None:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        if grads is not None and out._output_nr and out.grad_fn is node:
            node._add_output_grad(out._output_nr, grads[i])
            grads[i] = None
        nodes.append(node)
    return nodes


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph: bool = False, inputs=None) -> None:
    """Accumulate the gradients of `tensors` into the .grad of the graph's leaves (or of `inputs`)."""
    if inputs is not None and len(_as_tuple(inputs)) == 0:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    outputs = _as_tuple(tensors)
    grads = _root_grads(outputs, _as_tuple(grad_tensors), create_graph)
    roots = _roots(outputs, grads)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is None:
        run_backward(roots, grads, retain_graph=retain_graph, create_graph=create_graph)
        return
    inputs = _as_tuple(inputs)
    capture = {edge(t): None for t in inputs}
    run_backward(roots, grads, retain_graph=retain_graph, create_graph=create_graph, capture=capture)
    for t in inputs:
        g = capture.get(edge(t))
        if g is not None:
            t._accumulate_grad(g, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False,
         only_inputs: bool = True, allow_unused=None, is_grads_batched: bool = False,
         materialize_grads: bool = False):
    """d(outputs)/d(inputs), returned instead of accumulated into .grad."""
    outputs, inputs = _as_tuple(outputs), _as_tuple(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, but got: "
                         "allow_unused=False.")
    grads = _root_grads(outputs, _as_tuple(grad_outputs), create_graph)
    roots = _roots(outputs, grads)
    for t in inputs:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    nodes = [edge(t) for t in inputs]
    capture = dict.fromkeys(nodes)
    run_backward(roots, grads, retain_graph=retain_graph, create_graph=create_graph, capture=capture)
    result = []
    for i, (t, node) in enumerate(zip(inputs, nodes)):
        g = capture[node]
        if g is None:
            if materialize_grads:
                from .._ops.creation import zeros_like

                g = zeros_like(t)
            elif not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have been used in the "
                                   "graph. Set allow_unused=True if this is the desired behavior.")
        else:
            if g._data.dtype != t._data.dtype:  # (float32 math next to a float64 0-dim tensor)
                g = g.to(t.dtype)  # a gradient has its input's dtype, as in PyTorch
            if not create_graph:
                g = g.detach()
        result.append(g)
    return tuple(result)


def Variable(data, requires_grad: bool = False):  # noqa: N802  (legacy PyTorch API)
    """Legacy alias: Variables and Tensors are the same thing."""
    return data.requires_grad_(requires_grad) if requires_grad else data
