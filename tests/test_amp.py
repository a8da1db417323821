"""torch.autocast and torch.amp.GradScaler, against PyTorch's CPU autocast (bfloat16) and CPU GradScaler live.

bfloat16 tolerance, argued once: bfloat16 keeps 8 significant bits, so one rounding is off by at most
2**-8 relative and two correct implementations whose float32 accumulations differ in the last bits
(summation order differs between CPUs and between NumPy and oneDNN) can round to neighbouring bfloat16
values: 2**-7 ~ 7.8e-3 relative. BF16_TOL allows that (1e-2), and an absolute 1e-2 of the largest
magnitude for elements that come out near zero through cancellation (their error is that of the large
partial sums). A missing cast cannot hide inside it: dtypes are compared exactly.
"""
from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import torch

import glasstorch
from _compare import tensors
from _cuda_backends import cuda_backend  # noqa: F401  (a fixture)

pytestmark = pytest.mark.skipif(glasstorch.bfloat16._np is None, reason="bfloat16 needs the optional ml_dtypes")

MODULES = (glasstorch, torch)


def numpy_of(t) -> np.ndarray:
    """Values as float64 (bfloat16 tensors have no .numpy() in PyTorch)."""
    return t.detach().double().numpy()


def assert_close_bf16(ours, theirs, what="result"):
    assert str(ours.dtype) == str(theirs.dtype), f"{what}: dtype {ours.dtype} != torch {theirs.dtype}"
    assert tuple(ours.shape) == tuple(theirs.shape), what
    expected = numpy_of(theirs)
    scale = max(1.0, float(np.abs(expected).max())) if expected.size else 1.0
    np.testing.assert_allclose(numpy_of(ours), expected, rtol=1e-2, atol=1e-2 * scale, err_msg=what)


rng = np.random.default_rng(0)
A = rng.standard_normal((4, 4)).astype(np.float32)
B = rng.standard_normal((4, 4)).astype(np.float32)
TARGET = np.array([0, 1, 2, 3])

# op -> fn(module, a, b) with a, b (4, 4) float tensors. The first group runs in bfloat16 under CPU
# autocast, the second in float32 whatever comes in, the third keeps its input dtype, the last promotes.
OPS = {
    # lower precision
    "mm": lambda m, a, b: m.mm(a, b),
    "matmul": lambda m, a, b: a @ b,
    "bmm": lambda m, a, b: m.bmm(a[None], b[None]),
    "addmm": lambda m, a, b: m.addmm(a, a, b),
    "baddbmm": lambda m, a, b: m.baddbmm(a[None], a[None], b[None]),
    "addbmm": lambda m, a, b: m.addbmm(a, a[None], b[None]),
    "linear": lambda m, a, b: m.nn.functional.linear(a, b, b[0]),
    "einsum": lambda m, a, b: m.einsum("ij,jk->ik", a, b),
    "conv1d": lambda m, a, b: m.nn.functional.conv1d(a[None], b[:, :, None][:2]),
    "conv2d": lambda m, a, b: m.nn.functional.conv2d(a.reshape(1, 1, 4, 4), b[:3, :3].reshape(1, 1, 3, 3)),
    "conv_transpose2d": lambda m, a, b: m.nn.functional.conv_transpose2d(a.reshape(1, 1, 4, 4),
                                                                         b[:2, :2].reshape(1, 1, 2, 2)),
    "prelu": lambda m, a, b: m.nn.functional.prelu(a, b[0, :1]),
    "multi_dot": lambda m, a, b: m.linalg.multi_dot([a, b, a]),
    "sdpa": lambda m, a, b: m.nn.functional.scaled_dot_product_attention(a[None], b[None], a[None]),
    # float32
    "mse_loss": lambda m, a, b: m.nn.functional.mse_loss(a, b),
    "l1_loss": lambda m, a, b: m.nn.functional.l1_loss(a, b),
    "smooth_l1_loss": lambda m, a, b: m.nn.functional.smooth_l1_loss(a, b),
    "huber_loss": lambda m, a, b: m.nn.functional.huber_loss(a, b),
    "cross_entropy": lambda m, a, b: m.nn.functional.cross_entropy(a, m.tensor(TARGET)),
    "nll_loss": lambda m, a, b: m.nn.functional.nll_loss(a, m.tensor(TARGET)),
    "bce_with_logits": lambda m, a, b: m.nn.functional.binary_cross_entropy_with_logits(a, b.sigmoid()),
    "bce": lambda m, a, b: m.nn.functional.binary_cross_entropy(a.sigmoid(), b.sigmoid()),
    "kl_div": lambda m, a, b: m.nn.functional.kl_div(a, b.softmax(-1), reduction="batchmean"),
    "margin_ranking": lambda m, a, b: m.nn.functional.margin_ranking_loss(a, b, a.sign()),
    "soft_margin": lambda m, a, b: m.nn.functional.soft_margin_loss(a, b.sign()),
    "hinge_embedding": lambda m, a, b: m.nn.functional.hinge_embedding_loss(a, b.sign()),
    "cosine_embedding": lambda m, a, b: m.nn.functional.cosine_embedding_loss(a, b, m.ones(4)),
    "triplet_margin": lambda m, a, b: m.nn.functional.triplet_margin_loss(a, b, a * 2),
    "poisson_nll": lambda m, a, b: m.nn.functional.poisson_nll_loss(a, b.abs()),
    "multi_margin": lambda m, a, b: m.nn.functional.multi_margin_loss(a, m.tensor(TARGET)),
    "cdist": lambda m, a, b: m.cdist(a, b),
    "trace": lambda m, a, b: m.trace(a),
    "prod": lambda m, a, b: a.prod(),
    "inverse": lambda m, a, b: m.inverse(a + 4 * m.eye(4, dtype=a.dtype)),
    "linalg_inv": lambda m, a, b: m.linalg.inv(a + 4 * m.eye(4, dtype=a.dtype)),
    "pinverse": lambda m, a, b: m.pinverse(a),
    "quantile": lambda m, a, b: m.quantile(a, 0.25),
    "pad_reflect": lambda m, a, b: m.nn.functional.pad(a[None, None], (1, 1, 1, 1), mode="reflect"),
    "pad_replicate": lambda m, a, b: m.nn.functional.pad(a[None, None], (1, 1, 1, 1), mode="replicate"),
    "grid_sample": lambda m, a, b: m.nn.functional.grid_sample(a[None, None], b[:2].reshape(1, 2, 2, 2) * 0.5,
                                                               align_corners=False),
    # unchanged on the CPU (PyTorch's CUDA list has these in float32)
    "sum": lambda m, a, b: a.sum(),
    "softmax": lambda m, a, b: a.softmax(-1),
    "log_softmax": lambda m, a, b: a.log_softmax(-1),
    "exp": lambda m, a, b: a.exp(),
    "pow": lambda m, a, b: a.pow(2),
    "layer_norm": lambda m, a, b: m.nn.functional.layer_norm(a, (4,)),
    "relu_add": lambda m, a, b: (a + b).relu(),
    "dot": lambda m, a, b: m.dot(a[0], b[0]),
    "mv": lambda m, a, b: m.mv(a, b[0]),
    "addcmul": lambda m, a, b: m.addcmul(a, a, b),
    "tensordot": lambda m, a, b: m.tensordot(a, b),
    # promote
    "cat": lambda m, a, b: m.cat([a, b]),
    "stack": lambda m, a, b: m.stack([a, b]),
}


