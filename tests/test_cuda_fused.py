"""The fused CUDA kernels (backends/cuda_fused.py), run on the fake CUDA device by backends/fake_kernels.py.

The fake device executes the very kernel text CuPy compiles, so these tests check the kernels' arithmetic
without a GPU: every optimizer's fused update against the reference code of the same optimizer (fused
kernels switched off) and against torch on the CPU, cross-entropy against torch, and the C subset's rules
themselves. tests/test_gpu.py compiles and runs the same kernels on a real GPU.

Tolerances: a fused update follows torch's `_single_tensor_*` arithmetic operation by operation in the
parameter's precision, but torch's own CPU kernels vectorise some of those operations (fused multiply-adds
in lerp/addcmul), so agreement with torch is to rounding, compounded over STEPS steps: float64 within
1e-12 relative, float32 within 1e-5 relative (a few ulps per step). The reference path reorders Adam's
denominator (sqrt(bias_correction2) moved out), so fused vs reference is the same kind of closeness.
"""
from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch

import glasstorch
from glasstorch import backends
from glasstorch.backends import cpu_fused, cuda_fused
from glasstorch.backends.fake_kernels import ElementwiseKernel, KernelError, ReductionKernel

STEPS = 4
TOL = {np.float64: dict(rtol=1e-12, atol=1e-14), np.float32: dict(rtol=1e-5, atol=1e-6)}


@pytest.fixture(autouse=True)
def _fused_on(monkeypatch):
    """The kernels on, also when the suite runs with GLASSTORCH_FUSED=0 (tests switch them off themselves)."""
    monkeypatch.setattr(cuda_fused, "ENABLED", True)


# ---- the C subset, on plain NumPy arrays (kernels take and return them as they are) ---------------------------
class TestKernelSubset:
    def test_integer_division_and_modulo_truncate_as_in_c(self):
        k = ElementwiseKernel("int64 a, int64 b", "int64 q, int64 r", "q = a / b; r = a % b;", "divmod")
        a, b = np.array([7, -7, 7, -7, 6]), np.array([2, 2, -2, -2, 3])
        q, r = k(a, b)
        np.testing.assert_array_equal(q, [3, -3, -3, 3, 2])  # C: toward zero (NumPy's // floors: -4)
        np.testing.assert_array_equal(r, [1, -1, 1, -1, 0])

    def test_float32_stays_float32_next_to_ints_and_scalars(self):
        k = ElementwiseKernel("T x, T a, int32 n", "T y", "T z = x * n + a; y = z / 3;", "f32")
        x = np.array([1.1, 2.2], np.float32)
        y = k(x, 0.1, 2)  # the Python float is cast to T (float32), as CuPy does
        assert y.dtype == np.float32
        expected = (x * np.float32(2) + np.float32(0.1)) / np.float32(3)
        np.testing.assert_array_equal(y, expected)

    def test_comparison_is_an_int_and_raw_arrays_are_indexed_flat(self):
        k = ElementwiseKernel("raw T x, I t, int64 C", "T y", "T hit = t == 1; y = x[i * C + t] + hit;", "pick")
        x = np.arange(6, dtype=np.float64).reshape(2, 3)
        np.testing.assert_array_equal(k(x, np.array([2, 1]), 3), [2.0, 5.0])

    def test_compound_assignment_updates_outputs_in_place(self):
        k = ElementwiseKernel("T g", "T p", "p += g * 2; p = p * p;", "inplace")
        p = np.array([1.0, 2.0])
        k(np.array([0.5, 1.0]), p)
        np.testing.assert_array_equal(p, [4.0, 16.0])

    @pytest.mark.parametrize("body, message", [
        ("y = x * 0.5;", "only integer literals"),
        ("y = x > 0 ? x : 0;", "not in the kernel subset"),
        ("y = pow(x, 2);", "unknown function"),
        ("x = 1; y = x;", "inputs are const"),
        ("y = sqrt(n);", "ambiguous"),
        ("T a = x; T a = x; y = a;", "declared twice"),
    ])
    def test_what_c_or_the_gpu_would_reject_is_rejected(self, body, message):
        with pytest.raises(KernelError, match=message):
            ElementwiseKernel("T x, int32 n", "T y", body, "bad")(np.ones(2), 1)

    def test_mismatched_array_types_are_refused_like_cupy(self):
        k = ElementwiseKernel("T x, T z", "T y", "y = x + z;", "add")
        with pytest.raises(TypeError, match="Type is mismatched"):
            k(np.ones(2, np.float32), np.ones(2, np.float64))

    def test_choose_is_c_ternary_and_wants_one_type(self):
        k = ElementwiseKernel("T x", "T y", "T zero = 0; y = choose(x <= zero, zero, x);", "relu")
        np.testing.assert_array_equal(k(np.array([-1.0, np.nan, 2.0])), [0.0, np.nan, 2.0])
        bad = ElementwiseKernel("T x", "T y", "y = choose(x <= 0, 0, x);", "relu_int_zero")
        with pytest.raises(KernelError, match="one type"):
            bad(np.array([1.0]))

    def test_device_arguments_go_through_the_adapter_and_host_arrays_among_them_are_refused(self, fake_cuda):
        from glasstorch.backends import fake_cuda as fake

        k = fake.xp.ElementwiseKernel("T x, T z", "T y", "y = x + z;", "add")
        y = k(fake.xp.ones(2), fake.xp.ones(2))
        assert type(y) is fake.ndarray and y.get().tolist() == [2.0, 2.0]
        with pytest.raises(TypeError, match="Unsupported type"):
            k(fake.xp.ones(2), np.ones(2))
        assert type(k(np.ones(2), np.ones(2))) is np.ndarray  # all host: NumPy in, NumPy out

    def test_floating_errors_are_silent_as_on_a_gpu(self):
        k = ElementwiseKernel("T x", "T y", "y = sqrt(-x) + log(x - x);", "nan")
        with np.errstate(all="raise"):
            y = k(np.array([1.0]))
        assert np.isnan(y[0])

    def test_reduction_kernel_maps_broadcasts_and_sums_rows(self):
        k = ReductionKernel("T x, T m", "T y", "exp(x - m)", "a + b", "y = log(a)", "0", "lse")
        x = np.random.default_rng(0).standard_normal((3, 5))
        m = x.max(axis=1, keepdims=True)
        np.testing.assert_allclose(k(x, m, axis=1), np.log(np.exp(x - m).sum(axis=1)), rtol=1e-15)


