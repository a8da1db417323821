"""The compiled LSTM/GRU step arithmetic (glasstorch/backends/cpu_rnn.py) against the NumPy reference.

The compiled loops do the reference's (`_ops/rnn.py::NumpyCells`) operations in its order and precision,
with NumPy's own exp and tanh in between, so the two paths must agree bit for bit: every test here runs the
same module on the same inputs once per path and asserts exact equality of outputs, final states and all
gradients. tests/test_rnn.py compares with PyTorch on whichever path is active (CI runs it both ways).
"""
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import glasstorch as gt
from glasstorch.backends import cpu_rnn
from glasstorch.nn.utils import rnn as grnn
from tests._compare import assert_same

NUMBA = importlib.util.find_spec("numba") is not None
needs_numba = pytest.mark.skipif(not NUMBA, reason="numba is not installed (pip install glasstorch[fast]), so "
                                                   "there is no compiled path to compare with the NumPy one")
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
DTYPES = {"float64": (np.float64, gt.float64), "float32": (np.float32, gt.float32)}


@pytest.fixture
def calls(monkeypatch):
    """Counts the compiled kernels' calls, so a test also fails if the compiled path was silently skipped."""
    counts = {}
    for name in ("lstm_forward", "lstm_backward", "gru_forward", "gru_backward"):
        method = getattr(cpu_rnn.Cells, name)

        def counted(self, *args, _method=method, _name=name):
            counts[_name] = counts.get(_name, 0) + 1
            return _method(self, *args)

        monkeypatch.setattr(cpu_rnn.Cells, name, counted)
    return counts


def _run(module, x, pack, state, fused: bool, loss_on: str, monkeypatch):
    """Outputs, final states and every gradient (as NumPy arrays) of one forward + backward on one path.
    pack: None, or the lengths to pack x with (anew on each run: backward frees the packing's graph).
    loss_on 'all' weights every output and state element differently; 'h_n' backpropagates from the final
    state only (the layers then get no output gradient: the has_dout=False branch)."""
    monkeypatch.setattr(cpu_rnn, "ENABLED", fused)
    for p in module.parameters():
        p.grad = None
    leaves = [x, *state]
    for t in leaves:
        t.grad = None
    x_in = x if pack is None else grnn.pack_padded_sequence(x, pack, enforce_sorted=False)
    out, st = module(x_in, state if len(state) == 2 else state[0])
    data = out.data if isinstance(out, grnn.PackedSequence) else out
    finals = list(st) if isinstance(st, tuple) else [st]
    rng = np.random.default_rng(5)
    targets = ([data] if loss_on == "all" else []) + finals
    loss = sum((t * gt.from_numpy(rng.standard_normal(tuple(t.shape)).astype(t.detach().numpy().dtype))).sum()
               for t in targets)
    loss.backward()
    arrays = [data, *finals] + [t.grad for t in leaves] + [p.grad for p in module.parameters()]
    return [a.detach().numpy().copy() for a in arrays]


def _inputs(cls, kw, steps, batch, feat, dtype):
    """x (steps, batch, feat) and the initial state(s), all leaves that require grad."""
    np_dtype = DTYPES[dtype][0]
    rng = np.random.default_rng(0)
    layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    hid = kw["hidden_size"]
    shapes = [(steps, batch, feat), (layers, batch, kw.get("proj_size") or hid)]
    if cls == "LSTM":
        shapes.append((layers, batch, hid))
    x, *state = [gt.from_numpy(rng.standard_normal(s).astype(np_dtype)).requires_grad_() for s in shapes]
    return x, tuple(state)


CASES = [  # (class, constructor kwargs, steps, batch, lengths or None)
    ("LSTM", dict(hidden_size=37), 5, 3, None),  # 37: the vectorised loops' remainder elements too
    ("LSTM", dict(hidden_size=16, num_layers=2, bidirectional=True), 4, 3, [4, 2, 3]),  # packed: b shrinks
    ("LSTM", dict(hidden_size=12, proj_size=5), 4, 2, None),
    ("LSTM", dict(hidden_size=8, bias=False), 3, 2, None),
    ("GRU", dict(hidden_size=37), 5, 3, None),
    ("GRU", dict(hidden_size=16, num_layers=2, bidirectional=True), 4, 3, [4, 2, 3]),
    ("GRU", dict(hidden_size=8, bias=False), 3, 2, None),
]