@pytest.mark.parametrize("name", list(OPS))
@pytest.mark.parametrize("in_dtype", ["float32", "bfloat16", "float64"])
def test_op_dtypes_and_values_match_torch_cpu_autocast(name, in_dtype):
    fn = OPS[name]
    results = []
    for m in MODULES:
        a, b = (t.to(getattr(m, in_dtype)) for t in tensors(m, [A, B]))
        with m.autocast("cpu"):
            results.append(fn(m, a, b))
    ours, theirs = results
    assert_close_bf16(ours, theirs, f"{name}({in_dtype})")


@pytest.mark.parametrize("name", ["cat", "stack", "mm", "mse_loss"])
def test_mixed_inputs_promote_as_torch(name):
    results = []
    for m in MODULES:
        a, b = tensors(m, [A, B])
        with m.autocast("cpu"):
            results.append(OPS[name](m, a.bfloat16(), b))
    assert_close_bf16(*results, what=name)


def test_backward_through_autocast_matches_torch_in_dtype_and_value():
    """Gradients reach the float32 leaves in float32 (through the casts' ToCopyBackward0), also when
    backward runs inside the region; the cached weight cast is one node shared by both uses."""
    grads, fns = [], []
    for m in MODULES:
        a, w = tensors(m, [A, B], requires_grad=True)
        with m.autocast("cpu"):
            h = m.nn.functional.linear(a, w)
            out = m.nn.functional.linear(h.relu(), w)
            loss = m.nn.functional.cross_entropy(out, m.tensor(TARGET))
            loss.backward()
        grads.append((a.grad, w.grad, loss))
        fns.append(len(_cast_nodes(out.grad_fn)))
    for ours, theirs in zip(*grads):
        assert_close_bf16(ours, theirs)
    assert fns == [2, 2]  # one cast of `a`, one (cached) of `w` for both products


def _cast_nodes(root) -> set:
    """The ToCopyBackward0 nodes of a graph (iterative walk)."""
    seen, stack, casts = set(), [root], set()
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        if type(fn).__name__ == "ToCopyBackward0":
            casts.add(id(fn))
        stack.extend(n for n, _ in fn.next_functions)
    return casts


