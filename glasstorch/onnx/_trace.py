"""Trace a model through autograd and translate its grad_fn graph into an onnx ModelProto."""
from __future__ import annotations

import numpy as np
from onnx import helper, numpy_helper

from .. import autograd
from .._tensor import Tensor
from ..autograd.graph import AccumulateGrad
from ._symbolic import SYMBOLIC, node_name

DEFAULT_OPSET = 17  # torch.onnx's default opset in PyTorch 2.x (and the first with LayerNormalization)


class Graph:
    """The ONNX graph under construction: nodes, initializers and fresh names."""

    def __init__(self, opset: int):
        self.opset = opset
        self.nodes: list = []
        self.initializers: list = []
        self.shapes: dict = {}  # grad_fn node id -> (output shape, numpy dtype), from a shape-probing backward
        self._count = 0

    def fresh(self, stem: str) -> str:
        self._count += 1
        return f"/{stem}_{self._count}_output_0"

    def op(self, op_type: str, inputs, outputs=None, **attrs) -> str:
        """Append one ONNX node; returns its (first) output name."""
        outputs = outputs or [self.fresh(op_type)]
        self._count += 1
        self.nodes.append(helper.make_node(op_type, list(inputs), list(outputs), name=f"/{op_type}_{self._count}",
                                           **attrs))
        return outputs[0]

    def const(self, value, dtype=None) -> str:
        """A constant tensor as an initializer; returns its name."""
        arr = np.asarray(value, dtype=dtype)
        self._count += 1
        name = f"onnx::Constant_{self._count}"
        self.initializers.append(numpy_helper.from_array(arr, name))
        return name


def _topological(roots):
    """grad_fn nodes reachable from `roots`, inputs before users (iterative depth-first post-order)."""
    order, done, stack = [], set(), [(r, False) for r in roots if r is not None]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in done:
            continue
        done.add(id(node))
        stack.append((node, True))
        for fn, _ in node.next_functions:
            if fn is not None and id(fn) not in done:
                stack.append((fn, False))
    return order


def _probe_shapes(outputs, leaves, nodes) -> dict:
    """Output shape and dtype of every node: a pre-hook sees the gradient, which has the output's shape."""
    shapes, handles = {}, []
    for node in nodes:
        if not isinstance(node, AccumulateGrad):
            def hook(g, key=id(node)):
                shapes.setdefault(key, (tuple(g.shape), g._data.dtype))
            handles.append(node.register_prehook(hook))
    try:
        from .. import ones_like
        autograd.grad(outputs, leaves, grad_outputs=[ones_like(o) for o in outputs], allow_unused=True,
                      retain_graph=True)
    finally:
        for h in handles:
            h.remove()
    return shapes


def _value_info(name: str, shape, np_dtype, dyn: dict):
    dims = [dyn.get(i, d) for i, d in enumerate(shape)]
    return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(np.dtype(np_dtype)), dims)


def _dynamic(dynamic_axes, name: str) -> dict:
    """{axis: size or symbol} for one input/output name."""
    axes = (dynamic_axes or {}).get(name)
    if axes is None:
        return {}
    if isinstance(axes, dict):
        return {int(a): str(s) for a, s in axes.items()}
    return {int(a): f"{name}_dynamic_axes_{k + 1}" for k, a in enumerate(axes)}


def build_model(model, args, kwargs, input_names, output_names, dynamic_axes, opset_version, export_params):
    """Run `model(*args)` once in eval mode with every parameter and floating input recording autograd,
    then translate the recorded graph; the model's mode and requires_grad flags are restored after."""
    from .. import enable_grad
    opset = opset_version or DEFAULT_OPSET
    params = list(model.named_parameters()) if hasattr(model, "named_parameters") else []
    buffers = list(model.named_buffers()) if hasattr(model, "named_buffers") else []
    was_training = getattr(model, "training", False)
    old_flags = [p.requires_grad for _, p in params]
    # Inputs: floating ones get a grad-recording copy so every op on them lands in the graph.
    traced_args, arg_tensors = [], []
    for a in args:
        if isinstance(a, Tensor):
            a = a.detach().requires_grad_(True) if a.dtype.is_floating_point else a
            arg_tensors.append(a)
        traced_args.append(a)
    input_names = list(input_names or [])
    input_names += [f"input{'' if i == 0 else '.' + str(i)}" for i in range(len(input_names), len(arg_tensors))]
    try:
        if hasattr(model, "train"):
            model.train(False)  # torch.onnx exports in eval mode (TrainingMode.EVAL)
        for _, p in params:
            p.requires_grad_(True)
        with enable_grad():
            result = model(*traced_args, **kwargs)
        return _translate(model, result, arg_tensors, input_names, output_names, dynamic_axes, opset,
                          export_params, params, buffers)
    finally:  # the shape probe (a backward) needs the parameters still requiring grad: restore after it
        for (_, p), flag in zip(params, old_flags):
            p.requires_grad_(flag)
        if hasattr(model, "train"):
            model.train(was_training)


