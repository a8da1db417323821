"""One translation per grad_fn name: (graph, node, input value names, array names) -> output value name
(a list of names, one per output, for a node with several outputs: the recurrent layers).

Each reads the attributes the op saved on its Node (dims, strides, eps, masks, ...); `ins[i]` is the ONNX
name of the node's i-th input, or None where that input recorded no graph (a plain number or constant).
Sizes: where a second trace ran (dynamic axes, see _trace.py), a size that differs between the traces is
read at run time from a tensor whose dim had the same two sizes (`_dim_source`)."""
from __future__ import annotations

import math

import numpy as np

from . import OnnxExporterError

SYMBOLIC: dict = {}


def node_name(node) -> str:
    """PyTorch's grad_fn name (some glasstorch nodes report it through name())."""
    name = getattr(node, "name", None)
    return name() if callable(name) else type(node).__name__


def register(*names):
    def deco(fn):
        for n in names:
            SYMBOLIC[n] = fn
        return fn
    return deco


def _out_shape(g, node):
    return g.shapes[id(node)][0]


def _out_dtype(g, node):
    return g.shapes[id(node)][1]


def _need(node, ins, i):
    if ins[i] is None:
        raise OnnxExporterError(f"Exporting '{node_name(node)}' to ONNX: its input {i} is a tensor that does not "
                                "require grad and is not a graph input; glasstorch cannot trace it")
    return ins[i]


# ---- pointwise -------------------------------------------------------------------------------------------
_UNARY = {"ReluBackward0": "Relu", "TanhBackward0": "Tanh", "SigmoidBackward0": "Sigmoid", "ExpBackward0": "Exp",
          "LogBackward0": "Log", "NegBackward0": "Neg", "SqrtBackward0": "Sqrt", "AbsBackward0": "Abs",
          "SinBackward0": "Sin", "CosBackward0": "Cos", "ErfBackward0": "Erf", "CloneBackward0": "Identity",
          "ReciprocalBackward0": "Reciprocal"}


def _unary(g, node, ins, _arrays):
    return g.op(_UNARY[node_name(node)], [_need(node, ins, 0)])


for _name in _UNARY:
    SYMBOLIC[_name] = _unary


# ---- constants the nodes kept (masks, indices, numbers) ----------------------------------------------------
def host(value, dtype=None) -> np.ndarray:
    """A number, backend array or tensor as a NumPy array."""
    data = getattr(value, "_data", value)
    return np.asarray(data.get() if hasattr(data, "get") else data, dtype=dtype)


def saved_const(g, node, get, dtype=None) -> str:
    """A constant kept by a node (get(node): a mask, an index, a number, a tensor recording no graph).

    Where a second trace ran and the constant grew with a dynamic axis, two patterns are rebuilt from the
    run-time sizes: arange(n) (positions for an embedding) and a triangular mask (causal attention), so a
    causal model keeps a dynamic sequence axis. Anything else stays the traced constant."""
    v1 = host(get(node), dtype)
    twin = g.twin.get(id(node))
    if twin is not None and v1.ndim:
        v2 = host(get(twin), dtype)
        if v2.shape != v1.shape:
            built = _buffer_prefix(g, get(node), v1, v2)
            if built is None:
                built = _arange(g, v1, v2) if v1.ndim == 1 else _triangle(g, v1, v2)
            if built is None:
                built = _filled(g, v1, v2)
            if built is not None:
                return built
    return g.const(v1)


def _dims_vector(g, shape1, shape2):
    """A 1-D int64 ONNX value holding a shape whose differing sizes are read from the graph inputs (None if one
    cannot be found)."""
    dims = []
    for a, b in zip(shape1, shape2):
        d = g.const([a], np.int64) if a == b else _dim_scalar(g, a, b)
        if d is None:
            return None
        dims.append(d if a == b else g.op("Unsqueeze", [d, g.const([0], np.int64)]))
    return g.op("Concat", dims, axis=0)


def _filled(g, v1, v2):
    """A constant of one value everywhere (zeros((L, B, H)) made inside forward): ConstantOfShape."""
    if v1.size == 0 or v2.size == 0 or not ((v1 == v1.flat[0]).all() and (v2 == v1.flat[0]).all()) \
            or v1.ndim != v2.ndim:
        return None
    shape = _dims_vector(g, v1.shape, v2.shape)
    if shape is None:
        return None
    from onnx import numpy_helper
    return g.op("ConstantOfShape", [shape], value=numpy_helper.from_array(v1.reshape(-1)[:1].copy(), "value"))


