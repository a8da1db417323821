"""Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop, Adafactor, Muon, LBFGS and swa_utils against torch.optim.

Trajectories: the same small MLP (raw parameter tensors) trained by torch and glasstorch from the same
weights and data, every parameter compared after EVERY one of 100 steps:
  float64: |gt - torch| <= 1e-10 absolute. The two differ only by rounding (torch's CPU kernels fuse
           p + alpha * u into one FMA, NumPy rounds twice), about 1e-16 per step, and these updates
           do not amplify it: the largest difference seen is below 1e-15. A formula that is off (a
           missing bias correction, NAdam's mu_product or ASGD's eta not rounded to float32 as
           torch's 0-d default-dtype state tensors are) moves the weights by 1e-9 or more.
  float32: |gt - torch| <= 1e-4 + 1e-4 * |torch|: forward/backward rounding differs by an ulp or so
           per step (different summation orders), the largest difference seen is ~3e-7.
Muon (bfloat16 inside) and LBFGS (Rosenbrock's function, a convex quadratic) have their own sections.
"""
import copy
import io

import numpy as np
import pytest
import torch

import glasstorch as gt

STEPS = 100
NEW = ["Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop", "Adafactor"]


@pytest.fixture(autouse=True, scope="module")
def _torch_single_threaded():
    """torch on one thread while these tests run: on these tiny tensors a second OpenMP thread buys
    nothing, and on a busy machine its barriers cost 10-30 ms per op. Restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ---- a small MLP of raw parameters, the same in both libraries ----------------------------------------

def _init(seed=0):
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((8, 4)) * 0.5, rng.standard_normal(8) * 0.1,
               rng.standard_normal((3, 8)) * 0.5, rng.standard_normal(3) * 0.1]
    return weights, rng.standard_normal((16, 4)), rng.standard_normal((16, 3)), rng.integers(0, 3, 16)


def _loss(lib, ps, x, y, labels, kind):
    """MSE, negated MSE (for maximize=True), or a log-softmax NLL on 3 classes."""
    out = (x @ ps[0].T + ps[1]).tanh() @ ps[2].T + ps[3]
    if kind == "nll":
        return -out.log_softmax(dim=1)[lib.arange(out.shape[0]), labels].mean()
    mse = ((out - y) ** 2).mean()
    return -mse if kind == "neg_mse" else mse


class _Run:
    """One library's copy of the MLP, its data, an optimizer and an optional scheduler."""

    def __init__(self, lib, opt_name, opt_kw, dtype=np.float64, loss="mse", sched=None, weights=None):
        w, x, y, labels = _init()
        self.lib, self.loss = lib, loss
        self.ps = [lib.tensor(a.astype(dtype), requires_grad=True) for a in (weights or w)]
        self.x, self.y, self.labels = lib.tensor(x.astype(dtype)), lib.tensor(y.astype(dtype)), lib.tensor(labels)
        self.opt = getattr(lib.optim, opt_name)(self.ps, **opt_kw)
        self.sched = sched(lib.optim.lr_scheduler, self.opt) if sched else None

    def backward(self):
        self.opt.zero_grad()
        _loss(self.lib, self.ps, self.x, self.y, self.labels, self.loss).backward()

    def step(self):
        self.backward()
        self.opt.step()
        if self.sched is not None:
            self.sched.step()

    def weights(self):
        return [p.detach().numpy().copy() for p in self.ps]


def _assert_close(ref, ours, dtype):
    for a, b in zip(ref, ours, strict=True):
        if dtype == np.float64:
            np.testing.assert_allclose(b, a, rtol=0, atol=1e-10)
        else:
            np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-4)


def _moved(run, start):
    return max(float(np.abs(a - b).max()) for a, b in zip(run.weights(), start))


CONFIGS = [
    ("Adadelta", dict(), "mse"),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1), "nll"),
    ("Adadelta", dict(lr=0.5, weight_decay=0.05, maximize=True), "neg_mse"),
    ("Adamax", dict(lr=0.01), "mse"),
    ("Adamax", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1), "nll"),
    ("Adamax", dict(lr=0.01, weight_decay=0.05, maximize=True), "neg_mse"),
    ("NAdam", dict(lr=0.01), "mse"),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, momentum_decay=0.01), "nll"),
    ("NAdam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, maximize=True), "neg_mse"),
    ("RAdam", dict(lr=0.01), "mse"),  # rho_t > 5 from step 6 on: both branches are taken
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True), "nll"),
    ("RAdam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1, maximize=True), "neg_mse"),
    ("ASGD", dict(lr=0.05), "mse"),
    ("ASGD", dict(lr=0.05, lambd=1e-3, alpha=0.5, t0=20, weight_decay=0.1), "nll"),  # averaging from step 21
    ("ASGD", dict(lr=0.05, t0=10, maximize=True), "neg_mse"),
    ("Rprop", dict(lr=0.01), "mse"),
    ("Rprop", dict(lr=0.02, etas=(0.3, 1.5), step_sizes=(1e-4, 0.1)), "nll"),
    ("Rprop", dict(lr=0.01, maximize=True), "neg_mse"),
    ("Adafactor", dict(), "mse"),  # (the (8, 4) and (3, 8) weights factored, the biases not)
    ("Adafactor", dict(lr=0.01, eps=(1e-3, 1e-3)), "nll"),
    # (with beta2_decay=-0.5 the second moment forgets so fast that the steps are nearly sign(g), and
    # these 100 steps amplify rounding in the gradients like Rprop's: 3e-7 apart in float64)
    ("Adafactor", dict(lr=0.01, beta2_decay=-0.6, d=2.0, weight_decay=0.05, maximize=True), "neg_mse"),
]


def _config_id(cfg):
    name, kw, loss = cfg
    return name + "-" + ",".join(f"{k}={v}" for k, v in kw.items()) + "-" + loss


