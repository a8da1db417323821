"""Machinery of the differential fuzz test (tests/test_fuzz.py): profiles, input data, comparison.

`fuzz_test(strategy, weight)` turns `check(case)` into a pytest test run by hypothesis in two
profiles (see test_fuzz.py's docstring); `run_both(fn, arrays, ...)` runs `fn(m, *tensors)` on
glasstorch and on PyTorch and compares the forward result (or the exception class) and the
gradients of every floating-point input for a random upstream gradient.
"""
from __future__ import annotations

import math
import os
import re

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, example, given, settings

import glasstorch
from _compare import dtype_name, noncontiguous

# ---- profiles -------------------------------------------------------------------------------------
ENV = "GLASSTORCH_FUZZ_EXAMPLES"
LONG_DEFAULT = 10_000                    # cases of the long profile, all tests together
CI_PER_WEIGHT = 24                       # cases per unit of weight in the bounded (CI) profile
WEIGHTS: dict[str, int] = {}             # test name -> weight, filled by fuzz_test at import
COUNTS: dict[str, dict[str, int]] = {"ci": {}, "long": {}}   # profile -> test name -> cases compared
_SUPPRESS = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]
_current: list = [None]                  # (profile, test name) whose cases are being counted


def long_total() -> int:
    return int(os.environ.get(ENV, LONG_DEFAULT))


def long_requested(config) -> bool:
    """The long profile runs when GLASSTORCH_FUZZ_EXAMPLES is set or `-m` names `fuzz` (not `not fuzz`)."""
    expr = config.option.markexpr or ""
    return ENV in os.environ or re.search(r"(?<!not )\bfuzz\b", expr) is not None


def budget(profile: str, name: str) -> int:
    weight = WEIGHTS[name]
    if profile == "ci":
        return CI_PER_WEIGHT * weight
    return math.ceil(long_total() * weight / sum(WEIGHTS.values()))


def profile_settings(profile: str, n: int) -> settings:
    # CI is reproducible (derandomize); the long profile draws fresh cases on every run (pass
    # --hypothesis-seed=N to repeat one). No example database: nothing is written into the tree.
    return settings(max_examples=n, deadline=None, database=None, derandomize=(profile == "ci"),
                    suppress_health_check=_SUPPRESS, print_blob=True)


def counted() -> None:
    """Called by a check once its case has been compared: counts it for the current test."""
    counts = COUNTS[_current[0][0]]
    counts[_current[0][1]] = counts.get(_current[0][1], 0) + 1


def fuzz_test(strategy, weight: int = 1, examples: tuple = ()):
    """Decorator: `check(case)`, `case` drawn from `strategy`, becomes the test `<check's name>[ci|long]`.

    `examples` are regression cases (hypothesis @example) run first in both profiles.
    """
    def deco(check):
        name = check.__name__
        WEIGHTS[name] = weight

        @pytest.mark.parametrize("profile", ["ci", pytest.param("long", marks=pytest.mark.fuzz)])
        def test(profile, request):
            if profile == "long" and not long_requested(request.config):
                pytest.skip(f"long fuzz profile: run with `pytest -m fuzz` or {ENV}=N")
            n = budget(profile, name)
            run = given(strategy)(check)
            for ex in reversed(examples):
                run = example(ex)(run)
            _current[0] = (profile, name)
            COUNTS[profile][name] = 0
            profile_settings(profile, n)(run)()
            # hypothesis runs every example that passes its filters: fewer cases means a check
            # stopped comparing things (a bug in the test), which must not pass silently
            assert COUNTS[profile][name] >= n, f"{name}: only {COUNTS[profile][name]} of {n} cases compared"

        test.__name__ = test.__qualname__ = name
        test.__doc__ = check.__doc__
        return test
    return deco


# ---- input data -----------------------------------------------------------------------------------
FLOATS = ("float32", "float64")
INTS = ("int32", "int64")
DTYPES = FLOATS + INTS + ("bool",)
SPECIALS = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0])