def _buffer_prefix(g, t, v1, v2):
    """A constant that is buffer[:n] along one axis in both traces (positional encodings: pe[:T]): a Slice of
    the buffer's initializer up to the run-time size."""
    base = getattr(t, "_base", None)
    for name, buf in g.buffers.items():  # the buffer t views (views of a view share the first one's base)
        if base is None or not (buf is base or getattr(buf, "_base", None) is base) or buf.dim() != v1.ndim:
            continue
        full = host(buf, v1.dtype)
        axes = [a for a in range(v1.ndim) if not v1.shape[a] == v2.shape[a] == full.shape[a]]
        if len(axes) != 1 or any(not np.array_equal(v, np.take(full, np.arange(v.shape[axes[0]]), axes[0]))
                                 for v in (v1, v2)):
            continue
        n = _dim_scalar(g, v1.shape[axes[0]], v2.shape[axes[0]])
        if n is None:
            return None
        init = g.initializer(name, host(buf))
        if host(buf).dtype != v1.dtype:
            init = g.op("Cast", [init], to=helper_type(v1.dtype))
        ends = g.op("Unsqueeze", [n, g.const([0], np.int64)])
        return g.op("Slice", [init, g.const([0], np.int64), ends, g.const(axes, np.int64)])
    return None


def _dim_scalar(g, n1: int, n2: int):
    """A 0-d int64 ONNX value: the size of a graph input's dim that is n1 in trace 1 and n2 in trace 2."""
    src = _dim_source(g, None, (), (), n1, n2)
    return None if src is None else g.op("Gather", [_shape_of(g, src[0]), g.const(src[1], np.int64)], axis=0)


def _arange(g, v1, v2):
    if not (np.array_equal(v1, np.arange(v1.size)) and np.array_equal(v2, np.arange(v2.size))):
        return None
    n = _dim_scalar(g, v1.size, v2.size)
    if n is None:
        return None
    out = g.op("Range", [g.const(0, np.int64), n, g.const(1, np.int64)])
    return out if v1.dtype == np.int64 else g.op("Cast", [out], to=helper_type(v1.dtype))


def _two_values(v, inside):
    """(value inside, value outside) if v is constant on each side of the boolean pattern, else None."""
    a, b = v[inside], v[~inside]
    if a.size == 0 or b.size == 0 or not ((a == a.flat[0]).all() and (b == b.flat[0]).all()):
        return None
    return a.flat[0], b.flat[0]


def _triangle(g, v1, v2):
    """v (1, ..., 1, n, m) that is one value on and below (tril) or above (triu, k=1) the diagonal and another
    elsewhere: rebuilt with Trilu over ones of the run-time shape."""
    lead = v1.ndim - 2
    if any(d != 1 for d in v1.shape[:lead] + v2.shape[:lead]):
        return None
    m1, m2 = v1.reshape(v1.shape[lead:]), v2.reshape(v2.shape[lead:])
    for upper, k in ((False, 0), (True, 1)):
        tri = np.triu if upper else np.tril
        vals = [_two_values(m, tri(np.ones(m.shape, bool), k)) for m in (m1, m2)]
        if vals[0] is None or vals[0] != vals[1]:
            continue
        shape = _dims_vector(g, m1.shape, m2.shape)
        if shape is None:
            return None
        from onnx import TensorProto, helper
        ones = g.op("ConstantOfShape", [shape], value=helper.make_tensor("value", TensorProto.FLOAT, [1], [1.0]))
        inside = g.op("Cast", [g.op("Trilu", [ones, g.const(k, np.int64)], upper=int(upper))], to=TensorProto.BOOL)
        if v1.dtype == bool:  # (onnxruntime has no boolean Where)
            out = inside if vals[0][0] else g.op("Not", [inside])
        else:
            out = g.op("Where", [inside, g.const(vals[0][0], v1.dtype), g.const(vals[0][1], v1.dtype)])
        return g.op("Unsqueeze", [out, g.const(list(range(lead)), np.int64)]) if lead else out
    return None


def helper_type(np_dtype) -> int:
    from onnx import helper

    return helper.np_dtype_to_tensor_dtype(np.dtype(np_dtype))


_BINARY = {"AddBackward0": "Add", "SubBackward0": "Sub", "MulBackward0": "Mul", "DivBackward0": "Div"}