# float64: every configuration; float32: one per optimizer (its arithmetic is also checked below with
# identical gradients), Rprop's only there: it steps by the sign of each gradient component, and where
# one is within float32 rounding of zero the two frameworks' gradients (summed in different orders)
# can disagree in sign, parting the trajectories by a whole step
TRAJECTORY_CASES = ([pytest.param(cfg, np.float64, id=_config_id(cfg) + "-float64") for cfg in CONFIGS]
                    + [pytest.param(cfg, np.float32, id=_config_id(cfg) + "-float32")
                       for cfg in CONFIGS[1::3] if cfg[0] != "Rprop"])


@pytest.mark.parametrize("cfg,dtype", TRAJECTORY_CASES)
def test_trajectory_matches_torch(cfg, dtype):
    name, kw, loss = cfg
    ref, ours = _Run(torch, name, kw, dtype, loss), _Run(gt, name, kw, dtype, loss)
    start = ref.weights()
    for _ in range(STEPS):
        ref.step()
        ours.step()
        _assert_close(ref.weights(), ours.weights(), dtype)
    assert _moved(ref, start) > 0.05  # the optimizer really moved the weights
    _assert_same_state(ref, ours, dtype)  # which the weights need not show (ASGD's average 'ax')


def _assert_same_state(ref, ours, dtype=np.float64, same_dtypes=True):
    for p_ref, p in zip(ref.ps, ours.ps, strict=True):
        st_ref, st = ref.opt.state[p_ref], ours.opt.state[p]
        assert list(st) == list(st_ref)
        if same_dtypes:
            assert [str(v.dtype) for v in st.values()] == [str(v.dtype) for v in st_ref.values()]
        _assert_close([v.numpy() for v in st_ref.values()], [v.numpy() for v in st.values()], dtype)


# one configuration per optimizer (options on), and every Rprop one, as its float32 trajectories are
# compared only here
F32_UPDATE_CONFIGS = [cfg for i, cfg in enumerate(CONFIGS) if i % 3 == 1 or cfg[0] == "Rprop"]


@pytest.mark.parametrize("cfg", F32_UPDATE_CONFIGS, ids=_config_id)
def test_float32_update_rule_with_identical_gradients(cfg):
    """The update arithmetic alone: glasstorch is handed torch's gradients at every step, so only the
    update's own rounding is left (a few float32 ulps): 1e-5 absolute over 100 steps."""
    name, kw, loss = cfg
    ref, ours = _Run(torch, name, kw, np.float32, loss), _Run(gt, name, kw, np.float32, loss)
    for _ in range(STEPS):
        ref.backward()
        for a, b in zip(ref.ps, ours.ps):
            b.grad = gt.tensor(a.grad.numpy().copy())
        ref.opt.step()
        ours.opt.step()
        for a, b in zip(ref.weights(), ours.weights()):
            np.testing.assert_allclose(b, a, rtol=0, atol=1e-5)


def _nn_model(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8), nn.SiLU(), nn.Linear(8, 3))


@pytest.mark.parametrize("name,kw", [("Adadelta", dict(lr=0.5)), ("Adamax", dict(lr=0.01)),
                                     ("NAdam", dict(lr=0.01, weight_decay=0.01)), ("RAdam", dict(lr=0.01)),
                                     ("ASGD", dict(lr=0.05, t0=30)), ("Rprop", dict(lr=0.005)),
                                     ("Adafactor", dict(lr=0.01))])
