"""torch.onnx.export: the written model, run in onnxruntime, gives glasstorch's outputs.

Tolerance (float32): onnxruntime computes Gemm/Conv/LayerNorm with its own kernels (other summation
order, FMA), so each output differs by a few float32 roundings of sums of <= 32 terms: about 1e-6
relative at worst; rtol=1e-5 leaves margin yet catches any wrong weight, layout or attribute (those move
outputs by >= 1e-2). atol=1e-6 covers softmax probabilities near zero, whose relative error is unbounded.
The recurrent layers run <= 9 steps of tanh/sigmoid (onnxruntime's own approximations, a few ulp) on
states bounded by 1, each step contracting earlier errors (|d tanh| <= 1 times weights of norm < 1 at this
init), so their error stays at a few 1e-7 (measured <= 3e-7): the same tolerance holds, while a wrong gate
order or bias moves the outputs by >= 1e-2.
"""
from __future__ import annotations

import io
import os

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import glasstorch as torch  # noqa: E402
import glasstorch.nn as nn  # noqa: E402
import glasstorch.nn.functional as F  # noqa: E402

TOL = dict(rtol=1e-5, atol=1e-6)


def _export(model, args, path, **kw):
    torch.onnx.export(model, args, str(path), **kw)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    return proto, ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _expect(model, x):
    with torch.no_grad():
        return model(x).numpy()


def test_mlp(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3), nn.Softmax(dim=1))
    x = torch.randn(5, 4)
    proto, sess = _export(model, (x,), tmp_path / "mlp.onnx", input_names=["x"], output_names=["probs"])
    (got,) = sess.run(None, {"x": x.numpy()})
    np.testing.assert_allclose(got, _expect(model, x), **TOL)
    # parameters travel as initializers named by their state_dict keys; the graph's names are the given ones
    assert {i.name for i in proto.graph.initializer} >= set(model.state_dict())
    assert [i.name for i in proto.graph.input] == ["x"]
    assert [o.name for o in proto.graph.output] == ["probs"]
    assert {"Gemm", "Relu", "Softmax"} <= {n.op_type for n in proto.graph.node}


def test_cnn_dynamic_batch(tmp_path):
    torch.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, stride=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(3, 4, 3, stride=2, padding=2, dilation=2), nn.ReLU(),
                          nn.MaxPool2d(2, ceil_mode=True), nn.Flatten(), nn.Linear(4 * 2 * 2, 5))
    x = torch.randn(2, 2, 11, 11)  # odd sizes: the last pool rounds up (3 -> 2)
    _, sess = _export(model, (x,), tmp_path / "cnn.onnx", input_names=["img"], output_names=["logits"],
                      dynamic_axes={"img": {0: "batch"}, "logits": {0: "batch"}})
    np.testing.assert_allclose(sess.run(None, {"img": x.numpy()})[0], _expect(model, x), **TOL)
    x7 = torch.randn(7, 2, 11, 11)  # another batch size through the symbolic axis
    got = sess.run(None, {"img": x7.numpy()})[0]
    assert got.shape == (7, 5)
    np.testing.assert_allclose(got, _expect(model, x7), **TOL)


def test_embedding_layernorm_linear(tmp_path):
    torch.manual_seed(2)
    model = nn.Sequential(nn.Embedding(11, 6), nn.LayerNorm(6), nn.Linear(6, 4), nn.GELU(), nn.Linear(4, 3),
                          nn.GELU(approximate="tanh"), nn.LogSoftmax(dim=-1))
    idx = torch.tensor([[1, 2, 3], [4, 5, 10]])
    proto, sess = _export(model, (idx,), tmp_path / "lm.onnx", input_names=["tokens"],
                          dynamic_axes={"tokens": [0, 1]})
    np.testing.assert_allclose(sess.run(None, {"tokens": idx.numpy()})[0], _expect(model, idx), **TOL)
    other = torch.tensor([[0, 7, 7, 9, 1]])  # other batch and sequence lengths: the indices are a real input
    np.testing.assert_allclose(sess.run(None, {"tokens": other.numpy()})[0], _expect(model, other), **TOL)
    assert {"Gather", "LayerNormalization"} <= {n.op_type for n in proto.graph.node}


