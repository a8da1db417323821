"""The compiled optimizer updates (glasstorch/backends/cpu_fused.py) against torch and against the NumPy path.

Every test that takes the `path` fixture runs twice: with the fused kernels ("fused", skipped when numba
is not installed) and with them switched off ("numpy", what GLASSTORCH_FUSED=0 does). tests/test_optim.py
covers the small parameters (the serial kernels and Adam's packed update) on whichever path is active;
CI runs it once with numba and once with GLASSTORCH_FUSED=0. Here the parameters are wide enough to take
the separate-parameter, multi-chunk parallel kernels.
"""
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import glasstorch as gt
from glasstorch.backends import cpu_fused

NUMBA = importlib.util.find_spec("numba") is not None
needs_numba = pytest.mark.skipif(not NUMBA, reason="numba is not installed (pip install glasstorch[fast]), "
                                                   "so the fused path is off and only the NumPy path is tested")
STEPS = 12
HIDDEN = 4200  # a HIDDEN x 4 weight: 16,800 elements, over _PACK_MAX (updated on its own) and over one _CHUNK


@pytest.fixture(params=[pytest.param(True, id="fused", marks=needs_numba), pytest.param(False, id="numpy")])
def path(request, monkeypatch):
    monkeypatch.setattr(cpu_fused, "ENABLED", request.param)
    # the HIDDEN x 4 weight takes the parallel kernel (2 chunks), the smaller parameters the serial one
    monkeypatch.setattr(cpu_fused, "PARALLEL_MIN", HIDDEN * 4)
    return request.param


def _wide_weights():
    rng = np.random.default_rng(1)
    return [rng.standard_normal((HIDDEN, 4)), rng.standard_normal(HIDDEN), rng.standard_normal(3)]


# every flag of every kernel appears in at least one row
CONFIGS = [
    ("SGD", dict(lr=0.05, weight_decay=0.1, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.1)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.5, 0.7), eps=1e-6, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.5, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.005, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.005, alpha=0.3, centered=True)),  # lerp's other form (weight 1 - alpha >= 0.5)
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.1)),
    ("Adagrad", dict(lr=0.1, eps=1e-6, maximize=True)),
    ("Adadelta", dict(lr=1.0)),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1, maximize=True)),
    ("Adamax", dict(lr=0.01)),
    ("Adamax", dict(lr=0.01, betas=(0.3, 0.8), weight_decay=0.1, maximize=True)),  # lerp's other form
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, betas=(0.3, 0.9), weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.01, weight_decay=0.2, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01)),  # 12 steps: rho_t > 5 from step 6, so both branches run
    ("RAdam", dict(lr=0.01, betas=(0.3, 0.9), weight_decay=0.1, maximize=True)),
    ("RAdam", dict(lr=0.01, weight_decay=0.2, decoupled_weight_decay=True)),
]
# where the NumPy reference does a step's arithmetic in another order than torch (and the kernels): Adam's
# denominator, Adamax's and NAdam's addcdiv (m / d * c instead of c * m / d)
REORDERED = ("Adam", "AdamW", "Adamax", "NAdam")


def _cid(cfg):
    name, kw = cfg
    return name + "-" + ",".join(f"{k}={v}" for k, v in kw.items())


def _trajectory(lib, cfg, dtype):
    """The weights after each of STEPS steps of `lib`'s optimizer, fed the same random gradients in
    both libraries (so only the optimizer's arithmetic is compared, not forward/backward rounding)."""
    name, kw = cfg
    ps = [lib.tensor(w.astype(dtype), requires_grad=True) for w in _wide_weights()]
    opt = getattr(lib.optim, name)(ps, **kw)
    rng = np.random.default_rng(2)
    out = []
    for _ in range(STEPS):
        for p in ps:
            p.grad = lib.tensor(rng.standard_normal(tuple(p.shape)).astype(dtype))
        opt.step()
        out.append([p.detach().numpy().copy() for p in ps])
    return out


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("cfg", CONFIGS, ids=_cid)
def test_wide_trajectory_matches_torch(path, cfg, dtype):
    """Compare every parameter after every step. Torch's vectorised CPU kernels fuse some multiply-adds
    (lerp, add with alpha), so the two differ by about an ulp of each step's update: on weights of
    size ~1 moving by lr-sized steps, 12 steps stay under 1e-13 (float64) and 1e-5 (float32, ulp
    6e-8; the bound test_optim.py uses for the float32 update rule). PyTorch itself is not always that
    close to itself: in about one process in ten its Adam step (lr=0.01, float64) writes the second half
    of this 16,800-element weight up to 3.1e-13 away from its usual result (its moments agree bit for bit;
    the differing elements start exactly halfway), so float64 is compared at 1e-12. That still catches a
    wrong update rule: leaving eps (1e-8) out, or doubling it, moves these 12 steps by 1.6e-6."""
    ref, ours = _trajectory(torch, cfg, dtype), _trajectory(gt, cfg, dtype)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for step_ref, step_ours in zip(ref, ours):
        for a, b in zip(step_ref, step_ours):
            np.testing.assert_allclose(b, a, rtol=tol, atol=tol)
    assert max(np.abs(a - b).max() for a, b in zip(_wide_weights(), ref[-1])) > 1e-3  # it did train