def test_nn_model_trajectory_matches_torch(name, kw):
    """An nn.Module (Linear, Tanh, SiLU) trained with model.parameters(), float64, 100 steps. (Smooth
    layers only: with a LayerNorm in this little model, NAdam's 100 steps drove it where backward
    rounding is amplified to 1e-7 in either framework, which tests the model, not the optimizer.)"""
    torch.manual_seed(0)
    ref = _nn_model(torch).double()
    ours = _nn_model(gt).double()
    ours.load_state_dict({k: gt.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    ref_opt, opt = getattr(torch.optim, name)(ref.parameters(), **kw), getattr(gt.optim, name)(ours.parameters(), **kw)
    _, x, y, _ = _init()
    for _ in range(STEPS):
        for lib, model, o in ((torch, ref, ref_opt), (gt, ours, opt)):
            o.zero_grad()
            ((model(lib.tensor(x)) - lib.tensor(y)) ** 2).mean().backward()
            o.step()
        for p, r in zip(ours.parameters(), ref.parameters(), strict=True):
            np.testing.assert_allclose(p.detach().numpy(), r.detach().numpy(), rtol=0, atol=1e-10)


@pytest.mark.parametrize("name,kw,sched", [
    ("NAdam", dict(lr=0.01), lambda L, o: L.OneCycleLR(o, max_lr=0.05, total_steps=STEPS)),  # cycles beta1 too
    ("Adamax", dict(lr=0.01), lambda L, o: L.CyclicLR(o, 0.002, 0.02, step_size_up=10)),
    ("Adadelta", dict(lr=1.0), lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2)),
    ("RAdam", dict(lr=0.02), lambda L, o: L.SequentialLR(o, [L.LinearLR(o, 0.1, total_iters=10),
                                                             L.PolynomialLR(o, total_iters=90)], milestones=[10])),
    ("ASGD", dict(lr=0.05), lambda L, o: L.ChainedScheduler([L.ExponentialLR(o, 0.99), L.StepLR(o, 25, 0.5)])),
], ids=["NAdam-OneCycleLR", "Adamax-CyclicLR", "Adadelta-WarmRestarts", "RAdam-SequentialLR", "ASGD-Chained"])
def test_schedulers_drive_new_optimizers_like_torch(name, kw, sched):
    ref, ours = _Run(torch, name, kw, sched=sched), _Run(gt, name, kw, sched=sched)
    for _ in range(STEPS):
        ref.step()
        ours.step()
        _assert_close(ref.weights(), ours.weights(), np.float64)
        assert ours.sched.get_last_lr() == pytest.approx(ref.sched.get_last_lr(), rel=1e-12, abs=1e-15)
        assert ours.opt.param_groups[0].get("betas") == pytest.approx(ref.opt.param_groups[0].get("betas"))


# ---- state and state dicts -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", NEW)
def test_state_matches_torch_after_steps(name):
    """Per-parameter state: the same keys in the same order, dtypes (the 0-d 'step', 'mu_product',
    'eta', 'mu' in the default float dtype) and values; param_groups equal."""
    kw = next(kw for n, kw, _ in CONFIGS[1::3] if n == name)
    ref, ours = _Run(torch, name, kw), _Run(gt, name, kw)
    for _ in range(25):
        ref.step()
        ours.step()
    sd_ref, sd_ours = ref.opt.state_dict(), ours.opt.state_dict()
    assert list(sd_ref["state"]) == list(sd_ours["state"])
    for i, st in sd_ref["state"].items():
        assert list(st) == list(sd_ours["state"][i])
        for key, value in st.items():
            mine = sd_ours["state"][i][key]
            assert isinstance(mine, gt.Tensor) and tuple(mine.shape) == tuple(value.shape)
            assert str(mine.dtype) == str(value.dtype), key
            np.testing.assert_allclose(mine.numpy(), value.numpy(), rtol=0, atol=1e-10)
    assert sd_ref["param_groups"] == sd_ours["param_groups"]


def _through_file(obj, save=gt.save, load=gt.load):
    buf = io.BytesIO()
    save(obj, buf)
    buf.seek(0)
    return load(buf)


@pytest.mark.parametrize("via", ["deepcopy", "glasstorch.save"])
@pytest.mark.parametrize("name", NEW)
def test_resume_from_state_dict_continues_the_trajectory(name, via):
    """30 steps, save model + optimizer, 30 more steps; a fresh optimizer loaded from the checkpoint
    must make the same 30 steps. Loading casts the state to the parameters' dtype (as torch does), so
    NAdam's mu_product goes on in float64, no longer rounded to float32: NAdam's resumed run is
    compared with torch resumed the same way; the others continue bit for bit. (ASGD's eta and mu
    become float64 too, but torch rounds each new value to float32 before storing it.)"""
    kw = next(kw for n, kw, _ in CONFIGS[1::3] if n == name)
    runs = {}
    for lib in (torch, gt):
        straight = _Run(lib, name, kw)
        for _ in range(30):
            straight.step()
        ckpt = {"w": [p.detach().clone() for p in straight.ps], "opt": straight.opt.state_dict()}
        ckpt = _through_file(ckpt) if lib is gt and via == "glasstorch.save" else copy.deepcopy(ckpt)
        for _ in range(30):
            straight.step()
        resumed = _Run(lib, name, kw, weights=[w.numpy() for w in ckpt["w"]])
        resumed.opt.load_state_dict(ckpt["opt"])
        for _ in range(30):
            resumed.step()
        runs[lib] = straight, resumed
    _assert_close(runs[torch][1].weights(), runs[gt][1].weights(), np.float64)
    if name != "NAdam":
        for a, b in zip(runs[gt][0].weights(), runs[gt][1].weights()):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", NEW)
def test_torch_checkpoint_resumes_in_glasstorch_and_back(name):
    """torch.save(torch optimizer) -> glasstorch.load -> continues like torch; and back the other way."""
    kw = next(kw for n, kw, _ in CONFIGS[1::3] if n == name)
    ref = _Run(torch, name, kw)
    for _ in range(30):
        ref.step()
    ckpt = _through_file({"w": [p.detach() for p in ref.ps], "opt": ref.opt.state_dict()}, torch.save, gt.load)
    ours = _Run(gt, name, kw, weights=[w.numpy() for w in ckpt["w"]])
    ours.opt.load_state_dict(ckpt["opt"])
    for _ in range(20):
        ref.step()
        ours.step()
        _assert_close(ref.weights(), ours.weights(), np.float64)
    # (ours was loaded, so ASGD's 0-d eta and mu are float64 now; their values are still rounded to
    # float32 at every step, as in torch, so they equal those of torch's never-reloaded float32 ones)
    _assert_same_state(ref, ours, same_dtypes=False)
    ckpt = _through_file({"w": [p.detach() for p in ours.ps], "opt": ours.opt.state_dict()}, gt.save, torch.load)
    back = _Run(torch, name, kw, weights=[w.numpy() for w in ckpt["w"]])
    back.opt.load_state_dict(ckpt["opt"])
    for _ in range(20):
        back.step()
        ours.step()
        _assert_close(back.weights(), ours.weights(), np.float64)


# ---- construction: defaults, printing, validation -------------------------------------------------------

@pytest.mark.parametrize("name", NEW + ["LBFGS"])
def test_defaults_and_repr_match_torch(name):
    ref = getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)])
    ours = getattr(gt.optim, name)([gt.zeros(1, requires_grad=True)])
    assert ours.defaults == ref.defaults
    assert repr(ours) == repr(ref)
    if name != "LBFGS":  # (LBFGS refuses parameter groups)
        ref = getattr(torch.optim, name)([{"params": [torch.zeros(1, requires_grad=True)]},
                                          {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.5}])
        ours = getattr(gt.optim, name)([{"params": [gt.zeros(1, requires_grad=True)]},
                                        {"params": [gt.zeros(1, requires_grad=True)], "lr": 0.5}])
        assert repr(ours) == repr(ref)


VALIDATION_CASES = [
    ("Adadelta", dict(lr=-1)), ("Adadelta", dict(rho=1.5)), ("Adadelta", dict(rho=-0.1)),
    ("Adadelta", dict(eps=-1)), ("Adadelta", dict(weight_decay=-1)),
    ("Adamax", dict(lr=-1)), ("Adamax", dict(eps=-1)), ("Adamax", dict(betas=(1.0, 0.9))),
    ("Adamax", dict(betas=(0.9, -0.1))), ("Adamax", dict(weight_decay=-1)),
    ("NAdam", dict(lr=-1)), ("NAdam", dict(eps=-1)), ("NAdam", dict(betas=(-0.5, 0.9))),
    ("NAdam", dict(betas=(0.9, 1.0))), ("NAdam", dict(weight_decay=-1)), ("NAdam", dict(momentum_decay=-1)),
    ("RAdam", dict(lr=-1)), ("RAdam", dict(eps=-1)), ("RAdam", dict(betas=(1.5, 0.9))),
    ("RAdam", dict(betas=(0.9, 2.0))), ("RAdam", dict(weight_decay=-1)),
    ("ASGD", dict(lr=-1)), ("ASGD", dict(weight_decay=-1)),
    ("Rprop", dict(lr=-1)), ("Rprop", dict(etas=(1.2, 0.5))), ("Rprop", dict(etas=(0.0, 1.2))),
    ("Rprop", dict(etas=(0.5, 1.0))),
    ("LBFGS", dict(lr=-1)),
    ("Adafactor", dict(lr=-1)), ("Adafactor", dict(beta2_decay=0.5)), ("Adafactor", dict(eps=(-1.0, 1e-3))),
    ("Adafactor", dict(eps=(None, -1.0))), ("Adafactor", dict(d=0.5)), ("Adafactor", dict(weight_decay=-1)),
]