class _Mixed(nn.Module):
    """Shape and arithmetic ops: permute, transpose, cat, view, sum/mean, scalar and tensor arithmetic."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3, bias=False)

    def forward(self, x):
        y = self.fc(x).permute(0, 2, 1)  # (B, 3, 2)
        z = torch.cat([y, x.transpose(1, 2) * 2 - 1], dim=1)  # (B, 6, 2)
        z = z / 3 + torch.tanh(z) * torch.sigmoid(z)
        w = z.reshape(z.shape[0], -1).sum(1, keepdim=True) + z.mean(dim=(1, 2)).view(-1, 1)
        return F.relu(w - z.sum(dim=2)).exp()


@pytest.mark.parametrize("opset", [17, 18])  # ReduceMean's axes moved from attribute to input in opset 18
def test_shape_and_arithmetic_ops(tmp_path, opset):
    torch.manual_seed(3)
    model, x = _Mixed(), torch.randn(4, 2, 3)
    _, sess = _export(model, (x,), tmp_path / "mixed.onnx", dynamic_axes={"input": {0: "b"}, "output": {0: "b"}},
                      opset_version=opset)
    np.testing.assert_allclose(sess.run(None, {"input": x.numpy()})[0], _expect(model, x), **TOL)
    x2 = torch.randn(3, 2, 3)
    np.testing.assert_allclose(sess.run(None, {"input": x2.numpy()})[0], _expect(model, x2), **TOL)


def test_file_object_and_state_restored():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    model.train()
    model[0].bias.requires_grad_(False)
    buf = io.BytesIO()
    torch.onnx.export(model, torch.randn(1, 2), buf)
    proto = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(proto)
    assert "0.bias" in {i.name for i in proto.graph.initializer}
    assert model.training and not model[0].bias.requires_grad and model[0].weight.requires_grad
    assert not torch.onnx.is_in_onnx_export()


class _AttentionScores(nn.Module):
    """Hand-written unmasked attention: q @ k^T * scale, softmax, @ v; then matmuls of other ranks."""

    def __init__(self):
        super().__init__()
        self.q, self.k = nn.Linear(4, 4, bias=False), nn.Linear(4, 4)
        self.w = nn.Parameter(torch.randn(4, 3))
        self.u = nn.Parameter(torch.randn(3))

    def forward(self, x):
        q, k = self.q(x), self.k(x)
        att = torch.softmax(q @ k.transpose(-2, -1) * 4 ** -0.5, dim=-1)  # (B, T, T): bmm
        y = (att @ x) @ self.w  # (B, T, 3): batched @ 2-D
        return torch.tanh(y @ self.u) + torch.mm(self.w.t(), self.w).sum()  # (B, T) and a 2-D mm


def test_matmul_family(tmp_path):
    torch.manual_seed(4)
    model, x = _AttentionScores(), torch.randn(2, 5, 4)
    proto, sess = _export(model, (x,), tmp_path / "att.onnx", input_names=["x"],
                          dynamic_axes={"x": {0: "b", 1: "t"}, "output": {0: "b", 1: "t"}})
    np.testing.assert_allclose(sess.run(None, {"x": x.numpy()})[0], _expect(model, x), **TOL)
    x2 = torch.randn(3, 7, 4)  # batch and sequence both symbolic
    np.testing.assert_allclose(sess.run(None, {"x": x2.numpy()})[0], _expect(model, x2), **TOL)
    assert "MatMul" in {n.op_type for n in proto.graph.node}


class _Cumsum(nn.Module):
    def forward(self, x):
        return torch.cumsum(x, 0)


def test_unsupported_op_raises_and_writes_nothing(tmp_path):
    path = tmp_path / "bad.onnx"
    with pytest.raises(torch.onnx.OnnxExporterError,  # a RuntimeError, as PyTorch's
                       match="Exporting the operator 'CumsumBackward0' to ONNX is not supported"):
        torch.onnx.export(_Cumsum(), (torch.randn(3),), str(path))
    assert not os.path.exists(path) and os.listdir(tmp_path) == []


class _ShiftedEmbedding(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(5, 2)

    def forward(self, idx):
        return self.emb(idx + 1)  # integer arithmetic records no graph


def test_untraceable_integer_input_raises(tmp_path):
    with pytest.raises(RuntimeError, match="could not trace the integer input 'tokens'"):
        torch.onnx.export(_ShiftedEmbedding(), (torch.tensor([0, 3]),), str(tmp_path / "e.onnx"),
                          input_names=["tokens"])
    assert os.listdir(tmp_path) == []


def test_export_params_false_makes_parameters_inputs():
    buf = io.BytesIO()
    torch.onnx.export(nn.Linear(2, 3), (torch.randn(1, 2),), buf, export_params=False, input_names=["x"])
    proto = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(proto)
    assert sorted(i.name for i in proto.graph.input) == ["bias", "weight", "x"] and not proto.graph.initializer


# ---- recurrent layers: ONNX LSTM / GRU / RNN ---------------------------------------------------------------
def _flat(obj) -> list:
    """Tensors of nested tuples/lists, in order (as torch.onnx flattens inputs and outputs)."""
    out, stack = [], [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, (tuple, list)):
            stack.extend(reversed(o))
        else:
            out.append(o)
    return out


def _check_runs(sess, model, names, *arg_sets):
    """onnxruntime's outputs equal glasstorch's for each set of arguments (flattened by input name)."""
    for args in arg_sets:
        got = sess.run(None, {n: t.numpy() for n, t in zip(names, _flat(args))})
        with torch.no_grad():
            want = _flat(model(*args))
        assert len(got) == len(want)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b.numpy(), **TOL)


RECURRENT = [(nn.LSTM, {}), (nn.LSTM, dict(num_layers=2, batch_first=True)), (nn.LSTM, dict(bidirectional=True)),
             (nn.GRU, {}), (nn.GRU, dict(num_layers=2, bidirectional=True, batch_first=True)),
             (nn.RNN, dict(nonlinearity="relu", bias=False)), (nn.RNN, dict(num_layers=2, bidirectional=True))]


@pytest.mark.parametrize("cls, kw", RECURRENT, ids=[f"{c.__name__}-{'-'.join(k) or 'plain'}" for c, k in RECURRENT])
def test_recurrent_layers_dynamic_batch_and_time(tmp_path, cls, kw):
    torch.manual_seed(5)
    model = cls(3, 4, **kw)
    bf = kw.get("batch_first", False)
    x = torch.randn(2, 5, 3) if bf else torch.randn(5, 2, 3)
    axes = {0: "batch", 1: "time"} if bf else {0: "time", 1: "batch"}
    proto, sess = _export(model, (x,), tmp_path / "rnn.onnx", input_names=["x"], output_names=["y", "h_n"],
                          dynamic_axes={"x": axes})
    other = torch.randn(3, 9, 3) if bf else torch.randn(9, 3, 3)  # other batch and sequence lengths
    _check_runs(sess, model, ["x"], (x,), (other,))
    n_layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    # one ONNX op (of the layer's name: LSTM, GRU, RNN) per layer and direction
    assert [n.op_type for n in proto.graph.node].count(cls.__name__) == n_layers
    # the outputs' batch and time dims are symbolic, named after the input's symbols
    y_dims = [d.dim_param for d in proto.graph.output[0].type.tensor_type.shape.dim]
    assert y_dims[:2] == (["batch", "time"] if bf else ["time", "batch"])


def test_lstm_initial_states_are_inputs(tmp_path):
    torch.manual_seed(6)
    model = nn.LSTM(3, 4, num_layers=2)
    args = (torch.randn(4, 2, 3), (torch.randn(2, 2, 4), torch.randn(2, 2, 4)))
    _, sess = _export(model, args, tmp_path / "lstm.onnx", input_names=["x", "h0", "c0"],
                      output_names=["y", "h_n", "c_n"],
                      dynamic_axes={"x": {0: "T", 1: "B"}, "h0": {1: "B"}, "c0": {1: "B"}})
    other = (torch.randn(7, 5, 3), (torch.randn(2, 5, 4), torch.randn(2, 5, 4)))
    _check_runs(sess, model, ["x", "h0", "c0"], args, other)


class _TutorialLstm(nn.Module):
    """The tutorials' classifier: zero states made inside forward, the last step's output, a linear head."""

    def __init__(self):
        super().__init__()
        self.lstm, self.fc = nn.LSTM(3, 6, num_layers=2, batch_first=True), nn.Linear(6, 2)

    def forward(self, x):
        h0 = torch.zeros(2, x.size(0), 6)
        c0 = torch.zeros(2, x.size(0), 6)
        out, _ = self.lstm(x, (h0, c0))
        return self.fc(out[:, -1, :])


def test_lstm_with_zero_states_made_in_forward(tmp_path):
    torch.manual_seed(19)
    model, x = _TutorialLstm(), torch.randn(4, 7, 3)
    proto, sess = _export(model, (x,), tmp_path / "tut.onnx", input_names=["x"], dynamic_axes={"x": {0: "B", 1: "T"}})
    _check_runs(sess, model, ["x"], (x,), (torch.randn(1, 3, 3),))
    assert "ConstantOfShape" in {n.op_type for n in proto.graph.node}  # zeros of the run-time batch


class _Cells(nn.Module):
    """One step of each cell; the GRU's state is a constant made inside forward (not a graph input)."""

    def __init__(self):
        super().__init__()
        self.lstm, self.gru, self.rnn = nn.LSTMCell(3, 4), nn.GRUCell(4, 4), nn.RNNCell(4, 2, nonlinearity="relu")

    def forward(self, x, h, c):
        h1, c1 = self.lstm(x, (h, c))
        h2 = self.gru(h1, torch.full((x.shape[0], 4), 0.25))
        return self.rnn(h2), c1


