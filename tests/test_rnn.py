"""RNN, LSTM, GRU, their cells and nn.utils.rnn against PyTorch: values, final states and every gradient.

Each glasstorch module gets torch's parameters (state_dict through NumPy), both run the same inputs, and a
loss that weights every output and state element differently (so a gradient routed to the wrong element or
gate shows) is backpropagated in both.
"""
import numpy as np
import pytest
import torch

import glasstorch
from glasstorch.nn.utils import rnn as grnn
from tests._compare import assert_same, assert_same_error
from torch.nn.utils import rnn as trnn

# torch's own note that its CPU LSTM with proj_size falls back from oneDNN to its plain implementation
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")

# float64: both sides do the same arithmetic up to summation order: 1e-10 (the spec).
# float32: a few matrix products and up to 5 recurrent steps, each rounding at ~6e-8 relative, summed in a
# different order by OpenBLAS and PyTorch's kernels; parameter gradients are sums of ~50 such terms of size
# ~1, so differences reach a few 1e-6 absolute where the exact value is near 0, hence the atol.
TOL = {"float64": dict(rtol=1e-10, atol=1e-10), "float32": dict(rtol=1e-5, atol=2e-5)}
DTYPES = {"float64": (np.float64, torch.float64, glasstorch.float64),
          "float32": (np.float32, torch.float32, glasstorch.float32)}


def _pair(cls: str, *args, dtype="float64", **kwargs):
    """The same module in both libraries, glasstorch's loaded with torch's parameters (seeded: every run
    tests the same values)."""
    torch.manual_seed(0)
    theirs = getattr(torch.nn, cls)(*args, **kwargs).to(DTYPES[dtype][1])
    ours = getattr(glasstorch.nn, cls)(*args, **kwargs).to(DTYPES[dtype][2])
    ours.load_state_dict({k: glasstorch.from_numpy(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def _leaves(arrays):
    """(glasstorch leaves, torch leaves) holding copies of the arrays (None stays None)."""
    ours = [None if a is None else glasstorch.from_numpy(a.copy()).requires_grad_(True) for a in arrays]
    theirs = [None if a is None else torch.from_numpy(a.copy()).requires_grad_(True) for a in arrays]
    return ours, theirs


def _weighted_sum(m, tensors, seed=1):
    """sum_k (w_k * t_k).sum() with fixed random weights w_k: every element's gradient differs."""
    rng = np.random.default_rng(seed)
    total = 0
    for t in tensors:
        w = rng.standard_normal(tuple(t.shape)).astype(np.float64 if "64" in str(t.dtype) else np.float32)
        total = total + (t * m.from_numpy(w)).sum()
    return total


def _flat(out):
    """The tensors of an RNN's result ((output, h_n) or (output, (h_n, c_n))), PackedSequence data included."""
    output, state = out
    if isinstance(output, (grnn.PackedSequence, trnn.PackedSequence)):
        output = output.data
    return [output] + (list(state) if isinstance(state, tuple) else [state])


def _compare_run(ours_m, theirs_m, arrays, call, dtype):
    """Run call(module, leaves) in both, then compare results, input/state gradients and parameter gradients."""
    tol = TOL[dtype]
    ours_in, theirs_in = _leaves(arrays)
    ours_out = call(ours_m, ours_in, glasstorch)
    theirs_out = call(theirs_m, theirs_in, torch)
    ours_t, theirs_t = _flat(ours_out), _flat(theirs_out)
    assert_same(ours_t, theirs_t, tol, "outputs")
    _weighted_sum(glasstorch, ours_t).backward()
    _weighted_sum(torch, theirs_t).backward()
    for i, (o, t) in enumerate(zip(ours_in, theirs_in)):
        if t is not None:
            assert_same(o.grad, t.grad, tol, f"grad of input {i}")
    for (name, p), (tname, q) in zip(ours_m.named_parameters(), theirs_m.named_parameters()):
        assert name == tname
        assert_same(p.grad, q.grad, tol, f"grad of {name}")


CONFIGS = [
    dict(),
    dict(num_layers=2),
    dict(bidirectional=True),
    dict(num_layers=2, bidirectional=True, batch_first=True),
    dict(bias=False, batch_first=True),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()) or "default")
@pytest.mark.parametrize("cls", ["RNN", "RNN-relu", "LSTM", "LSTM-proj", "GRU"])
@pytest.mark.parametrize("with_state", [False, True])
def test_layer_matches_torch(cls, config, dtype, with_state):
    kwargs = dict(config)
    if cls == "RNN-relu":
        cls, kwargs["nonlinearity"] = "RNN", "relu"
    if cls == "LSTM-proj":
        cls, kwargs["proj_size"] = "LSTM", 2
    ours, theirs = _pair(cls, 3, 4, dtype=dtype, **kwargs)
    steps, batch = 4, 2
    rng = np.random.default_rng(0)
    np_dtype = DTYPES[dtype][0]
    x = rng.standard_normal((batch, steps, 3) if kwargs.get("batch_first") else (steps, batch, 3)).astype(np_dtype)
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    h0 = rng.standard_normal((layers, batch, kwargs.get("proj_size") or 4)).astype(np_dtype) if with_state else None
    c0 = rng.standard_normal((layers, batch, 4)).astype(np_dtype) if with_state and cls == "LSTM" else None

    def call(m, t, lib):
        if t[1] is None:
            return m(t[0])
        return m(t[0], (t[1], t[2]) if cls == "LSTM" else t[1])

    _compare_run(ours, theirs, [x, h0, c0], call, dtype)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_unbatched_input(cls, batch_first):
    ours, theirs = _pair(cls, 3, 4, num_layers=2, bidirectional=True, batch_first=batch_first)
    rng = np.random.default_rng(1)
    x, h0, c0 = rng.standard_normal((5, 3)), rng.standard_normal((4, 4)), rng.standard_normal((4, 4))

    def call(m, t, lib):
        return m(t[0], (t[1], t[2]) if cls == "LSTM" else t[1])

    _compare_run(ours, theirs, [x, h0, c0 if cls == "LSTM" else None], call, "float64")


@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("cls", ["RNN", "LSTM", "LSTM-proj", "GRU"])
def test_packed_sequence_through_layer(cls, enforce_sorted):
    kwargs = dict(num_layers=2, bidirectional=True)
    if cls == "LSTM-proj":
        cls, kwargs["proj_size"] = "LSTM", 3
    ours, theirs = _pair(cls, 3, 4, **kwargs)
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 4, 3))
    h0 = rng.standard_normal((4, 4, kwargs.get("proj_size") or 4))
    c0 = rng.standard_normal((4, 4, 4)) if cls == "LSTM" else None

    def call(m, t, lib):
        packed = lib.nn.utils.rnn.pack_padded_sequence(t[0], lengths, enforce_sorted=enforce_sorted)
        out, state = m(packed, (t[1], t[2]) if cls == "LSTM" else t[1])
        for field in ("batch_sizes", "sorted_indices", "unsorted_indices"):
            ref = getattr(packed, field)
            assert (getattr(out, field) is None) == (ref is None)
        padded, lens = lib.nn.utils.rnn.pad_packed_sequence(out, total_length=6)
        assert lens.tolist() == lengths
        return padded, state

    _compare_run(ours, theirs, [x, h0, c0], call, "float64")


