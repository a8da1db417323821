"""glasstorch.optim against torch.optim: trajectories, schedules, state dicts, validation.

Trajectory tests train a small MLP (x @ W.T + b, relu, x @ W.T + b) with torch and glasstorch from the
same weights and data and compare every parameter after EVERY step:
  float64: |gt - torch| <= 1e-10 (absolute)
  float32: |gt - torch| <= 1e-4 + 1e-4 * |torch| (absolute + relative); the largest absolute float32
           difference seen is kept in FLOAT32_MAX_DIFF and printed by the last test (run with -s).
  The float32 update rule alone (glasstorch handed torch's gradients each step, so forward/backward
  rounding differences are excluded) is held to 1e-5 absolute; its worst case is FLOAT32_UPDATE_MAX_DIFF.
"""
import copy
import io
import warnings

import numpy as np
import pytest
import torch

import glasstorch as gt

FLOAT32_MAX_DIFF = 0.0  # largest |glasstorch - torch| over all float32 trajectory steps
FLOAT32_UPDATE_MAX_DIFF = 0.0  # the same when glasstorch is given torch's gradients (optimizer arithmetic only)
STEPS = 100


# ---- a small MLP written with plain tensors ---------------------------------------------------------------

def _init(seed=0):
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((8, 4)) * 0.5, rng.standard_normal(8) * 0.1,
               rng.standard_normal((3, 8)) * 0.5, rng.standard_normal(3) * 0.1]
    x = rng.standard_normal((16, 4))
    y = rng.standard_normal((16, 3))
    labels = rng.integers(0, 3, 16)
    return weights, x, y, labels


def _params(lib, weights, dtype):
    return [lib.tensor(w.astype(dtype), requires_grad=True) for w in weights]


def _loss(lib, ps, x, y, labels, kind):
    """MSE, negated MSE (for maximize=True), or a log-softmax NLL on 3 classes."""
    h = (x @ ps[0].T + ps[1]).relu()
    out = h @ ps[2].T + ps[3]
    if kind == "mse":
        return ((out - y) ** 2).mean()
    if kind == "neg_mse":
        return -((out - y) ** 2).mean()
    logp = out.log_softmax(dim=1)
    return -logp[lib.arange(out.shape[0]), labels].mean()


class _Run:
    """One library's copy of the MLP, its data and an optimizer (plus an optional scheduler)."""

    def __init__(self, lib, opt_name, opt_kw, dtype=np.float64, loss="mse", weights=None, sched=None):
        w, x, y, labels = _init()
        self.lib, self.loss = lib, loss
        self.ps = _params(lib, weights if weights is not None else w, dtype)
        self.x, self.y = lib.tensor(x.astype(dtype)), lib.tensor(y.astype(dtype))
        self.labels = lib.tensor(labels)
        self.opt = getattr(lib.optim, opt_name)(self.ps, **opt_kw)
        self.sched = sched(lib.optim.lr_scheduler, self.opt) if sched else None

    def step(self):
        self.opt.zero_grad()
        _loss(self.lib, self.ps, self.x, self.y, self.labels, self.loss).backward()
        self.opt.step()
        if self.sched is not None:
            self.sched.step()

    def weights(self):
        return [p.detach().numpy().copy() for p in self.ps]


def _compare(a, b, dtype):
    """Assert glasstorch weights `b` match torch weights `a`; return the largest absolute difference."""
    worst = 0.0
    for wa, wb in zip(a, b):
        diff = np.abs(wa.astype(np.float64) - wb.astype(np.float64))
        worst = max(worst, float(diff.max()))
        if dtype == np.float64:
            assert diff.max() <= 1e-10, diff.max()
        else:
            assert np.all(diff <= 1e-4 + 1e-4 * np.abs(wa)), diff.max()
    return worst


def _trajectory(opt_name, opt_kw, dtype, loss="mse", sched=None, steps=STEPS):
    global FLOAT32_MAX_DIFF
    ref = _Run(torch, opt_name, opt_kw, dtype, loss, sched=sched)
    ours = _Run(gt, opt_name, opt_kw, dtype, loss, sched=sched)
    start = ref.weights()
    for _ in range(steps):
        ref.step()
        ours.step()
        worst = _compare(ref.weights(), ours.weights(), dtype)
        if dtype == np.float32:
            FLOAT32_MAX_DIFF = max(FLOAT32_MAX_DIFF, worst)
    # the optimizer must actually have moved the weights (else the comparison proves nothing)
    assert max(np.abs(a - b).max() for a, b in zip(start, ref.weights())) > 1e-3
    return ref, ours