def _binary_op(g, node, ins, op: str) -> str:
    """a op b; an operand that records no graph is a constant: a Python number (b_scalar) or a constant
    tensor the node kept (a_const / b_const)."""
    a, b = ins[0], ins[1]
    dt = _out_dtype(g, node)
    if a is None and getattr(node, "a_const", None) is not None:
        a = saved_const(g, node, lambda n: n.a_const, dt)
    if b is None and getattr(node, "b_scalar", None) is not None:
        b = g.const(node.b_scalar, dt)
    elif b is None and getattr(node, "b_const", None) is not None:
        b = saved_const(g, node, lambda n: n.b_const, dt)
    return g.op(op, [_need(node, [a, b], 0), _need(node, [a, b], 1)])


@register(*_BINARY)
def _binary(g, node, ins, _arrays):
    return _binary_op(g, node, ins, _BINARY[node_name(node)])


@register("RsubBackward1")
def _rsub(g, node, ins, _arrays):  # other - x for a Python number other
    return g.op("Sub", [g.const(node.other, _out_dtype(g, node)), _need(node, ins, 0)])


@register("RsqrtBackward0")
def _rsqrt(g, node, ins, _arrays):
    return g.op("Reciprocal", [g.op("Sqrt", [_need(node, ins, 0)])])


@register("PowBackward0", "PowBackward1", "PowBackward2")
def _pow(g, node, ins, _arrays):
    """x ** c, x ** y, c ** x."""
    dt = _out_dtype(g, node)
    name = node_name(node)
    if name == "PowBackward0":
        return g.op("Pow", [_need(node, ins, 0), g.const(node.c, dt)])
    if name == "PowBackward2":
        return g.op("Pow", [g.const(node.c, dt), _need(node, ins, 0)])
    return _binary_op(g, node, ins, "Pow")


@register("GeluBackward0")
def _gelu(g, node, ins, _arrays):
    x, dt = _need(node, ins, 0), _out_dtype(g, node)
    if node.params[0] == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = g.op("Mul", [g.op("Mul", [x, x]), x])
        inner = g.op("Mul", [g.op("Add", [x, g.op("Mul", [cube, g.const(0.044715, dt)])]),
                             g.const(math.sqrt(2 / math.pi), dt)])
        cdf = g.op("Add", [g.op("Tanh", [inner]), g.const(1.0, dt)])
    else:  # 0.5 x (1 + erf(x / sqrt 2))
        cdf = g.op("Add", [g.op("Erf", [g.op("Div", [x, g.const(math.sqrt(2.0), dt)])]), g.const(1.0, dt)])
    return g.op("Mul", [g.op("Mul", [x, cdf]), g.const(0.5, dt)])


# ---- reductions, softmax ----------------------------------------------------------------------------------
@register("SoftmaxBackward0", "LogSoftmaxBackward0")
def _softmax(g, node, ins, _arrays):
    op = "Softmax" if node_name(node) == "SoftmaxBackward0" else "LogSoftmax"
    return g.op(op, [_need(node, ins, 0)], axis=int(node.dim))


def _axes_attr_or_input(g, op: str, x: str, axes: list, keep: int) -> str:
    """A Reduce* node: its axes an attribute before opset 18, an input from 18 on (ReduceSum's from 13)."""
    if g.opset >= 18 or op == "ReduceSum":
        return g.op(op, [x, g.const(axes, np.int64)], keepdims=keep)
    return g.op(op, [x], axes=axes, keepdims=keep)


def _reduce_axes(node) -> list:
    dims = getattr(node, "dims", None)
    if dims is None and hasattr(node, "dim"):
        dims = (node.dim,)
    return list(range(len(node.in_shape))) if not dims else [int(d) for d in dims]


@register("SumBackward0", "SumBackward1", "MeanBackward0", "MeanBackward1")
def _reduce(g, node, ins, _arrays):
    op = "ReduceSum" if node_name(node).startswith("Sum") else "ReduceMean"
    return _axes_attr_or_input(g, op, _need(node, ins, 0), _reduce_axes(node), int(bool(node.keepdim)))


@register("AmaxBackward0", "AminBackward0", "MaxBackward0", "MinBackward0", "MaxBackward1", "MinBackward1")
def _reduce_extreme(g, node, ins, _arrays):
    """amax / amin, max / min over all elements, or the values (output 0) of max(dim) / min(dim)."""
    op = "ReduceMax" if node_name(node).startswith(("Max", "Amax")) else "ReduceMin"
    return _axes_attr_or_input(g, op, _need(node, ins, 0), _reduce_axes(node), int(bool(node.keepdim)))