def test_autocast_state_nesting_and_decorator():
    for m in MODULES:
        a, b = tensors(m, [A, B])
        assert not m.is_autocast_enabled("cpu") and m.get_autocast_dtype("cpu") == m.bfloat16
        assert m.get_autocast_dtype("cuda") == m.float16 and m.is_autocast_enabled() is False
        with m.autocast("cpu") as ctx:
            assert isinstance(ctx, m.autocast)
            assert m.is_autocast_enabled("cpu") and not m.is_autocast_enabled()
            with m.autocast("cpu", enabled=False):
                assert not m.is_autocast_enabled("cpu") and (a @ b).dtype == m.float32
            with m.autocast("cpu", dtype=m.float16):
                assert (a @ b).dtype == m.float16 and m.get_autocast_dtype("cpu") == m.float16
            assert (a @ b).dtype == m.bfloat16 and m.get_autocast_dtype("cpu") == m.bfloat16
        assert not m.is_autocast_enabled("cpu") and (a @ b).dtype == m.float32

        @m.autocast("cpu")
        def product(x, y):
            return x @ y

        assert product(a, b).dtype == m.bfloat16 and (a @ b).dtype == m.float32
        assert m.amp.autocast is m.autocast and m.is_autocast_cache_enabled()
        with m.autocast("cpu", cache_enabled=False):
            assert not m.is_autocast_cache_enabled()
        assert m.is_autocast_cache_enabled()


def test_autocast_region_is_restored_after_an_exception():
    for m in MODULES:
        with pytest.raises(ZeroDivisionError):
            with m.autocast("cpu"):
                1 / 0
        assert not m.is_autocast_enabled("cpu")