def values(rng: np.random.Generator, shape, dtype: str, kind: str = "normal") -> np.ndarray:
    """An array of `dtype`. Floats by `kind`: "normal" (N(0, 2^2)), "int" (integer-valued, exact in
    every sum and product we form), "distinct" (integer-valued, no two equal: no ties for max/argmax),
    "special" (normal with some 0, -0, +-inf, nan, +-1), "positive" (in [0.5, 3])."""
    shape = tuple(shape)
    if dtype == "bool":
        return np.asarray(rng.random(shape) < 0.5)
    if dtype in INTS:
        return np.asarray(rng.integers(-4, 5, shape)).astype(dtype)
    if kind == "int":
        a = rng.integers(-4, 5, shape).astype(np.float64)
    elif kind == "distinct":
        n = int(np.prod(shape, dtype=np.int64))
        a = (rng.permutation(n) - n // 2).astype(np.float64).reshape(shape)
    elif kind == "positive":
        a = rng.uniform(0.5, 3.0, shape)
    else:
        a = 2.0 * rng.standard_normal(shape)
        if kind == "special":
            a = np.where(rng.random(shape) < 0.3, rng.choice(SPECIALS, shape), a)
    return np.asarray(a).astype(dtype)


def magnitude(*arrays) -> float:
    """max(1, largest finite |value|): the scale of absolute rounding errors in results built from them."""
    m = 1.0
    for a in arrays:
        if isinstance(a, np.ndarray) and a.size and a.dtype.kind == "f":
            finite = np.abs(a[np.isfinite(a)])
            if finite.size:
                m = max(m, float(finite.max()))
    return m


# ---- comparison -----------------------------------------------------------------------------------
# Tolerances. Both libraries get bit-identical inputs; what differs is (a) the last ulp or two of
# transcendental functions (NumPy's vs PyTorch's SLEEF/libm), (b) the order of summation in
# reductions and products (SIMD width, blocking, thread count), (c) how a backward formula is
# grouped. (a) is relative to the result: float64 eps is 1.1e-16, float32 6e-8, so rtol 1e-10 and
# 1e-5 leave >100x room. (b) and (c) are absolute and scale with the terms cancelled: at most
# n * eps * max|term|, which each check states as `scale` (n terms times their magnitude);
# atol = ATOL[dtype] * scale is then > 10x the worst case (n <= 256 terms here: 256 * 6e-8 = 1.5e-5
# of the scale in float32 is the bound of a naive sum, pairwise or blocked sums do much better).
RTOL = {"float64": 1e-10, "float32": 1e-5}
ATOL = {"float64": 1e-12, "float32": 2e-6}


def assert_close(ours, theirs, scale: float = 1.0, what: str = "result", prec: str | None = None) -> None:
    """A result of either library (tensor, tuple/list of them, Python value) equals torch's, within the
    tolerance of its float dtype (or of `prec`, the least precise dtype it was computed through)."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, glasstorch.Tensor), f"{what}: expected a Tensor, got {type(ours).__name__}"
        assert tuple(ours.shape) == tuple(theirs.shape), \
            f"{what}: shape {tuple(ours.shape)} != torch {tuple(theirs.shape)}"
        assert dtype_name(ours) == dtype_name(theirs), f"{what}: dtype {ours.dtype} != torch {theirs.dtype}"
        expected, actual = theirs.detach().numpy(), ours.detach().numpy()
        if expected.dtype.kind == "f":
            name = prec or dtype_name(theirs)
            np.testing.assert_allclose(actual, expected, rtol=RTOL[name], atol=ATOL[name] * scale,
                                       equal_nan=True, err_msg=what)
        else:
            np.testing.assert_array_equal(actual, expected, err_msg=what)
    elif isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)), f"{what}: expected a sequence, got {type(ours).__name__}"
        assert len(ours) == len(theirs), f"{what}: {len(ours)} outputs != torch {len(theirs)}"
        for i, (o, t) in enumerate(zip(ours, theirs)):
            assert_close(o, t, scale, f"{what}[{i}]", prec)
    else:
        assert type(ours) is type(theirs) and ours == theirs, f"{what}: {ours!r} != torch {theirs!r}"


def _inputs(m, arrays, contiguous: bool, grad: bool) -> list:
    out = []
    for a in arrays:
        if not isinstance(a, np.ndarray):  # a Python number passes through
            out.append(a)
            continue
        a = a.copy() if contiguous else noncontiguous(a.copy())
        t = m.from_numpy(a)
        if grad and a.dtype.kind == "f":
            t.requires_grad_(True)
        out.append(t)
    return out


def _attempt(fn, m, ins):
    try:
        return fn(m, *ins), None
    except Exception as e:  # noqa: BLE001 - the caller compares classes
        return None, e


def _float_outputs(out) -> list:
    """The floating-point outputs that require grad. (Integer outputs are left out: torch marks an
    integer tensor filled from a 0-dim float tensor that requires grad, y[...] = v, as requiring
    grad itself (FillBackward3), yet not a 0-dim one, and its backward fails; no gradient to compare.)"""
    outs = out if isinstance(out, (tuple, list)) else [out]
    return [o for o in outs if isinstance(o, (torch.Tensor, glasstorch.Tensor)) and o.requires_grad
            and o.is_floating_point()]


def run_both(fn, arrays, *, seed: int = 0, contiguous: bool = True, grad: bool = True, scale: float = 1.0,
             grad_scale: float | None = None) -> None:
    """Run fn(m, *inputs) on glasstorch and torch (inputs: arrays become tensors, numbers pass) and
    compare: the result, or the exception class when torch raises; then the gradients of the
    floating-point inputs for a random upstream gradient. Counts the case."""
    t_in = _inputs(torch, arrays, contiguous, grad)
    theirs, t_err = _attempt(fn, torch, t_in)
    g_in = _inputs(glasstorch, arrays, contiguous, grad)
    ours, g_err = _attempt(fn, glasstorch, g_in)
    if t_err is not None:
        assert g_err is not None, f"torch raised {type(t_err).__name__}: {t_err}; glasstorch returned {ours!r}"
        assert type(g_err).__name__ == type(t_err).__name__ or isinstance(g_err, type(t_err)), \
            f"glasstorch raised {type(g_err).__name__}: {g_err}; torch raised {type(t_err).__name__}: {t_err}"
        counted()
        return
    if g_err is not None:
        raise AssertionError(f"glasstorch raised {type(g_err).__name__}: {g_err}; torch returned a result") from g_err
    assert_close(ours, theirs, scale)
    if grad:
        _compare_backward(ours, theirs, g_in, t_in, seed, scale if grad_scale is None else grad_scale)
    counted()


def _compare_backward(ours, theirs, g_in, t_in, seed, scale) -> None:
    t_outs, g_outs = _float_outputs(theirs), _float_outputs(ours)
    assert len(g_outs) == len(t_outs), f"{len(g_outs)} outputs require grad != torch {len(t_outs)}"
    if not t_outs:
        return
    rng = np.random.default_rng(seed + 7)
    ups = [values(rng, t.shape, dtype_name(t)) for t in t_outs]
    # sum(out * up) has gradient `up` for each output exactly, whatever order the sum runs in
    t_err = _attempt(lambda m: m.stack([(o * m.from_numpy(u)).sum().double() for o, u in zip(t_outs, ups)]).sum()
                     .backward(), torch, ())[1]
    g_err = _attempt(lambda m: m.stack([(o * m.from_numpy(u)).sum().double() for o, u in zip(g_outs, ups)]).sum()
                     .backward(), glasstorch, ())[1]
    if t_err is not None or g_err is not None:   # e.g. floor_divide, which has no derivative
        assert t_err is not None and g_err is not None and type(g_err) is type(t_err), \
            f"backward: glasstorch raised {g_err!r}, torch raised {t_err!r}"
        return
    # a gradient through broadcasting sums up to numel(output) terms; one that went through float32
    # anywhere (e.g. a float64 0-dim tensor added to a float32 one) has float32's precision
    scale = scale * magnitude(*ups) * max([1] + [o.numel() for o in t_outs])
    tensors = t_outs + [t for t in t_in if isinstance(t, torch.Tensor)]
    prec = "float32" if any(t.dtype == torch.float32 for t in tensors) else None
    for i, (g, t) in enumerate(zip(g_in, t_in)):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            if t.grad is None:
                assert g.grad is None, f"grad of input {i}: torch has none, glasstorch has one"
            else:
                assert g.grad is not None, f"grad of input {i}: glasstorch has none"
                assert_close(g.grad, t.grad, scale, f"grad of input {i}", prec)
