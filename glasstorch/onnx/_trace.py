"""Trace a model through autograd and translate its grad_fn graph into an onnx ModelProto.

Dynamic axes. The grad_fn graph records sizes, not how they were computed, so a reshape target such as
(batch * heads, T, d) is only known as numbers. When dynamic_axes names input axes, the model is traced a
second time with those axes one (or two, three, ...: one step per symbol) longer; a size that differs
between the two traces is dynamic, and the translations take it from the input's shape at run time
(see `_symbolic.shape_tensor`). If the second trace fails or records another graph, the export keeps
the traced sizes, as before.
"""
from __future__ import annotations

import numpy as np
from onnx import helper, numpy_helper

from .. import autograd
from .._tensor import Tensor
from ..autograd.graph import AccumulateGrad, post_order
from . import OnnxExporterError, _symbolic_seq  # noqa: F401  (_symbolic_seq registers its translations)
from ._symbolic import SYMBOLIC, node_name

DEFAULT_OPSET = 17  # torch.onnx's default opset in PyTorch 2.x (and the first with LayerNormalization)


class Graph:
    """The ONNX graph under construction: nodes, initializers and fresh names.

    shapes / shapes2: grad_fn node id -> (output shape, numpy dtype) in the first and (where a second trace
    ran) the second trace; twin: first-trace node id -> the same node of the second trace; sources: (ONNX
    name, shape in trace 1, shape in trace 2) of the graph inputs, where dynamic sizes can be read."""

    def __init__(self, opset: int):
        self.opset = opset
        self.nodes: list = []
        self.initializers: list = []
        self.shapes: dict = {}
        self.shapes2: dict = {}
        self.twin: dict = {}
        self.sources: list = []
        self.shape_values: dict = {}  # value name -> the name of its Shape
        self.array_names: dict = {}  # id(array of a graph input) -> its name (for ops that kept the array)
        self.buffers: dict = {}  # the model's buffers by state_dict name
        self.buffer_names: dict = {}  # id(a buffer's array) -> its name (for ops that kept it: batch norm)
        self._named: set = set()
        self._count = 0

    def fresh(self, stem: str) -> str:
        self._count += 1
        return f"/{stem}_{self._count}_output_0"

    def op(self, op_type: str, inputs, outputs=None, n_out: int = 1, **attrs):
        """Append one ONNX node; returns its output name (a list of n_out names when n_out > 1)."""
        outputs = outputs or [self.fresh(op_type) for _ in range(n_out)]
        self._count += 1
        self.nodes.append(helper.make_node(op_type, list(inputs), list(outputs), name=f"/{op_type}_{self._count}",
                                           **attrs))
        return outputs[0] if n_out == 1 else list(outputs)

    def const(self, value, dtype=None) -> str:
        """A constant tensor as an initializer; returns its name."""
        arr = np.asarray(value, dtype=dtype)
        self._count += 1
        name = f"onnx::Constant_{self._count}"
        self.initializers.append(numpy_helper.from_array(arr, name))
        return name

    def initializer(self, name: str, array) -> str:
        """A named initializer (a parameter or buffer of the model), added once."""
        if name not in self._named:
            self._named.add(name)
            self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def out_shapes(self, node):
        """(output shape in trace 1, output shape in trace 2 or None)."""
        twin = self.twin.get(id(node))
        other = self.shapes2.get(id(twin)) if twin is not None else None
        return tuple(self.shapes[id(node)][0]), (tuple(other[0]) if other is not None else None)


def _topological(roots):
    """grad_fn nodes reachable from `roots`, inputs before users."""
    return post_order([r for r in roots if r is not None],
                      lambda node: [fn for fn, _ in node.next_functions if fn is not None])


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


# ---- nested inputs and outputs (torch.onnx flattens tuples and lists, in order) ------------------------------
def _map_tensors(obj, fn):
    """obj with every Tensor t inside (nested tuples/lists) replaced by fn(t)."""
    if isinstance(obj, Tensor):
        return fn(obj)
    if isinstance(obj, (tuple, list)):
        items = [_map_tensors(o, fn) for o in obj]
        return type(obj)(*items) if hasattr(obj, "_fields") else type(obj)(items)  # namedtuples (PackedSequence)
    return obj


def _flatten(obj) -> list:
    found = []
    _map_tensors(obj, lambda t: found.append(t) or t)
    return found