# ---- the dispatch ---------------------------------------------------------------------------------------------
def test_each_device_gets_its_own_fused_kernels(fake_cuda):
    assert backends.fused(glasstorch.device("cpu")) is cpu_fused
    x = glasstorch.zeros(2, device="cuda")
    kernels = backends.fused(x.device)
    assert isinstance(kernels, cuda_fused.Fused) and kernels is backends.fused(x.device)
    assert kernels.available()


def test_fused_kernels_decline_what_they_cannot_take(fake_cuda, monkeypatch):
    kernels = backends.fused(glasstorch.zeros(1, device="cuda").device)
    xp = kernels.xp
    p, g = xp.zeros(3, dtype=np.float32), xp.ones(3, dtype=np.float32)
    assert not kernels.sgd_(p, xp.ones(3, dtype=np.float64), None, 0.1)  # mixed dtypes
    assert not kernels.sgd_(p, xp.ones(4, dtype=np.float32), None, 0.1)  # shapes differ
    assert not kernels.sgd_(np.zeros(3, np.float32), np.ones(3, np.float32), None, 0.1)  # host arrays
    assert not kernels.sgd_(xp.zeros(3, dtype=np.int64), xp.ones(3, dtype=np.int64), None, 1)
    monkeypatch.setattr(cuda_fused, "ENABLED", False)  # GLASSTORCH_FUSED=0
    assert not kernels.sgd_(p, g, None, 0.1)
    np.testing.assert_array_equal(p.get(), 0)


# ---- optimizers: fused on the fake device vs the reference code and vs torch ----------------------------------
OPTIMIZERS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.9), weight_decay=0.1, amsgrad=True, maximize=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.3, centered=True, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1, maximize=True)),
    ("Adadelta", dict(lr=1.0)),
    ("Adadelta", dict(lr=0.5, rho=0.3, weight_decay=0.1, maximize=True)),
    ("Adamax", dict(lr=0.01)),
    ("Adamax", dict(lr=0.01, betas=(0.3, 0.5), weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, betas=(0.3, 0.9), weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01, betas=(0.9, 0.9), steps=7)),  # rectified from step 6 on
    ("RAdam", dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("RAdam", dict(lr=0.01, betas=(0.3, 0.9), weight_decay=0.1, decoupled_weight_decay=True, steps=7)),
    ("Rprop", dict(lr=0.01, steps=7)),  # grads of random signs: every branch of the step-size rule
    ("Rprop", dict(lr=0.01, etas=(0.3, 1.5), step_sizes=(1e-3, 0.02), maximize=True, steps=7)),
    ("ASGD", dict(lr=0.01, t0=2, steps=6)),  # averaging from step 3 on
    ("ASGD", dict(lr=0.01, lambd=0.1, alpha=0.5, weight_decay=0.1, maximize=True)),
]
SHAPES = [(5, 7), (3,)]  # a weight and a small bias: Adam packs small CPU parameters, never CUDA ones