@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("cfg", CONFIGS, ids=_cid)
def test_fused_and_numpy_paths_agree(cfg, dtype, monkeypatch):
    """SGD, RMSprop, Adagrad, Adadelta and RAdam do the same IEEE operations in the same order on both
    paths (the kernels are compiled without fast-math, so nothing is contracted into an FMA or
    reassociated): bit-for-bit equal. Adam's NumPy path moves sqrt(1 - beta2**t) out of the denominator
    (one pass fewer), and Adamax's and NAdam's divide before scaling (REORDERED), so the two differ by
    rounding: a few ulps of the update a step, i.e. ~1e-15 (float64) and ~1e-6 (float32) relative to
    lr-sized steps of weights of size ~1."""
    monkeypatch.setattr(cpu_fused, "PARALLEL_MIN", HIDDEN * 4)
    monkeypatch.setattr(cpu_fused, "ENABLED", True)
    fused = _trajectory(gt, cfg, dtype)[-1]
    monkeypatch.setattr(cpu_fused, "ENABLED", False)
    numpy = _trajectory(gt, cfg, dtype)[-1]
    for a, b in zip(fused, numpy):
        if cfg[0] in REORDERED:
            tol = 1e-12 if dtype == np.float64 else 1e-5
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
        else:
            np.testing.assert_array_equal(a, b)


@needs_numba
@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.01)), ("SGD", dict(lr=0.1, momentum=0.9)),
                                     ("RMSprop", dict(lr=0.01)), ("Adagrad", dict(lr=0.1)),
                                     ("Adadelta", dict(lr=1.0)), ("Adamax", dict(lr=0.01)), ("NAdam", dict(lr=0.01)),
                                     ("RAdam", dict(lr=0.01))])
def test_fused_kernels_are_used(name, kw, monkeypatch):
    """The comparisons above prove something only if the kernels really ran: count their calls."""
    monkeypatch.setattr(cpu_fused, "ENABLED", True)
    calls = []
    run = cpu_fused._run
    monkeypatch.setattr(cpu_fused, "_run", lambda kernel, *a: (calls.append(kernel), run(kernel, *a)))
    ps = [gt.zeros(HIDDEN, 4, requires_grad=True), gt.zeros(7, requires_grad=True)]
    opt = getattr(gt.optim, name)(ps, **kw)
    for _ in range(2):  # SGD's momentum buffer is made by the NumPy code on the first step
        for p in ps:
            p.grad = gt.ones(p.shape)
        opt.step()
    assert calls and set(calls) == {name.lower()}


@needs_numba
def test_unsupported_arrays_fall_back_untouched(monkeypatch):
    """Half precision, integer, non-contiguous and read-only arrays are left to the NumPy code."""
    monkeypatch.setattr(cpu_fused, "ENABLED", True)  # (also when the suite runs with GLASSTORCH_FUSED=0)
    readonly = np.ones(8, np.float32)
    readonly.flags.writeable = False
    cases = [np.ones(8, np.float16), np.ones(8, np.int64), np.ones((4, 4), np.float32)[:, ::2], readonly]
    for p in cases:
        m, v = np.zeros_like(p), np.zeros_like(p)
        before = p.copy()
        assert not cpu_fused.adam_(p, np.ones_like(p), [m, v], 1.0, 0.1, 0.9, 0.999, 1e-8)
        assert not cpu_fused.sgd_(p, np.ones_like(p), None, 0.1)
        np.testing.assert_array_equal(p, before)
    # a gradient that is a non-contiguous view is fine: it is only read
    p, g = np.zeros(6, np.float32), np.arange(12, dtype=np.float32)[::2]
    assert cpu_fused.sgd_(p, g, None, 0.5)
    np.testing.assert_array_equal(p, -0.5 * g)


def test_environment_switch():
    """GLASSTORCH_FUSED=0 turns the fused path off for the whole process."""
    code = "from glasstorch.backends import cpu_fused; print(cpu_fused.available())"
    env = dict(os.environ, GLASSTORCH_FUSED="0")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    if NUMBA:
        env["GLASSTORCH_FUSED"] = "1"
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "True"