def test_rnn_cells(tmp_path):
    torch.manual_seed(7)
    model, args = _Cells(), (torch.randn(2, 3), torch.randn(2, 4), torch.randn(2, 4))
    proto, sess = _export(model, args, tmp_path / "cells.onnx", input_names=["x", "h", "c"],
                          dynamic_axes={"x": {0: "B"}, "h": {0: "B"}, "c": {0: "B"}})
    # the constant GRU state full((B, 4), 0.25) becomes a ConstantOfShape of the run-time batch
    _check_runs(sess, model, ["x", "h", "c"], args, (torch.randn(5, 3), torch.randn(5, 4), torch.randn(5, 4)))
    assert {"LSTM", "GRU", "RNN"} <= {n.op_type for n in proto.graph.node}


class _Projected(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 4, proj_size=2)

    def forward(self, x):
        return self.lstm(x)[0]


def test_unexportable_recurrent_layers_raise(tmp_path):
    with pytest.raises(RuntimeError, match="proj_size > 0 .*not supported"):
        torch.onnx.export(_Projected(), (torch.randn(3, 1, 3),), str(tmp_path / "p.onnx"))
    packed = nn.utils.rnn.pack_sequence([torch.randn(3, 2), torch.randn(2, 2)])
    lstm = nn.LSTM(2, 3)
    with pytest.raises(RuntimeError, match="PackedSequence of sequences of different lengths"):
        torch.onnx.export(lambda p: lstm(p)[1][0], (packed,), str(tmp_path / "q.onnx"))
    assert os.listdir(tmp_path) == []


