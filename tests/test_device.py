"""CUDA code paths without a GPU: everything device-sensitive, run on the fake CUDA device.

The fake device (glasstorch/backends/fake_cuda.py) computes with NumPy but refuses what CuPy refuses:
silent copies to host memory and ops mixing device and host arrays. So a library path that would
crash on a GPU (np.* on tensor data, .numpy() in library code, a host array built next to a device
one) crashes here too. Each test runs the same program on the CPU and on 'cuda' and compares: both
devices compute with NumPy, so results agree to an ulp or two (SAME below), except where the CPU takes
its compiled path (extra `fast`); op-table rows are also compared with torch, as in tests/test_ops.py.
The rows' float64/float32 runs, the layers, the optimizers and the CLI together take ~35 s of CPU.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import glasstorch
from _compare import assert_same, flat_outputs, tensors, tol_for
from test_ops import TABLE, _draw

G = glasstorch
pytestmark = [pytest.mark.usefixtures("fake_cuda"),
              pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore:Using a non-tuple sequence:UserWarning"),
              pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0:UserWarning"),
              pytest.mark.filterwarnings("ignore:The use of `x.T` on tensors:UserWarning")]

# The same NumPy code runs on both devices, so results agree to an ulp or two: on the CPU a reduction gives
# a NumPy scalar, on the device (as on CuPy) a 0-d array, and NumPy computes e.g. `scalar ** p` with scalar
# libm code but `array ** p` with its SIMD loops, which may round the last bit differently (seen: 6.9e-8
# relative in float32). Tolerances of a few ulps, far below the comparison with torch (1e-5 in float32).
SAME = {"float64": dict(rtol=1e-12, atol=1e-14), "float32": dict(rtol=1e-6, atol=1e-7)}


def _to_host(out, what: str):
    """Outputs with every tensor checked to live on cuda:0 and copied to the CPU."""
    if isinstance(out, G.Tensor):
        assert str(out.device) == "cuda:0", f"{what}: output on {out.device}"
        return out.cpu()
    if isinstance(out, (tuple, list)) and any(isinstance(o, G.Tensor) for o in out):
        items = [_to_host(o, what) for o in out]
        return type(out)(items) if type(out) in (tuple, list) else type(out)(*items)  # return_types
    return out


def _leaves(arrays, device, requires_grad, contiguous=True):
    xs = [t.to(device) for t in tensors(G, arrays, contiguous=contiguous)]
    for x in xs:
        if requires_grad and x.dtype.is_floating_point:
            x.requires_grad_(True)
    return xs


# ---- the op table, forward and backward ---------------------------------------------------------------
# Rows that hand the op a CPU tensor of their own (`m.from_numpy(...)`, which no default device moves):
# on CUDA, torch refuses them, and so must glasstorch, with torch's error.
HOST_ROWS = {"sdpa_bool_mask", "sdpa_float_mask"}


def _check_row(op, arrays, dtype: str, seed: int, contiguous=True, same=SAME) -> None:
    """Row `op` on 'cuda' against the CPU run (within `same`, per dtype) and torch, forward and backward."""
    cpu, dev = _leaves(arrays, "cpu", op.grad, contiguous), _leaves(arrays, "cuda", op.grad, contiguous)
    with G.device("cuda"):  # constants a row builds (index tensors, weights) go to the device too
        ours = op.fn(G, *dev)
    ref = op.fn(G, *cpu)
    theirs = op.fn(torch, *tensors(torch, arrays))
    host = _to_host(ours, op.name)
    _assert_close(host, ref, f"{op.name} forward vs CPU", same)
    assert_same(host, theirs, {**tol_for(dtype), **(op.tol32 if dtype == "float32" else {})},
                f"{op.name} forward vs torch")
    if not op.grad:
        return
    pairs = [(o, r) for o, r in zip(flat_outputs(ours), flat_outputs(ref))
             if isinstance(o, G.Tensor) and o.requires_grad]
    if not pairs:
        return
    rng = np.random.default_rng(seed + 1)
    ups = [rng.standard_normal(tuple(r.shape)).astype(r.dtype.name if r.dtype.is_floating_point else "float64")
           for _, r in pairs]
    G.autograd.backward([o for o, _ in pairs], [G.from_numpy(u.copy()).to("cuda") for u in ups])
    G.autograd.backward([r for _, r in pairs], [G.from_numpy(u.copy()) for u in ups])
    for i, (x, xr) in enumerate(zip(dev, cpu)):
        if xr.grad is None:
            assert x.grad is None, f"{op.name}: input {i} got a gradient on cuda only"
            continue
        assert x.grad is not None, f"{op.name}: no gradient for input {i} on cuda"
        _assert_close(_to_host(x.grad, f"{op.name} grad {i}"), xr.grad, f"{op.name} grad of input {i}", same)


def _assert_close(host, ref, what: str, same=SAME) -> None:
    for h, r in zip(flat_outputs(host), flat_outputs(ref)):
        if isinstance(r, G.Tensor):
            assert h.dtype == r.dtype and h.shape == r.shape, what
            np.testing.assert_allclose(h.detach().numpy(), r.detach().numpy(), equal_nan=True, err_msg=what,
                                       **same.get(r.dtype.name, dict(rtol=0, atol=0)))
        else:
            assert h == r or (h != h and r != r), f"{what}: {h!r} != {r!r}"


DEVICE_ROWS = [op for op in TABLE if op.name not in HOST_ROWS]
MIXED_ROWS = [op for op in TABLE if op.name in HOST_ROWS]


# every row in each of its dtypes, on all its shape sets: ~25 s on one core, as the rows are small
ROW_DTYPES = [pytest.param(op, dtype, id=f"{op.name}-{dtype}") for op in DEVICE_ROWS for dtype in op.dtypes]


@pytest.mark.parametrize("op, dtype", ROW_DTYPES)
def test_op_table_on_device(op, dtype):
    for k, shapes in enumerate(op.shapes):
        _check_row(op, _draw(op, shapes, dtype, seed=k), dtype, seed=k)


# Non-contiguous (transposed) inputs, first shape set of each row: paths that look at strides or flags
NONCONTIG_ROWS = [op for op in DEVICE_ROWS
                  if op.noncontig and any(len(s) >= 2 and s[-1] > 1 and s[-2] > 1 for s in op.shapes[0])]


@pytest.mark.parametrize("op", NONCONTIG_ROWS, ids=[op.name for op in NONCONTIG_ROWS])
def test_op_table_noncontiguous_on_device(op):
    dtype = op.dtypes[0]
    arrays = _draw(op, op.shapes[0], dtype, seed=100)
    assert not all(x.is_contiguous() for x in _leaves(arrays, "cuda", False, contiguous=False))
    _check_row(op, arrays, dtype, seed=0, contiguous=False)


@pytest.mark.parametrize("op", MIXED_ROWS, ids=[op.name for op in MIXED_ROWS])
def test_op_table_rows_mixing_devices_raise(op):
    dev = _leaves(_draw(op, op.shapes[0], "float64", seed=0), "cuda", False)
    with pytest.raises(RuntimeError, match="^Expected all tensors to be on the same device, but found at least "
                                           "two devices, cuda:0 and cpu!$"):
        op.fn(G, *dev)


# ---- device names, conversions, errors ---------------------------------------------------------------
def test_cuda_is_available_on_the_fake_device():
    assert G.cuda.is_available() and G.cuda.device_count() == 1
    assert G.backends.cuda_module() is G.backends.get("cuda")
    assert G.backends.get("cuda").__name__ == "glasstorch.backends.fake_cuda"


def test_tensors_report_cuda_0_as_torch_does():
    x = G.zeros(2, device="cuda")
    assert str(x.device) == "cuda:0" and repr(x.device) == "device(type='cuda', index=0)"
    assert x.device == "cuda:0" and x.device == G.device("cuda", 0) and x.is_cuda
    # torch.device('cuda') itself keeps no index, and is not equal to cuda:0 (torch's rule)
    for m in (G, torch):
        assert repr(m.device("cuda")) == "device(type='cuda')" and str(m.device("cuda")) == "cuda"
    assert (G.device("cuda") == G.device("cuda:0")) == (torch.device("cuda") == torch.device("cuda:0"))
    for made in (G.ones(1, device=G.device("cuda")), G.tensor([1.0], device="cuda:0"), G.arange(3, device="cuda"),
                 G.randn(2, device="cuda"), G.zeros(1).cuda(), G.zeros(1).to("cuda"), G.zeros(1).cuda(0),
                 G.zeros(1).to(G.device("cuda")), G.zeros_like(x), x.new_zeros(3), x + 1, x.sum()):
        assert made.device is x.device, made.device  # one shared device object per device
    assert repr(x) == "tensor([0., 0.], device='cuda:0')"
    with pytest.raises(RuntimeError, match="CUDA error: invalid device ordinal"):
        G.zeros(1, device="cuda:1")  # the fake machine has one GPU
    assert x.to("cuda") is x and x.cuda() is x and x.to("cuda:0") is x
    assert x.get_device() == 0 and G.zeros(1).get_device() == torch.zeros(1).get_device() == -1


def test_round_trips_and_explicit_copies():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = G.from_numpy(a).cuda()
    assert x.cpu().device == G.device("cpu") and np.array_equal(x.cpu().numpy(), a)
    a[0, 0] = 100.0  # the device copy does not alias host memory
    assert x[0, 0].item() == 0.0 and x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert float(x.sum()) == 15.0 and int(x[1, 2]) == 5 and bool(x[0, 1])
    assert str(x).endswith("device='cuda:0')")


def test_numpy_of_a_cuda_tensor_is_torchs_type_error():
    with pytest.raises(TypeError, match=r"^can't convert cuda:0 device type tensor to numpy\. Use Tensor\.cpu\(\) "
                                        r"to copy the tensor to host memory first\.$"):
        G.ones(2, device="cuda").numpy()


def test_device_arrays_refuse_implicit_host_copies_and_mixing():
    d = G.ones(3, device="cuda")._data
    with pytest.raises(TypeError, match=r"^Implicit conversion to a NumPy array is not allowed\. Please use "
                                        r"`\.get\(\)` to construct a NumPy array explicitly\.$"):
        np.asarray(d)
    xp = G.device("cuda").xp
    for mixed in (lambda: d + np.ones(3), lambda: np.ones(3) * d, lambda: np.add(d, np.ones(3)),
                  lambda: xp.concatenate([d, np.ones(3)]), lambda: xp.where(d > 0, d, np.zeros(3))):
        with pytest.raises(TypeError, match="Unsupported type"):
            mixed()
    with pytest.raises(TypeError):
        xp.indices((2, 3), sparse=True)  # CuPy's indices has no sparse=
    assert type(d.sum()) is type(d) and d.sum().ndim == 0  # reductions stay on the device, 0-d


@pytest.mark.parametrize("order", ["cuda_first", "cpu_first"])
def test_mixing_devices_raises_torchs_error(order):
    a, b = G.ones(2, 3, device="cuda"), G.ones(2, 3)
    first, second = ("cuda:0", "cpu") if order == "cuda_first" else ("cpu", "cuda:0")
    if order == "cpu_first":
        a, b = b, a
    # elementwise ops: TensorIterator's message, exactly as torch 2.13 prints it
    message = f"^Expected all tensors to be on the same device, but found at least two devices, {first} and {second}!$"
    for op in (lambda: a + b, lambda: a * b, lambda: G.maximum(a, b)):
        with pytest.raises(RuntimeError, match=message):
            op()
    # ops with a generated device check end "... but got mat2 is on cpu, different from other tensors on cuda:0
    # (when checking argument in method wrapper_CUDA_mm)" in torch: the common prefix is what programs match
    for op in (lambda: G.matmul(a, b.T), lambda: G.cat([a, b]), lambda: G.nn.functional.linear(a, b)):
        with pytest.raises(RuntimeError, match="^Expected all tensors to be on the same device, but "):
            op()


def test_a_cpu_scalar_tensor_mixes_with_cuda_as_in_torch():
    x = G.ones(3, device="cuda")
    for y in (x * G.tensor(2.0), G.tensor(2.0) * x, x + G.tensor(1)):
        assert y.device == "cuda:0"
    assert (x * G.tensor(2.0)).tolist() == [2.0, 2.0, 2.0]


def test_default_device_and_device_context():
    assert repr(G.get_default_device()) == repr(torch.get_default_device()) == "device(type='cpu')"
    with G.device("cuda"):
        assert G.zeros(2).device == "cuda:0" and G.tensor([1, 2]).device == "cuda:0"
        assert G.from_numpy(np.zeros(2)).device == "cpu"  # from_numpy shares host memory: never moved
        assert repr(G.get_default_device()) == "device(type='cuda', index=0)"
    assert G.zeros(2).device == "cpu"
    G.set_default_device("cuda")
    try:
        assert G.ones(1).is_cuda
    finally:
        G.set_default_device(None)
    assert G.ones(1).device == "cpu"


def test_fake_device_memory_counters():
    import gc

    from glasstorch.backends import fake_cuda

    gc.collect()
    gc.disable()  # no collection of older device arrays in the middle of the counts
    try:
        fake_cuda.reset_peak_memory_stats()
        before = fake_cuda.memory_allocated()
        x = G.zeros(1000, dtype=G.float64, device="cuda")
        assert fake_cuda.memory_allocated() == before + 8000
        y = x[10:]  # a view: no new memory
        assert fake_cuda.memory_allocated() == before + 8000
        del x, y
        assert fake_cuda.memory_allocated() == before and fake_cuda.max_memory_allocated() == before + 8000
    finally:
        gc.enable()


# ---- nn training: the same steps on both devices ------------------------------------------------------
def _mlp():
    return G.nn.Sequential(G.nn.Linear(20, 32), G.nn.ReLU(), G.nn.Dropout(0.2), G.nn.Linear(32, 5))


def _cnn():
    # no bias before batch norm: its exact gradient is 0, so Adam would amplify rounding noise into +-lr steps
    return G.nn.Sequential(G.nn.Conv2d(1, 4, 3, padding=1, bias=False), G.nn.BatchNorm2d(4), G.nn.ReLU(),
                           G.nn.MaxPool2d(2),
                           G.nn.Conv2d(4, 6, 3), G.nn.ReLU(), G.nn.AdaptiveAvgPool2d(1), G.nn.Flatten(),
                           G.nn.Linear(6, 5))


def _train(device, make, shape, opt, steps=3):
    """Losses and final weights (on the CPU) of `steps` training steps on `device`, same seed every time."""
    G.manual_seed(0)
    model = make().to(device)
    optimizer = opt(model.parameters())
    rng = np.random.default_rng(0)
    losses = []
    for _ in range(steps):
        x = G.from_numpy(rng.standard_normal((8,) + shape).astype(np.float32)).to(device)
        y = G.from_numpy(rng.integers(0, 5, 8)).to(device)
        loss = G.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    for name, p in model.named_parameters():
        assert p.device == "cuda:0" if device == "cuda" else p.device == "cpu", name
        assert p.grad.device == p.device, name
    return losses, {k: v.cpu().numpy() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("make, shape", [(_mlp, (20,)), (_cnn, (1, 8, 8))], ids=["mlp", "cnn"])
def test_training_steps_equal_the_cpu_run(make, shape):
    opt = lambda ps: G.optim.Adam(ps, lr=1e-2)  # noqa: E731
    cpu_losses, cpu_state = _train("cpu", make, shape, opt)
    dev_losses, dev_state = _train("cuda", make, shape, opt)
    np.testing.assert_allclose(dev_losses, cpu_losses, **FUSED_TOL)
    for k in cpu_state:
        np.testing.assert_allclose(dev_state[k], cpu_state[k], err_msg=k, **FUSED_TOL)


# ---- every optimizer ------------------------------------------------------------------------------------
OPTIMIZERS = {
    "SGD": lambda ps: G.optim.SGD(ps, lr=0.1),
    "SGD_momentum_nesterov_wd": lambda ps: G.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "Adam": lambda ps: G.optim.Adam(ps, lr=1e-2),
    "Adam_amsgrad_wd": lambda ps: G.optim.Adam(ps, lr=1e-2, amsgrad=True, weight_decay=0.01),
    "AdamW": lambda ps: G.optim.AdamW(ps, lr=1e-2),
    "RMSprop_centered_momentum": lambda ps: G.optim.RMSprop(ps, lr=1e-2, centered=True, momentum=0.5),
    "RMSprop": lambda ps: G.optim.RMSprop(ps, lr=1e-2),
    "Adagrad": lambda ps: G.optim.Adagrad(ps, lr=0.1),
    "Adadelta": lambda ps: G.optim.Adadelta(ps, lr=1.0),
    "Adafactor": lambda ps: G.optim.Adafactor(ps, lr=1e-2),
    "Adamax": lambda ps: G.optim.Adamax(ps, lr=1e-2),
    "NAdam": lambda ps: G.optim.NAdam(ps, lr=1e-2),
    "RAdam": lambda ps: G.optim.RAdam(ps, lr=1e-2),
    "ASGD": lambda ps: G.optim.ASGD(ps, lr=1e-2, t0=1),
    "Rprop": lambda ps: G.optim.Rprop(ps, lr=1e-2),
    "Muon": lambda ps: G.optim.Muon([p for p in ps if p.ndim == 2], lr=1e-2),
}


# With the extra `fast`, SGD/Adam/AdamW/RMSprop/Adagrad update CPU parameters in one compiled loop
# (backends/cpu_fused.py) whose float32 arithmetic may round differently from NumPy's (fused multiply-adds,
# Adam's reordered denominator): seen 5e-6 relative on one element after 3 steps. So the CPU run is matched
# to float32's usual 1e-5, still far below what a wrong formula or a missed state update gives (> 1e-3).
FUSED_TOL = dict(rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_steps_equal_the_cpu_run(name):
    cpu_losses, cpu_state = _train("cpu", _mlp, (20,), OPTIMIZERS[name])
    dev_losses, dev_state = _train("cuda", _mlp, (20,), OPTIMIZERS[name])
    np.testing.assert_allclose(dev_losses, cpu_losses, **FUSED_TOL)
    for k in cpu_state:
        np.testing.assert_allclose(dev_state[k], cpu_state[k], err_msg=f"{name} {k}", **FUSED_TOL)


def test_lbfgs_on_device():
    def run(device):
        G.manual_seed(0)
        w = G.randn(5, dtype=G.float64).to(device).requires_grad_(True)
        target = G.arange(5, dtype=G.float64, device=device)
        opt = G.optim.LBFGS([w], lr=0.5, max_iter=5, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = ((w - target) ** 2).sum() + (w ** 4).sum() * 0.01
            loss.backward()
            return loss

        for _ in range(2):
            opt.step(closure)
        return w.detach().cpu().numpy()

    np.testing.assert_allclose(run("cuda"), run("cpu"), **SAME["float64"])


def test_optimizer_state_lives_with_its_parameters():
    model = _mlp().cuda()
    opt = G.optim.Adam(model.parameters(), lr=1e-2)
    model(G.randn(4, 20, device="cuda")).sum().backward()
    opt.step()
    for state in opt.state.values():
        for v in state.values():
            if isinstance(v, G.Tensor) and v.ndim:
                assert v.device == "cuda:0"
    # a state dict saved from cuda loads into an optimizer of CPU parameters: the state follows them
    sd = opt.state_dict()
    cpu_model = _mlp()
    cpu_opt = G.optim.Adam(cpu_model.parameters(), lr=1e-2)
    cpu_opt.load_state_dict(sd)
    for state in cpu_opt.state.values():
        assert all(v.device == "cpu" for v in state.values() if isinstance(v, G.Tensor) and v.ndim)


# ---- checkpoints ---------------------------------------------------------------------------------------
def test_checkpoints_from_cuda_load_on_cpu_and_back(tmp_path):
    model = _mlp().cuda()
    opt = G.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(G.randn(4, 20, device="cuda")).sum().backward()
    opt.step()
    path = tmp_path / "ckpt.pt"
    G.save({"model": model.state_dict(), "opt": opt.state_dict()}, path)
    want = {k: v.cpu().numpy() for k, v in model.state_dict().items()}

    def check(ckpt, device: str):
        for k, v in ckpt["model"].items():
            assert str(v.device) == device, (k, v.device)
            np.testing.assert_array_equal(v.cpu().numpy(), want[k])
        for state in ckpt["opt"]["state"].values():
            assert str(state["momentum_buffer"].device) == device

    check(G.load(path), "cuda:0")  # saved locations are kept
    check(G.load(path, map_location="cpu"), "cpu")
    check(G.load(path, map_location=G.device("cpu")), "cpu")
    check(G.load(path, map_location={"cuda:0": "cpu"}), "cpu")
    check(G.load(path, map_location=lambda storage, loc: storage), "cpu")  # torch's "keep it on the CPU" idiom
    # and back: CPU checkpoint to cuda
    cpu_path = tmp_path / "cpu.pt"
    G.save(G.load(path, map_location="cpu"), cpu_path)
    check(G.load(cpu_path, map_location="cuda"), "cuda:0")
    check(G.load(cpu_path, map_location={"cpu": "cuda:0"}), "cuda:0")
    # the saved file names the device as torch does, so torch reads it on a CPU machine with map_location
    ours = torch.load(path, map_location="cpu", weights_only=True)
    for k, v in ours["model"].items():
        np.testing.assert_array_equal(v.numpy(), want[k])
    # a model loads a cuda state dict into CPU parameters (and the other way)
    cpu_model = _mlp()
    cpu_model.load_state_dict(G.load(path)["model"])
    assert all(p.device == "cpu" for p in cpu_model.parameters())
    model.load_state_dict(G.load(path, map_location="cpu")["model"])
    assert all(p.device == "cuda:0" for p in model.parameters())


def test_safetensors_from_cuda(tmp_path):
    from glasstorch.utils.safetensors import load_file, save_file

    sd = {k: v for k, v in _mlp().cuda().state_dict().items()}
    save_file(sd, str(tmp_path / "m.safetensors"))
    for device, want in ((None, "cpu"), ("cuda", "cuda:0")):
        loaded = load_file(str(tmp_path / "m.safetensors"), **({} if device is None else {"device": device}))
        for k, v in loaded.items():
            assert str(v.device) == want
            np.testing.assert_array_equal(v.cpu().numpy(), sd[k].cpu().numpy())


# ---- DataLoader --------------------------------------------------------------------------------------
def test_dataloader_pin_memory_and_device_datasets():
    X, y = G.randn(10, 3), G.arange(10)
    ds = G.utils.data.TensorDataset(X, y)
    for xb, yb in G.utils.data.DataLoader(ds, batch_size=4, pin_memory=True):
        assert xb.device == "cpu" and xb.is_pinned() and yb.is_pinned()
        assert xb.to("cuda", non_blocking=True).device == "cuda:0"
    assert not X.is_pinned() and X.pin_memory().is_pinned() and not (X.pin_memory() + 1).is_pinned()
    with pytest.raises(RuntimeError, match="only dense CPU tensors can be pinned"):
        X.cuda().pin_memory()
    # a dataset already on the device gives device batches (the CLI's path)
    dev = G.utils.data.TensorDataset(X.cuda(), y.cuda())
    batches = list(G.utils.data.DataLoader(dev, batch_size=4, shuffle=True, generator=G.Generator().manual_seed(0)))
    assert all(b.device == "cuda:0" for pair in batches for b in pair)
    host = list(G.utils.data.DataLoader(ds, batch_size=4, shuffle=True, generator=G.Generator().manual_seed(0)))
    for (a, b), (c, d) in zip(batches, host):
        np.testing.assert_array_equal(a.cpu().numpy(), c.numpy())
        np.testing.assert_array_equal(b.cpu().numpy(), d.numpy())


# ---- the CLI with --device cuda ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory):
    """One epoch (batch 512, the default Adam) of `glasstorch train` on cuda and on cpu: {device: run folder}."""
    from test_cli import MNIST_DIR, glasstorch_cmd

    if MNIST_DIR is None:
        pytest.skip("MNIST not found (set GLASSTORCH_DATA)")
    runs = {}
    for device in ("cuda", "cpu"):
        out = tmp_path_factory.mktemp(device)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("GLASSTORCH_FAKE_CUDA", "1")  # the child process serves 'cuda' from the fake device
            proc = glasstorch_cmd("train", "--epochs", "1", "--batch-size", "512", "--device", device,
                                  "--out", str(out), "--data-dir", MNIST_DIR)
        assert proc.returncode == 0, proc.stderr
        runs[device] = out
    return runs


def test_cli_train_on_cuda_matches_the_cpu_run(cli_runs):
    import json

    cuda, cpu = (json.loads((cli_runs[d] / "metrics.json").read_text())[0] for d in ("cuda", "cpu"))
    assert json.loads((cli_runs["cuda"] / "config.json").read_text())["device"] == "cuda"
    # 118 Adam steps: the CPU run may use the compiled update (extra `fast`), a last-bit different rounding
    # that can grow over the epoch; 1e-4 on the mean losses and 5 test images in 10,000 cover that, while
    # a broken device path (no training, a lost update) is off by far more.
    for key in ("train_loss", "test_loss"):
        assert cuda[key] == pytest.approx(cpu[key], rel=1e-4), key
    for key in ("train_acc", "test_acc"):
        assert cuda[key] == pytest.approx(cpu[key], abs=5e-4), key
    assert cuda["test_acc"] > 0.85


def test_cli_eval_predict_and_resume_on_cuda(cli_runs, tmp_path):
    import shutil

    from test_cli import MNIST_DIR, glasstorch_cmd, parse_predictions, run_main, write_digit_png

    model = str(cli_runs["cuda"] / "model.safetensors")
    outputs = {d: run_main("eval", model, "--data-dir", MNIST_DIR, "--device", d) for d in ("cuda", "cpu")}
    assert outputs["cuda"][0] == 0 and outputs["cuda"] == outputs["cpu"]  # the same accuracy and confusion matrix
    png = tmp_path / "digit.png"
    label = write_digit_png(png, 0)
    rc, stdout = run_main("predict", model, str(png), "--device", "cuda")
    assert rc == 0 and parse_predictions(stdout)[0][0] == str(label)
    assert (rc, stdout) == run_main("predict", model, str(png), "--device", "cpu")
    # --resume reloads train_state.pt (cuda tensors, Adam's state) and goes on on the device
    run = tmp_path / "run"
    shutil.copytree(cli_runs["cuda"], run)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GLASSTORCH_FAKE_CUDA", "1")
        proc = glasstorch_cmd("train", "--resume", "--epochs", "2", "--out", str(run), "--data-dir", MNIST_DIR)
    assert proc.returncode == 0, proc.stderr
    assert "epoch  2/2" in proc.stdout


def test_cli_device_cuda_without_cuda_is_a_usage_error(tmp_path):
    from glasstorch import backends, cli

    previous = backends.use_fake_cuda(False)
    try:
        if G.cuda.is_available():
            pytest.skip("a real GPU is present")
        with pytest.raises(cli.UsageError, match="--device cuda: CUDA is not available on this machine"):
            cli._device("cuda")
    finally:
        backends.use_fake_cuda(previous)


# ---- layers beyond the op table: the same module on both devices ---------------------------------------
def _seq_lengths_lstm(m, x):
    packed = m.nn.utils.rnn.pack_padded_sequence(x, [5, 3, 2], batch_first=True)
    out, _ = m._lstm(packed)
    return m.nn.utils.rnn.pad_packed_sequence(out, batch_first=True)[0]


MODULES = {
    "lstm": (lambda: G.nn.LSTM(4, 6, num_layers=2, bidirectional=True, batch_first=True), (3, 5, 4)),
    "gru": (lambda: G.nn.GRU(4, 6, batch_first=True), (3, 5, 4)),
    "rnn_relu": (lambda: G.nn.RNN(4, 6, nonlinearity="relu"), (5, 3, 4)),
    "transformer_encoder_layer": (lambda: G.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
                                  (2, 5, 8)),
    "multihead_attention": (lambda: _SelfAttention(), (2, 5, 8)),
    "layer_norm": (lambda: G.nn.LayerNorm(8), (2, 5, 8)),
    "group_norm": (lambda: G.nn.GroupNorm(2, 4), (2, 4, 3, 3)),
    "batch_norm1d": (lambda: G.nn.BatchNorm1d(4), (6, 4)),
    "conv_transpose2d": (lambda: G.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1), (2, 2, 4, 4)),
    "conv1d_upsample": (lambda: G.nn.Sequential(G.nn.Conv1d(2, 3, 3), G.nn.Upsample(scale_factor=2, mode="linear")),
                        (2, 2, 7)),
    "embedding": (lambda: _Embed(), (3, 4)),
}


class _SelfAttention(G.nn.Module):
    def __init__(self):
        super().__init__()
        self.mha = G.nn.MultiheadAttention(8, 2, batch_first=True)

    def forward(self, x):
        mask = G.ones(5, 5, dtype=G.bool, device=x.device).triu(1)
        return self.mha(x, x, x, attn_mask=mask)[0]


class _Embed(G.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = G.nn.Embedding(10, 3, padding_idx=0)

    def forward(self, x):
        return self.emb((x.abs() * 3).long().clamp(max=9))


@pytest.mark.parametrize("name", list(MODULES))
def test_module_forward_backward_equal_on_both_devices(name):
    make, shape = MODULES[name]
    G.manual_seed(0)
    cpu = make()
    dev = make().cuda()
    dev.load_state_dict(cpu.state_dict())
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    results = []
    for model, device in ((cpu, "cpu"), (dev, "cuda")):
        xt = G.from_numpy(x.copy()).to(device).requires_grad_(name != "embedding")
        out = model(xt)
        out = out[0] if isinstance(out, tuple) else out
        assert out.device == ("cuda:0" if device == "cuda" else "cpu")
        (out * G.linspace(-1, 1, out.numel(), device=device).reshape(out.shape)).sum().backward()
        grads = {k: p.grad.cpu().numpy() for k, p in model.named_parameters() if p.grad is not None}
        results.append((out.detach().cpu().numpy(), grads, model.state_dict()))
    (o1, g1, s1), (o2, g2, s2) = results
    np.testing.assert_allclose(o2, o1, err_msg=name, **SAME["float32"])
    assert g1.keys() == g2.keys() and g1
    for k in g1:
        np.testing.assert_allclose(g2[k], g1[k], err_msg=f"{name} grad {k}", **SAME["float32"])
    for k in s1:  # running statistics (batch norm) updated alike
        np.testing.assert_allclose(s2[k].cpu().numpy(), s1[k].numpy(), err_msg=f"{name} {k}", **SAME["float32"])


# gradcheck and gradgradcheck run on device tensors, as torch's do (rows with several kinds of backward)
GRADCHECK_ROWS = [op for op in DEVICE_ROWS if op.name in (
    "matmul", "softmax", "div", "sum_dim", "conv2d", "group_norm", "cross_entropy_nd", "gather", "index_add",
    "linalg_det")]
assert len(GRADCHECK_ROWS) == 10


@pytest.mark.parametrize("op", GRADCHECK_ROWS, ids=[op.name for op in GRADCHECK_ROWS])
def test_gradcheck_on_device(op):
    xs = _leaves(_draw(op, op.shapes[0], "float64", seed=7), "cuda", True)

    def f(*inputs):
        with G.device("cuda"):
            return tuple(o for o in flat_outputs(op.fn(G, *inputs)) if isinstance(o, G.Tensor)
                         and o.dtype.is_floating_point)

    assert G.autograd.gradcheck(f, xs, eps=1e-6, atol=1e-7, rtol=1e-5)
    if op.gradgrad:
        assert G.autograd.gradgradcheck(f, xs, eps=1e-6, atol=1e-6, rtol=1e-4)


# ---- indexing and in-place ops (views, CopySlices) -----------------------------------------------------
from test_ops import INDEX_NAMES, INPLACE, X_SHAPE, _index  # noqa: E402


@pytest.mark.parametrize("name", INDEX_NAMES)
def test_getitem_and_setitem_on_device(name):
    """x[index] forward/backward and base[index] = v (CopySlices) agree on both devices."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal(X_SHAPE), rng.standard_normal(X_SHAPE)
    results = []
    for device in ("cpu", "cuda"):
        with G.device(device):
            leaf = G.from_numpy(x.copy()).to(device).requires_grad_()
            picked = leaf[_index(G, name, leaf)]
            (picked * 2).sum().backward()
            got = [picked, leaf.grad]
            if name not in ("list_repeated", "tensor", "tensor_2d", "slice_tensor", "int_tensor",
                            "tensors_broadcast", "bool_true"):  # test_ops.SETITEM_NAMES: no repeated targets
                leaf2 = G.from_numpy(x.copy()).to(device).requires_grad_()
                base = leaf2 * 1.0
                base[_index(G, name, leaf2)] = 0.5
                base[..., :2].mul_(3.0)  # an in-place op on a view of a non-leaf
                (base * G.from_numpy(w).to(device)).sum().backward()
                got += [base, leaf2.grad]
        results.append(got)
    cpu, dev = results
    for i, (r, d) in enumerate(zip(cpu, dev)):
        _assert_close(_to_host(d, name), r, f"{name} result {i}")


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_on_device(name):
    rng = np.random.default_rng(5)
    away_from_0 = np.where(rng.uniform(size=(2, 3)) < 0.5, -1, 1) * rng.uniform(0.2, 2, (2, 3))  # (divisors)
    arrays = [rng.standard_normal((2, 3)), away_from_0]
    results = []
    for device in ("cpu", "cuda"):
        with G.device(device):
            x, y = (t.to(device) for t in tensors(G, arrays))
            view = x[1]
            out = INPLACE[name](G, x, y)
            if out is not None and out.shape == x.shape and out.data_ptr() == x.data_ptr():
                assert out is x
        results.append((out, x, view))
    _assert_close(_to_host(results[1], name), results[0], name)


# ---- the seed's GPU listings, as a user runs them (`glasstorch run`) -------------------------------------
@pytest.mark.parametrize("name", ["s004_21_gpu_device", "s004_22_gpu_benchmark"])
def test_seed_gpu_listings_run_on_cuda(name, capsys):
    from pathlib import Path

    from glasstorch import cli

    script = Path(__file__).resolve().parent.parent / "examples" / "seeds" / f"{name}.py"
    assert cli.main(["run", str(script)]) == 0
    out = capsys.readouterr().out
    if name == "s004_22_gpu_benchmark":
        assert re.fullmatch(r"CPU: [\d.]+s \| GPU: [\d.]+s \| Speedup: \d+x\n", out), out