@register("VarBackward0")
def _var(g, node, ins, _arrays):
    """sum((x - mean)^2) / (n - correction), n the number of reduced elements (as traced)."""
    x, axes, dt = _need(node, ins, 0), _reduce_axes(node), _out_dtype(g, node)
    n = int(np.prod([node.in_shape[a] for a in axes]))
    centred = g.op("Sub", [x, _axes_attr_or_input(g, "ReduceMean", x, axes, 1)])
    total = g.op("ReduceSum", [g.op("Mul", [centred, centred]), g.const(axes, np.int64)],
                 keepdims=int(bool(node.keepdim)))
    return g.op("Div", [total, g.const(max(n - node.correction, 0), dt)])


@register("LinalgVectorNormBackward0")
def _vector_norm(g, node, ins, _arrays):
    x, axes, keep, dt = _need(node, ins, 0), _reduce_axes(node), int(bool(node.keepdim)), _out_dtype(g, node)
    p = float(node.p)
    if p == 2:
        return _axes_attr_or_input(g, "ReduceL2", x, axes, keep)
    if p == 1:
        return _axes_attr_or_input(g, "ReduceL1", x, axes, keep)
    if math.isinf(p):
        return _axes_attr_or_input(g, "ReduceMax" if p > 0 else "ReduceMin", g.op("Abs", [x]), axes, keep)
    powered = g.op("Pow", [g.op("Abs", [x]), g.const(p, dt)])
    return g.op("Pow", [g.op("ReduceSum", [powered, g.const(axes, np.int64)], keepdims=keep), g.const(1 / p, dt)])


# ---- activations beyond the pointwise table ------------------------------------------------------------------
@register("SiluBackward0")
def _silu(g, node, ins, _arrays):
    x = _need(node, ins, 0)
    return g.op("Mul", [x, g.op("Sigmoid", [x])])


@register("EluBackward0")
def _elu(g, node, ins, _arrays):
    return g.op("Elu", [_need(node, ins, 0)], alpha=float(node.params[0]))


def _softplus_of(g, x: str, beta: float, threshold: float, dt) -> str:
    """PyTorch's softplus: log(1 + exp(beta x)) / beta, and x itself where beta x > threshold."""
    bx = g.op("Mul", [x, g.const(beta, dt)]) if beta != 1 else x
    soft = g.op("Softplus", [bx])
    soft = g.op("Div", [soft, g.const(beta, dt)]) if beta != 1 else soft
    return g.op("Where", [g.op("Greater", [bx, g.const(threshold, dt)]), x, soft])


@register("SoftplusBackward0")
def _softplus(g, node, ins, _arrays):
    beta, threshold = node.params
    return _softplus_of(g, _need(node, ins, 0), float(beta), float(threshold), _out_dtype(g, node))


@register("MishBackward0")
def _mish(g, node, ins, _arrays):
    x = _need(node, ins, 0)
    return g.op("Mul", [x, g.op("Tanh", [_softplus_of(g, x, 1.0, 20.0, _out_dtype(g, node))])])


@register("LogSigmoidBackward0")
def _log_sigmoid(g, node, ins, _arrays):  # -softplus(-x)
    x = _need(node, ins, 0)
    return g.op("Neg", [_softplus_of(g, g.op("Neg", [x]), 1.0, 20.0, _out_dtype(g, node))])


@register("ClampBackward1", "ClampMinBackward0", "ClampMaxBackward0")
def _clamp(g, node, ins, _arrays):
    dt = _out_dtype(g, node)
    bounds = ["" if v is None else g.const(v, dt) for v in (node.lo, node.hi)]
    return g.op("Clip", [_need(node, ins, 0)] + bounds)


@register("AddcmulBackward0", "AddcdivBackward0")
def _addc(g, node, ins, _arrays):  # a + value * (t1 * t2) or a + value * (t1 / t2)
    op = "Mul" if node_name(node) == "AddcmulBackward0" else "Div"
    prod = g.op(op, [_need(node, ins, 1), _need(node, ins, 2)])
    if node.value != 1:
        prod = g.op("Mul", [prod, g.const(node.value, _out_dtype(g, node))])
    return g.op("Add", [_need(node, ins, 0), prod])


@register("HardtanhBackward0")
def _hardtanh(g, node, ins, _arrays):  # hardtanh, relu6
    dt = _out_dtype(g, node)
    return g.op("Clip", [_need(node, ins, 0)] + [g.const(v, dt) for v in node.bounds])


@register("MaximumBackward0", "MinimumBackward0")
def _maximum(g, node, ins, _arrays):
    return _binary_op(g, node, ins, "Max" if node_name(node).startswith("Max") else "Min")