def _translate(model, result, arg_tensors, input_names, output_names, dynamic_axes, opset, export_params,
               params, buffers):
    """The onnx ModelProto of the graph recorded behind `result`."""
    outputs = list(result) if isinstance(result, (tuple, list)) else [result]
    for o in outputs:
        if not isinstance(o, Tensor) or o.grad_fn is None:
            raise RuntimeError("torch.onnx.export: every model output must be a tensor computed from the "
                               "inputs or parameters")
    output_names = list(output_names or [])
    output_names += [f"output{'' if i == 0 else '.' + str(i)}" for i in range(len(output_names), len(outputs))]

    nodes = _topological([o.grad_fn for o in outputs])
    g = Graph(opset)
    # Name the leaves: graph inputs, then state_dict names, then anonymous constants.
    leaf_names = {id(t): n for t, n in zip(arg_tensors, input_names)}
    array_names = {id(t._data): n for t, n in zip(arg_tensors, input_names)}  # for ops that kept the array
    state_names = {id(p): n for n, p in params + buffers}
    used_leaves, param_inputs = [], []
    for node in nodes:
        if isinstance(node, AccumulateGrad):
            t = node.variable
            if id(t) not in leaf_names:
                value = t.detach().cpu().numpy()
                name = state_names.get(id(t))
                if name is None:  # a tensor requiring grad from outside the model: a constant
                    name = g.const(value)
                elif export_params:
                    g.initializers.append(numpy_helper.from_array(value, name))
                else:  # export_params=False: parameters become graph inputs
                    param_inputs.append(_value_info(name, value.shape, value.dtype, {}))
                leaf_names[id(t)] = name
            used_leaves.append(t)
    g.shapes = _probe_shapes(outputs, used_leaves or arg_tensors, nodes)

    values = {}  # id(grad_fn node) -> ONNX name of its output
    for node in nodes:
        if isinstance(node, AccumulateGrad):
            values[id(node)] = leaf_names[id(node.variable)]
            continue
        translate = SYMBOLIC.get(node_name(node))
        if translate is None:
            raise RuntimeError(f"Exporting the operator '{node_name(node)}' to ONNX is not supported by glasstorch")
        ins = [values[id(fn)] if fn is not None else None for fn, _ in node.next_functions]
        values[id(node)] = translate(g, node, ins, array_names)

    consumed = {name for n in g.nodes for name in n.input}
    for t, name in zip(arg_tensors, input_names):
        if not t.dtype.is_floating_point and name not in consumed:
            # An integer input reaches the graph only through ops that keep its array (embedding); one
            # transformed first (tokens + 1) records no graph, and exporting would bake in today's values.
            raise RuntimeError(f"torch.onnx.export: glasstorch could not trace the integer input '{name}' "
                               "into the graph (only its direct use, e.g. by an embedding, is traced)")
    graph_outputs = []
    for o, name in zip(outputs, output_names):
        g.op("Identity", [values[id(o.grad_fn)]], [name])
        graph_outputs.append(_value_info(name, o.shape, o._data.dtype, _dynamic(dynamic_axes, name)))
    graph_inputs = [_value_info(n, t.shape, t._data.dtype, _dynamic(dynamic_axes, n))
                    for t, n in zip(arg_tensors, input_names)]
    graph = helper.make_graph(g.nodes, getattr(model, "__class__", type(model)).__name__,
                              graph_inputs + param_inputs, graph_outputs, g.initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="glasstorch")
    proto.ir_version = min(proto.ir_version, 9)  # readable by onnxruntime releases of the last years
    return proto