def _run(module, name, kwargs, dtype, device=None):
    """STEPS (or kwargs' `steps`) steps of optimizer `name` on two parameters from fixed gradients; the
    final parameters."""
    kwargs = dict(kwargs)
    steps = kwargs.pop("steps", STEPS)
    rng = np.random.default_rng(0)
    inits = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(steps)]
    where = {} if device is None else {"device": device}
    params = [module.tensor(a, requires_grad=True, **where) for a in inits]
    opt = getattr(module.optim, name)(params, **kwargs)
    for step in grads:
        for p, g in zip(params, step):
            # a non-contiguous gradient on the first step: kernels read through strides
            p.grad = module.tensor(g.T.copy().T if g.ndim == 2 else g, **where)
        opt.step()
    return [p.detach().cpu().numpy() for p in params]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name, kwargs", OPTIMIZERS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(OPTIMIZERS)])
def test_fused_update_matches_reference_and_torch(fake_cuda, monkeypatch, name, kwargs, dtype):
    kernels = backends.fused(glasstorch.zeros(1, device="cuda").device)
    calls = []
    method = {"AdamW": "adam_"}.get(name, name.lower() + "_")
    original = getattr(kernels, method)
    monkeypatch.setattr(kernels, method, lambda *a, **k: calls.append(original(*a, **k)) or calls[-1])
    fused = _run(glasstorch, name, kwargs, dtype, "cuda")
    # every update went to one kernel (SGD with momentum: from step 2, when the buffer exists)
    first_step = int(name == "SGD" and kwargs.get("momentum", 0) != 0)
    assert len(calls) == len(SHAPES) * (kwargs.get("steps", STEPS) - first_step) and all(calls)
    monkeypatch.setattr(cuda_fused, "ENABLED", False)
    reference = _run(glasstorch, name, kwargs, dtype, "cuda")
    theirs = _run(torch, name, kwargs, dtype)
    for f, r, t in zip(fused, reference, theirs):
        np.testing.assert_allclose(f, t, **TOL[dtype])
        np.testing.assert_allclose(f, r, **TOL[dtype])


def test_relu_grad_kernel_is_torchs_threshold_backward(fake_cuda):
    x = np.array([-1.0, 0.0, -0.0, 2.0, np.nan, 3.0, -4.0])
    g = np.array([1.0, -2.0, np.nan, np.inf, -1.0, np.nan, -3.0])
    ours = glasstorch.tensor(x, device="cuda", requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    kernels = backends.fused(ours.device)
    ours_grad = kernels.relu_grad(glasstorch.tensor(g, device="cuda")._data, ours.relu()._data).get()
    theirs.relu().backward(torch.tensor(g))
    np.testing.assert_array_equal(ours_grad, theirs.grad.numpy())
    assert (np.signbit(ours_grad) == np.signbit(theirs.grad.numpy())).all()  # +0.0 where masked, not -0.0
    assert kernels.relu_grad(np.ones(2), np.ones(2)) is None  # host arrays: not for the device's kernels


# ---- no chunk loops on a GPU ----------------------------------------------------------------------------------
class _CountingXp:
    """An array module that counts multiply calls (the pieces of Optimizer._add_scaled_)."""

    def __init__(self, xp):
        self.xp, self.calls = xp, 0

    def multiply(self, *args, **kwargs):
        self.calls += 1
        return self.xp.multiply(*args, **kwargs)


def test_add_scaled_is_one_pass_on_a_gpu_and_pieces_on_the_cpu(fake_cuda):
    from glasstorch.backends import fake_cuda as fake
    from glasstorch.optim.optimizer import _PIECE

    opt = glasstorch.optim.SGD([glasstorch.zeros(1)], lr=0.1)
    n = 3 * _PIECE + 5
    cpu = _CountingXp(np)
    target, source = np.zeros(n, np.float32), np.ones(n, np.float32)
    opt._add_scaled_(target, source, -0.5, cpu)
    assert cpu.calls == 4 and (target == -0.5).all()  # cache-sized pieces on the CPU
    gpu = _CountingXp(fake.xp)
    target, source = fake.xp.zeros(n, dtype=np.float32), fake.xp.ones(n, dtype=np.float32)
    opt._add_scaled_(target, source, -0.5, gpu)
    assert gpu.calls == 1 and bool((target == -0.5).all())  # one launch on a GPU


# ---- cross-entropy --------------------------------------------------------------------------------------------
def _cross_entropy(module, x, t, device=None, **kwargs):
    where = {} if device is None else {"device": device}
    xs = module.tensor(x, requires_grad=True, **where)
    loss = module.nn.functional.cross_entropy(xs, module.tensor(t, **where), **kwargs)
    (loss.sum() if loss.dim() else loss).backward()
    return loss, xs.grad


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_fused_matches_torch(fake_cuda, monkeypatch, reduction, dtype):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((6, 5)) * 10).astype(dtype)  # large logits: the max shift matters
    t = np.array([0, 4, -100, 2, 2, 1])
    calls = []
    kernels = backends.fused(glasstorch.zeros(1, device="cuda").device)
    original = kernels.cross_entropy_rows
    monkeypatch.setattr(kernels, "cross_entropy_rows", lambda *a: calls.append(original(*a)) or calls[-1])
    loss, grad = _cross_entropy(glasstorch, x, t, "cuda", reduction=reduction)
    assert len(calls) == 1 and calls[0] is not None
    assert loss.device == glasstorch.device("cuda:0") and grad.device == loss.device
    assert loss.grad_fn.name() == "NllLossBackward0"
    loss_t, grad_t = _cross_entropy(torch, x, t, reduction=reduction)
    np.testing.assert_allclose(loss.detach().cpu().numpy(), loss_t.detach().numpy(), **TOL[dtype])
    np.testing.assert_allclose(grad.cpu().numpy(), grad_t.numpy(), **TOL[dtype])