@register("GluBackward0")
def _glu(g, node, ins, _arrays):
    a, b = g.op("Split", [_need(node, ins, 0)], n_out=2, axis=int(node.dim), num_outputs=2) if g.opset >= 18 else \
        g.op("Split", [_need(node, ins, 0)], n_out=2, axis=int(node.dim))
    return g.op("Mul", [a, g.op("Sigmoid", [b])])


@register("RepeatBackward0")
def _repeat(g, node, ins, _arrays):
    x, lead = _need(node, ins, 0), len(node.reps) - len(node.in_shape)
    if lead:
        x = g.op("Unsqueeze", [x, g.const(list(range(lead)), np.int64)])
    return g.op("Tile", [x, g.const(list(node.reps), np.int64)])


@register("EinsumBackward0")
def _einsum(g, node, ins, _arrays):
    letters = {label: chr(ord("a") + k) for k, label in enumerate(sorted(node.sizes))}
    equation = ",".join("".join(letters[c] for c in sub) for sub in node.subs) + "->" + \
        "".join(letters[c] for c in node.out)
    return g.op("Einsum", [_need(node, ins, i) for i in range(len(node.subs))], equation=equation)


# ---- linear algebra ---------------------------------------------------------------------------------------
@register("AddmmBackward0", "MmBackward0", "BmmBackward0", "DotBackward0", "MvBackward0")
def _linear(g, node, ins, _arrays):
    if type(node).__module__.endswith("products"):  # torch.addmm(bias, a, b), not nn.Linear's node
        raise OnnxExporterError("Exporting the operator 'AddmmBackward0' (torch.addmm) to ONNX is not supported by "
                                "glasstorch")
    if not hasattr(node, "x_shape"):  # torch.matmul / mm / bmm / mv / dot: ONNX MatMul has matmul's rules
        return g.op("MatMul", [_need(node, ins, 0), _need(node, ins, 1)])
    if node.name() == "MmBackward0":  # nn.Linear without bias: inputs (x, weight)
        x, w, b = _need(node, ins, 0), _need(node, ins, 1), None
    else:  # inputs in addmm's order: (bias, x, weight)
        x, w, b = _need(node, ins, 1), _need(node, ins, 2), ins[0]
    if len(node.x_shape) == 2:  # y = x @ W.T + b
        return g.op("Gemm", [x, w] + ([b] if b is not None else []), transB=1)
    y = g.op("MatMul", [x, g.op("Transpose", [w], perm=[1, 0])])
    return g.op("Add", [y, b]) if b is not None else y


# ---- shapes -------------------------------------------------------------------------------------------
INT64_MAX = np.iinfo(np.int64).max  # Slice's "to the end"


def _twin_attr(g, node, attr: str):
    """The attribute of the same node in the second trace (None without one)."""
    twin = g.twin.get(id(node))
    return None if twin is None else getattr(twin, attr, None)


def _dim_source(g, x, in1, in2, size1: int, size2: int):
    """(ONNX name, axis) of a tensor whose dim has size1 in trace 1 and size2 in trace 2: the op's own
    input x first, then the graph inputs; None if none has."""
    for name, s1, s2 in [(x, in1, in2)] + list(g.sources):
        for j, (a, b) in enumerate(zip(s1, s2)):
            if a == size1 and b == size2:
                return name, j
    return None


def _shape_of(g, name: str) -> str:
    """Shape(name), made once per value."""
    if name not in g.shape_values:
        g.shape_values[name] = g.op("Shape", [name])
    return g.shape_values[name]