# ---- indexing, shape and pointwise ops ----------------------------------------------------------------------
class _Ops(nn.Module):
    """Slicing (ints, slices, None, ...), narrow, index_select, split/chunk/unbind/stack, masked_fill, where,
    pow, rsub, sqrt/rsqrt/log/neg/div, squeeze/unsqueeze/expand/contiguous, amax/amin, batch norm (eval)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.bn, self.bn2 = nn.BatchNorm1d(3), nn.BatchNorm2d(3, affine=False)

    def forward(self, x):  # x (B, 3, 4)
        y = self.fc(x)
        mask = torch.tensor([[True, False, False, True]] * 3)
        z = y.masked_fill(mask, -2.5) + torch.where(mask, y, 0.5) + torch.where(~mask, 2.0, y.exp())
        a = y.abs() + 1
        w = (y ** 2 + 2 ** y - a.pow(y) + 1 - y + y.abs().sqrt() + a.log() + a.rsqrt()) / 3
        f1, f2 = y.split(2, dim=2)
        g1, g2 = y.chunk(2, dim=-1)
        joined = torch.cat([y[..., 1:3], y.narrow(2, 1, 2), f1 * g1, g2 - f2, y[:, -1, None, ::2].expand(-1, 3, -1)], 1)
        r = (y.index_select(1, torch.tensor([2, 0])).sum(1, keepdim=True) + y[:, 1].unsqueeze(1) + self.bn(y)
             + self.bn2(y.unsqueeze(-1)).squeeze(-1) - y[:, :1].squeeze(1)[:, None]).neg()
        u = torch.stack(y.unbind(1), dim=2).transpose(1, 2)
        t = y.permute(2, 0, 1).contiguous().transpose(0, 1).sigmoid().tanh().mean(-1)
        m = y.amax(-1) + y[:, [2, 1]].amin(dim=(1, 2))[:, None]
        return z + w + r + u - y[:, [0, 0, 2]] * 0.5, joined, t, m


@pytest.mark.parametrize("opset", [17, 18])  # Reduce* axes: an attribute in 17, an input from 18
def test_indexing_shape_and_pointwise_ops(tmp_path, opset):
    torch.manual_seed(8)
    model = _Ops().eval()
    model.bn.running_mean.normal_()
    model.bn.running_var.uniform_(0.5, 2.0)
    model.bn2.running_mean.normal_()
    x = torch.randn(2, 3, 4)
    proto, sess = _export(model, (x,), tmp_path / "ops.onnx", input_names=["x"], opset_version=opset,
                          dynamic_axes={"x": {0: "B"}})
    _check_runs(sess, model, ["x"], (x,), (torch.randn(5, 3, 4),))
    ops = {n.op_type for n in proto.graph.node}
    assert {"Slice", "Squeeze", "Unsqueeze", "Gather", "Where", "Pow", "Expand", "BatchNormalization"} <= ops
    # batch norm reads the running statistics as named initializers (eval mode)
    assert {"bn.running_mean", "bn.running_var", "bn2.running_mean"} <= {i.name for i in proto.graph.initializer}


# ---- attention --------------------------------------------------------------------------------------------
class _Sdpa(nn.Module):
    def forward(self, q, k, v, bias):
        return (F.scaled_dot_product_attention(q, k, v, is_causal=True)
                + F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
                + F.scaled_dot_product_attention(q, k, v, attn_mask=bias > 0, scale=0.3))


def test_scaled_dot_product_attention(tmp_path):
    torch.manual_seed(9)
    q, k, v = torch.randn(2, 3, 4, 5), torch.randn(2, 3, 6, 5), torch.randn(2, 3, 6, 2)
    bias = torch.randn(4, 6)
    bias[1] = float("-inf")  # a query that may attend to nothing: zeros, as PyTorch's safe softmax
    _, sess = _export(_Sdpa(), (q, k, v, bias), tmp_path / "sdpa.onnx", input_names=list("qkvb"))
    _check_runs(sess, _Sdpa(), list("qkvb"), (q, k, v, bias))


class _Mha(nn.Module):
    def __init__(self, need_weights: bool, mask: bool, causal: bool):
        super().__init__()
        self.mha = nn.MultiheadAttention(8, 2, batch_first=True)
        self.need_weights, self.mask, self.causal = need_weights, mask, causal

    def forward(self, x):
        mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1]) if self.mask else None
        return self.mha(x, x, x, need_weights=self.need_weights, attn_mask=mask, is_causal=self.causal)[0]


@pytest.mark.parametrize("need_weights, mask, causal", [(True, False, False), (True, True, True),
                                                        (False, True, True), (False, True, False)])
def test_multihead_attention_dynamic_batch_and_sequence(tmp_path, need_weights, mask, causal):
    torch.manual_seed(10)
    model, x = _Mha(need_weights, mask, causal).eval(), torch.randn(2, 5, 8)
    _, sess = _export(model, (x,), tmp_path / "mha.onnx", input_names=["x"], dynamic_axes={"x": {0: "B", 1: "T"}})
    # the reshapes to (T, B * heads, d) & co. read B and T from the input's shape; the causal mask is rebuilt
    # (Trilu) at the run-time length
    _check_runs(sess, model, ["x"], (x,), (torch.randn(3, 7, 8),))


# ---- the language-model examples ------------------------------------------------------------------------
def _load_example(name: str):
    """examples/NAME.py with `import torch` (and torch.X) bound to glasstorch (its main() is not run)."""
    import importlib.util
    from pathlib import Path

    from glasstorch._compat import torch_alias

    path = Path(__file__).resolve().parent.parent / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"glasstorch_onnx_example_{name}", path)
    module = importlib.util.module_from_spec(spec)
    with torch_alias():
        spec.loader.exec_module(module)
    return module


class _LogitsOnly(nn.Module):
    def __init__(self, gpt):
        super().__init__()
        self.gpt = gpt

    def forward(self, idx):
        return self.gpt(idx)[0]  # (logits, loss=None)


def test_char_gpt_exports_with_dynamic_batch_and_length(tmp_path):
    example = _load_example("char_gpt")
    torch.manual_seed(11)
    model = _LogitsOnly(example.GPTLanguageModel(vocab_size=20, n_embd=16, n_head=2, n_layer=2, block_size=8,
                                                 dropout=0.1)).eval()
    idx = torch.randint(0, 20, (3, 5))
    proto, sess = _export(model, (idx,), tmp_path / "gpt.onnx", input_names=["idx"], output_names=["logits"],
                          dynamic_axes={"idx": {0: "B", 1: "T"}})
    # positions (arange(T)) and each head's causal mask (tril[:T, :T] == 0) are rebuilt at the run-time length
    _check_runs(sess, model, ["idx"], (idx,), (torch.randint(0, 20, (2, 8)),), (torch.randint(0, 20, (4, 1)),))
    assert [d.dim_param for d in proto.graph.output[0].type.tensor_type.shape.dim][:2] == ["B", "T"]
    assert {"Trilu", "Range", "Where", "Softmax", "LayerNormalization"} <= {n.op_type for n in proto.graph.node}


def test_char_gpt_at_full_block_keeps_the_traced_length(tmp_path):
    """T = block_size cannot grow (the position table ends): the export warns and keeps the traced sizes,
    though the leading batch axis still copies the input's (Reshape's 0)."""
    example = _load_example("char_gpt")
    torch.manual_seed(12)
    model = _LogitsOnly(example.GPTLanguageModel(20, 8, 2, 1, 4, 0.0)).eval()
    idx = torch.randint(0, 20, (2, 4))
    with pytest.warns(UserWarning, match="dynamic axes could not be traced, it cannot run at other sizes"):
        _, sess = _export(model, (idx,), tmp_path / "gpt.onnx", input_names=["idx"],
                          dynamic_axes={"idx": {0: "B", 1: "T"}})
    _check_runs(sess, model, ["idx"], (idx,), (torch.randint(0, 20, (5, 4)),))


def test_word_lm_lstm_exports_with_states(tmp_path):
    example = _load_example("word_lm")
    torch.manual_seed(13)
    model = example.RNNModel(ntoken=30, ninp=8, nhid=12, nlayers=2).eval()
    tokens, hidden = torch.randint(0, 30, (5, 4)), (torch.randn(2, 4, 12), torch.randn(2, 4, 12))
    names = ["tokens", "h0", "c0"]
    proto, sess = _export(model, (tokens, hidden), tmp_path / "lm.onnx", input_names=names,
                          output_names=["logits", "h_n", "c_n"],
                          dynamic_axes={"tokens": {0: "T", 1: "B"}, "h0": {1: "B"}, "c0": {1: "B"}})
    other = (torch.randint(0, 30, (9, 2)), (torch.randn(2, 2, 12), torch.randn(2, 2, 12)))
    _check_runs(sess, model, names, (tokens, hidden), other)
    assert [n.op_type for n in proto.graph.node].count("LSTM") == 2


def test_word_lm_transformer_exports_with_dynamic_length(tmp_path):
    """Causal TransformerEncoder with sinusoidal positions: pe[:T] becomes a Slice of the buffer and the
    square subsequent mask a Trilu, both at the run-time length."""
    example = _load_example("word_lm")
    torch.manual_seed(17)
    model = example.TransformerModel(ntoken=30, ninp=8, nhead=2, nhid=16, nlayers=2).eval()
    src = torch.randint(0, 30, (5, 3))
    proto, sess = _export(model, (src,), tmp_path / "tf.onnx", input_names=["src"],
                          dynamic_axes={"src": {0: "T", 1: "B"}})
    _check_runs(sess, model, ["src"], (src,), (torch.randint(0, 30, (9, 2)),))
    assert "pos_encoder.pe" in {i.name for i in proto.graph.initializer}


def test_export_params_false_with_lstm():
    """The gate reordering is a Gather on the parameter itself, so parameters can be graph inputs."""
    torch.manual_seed(14)
    model, x = nn.GRU(2, 3), torch.randn(4, 1, 2)
    buf = io.BytesIO()
    torch.onnx.export(model, (x,), buf, export_params=False, input_names=["x"])
    sess = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    feed = {"x": x.numpy(), **{k: v.numpy() for k, v in model.state_dict().items()}}
    with torch.no_grad():
        want = model(x)
    for a, b in zip(sess.run(None, feed), want):
        np.testing.assert_allclose(a, b.numpy(), **TOL)


class _MaskIndex(nn.Module):
    def forward(self, x):
        return x[x > 0]


def test_boolean_mask_index_raises(tmp_path):
    with pytest.raises(RuntimeError, match="'IndexBackward0' to ONNX: only an index with one integer tensor"):
        torch.onnx.export(_MaskIndex(), (torch.randn(3),), str(tmp_path / "m.onnx"))
    assert os.listdir(tmp_path) == []


# ---- cross-check with PyTorch's own exporter ---------------------------------------------------------------
def _mixed_sequence_model(lib):
    """The same module in PyTorch or glasstorch (lib): embedding, bidirectional GRU, 2-layer LSTM,
    self-attention, batch norm (eval), linear head, softmax."""
    class Model(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = lib.nn.Embedding(11, 8)
            self.gru = lib.nn.GRU(8, 6, bidirectional=True, batch_first=True)
            self.lstm = lib.nn.LSTM(12, 5, num_layers=2)
            self.mha = lib.nn.MultiheadAttention(5, 1)
            self.bn = lib.nn.BatchNorm1d(5)
            self.head = lib.nn.Linear(5, 11)

        def forward(self, tokens):
            y, _ = self.gru(self.emb(tokens))  # (B, T, 12)
            z, (h, _) = self.lstm(y.transpose(0, 1))  # (T, B, 5)
            a = self.mha(z, z, z)[0]
            a = self.bn(a.permute(1, 2, 0)).permute(2, 0, 1)
            return lib.softmax(self.head(lib.tanh(a) + z), -1), h

    return Model()


def test_same_outputs_as_pytorchs_exporter(tmp_path):
    """Our ONNX file and the one PyTorch's (TorchScript) exporter writes for the same weights give the same
    outputs in onnxruntime; at other batch/sequence sizes ours gives PyTorch's eager outputs (PyTorch's own
    file bakes the traced length into its attention reshapes, so it cannot run those)."""
    import warnings

    real = pytest.importorskip("torch")
    real.manual_seed(15)
    theirs = _mixed_sequence_model(real).eval()
    with real.no_grad():
        theirs.bn.running_mean.normal_()
        theirs.bn.running_var.uniform_(0.5, 2.0)
    ours = _mixed_sequence_model(torch).eval()
    ours.load_state_dict({k: torch.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    tokens = np.array([[1, 2, 3, 4], [5, 6, 7, 10]])
    kw = dict(input_names=["tokens"], output_names=["probs", "h_n"],
              dynamic_axes={"tokens": {0: "B", 1: "T"}, "probs": {0: "T", 1: "B"}, "h_n": {1: "B"}})
    _, sess = _export(ours, (torch.tensor(tokens),), tmp_path / "ours.onnx", **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation and LSTM batch-size notes
        real.onnx.export(theirs, (real.tensor(tokens),), str(tmp_path / "theirs.onnx"), dynamo=False, **kw)
    ref = ort.InferenceSession(str(tmp_path / "theirs.onnx"), providers=["CPUExecutionProvider"])
    for a, b in zip(sess.run(None, {"tokens": tokens}), ref.run(None, {"tokens": tokens})):
        np.testing.assert_allclose(a, b, **TOL)
    other = np.array([[0, 9, 9, 1, 2, 3]] * 3)
    with real.no_grad():
        want = theirs(real.tensor(other))
    for a, b in zip(sess.run(None, {"tokens": other}), want):
        np.testing.assert_allclose(a, b.numpy(), **TOL)


@pytest.mark.parametrize("dim, index, shape", [(-1, 3, (2, 3)), (1, -4, (2, 3)), (2, 0, (2, 3)), (0, 0, ())])
def test_select_errors_match_torch(dim, index, shape):
    from _compare import assert_same_error

    assert_same_error(lambda m, a: m.select(a, dim, index), [np.zeros(shape)])


class _Select(nn.Module):
    def forward(self, x):
        return x.select(1, -1)[:, None, :] * 2 + torch.select(x, 2, 0)[:, :, None]  # (B, N, 3)


def test_select_exports(tmp_path):
    x = torch.randn(2, 3, 3)
    _, sess = _export(_Select(), (x,), tmp_path / "s.onnx", dynamic_axes={"input": {0: "B", 1: "N"}})
    _check_runs(sess, _Select(), ["input"], (x,), (torch.randn(4, 5, 3),))


class _FunctionalBatchNorm(nn.Module):
    """F.batch_norm with statistics that are not buffers: exported with the values the node kept."""

    def __init__(self):
        super().__init__()
        self.mean, self.var = torch.randn(3), torch.rand(3) + 0.5
        self.weight = nn.Parameter(torch.randn(3))

    def forward(self, x):
        return F.batch_norm(x, self.mean, self.var, self.weight, None, training=False, eps=1e-3)


def test_functional_batch_norm_with_plain_statistics(tmp_path):
    torch.manual_seed(16)
    model, x = _FunctionalBatchNorm(), torch.randn(4, 3, 5)
    _, sess = _export(model, (x,), tmp_path / "bn.onnx", dynamic_axes={"input": {0: "B"}})
    _check_runs(sess, model, ["input"], (x,), (torch.randn(2, 3, 5),))


class _ShiftedBroadcast(_ShiftedEmbedding):
    def forward(self, idx):
        return self.emb(idx + 1).sum(0).expand(idx.shape[0], -1, -1)  # B read from the shape of idx


def test_untraceable_integer_input_with_dynamic_axes_raises(tmp_path):
    """A dynamic axis lets the graph read the input's size, which must not count as tracing its values."""
    with pytest.raises(RuntimeError, match="could not trace the integer input 'tokens'"):
        torch.onnx.export(_ShiftedBroadcast(), (torch.tensor([[0, 3]]),), str(tmp_path / "e.onnx"),
                          input_names=["tokens"], dynamic_axes={"tokens": {0: "B"}})