def test_packed_fields_match_torch():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 5, 2))
    for enforce_sorted, lengths in ((True, [5, 4, 2, 2, 1]), (False, [2, 4, 1, 5, 2])):
        for batch_first in (False, True):
            ours = grnn.pack_padded_sequence(glasstorch.from_numpy(x), lengths, batch_first, enforce_sorted)
            theirs = trnn.pack_padded_sequence(torch.from_numpy(x), torch.tensor(lengths), batch_first, enforce_sorted)
            assert type(ours).__name__ == "PackedSequence" and isinstance(ours, tuple)
            assert_same(list(ours), list(theirs))
            assert_same(list(grnn.pad_packed_sequence(ours, batch_first, padding_value=-2.0)),
                        list(trnn.pad_packed_sequence(theirs, batch_first, padding_value=-2.0)))


def test_pack_pad_gradients():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4, 2))
    (xo,), (xt,) = _leaves([x])
    lengths = [2, 4, 3]
    po = grnn.pack_padded_sequence(xo, lengths, batch_first=True, enforce_sorted=False)
    pt = trnn.pack_padded_sequence(xt, lengths, batch_first=True, enforce_sorted=False)
    uo = grnn.pad_packed_sequence(po, batch_first=True, total_length=5)[0]
    ut = trnn.pad_packed_sequence(pt, batch_first=True, total_length=5)[0]
    assert_same(uo, ut)
    _weighted_sum(glasstorch, [uo, po.data]).backward()
    _weighted_sum(torch, [ut, pt.data]).backward()
    assert_same(xo.grad, xt.grad)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence(batch_first, padding_side):
    rng = np.random.default_rng(5)
    seqs = [rng.standard_normal((n, 2, 3)) for n in (2, 4, 1)]
    ours_in, theirs_in = _leaves(seqs)
    ours = grnn.pad_sequence(ours_in, batch_first, -1.5, padding_side)
    theirs = trnn.pad_sequence(theirs_in, batch_first, -1.5, padding_side)
    assert_same(ours, theirs)
    _weighted_sum(glasstorch, [ours]).backward()
    _weighted_sum(torch, [theirs]).backward()
    for o, t in zip(ours_in, theirs_in):
        assert_same(o.grad, t.grad)
    # a sequence is copied into its slot, so it may broadcast (here a width-1 trailing dim), in another dtype
    more = [seqs[0], seqs[1][:, :, :1].astype(np.float32)]
    assert_same(grnn.pad_sequence([glasstorch.from_numpy(a) for a in more], batch_first),
                trnn.pad_sequence([torch.from_numpy(a) for a in more], batch_first))