OPTIMIZER_CONFIGS = [
    ("SGD", dict(lr=0.05), "mse"),
    ("SGD", dict(lr=0.05, momentum=0.9), "mse"),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True), "nll"),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.1), "mse"),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.05, maximize=True), "neg_mse"),
    ("SGD", dict(lr=0.05, weight_decay=0.1, maximize=True), "neg_mse"),
    ("Adam", dict(lr=0.01), "mse"),
    ("Adam", dict(lr=0.01, amsgrad=True), "nll"),
    ("Adam", dict(lr=0.01, weight_decay=0.1), "mse"),
    ("Adam", dict(lr=0.01, betas=(0.5, 0.7), eps=1e-6, amsgrad=True, weight_decay=0.1, maximize=True), "neg_mse"),
    ("AdamW", dict(lr=0.01), "mse"),
    ("AdamW", dict(lr=0.01, weight_decay=0.5, amsgrad=True, maximize=True), "neg_mse"),
    ("RMSprop", dict(lr=0.01), "mse"),
    ("RMSprop", dict(lr=0.01, centered=True), "nll"),
    ("RMSprop", dict(lr=0.01, momentum=0.9), "mse"),
    ("RMSprop", dict(lr=0.005, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.1, maximize=True), "neg_mse"),
    ("Adagrad", dict(lr=0.1), "mse"),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.1), "nll"),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, eps=1e-6, maximize=True), "neg_mse"),
]


def _config_id(cfg):
    name, kw, loss = cfg
    return name + "-" + ",".join(f"{k}={v}" for k, v in kw.items()) + "-" + loss


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("cfg", OPTIMIZER_CONFIGS, ids=_config_id)
def test_trajectory_matches_torch(cfg, dtype):
    name, kw, loss = cfg
    _trajectory(name, kw, dtype, loss)


@pytest.mark.parametrize("cfg", OPTIMIZER_CONFIGS, ids=_config_id)
def test_float32_update_rule_with_identical_gradients(cfg):
    """The update arithmetic alone: glasstorch is handed torch's gradients at every step, so the only
    differences left are rounding (torch fuses some multiply-adds). Tighter bound: 1e-5 absolute."""
    global FLOAT32_UPDATE_MAX_DIFF
    name, kw, loss = cfg
    ref = _Run(torch, name, kw, np.float32, loss)
    ours = _Run(gt, name, kw, np.float32, loss)
    for _ in range(STEPS):
        ref.opt.zero_grad()
        _loss(torch, ref.ps, ref.x, ref.y, ref.labels, loss).backward()
        for a, b in zip(ref.ps, ours.ps):
            b.grad = gt.tensor(a.grad.numpy().copy())
        ref.opt.step()
        ours.opt.step()
        worst = max(np.abs(a - b).max() for a, b in zip(ref.weights(), ours.weights()))
        FLOAT32_UPDATE_MAX_DIFF = max(FLOAT32_UPDATE_MAX_DIFF, float(worst))
        assert worst <= 1e-5


def test_state_matches_torch_after_steps():
    """Per-parameter state (names, values, 'step' counters as float tensors) as torch's."""
    for name, kw, loss in OPTIMIZER_CONFIGS:
        ref, ours = _trajectory(name, kw, np.float64, loss, steps=5)
        sd_ref, sd_ours = ref.opt.state_dict(), ours.opt.state_dict()
        assert sorted(sd_ref["state"]) == sorted(sd_ours["state"])
        for i, st in sd_ref["state"].items():
            assert list(st) == list(sd_ours["state"][i]), name
            for key, value in st.items():
                mine = sd_ours["state"][i][key]
                assert isinstance(mine, gt.Tensor)
                assert mine.dtype.name == str(value.dtype).replace("torch.", "")
                np.testing.assert_allclose(mine.numpy(), value.numpy(), rtol=0, atol=1e-10)
        assert sd_ref["param_groups"] == sd_ours["param_groups"]


def test_float32_step_counter_and_state_dtype():
    ours = _Run(gt, "Adam", dict(lr=0.01), np.float32)
    for _ in range(3):
        ours.step()
    st = ours.opt.state[ours.ps[0]]
    assert st["step"].dtype == gt.float32 and st["step"].shape == () and st["step"].item() == 3.0
    assert st["exp_avg"].dtype == gt.float32 and st["exp_avg"].shape == ours.ps[0].shape


def test_zero_dim_parameter():
    """A 0-d parameter (a scalar) works with every optimizer, as in torch."""
    for name, kw, _ in OPTIMIZER_CONFIGS:
        results = []
        for lib in (torch, gt):
            p = lib.tensor(1.5, dtype=lib.float64, requires_grad=True)
            opt = getattr(lib.optim, name)([p], **kw)
            for _ in range(5):
                opt.zero_grad()
                ((p - 0.25) ** 2 * (-1 if kw.get("maximize") else 1)).backward()
                opt.step()
            results.append(p.item())
        assert abs(results[0] - results[1]) < 1e-12, name
        assert results[0] != 1.5


# ---- schedulers ---------------------------------------------------------------------------------------------