def test_old_opset_refused(tmp_path):
    with pytest.raises(ValueError, match="opset 17 or later, got opset_version=13"):
        torch.onnx.export(nn.Linear(2, 2), (torch.randn(1, 2),), str(tmp_path / "o.onnx"), opset_version=13)
    assert os.listdir(tmp_path) == []


class _Seq2Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.t = nn.Transformer(8, 2, 1, 1, 16, batch_first=True, norm_first=True, activation="gelu")

    def forward(self, src, tgt):
        mask = nn.Transformer.generate_square_subsequent_mask(tgt.shape[1])
        return self.t(src, tgt, tgt_mask=mask, tgt_is_causal=True)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")  # PyTorch's own note for norm_first
def test_encoder_decoder_transformer(tmp_path):
    torch.manual_seed(18)
    model, args = _Seq2Seq().eval(), (torch.randn(2, 5, 8), torch.randn(2, 4, 8))
    _, sess = _export(model, args, tmp_path / "s2s.onnx", input_names=["src", "tgt"],
                      dynamic_axes={"src": {0: "B", 1: "S"}, "tgt": {0: "B", 1: "T"}})
    _check_runs(sess, model, ["src", "tgt"], args, (torch.randn(3, 7, 8), torch.randn(3, 2, 8)))


class _Gathers(nn.Module):
    """Integer-tensor indices: a graph input (x[..., idx], x[idx]) and constants (2-D, in the middle)."""

    def forward(self, x, idx):
        mid = x[:, torch.tensor([[1, 0], [2, 2]])]  # (B, 2, 2, 3)
        return x[..., idx] * 2 + x[idx] + mid.sum(2)[:, :1] + x[..., idx, :]


