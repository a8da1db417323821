"""On a real GPU: glasstorch on CuPy against PyTorch CUDA (skipped unless both see a GPU).

- every op table row (tests/test_ops.py's TABLE), forward and backward, float64 and float32, on device
  'cuda' in both frameworks;
- the fused kernels of backends/cuda_fused.py compiled by CuPy: optimizer updates bit for bit equal to
  the same kernel text run with NumPy by fake_kernels.py (the kernels are compiled with --fmad=false and
  use only + - * / sqrt, which CUDA and NumPy both round correctly), and close to torch CUDA; the
  cross-entropy (exp/log, rounded differently on the GPU), nll_loss and mse_loss kernels close to torch CUDA;
- `glasstorch train --device cuda` reaching the CPU run's accuracy.

Tolerances: float64 1e-10 and float32 1e-5 relative as in tests/test_ops.py (plus a row's own tol32):
the GPU's reductions sum in another order than the CPU's, which these bounds were argued to cover.
scripts/gpu_check.sh runs this file on a GPU machine.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import types

import numpy as np
import pytest
import torch

import glasstorch
from glasstorch import backends

G = glasstorch


def _gpu_missing() -> str | None:
    if not torch.cuda.is_available():
        return "PyTorch sees no CUDA GPU"
    module = backends.cuda_module()
    if module.__name__.endswith("fake_cuda"):
        return "device 'cuda' is the fake test device"
    if not module.is_available():
        return "CuPy sees no GPU"
    return None


pytestmark = [pytest.mark.skipif(_gpu_missing() is not None, reason=f"needs a GPU: {_gpu_missing()}"),
              pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore:Using a non-tuple sequence:UserWarning"),
              pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0:UserWarning"),
              pytest.mark.filterwarnings("ignore:The use of `x.T` on tensors:UserWarning")]

TABLE, TABLE_MISSING = [], None
if _gpu_missing() is None:  # the op table imports hypothesis & co.: only where these tests run
    from _compare import assert_same, flat_outputs, tensors, tol_for
    try:
        from test_ops import TABLE, _draw
    except ImportError as e:  # a GPU machine without the test extra: say so instead of failing to collect
        TABLE_MISSING = f"the op table cannot be imported: {e}"


def test_op_table_is_here():
    if TABLE_MISSING:
        pytest.skip(TABLE_MISSING)
    assert TABLE


# ---- the op table on both GPUs ------------------------------------------------------------------------------
def _host(out):
    """Outputs (tensors, tuples, return types) with every tensor copied to the CPU."""
    if isinstance(out, (G.Tensor, torch.Tensor)):
        assert out.device.type == "cuda", f"output on {out.device}"
        return out.cpu()
    if isinstance(out, (tuple, list)) and any(isinstance(o, (G.Tensor, torch.Tensor)) for o in out):
        items = [_host(o) for o in out]
        return type(out)(items) if type(out) in (tuple, list) else type(out)(*items)
    return out


def _cuda_leaves(m, arrays, requires_grad: bool):
    xs = [t.to("cuda") for t in tensors(m, arrays)]
    for x in xs:
        if requires_grad and x.dtype.is_floating_point:
            x.requires_grad_(True)
    return xs


# rows that hand the op a CPU tensor of their own (tests/test_device.py's HOST_ROWS): on CUDA both frameworks
# refuse them, which tests/test_device.py checks
HOST_ROWS = {"sdpa_bool_mask", "sdpa_float_mask"}
ROWS = [pytest.param(op, dtype, id=f"{op.name}-{dtype}") for op in TABLE for dtype in op.dtypes
        if op.name not in HOST_ROWS]


@pytest.mark.parametrize("op, dtype", ROWS)
def test_op_table_on_gpu(op, dtype):
    tol = {**tol_for(dtype), **(op.tol32 if dtype == "float32" else {})}
    for k, shapes in enumerate(op.shapes):
        arrays = _draw(op, shapes, dtype, seed=k)
        ours_in, theirs_in = _cuda_leaves(G, arrays, op.grad), _cuda_leaves(torch, arrays, op.grad)
        with G.device("cuda"), torch.device("cuda"):  # constants a row builds go to the GPU too
            ours, theirs = op.fn(G, *ours_in), op.fn(torch, *theirs_in)
        assert_same(_host(ours), _host(theirs), tol, f"{op.name} forward")
        if not op.grad:
            continue
        pairs = [(o, t) for o, t in zip(flat_outputs(ours), flat_outputs(theirs))
                 if isinstance(t, torch.Tensor) and t.requires_grad]
        if not pairs:
            continue
        rng = np.random.default_rng(k + 1)
        ups = [rng.standard_normal(tuple(t.shape)).astype(str(t.dtype).replace("torch.", "")) for _, t in pairs]
        G.autograd.backward([o for o, _ in pairs], [G.from_numpy(u.copy()).to("cuda") for u in ups])
        torch.autograd.backward([t for _, t in pairs], [torch.from_numpy(u.copy()).to("cuda") for u in ups])
        for i, (x, xt) in enumerate(zip(ours_in, theirs_in)):
            if xt.grad is None:
                continue
            assert x.grad is not None, f"{op.name}: no gradient for input {i}"
            assert_same(_host(x.grad), _host(xt.grad), tol, f"{op.name} grad of input {i}")


# ---- the fused kernels, compiled ------------------------------------------------------------------------------------
def _numpy_kernels():
    """cuda_fused.Fused over plain NumPy arrays, its kernels run by fake_kernels (the fake device's way)."""
    from glasstorch.backends import cuda_fused, fake_kernels

    xp = types.SimpleNamespace(ndarray=np.ndarray, ElementwiseKernel=fake_kernels.ElementwiseKernel,
                               ReductionKernel=fake_kernels.ReductionKernel, broadcast_to=np.broadcast_to)
    return cuda_fused.Fused(xp)


UPDATES = [
    ("sgd_", dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01), 1),
    ("sgd_", dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True), 1),
    ("sgd_", dict(lr=0.1), 0),
    ("adam_", dict(t=3, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8), 2),
    ("adam_", dict(t=3, lr=0.01, beta1=0.3, beta2=0.9, eps=1e-8, l2=0.1, maximize=True), 3),
    ("adam_", dict(t=3, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, decay=0.999), 2),
    ("rmsprop_", dict(lr=0.01, alpha=0.99, eps=1e-8), 1),
    ("rmsprop_", dict(lr=0.01, alpha=0.3, eps=1e-8, weight_decay=0.1, momentum=0.5, centered=True), 3),
    ("adagrad_", dict(clr=0.1, eps=1e-10, weight_decay=0.1), 1),
    ("adadelta_", dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.1), 2),
    ("adamax_", dict(t=3, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, maximize=True), 2),
]