@pytest.mark.parametrize("name,kw", VALIDATION_CASES, ids=lambda v: str(v))
def test_validation_errors_match_torch(name, kw):
    with pytest.raises(ValueError) as ref:
        getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **kw)
    with pytest.raises(ValueError) as ours:
        getattr(gt.optim, name)([gt.zeros(1, requires_grad=True)], **kw)
    assert str(ours.value) == str(ref.value)


def test_validation_message_example():
    with pytest.raises(ValueError, match=r"^Invalid eta values: 1.2, 0.5$"):
        gt.optim.Rprop([gt.zeros(1, requires_grad=True)], etas=(1.2, 0.5))
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        gt.optim.NAdam([gt.zeros(1, requires_grad=True)], differentiable=True)
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        gt.optim.RAdam([gt.zeros(1, requires_grad=True)], lr=gt.tensor([0.1, 0.2]))


# ---- behaviour shared with the other optimizers ---------------------------------------------------------

@pytest.mark.parametrize("name", NEW)
def test_zero_dim_parameter_and_tensor_lr(name):
    """A 0-d parameter, a 1-element Tensor lr, a closure: as torch."""
    results = []
    for lib in (torch, gt):
        p = lib.tensor(1.5, dtype=lib.float64, requires_grad=True)
        opt = getattr(lib.optim, name)([p], lr=lib.tensor(0.1, dtype=lib.float64))

        def closure():
            opt.zero_grad()
            loss = (p - 0.25) ** 2
            loss.backward()
            return loss

        losses = [opt.step(closure).item() for _ in range(5)]
        results.append((p.item(), losses))
    assert results[1][0] == pytest.approx(results[0][0], abs=1e-12) and results[0][0] != 1.5
    assert results[1][1] == pytest.approx(results[0][1], abs=1e-12)


@pytest.mark.parametrize("name", NEW)
def test_params_without_grad_are_skipped_and_versions_bumped(name):
    p, q = gt.ones(2, requires_grad=True), gt.ones(2, requires_grad=True)
    opt = getattr(gt.optim, name)([p, q])
    (p * p).sum().backward()
    v = p._version
    assert opt.step() is None
    assert p._version > v and p.tolist() != [1.0, 1.0]
    assert q.tolist() == [1.0, 1.0] and q not in opt.state


def test_adafactor_factors_the_last_two_dims():
    """A (2, 3, 4) parameter keeps row_var (2, 3, 1) and col_var (2, 1, 4); a 0-d one a 0-d variance."""
    rng = np.random.default_rng(0)
    start = [rng.standard_normal((2, 3, 4)), np.array(0.7), rng.standard_normal(5)]
    results = []
    for lib in (torch, gt):
        ps = [lib.tensor(a, requires_grad=True) for a in start]
        opt = lib.optim.Adafactor(ps, lr=0.05)
        for _ in range(10):
            opt.zero_grad()
            sum(((p - 0.3) ** 2 * (i + 1)).sum() for i, p in enumerate(ps)).backward()
            opt.step()
        results.append((ps, opt.state))
    (ref_ps, ref_state), (ps, state) = results
    for r, p in zip(ref_ps, ps):
        np.testing.assert_allclose(p.detach().numpy(), r.detach().numpy(), rtol=0, atol=1e-12)
        assert {k: tuple(v.shape) for k, v in state[p].items()} == {k: tuple(v.shape) for k, v in ref_state[r].items()}
    assert tuple(state[ps[0]]["row_var"].shape) == (2, 3, 1) and tuple(state[ps[0]]["col_var"].shape) == (2, 1, 4)


# ---- Muon: Newton-Schulz in bfloat16 ------------------------------------------------------------------------
# torch orthogonalises in bfloat16; glasstorch computes in float64 and rounds to bfloat16 where torch's
# ops round. Where torch's bfloat16 matmul (float32 sums, in a CPU-dependent order) lands on the other
# side of a rounding boundary, one element moves by a bfloat16 ulp (2**-8 relative), and the weight
# by adjusted_lr * 2**-8 ~ 1e-4: such flips are rare (none in 6,400 elements on this machine) but possible.

def test_muon_newton_schulz_like_torch():
    from torch.optim._muon import _zeropower_via_newtonschulz as torch_ns

    from glasstorch.optim._muon import _zeropower_via_newtonschulz
    rng = np.random.default_rng(0)
    same = total = 0
    for shape in [(8, 4), (4, 8), (6, 6)] * 20:
        g = rng.standard_normal(shape) * 0.1
        ref = torch_ns(torch.tensor(g), (3.4445, -4.7750, 2.0315), 5, 1e-7).float().numpy()
        ours = _zeropower_via_newtonschulz(g, (3.4445, -4.7750, 2.0315), 5, 1e-7, np)
        np.testing.assert_allclose(ours, ref, rtol=2 ** -7, atol=1e-6)  # at most an ulp apart
        same += int((ours == ref).sum())
        total += ref.size
    assert same >= 0.99 * total
    s = np.linalg.svd(ours, compute_uv=False)
    assert 0.5 < s.min() and s.max() < 1.5  # roughly orthogonal, as intended