def test_integer_tensor_indices(tmp_path):
    torch.manual_seed(20)
    x, idx = torch.randn(3, 3, 3), torch.tensor([2, 0, 1])
    _, sess = _export(_Gathers(), (x, idx), tmp_path / "g.onnx", input_names=["x", "idx"])
    # another index reaches the graph: it is an input, not a constant
    _check_runs(sess, _Gathers(), ["x", "idx"], (x, idx), (x, torch.tensor([1, 1, 0])))


class _MoreOps(nn.Module):
    """Activations and reductions beyond the pointwise table: silu, elu, clamp, softplus (beta, threshold), mish,
    logsigmoid, hardtanh/relu6, leaky_relu, maximum/minimum, max/min (values), var, vector norms, glu, repeat,
    einsum."""

    def forward(self, x):
        y = (F.silu(x) + F.elu(x, 0.7) + x.clamp(-0.5, 0.5) + x.clamp(min=0.1) + F.softplus(x, 2.0, 1.0)
             + F.mish(x) + F.logsigmoid(x) + torch.maximum(x, x * 2) + torch.minimum(x, 0.3 * x)
             + F.hardtanh(x, -0.3, 0.8) + F.relu6(x * 4) + F.leaky_relu(x, 0.3))
        r = (x.max(-1)[0] + x.min(1, keepdim=True)[0].squeeze(1) + x.max() + x.var(-1) + x.norm(dim=-1)
             + x.norm(p=1, dim=1) + x.norm(p=3, dim=-1) + torch.linalg.vector_norm(x, float("inf"), dim=-1))
        return y, r, F.glu(x.repeat(1, 2), -1) + x.repeat(2, 1, 1).sum(0), torch.einsum("ij,kj->ik", x, x)


