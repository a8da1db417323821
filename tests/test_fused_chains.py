"""The compiled forward/backward chains of backends/cpu_fused.py (ReLU's gradient, cross-entropy, dropout)
against torch and against the NumPy reference path they replace.

Tests taking the `path` fixture run twice: with the kernels ("fused", skipped when numba is not installed)
and with them switched off ("numpy", what GLASSTORCH_FUSED=0 does). CI runs this file in its numba pass.
"""
import importlib.util

import numpy as np
import pytest
import torch

import glasstorch as gt
from glasstorch.backends import cpu_fused

NUMBA = importlib.util.find_spec("numba") is not None
needs_numba = pytest.mark.skipif(not NUMBA, reason="numba is not installed (pip install glasstorch[fast]), "
                                                   "so the fused path is off and only the NumPy path is tested")
DTYPES = pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])


@pytest.fixture(params=[pytest.param(True, id="fused", marks=needs_numba), pytest.param(False, id="numpy")])
def path(request, monkeypatch):
    monkeypatch.setattr(cpu_fused, "ENABLED", request.param)
    return request.param


def _both_paths(monkeypatch, fn):
    """fn() with the kernels on, then off."""
    monkeypatch.setattr(cpu_fused, "ENABLED", True)
    fused = fn()
    monkeypatch.setattr(cpu_fused, "ENABLED", False)
    return fused, fn()


def _count_calls(monkeypatch):
    """The names of the compiled kernels run from now on."""
    calls = []
    run = cpu_fused._run
    monkeypatch.setattr(cpu_fused, "_run", lambda kernel, *a: (calls.append(kernel), run(kernel, *a)))
    kernels = cpu_fused._kernels if cpu_fused._kernels else cpu_fused._compile()
    for name in ("ce_rows", "ce_grad"):
        k = kernels[name]
        monkeypatch.setitem(kernels, name, lambda *a, k=k, name=name: (calls.append(name), k(*a))[1])
    return calls


# ---- ReLU's gradient ------------------------------------------------------------------------------
def _relu_grads(lib, x, g):
    xt = lib.tensor(x, requires_grad=True)
    lib.relu(xt).backward(lib.tensor(g))
    return xt.grad.numpy()


@DTYPES
def test_relu_grad_matches_torch(path, dtype):
    """Where the output is 0 (x <= 0, x = -0 included) the gradient is +0 even for g = -1, inf or nan;
    elsewhere it is g itself. A selection, so equal to torch bit for bit (sign of zero included)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 33)).astype(dtype)
    x[0, :4] = [0.0, -0.0, np.inf, -np.inf]
    g = rng.standard_normal(x.shape).astype(dtype)
    g[0, :4] = g[1, :4] = [np.inf, np.nan, -np.inf, -1.0]
    ours, ref = _relu_grads(gt, x, g), _relu_grads(torch, x, g)
    np.testing.assert_array_equal(ours, ref)
    np.testing.assert_array_equal(np.signbit(ours), np.signbit(ref))
    assert (ours == 0).sum() > 300  # both sides of the kink were exercised


@needs_numba
@DTYPES
def test_relu_grad_paths_agree_bitwise(monkeypatch, dtype):
    """The kernel and the NumPy bit trick select the same elements: equal bit for bit, also on a
    non-contiguous gradient (which the kernel leaves to NumPy) and with the parallel kernel."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 50, 40)).astype(dtype)
    g = rng.standard_normal((3, 40, 50)).astype(dtype)
    for grad in (g.reshape(x.shape), g.transpose(0, 2, 1)):
        fused, ref = _both_paths(monkeypatch, lambda: _relu_grads(gt, x, np.ascontiguousarray(grad)))
        np.testing.assert_array_equal(fused.view(np.uint8), ref.view(np.uint8))
    monkeypatch.setattr(cpu_fused, "PARALLEL_MIN", 1000)  # 6000 elements: the chunked parallel loop
    fused, ref = _both_paths(monkeypatch, lambda: _relu_grads(gt, x, g.reshape(x.shape)))
    np.testing.assert_array_equal(fused.view(np.uint8), ref.view(np.uint8))


def test_relu_double_backward_still_differentiable(path):
    """Under create_graph the formula runs on Tensors (the kernel is for plain backward only)."""
    x = gt.tensor([-1.0, 2.0, 3.0], dtype=gt.float64, requires_grad=True)
    (gx,) = gt.autograd.grad(gt.relu(x).pow(2).sum(), x, create_graph=True)
    (gxx,) = gt.autograd.grad(gx.sum(), x)
    np.testing.assert_array_equal(gxx.numpy(), [0.0, 2.0, 2.0])