@needs_numba
@pytest.mark.parametrize("loss_on", ["all", "h_n"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-" + "-".join(f"{k}={v}" for k, v in c[1].items())
                         + ("-packed" if c[4] else ""))
def test_compiled_path_equals_numpy_path_bitwise(case, dtype, loss_on, calls, monkeypatch):
    cls, kw, steps, batch, lengths = case
    feat = 6
    gt.manual_seed(0)
    module = getattr(gt.nn, cls)(feat, **kw).to(DTYPES[dtype][1])
    x, state = _inputs(cls, kw, steps, batch, feat, dtype)
    numpy_path = _run(module, x, lengths, state, False, loss_on, monkeypatch)
    assert not calls, "the NumPy path called compiled kernels"
    compiled = _run(module, x, lengths, state, True, loss_on, monkeypatch)
    mode = cls.lower()
    assert calls.get(f"{mode}_forward") and calls.get(f"{mode}_backward"), f"compiled path not taken: {calls}"
    assert len(compiled) == len(numpy_path)
    for i, (c, n) in enumerate(zip(compiled, numpy_path)):
        assert c.dtype == n.dtype and c.shape == n.shape, i
        # exact: the same operations in the same order on the same values (see the module docstring)
        np.testing.assert_array_equal(c, n, err_msg=f"array {i} differs between the compiled and NumPy paths")


@needs_numba
@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_compiled_path_matches_torch_on_a_benchmark_like_layer(cls, calls, monkeypatch):
    """A 2-layer float32 layer of the word-LM shape, scaled down, against torch's forward and gradients.
    float32 tolerance as tests/test_rnn.py argues it: matrix products summed in a different order by
    OpenBLAS and PyTorch's kernels, ~6e-8 relative per rounding, over 8 recurrent steps; weight
    gradients are sums of ~8 * 6 terms of size ~1, hence the atol."""
    monkeypatch.setattr(cpu_rnn, "ENABLED", True)
    torch.manual_seed(0)
    theirs = getattr(torch.nn, cls)(16, 48, num_layers=2)
    ours = getattr(gt.nn, cls)(16, 48, num_layers=2)
    ours.load_state_dict({k: gt.from_numpy(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(3).standard_normal((8, 6, 16)).astype(np.float32)
    xo, xt = gt.from_numpy(x.copy()).requires_grad_(), torch.from_numpy(x.copy()).requires_grad_()
    (oo, _), (ot, _) = ours(xo), theirs(xt)
    tol = dict(rtol=1e-5, atol=2e-5)
    assert_same(oo, ot, tol, "output")
    oo.pow(2).mean().backward()
    ot.pow(2).mean().backward()
    assert_same(xo.grad, xt.grad, tol, "grad of input")
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_same(p.grad, q.grad, tol, f"grad of {name}")
    assert calls.get(f"{cls.lower()}_forward") == 2 * 8, calls  # every step of both layers


@needs_numba
def test_cells_falls_back_to_numpy(monkeypatch):
    """cells() hands back None (the NumPy path runs) when switched off, for dtypes other than float32/64
    and for arrays that are not NumPy's, and hands back kernels otherwise."""
    monkeypatch.setattr(cpu_rnn, "ENABLED", True)  # (the suite may run with GLASSTORCH_FUSED=0)
    a = np.zeros((6, 8), np.float32)
    assert isinstance(cpu_rnn.cells(a, 3, 2), cpu_rnn.Cells)
    assert cpu_rnn.cells(a.astype(np.float16), 3, 2) is None
    assert cpu_rnn.cells(np.ma.masked_array(a), 3, 2) is None  # an ndarray subclass is not taken
    monkeypatch.setattr(cpu_rnn, "ENABLED", False)
    assert cpu_rnn.cells(a, 3, 2) is None


def test_without_numba_everything_falls_back(monkeypatch):
    monkeypatch.setattr(cpu_rnn, "_compiled", None)
    monkeypatch.setitem(sys.modules, "numba", None)  # makes `import numba` raise ImportError
    assert cpu_rnn.available() is False
    assert cpu_rnn.cells(np.zeros((2, 4)), 1, 1) is None


def test_environment_variable_switches_it_off():
    code = "from glasstorch.backends import cpu_rnn; print(cpu_rnn.available())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "GLASSTORCH_FUSED": "0"})
    assert out.stdout.strip() == "False"


@needs_numba
@pytest.mark.filterwarnings("error::RuntimeWarning")  # exp overflowing to inf in a saturated gate is silent
@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_saturated_gates_agree_and_stay_quiet(cls, calls, monkeypatch):
    """Inputs of size ~1e3 drive every gate to 0 or 1 exactly (exp(-x) overflows to inf, 1 / (inf + 1) = 0)."""
    gt.manual_seed(0)
    module = getattr(gt.nn, cls)(6, 9)
    x, state = _inputs(cls, dict(hidden_size=9), 4, 2, 6, "float32")
    x = (x.detach() * 1000).requires_grad_()
    numpy_path = _run(module, x, None, state, False, "all", monkeypatch)
    compiled = _run(module, x, None, state, True, "all", monkeypatch)
    assert calls.get(f"{cls.lower()}_forward") == 4
    pre = x.detach().numpy().reshape(-1, 6) @ module.weight_ih_l0.detach().numpy().T
    assert np.abs(pre).max() > 89  # beyond float32 exp's range (88.7): the overflow path ran
    for i, (c, n) in enumerate(zip(compiled, numpy_path)):
        np.testing.assert_array_equal(c, n, err_msg=f"array {i}")