def shape_tensor(g, x: str, in1, in2, out1, out2, keep: int = 0) -> str:
    """A 1-D int64 ONNX tensor for the target shape out1 of a Reshape (keep=0) or Expand (keep=1) of x.

    A size equal in both traces is a number. A dynamic one (it differs) is `keep` where x has the same size at
    the same position (Reshape's 0 copies x's size there, Expand's 1 keeps it), else read from the shape of x or
    of a graph input with the same two sizes, else (once, Reshape only) -1, inferred. Without a second trace
    (out2 None) only a leading run of x's own sizes is copied (keeps a dynamic batch axis dynamic)."""
    if out2 is None:
        shape, prefix = list(out1), True
        for i, d in enumerate(out1):
            prefix = prefix and i < len(in1) and in1[i] == d and d != 0
            if (prefix and not keep) or (keep and i >= len(out1) - len(in1) and in1[i - len(out1) + len(in1)] == d):
                shape[i] = keep
        return g.const(shape, np.int64)
    pieces, inferred = [], False
    lead = len(out1) - len(in1) if keep else 0  # Expand aligns trailing dims
    for i, (a, b) in enumerate(zip(out1, out2)):
        j = i - lead
        same_place = 0 <= j < len(in1) and in1[j] == a and in2[j] == b
        if keep and same_place:
            pieces.append(1)
        elif a == b:
            pieces.append(a)
        elif same_place and not keep and a != 0:
            pieces.append(0)
        elif (src := _dim_source(g, x, in1, in2, a, b)) is not None:
            pieces.append(src)
        elif not keep and not inferred:
            pieces.append(-1)
            inferred = True
        else:  # not expressible: the traced size (the model then runs at that size only)
            pieces.append(a)
    if all(isinstance(p, int) for p in pieces):
        return g.const(pieces, np.int64)
    parts = [g.const([p], np.int64) if isinstance(p, int) else
             g.op("Gather", [_shape_of(g, p[0]), g.const([p[1]], np.int64)], axis=0) for p in pieces]
    return g.op("Concat", parts, axis=0)


@register("ViewBackward0", "UnsafeViewBackward0", "ReshapeAliasBackward0")
def _reshape(g, node, ins, _arrays):
    x = _need(node, ins, 0)
    out1, out2 = g.out_shapes(node)
    target = shape_tensor(g, x, tuple(node.in_shape), _twin_attr(g, node, "in_shape"), out1, out2)
    return g.op("Reshape", [x, target])


def _removed_axes(longer, shorter) -> list:
    """The axes of `longer` (all of size 1) that are missing from `shorter`."""
    axes, j = [], 0
    for i, d in enumerate(longer):
        if j < len(shorter) and shorter[j] == d:
            j += 1
        else:
            axes.append(i)
    return axes


@register("SqueezeBackward0", "SqueezeBackward1", "SqueezeBackward2")
def _squeeze(g, node, ins, _arrays):
    axes = _removed_axes(tuple(node.in_shape), _out_shape(g, node))
    x = _need(node, ins, 0)
    return g.op("Squeeze", [x, g.const(axes, np.int64)]) if axes else g.op("Identity", [x])


@register("ExpandBackward0")
def _expand(g, node, ins, _arrays):
    x = _need(node, ins, 0)
    out1, out2 = g.out_shapes(node)
    return g.op("Expand", [x, shape_tensor(g, x, tuple(node.in_shape), _twin_attr(g, node, "in_shape"), out1,
                                           out2, keep=1)])


@register("StackBackward0")
def _stack(g, node, ins, _arrays):
    axis = g.const([int(node.dim)], np.int64)
    parts = [g.op("Unsqueeze", [_need(node, ins, i), axis]) for i in range(len(ins))]
    return g.op("Concat", parts, axis=int(node.dim))


@register("SplitBackward0", "SplitWithSizesBackward0")
def _split_piece(g, node, ins, _arrays):
    """One piece of split / chunk / tensor_split along dim (start:stop)."""
    return g.op("Slice", [_need(node, ins, 0), g.const([node.start], np.int64), g.const([node.stop], np.int64),
                          g.const([node.dim], np.int64)])


@register("UnbindBackward0")
def _unbind_piece(g, node, ins, _arrays):
    return g.op("Gather", [_need(node, ins, 0), g.const(node.start, np.int64)], axis=int(node.dim))


# ---- indexing ---------------------------------------------------------------------------------------------
@register("SelectBackward0", "SliceBackward0", "AliasBackward0")
def _basic_index(g, node, ins, _arrays):
    """x[ints, slices, None, ...]: one Slice (an int i is i:i+1), a Squeeze of the int axes, an Unsqueeze for
    each None. Negative ints and open ends stay relative to the run-time size, so dynamic axes stay dynamic."""
    if not hasattr(node, "index"):  # tensor_split's SliceBackward0 (shape.py) shares x[a:b]'s name
        return _split_piece(g, node, ins, _arrays)
    x = _need(node, ins, 0)
    index, nd = node.index, len(node.in_shape)
    taken = sum(1 for i in index if i is not None and i is not Ellipsis)
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    dim = out = 0  # the input dim an index element reads, the output dim it writes
    for i in index:
        if i is Ellipsis:
            dim += nd - taken
            out += nd - taken
        elif i is None:
            unsqueeze.append(out)
            out += 1
        elif isinstance(i, slice):
            if not (i.start in (None, 0) and i.stop is None and i.step in (None, 1)):
                starts.append(0 if i.start is None else i.start)
                ends.append(INT64_MAX if i.stop is None else i.stop)
                axes.append(dim)
                steps.append(1 if i.step is None else i.step)
            dim += 1
            out += 1
        elif isinstance(i, (int, np.integer)):
            i = int(i)
            starts.append(i)
            ends.append(INT64_MAX if i == -1 else i + 1)
            axes.append(dim)
            steps.append(1)
            squeeze.append(dim)
            dim += 1
        else:
            raise OnnxExporterError(f"Exporting '{node_name(node)}' to ONNX: index element {i!r} is not supported")
    if axes:
        x = g.op("Slice", [x] + [g.const(v, np.int64) for v in (starts, ends, axes, steps)])
    if squeeze:
        x = g.op("Squeeze", [x, g.const(squeeze, np.int64)])
    if unsqueeze:
        x = g.op("Unsqueeze", [x, g.const(unsqueeze, np.int64)])
    return x if axes or squeeze or unsqueeze else g.op("Identity", [x])