# ---- clamp's gradient (seed 004's ReLU is clamp(min=0)) ------------------------------------------------
def _clamp_grads(lib, x, g, **bounds):
    xt = lib.tensor(x, requires_grad=True)
    lib.clamp(xt, **bounds).backward(lib.tensor(g))
    return xt.grad.numpy()


CLAMPS = [dict(min=0), dict(max=0.5), dict(min=-0.5, max=0.5), dict(min=0.1)]


@DTYPES
@pytest.mark.parametrize("bounds", CLAMPS, ids=lambda b: ",".join(f"{k}={v}" for k, v in b.items()))
def test_clamp_grad_matches_torch(path, dtype, bounds):
    """The gradient passes where min <= x <= max, the bounds themselves included (x equal to a bound,
    also 0.1 rounded to float32), and is +0 elsewhere and at nan: a selection, equal to torch bit for bit."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((30, 20)).astype(dtype)
    x[0, :6] = [0.0, -0.0, 0.5, -0.5, np.nan, 0.1]
    g = rng.standard_normal(x.shape).astype(dtype)
    g[0, :6] = [-1.0, np.inf, np.nan, -np.inf, 2.0, -3.0]
    ours, ref = _clamp_grads(gt, x, g, **bounds), _clamp_grads(torch, x, g, **bounds)
    np.testing.assert_array_equal(ours.view(np.uint8), ref.view(np.uint8))


@needs_numba
def test_clamp_grad_paths_agree_bitwise(monkeypatch):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((7, 300)).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    for bounds in CLAMPS:
        fused, ref = _both_paths(monkeypatch, lambda: _clamp_grads(gt, x, g, **bounds))
        np.testing.assert_array_equal(fused.view(np.uint8), ref.view(np.uint8))


# ---- cross-entropy --------------------------------------------------------------------------------
def _cross_entropy(lib, x, y, **kw):
    xt = lib.tensor(x, requires_grad=True)
    loss = lib.nn.functional.cross_entropy(xt, lib.tensor(y), **kw)
    loss.backward(lib.ones_like(loss))
    return loss.detach().numpy(), xt.grad.numpy(), type(loss.grad_fn).__name__ if lib is gt else None


CE_CASES = [dict(), dict(reduction="sum"), dict(reduction="none"), dict(ignore_index=3),
            dict(ignore_index=3, reduction="none")]


@DTYPES
@pytest.mark.parametrize("kw", CE_CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "mean")
def test_cross_entropy_matches_torch(path, dtype, kw):
    """Loss and gradient against torch. Both compute log-sum-exp of a 10-class row and softmax - onehot,
    each rounding differently (sum order, exp's last bit): ~1e-15 (float64) and ~1e-6 (float32)
    relative on losses of size ~2 and gradients of size ~1/64."""
    rng = np.random.default_rng(2)
    x = (3 * rng.standard_normal((64, 10))).astype(dtype)
    y = rng.integers(0, 10, 64)
    ours, ref = _cross_entropy(gt, x, y, **kw), _cross_entropy(torch, x, y, **kw)
    tol = 1e-13 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(ours[0], ref[0], rtol=tol, atol=tol)
    np.testing.assert_allclose(ours[1], ref[1], rtol=tol, atol=tol * 0.1)
    assert ours[2] == ("_FusedCrossEntropyBackward" if path else "_CrossEntropyBackward")  # the path under test ran
    if "ignore_index" in kw:
        assert not ours[1][y == 3].any()  # ignored rows get no gradient


@needs_numba
@DTYPES
def test_cross_entropy_paths_agree(monkeypatch, dtype):
    """Kernel and NumPy reference: the same formula, term by term, except that the row sums add in
    another order and the kernel's exp is libm's rather than NumPy's SIMD one (both within an ulp): a few
    ulps apart. Rows with large, tiny and equal scores included."""
    rng = np.random.default_rng(3)
    x = (5 * rng.standard_normal((50, 7))).astype(dtype)
    x[0] = 0
    x[1, 2] = 80
    y = rng.integers(0, 7, 50)
    fused, ref = _both_paths(monkeypatch, lambda: _cross_entropy(gt, x, y))
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(fused[0], ref[0], rtol=8 * eps)
    np.testing.assert_allclose(fused[1], ref[1], rtol=8 * eps, atol=8 * eps / 50)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy (the reference path) warns on inf - inf, torch does not
def test_cross_entropy_special_rows(path):
    """NaN and inf scores, and a batch whose targets are all ignored, give torch's values."""
    x = np.array([[1.0, np.nan, 2.0], [np.inf, 0.0, 1.0], [-np.inf, 0.0, 1.0]])
    y = np.array([0, 1, 2])
    for kw in (dict(reduction="none"), dict(ignore_index=0, reduction="mean")):
        ours, ref = _cross_entropy(gt, x, y, **kw), _cross_entropy(torch, x, y, **kw)
        np.testing.assert_allclose(ours[0], ref[0], rtol=1e-15)
        np.testing.assert_allclose(ours[1], ref[1], rtol=1e-15)
    ignored = np.full(3, -100)
    ours, ref = _cross_entropy(gt, x[2:] + np.zeros((3, 1)), ignored), _cross_entropy(torch, x[2:] + np.zeros((3, 1)),
                                                                                    ignored)
    assert np.isnan(ours[0]) and np.isnan(ref[0])  # the mean of nothing
    np.testing.assert_array_equal(ours[1], ref[1])


def test_cross_entropy_bad_target_raises_torch_error(path):
    """The kernel finds a target out of range and leaves the batch to the reference, which raises."""
    x = gt.zeros(4, 5, requires_grad=True)
    with pytest.raises(IndexError, match="Target 7 is out of bounds."):
        gt.nn.functional.cross_entropy(x, gt.tensor([0, 7, 1, 2]))
    with pytest.raises(IndexError, match="Target 7 is out of bounds."):
        torch.nn.functional.cross_entropy(torch.zeros(4, 5), torch.tensor([0, 7, 1, 2]))


def test_cross_entropy_gradgrad(path):
    """Double backward through the fused node uses the differentiable formula."""
    x = gt.tensor(np.random.default_rng(4).standard_normal((5, 4)), requires_grad=True)
    y = gt.tensor([0, 3, 1, 1, 2])
    assert gt.autograd.gradgradcheck(lambda t: gt.nn.functional.cross_entropy(t, y), (x,))


# ---- dropout ----------------------------------------------------------------------------------------
def _dropout(p, x, g, seed=5):
    gt.manual_seed(seed)
    xt = gt.tensor(x, requires_grad=True)
    out = gt.nn.functional.dropout(xt, p)
    out.backward(gt.tensor(g))
    return out.detach().numpy(), xt.grad.numpy(), out.grad_fn.name()


@needs_numba
@DTYPES
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy (the reference path) warns on inf - inf, torch does not
@pytest.mark.parametrize("p", [0.25, 0.5, 0.9])
def test_dropout_paths_agree_bitwise(monkeypatch, dtype, p):
    """The same draws from the global generator, the same comparison u >= p in the draws' precision and
    the same product x * scale: the kernel's output and gradient equal the reference's bit for bit, and
    the generator is left in the same state (the next draw agrees too)."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((30, 41)).astype(dtype)
    x[0, :3] = [np.inf, np.nan, -0.0]
    g = rng.standard_normal(x.shape).astype(dtype)

    def run():
        out = _dropout(p, x, g)
        return out + (gt.rand(3).numpy(),)

    fused, ref = _both_paths(monkeypatch, run)
    for a, b in zip(fused[:2] + fused[3:], ref[:2] + ref[3:]):
        np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8))
    assert fused[2] == ref[2] == "MulBackward0"  # torch's node for F.dropout on the CPU too


@DTYPES
def test_dropout_values(path, dtype):
    """What torch's dropout gives, up to its random draws: x / (1 - p) where kept, 0 elsewhere, about
    p of the elements dropped (4,000 draws: 3 sigma is 0.024), the gradient the same mask times g."""
    p = 0.3
    x = np.random.default_rng(7).standard_normal((50, 80)).astype(dtype)
    out, grad, name = _dropout(p, x, np.ones_like(x))
    kept = out != 0
    assert abs(1 - kept.mean() - p) < 0.03
    scale = dtype(1 / (1 - p))
    np.testing.assert_array_equal(out[kept], x[kept] * scale)
    np.testing.assert_array_equal(grad, kept * scale)
    assert name == torch.nn.functional.dropout(torch.ones(2, requires_grad=True), p).grad_fn.name()


@needs_numba
def test_chain_kernels_are_used(monkeypatch):
    """The comparisons above prove something only if the kernels ran: count them in a small MLP step
    (linear, ReLU, dropout, linear, cross-entropy), and none with GLASSTORCH_FUSED=0's switch."""
    for enabled in (True, False):
        monkeypatch.setattr(cpu_fused, "ENABLED", enabled)
        calls = _count_calls(monkeypatch)
        gt.manual_seed(0)
        model = gt.nn.Sequential(gt.nn.Linear(6, 8), gt.nn.ReLU(), gt.nn.Dropout(0.5), gt.nn.Linear(8, 3))
        loss = gt.nn.functional.cross_entropy(model(gt.randn(5, 6)), gt.tensor([0, 1, 2, 1, 0]))
        loss.backward()
        expected = {"relu_grad", "dropout", "ce_rows", "ce_grad"} if enabled else set()
        assert set(calls) == expected
        calls.clear()
        x = gt.randn(4, 3, requires_grad=True)
        gt.clamp(x, min=0).sum().backward()
        assert calls == (["clamp_grad"] if enabled else [])