def _nll_loss(module, x, t, device=None, create_graph=False, **kwargs):
    """nll_loss of log_softmax(x): (loss, d loss / d log-probabilities)."""
    where = {} if device is None else {"device": device}
    logp = module.tensor(x, requires_grad=True, **where)
    loss = module.nn.functional.nll_loss(logp, module.tensor(t, **where), **kwargs)
    (grad,) = module.autograd.grad(loss.sum() if loss.dim() else loss, logp, create_graph=create_graph)
    return loss, grad


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_fused_matches_torch(fake_cuda, monkeypatch, reduction, dtype):
    x = np.log(np.random.default_rng(6).dirichlet(np.ones(5), 6)).astype(dtype)  # log-probabilities
    t = np.array([0, 4, -100, 2, 2, 1])
    kernels = backends.fused(glasstorch.zeros(1, device="cuda").device)
    calls = []
    original = kernels.nll_rows
    monkeypatch.setattr(kernels, "nll_rows", lambda *a: calls.append(original(*a)) or calls[-1])
    loss, grad = _nll_loss(glasstorch, x, t, "cuda", reduction=reduction)
    assert len(calls) == 1 and calls[0] is not None and loss.grad_fn.name() == "NllLossBackward0"
    loss_t, grad_t = _nll_loss(torch, x, t, reduction=reduction)
    np.testing.assert_allclose(loss.detach().cpu().numpy(), loss_t.detach().numpy(), **TOL[dtype])
    np.testing.assert_array_equal(grad.cpu().numpy(), grad_t.numpy())  # -g/denom at targets: no rounding apart
    assert (np.signbit(grad.cpu().numpy()) == np.signbit(grad_t.numpy())).all()  # +0.0 off the targets


def test_nll_loss_fused_edges(fake_cuda):
    x = np.log(np.random.default_rng(7).dirichlet(np.ones(4), 3))
    with np.errstate(invalid="ignore"):  # the fake device's NumPy warns about 0 / 0 where CuPy does not
        loss, grad = _nll_loss(glasstorch, x, np.array([-100, -100, -100]), "cuda")
    loss_t, grad_t = _nll_loss(torch, x, np.array([-100, -100, -100]))
    assert np.isnan(loss.item()) and np.isnan(loss_t.item())
    np.testing.assert_array_equal(grad.cpu().numpy(), grad_t.numpy())
    losses, _ = _nll_loss(glasstorch, x, np.array([0, 9, 1]), "cuda", reduction="none")
    assert np.isnan(losses.detach().cpu().numpy()).tolist() == [False, True, False]  # out of range: NaN
    # second derivatives through the fused node (its create_graph path is the reference's formula)
    results = []
    for module, where in ((glasstorch, {"device": "cuda"}), (torch, {})):
        xs = module.tensor(x, requires_grad=True, **where)
        loss = module.nn.functional.nll_loss(xs.log_softmax(1), module.tensor([2, 0, 1], **where))
        (g,) = module.autograd.grad(loss, xs, create_graph=True)
        (gg,) = module.autograd.grad((g * g).sum(), xs)
        results.append(gg.cpu().numpy())
    np.testing.assert_allclose(*results, **TOL[np.float64])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_fused_matches_torch(fake_cuda, monkeypatch, reduction, dtype):
    rng = np.random.default_rng(8)
    x, t = rng.standard_normal((5, 3)).astype(dtype), rng.standard_normal((5, 3)).astype(dtype)
    kernels = backends.fused(glasstorch.zeros(1, device="cuda").device)
    calls = []
    original = kernels.squared_error
    monkeypatch.setattr(kernels, "squared_error", lambda *a: calls.append(original(*a)) or calls[-1])
    results = []
    for module, where in ((glasstorch, {"device": "cuda"}), (torch, {})):
        xs, ts = (module.tensor(a, requires_grad=True, **where) for a in (x, t))
        loss = module.nn.functional.mse_loss(xs, ts, reduction=reduction)
        (loss.sum() if loss.dim() else loss).backward()
        results.append([r.detach().cpu().numpy() for r in (loss, xs.grad, ts.grad)])
        if module is glasstorch:
            assert len(calls) == 1 and calls[0] is not None and loss.grad_fn.name() == "MseLossBackward0"
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, **TOL[dtype])


