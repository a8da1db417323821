"""Deferred no-grad arithmetic (glasstorch/_ops/deferred.py): chains of large elementwise ops computed in
one compiled loop must give the eager ops' values bit for bit, and nothing that writes an operand in
place may change a result computed later."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import glasstorch as gt
from glasstorch._ops import deferred
from glasstorch.backends import cpu_expr

pytestmark = pytest.mark.skipif(not cpu_expr.available(), reason="needs the compiled-kernel extra (numba)")

N = deferred.MIN_SIZE + 17  # large enough to wait, and not a multiple of any vector width


@pytest.fixture
def eager():
    """Run the block with deferral off (the reference path)."""
    class Switch:
        def __enter__(self):
            deferred.ON = False

        def __exit__(self, *exc):
            deferred.ON = True
    return Switch()


def _arrays(dtype, seed=0, k=3):
    rng = np.random.default_rng(seed)
    return [np.abs(rng.standard_normal(N)).astype(dtype) + 0.5 for _ in range(k)]  # (sqrt stays real)


def _tensors(arrays):
    return [gt.tensor(a) for a in arrays]  # (copies: arrays shared with NumPy never wait)


def _adam(ts, t):
    p, g, m, v = ts
    with gt.no_grad():
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g ** 2
        m_hat = m / (1 - 0.9 ** t)
        v_hat = v / (1 - 0.999 ** t)
        p -= 0.001 * m_hat / (v_hat.sqrt() + 1e-8)
    return p, m, v


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_hand_written_adam_waits_and_matches_eager_bits(dtype, eager):
    arrays = _arrays(dtype, k=4)
    lazy, ref = _tensors(arrays), _tensors(arrays)
    with eager:
        for t in range(1, 4):
            ref[0], ref[2], ref[3] = _adam(ref, t)
    for t in range(1, 4):
        m_in = lazy[2]
        with gt.no_grad():
            m = 0.9 * m_in + 0.1 * lazy[1]
            assert type(m) is deferred._Deferred  # it waited
        lazy[0], lazy[2], lazy[3] = _adam(lazy, t)
    for a, b in zip(lazy, ref):
        assert a.dtype == b.dtype and np.array_equal(a.numpy(), b.numpy(), equal_nan=True)


def test_against_pytorch():
    torch = pytest.importorskip("torch")
    a, b = _arrays(np.float32, k=2)
    with gt.no_grad():
        got = ((gt.tensor(a) * 0.5 + gt.tensor(b)) / 3.0).sqrt() * (1 - gt.tensor(b)) + gt.tensor(b) ** 2
    want = ((torch.tensor(a) * 0.5 + torch.tensor(b)) / 3.0).sqrt() * (1 - torch.tensor(b)) + torch.tensor(b) ** 2
    # each step is one correctly rounded float32 operation in both, but torch may divide by a scalar as a
    # multiplication by its reciprocal (one more rounding), and the last sum cancels: allow a few ulps of
    # the largest term
    atol = 8 * np.finfo(np.float32).eps * float((b ** 2).max())
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=0, atol=atol)


_UNARY = ["neg", "sqrt", "square", "pow_half"]
_BINARY = ["add", "sub", "mul", "div"]


def _apply(op, x, y, c):
    if op == "neg":
        return -x
    if op == "sqrt":
        return x.sqrt()  # (NaN for negative values, in both paths)
    if op == "square":
        return x ** 2
    if op == "pow_half":
        return (x * x) ** 0.5
    if op == "rsub":
        return c - x
    if op == "scalar_right":
        return x / c
    if op == "scalar_left":
        return c * x
    return {"add": x + y, "sub": x - y, "mul": x * y, "div": x / y}[op]


@settings(max_examples=25, deadline=None)
@given(ops=st.lists(st.tuples(st.sampled_from(_UNARY + _BINARY + ["rsub", "scalar_right", "scalar_left"]),
                              st.integers(0, 5), st.integers(0, 5), st.sampled_from([0.5, 3, -1.25, 1e-8])),
                    min_size=1, max_size=10),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_random_chains_match_eager_bits(ops, dtype):
    """Any chain of the ops that wait, over shared operands, gives the eager values bit for bit."""
    arrays = _arrays(dtype, seed=len(ops))

    def run(on):
        deferred.ON = on
        try:
            values = _tensors(arrays)
            with gt.no_grad():
                for op, i, j, c in ops:
                    values.append(_apply(op, values[i % len(values)], values[j % len(values)], c))
            return [v.numpy().copy() for v in values]
        finally:
            deferred.ON = True

    for a, b in zip(run(True), run(False)):
        assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)


# ---- nothing that writes an operand changes a waiting result --------------------------------------------
WRITES = {
    "add_": lambda x: x.add_(1),
    "zero_": lambda x: x.zero_(),
    "setitem": lambda x: x.__setitem__(slice(0, 5), 7.0),
    "copy_": lambda x: x.copy_(gt.ones_like(x)),
    "uniform_": lambda x: x.uniform_(),
    "init.normal_": lambda x: gt.nn.init.normal_(x),
    "out=": lambda x: gt.add(gt.ones_like(x), 1, out=x),
    "fft out=": lambda x: gt.fft.irfft(gt.ones(x.numel() // 2 + 1, dtype=gt.complex64), n=x.numel(), out=x),
    "view add_": lambda x: x.view(-1)[10:].add_(3),
    "isub deferred": lambda x: x.sub_(x * 0.5),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_write_after_waiting(write):
    before = _arrays(np.float32, k=1)[0]
    x = gt.tensor(before)  # (not x.numpy(): an array handed to NumPy never waits)
    with gt.no_grad():
        y = x * 2 + 1
        z = y * 3  # waits on y, which waits on x
        assert type(y) is deferred._Deferred and type(z) is deferred._Deferred
        WRITES[write](x)
    assert np.array_equal(y.numpy(), before * np.float32(2) + np.float32(1))
    assert np.array_equal(z.numpy(), (before * np.float32(2) + np.float32(1)) * np.float32(3))


def test_write_to_a_waiting_tensor_itself():
    x = gt.tensor(_arrays(np.float32, k=1)[0])
    with gt.no_grad():
        a = x * 2
        b = a + 1  # reads a's value
        a.add_(5)
    x2 = x.numpy() * np.float32(2)
    assert np.array_equal(b.numpy(), x2 + np.float32(1))
    assert np.array_equal(a.numpy(), x2 + np.float32(5))


def test_optimizer_step_and_backward_do_not_change_waiting_results():
    w = gt.nn.Parameter(gt.tensor(_arrays(np.float32, k=1)[0]))
    opt = gt.optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    with gt.no_grad():
        old_w = w * 1.0
        old_g = w.grad * 1.0
    w_before, g_before = w.detach().clone().numpy(), w.grad.clone().numpy()
    opt.step()  # writes w
    (w * w).sum().backward()  # accumulates into w.grad
    assert np.array_equal(old_w.numpy(), w_before) and np.array_equal(old_g.numpy(), g_before)


def test_batch_norm_running_stats_update():
    bn = gt.nn.BatchNorm1d(N)
    with gt.no_grad():
        seen = bn.running_mean * 1.0 + 0.0
    bn(gt.randn(4, N))  # training mode: running_mean written in place
    assert np.array_equal(seen.numpy(), np.zeros(N, np.float32))


def test_arrays_shared_with_numpy_never_wait():
    arr = _arrays(np.float32, k=1)[0]
    t = gt.from_numpy(arr)
    with gt.no_grad():
        y = t * 2
    assert type(y) is not deferred._Deferred  # NumPy code may write arr at any time
    u = gt.tensor(arr)
    with gt.no_grad():
        z = u * 2
        view = u.numpy()  # computes z first, and u's later ops run eagerly
        view[:] = 0
        assert type(u * 2) is not deferred._Deferred
    assert np.array_equal(z.numpy(), arr * np.float32(2))


def test_version_guard_refuses_unseen_writes():
    x = gt.tensor(_arrays(np.float32, k=1)[0])
    with gt.no_grad():
        y = x * 2
    x._data[...] = 0  # a write that bypasses every in-place path
    x._vc[0] += 1
    with pytest.raises(RuntimeError, match="modified in place"):
        y.numpy()


def test_what_does_not_wait():
    big, small = gt.tensor(_arrays(np.float32, k=1)[0]), gt.ones(10)
    assert type(big * 2) is not deferred._Deferred  # recording a graph: never
    with gt.no_grad():
        assert type(small * 2) is not deferred._Deferred  # too small
        assert type(big * gt.ones(N, dtype=gt.float64)) is not deferred._Deferred  # promotion
        assert type(big.view(1, N) + gt.ones(4, 1)) is not deferred._Deferred  # broadcasting
        assert type(big.to(gt.int64) * 2) is not deferred._Deferred  # integers
        assert type(big.exp()) is not deferred._Deferred  # not one of the waiting ops
        d = big * 2
        assert type(d) is deferred._Deferred
        assert isinstance(d, gt.Tensor) and repr(type(d)) == repr(gt.Tensor)
        assert d.shape == (N,) and type(d) is gt.Tensor  # any read computes it


def test_one_op_alone_runs_as_numpy_does():
    """A single deferred op has nothing to fuse: it is computed by its NumPy call, with no loop compiled."""
    x = gt.tensor(_arrays(np.float32, k=1)[0])
    kernels = dict(cpu_expr._compiled)
    with gt.no_grad():
        y = x * 3
        assert type(y) is deferred._Deferred
        got = y.numpy()
    assert cpu_expr._compiled == kernels
    assert np.array_equal(got, x.numpy() * np.float32(3))


def test_fused_switch_off_at_run_time_runs_eagerly_then_waits_again(monkeypatch):
    from glasstorch.backends import cpu_fused

    x = gt.tensor(_arrays(np.float32, k=1)[0])
    with gt.no_grad():
        monkeypatch.setattr(cpu_fused, "ENABLED", False)
        assert type(x * 2) is not deferred._Deferred
        monkeypatch.setattr(cpu_fused, "ENABLED", True)
        assert type(x * 2) is deferred._Deferred


def test_long_chain_without_reads_is_bounded():
    x = gt.tensor(_arrays(np.float64, k=1)[0])
    ref = x.numpy().copy()
    with gt.no_grad():
        for _ in range(200):
            x = x * 1.001 + 0.5
            ref = ref * 1.001 + 0.5
    assert np.array_equal(x.numpy(), ref)


def test_inference_mode_and_save_load(tmp_path):
    x = gt.tensor(_arrays(np.float32, k=1)[0])
    with gt.inference_mode():
        y = x * 3 - 1
    gt.save(y, tmp_path / "y.pt")
    assert np.array_equal(gt.load(tmp_path / "y.pt").numpy(), x.numpy() * np.float32(3) - np.float32(1))


def test_kernel_text_is_cached_on_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSTORCH_KERNEL_CACHE", str(tmp_path))
    text = cpu_expr.source([("mul", (("x", 0), ("c", 0))), ("add", (("t", 0), ("x", 1)))], 2, [(1, ("y", 0))], 1)
    a, b, out = np.arange(5.0), np.ones(5), np.empty(5)
    cpu_expr._compiled.pop(text, None)
    cpu_expr.run(text, [a, b], [out], [2.5])
    assert np.array_equal(out, a * 2.5 + 1)
    files = [p.name for p in tmp_path.iterdir() if p.suffix == ".py"]
    assert len(files) == 1 and (tmp_path / files[0]).read_text().endswith(text)