def test_pack_and_unpack_sequence_lists():
    rng = np.random.default_rng(6)
    seqs = [rng.standard_normal((n, 3)).astype(np.float32) for n in (3, 5, 1)]
    ours = grnn.pack_sequence([glasstorch.from_numpy(s) for s in seqs], enforce_sorted=False)
    theirs = trnn.pack_sequence([torch.from_numpy(s) for s in seqs], enforce_sorted=False)
    assert_same(list(ours), list(theirs))
    assert_same(grnn.unpack_sequence(ours), trnn.unpack_sequence(theirs))
    padded = rng.standard_normal((5, 3, 2))
    lengths = [3, 5, 1]
    assert_same(grnn.unpad_sequence(glasstorch.from_numpy(padded), glasstorch.tensor(lengths)),
                trnn.unpad_sequence(torch.from_numpy(padded.copy()), torch.tensor(lengths)))
    assert_same(grnn.invert_permutation(glasstorch.tensor([2, 0, 3, 1])),
                trnn.invert_permutation(torch.tensor([2, 0, 3, 1])))
    assert grnn.invert_permutation(None) is None
    assert repr(ours.double()).startswith("PackedSequence(data=tensor(")
    assert ours.double().data.dtype == glasstorch.float64
    assert ours.to(glasstorch.float64).batch_sizes is ours.batch_sizes