def test_mse_loss_keeps_the_reference_path_for_broadcasting_and_mixed_dtypes(fake_cuda):
    rng = np.random.default_rng(9)
    for x, t in ((rng.standard_normal((4, 3)), rng.standard_normal(3)),
                 (rng.standard_normal((4, 3)), rng.standard_normal((4, 3)).astype(np.float32))):
        results = []
        for module, where in ((glasstorch, {"device": "cuda"}), (torch, {})):
            xs = module.tensor(x, requires_grad=True, **where)
            with pytest.warns(UserWarning) if x.shape != t.shape else contextlib.nullcontext():
                loss = module.nn.functional.mse_loss(xs, module.tensor(t, **where))
            loss.backward()
            results.append([loss.detach().cpu().numpy(), xs.grad.cpu().numpy()])
        for ours, theirs in zip(*results):
            np.testing.assert_allclose(ours, theirs, **TOL[np.float64])


def test_cross_entropy_all_ignored_is_nan_and_bad_targets_give_nan(fake_cuda):
    x = np.random.default_rng(2).standard_normal((3, 4))
    with np.errstate(invalid="ignore"):  # the fake device's NumPy warns about 0 / 0 where CuPy does not
        loss, grad = _cross_entropy(glasstorch, x, np.array([-100, -100, -100]), "cuda")
    loss_t, grad_t = _cross_entropy(torch, x, np.array([-100, -100, -100]))
    assert np.isnan(loss.item()) and np.isnan(loss_t.item())
    np.testing.assert_array_equal(grad.cpu().numpy(), grad_t.numpy())  # all zeros (0 * nan would be nan)
    # torch's CUDA kernel fails a device-side assertion for a target out of range; without a host sync
    # the fused kernel can only mark the row: its loss is NaN
    losses, _ = _cross_entropy(glasstorch, x, np.array([0, 7, 1]), "cuda", reduction="none")
    assert np.isnan(losses.detach().cpu().numpy()).tolist() == [False, True, False]