@pytest.mark.parametrize("kw", [dict(lr=0.02), dict(lr=0.02, nesterov=False, weight_decay=0.05,
                                                      adjust_lr_fn="match_rms_adamw"),
                                dict(lr=0.01, momentum=0.8, ns_steps=3, adjust_lr_fn="original")],
                         ids=["default", "no-nesterov-match_rms_adamw", "3-steps"])
def test_muon_trajectory_matches_torch(kw):
    """The MLP's two weight matrices (Muon takes 2-d parameters only), float64, 30 steps: the first
    three within 1e-12, all within 2e-3 (a few bfloat16 flips; a wrong formula is off by ~1e-2 a step)."""
    w, x, y, labels = _init()
    runs = []
    for lib in (torch, gt):
        ps = [lib.tensor(a, requires_grad=True) for a in w]
        runs.append((lib, ps, lib.optim.Muon([ps[0], ps[2]], **kw), lib.tensor(x), lib.tensor(y), lib.tensor(labels)))
    for step in range(30):
        for lib, ps, opt, xt, yt, lt in runs:
            opt.zero_grad()
            _loss(lib, ps, xt, yt, lt, "nll").backward()
            opt.step()
        for r, p in zip(runs[0][1], runs[1][1]):
            np.testing.assert_allclose(p.detach().numpy(), r.detach().numpy(), rtol=0, atol=1e-12 if step < 3 else 2e-3)
    assert np.abs(runs[0][1][0].detach().numpy() - w[0]).max() > 0.1
    assert np.array_equal(runs[1][1][1].detach().numpy(), w[1])  # the bias was not given to Muon


def test_muon_errors_match_torch():
    cases = [dict(lr=-1), dict(momentum=-1), dict(weight_decay=-1), dict(adjust_lr_fn="rms")]
    for kw in cases:
        msgs = []
        for lib in (torch, gt):
            with pytest.raises(ValueError) as err:
                lib.optim.Muon([lib.zeros(2, 2, requires_grad=True)], **kw)
            msgs.append(str(err.value))
        assert msgs[0] == msgs[1]
    with pytest.raises(ValueError, match=r"^Muon only supports 2D parameters whereas we found a parameter with "
                                         r"size: torch.Size\(\[3\]\)$"):
        gt.optim.Muon([gt.zeros(3, requires_grad=True)])
    ref = torch.optim.Muon([torch.zeros(2, 2, requires_grad=True)])
    ours = gt.optim.Muon([gt.zeros(2, 2, requires_grad=True)])
    assert ours.defaults == ref.defaults and repr(ours) == repr(ref)


# ---- LBFGS -------------------------------------------------------------------------------------------------
# Rosenbrock's valley amplifies rounding: torch's CPU kernels fuse p + t * d into one FMA where NumPy
# rounds twice, so the two start to differ by an ulp after a few evaluations and the gap grows about
# tenfold every few evaluations after that (it depends on the CPU: e.g. whether torch's kernels use
# FMA). Hence: the first iterations of the fixed-step method are compared tightly, the line search
# (which re-anchors every iteration) over a whole run with 1e-8 (seen: 2e-11), and every iterate of a
# well-conditioned quadratic, where nothing is amplified, with 1e-10.

def _rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def _quadratic(x):
    """0.5 x^T A x - b^T x with A = M^T M + I (condition number ~ 10): a convex bowl."""
    rng = np.random.default_rng(3)
    m = rng.standard_normal((6, 6)) * 0.5
    a, b = m.T @ m + np.eye(6), rng.standard_normal(6)
    lib = torch if isinstance(x, torch.Tensor) else gt
    a, b = lib.tensor(a, dtype=x.dtype), lib.tensor(b, dtype=x.dtype)
    return 0.5 * x @ (a @ x) - b @ x


def _lbfgs_run(lib, fn, x0, steps, dtype=np.float64, **kw):
    """Every point where the closure was evaluated, the iterate after each step, the losses step()
    returned, and the optimizer."""
    x = lib.tensor(np.asarray(x0, dtype=dtype), requires_grad=True)
    opt = lib.optim.LBFGS([x], **kw)
    evaluated, iterates, returned = [], [], []

    def closure():
        opt.zero_grad()
        loss = fn(x)
        loss.backward()
        evaluated.append(x.detach().numpy().copy())
        return loss

    for _ in range(steps):
        returned.append(opt.step(closure).item())
        iterates.append(x.detach().numpy().copy())
    return np.array(evaluated), np.array(iterates), returned, opt


def _compare_lbfgs(fn, x0, steps, atol, first=None, dtype=np.float64, **kw):
    ev_ref, it_ref, ret_ref, ref = _lbfgs_run(torch, fn, x0, steps, dtype, **kw)
    ev, it, ret, ours = _lbfgs_run(gt, fn, x0, steps, dtype, **kw)
    n = first or len(ev_ref)
    assert len(ev) >= n and len(ev_ref) >= n
    np.testing.assert_allclose(ev[:n], ev_ref[:n], rtol=0, atol=atol)
    if first is None:
        assert len(ev) == len(ev_ref)
        np.testing.assert_allclose(it, it_ref, rtol=0, atol=atol)
        np.testing.assert_allclose(ret, ret_ref, rtol=1e-8, atol=atol)
    return ref, ours, it_ref


def _wavy(seed):
    """A random smooth 1-d function (cosines on a parabola: several local minima) as (value, slope)
    in NumPy, a start point and a first trial step."""
    rng = np.random.default_rng(seed)
    a, b, c = rng.uniform(0.2, 2, 3), rng.uniform(0.5, 6, 3), rng.uniform(0.05, 1)

    def fg(x: float):
        return float((a * np.cos(b * x)).sum() + c * x * x), float((-a * b * np.sin(b * x)).sum() + 2 * c * x)

    return fg, rng.uniform(-2, 2), float(10 ** rng.uniform(-4, 1.5))