@pytest.mark.parametrize("cls", ["RNNCell", "RNNCell-relu", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("form", ["batched", "unbatched", "no-state", "no-bias"])
def test_cells_match_torch(cls, dtype, form):
    kwargs = {}
    if cls == "RNNCell-relu":
        cls, kwargs["nonlinearity"] = "RNNCell", "relu"
    if form == "no-bias":
        kwargs["bias"] = False
    ours, theirs = _pair(cls, 3, 4, dtype=dtype, **kwargs)
    rng = np.random.default_rng(7)
    np_dtype = DTYPES[dtype][0]
    lead = () if form == "unbatched" else (2,)
    x = rng.standard_normal(lead + (3,)).astype(np_dtype)
    h = None if form == "no-state" else rng.standard_normal(lead + (4,)).astype(np_dtype)
    c = None if form == "no-state" or cls != "LSTMCell" else rng.standard_normal(lead + (4,)).astype(np_dtype)

    def call(m, t, lib):
        if t[1] is None:
            out = m(t[0])
        else:
            out = m(t[0], (t[1], t[2]) if cls == "LSTMCell" else t[1])
        return out if cls == "LSTMCell" else (out, ())

    _compare_run(ours, theirs, [x, h, c], call, dtype)


@pytest.mark.parametrize("cls", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_gradcheck(cls):
    glasstorch.manual_seed(0)
    cell = getattr(glasstorch.nn, cls)(3, 4).double()
    x = glasstorch.randn(2, 3, dtype=glasstorch.float64, requires_grad=True)
    h = glasstorch.randn(2, 4, dtype=glasstorch.float64, requires_grad=True)
    c = glasstorch.randn(2, 4, dtype=glasstorch.float64, requires_grad=True)
    params = list(cell.parameters())

    def fn(x, h, c, *ps):
        for p, v in zip(params, ps):
            p.data = v.detach()
        if cls == "LSTMCell":
            return cell(x, (h, c))
        return cell(x, h) * (1 + c.sum())  # c enters only here, so the check still covers all inputs

    assert glasstorch.autograd.gradcheck(lambda x, h, c: fn(x, h, c, *params), (x, h, c))


def test_tiny_lstm_gradcheck():
    """Two layers, both directions, a projection and a packed batch: the whole fused backward against
    finite differences (inputs, states and every weight)."""
    glasstorch.manual_seed(0)
    lstm = glasstorch.nn.LSTM(2, 3, num_layers=2, bidirectional=True, proj_size=2).double()
    x = glasstorch.randn(3, 2, 2, dtype=glasstorch.float64, requires_grad=True)
    h0 = glasstorch.randn(4, 2, 2, dtype=glasstorch.float64, requires_grad=True)
    c0 = glasstorch.randn(4, 2, 3, dtype=glasstorch.float64, requires_grad=True)
    names = [n for n, _ in lstm.named_parameters()]

    def fn(x, h0, c0, *weights):
        for n, w in zip(names, weights):
            lstm._parameters[n] = w
        packed = grnn.pack_padded_sequence(x, [3, 2])
        out, (h, c) = lstm(packed, (h0, c0))
        return out.data, h, c

    weights = [p.detach().requires_grad_(True) for p in lstm.parameters()]
    assert glasstorch.autograd.gradcheck(fn, (x, h0, c0, *weights))


def test_parameters_state_dict_repr_and_init():
    for kwargs in (dict(), dict(num_layers=2, bidirectional=True, proj_size=2, bias=False, batch_first=True,
                                dropout=0.5)):
        ours = glasstorch.nn.LSTM(3, 4, **kwargs)
        theirs = torch.nn.LSTM(3, 4, **kwargs)
        assert repr(ours) == repr(theirs)
        assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
               [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
        assert [[tuple(p.shape) for p in ws] for ws in ours.all_weights] == \
               [[tuple(p.shape) for p in ws] for ws in theirs.all_weights]
        assert ours.flatten_parameters() is None
    for cls, args, kwargs in (("RNN", (3, 4, 2, "relu"), {}), ("GRU", (3, 4), dict(bias=False)),
                              ("RNNCell", (3, 4), dict(nonlinearity="relu")), ("LSTMCell", (3, 4), {}),
                              ("GRUCell", (3, 4), dict(bias=False))):
        ours, theirs = getattr(glasstorch.nn, cls)(*args, **kwargs), getattr(torch.nn, cls)(*args, **kwargs)
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
    # U(-1/sqrt(hidden), 1/sqrt(hidden)) for every weight and bias: bounded, and filling the range
    glasstorch.manual_seed(0)
    values = np.concatenate([p.detach().numpy().ravel() for p in glasstorch.nn.GRU(16, 64).parameters()])
    bound = 1 / 8
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.99 * bound
    assert abs(values.mean()) < 0.01 and abs(values.std() - bound / np.sqrt(3)) < 0.01


def test_dropout_between_layers_only_in_training():
    ours, theirs = _pair("LSTM", 3, 4, num_layers=3, dropout=0.5)
    x = np.random.default_rng(8).standard_normal((4, 2, 3))
    ours.eval()
    theirs.eval()
    assert_same(ours(glasstorch.from_numpy(x))[0], theirs(torch.from_numpy(x))[0])
    ours.train()
    glasstorch.manual_seed(1)
    a = ours(glasstorch.from_numpy(x))[0]
    b = ours(glasstorch.from_numpy(x))[0]
    ref = theirs(torch.from_numpy(x))[0].detach().numpy()
    assert not np.allclose(a.detach().numpy(), ref) and not np.allclose(a.detach().numpy(), b.detach().numpy())
    glasstorch.manual_seed(1)
    np.testing.assert_array_equal(ours(glasstorch.from_numpy(x))[0].detach().numpy(), a.detach().numpy())
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        glasstorch.nn.GRU(3, 4, dropout=0.2)


def test_lstm_grad_fn_is_one_node_per_layer_and_direction():
    """As PyTorch's CPU LSTM: the output's grad_fn is the last layer's fused node, whose input edge leads
    straight to the first layer's; h_n is a stack of the layers' final states."""
    x = np.random.default_rng(11).standard_normal((5, 2, 3)).astype(np.float32)
    out, (h, _) = glasstorch.nn.LSTM(3, 4, num_layers=2)(glasstorch.from_numpy(x).requires_grad_(True))
    ref, (ref_h, _) = torch.nn.LSTM(3, 4, num_layers=2)(torch.from_numpy(x).requires_grad_(True))
    assert out.grad_fn.name() == ref.grad_fn.name()
    assert h.grad_fn.name() == ref_h.grad_fn.name()
    first = out.grad_fn.next_functions[0][0]
    assert first.name() == ref.grad_fn.next_functions[0][0].name()
    assert first.next_functions[0][0].name() == "torch::autograd::AccumulateGrad"


def test_final_state_gradient_alone_and_hooks():
    """Only h_n (output 1 of the fused node) used: its gradient and a hook on the cell state both work."""
    ours, theirs = _pair("LSTMCell", 3, 4)
    x = np.random.default_rng(9).standard_normal((2, 3))
    (xo,), (xt,) = _leaves([x])
    seen = []
    ho, co = ours(xo)
    ht, ct = theirs(xt)
    co.register_hook(lambda g: seen.append(g) or g * 2)
    (co * 3).sum().backward()
    (ct * 6).sum().backward()
    assert len(seen) == 1 and float(seen[0].sum()) == 3 * 8
    assert_same(xo.grad, xt.grad)


def test_backward_from_a_later_output_of_a_multi_output_node():
    """c (output 2 of the LSTM cell's fused node) as the root of backward, and likewise the second result
    of a custom Function: the gradient seeds that output, not output 0."""
    ours, theirs = _pair("LSTMCell", 3, 4)
    x = np.random.default_rng(12).standard_normal((2, 3))
    (xo,), (xt,) = _leaves([x])
    seed = np.arange(8.0).reshape(2, 4)
    ours(xo)[1].backward(glasstorch.from_numpy(seed))
    theirs(xt)[1].backward(torch.from_numpy(seed))
    assert_same(xo.grad, xt.grad)

    def both(m):
        class TwoOut(m.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 2, a * 3

            @staticmethod
            def backward(ctx, ga, gb):
                return ga * 2 + gb * 3

        a = m.ones(3, requires_grad=True)
        m.autograd.backward([TwoOut.apply(a)[1]], [m.full((3,), 5.0)])
        return a.grad

    assert_same(both(glasstorch), both(torch))


def test_no_grad_and_retained_graph():
    """Under no_grad nothing is recorded and the values are the same; a retained graph can be walked twice
    (the saved arrays are not consumed), doubling the gradients."""
    ours, theirs = _pair("LSTM", 3, 4, num_layers=2, bidirectional=True)
    x = np.random.default_rng(13).standard_normal((4, 2, 3))
    with glasstorch.no_grad():
        out, (h, c) = ours(glasstorch.from_numpy(x))
    assert out.grad_fn is None and h.grad_fn is None and not out.requires_grad
    assert_same([out, h, c], _flat(theirs(torch.from_numpy(x))))
    out, (h, c) = ours(glasstorch.from_numpy(x))
    loss = _weighted_sum(glasstorch, [out, h, c])
    loss.backward(retain_graph=True)
    once = ours.weight_hh_l1_reverse.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(ours.weight_hh_l1_reverse.grad.numpy(), 2 * once, rtol=1e-12)


def test_no_double_backward():
    lstm = glasstorch.nn.GRU(2, 3).double()
    x = glasstorch.randn(3, 1, 2, dtype=glasstorch.float64, requires_grad=True)
    (g,) = glasstorch.autograd.grad(lstm(x)[0].sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="no double backward"):
        g.sum().backward()


def test_in_place_change_of_a_weight_is_detected():
    lstm = glasstorch.nn.LSTM(2, 3)
    out, _ = lstm(glasstorch.randn(3, 1, 2))
    with glasstorch.no_grad():
        lstm.weight_hh_l0.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


# ---- errors ----------------------------------------------------------------------------------------------------
def _module_error(cls, args, kwargs, call_arrays, call):
    def fn(m, *tensors):
        return call(getattr(m.nn, cls)(*args, **kwargs), *tensors)
    assert_same_error(fn, call_arrays)


R = np.random.default_rng(10)


@pytest.mark.parametrize("cls, kwargs, arrays, call", [
    ("LSTM", {}, [R.standard_normal((2, 3, 3)).astype(np.float32)], lambda m, x: m(x)),
    ("LSTM", {}, [R.standard_normal((2, 3, 4)).astype(np.float32), np.zeros((1, 2, 5), np.float32),
                  np.zeros((1, 3, 5), np.float32)], lambda m, x, h, c: m(x, (h, c))),
    ("LSTM", dict(proj_size=2), [R.standard_normal((2, 3, 4)).astype(np.float32), np.zeros((1, 3, 2), np.float32),
                                 np.zeros((1, 3, 2), np.float32)], lambda m, x, h, c: m(x, (h, c))),
    ("LSTM", {}, [R.standard_normal((2, 4)).astype(np.float32), np.zeros((1, 2, 5), np.float32),
                  np.zeros((1, 5), np.float32)], lambda m, x, h, c: m(x, (h, c))),
    ("GRU", {}, [R.standard_normal((2, 3, 4)).astype(np.float32), np.zeros((1, 2, 5), np.float32)],
     lambda m, x, h: m(x, h)),
    ("GRU", {}, [R.standard_normal((2, 3, 4)).astype(np.float32), np.zeros((2, 5), np.float32)],
     lambda m, x, h: m(x, h)),
    ("RNN", {}, [R.standard_normal((3, 4)).astype(np.float32), np.zeros((1, 1, 5), np.float32)],
     lambda m, x, h: m(x, h)),
    ("RNN", {}, [R.standard_normal(4).astype(np.float32)], lambda m, x: m(x)),
    ("GRU", {}, [R.standard_normal((1, 2, 2, 4)).astype(np.float32)], lambda m, x: m(x)),
    ("GRU", {}, [R.standard_normal((2, 3, 4))], lambda m, x: m(x)),
    ("GRU", {}, [R.standard_normal((2, 3, 4)).astype(np.float32), np.zeros((1, 3, 5))], lambda m, x, h: m(x, h)),
    ("LSTM", {}, [R.standard_normal((0, 3, 4)).astype(np.float32)], lambda m, x: m(x)),
    ("LSTMCell", {}, [R.standard_normal((2, 3)).astype(np.float32)], lambda m, x: m(x)),
    ("LSTMCell", {}, [R.standard_normal((2, 4)).astype(np.float32), np.zeros((3, 5), np.float32),
                      np.zeros((3, 5), np.float32)], lambda m, x, h, c: m(x, (h, c))),
    ("LSTMCell", {}, [R.standard_normal((2, 4)).astype(np.float32), np.zeros((2, 5), np.float32),
                      np.zeros((2, 4), np.float32)], lambda m, x, h, c: m(x, (h, c))),
    ("GRUCell", {}, [R.standard_normal((2, 4)).astype(np.float32), np.zeros((2, 6), np.float32)],
     lambda m, x, h: m(x, h)),
    ("GRUCell", {}, [R.standard_normal((2, 4))], lambda m, x: m(x)),
    ("RNNCell", {}, [R.standard_normal((1, 2, 4)).astype(np.float32)], lambda m, x: m(x)),
])
def test_errors_match_torch(cls, kwargs, arrays, call):
    _module_error(cls, (4, 5), kwargs, arrays, call)


@pytest.mark.parametrize("cls, args, kwargs", [
    ("RNN", (4, 5), dict(nonlinearity="foo")),
    ("GRU", (4, 5), dict(proj_size=2)),
    ("LSTM", (4, 5), dict(proj_size=5)),
    ("LSTM", (4, 5), dict(dropout=2)),
    ("LSTM", (4, 0), {}),
    ("LSTM", (4, 5), dict(num_layers=0)),
    ("GRU", (4.0, 5), {}),
])
def test_constructor_errors_match_torch(cls, args, kwargs):
    assert_same_error(lambda m: getattr(m.nn, cls)(*args, **kwargs))


@pytest.mark.parametrize("call", [
    lambda m, x: m.nn.utils.rnn.pack_padded_sequence(x, [2, 4, 1]),
    lambda m, x: m.nn.utils.rnn.pack_padded_sequence(x, [4, 2, 0]),
    lambda m, x: m.nn.utils.rnn.pack_padded_sequence(x, [4, 2]),
    lambda m, x: m.nn.utils.rnn.pad_packed_sequence(m.nn.utils.rnn.pack_padded_sequence(x, [4, 2, 1]),
                                                   total_length=3),
    lambda m, x: m.nn.utils.rnn.pad_sequence([x[0], x[1].t()]),
    lambda m, x: m.nn.utils.rnn.pad_sequence([x[0]], padding_side="middle"),
    lambda m, x: m.nn.utils.rnn.pad_sequence([]),
    lambda m, x: m.nn.utils.rnn.pad_sequence(3),
])
def test_utils_errors_match_torch(call):
    assert_same_error(call, [R.standard_normal((4, 3, 2))])