def test_cross_entropy_double_backward_on_the_fused_path(fake_cuda):
    x = np.random.default_rng(3).standard_normal((4, 3))
    t = np.array([2, 0, 1, 1])
    results = []
    for module, where in ((glasstorch, {"device": "cuda"}), (torch, {})):
        xs = module.tensor(x, requires_grad=True, **where)
        loss = module.nn.functional.cross_entropy(xs, module.tensor(t, **where))
        (g,) = module.autograd.grad(loss, xs, create_graph=True)
        (gg,) = module.autograd.grad((g * g).sum(), xs)
        results.append((g.detach().cpu().numpy(), gg.cpu().numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, **TOL[np.float64])


# class weights, 1-D inputs and (N, C, d...) inputs: the kernels take them as rows of classes (issue #14: the
# reference path reads the targets back to check them)
_ROWS_RNG = np.random.default_rng(4)
ROW_CASES = {
    "weighted": (_ROWS_RNG.standard_normal((5, 3)), np.array([0, 2, -100, 1, 1]), np.array([0.2, 1.0, 3.0])),
    "weighted_small_sum": (_ROWS_RNG.standard_normal((2, 3)), np.array([0, 0]), np.array([0.25, 1.0, 3.0])),
    "1d": (_ROWS_RNG.standard_normal(3), np.array(1), None),
    "1d_weighted": (_ROWS_RNG.standard_normal(3), np.array(2), np.array([0.2, 1.0, 3.0])),
    "3d": (_ROWS_RNG.standard_normal((2, 3, 4)), np.array([[0, 2, 1, -100], [1, 1, 0, 2]]), None),
    "4d_weighted": (_ROWS_RNG.standard_normal((2, 3, 2, 2)), _ROWS_RNG.integers(0, 3, (2, 2, 2)),
                    np.array([0.5, 2.0, 1.0])),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", list(ROW_CASES))
@pytest.mark.parametrize("loss_name", ["cross_entropy", "nll_loss"])
def test_weighted_1d_and_nd_losses_take_the_kernels_and_match_torch(fake_cuda, monkeypatch, loss_name, case,
                                                                    reduction, dtype):
    """The kernels run (counted), with no host read, and loss, gradient and grad_fn name agree with torch."""
    x, t, w = ROW_CASES[case]
    x = x.astype(dtype)
    kernels = backends.fused(glasstorch.zeros(1, device="cuda").device)
    rows = "cross_entropy_rows" if loss_name == "cross_entropy" else "nll_rows"
    calls = []
    original = getattr(kernels, rows)
    monkeypatch.setattr(kernels, rows, lambda *a: calls.append(original(*a)) or calls[-1])
    results = []
    for module, where in ((glasstorch, {"device": "cuda"}), (torch, {})):
        xs = module.tensor(x, requires_grad=True, **where)
        kwargs = {} if w is None else {"weight": module.tensor(w.astype(dtype), **where)}
        target = module.tensor(t, **where)
        reads = _HostReads(monkeypatch) if module is glasstorch else None
        loss = getattr(module.nn.functional, loss_name)(xs, target, reduction=reduction, **kwargs)
        (grad,) = module.autograd.grad(loss.sum() if loss.dim() else loss, xs)
        if reads is not None:
            assert reads.reads == []
        results.append((loss.detach().cpu().numpy(), grad.cpu().numpy(), loss.grad_fn.name()))
    assert len(calls) == 1 and calls[0] is not None
    (o_loss, o_grad, o_name), (t_loss, t_grad, t_name) = results
    assert o_name == t_name
    assert o_loss.shape == t_loss.shape and o_grad.shape == t_grad.shape
    np.testing.assert_allclose(o_loss, t_loss, **TOL[dtype])
    np.testing.assert_allclose(o_grad, t_grad, **TOL[dtype])


@pytest.mark.parametrize("loss_name", ["cross_entropy", "nll_loss"])
def test_weighted_nd_losses_double_backward_on_the_kernel_path(fake_cuda, loss_name):
    """create_graph: the reference's differentiable formula for the same weighted (N, C, d) input."""
    x, t, w = ROW_CASES["4d_weighted"]
    results = []
    for module, where in ((glasstorch, {"device": "cuda"}), (torch, {})):
        xs = module.tensor(x, requires_grad=True, **where)
        loss = getattr(module.nn.functional, loss_name)(xs, module.tensor(t, **where),
                                                       weight=module.tensor(w, **where))
        (g,) = module.autograd.grad(loss, xs, create_graph=True)
        (gg,) = module.autograd.grad((g * g * xs).sum(), xs)
        results.append((g.detach().cpu().numpy(), gg.cpu().numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, **TOL[np.float64])


def test_the_cpu_keeps_its_reference_path_for_weighted_and_nd_losses(monkeypatch):
    """On the CPU the fused loop takes unweighted (N, C) only: weighted and (N, C, d) inputs still check
    their targets (PyTorch's IndexError for one out of range)."""
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        glasstorch.nn.functional.cross_entropy(glasstorch.zeros(2, 3, 4), glasstorch.tensor([[0, 1, 2, 7]] * 2))
    with pytest.raises(IndexError, match="Target 5 is out of bounds"):
        glasstorch.nn.functional.nll_loss(glasstorch.zeros(2, 3), glasstorch.tensor([0, 5]),
                                          weight=glasstorch.ones(3))


# ---- gather on a device (issue #14: CuPy has no indices(sparse=True)) -----------------------------------------
def test_gather_and_scatter_on_the_device(fake_cuda):
    from glasstorch.backends import fake_cuda as fake

    with pytest.raises(TypeError, match="sparse"):
        fake.xp.indices((2, 3), sparse=True)  # as CuPy: the library must not need it
    x = np.random.default_rng(5).standard_normal((3, 4))
    idx = np.array([[0, 3], [2, 2], [1, 0]])
    results = []
    for module, where in ((glasstorch, {"device": "cuda"}), (torch, {})):
        xs = module.tensor(x, requires_grad=True, **where)
        out = module.gather(xs, 1, module.tensor(idx, **where))
        out.sum().backward()
        results.append((out.detach().cpu().numpy(), xs.grad.cpu().numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(ours, theirs)


# ---- the kernel texts are CUDA C++ (checked with nvcc where the CUDA toolkit is installed) ---------------------
def _every_kernel():
    """Every kernel variant cuda_fused builds, made by calling each update with every flag combination
    on plain NumPy arrays (fake_kernels objects keep their parameters and text)."""
    import itertools
    import types

    from glasstorch.backends import fake_kernels

    xp = types.SimpleNamespace(ndarray=np.ndarray, ElementwiseKernel=fake_kernels.ElementwiseKernel,
                               ReductionKernel=fake_kernels.ReductionKernel, broadcast_to=np.broadcast_to)
    k = cuda_fused.Fused(xp)
    a = lambda: np.ones(3)  # noqa: E731
    flags = (False, True)
    for mx, wd, mom, nest in itertools.product(flags, flags, flags, flags):
        k.sgd_(a(), a(), a(), 0.1, momentum=0.9 * mom, nesterov=nest, maximize=mx, weight_decay=0.1 * wd)
    for mx, wd, dec, beta1, ams in itertools.product(flags, flags, flags, (0.3, 0.9), flags):
        k.adam_(a(), a(), [a() for _ in range(2 + ams)], 2, 0.1, beta1, 0.99, 1e-8, maximize=mx, l2=0.1 * wd,
                decay=0.9 if dec else 1)
    for mx, wd, cen, alpha, mom in itertools.product(flags, flags, flags, (0.3, 0.9), flags):
        k.rmsprop_(a(), a(), a(), a() if cen else None, a() if mom else None, 0.1, alpha, 1e-8, weight_decay=0.1 * wd,
                   momentum=0.5 * mom, maximize=mx)
    for mx, wd, dec, beta1, rect in itertools.product(flags, flags, flags, (0.3, 0.9), (None, 0.5)):
        k.nadam_(a(), a(), a(), a(), 2, 0.1, beta1, 0.99, 1e-8, -0.1, -0.2, l2=0.1 * wd, decay=0.9 if dec else 1,
                 maximize=mx)
        k.radam_(a(), a(), a(), a(), 2, 0.1, beta1, 0.99, 1e-8, rect, l2=0.1 * wd, decay=0.9 if dec else 1,
                 maximize=mx)
    for mx, wd, avg in itertools.product(flags, flags, flags):
        k.rprop_(a(), a(), a(), a(), 0.5, 1.2, 1e-6, 50, maximize=mx)
        k.asgd_(a(), a(), a(), 0.01, 0.5 if avg else 1, 1e-4, weight_decay=0.1 * wd, maximize=mx)
    for mx, wd in itertools.product(flags, flags):
        k.adagrad_(a(), a(), a(), 0.1, 1e-10, weight_decay=0.1 * wd, maximize=mx)
        k.adadelta_(a(), a(), a(), a(), 1.0, 0.9, 1e-6, weight_decay=0.1 * wd, maximize=mx)
        for beta1 in (0.3, 0.9):
            k.adamax_(a(), a(), a(), a(), 2, 0.1, beta1, 0.99, 1e-8, weight_decay=0.1 * wd, maximize=mx)
    k.relu_grad(a(), a())
    for reduction in ("none", "sum"):
        k.squared_error(a(), a(), reduction)
    k.mse_grad(a(), a(), np.ones(()), 0.5)
    w = k.nll_rows(np.ones((2, 3)), np.array([0, 2]), -100)[1]
    k.nll_grad((2, 3), np.array([0, 2]), w, np.ones(()), np.ones(()))
    k.nll_rows(np.ones((2, 3)), np.array([0, 2]), -100, np.ones(3))  # the class-weighted variants
    k.cross_entropy_rows(np.ones((2, 3)), np.array([0, 2]), -100, np.ones(3))
    w, m, s = k.cross_entropy_rows(np.ones((2, 3)), np.array([0, 2]), -100)[1:]
    k.cross_entropy_grad(np.ones((2, 3)), np.array([0, 2]), m, s, w, np.ones(()), np.ones(()))
    unique = {}
    for kernel in k._kernels.values():  # (flags that change nothing, e.g. nesterov without momentum, repeat a text)
        text = getattr(kernel, "operation", None) or kernel.map_expr
        unique.setdefault((text, tuple((p.raw, p.ctype, p.name) for p in kernel.in_params + kernel.out_params)),
                          kernel)
    return list(unique.values())


_CTYPE = {"float32": "float", "float64": "double", "int32": "int", "int64": "long long", "bool": "bool"}


def _cuda_source(kernels) -> str:
    """The kernels wrapped the way CuPy wraps them (inputs const, outputs references, raw parameters
    indexable, `i` the element index, T and I typedefs), each for float and double."""
    out = ["#include <cstddef>", "template <class T> struct Raw { T* p; __device__ T& operator[](ptrdiff_t k) const "
           "{ return p[k]; } };", kernels[0].preamble]
    for n, kernel in enumerate(kernels):
        args, loads = [], []
        for p in kernel.in_params:
            ctype = _CTYPE.get(p.ctype, p.ctype)
            if p.raw:
                args.append(f"Raw<{ctype}> {p.name}")
            else:
                args.append(f"const {ctype}* _{p.name}")
                loads.append(f"const {ctype} {p.name} = _{p.name}[i];")
        for p in kernel.out_params:
            args.append(f"{_CTYPE.get(p.ctype, p.ctype)}* _{p.name}")
            loads.append(f"{_CTYPE.get(p.ctype, p.ctype)}& {p.name} = _{p.name}[i];")
        if isinstance(kernel, ReductionKernel):
            body = f"T a = {kernel.map_expr}; {kernel.post_map_expr};"
        else:
            body = kernel.operation
        for t in ("float", "double"):
            out.append(f"namespace k{n}_{t} {{ typedef {t} T; typedef long long I;\n"
                       f"__global__ void kernel({', '.join(args)}, ptrdiff_t size) {{\n"
                       f"  for (ptrdiff_t i = 0; i < size; i++) {{ {' '.join(loads)}\n    {body}\n  }}\n}} }}")
    return "\n".join(out) + "\n"


@pytest.mark.skipif(__import__("shutil").which("nvcc") is None, reason="needs the CUDA toolkit's nvcc")
def test_every_kernel_text_compiles_as_cuda(tmp_path):
    import subprocess

    source = tmp_path / "kernels.cu"
    source.write_text(_cuda_source(_every_kernel()))
    # --ptx: device code only (what NVRTC makes for CuPy), a few seconds for all the variants; warning 177
    # is a parameter a variant does not use (CuPy passes every parameter to every variant)
    proc = subprocess.run(["nvcc", "--ptx", "-std=c++17", "--fmad=false", "-diag-suppress=177", "-o",
                           str(tmp_path / "k.ptx"), str(source)], capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr + source.read_text()
    assert "warning" not in proc.stderr, proc.stderr


# ---- a training step on the device reads nothing back to the host ------------------------------------------------
class _HostReads:
    """Records every device-to-host read of the fake device's arrays (bool/float/int of an array, .get(),
    .item(), .tolist()) and every boolean-mask index (a data-dependent shape: CuPy must read the count)."""

    def __init__(self, monkeypatch):
        from glasstorch.backends import fake_cuda as fake

        self.reads = []
        for name in ("__bool__", "__float__", "__int__", "get"):
            monkeypatch.setattr(fake.ndarray, name, self._spy(name, getattr(fake.ndarray, name)))
        getattr_, getitem = fake.ndarray.__getattr__, fake.ndarray.__getitem__

        def attribute(array, attr):
            if attr in ("item", "tolist"):
                self.reads.append(attr)
            return getattr_(array, attr)

        def index(array, key):
            keys = key if isinstance(key, tuple) else (key,)
            if any(type(k) is fake.ndarray and k.dtype == np.bool_ for k in keys):
                self.reads.append("boolean mask")
            return getitem(array, key)

        monkeypatch.setattr(fake.ndarray, "__getattr__", attribute)
        monkeypatch.setattr(fake.ndarray, "__getitem__", index)

    def _spy(self, name, method):
        def spied(array, *args, **kwargs):
            self.reads.append(name)
            return method(array, *args, **kwargs)
        return spied


STEP_OPTIMIZERS = [("Adam", {}), ("AdamW", {}), ("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9)),
                   ("RMSprop", dict(centered=True)), ("Adagrad", {}), ("Adadelta", {}), ("Adamax", {}), ("NAdam", {}),
                   ("RAdam", {}), ("Rprop", {}), ("ASGD", {})]


@pytest.mark.parametrize("name, kwargs", STEP_OPTIMIZERS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(STEP_OPTIMIZERS)])
def test_a_training_step_on_the_device_reads_nothing_back(fake_cuda, monkeypatch, name, kwargs):
    """Forward, cross-entropy, backward and the optimizer's step queue work without waiting for the GPU
    (issue #14: host reads inside a step stall the launch queue)."""
    nn, F = glasstorch.nn, glasstorch.nn.functional
    glasstorch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 5)).to("cuda")
    opt = getattr(glasstorch.optim, name)(model.parameters(), **kwargs)
    x, y = glasstorch.randn(8, 20, device="cuda"), glasstorch.randint(0, 5, (8,), device="cuda")
    y[0] = -100  # an ignored target too

    def step():
        if name == "SGD":  # (the SGD runs with log_softmax + nll_loss, as PyTorch's MNIST example has it)
            loss = F.nll_loss(F.log_softmax(model(x), dim=1), y)
        elif name == "Adagrad":  # (and a regression with mse_loss)
            loss = F.mse_loss(model(x), x[:, :5])
        else:
            loss = F.cross_entropy(model(x), y, ignore_index=-100)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    step()  # the first step makes the state (SGD's momentum buffer is a copy of the gradient)
    reads = _HostReads(monkeypatch)
    loss = step()
    assert reads.reads == []
    loss.item()  # the spy sees a read when there is one
    assert reads.reads


def test_gather_bounds_check_is_one_host_read_on_the_device(fake_cuda, monkeypatch):
    """A Python error needs the host to know (CuPy has no device-side assertion), so gather's check costs
    one read on a GPU (it was four: min and max, each compared on the host); out-of-range indices at either
    end still raise PyTorch's error on the device."""
    x = glasstorch.randn(3, 4, device="cuda", requires_grad=True)
    idx = glasstorch.tensor([[0, 3], [2, 2], [1, 0]], device="cuda")
    reads = _HostReads(monkeypatch)
    glasstorch.gather(x, 1, idx).sum().backward()
    assert reads.reads == ["__bool__"]
    for bad, value in (([[0, 4], [0, 0], [0, 0]], 4), ([[0, -1], [0, 0], [0, 0]], -1)):
        with pytest.raises(RuntimeError, match=f"index {value} is out of bounds for dimension 1 with size 4"):
            glasstorch.gather(x, 1, glasstorch.tensor(bad, device="cuda"))