def test_strong_wolfe_line_search_like_torch():
    """The line search alone, on 500 random 1-d functions (both libraries are handed the same values
    and slopes, computed in NumPy), from first steps of 1e-4 to 30: bracketing, extrapolation, zoom
    with its pulls away from the bracket ends. The same number of evaluations, and the same step
    and loss up to 1e-9 relative: torch's 0-d sqrt is not always correctly rounded (seen: one ulp
    off on AVX-512), and an ulp can grow in the cubic fit of a short bracket."""
    from torch.optim.lbfgs import _strong_wolfe as torch_strong_wolfe

    from glasstorch.optim.lbfgs import _strong_wolfe
    for seed in range(500):
        fg, x0, t0 = _wavy(seed)
        f0, g0 = fg(x0)
        results = []
        for wrap, search in ((lambda v: torch.tensor([v], dtype=torch.float64), torch_strong_wolfe),
                             (lambda v: np.array([v]), _strong_wolfe)):
            def obj_func(x, t, d, wrap=wrap):
                f, g = fg(float(x[0][0] + t * d[0]))
                return f, wrap(g)

            g = wrap(g0)
            f, _, t, evals = search(obj_func, [wrap(x0)], t0, -g, f0, g, g.dot(-g))
            results.append((f, float(t), evals))
        (f_ref, t_ref, n_ref), (f, t, n) = results
        assert n == n_ref and t == pytest.approx(t_ref, rel=1e-9) and f == pytest.approx(f_ref, rel=1e-9, abs=1e-9), \
            seed


def test_lbfgs_rosenbrock_fixed_step_first_iterations():
    """No line search: max_iter=4 per step, 3 steps; the first 12 evaluations (seen: < 1e-13 apart)."""
    _, ours, _ = _compare_lbfgs(_rosenbrock, [-1.5, 2.0], 3, 1e-10, first=12, max_iter=4)
    assert ours.state[ours.param_groups[0]["params"][0]]["n_iter"] == 12


@pytest.mark.parametrize("lr", [1.0, 0.05, 3.0])  # first trials: fine, far too short, too long
def test_lbfgs_rosenbrock_strong_wolfe(lr):
    """Every evaluation of 4 steps (56 to 77 of them; seen: at most 1e-10 apart)."""
    ref, ours, it_ref = _compare_lbfgs(_rosenbrock, [-1.5, 2.0], 4, 1e-8, lr=lr, line_search_fn="strong_wolfe")
    if lr != 0.05:
        np.testing.assert_allclose(it_ref[-1], [1.0, 1.0], atol=1e-5)  # it reached the minimum
    p_ref, p = ref.param_groups[0]["params"][0], ours.param_groups[0]["params"][0]
    assert ours.state[p]["func_evals"] == ref.state[p_ref]["func_evals"]
    assert ours.state[p]["n_iter"] == ref.state[p_ref]["n_iter"]


@pytest.mark.parametrize("kw", [dict(lr=0.5, history_size=3), dict(line_search_fn="strong_wolfe", history_size=2),
                                dict(max_iter=3, max_eval=5, tolerance_change=1e-6)],
                         ids=["fixed-step", "strong_wolfe", "few-evals"])
def test_lbfgs_quadratic_every_iterate(kw):
    """A short history (pairs dropped as new ones come) and tight max_eval, every evaluation."""
    x0 = np.linspace(-1, 1, 6)
    _compare_lbfgs(_quadratic, x0, 4, 1e-10, **kw)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_several_parameters(line_search_fn):
    """A weight (3, 2), a bias (3,) and a parameter that never gets a gradient (zeros in the flat
    gradient), fitted by least squares: all parameters move as pieces of one vector."""
    rng = np.random.default_rng(5)
    x, y, w0 = rng.standard_normal((20, 2)), rng.standard_normal((20, 3)), rng.standard_normal((3, 2))
    results = []
    for lib in (torch, gt):
        ps = [lib.tensor(a, requires_grad=True) for a in (w0, np.zeros(3), np.ones(2))]
        opt = lib.optim.LBFGS(ps, history_size=4, max_iter=6, line_search_fn=line_search_fn)
        xt, yt = lib.tensor(x), lib.tensor(y)

        def closure():
            opt.zero_grad()
            loss = ((xt @ ps[0].T + ps[1] - yt) ** 2).mean()
            loss.backward()
            return loss

        losses = [opt.step(closure).item() for _ in range(3)]
        results.append(([p.detach().numpy().copy() for p in ps], losses))
    (ref_ps, ref_losses), (ps, losses) = results
    for r, p in zip(ref_ps, ps):
        np.testing.assert_allclose(p, r, rtol=0, atol=1e-10)
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-10)
    assert ref_losses[-1] < 0.5 * ref_losses[0] and (ps[2] == 1.0).all()