SCHEDULERS = {
    "StepLR": lambda L, o: L.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda L, o: L.MultiStepLR(o, milestones=[10, 30, 30, 60], gamma=0.3),
    "ExponentialLR": lambda L, o: L.ExponentialLR(o, gamma=0.97),
    "CosineAnnealingLR": lambda L, o: L.CosineAnnealingLR(o, T_max=30, eta_min=0.001),
    "CosineAnnealingLR-long": lambda L, o: L.CosineAnnealingLR(o, T_max=100),
    "LambdaLR": lambda L, o: L.LambdaLR(o, lambda e: 1 / (1 + 0.1 * e)),
    "LambdaLR-list": lambda L, o: L.LambdaLR(o, [lambda e: 0.99 ** e, lambda e: 1 / (1 + e)]),
    "MultiplicativeLR": lambda L, o: L.MultiplicativeLR(o, lambda e: 0.99),
    "LinearLR": lambda L, o: L.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=40),
    "ConstantLR": lambda L, o: L.ConstantLR(o, factor=0.5, total_iters=10),
    "PolynomialLR": lambda L, o: L.PolynomialLR(o, total_iters=50, power=2.0),
    "OneCycleLR-cos": lambda L, o: L.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=100),
    "OneCycleLR-linear-3phase": lambda L, o: L.OneCycleLR(o, max_lr=1.0, epochs=10, steps_per_epoch=10,
                                                          three_phase=True, anneal_strategy="linear"),
    "OneCycleLR-no-momentum": lambda L, o: L.OneCycleLR(o, max_lr=0.3, total_steps=120, pct_start=0.25,
                                                        cycle_momentum=False, div_factor=10.0),
    "CyclicLR-triangular2": lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=7, mode="triangular2"),
    "CyclicLR-exp_range": lambda L, o: L.CyclicLR(o, [0.01, 0.02], 0.1, step_size_up=7, step_size_down=4,
                                                  mode="exp_range", gamma=0.99),
    "CosineAnnealingWarmRestarts": lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=7, T_mult=2, eta_min=0.001),
    "SequentialLR": lambda L, o: L.SequentialLR(
        o, [L.LinearLR(o, start_factor=0.1, total_iters=10), L.CosineAnnealingLR(o, T_max=90)], milestones=[10]),
    "ChainedScheduler": lambda L, o: L.ChainedScheduler([L.ExponentialLR(o, 0.98), L.StepLR(o, 10, 0.5)]),
}


def _lr_sequence(lib, make, opt_name="SGD", opt_kw=None, steps=STEPS, metrics=None):
    """[lr of each group, momentum / beta1 of each group] after every scheduler step."""
    p, q = lib.zeros(2, requires_grad=True), lib.zeros(1, requires_grad=True)
    opt = getattr(lib.optim, opt_name)([{"params": [p]}, {"params": [q], "lr": 0.05}],
                                       **(opt_kw or dict(lr=0.1, momentum=0.9)))
    sched = make(lib.optim.lr_scheduler, opt)

    def row():
        return list(sched.get_last_lr()) + [g["betas"][0] if "betas" in g else g["momentum"]
                                            for g in opt.param_groups]

    rows = [row()]
    for i in range(steps):
        opt.step()
        sched.step(metrics[i]) if metrics is not None else sched.step()
        rows.append(row())
    return np.array(rows, dtype=np.float64), sched


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_scheduler_sequence_matches_torch(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither library may warn on correct use
        ref, _ = _lr_sequence(torch, SCHEDULERS[name])
        ours, sched = _lr_sequence(gt, SCHEDULERS[name])
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)
    assert len(np.unique(ref[:, 0])) >= 2  # the schedule really changes the lr


def test_onecycle_cycles_adam_beta1():
    make = SCHEDULERS["OneCycleLR-cos"]
    ref, _ = _lr_sequence(torch, make, "Adam", dict(lr=0.1))
    ours, sched = _lr_sequence(gt, make, "Adam", dict(lr=0.1))
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)
    assert sched.optimizer.param_groups[0]["betas"][1] == 0.999  # beta2 untouched
    assert ref[:, 2].min() == pytest.approx(0.85) and ref[:, 2].max() == pytest.approx(0.95)


def test_onecycle_too_many_steps():
    make = lambda L, o: L.OneCycleLR(o, max_lr=1.0, total_steps=10)  # noqa: E731
    with pytest.raises(ValueError, match="Tried to step 11 times. The specified number of total steps is 10"):
        _lr_sequence(gt, make, steps=11)


@pytest.mark.parametrize("kw", [
    dict(),
    dict(mode="max", factor=0.5, patience=3, threshold=0.01, threshold_mode="abs", cooldown=2, min_lr=[0.01, 0.02]),
    dict(mode="min", factor=0.3, patience=0, threshold=0.05, threshold_mode="rel", cooldown=1, eps=1e-3),
])
def test_reduce_lr_on_plateau_matches_torch(kw):
    rng = np.random.default_rng(1)
    metrics = list(np.r_[np.linspace(1, 0.5, 20), np.full(30, 0.5), np.linspace(0.5, 0.8, 20),
                         0.5 + 0.05 * rng.standard_normal(30)])
    make = lambda L, o: L.ReduceLROnPlateau(o, **kw)  # noqa: E731
    ref, _ = _lr_sequence(torch, make, metrics=metrics)
    ours, sched = _lr_sequence(gt, make, metrics=metrics)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)
    assert len(np.unique(ref[:, 0])) > 1
    sched.step(gt.tensor(0.1))  # a 1-element tensor is a valid metric


