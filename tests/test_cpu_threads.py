"""Batch loops split over the cores (glasstorch/backends/cpu_threads.py): the convolution products of
glasstorch/_ops/conv.py and the compiled max pooling of backends/cpu_conv.py, forced to split on small
arrays (the thresholds set to 0) into 2 and 3 parts, against torch and against the unsplit run."""
import importlib.util
import threading
import time

import numpy as np
import pytest
import torch

import glasstorch as gt
from glasstorch._ops import conv as C
from glasstorch.backends import cpu_conv, cpu_fused, cpu_rnn, cpu_threads

from _compare import assert_same, tensors
from test_cpu_conv import assert_grouped_and_transposed_match_torch

NUMBA = importlib.util.find_spec("numba") is not None


@pytest.fixture(params=[2, 3])
def split_into(request, monkeypatch):
    """Every conv and pool splits its batch into `request.param` parts, whatever this machine's cores."""
    monkeypatch.setattr(cpu_threads, "workers", lambda: request.param)
    monkeypatch.setattr(C, "SPLIT_BYTES", 0)
    monkeypatch.setattr(cpu_conv, "SPLIT_MIN", 0)
    monkeypatch.setattr(C, "CHUNK_BYTES", 200)  # one sample per chunk: several chunks in each part
    return request.param


@pytest.fixture(params=[pytest.param(True, id="compiled"), pytest.param(False, id="numpy")])
def path(request, monkeypatch):
    if request.param and not NUMBA:
        pytest.skip("numba is not installed (pip install glasstorch[fast])")
    monkeypatch.setattr(cpu_conv, "ENABLED", request.param)
    return request.param


def test_split_covers_the_batch_in_order(monkeypatch):
    monkeypatch.setattr(cpu_threads, "workers", lambda: 3)
    assert cpu_threads.split(7) == [(0, 2), (2, 4), (4, 7)]
    assert cpu_threads.split(2) == [(0, 1), (1, 2)]  # no empty parts
    assert cpu_threads.split(0) == [(0, 0)]
    monkeypatch.setattr(cpu_threads, "workers", lambda: 1)
    assert cpu_threads.split(64) == [(0, 64)]


def test_run_keeps_order_and_uses_helper_threads(monkeypatch):
    monkeypatch.setattr(cpu_threads, "workers", lambda: 3)
    names = []

    def fn(start, stop):
        names.append(threading.current_thread().name)
        return list(range(start, stop))

    assert cpu_threads.run(fn, cpu_threads.split(7)) == [[0, 1], [2, 3], [4, 5, 6]]
    assert all(name.startswith("glasstorch-cpu") for name in names)
    names.clear()
    assert cpu_threads.run(fn, [(0, 3)]) == [[0, 1, 2]]  # one part: here, not in a helper
    assert names == [threading.current_thread().name]


def _step(m, arrays, dtype):
    """conv -> relu -> conv (strided, dilated, padded) -> relu -> overlapping max pool -> sum of squares."""
    x, w1, b1, w2, b2 = tensors(m, [a.astype(dtype) for a in arrays], requires_grad=True)
    F = m.nn.functional
    h = F.relu(F.conv2d(x, w1, b1, padding=1))
    h = F.relu(F.conv2d(h, w2, b2, stride=(1, 2), dilation=(2, 1), padding=1))
    y = F.max_pool2d(h, 3, stride=1)
    (y * y).sum().backward()
    return y, x.grad, w1.grad, b1.grad, w2.grad, b2.grad


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_split_step_matches_torch(path, split_into, dtype):
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal((5, 2, 10, 11)), rng.standard_normal((4, 2, 3, 3)) * 0.3,
              rng.standard_normal(4), rng.standard_normal((6, 4, 3, 2)) * 0.3, rng.standard_normal(6)]
    ours, theirs = _step(gt, arrays, np.dtype(dtype)), _step(torch, arrays, np.dtype(dtype))
    for a, b in zip(ours, theirs):
        # the weight gradients sum hundreds of products of both signs in another order than oneDNN's,
        # so their error scales with the array's largest element (as in test_cpu_conv.py)
        scale = float(b.detach().abs().max())
        rel = 1e-5 if dtype == "float32" else 1e-10
        assert_same(a, b, tol=dict(rtol=rel, atol=rel * scale))