class _Trace:
    """One run of the model with every parameter and floating input recording autograd: the graph behind its
    outputs, in topological order, with every node's output shape."""

    def __init__(self, model, args, kwargs):
        from .. import enable_grad
        self.arg_tensors = []

        def prepare(a):
            a = a.detach().requires_grad_(True) if a.dtype.is_floating_point else a
            self.arg_tensors.append(a)
            return a

        traced_args = _map_tensors(args, prepare)
        with enable_grad():
            result = model(*traced_args, **kwargs)
        self.outputs = _flatten(result)
        for o in self.outputs:
            if o.grad_fn is None:
                raise RuntimeError("torch.onnx.export: every model output must be a tensor computed from the "
                                   "inputs or parameters")
        if not self.outputs:
            raise RuntimeError("torch.onnx.export: the model returned no tensor")
        self.nodes = _topological([o.grad_fn for o in self.outputs])
        leaves = [n.variable for n in self.nodes if isinstance(n, AccumulateGrad)]
        self.shapes = _probe_shapes(self.outputs, leaves or self.arg_tensors, self.nodes)


def _grown_args(args, names: list, dynamic_axes):
    """args with every dynamic input axis longer by k (k = 1, 2, ... per symbol, repeating the last slice so
    token ids stay valid), or None when no input axis is dynamic."""
    from .. import tensor
    steps, position, grown = {}, [0], [False]

    def grow(t):
        name = names[position[0]]
        position[0] += 1
        data = t.detach().cpu().numpy()
        for axis, symbol in sorted(_dynamic(dynamic_axes, name).items()):
            n = data.shape[axis]
            if n:
                k = steps.setdefault(symbol, len(steps) + 1)
                data = np.take(data, list(range(n)) + [n - 1] * k, axis=axis)
                grown[0] = True
        return tensor(data, dtype=t.dtype, device=t.device)

    new = _map_tensors(args, grow)
    return new if grown[0] else None


def _same_graph(a: _Trace, b: _Trace) -> bool:
    return len(a.nodes) == len(b.nodes) and all(node_name(x) == node_name(y) for x, y in zip(a.nodes, b.nodes))


def build_model(model, args, kwargs, input_names, output_names, dynamic_axes, opset_version, export_params):
    """Run `model(*args)` in eval mode with every parameter and floating input recording autograd (twice for
    dynamic axes), then translate the recorded graph; the model's mode and requires_grad flags are restored."""
    opset = opset_version or DEFAULT_OPSET
    if opset < DEFAULT_OPSET:  # the translations use LayerNormalization (17), Trilu (14), axes as inputs (13)
        raise ValueError(f"torch.onnx.export: glasstorch writes ONNX opset {DEFAULT_OPSET} or later, got "
                         f"opset_version={opset}")
    params = list(model.named_parameters()) if hasattr(model, "named_parameters") else []
    buffers = list(model.named_buffers()) if hasattr(model, "named_buffers") else []
    was_training = getattr(model, "training", False)
    old_flags = [p.requires_grad for _, p in params]
    n_inputs = len(_flatten(args))
    input_names = list(input_names or [])
    input_names += [f"input{'' if i == 0 else '.' + str(i)}" for i in range(len(input_names), n_inputs)]
    try:
        if hasattr(model, "train"):
            model.train(False)  # torch.onnx exports in eval mode (TrainingMode.EVAL)
        for _, p in params:
            p.requires_grad_(True)
        first = _Trace(model, args, kwargs)
        second = None
        grown = _grown_args(args, input_names, dynamic_axes)
        if grown is not None:
            try:
                second = _Trace(model, grown, kwargs)
                why = "" if _same_graph(first, second) else "it records another graph at other sizes"
            except Exception as e:  # noqa: BLE001 - the model cannot run at other sizes: keep the traced ones
                why = f"it cannot run at other sizes ({type(e).__name__}: {e})"
            if why:
                import warnings

                warnings.warn(f"torch.onnx.export: the dynamic axes could not be traced, {why}; the exported "
                              "model keeps the sizes of the example inputs", UserWarning, stacklevel=3)
                second = None
        return _translate(model, first, second, input_names, output_names, dynamic_axes, opset,
                          export_params, params, buffers)
    finally:  # the shape probe (a backward) needs the parameters still requiring grad: restore after it
        for (_, p), flag in zip(params, old_flags):
            p.requires_grad_(flag)
        if hasattr(model, "train"):
            model.train(was_training)