def test_reduce_lr_on_plateau_validation():
    opt = gt.optim.SGD([gt.zeros(1, requires_grad=True)], lr=0.1)
    L = gt.optim.lr_scheduler
    with pytest.raises(ValueError, match=r"Factor should be < 1.0."):
        L.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode avg is unknown!"):
        L.ReduceLROnPlateau(opt, mode="avg")
    with pytest.raises(ValueError, match="threshold mode pct is unknown!"):
        L.ReduceLROnPlateau(opt, threshold_mode="pct")
    with pytest.raises(ValueError, match="expected 1 min_lrs, got 2"):
        L.ReduceLROnPlateau(opt, min_lr=[0.1, 0.2])


def test_scheduler_closed_form_epoch_argument():
    """step(epoch) (deprecated) jumps using the closed form, with torch's warning."""
    seqs = []
    for lib in (torch, gt):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=20)
        out = []
        for epoch in (3, 7, 15, 4):
            opt.step()
            with pytest.warns(UserWarning, match="The epoch parameter"):
                sched.step(epoch)
            out.append(sched.get_last_lr()[0])
        seqs.append(out)
    np.testing.assert_allclose(seqs[1], seqs[0], rtol=0, atol=1e-15)


@pytest.mark.parametrize("make", [
    lambda L, o: L.CosineAnnealingLR(o, T_max=20, eta_min=0.01, last_epoch=5),
    lambda L, o: L.StepLR(o, step_size=4, last_epoch=9),
    lambda L, o: L.LinearLR(o, start_factor=0.25, total_iters=30, last_epoch=3),
], ids=["cosine", "step", "linear"])
def test_scheduler_built_with_last_epoch_matches_torch(make):
    """Resuming by last_epoch (initial_lr already in the groups): torch's first-step special cases."""
    seqs = []
    for lib in (torch, gt):
        opt = lib.optim.SGD([{"params": [lib.zeros(1, requires_grad=True)], "initial_lr": 0.2, "lr": 0.15}])
        sched = make(lib.optim.lr_scheduler, opt)
        out = [sched.get_last_lr()[0]]
        for _ in range(40):
            opt.step()
            sched.step()
            out.append(sched.get_last_lr()[0])
        seqs.append(out)
    np.testing.assert_allclose(seqs[1], seqs[0], rtol=0, atol=1e-12)
    assert len(set(seqs[0])) > 2


def test_scheduler_initial_lr_and_base_lrs():
    opt = gt.optim.SGD([{"params": [gt.zeros(1, requires_grad=True)]},
                        {"params": [gt.zeros(1, requires_grad=True)], "lr": 0.5}], lr=0.1)
    sched = gt.optim.lr_scheduler.StepLR(opt, step_size=2)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert sched.base_lrs == [0.1, 0.5] and sched.last_epoch == 0 and sched.get_last_lr() == [0.1, 0.5]
    with pytest.raises(KeyError, match=r"param 'initial_lr' is not specified in param_groups\[0\]"):
        gt.optim.lr_scheduler.StepLR(gt.optim.SGD([gt.zeros(1, requires_grad=True)]), 2, last_epoch=3)
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        gt.optim.lr_scheduler.StepLR([], 2)


def test_scheduler_warnings():
    opt = gt.optim.SGD([gt.zeros(1, requires_grad=True)], lr=0.1)
    sched = gt.optim.lr_scheduler.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match=r"Detected call of `lr_scheduler.step\(\)` before `optimizer.step\(\)`"):
        sched.step()
    with pytest.warns(UserWarning, match=r"please use `get_last_lr\(\)`"):
        sched.get_lr()


def test_schedulers_drive_optimizer_like_torch():
    """Scheduler and optimizer together: the parameter trajectories match torch's."""
    _trajectory("SGD", dict(lr=0.1, momentum=0.9), np.float64, "mse",
                sched=lambda L, o: L.OneCycleLR(o, max_lr=0.2, total_steps=STEPS))
    _trajectory("Adam", dict(lr=0.02), np.float64, "nll",
                sched=lambda L, o: L.CosineAnnealingLR(o, T_max=30, eta_min=1e-3))
    _trajectory("AdamW", dict(lr=0.02), np.float32, "mse",
                sched=lambda L, o: L.SequentialLR(o, [L.LinearLR(o, 0.1, total_iters=10),
                                                      L.ExponentialLR(o, 0.97)], milestones=[10]))


# ---- state dicts ----------------------------------------------------------------------------------------------

def _through_file(obj):
    """Save with glasstorch.save and read back with glasstorch.load (in memory)."""
    buf = io.BytesIO()
    gt.save(obj, buf)
    buf.seek(0)
    return gt.load(buf)


RESUME_CASES = [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True), lambda L, o: L.StepLR(o, 20, 0.5)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.01), lambda L, o: L.CosineAnnealingLR(o, T_max=40)),
    ("AdamW", dict(lr=0.01), lambda L, o: L.OneCycleLR(o, max_lr=0.05, total_steps=STEPS)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5), lambda L, o: L.ExponentialLR(o, 0.98)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01), lambda L, o: L.SequentialLR(
        o, [L.ConstantLR(o, 0.5, 10), L.LinearLR(o, 1.0, 0.2, 60)], milestones=[30])),
]