def test_lbfgs_float32():
    """float32: every scalar of the method is rounded to float32 as torch's 0-d tensors are. The
    quadratic is compared with float32 tolerances (rounding of the matrix products differs)."""
    _compare_lbfgs(_quadratic, np.linspace(-1, 1, 6), 2, 1e-4, dtype=np.float32, history_size=4)
    x = gt.tensor([-1.5, 2.0], requires_grad=True)
    opt = gt.optim.LBFGS([x], line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = _rosenbrock(x)
        loss.backward()
        return loss

    for _ in range(5):
        opt.step(closure)
    assert x.dtype == gt.float32 and opt.state[x]["d"].dtype == gt.float32
    np.testing.assert_allclose(x.detach().numpy(), [1.0, 1.0], atol=1e-3)


def test_lbfgs_state_dict_like_torch_and_round_trip():
    """The state (kept under the first parameter) has torch's keys, in torch's order, and tensors
    where torch has tensors; saved and loaded, it continues the same iterates."""
    kw = dict(history_size=3, max_iter=5)
    _, _, _, ref = _lbfgs_run(torch, _quadratic, np.linspace(-1, 1, 6), 2, **kw)
    _, _, _, ours = _lbfgs_run(gt, _quadratic, np.linspace(-1, 1, 6), 2, **kw)
    st_ref, st = ref.state_dict()["state"][0], ours.state_dict()["state"][0]
    assert list(st) == list(st_ref)
    for key, value in st_ref.items():
        mine = st[key]
        if isinstance(value, torch.Tensor):
            assert isinstance(mine, gt.Tensor) and tuple(mine.shape) == tuple(value.shape), key
            np.testing.assert_allclose(mine.numpy(), value.numpy(), rtol=1e-9, atol=1e-12)
        elif isinstance(value, list):
            assert len(mine) == len(value) and all(isinstance(m, gt.Tensor) == isinstance(v, torch.Tensor)
                                                   for m, v in zip(mine, value)), key
        else:
            assert mine == pytest.approx(value, rel=1e-9), key
    assert ours.state_dict()["param_groups"] == ref.state_dict()["param_groups"]

    # continue: straight on, and from a checkpoint written by glasstorch.save
    x = ours.param_groups[0]["params"][0]
    saved = _through_file({"x": x.detach().clone(), "opt": ours.state_dict()})
    straight = _continue(ours, x)
    y = gt.tensor(saved["x"].numpy(), requires_grad=True)
    resumed = gt.optim.LBFGS([y], **kw)
    resumed.load_state_dict(saved["opt"])
    np.testing.assert_array_equal(_continue(resumed, y), straight)

    # a torch checkpoint continues in glasstorch as in torch
    xr = ref.param_groups[0]["params"][0]
    ckpt = _through_file({"x": xr.detach().clone(), "opt": ref.state_dict()}, torch.save, gt.load)
    z = gt.tensor(ckpt["x"].numpy(), requires_grad=True)
    from_torch = gt.optim.LBFGS([z], **kw)
    from_torch.load_state_dict(ckpt["opt"])
    np.testing.assert_allclose(_continue(from_torch, z), _continue(ref, xr), rtol=0, atol=1e-10)


def _continue(opt, x, steps=2):
    """Two more LBFGS steps on the quadratic from where `opt` is; the iterate after them."""
    def closure():
        opt.zero_grad()
        loss = _quadratic(x)
        loss.backward()
        return loss

    for _ in range(steps):
        opt.step(closure)
    return x.detach().numpy().copy()


def test_lbfgs_errors_and_early_exit():
    a, b = gt.zeros(2, requires_grad=True), gt.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=r"^LBFGS doesn't support per-parameter options \(parameter groups\)$"):
        gt.optim.LBFGS([{"params": [a]}, {"params": [b]}])
    opt = gt.optim.LBFGS([a], line_search_fn="backtracking")

    def closure():
        opt.zero_grad()
        loss = ((a - 1) ** 2).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)
    with pytest.raises(TypeError):
        opt.step()  # the closure is required
    # at an optimum the first evaluation is the only one
    c = gt.ones(2, requires_grad=True)
    opt = gt.optim.LBFGS([c])
    calls = []

    def at_minimum():
        opt.zero_grad()
        loss = ((c - 1) ** 2).sum()
        loss.backward()
        calls.append(1)
        return loss

    assert opt.step(at_minimum).item() == 0.0 and len(calls) == 1 and c.tolist() == [1.0, 1.0]


# ---- schedulers: resuming from a state dict ----------------------------------------------------------------

RESUME_SCHEDULERS = {
    "CyclicLR": lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=7, step_size_down=3, mode="triangular2"),
    "CyclicLR-exp_range": lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=5, mode="exp_range", gamma=0.97),
    "CosineAnnealingWarmRestarts": lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=0.001),
    "PolynomialLR": lambda L, o: L.PolynomialLR(o, total_iters=45, power=1.5),
    "OneCycleLR-3phase": lambda L, o: L.OneCycleLR(o, max_lr=0.3, total_steps=60, three_phase=True),
    "ChainedScheduler": lambda L, o: L.ChainedScheduler([L.ConstantLR(o, 0.5, 12), L.ExponentialLR(o, 0.95)]),
    "SequentialLR": lambda L, o: L.SequentialLR(o, [L.LinearLR(o, 0.2, total_iters=8),
                                                    L.MultiplicativeLR(o, lambda e: 0.97)], milestones=[8]),
}


def _sched_lrs(lib, make, steps, resume_at=None):
    """The lr and momentum after each step; at `resume_at` the optimizer and scheduler are rebuilt
    from deep copies of their state dicts (as a training script restarting from a checkpoint)."""
    def build():
        p = lib.zeros(2, requires_grad=True)
        opt = lib.optim.SGD([p], lr=0.1, momentum=0.9)
        return opt, make(lib.optim.lr_scheduler, opt)

    opt, sched = build()
    out = []
    for i in range(steps):
        if i == resume_at:
            saved = copy.deepcopy((opt.state_dict(), sched.state_dict()))
            opt, sched = build()
            opt.load_state_dict(saved[0])
            sched.load_state_dict(saved[1])
        opt.step()
        sched.step()
        out.append(sched.get_last_lr() + [opt.param_groups[0]["momentum"]])
    return np.array(out)