def _warnings_of(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn()
    return result, [(w.category.__name__, str(w.message)) for w in caught]


needs_no_cuda = pytest.mark.skipif(glasstorch.cuda.is_available(), reason="compares with torch's CPU build")


@pytest.mark.parametrize("make", [
    lambda m: m.autocast("cpu", dtype=m.float32),
    lambda m: m.autocast("cpu", dtype=m.float64),
    pytest.param(lambda m: m.autocast("cuda"), marks=needs_no_cuda, id="autocast-cuda"),
    lambda m: m.cpu.amp.autocast(),
    pytest.param(lambda m: m.cuda.amp.autocast(), marks=needs_no_cuda, id="cuda.amp.autocast"),
    lambda m: m.cpu.amp.GradScaler(),
    pytest.param(lambda m: m.cuda.amp.GradScaler(), marks=needs_no_cuda, id="cuda.amp.GradScaler"),
    pytest.param(lambda m: m.amp.GradScaler(), marks=needs_no_cuda, id="GradScaler-cuda"),
    lambda m: m.amp.GradScaler("cuda", enabled=False),
])
def test_warnings_and_disabling_match_torch(make):
    """Unsupported CPU dtypes and CUDA without a GPU warn and disable; deprecated spellings warn."""
    (ours, our_warnings), (theirs, their_warnings) = (_warnings_of(lambda: make(m)) for m in MODULES)
    assert our_warnings == their_warnings
    enabled = "_enabled"
    assert getattr(ours, enabled) == getattr(theirs, enabled)


@pytest.mark.parametrize("make", [lambda m: m.autocast(0), lambda m: m.autocast("cpu")(3),
                                  lambda m: m.amp.GradScaler("cpu", growth_factor=1.0),
                                  lambda m: m.amp.GradScaler("cpu", backoff_factor=1.0)])
def test_argument_errors_match_torch(make):
    errors = []
    for m in MODULES:
        with pytest.raises(Exception) as info:
            make(m)
        errors.append(info.value)
    assert type(errors[0]) is type(errors[1]) and str(errors[0]) == str(errors[1])


def test_unknown_device_type_raises_runtime_error():
    for m in MODULES:
        with pytest.raises(RuntimeError, match="device type at start of device string: abc"):
            m.autocast("abc")


# ---- GradScaler ------------------------------------------------------------------------------------
def _model(m, weights):
    model = m.nn.Sequential(m.nn.Linear(6, 8), m.nn.ReLU(), m.nn.Linear(8, 3))
    with m.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(m.from_numpy(w.copy()))
    return model


def _weights():
    r = np.random.default_rng(1)
    return [(r.standard_normal(s) * 0.4).astype(np.float32) for s in ((8, 6), (8,), (3, 8), (3,))]


def _train(m, steps, *, poison=(), growth_interval=2000, lr=0.1):
    """An MLP trained with autocast + GradScaler('cpu'); a step in `poison` gets an inf/nan gradient."""
    r = np.random.default_rng(2)
    x = m.from_numpy(r.standard_normal((16, 6)).astype(np.float32))
    y = m.from_numpy(r.integers(0, 3, 16))
    model = _model(m, _weights())
    opt = m.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    scaler = m.amp.GradScaler("cpu", init_scale=2.0**10, growth_interval=growth_interval)
    log = []
    for step in range(steps):
        opt.zero_grad()
        with m.autocast("cpu"):
            out = model(x)
            loss = m.nn.functional.cross_entropy(out, y)
        assert out.dtype == m.bfloat16 and loss.dtype == m.float32
        scaler.scale(loss).backward()
        if step in poison:
            with m.no_grad():
                model[0].weight.grad[0, 0] = poison[step]
        before = model[2].bias.detach().clone()
        scaler.step(opt)
        skipped = bool((model[2].bias == before).all())
        scaler.update()
        log.append((loss.item(), scaler.get_scale(), scaler.state_dict()["_growth_tracker"], skipped))
    return log, model


def test_mlp_training_with_autocast_and_gradscaler_matches_torch():
    """Losses within 2e-2 relative over 6 steps: each step's forward differs from PyTorch's by at most
    an ulp of bfloat16 in some elements (see BF16 above), the loss is a float32 mean of 16 samples,
    and SGD with lr 0.1 carries such differences forward without amplifying them over 6 steps.
    The scale trajectory (growth every 2 clean steps) must be identical."""
    ours, _ = _train(glasstorch, 6, growth_interval=2)
    theirs, _ = _train(torch, 6, growth_interval=2)
    np.testing.assert_allclose([o[0] for o in ours], [t[0] for t in theirs], rtol=2e-2)
    assert [o[1:] for o in ours] == [t[1:] for t in theirs]
    assert ours[-1][0] < ours[0][0]  # it trains
    assert [o[1] for o in ours] == [1024.0, 2048.0, 2048.0, 4096.0, 4096.0, 8192.0]


@pytest.mark.parametrize("bad", [float("inf"), float("nan")])
def test_inf_or_nan_gradient_skips_the_step_and_backs_off(bad):
    ours, our_model = _train(glasstorch, 4, poison={1: bad}, growth_interval=3)
    theirs, their_model = _train(torch, 4, poison={1: bad}, growth_interval=3)
    assert [o[1:] for o in ours] == [t[1:] for t in theirs]
    assert [o[3] for o in ours] == [False, True, False, False]  # step 1 skipped
    assert [o[1] for o in ours] == [1024.0, 512.0, 512.0, 512.0]  # halved, tracker restarted
    assert [o[2] for o in ours] == [1, 0, 1, 2]
    for p, q in zip(our_model.parameters(), their_model.parameters()):
        assert_close_bf16(p, q)


def _scaled_grads(m, scaler):
    model = _model(m, _weights())
    x = m.from_numpy(np.linspace(-1, 1, 12, dtype=np.float32).reshape(2, 6))
    scaler.scale(model(x).sum()).backward()
    opt = m.optim.SGD(model.parameters(), lr=0.1)
    return model, opt


def test_scale_unscale_and_state_dict_match_torch():
    states = []
    for m in MODULES:
        scaler = m.amp.GradScaler("cpu", init_scale=8.0, growth_factor=3.0, backoff_factor=0.25, growth_interval=1)
        assert scaler.get_scale() == 8.0 and scaler.is_enabled()
        outputs = scaler.scale([m.ones(2), (m.full((), 2.0),)])
        model, opt = _scaled_grads(m, scaler)
        scaler.unscale_(opt)
        grad = model[0].weight.grad.clone()
        scaler.step(opt)
        scaler.update()
        states.append((outputs, grad, scaler.state_dict(), scaler.get_growth_factor(), scaler.get_backoff_factor(),
                       scaler.get_growth_interval()))
    (o_out, o_grad, *o_rest), (t_out, t_grad, *t_rest) = states
    assert o_rest == t_rest and o_rest[0] == {"scale": 24.0, "growth_factor": 3.0, "backoff_factor": 0.25,
                                               "growth_interval": 1, "_growth_tracker": 0}
    assert type(o_out) is list and type(o_out[1]) is tuple
    np.testing.assert_array_equal(o_out[0].numpy(), t_out[0].numpy())
    np.testing.assert_array_equal(o_out[1][0].numpy(), t_out[1][0].numpy())
    np.testing.assert_allclose(o_grad.numpy(), t_grad.numpy(), rtol=1e-6)


def test_update_with_new_scale_load_state_dict_and_pickle():
    for m in MODULES:
        scaler = m.amp.GradScaler("cpu")
        model, opt = _scaled_grads(m, scaler)
        scaler.step(opt)
        scaler.update(new_scale=4.0)
        assert scaler.get_scale() == 4.0
        other = m.amp.GradScaler("cpu")
        other.load_state_dict({"scale": 2.0, "growth_factor": 4.0, "backoff_factor": 0.5, "growth_interval": 7,
                               "_growth_tracker": 3})
        assert other.state_dict() == {"scale": 2.0, "growth_factor": 4.0, "backoff_factor": 0.5,
                                      "growth_interval": 7, "_growth_tracker": 3}
        again = pickle.loads(pickle.dumps(scaler))
        assert again.get_scale() == 4.0 and again.state_dict() == scaler.state_dict()


@pytest.mark.parametrize("misuse", ["unscale_twice", "unscale_after_step", "step_twice", "update_first",
                                    "empty_state", "closure", "fp16_grads", "bad_new_scale"])
def test_misuse_raises_as_torch(misuse):
    errors = []
    for m in MODULES:
        scaler = m.amp.GradScaler("cpu")
        try:
            if misuse == "update_first":
                scaler.update()
            elif misuse == "empty_state":
                scaler.load_state_dict({})
            else:
                model, opt = _scaled_grads(m, scaler)
                if misuse == "unscale_twice":
                    scaler.unscale_(opt)
                    scaler.unscale_(opt)
                elif misuse == "unscale_after_step":
                    scaler.step(opt)
                    scaler.unscale_(opt)
                elif misuse == "step_twice":
                    scaler.step(opt)
                    scaler.step(opt)
                elif misuse == "closure":
                    scaler.step(opt, closure=lambda: 0.0)
                elif misuse == "fp16_grads":
                    model[0].weight.grad = model[0].weight.grad.half()
                    scaler.unscale_(opt)
                elif misuse == "bad_new_scale":
                    scaler.step(opt)
                    scaler.update(new_scale=m.ones(2))
        except Exception as e:  # noqa: BLE001 - compared below
            errors.append(e)
        else:
            errors.append(None)
    ours, theirs = errors
    assert theirs is not None and ours is not None, (ours, theirs)
    assert type(ours) is type(theirs) and str(ours) == str(theirs)


def test_disabled_scaler_is_transparent():
    scaler = glasstorch.amp.GradScaler("cpu", enabled=False)
    loss = glasstorch.ones(())
    assert scaler.scale(loss) is loss and scaler.get_scale() == 1.0 and scaler.state_dict() == {}
    model, opt = _scaled_grads(glasstorch, scaler)
    before = model[0].weight.detach().clone()
    scaler.step(opt)
    scaler.update()
    assert not bool((model[0].weight == before).all())


# ---- autocast and GradScaler on the CUDA side (the fake device) -------------------------------------
@pytest.mark.usefixtures("cuda_backend")
def test_cuda_autocast_uses_float16_and_the_cuda_lists():
    """PyTorch's CUDA lists (no GPU here to compare live): matmuls in float16; exp, sum, softmax, norms,
    losses in float32; promote for addcmul; CPU tensors untouched by a CUDA region."""
    a, b = (glasstorch.from_numpy(x).cuda() for x in (A, B))
    F = glasstorch.nn.functional
    with glasstorch.autocast("cuda"):
        assert glasstorch.get_autocast_dtype("cuda") == glasstorch.float16 and glasstorch.is_autocast_enabled()
        h = F.linear(a, b)
        assert h.dtype == glasstorch.float16 and h.device.type == "cuda"
        for result in (h.exp(), h.sum(), h.softmax(-1), h.log_softmax(-1), F.layer_norm(h, (4,)), h.pow(2),
                       h.norm(), F.mse_loss(h, b), h.logsumexp(0), h.cumsum(0), glasstorch.linalg.vector_norm(h),
                       glasstorch.linalg.matrix_norm(h), F.cosine_similarity(h, h), F.softplus(h),
                       F.group_norm(h[None], 2), F.interpolate(h[None, None], scale_factor=2.0), h.abs().log1p()):
            assert result.dtype == glasstorch.float32
        assert h.sum(dtype=glasstorch.float16).dtype == glasstorch.float16  # an explicit dtype is respected
        assert glasstorch.addcmul(h, h, b).dtype == glasstorch.float32
        assert glasstorch.addcmul(h, h, h).dtype == glasstorch.float16
        assert (h + h).dtype == glasstorch.float16  # not on any list
        assert (A @ B).dtype == np.float32 and glasstorch.mm(a.cpu(), b.cpu()).dtype == glasstorch.float32
        with pytest.raises(RuntimeError, match="unsafe to autocast"):
            F.binary_cross_entropy(a.sigmoid(), b.sigmoid())
    expected = glasstorch.mm(a.half(), b.half()).float().cpu().numpy()
    with glasstorch.autocast("cuda"):
        np.testing.assert_array_equal(glasstorch.mm(a, b).float().cpu().numpy(), expected)


@pytest.mark.usefixtures("cuda_backend")
def test_cuda_gradscaler_trains_a_float32_model_under_float16_autocast():
    F = glasstorch.nn.functional
    assert glasstorch.amp.GradScaler("cuda").is_enabled()  # CUDA is available now: no warning, enabled
    model = _model(glasstorch, _weights()).cuda()
    opt = glasstorch.optim.SGD(model.parameters(), lr=0.1)
    scaler = glasstorch.amp.GradScaler()
    r = np.random.default_rng(2)
    x = glasstorch.from_numpy(r.standard_normal((16, 6)).astype(np.float32)).cuda()
    y = glasstorch.from_numpy(r.integers(0, 3, 16)).cuda()
    losses = []
    for _ in range(5):
        opt.zero_grad()
        with glasstorch.autocast("cuda"):
            loss = F.cross_entropy(model(x), y)
        scaler.scale(loss).backward()
        assert model[0].weight.grad.dtype == glasstorch.float32 and model[0].weight.grad.device.type == "cuda"
        scaler.step(opt)
        scaler.update()
        losses.append(loss.item())
    assert scaler._scale.device.type == "cuda" and scaler.get_scale() == 65536.0
    assert losses[-1] < losses[0]
    # a float16 model's gradients cannot be unscaled (PyTorch's ValueError)
    half = _model(glasstorch, _weights()).cuda().half()
    opt = glasstorch.optim.SGD(half.parameters(), lr=0.1)
    scaler = glasstorch.amp.GradScaler(init_scale=1.0)  # (2**16 would overflow these float16 gradients)
    scaler.scale(half(x.half()).float().sum()).backward()
    with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients."):
        scaler.step(opt)


def test_hook_costs_one_flag_test_when_autocast_is_off():
    """Outside a region the hooked op runs the same code: results and graph equal the unhooked function's."""
    from glasstorch._ops import linalg

    a, b = tensors(glasstorch, [A, B], requires_grad=True)
    hooked, raw = linalg.mm(a, b), linalg.mm.__wrapped__(a, b)
    np.testing.assert_array_equal(hooked.detach().numpy(), raw.detach().numpy())
    assert type(hooked.grad_fn) is type(raw.grad_fn)
    assert linalg.mm.__code__.co_name == "mm"  # tracebacks and viz traces name the op


def _custom_function(m, cast_inputs):
    seen = {}

    class Product(m.autograd.Function):
        @staticmethod
        @m.amp.custom_fwd(device_type="cpu", cast_inputs=cast_inputs)
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            seen["forward"] = (m.is_autocast_enabled("cpu"), str(a.dtype))
            return a @ b

        @staticmethod
        @m.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            seen["backward"] = m.is_autocast_enabled("cpu")
            return g @ b.t(), a.t() @ g

    return Product, seen


@pytest.mark.parametrize("cast_inputs", [None, "float32"])
def test_custom_fwd_and_custom_bwd_match_torch(cast_inputs):
    results = []
    for m in MODULES:
        Product, seen = _custom_function(m, None if cast_inputs is None else getattr(m, cast_inputs))
        a, b = tensors(m, [A, B], requires_grad=True)
        with m.autocast("cpu"):
            out = Product.apply(a, b)
        out.float().sum().backward()
        results.append((str(out.dtype), seen, a.grad))
    (o_dtype, o_seen, o_grad), (t_dtype, t_seen, t_grad) = results
    assert o_dtype == t_dtype and o_seen == t_seen
    assert_close_bf16(o_grad, t_grad)


@pytest.mark.parametrize("name", ["mm", "addmm", "baddbmm", "linear", "einsum", "conv2d", "conv_transpose2d",
                                  "sdpa", "multi_dot", "mse_loss", "cross_entropy", "kl_div", "cat", "softmax"])
def test_gradients_through_autocast_ops_match_torch(name):
    """float32 leaves, the op under CPU autocast, backward outside: gradients are float32 and equal
    PyTorch's to bfloat16 tolerance (they pass through the bfloat16 casts)."""
    grads = []
    for m in MODULES:
        a, b = tensors(m, [A, B], requires_grad=True)
        with m.autocast("cpu"):
            out = OPS[name](m, a, b)
        weights = m.from_numpy(np.linspace(0.5, 1.5, out.numel(), dtype=np.float32)).reshape(out.shape)
        (out.float() * weights).sum().backward()
        grads.append((a.grad, b.grad))
    for ours, theirs in zip(*grads):
        if theirs is None:
            assert ours is None
        else:
            assert_close_bf16(ours, theirs, name)


@pytest.mark.usefixtures("fake_cuda")
def test_gradscaler_reads_the_device_once_per_step(monkeypatch):
    """PyTorch's step reads found_inf on the host once; unscale_ and update stay on the device. Counted
    as the fake device's explicit device-to-host copies."""
    from glasstorch.backends import fake_cuda

    reads = []
    for name in ("get", "__bool__", "__float__", "__int__"):
        original = getattr(fake_cuda.ndarray, name)
        monkeypatch.setattr(fake_cuda.ndarray, name,
                            lambda self, *a, _f=original, _n=name, **k: (reads.append(_n), _f(self, *a, **k))[1])
    original_getattr = fake_cuda.ndarray.__getattr__

    def counting_getattr(self, attr):
        if attr in ("item", "tolist"):
            reads.append(attr)
        return original_getattr(self, attr)

    monkeypatch.setattr(fake_cuda.ndarray, "__getattr__", counting_getattr)

    class Recorder:  # an optimizer whose step itself reads nothing
        def __init__(self, params):
            self.param_groups = [{"params": list(params)}]
            self.steps = 0

        def step(self):
            self.steps += 1

    model = _model(glasstorch, _weights()).cuda()
    opt = Recorder(model.parameters())
    scaler = glasstorch.amp.GradScaler("cuda")
    x = glasstorch.ones(3, 6, device="cuda")
    scaler.scale(model(x).sum()).backward()
    reads.clear()
    scaler.step(opt)
    assert len(reads) == 1 and opt.steps == 1
    reads.clear()
    scaler.update()
    assert reads == []


# ---- recurrent layers under CPU autocast ------------------------------------------------------------------
def _rnn_pair(name: str, **kwargs):
    """torch's and glasstorch's `name` module (nn.LSTM, nn.GRUCell, ...) with the same float32 weights."""
    theirs = getattr(torch.nn, name)(3, 4, **kwargs)
    ours = getattr(glasstorch.nn, name)(3, 4, **kwargs)
    ours.load_state_dict({k: glasstorch.from_numpy(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def _flat_outputs(result) -> list:
    """output (a PackedSequence's data), then the states, of an RNN/LSTM/GRU call or a cell's result."""
    flat = []
    for r in (result if isinstance(result, tuple) else (result,)):
        if hasattr(r, "batch_sizes"):  # a PackedSequence (a tuple itself)
            flat.append(r.data)
        elif isinstance(r, tuple):
            flat.extend(_flat_outputs(r))
        else:
            flat.append(r)
    return flat


SEQ = rng.standard_normal((6, 2, 3)).astype(np.float32)


@pytest.mark.parametrize("packed", [False, True], ids=["padded", "packed"])
@pytest.mark.parametrize("kwargs", [{}, {"num_layers": 2, "bidirectional": True}], ids=["1layer", "2layers_bi"])
@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_rnn_layers_under_cpu_autocast_match_torch_dtypes_values_and_gradients(name, kwargs, packed):
    """torch 2.13: LSTM on padded input and RNN give bfloat16 output and states (LSTM's packed input and
    GRU stay float32); every dtype is compared exactly. Values: bfloat16 tolerance over 6 steps (the
    state is rounded each step in torch, once at the end here): 2**-6 of the largest magnitude.
    Gradients reach the float32 input and weights through the casts, in float32."""
    results = []
    for m, module in zip(MODULES, _rnn_pair(name, **kwargs)):
        pack = m.nn.utils.rnn.pack_padded_sequence
        x, = tensors(m, [SEQ], requires_grad=True)
        with m.autocast("cpu", dtype=m.bfloat16):
            result = module(pack(x, [6, 4]) if packed else x)
        flat = _flat_outputs(result)
        sum(f.float().sum() * (i + 1) for i, f in enumerate(flat)).backward()
        results.append((flat, x.grad, module.weight_ih_l0.grad, module.weight_hh_l0.grad))
    (o_flat, *o_grads), (t_flat, *t_grads) = results
    assert [str(t.dtype) for t in o_flat] == [str(t.dtype) for t in t_flat]
    for what, ours, theirs in zip(("output", "h_n", "c_n"), o_flat, t_flat):
        scale = float(np.abs(numpy_of(theirs)).max())
        np.testing.assert_allclose(numpy_of(ours), numpy_of(theirs), rtol=0, atol=2 ** -6 * scale, err_msg=what)
    for what, ours, theirs in zip(("x", "weight_ih", "weight_hh"), o_grads, t_grads):
        assert str(ours.dtype) == str(theirs.dtype) == "torch.float32", what
        scale = float(np.abs(numpy_of(theirs)).max())
        np.testing.assert_allclose(numpy_of(ours), numpy_of(theirs), rtol=0, atol=2 ** -5 * scale, err_msg=what)


@pytest.mark.parametrize("name", ["LSTMCell", "GRUCell", "RNNCell"])
def test_rnn_cells_under_cpu_autocast_match_torch_dtypes(name):
    """RNNCell comes out bfloat16 (rnn_tanh_cell is in the lower list), LSTMCell and GRUCell float32."""
    results = []
    for m, cell in zip(MODULES, _rnn_pair(name)):
        x, = tensors(m, [SEQ[0]])
        with m.autocast("cpu", dtype=m.bfloat16):
            results.append(_flat_outputs(cell(x)))
    for ours, theirs in zip(*results):
        assert_close_bf16(ours, theirs, name)


# ---- normalisations with a 16-bit input and float32 parameters ---------------------------------------------
NORM_X = rng.standard_normal((4, 6, 5)).astype(np.float32)
NORM_W = rng.standard_normal(6).astype(np.float32)
NORM_B = rng.standard_normal(6).astype(np.float32)
NORMS = {
    "layer_norm": lambda m, x, w, b: m.nn.functional.layer_norm(x, (5,), w[:5], b[:5]),
    "batch_norm": lambda m, x, w, b: m.nn.functional.batch_norm(x, m.zeros(6), m.ones(6), w, b, True),
    "batch_norm_eval": lambda m, x, w, b: m.nn.functional.batch_norm(x, m.zeros(6) + 0.1, m.ones(6) * 2, w, b, False),
    "group_norm": lambda m, x, w, b: m.nn.functional.group_norm(x, 3, w, b),
    "instance_norm": lambda m, x, w, b: m.nn.functional.instance_norm(x, weight=w, bias=b),
}


@pytest.mark.parametrize("region", [False, True], ids=["plain", "autocast"])
@pytest.mark.parametrize("low", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", list(NORMS))
def test_norms_of_16bit_input_with_float32_parameters_match_torch(name, low, region):
    """PyTorch's CPU mixed type: the output and x's gradient in x's dtype, the parameters' gradients float32,
    computed in float32. Same dtypes exactly; values to one rounding of the 16-bit type (bf16_tol's
    argument). The weight gradient of layer_norm in bfloat16 differs more (torch's mixed-type kernel rounds
    an intermediate of it to bfloat16; ~1% of the largest element measured): 2**-5 of the largest there."""
    results = []
    for m in MODULES:
        x, w, b = tensors(m, [NORM_X, NORM_W, NORM_B], requires_grad=True)
        xl = x.detach().to(getattr(m, low)).requires_grad_()
        with m.autocast("cpu", dtype=m.bfloat16, enabled=region):
            y = NORMS[name](m, xl, w, b)
        weights = m.from_numpy(np.linspace(0.5, 1.5, y.numel(), dtype=np.float32)).reshape(y.shape)
        (y.float() * weights).sum().backward()
        results.append((y, xl.grad, w.grad, b.grad, y.grad_fn.name()))
    ours, theirs = results
    assert ours[4] == theirs[4]
    for what, o, t in zip(("output", "x.grad", "weight.grad", "bias.grad"), ours[:4], theirs[:4]):
        assert str(o.dtype) == str(t.dtype), f"{what}: {o.dtype} != torch {t.dtype}"
        expected = numpy_of(t)
        scale = max(1.0, float(np.abs(expected).max()))
        loose = name == "layer_norm" and what == "weight.grad" and low == "bfloat16"
        np.testing.assert_allclose(numpy_of(o), expected, rtol=1e-2, atol=(2 ** -5 if loose else 1e-2) * scale,
                                   err_msg=what)


# ---- warnings raised inside wrapped ops point at the caller -------------------------------------------------
WARNED = {
    "kl_div": lambda m: m.nn.functional.kl_div(m.zeros(3, 4), m.ones(3, 4) / 4),
    "mse_loss": lambda m: m.nn.functional.mse_loss(m.zeros(3, 4), m.zeros(4)),
    "conv1d_same": lambda m: m.nn.functional.conv1d(m.zeros(1, 1, 5), m.ones(1, 1, 2), padding="same"),
}


@pytest.mark.parametrize("region", [False, True], ids=["plain", "autocast"])
@pytest.mark.parametrize("name", list(WARNED))
def test_warning_from_a_wrapped_op_points_at_the_callers_line(name, region):
    """The @autocast_op wrapper adds frames (two inside a region); torch's warning names the caller's
    file and line, and so does ours. (conv1d's warning is torch's warn-once: checked on our side only.)"""
    for m in (glasstorch,) if name == "conv1d_same" else MODULES:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with m.autocast("cpu", enabled=region):
                WARNED[name](m)
        line = WARNED[name].__code__.co_firstlineno  # the lambda calling the op is the user's code
        user = [w for w in caught if issubclass(w.category, UserWarning)]
        assert user, f"{m.__name__} did not warn"
        assert (user[0].filename, user[0].lineno) == (__file__, line), (m.__name__, user[0].filename, user[0].lineno)