@pytest.mark.parametrize("via", ["deepcopy", "glasstorch.save"])
@pytest.mark.parametrize("case", RESUME_CASES, ids=[c[0] for c in RESUME_CASES])
def test_resume_from_state_dict_gives_identical_trajectory(case, via):
    name, kw, sched = case
    straight = _Run(gt, name, kw, sched=sched)
    for _ in range(50):
        straight.step()
    saved = {"weights": [p.detach().clone() for p in straight.ps],
             "optimizer": straight.opt.state_dict(), "scheduler": straight.sched.state_dict()}
    saved = copy.deepcopy(saved) if via == "deepcopy" else _through_file(saved)
    for _ in range(50):
        straight.step()

    # a fresh run (different starting weights, to be overwritten) resumed from the checkpoint
    resumed = _Run(gt, name, kw, sched=sched, weights=[np.zeros_like(w) for w in _init()[0]])
    with gt.no_grad():
        for p, w in zip(resumed.ps, saved["weights"]):
            p.copy_(w)
    resumed.opt.load_state_dict(saved["optimizer"])
    resumed.sched.load_state_dict(saved["scheduler"])
    for _ in range(50):
        resumed.step()
    for a, b in zip(straight.weights(), resumed.weights()):
        np.testing.assert_array_equal(a, b)
    assert resumed.sched.get_last_lr() == straight.sched.get_last_lr()
    assert resumed.sched.last_epoch == straight.sched.last_epoch == 100


@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.01, amsgrad=True)), ("SGD", dict(lr=0.05, momentum=0.9)),
                                     ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
                                     ("Adagrad", dict(lr=0.1))])
def test_torch_checkpoint_resumes_in_glasstorch_and_back(name, kw):
    """torch.save(torch_opt.state_dict()) -> glasstorch.load -> glasstorch optimizer continues exactly like
    torch; and glasstorch.save(our state_dict) -> torch.load -> a torch optimizer continues like ours."""
    ref = _Run(torch, name, kw)
    for _ in range(30):
        ref.step()
    buf = io.BytesIO()
    torch.save({"w": [p.detach() for p in ref.ps], "opt": ref.opt.state_dict()}, buf)
    buf.seek(0)
    ckpt = gt.load(buf)
    ours = _Run(gt, name, kw, weights=[w.numpy() for w in ckpt["w"]])
    ours.opt.load_state_dict(ckpt["opt"])
    for _ in range(30):
        ref.step()
        ours.step()
        _compare(ref.weights(), ours.weights(), np.float64)

    buf = io.BytesIO()
    gt.save({"w": [p.detach() for p in ours.ps], "opt": ours.opt.state_dict()}, buf)
    buf.seek(0)
    ckpt = torch.load(buf)
    back = _Run(torch, name, kw, weights=[w.numpy() for w in ckpt["w"]])
    back.opt.load_state_dict(ckpt["opt"])
    for _ in range(10):
        back.step()
        ours.step()
        _compare(back.weights(), ours.weights(), np.float64)


def test_state_dict_layout():
    w = [gt.zeros(2, requires_grad=True) for _ in range(3)]
    opt = gt.optim.SGD([{"params": [w[0], w[1]], "lr": 0.1}, {"params": [w[2]], "momentum": 0.9}], lr=0.2)
    for p in w:
        p.grad = gt.ones(2)
    opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"] == [
        {"lr": 0.1, "momentum": 0, "dampening": 0, "weight_decay": 0, "nesterov": False, "maximize": False,
         "foreach": None, "differentiable": False, "fused": None, "params": [0, 1]},
        {"params": [2], "lr": 0.2, "momentum": 0.9, "dampening": 0, "weight_decay": 0, "nesterov": False,
         "maximize": False, "foreach": None, "differentiable": False, "fused": None}]
    assert list(sd["state"]) == [2]  # no momentum, no state: as torch
    np.testing.assert_array_equal(sd["state"][2]["momentum_buffer"].numpy(), [1.0, 1.0])
    assert sd["state"][2]["momentum_buffer"] is opt.state[w[2]]["momentum_buffer"]  # not a copy (as torch)


def test_load_state_dict_errors():
    a, b = gt.zeros(2, requires_grad=True), gt.zeros(2, requires_grad=True)
    opt = gt.optim.Adam([a, b])
    with pytest.raises(ValueError, match="loaded state dict has a different number of parameter groups"):
        opt.load_state_dict(gt.optim.Adam([{"params": [a]}, {"params": [b]}]).state_dict())
    with pytest.raises(ValueError, match="loaded state dict contains a parameter group that doesn't match the size"):
        opt.load_state_dict(gt.optim.Adam([a]).state_dict())


def test_load_state_dict_casts_to_param_dtype():
    p64 = gt.zeros(3, dtype=gt.float64, requires_grad=True)
    opt = gt.optim.Adam([p64], lr=0.1)
    sd = {"state": {0: {"step": gt.tensor(4.0), "exp_avg": gt.ones(3), "exp_avg_sq": gt.ones(3)}},
          "param_groups": opt.state_dict()["param_groups"]}
    opt.load_state_dict(sd)
    st = opt.state[p64]
    assert st["exp_avg"].dtype == gt.float64 and st["step"].dtype == gt.float32
    p64.grad = gt.ones(3, dtype=gt.float64)
    opt.step()
    assert st["step"].item() == 5.0


