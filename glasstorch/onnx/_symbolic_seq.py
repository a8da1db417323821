"""Translations of the sequence-model nodes: recurrent layers (ONNX LSTM / GRU / RNN) and attention.

A recurrent layer is one glasstorch node per layer and direction (`_ops/rnn.py`), exported as one ONNX
recurrent op with num_directions = 1 (direction "reverse" for the second direction of a bidirectional layer);
nn.LSTM's stacking (per-layer select of h0, cat of directions, stack of h_n) is ordinary ops around them.

Gate order. PyTorch stacks the gate blocks of W_ih, W_hh and the biases as LSTM [i, f, g, o] and GRU [r, z, n];
ONNX wants LSTM [i, o, f, c] and GRU [z, r, h]. The blocks are reordered by a Gather of rows of the parameter
itself (so a parameter stays one named initializer, and export_params=False still works). PyTorch's GRU applies
the reset gate after the recurrent product, r * (W_hn h + b_hn): ONNX's linear_before_reset=1.
"""
from __future__ import annotations

import math

import numpy as np

from . import OnnxExporterError
from ._symbolic import _need, _out_dtype, host, node_name, register, saved_const

_ONNX_OP = {"MkldnnRnnLayerBackward0": "LSTM", "GruLayerBackward0": "GRU", "RnnTanhLayerBackward0": "RNN",
            "RnnReluLayerBackward0": "RNN"}
