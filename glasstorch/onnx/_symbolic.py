"""One translation per grad_fn name: (graph, node, input value names, array names) -> output value name.

Each reads the attributes the op saved on its Node (dims, strides, eps, ...); `ins[i]` is the ONNX name
of the node's i-th input, or None where that input recorded no graph (a plain number or constant)."""
from __future__ import annotations

import math

import numpy as np

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
        raise RuntimeError(f"Exporting '{node_name(node)}' to ONNX: its input {i} is a tensor that does not "
                           "require grad and is not a graph input; glasstorch cannot trace it")
    return ins[i]


# ---- pointwise -------------------------------------------------------------------------------------------
_UNARY = {"ReluBackward0": "Relu", "TanhBackward0": "Tanh", "SigmoidBackward0": "Sigmoid", "ExpBackward0": "Exp",
          "LogBackward0": "Log", "NegBackward0": "Neg", "SqrtBackward0": "Sqrt", "AbsBackward0": "Abs",
          "SinBackward0": "Sin", "CosBackward0": "Cos", "ErfBackward0": "Erf", "CloneBackward0": "Identity"}


def _unary(g, node, ins, _arrays):
    return g.op(_UNARY[node_name(node)], [_need(node, ins, 0)])


for _name in _UNARY:
    SYMBOLIC[_name] = _unary

_BINARY = {"AddBackward0": "Add", "SubBackward0": "Sub", "MulBackward0": "Mul", "DivBackward0": "Div"}


@register(*_BINARY)
def _binary(g, node, ins, _arrays):
    a = _need(node, ins, 0)
    if ins[1] is not None:
        b = ins[1]
    elif getattr(node, "b_scalar", None) is not None:
        b = g.const(node.b_scalar, _out_dtype(g, node))
    else:
        _need(node, ins, 1)
    return g.op(_BINARY[node_name(node)], [a, b])


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


@register("SumBackward0", "SumBackward1", "MeanBackward0", "MeanBackward1")
def _reduce(g, node, ins, _arrays):
    x = _need(node, ins, 0)
    dims = getattr(node, "dims", None)
    keep = int(bool(getattr(node, "keepdim", False)))
    axes = list(range(len(node.in_shape))) if dims is None else [int(d) for d in dims]
    if node_name(node).startswith("Sum"):
        return g.op("ReduceSum", [x, g.const(axes, np.int64)], keepdims=keep)
    if g.opset >= 18:  # ReduceMean takes its axes as an input from opset 18 on
        return g.op("ReduceMean", [x, g.const(axes, np.int64)], keepdims=keep)
    return g.op("ReduceMean", [x], axes=axes, keepdims=keep)


# ---- linear algebra ---------------------------------------------------------------------------------------
@register("AddmmBackward0", "MmBackward0", "BmmBackward0", "DotBackward0", "MvBackward0")
def _linear(g, node, ins, _arrays):
    if type(node).__module__.endswith("products"):  # torch.addmm(bias, a, b), not nn.Linear's node
        raise RuntimeError("Exporting the operator 'AddmmBackward0' (torch.addmm) to ONNX is not supported by "
                           "glasstorch")
    if not hasattr(node, "x_shape"):  # torch.matmul / mm / bmm / mv / dot: ONNX MatMul has matmul's rules
        return g.op("MatMul", [_need(node, ins, 0), _need(node, ins, 1)])
    x, w, b = _need(node, ins, 0), _need(node, ins, 1), ins[2]
    if len(node.x_shape) == 2:  # y = x @ W.T + b
        return g.op("Gemm", [x, w] + ([b] if b is not None else []), transB=1)
    y = g.op("MatMul", [x, g.op("Transpose", [w], perm=[1, 0])])
    return g.op("Add", [y, b]) if b is not None else y


# ---- shapes -------------------------------------------------------------------------------------------
@register("ViewBackward0", "UnsafeViewBackward0", "ReshapeAliasBackward0")
def _reshape(g, node, ins, _arrays):
    shape, src = list(_out_shape(g, node)), node.in_shape
    # ONNX's 0 copies the input's size: keeps a leading dynamic (batch) axis dynamic.
    for i in range(min(len(shape), len(src))):
        if shape[i] != src[i] or shape[i] == 0:
            break
        shape[i] = 0
    return g.op("Reshape", [_need(node, ins, 0), g.const(shape, np.int64)])


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
    if node.transposed:
        raise RuntimeError("Exporting the operator 'ConvolutionBackward0' (transposed) to ONNX is not supported "
                           "by glasstorch")
    stride, dilation, lo, hi, _size, groups = node.geo
    x, w = _need(node, ins, 0), _need(node, ins, 1)
    kernel = list(node.saved_tensors[1].shape[2:])
    return g.op("Conv", [x, w] + ([ins[2]] if ins[2] is not None else []), kernel_shape=kernel,
                strides=list(stride), dilations=list(dilation), pads=list(lo) + list(hi), group=int(groups))


@register("MaxPool2DWithIndicesBackward0", "MaxPool1DWithIndicesBackward0", "MaxPool3DWithIndicesBackward0")
def _maxpool(g, node, ins, _arrays):
    kernel, stride, pad, dilation, out = node.geo
    spatial = node.x_shape[2:]
    floor = [(n + 2 * p - d * (k - 1) - 1) // s + 1 for n, p, d, k, s in zip(spatial, pad, dilation, kernel, stride)]
    return g.op("MaxPool", [_need(node, ins, 0)], kernel_shape=list(kernel), strides=list(stride),
                pads=list(pad) * 2, dilations=list(dilation), ceil_mode=int(list(out) != floor))


@register("EmbeddingBackward0")
def _embedding(g, node, ins, arrays):
    index = arrays.get(id(node.index))
    if index is None:  # indices computed inside the model: baked in as a constant
        index = g.const(np.asarray(node.index.get() if hasattr(node.index, "get") else node.index))
    return g.op("Gather", [_need(node, ins, 0), index], axis=0)


@register("NativeLayerNormBackward0")
def _layer_norm(g, node, ins, _arrays):
    x = _need(node, ins, 0)
    shape, dt = _out_shape(g, node), _out_dtype(g, node)
    normalized = shape[len(shape) - node.n_normalized:]
    w = ins[1] if ins[1] is not None else g.const(np.ones(normalized), dt)
    b = ins[2] if ins[2] is not None else g.const(np.zeros(normalized), dt)
    return g.op("LayerNormalization", [x, w, b], axis=-int(node.n_normalized), epsilon=float(node.eps))