def test_scheduler_state_dict_matches_torch():
    for name in ("StepLR", "CosineAnnealingLR", "OneCycleLR-cos", "SequentialLR", "LambdaLR"):
        _, ref = _lr_sequence(torch, SCHEDULERS[name], steps=5)
        _, ours = _lr_sequence(gt, SCHEDULERS[name], steps=5)
        assert repr(ours.state_dict()) == repr(ref.state_dict()), name
    _, ref = _lr_sequence(torch, lambda L, o: L.ReduceLROnPlateau(o), steps=5, metrics=[1.0] * 5)
    _, ours = _lr_sequence(gt, lambda L, o: L.ReduceLROnPlateau(o), steps=5, metrics=[1.0] * 5)
    assert ours.state_dict() == ref.state_dict()


# ---- parameter groups, zero_grad, closure, hooks, printing ----------------------------------------------------

def test_param_groups_with_different_lrs():
    results = []
    for lib in (torch, gt):
        a = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([3.0], dtype=lib.float64, requires_grad=True)
        opt = lib.optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5, "momentum": 0.9}], lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            ((a ** 2).sum() + (b ** 3).sum()).backward()
            opt.step()
        results.append((a.detach().numpy().copy(), b.detach().numpy().copy()))
        assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
        assert [g["momentum"] for g in opt.param_groups] == [0, 0.9]
    for x, y in zip(*results):
        np.testing.assert_allclose(y, x, rtol=0, atol=1e-12)


def test_add_param_group():
    a, b = gt.zeros(2, requires_grad=True), gt.zeros(2, requires_grad=True)
    opt = gt.optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": b, "lr": 0.2})
    assert opt.param_groups[1]["params"] == [b] and opt.param_groups[1]["lr"] == 0.2
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        opt.add_param_group({"params": [a * 2]})
    with pytest.raises(TypeError, match="optimizer parameters need to be organized in ordered collections"):
        opt.add_param_group({"params": {gt.zeros(1, requires_grad=True)}})
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors, but one of the params is int"):
        opt.add_param_group({"params": [3]})
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([gt.zeros(1)])
    with pytest.warns(UserWarning, match="duplicate parameters"):
        gt.optim.SGD([a, a])


def test_named_parameters_groups():
    a, b = gt.zeros(2, requires_grad=True), gt.zeros(2, requires_grad=True)
    opt = gt.optim.SGD([("a", a), ("b", b)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["a", "b"] and opt.param_groups[0]["params"] == [a, b]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["a", "b"]
    with pytest.raises(ValueError, match="all optimizer param groups should be with/without names"):
        opt.add_param_group({"params": [gt.zeros(1, requires_grad=True)]})


def test_constructor_argument_errors():
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        gt.optim.SGD([])
    with pytest.raises(TypeError, match="params argument given to the optimizer should be an iterable of Tensors "
                                        "or dicts, but got torch.FloatTensor"):
        gt.optim.SGD(gt.zeros(2, requires_grad=True))
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        gt.optim.Adam([gt.zeros(1, requires_grad=True)], differentiable=True)


VALIDATION_CASES = [
    ("SGD", dict(lr=-1)), ("SGD", dict(momentum=-0.1)), ("SGD", dict(weight_decay=-1e-3)),
    ("SGD", dict(nesterov=True)), ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.1)),
    ("Adam", dict(lr=-1)), ("Adam", dict(eps=-1.0)), ("Adam", dict(betas=(1.0, 0.9))),
    ("Adam", dict(betas=(0.9, -0.1))), ("Adam", dict(weight_decay=-2)), ("Adam", dict(betas=(0, 0.9))),
    ("AdamW", dict(lr=-0.5)), ("AdamW", dict(betas=(0.9, 1.5))),
    ("RMSprop", dict(lr=-1)), ("RMSprop", dict(eps=-1)), ("RMSprop", dict(momentum=-1)),
    ("RMSprop", dict(weight_decay=-1)), ("RMSprop", dict(alpha=-1)),
    ("Adagrad", dict(lr=-1)), ("Adagrad", dict(lr_decay=-1)), ("Adagrad", dict(weight_decay=-1)),
    ("Adagrad", dict(initial_accumulator_value=-1)), ("Adagrad", dict(eps=-1)),
]


@pytest.mark.parametrize("name,kw", VALIDATION_CASES, ids=lambda v: str(v))
def test_validation_errors_match_torch(name, kw):
    with pytest.raises(ValueError) as ref:
        getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **kw)
    with pytest.raises(ValueError) as ours:
        getattr(gt.optim, name)([gt.zeros(1, requires_grad=True)], **kw)
    assert str(ours.value) == str(ref.value)