def test_split_equals_unsplit(path, monkeypatch):
    """Splitting changes only the order in which the parts' weight-gradient sums are added: outputs, input
    gradients and pooling (each sample or plane computed on its own) keep their bits."""
    rng = np.random.default_rng(6)
    arrays = [rng.standard_normal((5, 2, 10, 11)), rng.standard_normal((4, 2, 3, 3)) * 0.3,
              rng.standard_normal(4), rng.standard_normal((6, 4, 3, 2)) * 0.3, rng.standard_normal(6)]
    whole = _step(gt, arrays, np.float64)
    monkeypatch.setattr(cpu_threads, "workers", lambda: 2)
    monkeypatch.setattr(C, "SPLIT_BYTES", 0)
    monkeypatch.setattr(cpu_conv, "SPLIT_MIN", 0)
    parts = _step(gt, arrays, np.float64)
    for i, (a, b) in enumerate(zip(whole, parts)):
        if i in (2, 4):  # w1.grad, w2.grad: two partial sums added, within float64 rounding of the terms
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12 * float(abs(a).max()))
        else:
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_grouped_and_transposed_split(split_into):
    rng = np.random.default_rng(7)
    arrays = [rng.standard_normal((5, 4, 8, 8)), rng.standard_normal((6, 2, 3, 3)), rng.standard_normal((4, 3, 3, 3))]
    assert_grouped_and_transposed_match_torch(arrays)


def test_the_callers_blas_thread_count_is_unchanged_after_a_split(monkeypatch):
    # NumPy's OpenBLAS (a pthreads build) applies the helpers' "local" single-thread setting to the
    # whole process; left that way, every later product in the program would run on one core
    monkeypatch.setenv("GLASSTORCH_THREADS", "2")
    if cpu_threads.workers() < 2 or not cpu_threads._blas_global:
        pytest.skip("no per-thread BLAS setting or a single core here: batches are not split")
    get = cpu_threads._blas_global[0]
    before = get()
    inside = cpu_threads.run(lambda start, stop: get(), [(0, 1), (1, 2)])
    assert inside == [1, 1]  # the parts ran with single-threaded BLAS
    assert get() == before


def _fresh(code: str, **env) -> str:
    """The last line `code` prints in a fresh interpreter (with `env` added, "" removing a variable)."""
    import os
    import subprocess
    import sys

    environ = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_THREAD_TIMEOUT", "GLASSTORCH_THREADS")}
    environ.update({k: v for k, v in env.items() if v != ""})
    out = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


_REPORT = ("import os; from glasstorch import _cpu_process; from glasstorch.backends import cpu_threads as c; "
           "print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'), _cpu_process.short_blas_spin(), c.workers(), c._cores(), "
           "bool(c._blas_local))")


def _expected_split(report: str) -> int:
    """The parts a batch splits into by default when the spin is short: BLAS's thread count, at most the cores."""
    _, _, _, cores, has_local = report.split()
    return min(int(cores), 8) if has_local == "True" else 1


def test_glasstorch_first_sets_a_short_blas_spin_and_splits_by_default():
    # imported before NumPy: OpenBLAS reads the short spin when it loads, and the split is on
    report = _fresh("import glasstorch; " + _REPORT)
    timeout, short, parts = report.split()[:3]
    assert (timeout, short) == ("22", "True")
    assert int(parts) == _expected_split(report)


def test_numpy_first_leaves_blas_alone_and_does_not_split():
    # NumPy already loaded OpenBLAS with its default spin (~0.1 s): a split would lose, so none
    report = _fresh("import numpy, glasstorch; " + _REPORT)
    assert report.split()[:3] == ["None", "False", "1"]


def test_the_users_choices_win():
    assert _fresh("import glasstorch; " + _REPORT, OPENBLAS_THREAD_TIMEOUT="28").split()[:3] == ["28", "False", "1"]
    assert _fresh("import glasstorch; " + _REPORT, GLASSTORCH_THREADS="1").split()[2] == "1"
    # asked for explicitly, the split happens whatever the spin (where the per-thread BLAS setting exists)
    report = _fresh("import numpy, glasstorch; " + _REPORT, GLASSTORCH_THREADS="2")
    assert int(report.split()[2]) == min(2, _expected_split(report))
    report = _fresh("import glasstorch; " + _REPORT, OPENBLAS_NUM_THREADS="1")
    assert report.split()[2] == "1"  # one BLAS thread asked for: one part


@pytest.mark.parametrize("module", [cpu_conv, cpu_fused, cpu_rnn], ids=["cpu_conv", "cpu_fused", "cpu_rnn"])
def test_kernels_are_built_once_when_threads_ask_together(module, monkeypatch):
    # the first convolution of a split batch asks for the compiled kernels from every helper thread at
    # once; a second build would wrap module-level loops numba has already wrapped (TypeError)
    attr = "_compiled" if module is cpu_rnn else "_kernels"
    monkeypatch.setattr(module, attr, None)
    builds = []

    def slow_build():
        builds.append(threading.current_thread().name)
        time.sleep(0.2)  # long enough for every thread to arrive while the first one builds
        setattr(module, attr, {"stand-in": None})
        return getattr(module, attr)

    monkeypatch.setattr(module, "_compile", slow_build)
    monkeypatch.setattr(module, "ENABLED", True)
    threads = [threading.Thread(target=module.available) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1