def _call(kernels, method, kwargs, arrays):
    """Call a Fused update with its state arrays in the right places."""
    p, g, *state = arrays
    kw = dict(kwargs)
    if method == "sgd_":
        return kernels.sgd_(p, g, state[0] if state else None, **kw)
    if method == "adam_":
        t, lr, b1, b2, eps = (kw.pop(k) for k in ("t", "lr", "beta1", "beta2", "eps"))
        return kernels.adam_(p, g, state, t, lr, b1, b2, eps, **kw)
    if method == "rmsprop_":
        centered = kw.pop("centered", False)
        sq, rest = state[0], state[1:]
        gavg = rest.pop(0) if centered else None
        buf = rest.pop(0) if kw.get("momentum", 0) > 0 else None
        return kernels.rmsprop_(p, g, sq, gavg, buf, kw.pop("lr"), kw.pop("alpha"), kw.pop("eps"), **kw)
    if method == "adadelta_":
        return kernels.adadelta_(p, g, *state, kw.pop("lr"), kw.pop("rho"), kw.pop("eps"), **kw)
    if method == "adamax_":
        t, lr, b1, b2, eps = (kw.pop(k) for k in ("t", "lr", "beta1", "beta2", "eps"))
        return kernels.adamax_(p, g, *state, t, lr, b1, b2, eps, **kw)
    return kernels.adagrad_(p, g, state[0], kw.pop("clr"), kw.pop("eps"), **kw)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("method, kwargs, n_state", UPDATES, ids=[f"{m}{i}" for i, (m, _, _) in enumerate(UPDATES)])
def test_fused_updates_on_gpu_equal_the_numpy_run_of_the_same_kernel(method, kwargs, n_state, dtype):
    import cupy

    rng = np.random.default_rng(0)
    host = [rng.standard_normal((257, 33)).astype(dtype)]  # odd sizes: no lucky alignment
    host += [rng.standard_normal((257, 33)).astype(dtype)]
    host += [np.abs(rng.standard_normal((257, 33))).astype(dtype) for _ in range(n_state)]
    device = [cupy.asarray(a) for a in host]
    assert _call(backends.fused(G.zeros(1, device="cuda").device), method, kwargs, device)
    assert _call(_numpy_kernels(), method, kwargs, host)
    for d, h in zip(device, host):
        np.testing.assert_array_equal(cupy.asnumpy(d), h)


OPTIMIZERS = [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)), ("Adam", dict(lr=0.01, amsgrad=True)),
              ("AdamW", dict(lr=0.01)), ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
              ("Adagrad", dict(lr=0.1, lr_decay=0.01)), ("Adadelta", dict(lr=1.0)), ("Adamax", dict(lr=0.01)),
              ("NAdam", dict(lr=0.01)), ("RAdam", dict(lr=0.01, betas=(0.9, 0.9))), ("Rprop", dict(lr=0.01)),
              ("ASGD", dict(lr=0.01, t0=2))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name, kwargs", OPTIMIZERS, ids=[n for n, _ in OPTIMIZERS])