def test_validation_message_example():
    with pytest.raises(ValueError, match="^Invalid learning rate: -1$"):
        gt.optim.SGD([gt.zeros(1, requires_grad=True)], lr=-1)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    p = gt.ones(3, requires_grad=True)
    q = gt.ones(2, requires_grad=True)  # never gets a gradient
    opt = gt.optim.SGD([p, q], lr=0.1)
    (p * 2).sum().backward()
    grad = p.grad
    opt.zero_grad(set_to_none=set_to_none)
    if set_to_none:
        assert p.grad is None
    else:
        assert p.grad is grad and p.grad.tolist() == [0.0, 0.0, 0.0]
    assert q.grad is None
    (p * 3).sum().backward()
    assert p.grad.tolist() == [3.0, 3.0, 3.0]


def test_zero_grad_default_is_set_to_none():
    p = gt.ones(1, requires_grad=True)
    p.sum().backward()
    gt.optim.Adam([p]).zero_grad()
    assert p.grad is None


def test_params_without_grad_are_skipped():
    for name, kw, _ in OPTIMIZER_CONFIGS:
        p, q = gt.ones(2, requires_grad=True), gt.ones(2, requires_grad=True)
        opt = getattr(gt.optim, name)([p, q], **kw)
        (p * p).sum().backward()
        opt.step()
        assert q.tolist() == [1.0, 1.0] and p.tolist() != [1.0, 1.0], name
        if name != "Adagrad":  # Adagrad builds its state up front, as torch does
            assert q not in opt.state


def test_step_bumps_version_counter():
    p = gt.ones(2, requires_grad=True)
    opt = gt.optim.Adam([p])
    p.sum().backward()
    v = p._version
    opt.step()
    assert p._version > v


def test_closure_reevaluates_with_grad_enabled():
    p = gt.tensor([1.0, -2.0], requires_grad=True)
    opt = gt.optim.SGD([p], lr=0.1)
    calls = []

    def closure():
        opt.zero_grad()
        loss = (p ** 2).sum()
        loss.backward()
        calls.append(gt.is_grad_enabled())
        return loss

    with gt.no_grad():
        loss = opt.step(closure)
    assert calls == [True]
    assert loss.item() == 5.0
    np.testing.assert_allclose(p.detach().numpy(), [0.8, -1.6])
    assert opt.step() is None


def test_step_hooks():
    p = gt.ones(1, requires_grad=True)
    opt = gt.optim.SGD([p], lr=0.1)
    log = []
    h1 = opt.register_step_pre_hook(lambda o, args, kwargs: log.append(("pre", p.item())))
    h2 = opt.register_step_post_hook(lambda o, args, kwargs: log.append(("post", p.item())))
    p.grad = gt.ones(1)
    opt.step()
    assert log == [("pre", 1.0), ("post", pytest.approx(0.9))]
    h1.remove()
    h2.remove()
    opt.step()
    assert len(log) == 2


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_repr_matches_torch(name):
    ref = getattr(torch.optim, name)([{"params": [torch.zeros(1, requires_grad=True)]},
                                      {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.5}])
    ours = getattr(gt.optim, name)([{"params": [gt.zeros(1, requires_grad=True)]},
                                    {"params": [gt.zeros(1, requires_grad=True)], "lr": 0.5}])
    assert repr(ours) == repr(ref)
    assert repr(ours).startswith(f"{name} (\nParameter Group 0\n")


def test_defaults_match_torch():
    for name in ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]:
        ref = getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)])
        ours = getattr(gt.optim, name)([gt.zeros(1, requires_grad=True)])
        assert ours.defaults == ref.defaults, name


def test_tensor_lr():
    results = []
    for lib in (torch, gt):
        p = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        opt = lib.optim.SGD([p], lr=lib.tensor(0.25, dtype=lib.float64))
        (p ** 2).sum().backward()
        opt.step()
        results.append(p.detach().numpy().copy())
    np.testing.assert_allclose(results[1], results[0], rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        gt.optim.SGD([gt.zeros(1, requires_grad=True)], lr=gt.tensor([0.1, 0.2]))


def test_nn_linear_model_if_available():
    if not hasattr(gt.nn, "Linear"):
        pytest.skip("glasstorch.nn.Linear not written yet")
    torch.manual_seed(0)
    ref_model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)).double()
    model = gt.nn.Sequential(gt.nn.Linear(4, 8), gt.nn.ReLU(), gt.nn.Linear(8, 3)).double()
    with gt.no_grad():
        for p, r in zip(model.parameters(), ref_model.parameters()):
            p.copy_(gt.tensor(r.detach().numpy()))
    ref_opt = torch.optim.Adam(ref_model.parameters(), lr=0.01)
    opt = gt.optim.Adam(model.parameters(), lr=0.01)
    _, x, y, _ = _init()
    for _ in range(20):
        for lib, m, o in ((torch, ref_model, ref_opt), (gt, model, opt)):
            o.zero_grad()
            ((m(lib.tensor(x)) - lib.tensor(y)) ** 2).mean().backward()
            o.step()
    for p, r in zip(model.parameters(), ref_model.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), r.detach().numpy(), rtol=0, atol=1e-10)