@register("UnsqueezeBackward0")
def _unsqueeze(g, node, ins, _arrays):
    if hasattr(node, "index"):  # x[..., None] (indexing.py) shares unsqueeze's name
        return _basic_index(g, node, ins, _arrays)
    axes = _removed_axes(_out_shape(g, node), tuple(node.in_shape))
    return g.op("Unsqueeze", [_need(node, ins, 0), g.const(axes, np.int64)])


def index_array(g, node, get) -> str:
    """An integer index array kept by a node (get(node)): the graph input it is (or views), else a constant."""
    arr = get(node)
    for a in (arr, getattr(arr, "base", None)):
        if a is not None and id(a) in g.array_names and tuple(a.shape) == tuple(arr.shape):
            return g.array_names[id(a)]
    return saved_const(g, node, get, np.int64)


@register("IndexSelectBackward0")
def _index_select(g, node, ins, arrays):
    return g.op("Gather", [_need(node, ins, 0), index_array(g, node, lambda n: n.index)], axis=int(node.dim))


@register("IndexBackward0")
def _advanced_index(g, node, ins, arrays):
    """x[..., idx, ...] with one integer array and otherwise whole dims: a Gather along that dim."""
    index, nd = node.index, len(node.in_shape)
    arrays_at = [k for k, i in enumerate(index) if hasattr(i, "dtype")]
    whole = all(i is Ellipsis or (isinstance(i, slice) and i == slice(None)) for k, i in enumerate(index)
                if k not in arrays_at)
    if len(arrays_at) != 1 or not whole or index[arrays_at[0]].dtype.kind not in "iu":
        raise OnnxExporterError("Exporting 'IndexBackward0' to ONNX: only an index with one integer tensor and whole "
                                "dims otherwise (x[idx], x[:, idx]) is supported by glasstorch, not masks or several "
                                "index tensors")
    k = arrays_at[0]
    if Ellipsis in index[:k]:
        k = nd - (len(index) - k)  # the array's dim counted from the end
    return g.op("Gather", [_need(node, ins, 0), index_array(g, node, lambda n: n.index[arrays_at[0]])], axis=k)


@register("MaskedFillBackward0")
def _masked_fill(g, node, ins, arrays):
    value = ins[1] if ins[1] is not None else saved_const(g, node, lambda n: n.value, _out_dtype(g, node))
    mask = saved_const(g, node, lambda n: n.mask, bool)
    return g.op("Where", [mask, value, _need(node, ins, 0)])


@register("WhereBackward0")
def _where(g, node, ins, _arrays):
    dt = _out_dtype(g, node)
    a, b = ((ins[k] if ins[k] is not None else saved_const(g, node, lambda n, k=k: n.constants[k], dt))
            for k in (0, 1))
    return g.op("Where", [saved_const(g, node, lambda n: n.cond, bool), a, b])


@register("PermuteBackward0", "TransposeBackward0", "TBackward0")
def _transpose(g, node, ins, _arrays):
    return g.op("Transpose", [_need(node, ins, 0)], perm=[int(d) for d in node.dims])


@register("CatBackward0")
def _cat(g, node, ins, _arrays):
    parts = [_need(node, ins, i) for i, joined in enumerate(node.joined) if joined]
    return g.op("Concat", parts, axis=int(node.dim))