def _output_symbols(name: str, shape1, shape2, sources, dynamic_axes) -> dict:
    """Symbols for the dims of an output that dynamic_axes leaves out but that changed size with the inputs in
    the second trace: an input's symbol where the sizes match one, else a fresh one."""
    known = {}
    for (src, s1, s2) in sources:
        for axis, symbol in _dynamic(dynamic_axes, src).items():
            known.setdefault((s1[axis], s2[axis]), symbol)
    return {i: known.get((a, b), f"{name}_dim_{i}") for i, (a, b) in enumerate(zip(shape1, shape2)) if a != b}


def _translate(model, run: _Trace, run2, input_names, output_names, dynamic_axes, opset, export_params,
               params, buffers):
    """The onnx ModelProto of the graph recorded behind the outputs of `run`."""
    arg_tensors, outputs, nodes = run.arg_tensors, run.outputs, run.nodes
    output_names = list(output_names or [])
    output_names += [f"output{'' if i == 0 else '.' + str(i)}" for i in range(len(output_names), len(outputs))]

    g = Graph(opset)
    g.shapes = run.shapes
    if run2 is not None:
        g.shapes2 = run2.shapes
        g.twin = {id(a): b for a, b in zip(nodes, run2.nodes)}
        g.sources = [(n, tuple(a.shape), tuple(b.shape)) for n, a, b in zip(input_names, arg_tensors, run2.arg_tensors)]
    # Name the leaves: graph inputs, then state_dict names, then anonymous constants.
    leaf_names = {id(t): n for t, n in zip(arg_tensors, input_names)}
    g.array_names = {id(t._data): n for t, n in zip(arg_tensors, input_names)}
    state_names = {id(p): n for n, p in params + buffers}
    g.buffer_names = {id(b._data): n for n, b in buffers}
    g.buffers = dict(buffers)
    param_inputs = []
    for node in nodes:
        if isinstance(node, AccumulateGrad):
            t = node.variable
            if id(t) not in leaf_names:
                value = t.detach().cpu().numpy()
                name = state_names.get(id(t))
                if name is None:  # a tensor requiring grad from outside the model: a constant
                    name = g.const(value)
                elif export_params:
                    g.initializer(name, value)
                else:  # export_params=False: parameters become graph inputs
                    param_inputs.append(_value_info(name, value.shape, value.dtype, {}))
                leaf_names[id(t)] = name

    values = {}  # (id(grad_fn node), output number) -> ONNX name of that output
    for node in nodes:
        if isinstance(node, AccumulateGrad):
            values[id(node), 0] = leaf_names[id(node.variable)]
            continue
        translate = SYMBOLIC.get(node_name(node))
        if translate is None:
            raise OnnxExporterError(f"Exporting the operator '{node_name(node)}' to ONNX is not supported by "
                                    "glasstorch")
        ins = [values[id(fn), nr] if fn is not None else None for fn, nr in node.next_functions]
        out = translate(g, node, ins, g.array_names)
        for nr, name in enumerate([out] if isinstance(out, str) else out):
            values[id(node), nr] = name

    consumed = {name for n in g.nodes if n.op_type != "Shape" for name in n.input}  # its values, not its size
    for t, name in zip(arg_tensors, input_names):
        if not t.dtype.is_floating_point and name not in consumed:
            # An integer input reaches the graph only through ops that keep its array (embedding); one
            # transformed first (tokens + 1) records no graph, and exporting would bake in today's values.
            raise OnnxExporterError(f"torch.onnx.export: glasstorch could not trace the integer input '{name}' "
                               "into the graph (only its direct use, e.g. by an embedding, is traced)")
    graph_outputs = []
    for k, (o, name) in enumerate(zip(outputs, output_names)):
        g.op("Identity", [values[id(o.grad_fn), o._output_nr]], [name])
        dims = _dynamic(dynamic_axes, name)
        if not dims and run2 is not None:
            dims = _output_symbols(name, tuple(o.shape), tuple(run2.outputs[k].shape), g.sources, dynamic_axes)
        graph_outputs.append(_value_info(name, o.shape, o._data.dtype, dims))
    graph_inputs = [_value_info(n, t.shape, t._data.dtype, _dynamic(dynamic_axes, n))
                    for t, n in zip(arg_tensors, input_names)]
    graph = helper.make_graph(g.nodes, getattr(model, "__class__", type(model)).__name__,
                              graph_inputs + param_inputs, graph_outputs, g.initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="glasstorch")
    proto.ir_version = min(proto.ir_version, 9)  # readable by onnxruntime releases of the last years
    return proto