# ---- small parameters updated together (Adam's flat pack) -------------------------------------------
def _mixed_params(lib, dtype, seed=0):
    """One parameter above the pack threshold and four small ones (one of them 0-dim)."""
    rng = np.random.default_rng(seed)
    from glasstorch.optim.optimizer import _PACK_MAX
    shapes = [(_PACK_MAX + 7,), (5, 3), (3,), (), (2, 2)]
    return [lib.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]


def _grads_for(step, n, dtype, seed=1):
    rng = np.random.default_rng(seed + step)
    from glasstorch.optim.optimizer import _PACK_MAX
    shapes = [(_PACK_MAX + 7,), (5, 3), (3,), (), (2, 2)]
    return [rng.standard_normal(s).astype(dtype) for s in shapes[:n]]


@pytest.mark.parametrize("name, kw", [
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3)),
])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_packed_small_parameters_match_torch(name, kw, dtype):
    """Small parameters share one flat update; a parameter without a gradient on some steps (so a
    step count of its own) and a state dict loaded halfway must not change any number."""
    ref, ours = _mixed_params(torch, dtype), _mixed_params(gt, dtype)
    ref_opt, opt = getattr(torch.optim, name)(ref, **kw), getattr(gt.optim, name)(ours, **kw)
    for step in range(12):
        grads = _grads_for(step, len(ref), dtype)
        for i, g in enumerate(grads):
            skip = i == 2 and step % 3 == 1  # the (3,) bias misses some steps
            ref[i].grad = None if skip else torch.tensor(g)
            ours[i].grad = None if skip else gt.tensor(g)
        ref_opt.step()
        opt.step()
        if step == 6:  # a round trip through torch's own state dict replaces every state tensor
            buf = io.BytesIO()
            torch.save(ref_opt.state_dict(), buf)
            buf.seek(0)
            opt.load_state_dict(gt.load(buf))
        tol = 1e-12 if dtype == np.float64 else 1e-6
        for r, o in zip(ref, ours):
            np.testing.assert_allclose(o.detach().numpy(), r.detach().numpy(), rtol=tol, atol=tol)
    for r, o in zip(ref_opt.state.values(), opt.state.values()):
        for key in r:
            np.testing.assert_allclose(o[key].numpy(), r[key].numpy(), rtol=1e-6, atol=1e-6)


def test_packed_state_is_saved_and_independent_per_parameter():
    """The state tensors of packed parameters are views into one array, yet save, load and print
    like separate tensors, and writing one leaves the others alone."""
    model = gt.nn.Sequential(gt.nn.Linear(4, 3), gt.nn.ReLU(), gt.nn.Linear(3, 2))
    opt = gt.optim.Adam(model.parameters(), lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        model(gt.randn(5, 4)).sum().backward()
        opt.step()
    states = [opt.state[p] for p in model.parameters()]
    assert states[1]["exp_avg"]._data.base is states[2]["exp_avg"]._data.base  # packed
    buf = io.BytesIO()
    gt.save(opt.state_dict(), buf)
    buf.seek(0)
    loaded = torch.load(buf)
    for i, st in enumerate(states):
        for key in ("exp_avg", "exp_avg_sq"):
            assert tuple(loaded["state"][i][key].shape) == tuple(st[key].shape)
            np.testing.assert_array_equal(loaded["state"][i][key].numpy(), st[key].numpy())
    before = states[2]["exp_avg"].clone()
    states[1]["exp_avg"].fill_(7.0)
    np.testing.assert_array_equal(states[2]["exp_avg"].numpy(), before.numpy())


def test_mixed_dtypes_in_one_group_are_not_packed_together():
    ps = [gt.zeros(3, requires_grad=True), gt.zeros(2, dtype=gt.float64, requires_grad=True)]
    rs = [torch.zeros(3, requires_grad=True), torch.zeros(2, dtype=torch.float64, requires_grad=True)]
    opt, ref_opt = gt.optim.Adam(ps, lr=0.1), torch.optim.Adam(rs, lr=0.1)
    for step in range(3):
        for p, r, v in zip(ps, rs, ([1.0, -2.0, 3.0], [0.5, -0.25])):
            p.grad = gt.tensor(v, dtype=p.dtype) * (step + 1)
            r.grad = torch.tensor(v, dtype=r.dtype) * (step + 1)
        opt.step()
        ref_opt.step()
    for p, r in zip(ps, rs):
        assert p.dtype == gt.float32 if r.dtype == torch.float32 else p.dtype == gt.float64
        np.testing.assert_allclose(p.detach().numpy(), r.detach().numpy(), rtol=1e-6)


def test_report_float32_max_diff():
    """Prints the largest float32 difference seen by the trajectory tests (pytest -s)."""
    if FLOAT32_MAX_DIFF == 0.0:
        pytest.skip("run together with the float32 trajectory tests")
    print(f"\nlargest float32 |glasstorch - torch| over all trajectory steps: {FLOAT32_MAX_DIFF:.3e} "
          f"(update rule alone, same gradients: {FLOAT32_UPDATE_MAX_DIFF:.3e})")
    assert FLOAT32_MAX_DIFF < 1e-4