_GATE_ORDER = {"LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2), "RNN": (0,)}  # ONNX's k-th block is torch's block [k]


def _gate_rows(hidden: int, order) -> np.ndarray:
    return np.concatenate([np.arange(b * hidden, (b + 1) * hidden) for b in order]).astype(np.int64)


def _reordered(g, w: str, rows: str) -> str:
    """(1, G*H, ...) parameter with its gate blocks in ONNX's order."""
    return g.op("Unsqueeze", [g.op("Gather", [w, rows], axis=0), g.const([0], np.int64)])


def _state(g, node, ins, k: int, dt) -> str:
    """Initial state k (0: h0, 1: c0) as (1, B, H), or '' (zeros) where the layer had none."""
    if ins[1 + k] is not None:
        return g.op("Unsqueeze", [ins[1 + k], g.const([0], np.int64)])
    if getattr(node, "constant_states", (None, None))[k] is None:
        return ""
    state = saved_const(g, node, lambda n: n.constant_states[k], dt)  # zeros((B, H)) grows with the batch
    return g.op("Unsqueeze", [state, g.const([0], np.int64)])


@register(*_ONNX_OP)
def _recurrent(g, node, ins, _arrays):
    """One layer and direction: ONNX LSTM / GRU / RNN over a padded (T, B, I) sequence (or one step (B, I))."""
    name = node_name(node)
    op = _ONNX_OP[name]
    x_t, w_ih, w_hh, w_hr = node.saved_tensors
    if w_hr is not None:
        raise OnnxExporterError("Exporting an LSTM with proj_size > 0 ('MkldnnRnnLayerBackward0') to ONNX is not "
                                "supported by glasstorch: ONNX's LSTM has no projection")
    if len(set(node.batch_sizes)) > 1:
        raise OnnxExporterError(f"Exporting '{name}' to ONNX: a PackedSequence of sequences of different lengths "
                                "is not supported by glasstorch; pass a padded tensor")
    dt = _out_dtype(g, node) if id(node) in g.shapes else x_t._data.dtype
    hidden = w_hh.shape[0] // len(_GATE_ORDER[op])
    rows = g.const(_gate_rows(hidden, _GATE_ORDER[op]))
    x = _need(node, ins, 0)
    rows_in = x_t.dim() == 2  # a cell's single step (B, I), or packed rows of equal steps (T * B, I)
    if rows_in and len(node.batch_sizes) == 1:
        x = g.op("Unsqueeze", [x, g.const([0], np.int64)])  # (keeps a dynamic batch dynamic)
    elif rows_in:
        x = g.op("Reshape", [x, g.const([len(node.batch_sizes), node.batch_sizes[0], -1], np.int64)])
    w = _reordered(g, _need(node, ins, 3), rows)
    r = _reordered(g, _need(node, ins, 4), rows)
    if ins[5] is not None and ins[6] is not None:
        b = g.op("Concat", [g.op("Gather", [ins[5], rows], axis=0), g.op("Gather", [ins[6], rows], axis=0)], axis=0)
        b = g.op("Unsqueeze", [b, g.const([0], np.int64)])
    else:
        b = ""  # ONNX: zero biases
    inputs = [x, w, r, b, "", _state(g, node, ins, 0, dt)]
    attrs = dict(hidden_size=int(hidden), direction="reverse" if node.reverse else "forward")
    if op == "LSTM":
        inputs.append(_state(g, node, ins, 1, dt))
    elif op == "GRU":
        attrs["linear_before_reset"] = 1
    else:
        attrs["activations"] = ["Relu" if name == "RnnReluLayerBackward0" else "Tanh"]
    while inputs[-1] == "":
        inputs.pop()
    outs = g.op(op, inputs, n_out=3 if op == "LSTM" else 2, **attrs)
    y = g.op("Squeeze", [outs[0], g.const([1], np.int64)])  # (T, 1, B, H) -> (T, B, H)
    if rows_in and len(node.batch_sizes) == 1:
        y = g.op("Squeeze", [y, g.const([0], np.int64)])
    elif rows_in:
        y = g.op("Reshape", [y, g.const([-1, hidden], np.int64)])
    h = g.op("Squeeze", [outs[1], g.const([0], np.int64)])
    c = g.op("Squeeze", [outs[2], g.const([0], np.int64)]) if op == "LSTM" else None
    return [y, h, c]


# ---- attention --------------------------------------------------------------------------------------------
def _tensor_or_const(g, ins, k: int, t, dt) -> str:
    return ins[k] if ins[k] is not None else g.const(host(t, dt))


@register("ScaledDotProductAttentionBackward0")
def _sdpa(g, node, ins, _arrays):
    """softmax(q k^T * scale [masked with Where / plus a float mask]) v, with PyTorch's rule that a query row
    with nothing to attend to gets zeros."""
    if node.drop is not None:
        raise OnnxExporterError("Exporting 'ScaledDotProductAttentionBackward0' to ONNX with dropout_p > 0 is not "
                                "supported by glasstorch (export the model in eval mode)")
    q_t, k_t, v_t, bias_t = node.saved_tensors
    dt = _out_dtype(g, node)
    q, k, v = (_tensor_or_const(g, ins, i, t, dt) for i, t in enumerate((q_t, k_t, v_t)))
    nd = k_t.dim()
    perm = list(range(nd - 2)) + [nd - 1, nd - 2]
    scores = g.op("Mul", [g.op("MatMul", [q, g.op("Transpose", [k], perm=perm)]), g.const(node.scale, dt)])
    dead = None
    if node.allowed is not None:
        allowed = host(node.allowed, bool)
        scores = g.op("Where", [saved_const(g, node, lambda n: n.allowed, bool), scores, g.const(-math.inf, dt)])
        dead = ~allowed.any(-1, keepdims=True)
    if bias_t is not None:
        bias = ins[3] if ins[3] is not None else saved_const(g, node, lambda n: n.saved_tensors[3], dt)
        scores = g.op("Add", [scores, bias])
        no_key = np.isneginf(host(bias_t)).all(-1, keepdims=True)
        dead = no_key if dead is None else dead | no_key
    probs = g.op("Softmax", [scores], axis=-1)
    if dead is not None and dead.any():  # ONNX's softmax of an all -inf row is NaN; PyTorch's is 0
        probs = g.op("Where", [g.const(dead), g.const(0.0, dt), probs])
    return g.op("MatMul", [probs, v])
