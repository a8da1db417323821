"""torch.onnx.export: the written model, run in onnxruntime, gives glasstorch's outputs.

Tolerance (float32): onnxruntime computes Gemm/Conv/LayerNorm with its own kernels (other summation
order, FMA), so each output differs by a few float32 roundings of sums of <= 32 terms: about 1e-6
relative at worst; rtol=1e-5 leaves margin yet catches any wrong weight, layout or attribute (those move
outputs by >= 1e-2). atol=1e-6 covers softmax probabilities near zero, whose relative error is unbounded.
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
    with pytest.raises(RuntimeError, match="Exporting the operator 'CumsumBackward0' to ONNX is not supported"):
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