@pytest.mark.parametrize("name", list(RESUME_SCHEDULERS))
def test_scheduler_resumes_from_state_dict_like_torch(name):
    make = RESUME_SCHEDULERS[name]
    ref = _sched_lrs(torch, make, 60)
    assert len(np.unique(ref[:, 0])) > 5
    np.testing.assert_allclose(_sched_lrs(gt, make, 60), ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(_sched_lrs(gt, make, 60, resume_at=23), ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(_sched_lrs(torch, make, 60, resume_at=23), ref, rtol=0, atol=1e-12)


# ---- swa_utils: AveragedModel, SWALR, update_bn --------------------------------------------------------------

def _bn_model(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))


def _swa_run(lib, make_avg, steps=12):
    """Train a BatchNorm model with SGD under SWALR, folding it into an average after every step;
    then update_bn on the average. Returns its state dict, the lrs and the average's output."""
    torch.manual_seed(0)
    ref = _bn_model(torch).double()
    model = ref if lib is torch else _bn_model(gt).double()
    if lib is gt:
        model.load_state_dict({k: gt.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    avg = make_avg(lib.optim.swa_utils, model)
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = lib.optim.swa_utils.SWALR(opt, swa_lr=0.02, anneal_epochs=5)
    rng = np.random.default_rng(0)
    lrs = []
    for _ in range(steps):
        x, y = lib.tensor(rng.standard_normal((16, 4))), lib.tensor(rng.standard_normal((16, 3)))
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()
        sched.step()
        avg.update_parameters(model)
        lrs.append(sched.get_last_lr()[0])
    loader = [(lib.tensor(rng.standard_normal((8, 4))), 0) for _ in range(3)]
    before = avg.training
    lib.optim.swa_utils.update_bn(loader, avg)
    assert avg.training == before and avg.module[1].momentum == 0.1  # both put back
    out = avg(lib.tensor(np.ones((2, 4)))).detach().numpy()
    return {k: v.detach().numpy().copy() for k, v in avg.state_dict().items()}, lrs, out


@pytest.mark.parametrize("make", [
    lambda S, m: S.AveragedModel(m),
    lambda S, m: S.AveragedModel(m, multi_avg_fn=S.get_ema_multi_avg_fn(0.9), use_buffers=True),
    lambda S, m: S.AveragedModel(m, avg_fn=S.get_ema_avg_fn(0.8)),
    lambda S, m: S.AveragedModel(m, multi_avg_fn=S.get_swa_multi_avg_fn()),
    lambda S, m: S.AveragedModel(m, avg_fn=S.get_swa_avg_fn(), use_buffers=True),
], ids=["swa", "ema-multi-buffers", "ema-avg_fn", "swa-multi", "swa-avg_fn-buffers"])
def test_averaged_model_matches_torch(make):
    """float64 through training, averaging and update_bn: each average is a short sum of numbers that
    agree to ~1e-16, so 1e-12 leaves room; the state dicts (module.*, n_averaged) have torch's keys."""
    ref_sd, ref_lrs, ref_out = _swa_run(torch, make)
    sd, lrs, out = _swa_run(gt, make)
    assert list(sd) == list(ref_sd) and sd["n_averaged"] == ref_sd["n_averaged"] == 12
    for key in ref_sd:
        np.testing.assert_allclose(sd[key], ref_sd[key], rtol=0, atol=1e-12, err_msg=key)
    np.testing.assert_allclose(lrs, ref_lrs, rtol=0, atol=1e-15)
    np.testing.assert_allclose(out, ref_out, rtol=0, atol=1e-12)


def test_averaged_model_basics_and_errors():
    S = gt.optim.swa_utils
    model = gt.nn.Linear(2, 2)
    avg = S.AveragedModel(model)
    assert repr(avg) == repr(torch.optim.swa_utils.AveragedModel(torch.nn.Linear(2, 2)))
    assert avg.module is not model and avg.n_averaged.dtype == gt.int64 and avg.n_averaged.item() == 0
    with gt.no_grad():
        model.weight.fill_(1.0)
    avg.update_parameters(model)  # the first update copies
    assert avg.module.weight.tolist() == [[1.0, 1.0], [1.0, 1.0]] and avg.n_averaged.item() == 1
    with gt.no_grad():
        model.weight.fill_(4.0)
    avg.update_parameters(model)
    assert avg.module.weight.tolist() == [[2.5, 2.5], [2.5, 2.5]]
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn should be provided"):
        S.AveragedModel(model, avg_fn=S.get_swa_avg_fn(), multi_avg_fn=S.get_swa_multi_avg_fn())
    for fn in (S.get_ema_avg_fn, S.get_ema_multi_avg_fn):
        with pytest.raises(ValueError, match=r"^Invalid decay value 1.5 provided. Please provide a value in \[0,1\] "
                                             r"range.$"):
            fn(1.5)
    # integer buffers averaged by SWA's in-place update: refused, as torch refuses them
    with pytest.raises(RuntimeError, match="Integer division with addcdiv is no longer supported"):
        S.get_swa_multi_avg_fn()([gt.zeros(2, dtype=gt.int64)], [gt.ones(2, dtype=gt.int64)], gt.tensor(1))


@pytest.mark.parametrize("kw", [dict(swa_lr=0.05), dict(swa_lr=[0.05, 0.3], anneal_epochs=4, anneal_strategy="linear"),
                                dict(swa_lr=0.2, anneal_epochs=0)], ids=["cos", "linear-per-group", "no-annealing"])
def test_swalr_sequence_and_state_dict_like_torch(kw):
    ref = _swalr_lrs(torch, kw, 20)
    swa_lrs = kw["swa_lr"] if isinstance(kw["swa_lr"], list) else [kw["swa_lr"]] * 2
    np.testing.assert_allclose(ref[-1], swa_lrs)  # (it got there from the optimizer's 0.1 and 0.5)
    np.testing.assert_allclose(_swalr_lrs(gt, kw, 20), ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(_swalr_lrs(gt, kw, 20, resume_at=3), ref, rtol=0, atol=1e-12)


def _swalr_lrs(lib, kw, steps, resume_at=None):
    """[lr of each of two groups] after every SWALR step; at resume_at the optimizer and scheduler are
    rebuilt from their state dicts."""
    def build():
        opt = lib.optim.SGD([{"params": [lib.zeros(1, requires_grad=True)]},
                             {"params": [lib.zeros(1, requires_grad=True)], "lr": 0.5}], lr=0.1)
        return opt, lib.optim.swa_utils.SWALR(opt, **kw)

    opt, sched = build()
    rows = [sched.get_last_lr()]
    for i in range(steps):
        if i == resume_at:
            saved = copy.deepcopy((opt.state_dict(), sched.state_dict()))
            opt, sched = build()
            opt.load_state_dict(saved[0])
            sched.load_state_dict(saved[1])
        opt.step()
        sched.step()
        rows.append(sched.get_last_lr())
    return np.array(rows, dtype=np.float64)


def test_swalr_errors_match_torch():
    for kw in (dict(anneal_strategy="exp"), dict(anneal_epochs=-1), dict(anneal_epochs=2.5)):
        msgs = []
        for lib in (torch, gt):
            opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
            with pytest.raises(ValueError) as err:
                lib.optim.swa_utils.SWALR(opt, swa_lr=0.01, **kw)
            msgs.append(str(err.value))
        assert msgs[0] == msgs[1]