def test_optimizers_on_gpu_match_torch_cuda(name, kwargs, dtype):
    rng = np.random.default_rng(1)
    shapes = [(300, 70), (70,)]
    inits = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(4)]
    finals = []
    for m in (G, torch):
        params = [m.tensor(a, device="cuda", requires_grad=True) for a in inits]
        opt = getattr(m.optim, name)(params, **kwargs)
        for step in grads + grads[:3]:  # 7 steps: RAdam's rectified update from step 6
            for p, g in zip(params, step):
                p.grad = m.tensor(g, device="cuda")
            opt.step()
        finals.append([p.detach().cpu().numpy() for p in params])
    # torch's CUDA optimizers take the foreach path (multi-tensor kernels, fused multiply-adds)
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)
    for ours, theirs in zip(*finals):
        np.testing.assert_allclose(ours, theirs, **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_on_gpu_matches_torch_cuda(reduction, dtype):
    rng = np.random.default_rng(2)
    x = (rng.standard_normal((512, 10)) * 5).astype(dtype)
    t = rng.integers(0, 10, 512)
    t[::7] = -100
    results = []
    for m in (G, torch):
        xs = m.tensor(x, device="cuda", requires_grad=True)
        loss = m.nn.functional.cross_entropy(xs, m.tensor(t, device="cuda"), reduction=reduction)
        (loss.sum() if loss.dim() else loss).backward()
        results.append((loss.detach().cpu().numpy(), xs.grad.cpu().numpy()))
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, **tol)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_on_gpu_matches_torch_cuda(reduction):
    rng = np.random.default_rng(3)
    x = np.log(rng.dirichlet(np.ones(10), 512)).astype(np.float32)
    t = rng.integers(0, 10, 512)
    t[::5] = -100
    results = []
    for m in (G, torch):
        xs = m.tensor(x, device="cuda", requires_grad=True)
        loss = m.nn.functional.nll_loss(xs, m.tensor(t, device="cuda"), reduction=reduction)
        (loss.sum() if loss.dim() else loss).backward()
        results.append((loss.detach().cpu().numpy(), xs.grad.cpu().numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_on_gpu_matches_torch_cuda(reduction):
    rng = np.random.default_rng(4)
    x, t = rng.standard_normal((512, 10)).astype(np.float32), rng.standard_normal((512, 10)).astype(np.float32)
    results = []
    for m in (G, torch):
        xs, ts = (m.tensor(a, device="cuda", requires_grad=True) for a in (x, t))
        loss = m.nn.functional.mse_loss(xs, ts, reduction=reduction)
        (loss.sum() if loss.dim() else loss).backward()
        results.append([r.detach().cpu().numpy() for r in (loss, xs.grad, ts.grad)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_relu_grad_kernel_on_gpu():
    import cupy

    g = cupy.asarray([1.0, -2.0, np.nan, np.inf, -1.0, 3.0], dtype=cupy.float32)
    r = cupy.asarray([0.0, 0.0, 0.0, 1.0, np.nan, -0.0], dtype=cupy.float32)
    out = cupy.asnumpy(backends.fused(G.zeros(1, device="cuda").device).relu_grad(g, r))
    np.testing.assert_array_equal(out, [0.0, 0.0, 0.0, np.inf, -1.0, 0.0])
    assert not np.signbit(out[[0, 1, 2, 5]]).any()  # +0.0 where masked, as torch's threshold_backward


# ---- the CLI trains on the GPU as on the CPU -----------------------------------------------------------------------
MNIST_DIR = os.environ.get("GLASSTORCH_DATA") or os.path.join(os.path.dirname(__file__), "..", "..", "shared",
                                                              "datasets", "mnist")


@pytest.mark.skipif(not os.path.isdir(MNIST_DIR), reason="MNIST not found (set GLASSTORCH_DATA)")
def test_cli_train_on_cuda_reaches_the_cpu_accuracy(tmp_path):
    accuracy = {}
    for device in ("cpu", "cuda"):
        out = tmp_path / device
        proc = subprocess.run([sys.executable, "-m", "glasstorch", "train", "--epochs", "1", "--device", device,
                               "--out", str(out), "--data-dir", MNIST_DIR], capture_output=True, text=True,
                              timeout=300, check=False)
        assert proc.returncode == 0, proc.stderr
        accuracy[device] = json.loads((out / "metrics.json").read_text())[-1]["test_acc"]
    # one epoch from the same seed: the devices differ only by summation order, so accuracy agrees to a
    # few test images (0.3% = 30 images of 10,000)
    assert accuracy["cuda"] > 0.93 and abs(accuracy["cuda"] - accuracy["cpu"]) < 0.003, accuracy