@pytest.mark.parametrize("opset", [17, 18])  # Reduce*'s axes and Split's num_outputs change at opset 18
def test_more_activations_and_reductions(tmp_path, opset):
    torch.manual_seed(21)
    x = torch.randn(4, 3)
    _, sess = _export(_MoreOps(), (x,), tmp_path / "more.onnx", input_names=["x"], opset_version=opset,
                      dynamic_axes={"x": {0: "B"}})
    _check_runs(sess, _MoreOps(), ["x"], (x,), (torch.randn(6, 3),))


class _Generator(nn.Module):
    """A DCGAN-like decoder: transposed convolutions (stride, padding, output_padding, groups, dilation),
    batch norm (eval), leaky ReLU."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1), nn.BatchNorm2d(6),
                                 nn.LeakyReLU(0.2), nn.ConvTranspose2d(6, 4, 3, groups=2, dilation=2, padding=2),
                                 nn.Tanh())

    def forward(self, z):
        return self.net(z)


def test_transposed_convolutions(tmp_path):
    torch.manual_seed(22)
    model, z = _Generator().eval(), torch.randn(2, 4, 3, 5)
    proto, sess = _export(model, (z,), tmp_path / "gen.onnx", input_names=["z"], dynamic_axes={"z": {0: "B"}})
    _check_runs(sess, model, ["z"], (z,), (torch.randn(3, 4, 3, 5),))
    assert {"ConvTranspose", "LeakyRelu", "BatchNormalization"} <= {n.op_type for n in proto.graph.node}