# ---- nn -------------------------------------------------------------------------------------------------
@register("ConvolutionBackward0")
def _conv(g, node, ins, _arrays):
    stride, dilation, lo, hi, _size, groups = node.geo
    x, w = _need(node, ins, 0), _need(node, ins, 1)
    kernel = list(node.saved_tensors[1].shape[2:])
    inputs = [x, w] + ([ins[2]] if ins[2] is not None else [])
    attrs = dict(kernel_shape=kernel, strides=list(stride), dilations=list(dilation), group=int(groups))
    if node.transposed:  # geo is the conv it is the input gradient of: hi = padding + output_padding
        return g.op("ConvTranspose", inputs, pads=list(lo) * 2, output_padding=[h - p for h, p in zip(hi, lo)],
                    **attrs)
    return g.op("Conv", inputs, pads=list(lo) + list(hi), **attrs)


@register("LeakyReluBackward0")
def _leaky_relu(g, node, ins, _arrays):
    (x,) = node.saved_tensors
    slope = host(node.slopes_fn(x.device.xp.full((1,), -1.0, dtype=x._data.dtype)))[0]  # its derivative below 0
    return g.op("LeakyRelu", [_need(node, ins, 0)], alpha=float(slope))


@register("MaxPool2DWithIndicesBackward0", "MaxPool1DWithIndicesBackward0", "MaxPool3DWithIndicesBackward0")
def _maxpool(g, node, ins, _arrays):
    kernel, stride, pad, dilation, out = node.geo
    spatial = node.x_shape[2:]
    floor = [(n + 2 * p - d * (k - 1) - 1) // s + 1 for n, p, d, k, s in zip(spatial, pad, dilation, kernel, stride)]
    return g.op("MaxPool", [_need(node, ins, 0)], kernel_shape=list(kernel), strides=list(stride),
                pads=list(pad) * 2, dilations=list(dilation), ceil_mode=int(list(out) != floor))


@register("EmbeddingBackward0")
def _embedding(g, node, ins, arrays):
    index = index_array(g, node, lambda n: n.index)  # indices computed inside the model: a constant
    return g.op("Gather", [_need(node, ins, 0), index], axis=0)


@register("NativeLayerNormBackward0")
def _layer_norm(g, node, ins, _arrays):
    x = _need(node, ins, 0)
    shape, dt = _out_shape(g, node), _out_dtype(g, node)
    normalized = shape[len(shape) - node.n_normalized:]
    w = ins[1] if ins[1] is not None else g.const(np.ones(normalized), dt)
    b = ins[2] if ins[2] is not None else g.const(np.zeros(normalized), dt)
    return g.op("LayerNormalization", [x, w, b], axis=-int(node.n_normalized), epsilon=float(node.eps))


@register("NativeBatchNormBackward0")
def _batch_norm(g, node, ins, _arrays):
    """Batch norm in eval mode: ONNX BatchNormalization over the module's running_mean / running_var buffers
    (found through the mean array the node kept), else Sub/Mul with the statistics the node kept."""
    if node.training:
        raise OnnxExporterError("Exporting 'NativeBatchNormBackward0' to ONNX: batch norm with batch statistics "
                                "(training=True, or track_running_stats=False) is not supported by glasstorch")
    x, dt = _need(node, ins, 0), _out_dtype(g, node)
    channels = node.mean.shape[1]
    w = ins[1] if ins[1] is not None else g.const(np.ones(channels), dt)
    b = ins[2] if ins[2] is not None else g.const(np.zeros(channels), dt)
    base = node.mean if node.mean.base is None else node.mean.base
    mean_name = g.buffer_names.get(id(base), "")
    var_name = mean_name[:-len("running_mean")] + "running_var"
    if mean_name.endswith("running_mean") and var_name in g.buffers and \
            np.array_equal(host(g.buffers[mean_name], dt).reshape(node.mean.shape), host(node.mean)):
        mean = g.initializer(mean_name, g.buffers[mean_name].detach().cpu().numpy())
        var = g.initializer(var_name, g.buffers[var_name].detach().cpu().numpy())
        if np.dtype(g.buffers[mean_name]._data.dtype) != np.dtype(dt):
            mean, var = (g.op("Cast", [v], to=helper_type(dt)) for v in (mean, var))
        return g.op("BatchNormalization", [x, w, b, mean, var], epsilon=float(node.eps))
    shape = node.mean.shape
    xhat = g.op("Mul", [g.op("Sub", [x, g.const(host(node.mean, dt))]), g.const(host(node.rstd, dt))])
    return g.op("Add", [g.op("Mul", [xhat, g.op("Reshape", [w, g.const(shape, np.int64)])]),
                        g.op("Reshape", [b, g.const(shape, np.int64)])])
