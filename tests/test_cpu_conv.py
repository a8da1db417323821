"""The compiled window loops (glasstorch/backends/cpu_conv.py) against the NumPy reference and against torch,
and the batch-chunked convolution products of glasstorch/_ops/conv.py.

The compiled kernels promise the reference's bits (same additions in the same order, same comparisons), so
those checks are exact. Tests that take the `path` fixture run twice: with the kernels ("compiled", skipped
when numba is not installed) and with them switched off ("numpy", what GLASSTORCH_FUSED=0 does). CI runs
this file once more with numba installed.
"""
import importlib.util

import numpy as np
import pytest
import torch

import glasstorch as gt
from glasstorch._ops import conv as C
from glasstorch._ops import pooling as P
from glasstorch.backends import cpu_conv

from _compare import assert_same, tensors

NUMBA = importlib.util.find_spec("numba") is not None
needs_numba = pytest.mark.skipif(not NUMBA, reason="numba is not installed (pip install glasstorch[fast]), "
                                                   "so only the NumPy path is tested")


@pytest.fixture(params=[pytest.param(True, id="compiled", marks=needs_numba), pytest.param(False, id="numpy")])
def path(request, monkeypatch):
    monkeypatch.setattr(cpu_conv, "ENABLED", request.param)
    monkeypatch.setattr(cpu_conv, "PARALLEL_MIN", 64)  # small arrays take the parallel kernels too
    return request.param


def _both_paths(monkeypatch, fn):
    """fn() on the NumPy reference, then on the compiled kernels."""
    monkeypatch.setattr(cpu_conv, "ENABLED", False)
    reference = fn()
    monkeypatch.setattr(cpu_conv, "ENABLED", True)
    assert cpu_conv.available()
    return reference, fn()


# (N, C, H, W, kernel, stride, dilation, padding): square and oblong kernels, strides past the kernel,
# dilation, padding wider than a dilated tap reaches, a 1x1 kernel
GEOMETRIES = [
    (2, 3, 7, 6, (3, 2), (1, 1), (1, 1), (0, 0)),
    (2, 4, 9, 8, (3, 3), (2, 3), (2, 1), (1, 2)),
    (1, 2, 5, 5, (2, 2), (3, 3), (1, 1), (1, 1)),
    (3, 2, 6, 7, (1, 1), (2, 1), (1, 1), (0, 3)),
    (2, 1, 4, 5, (3, 3), (1, 2), (2, 2), (3, 2)),
]


def _out(h, w, kernel, stride, dilation, pad):
    return tuple((s + 2 * p - d * (k - 1) - 1) // st + 1 for s, p, d, k, st in zip((h, w), pad, dilation, kernel, stride))


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("geo", GEOMETRIES)
def test_im2col_col2im_compiled_equal_reference(monkeypatch, geo, dtype):
    n, c, h, w, kernel, stride, dilation, pad = geo
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    out = _out(h, w, kernel, stride, dilation, pad)
    ref, fast = _both_paths(monkeypatch, lambda: C.im2col(x, kernel, stride, dilation, pad, pad, out))
    assert fast.shape == ref.shape == (n, c * kernel[0] * kernel[1], out[0] * out[1]) and fast.dtype == ref.dtype
    np.testing.assert_array_equal(fast, ref)
    cols = rng.standard_normal(ref.shape).astype(dtype)
    ref, fast = _both_paths(monkeypatch, lambda: C.col2im(cols, (h, w), kernel, stride, dilation, pad, out))
    assert fast.shape == ref.shape == (n, c, h, w) and fast.dtype == ref.dtype
    # each pixel's taps are added in the same order on both paths, so the sums agree to the bit
    np.testing.assert_array_equal(fast, ref)


def _pool_input(dtype):
    """Values with the cases PyTorch's max rule decides: NaNs, ties, +0 against -0."""
    x = np.random.default_rng(1).standard_normal((2, 3, 9, 8)).astype(dtype)
    x[0, 0, 0, :2] = np.nan  # a NaN window, and a NaN that is not first
    x[0, 1, 2, 3] = np.nan
    x[1, 0, :2, :2] = 0.5  # a four-way tie
    x[1, 1, 0, 0], x[1, 1, 0, 1] = 0.0, -0.0  # equal, and which one stays shows in the sign
    x[1, 1, 1, :2] = -1.0
    return x


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel, stride, pad, dilation, ceil", [
    ((2, 2), (2, 2), (0, 0), (1, 1), False),  # the CNN's pool: disjoint windows
    ((3, 3), (1, 1), (1, 1), (1, 1), False),  # overlapping windows, padding
    ((3, 2), (2, 1), (1, 0), (1, 2), True),  # oblong, dilated, ceil mode past the edge
    ((2, 3), (3, 2), (1, 1), (2, 1), True),
])
def test_max_pool_compiled_equal_reference(monkeypatch, kernel, stride, pad, dilation, ceil, dtype):
    x = _pool_input(dtype)
    out = tuple(P.pool_output_size(s, k, p, st, d, ceil) for s, k, p, st, d in zip(x.shape[2:], kernel, pad, stride,
                                                                                      dilation))
    (ref_best, ref_arg), (best, arg) = _both_paths(monkeypatch, lambda: P._max_windows(x, kernel, stride, pad,
                                                                                         dilation, out))
    assert best.dtype == ref_best.dtype and arg.dtype == ref_arg.dtype == np.int8
    np.testing.assert_array_equal(best, ref_best)  # (NaNs in the same places count as equal)
    np.testing.assert_array_equal(np.signbit(best), np.signbit(ref_best))
    np.testing.assert_array_equal(arg, ref_arg)
    g = np.random.default_rng(2).standard_normal(best.shape).astype(dtype)
    geo = (kernel, stride, pad, dilation, out)
    ref, fast = _both_paths(monkeypatch, lambda: P._max_scatter(g, arg, geo, x.shape))
    assert fast.shape == ref.shape == x.shape and fast.dtype == ref.dtype
    # overlapping windows add at a shared pixel in the reference's tap order, so the sums agree to the bit
    np.testing.assert_array_equal(fast, ref)


def test_switched_off_leaves_everything_to_numpy(monkeypatch):
    monkeypatch.setattr(cpu_conv, "ENABLED", False)
    x = np.zeros((1, 1, 4, 4), np.float32)
    assert not cpu_conv.available()
    assert cpu_conv.im2col(x, (2, 2), (1, 1), (1, 1), (0, 0), (3, 3)) is None
    assert cpu_conv.max_pool(x, (2, 2), (2, 2), (0, 0), (1, 1), (2, 2)) is None


def test_compiled_path_refuses_what_it_cannot_take(monkeypatch):
    """Integer and strided arrays go to the reference (None here), whatever numba's presence."""
    x = np.zeros((1, 2, 4, 4), np.float32)
    assert cpu_conv.im2col(x.astype(np.int64), (2, 2), (1, 1), (1, 1), (0, 0), (3, 3)) is None
    assert cpu_conv.im2col(x.transpose(0, 1, 3, 2), (2, 2), (1, 1), (1, 1), (0, 0), (3, 3)) is None
    assert cpu_conv.col2im(np.zeros((1, 8, 9), np.float16), (4, 4), (2, 2), (1, 1), (1, 1), (0, 0), (3, 3)) is None


def _cnn_step(m, arrays, dtype):
    """conv -> relu -> conv -> relu -> max pool -> sum of squares, forward and backward."""
    x, w1, b1, w2, b2 = tensors(m, [a.astype(dtype) for a in arrays], requires_grad=True)
    F = m.nn.functional
    h = F.relu(F.conv2d(x, w1, b1, padding=1))
    h = F.relu(F.conv2d(h, w2, b2, stride=(1, 2), dilation=(2, 1)))
    y = F.max_pool2d(h, 2)
    (y * y).sum().backward()
    return y, x.grad, w1.grad, b1.grad, w2.grad, b2.grad


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("chunk", [1 << 20, 200])  # the whole batch in one chunk; one sample per chunk
def test_conv_pool_step_matches_torch(path, monkeypatch, dtype, chunk):
    monkeypatch.setattr(C, "CHUNK_BYTES", chunk)
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal((5, 2, 10, 11)), rng.standard_normal((4, 2, 3, 3)) * 0.3,
              rng.standard_normal(4), rng.standard_normal((6, 4, 3, 2)) * 0.3, rng.standard_normal(6)]
    ours, theirs = _cnn_step(gt, arrays, np.dtype(dtype)), _cnn_step(torch, arrays, np.dtype(dtype))
    for a, b in zip(ours, theirs):
        # Both sum the same products in different orders (BLAS's against oneDNN's). A weight gradient sums
        # hundreds of products of both signs, so its rounding error is relative to the size of the terms,
        # i.e. to the array's scale, not to each (possibly cancelled) element: float32 within 1e-5 of the
        # largest element (1e-10 in float64), plus the usual relative tolerance.
        scale = float(b.detach().abs().max())
        rel = 1e-5 if dtype == "float32" else 1e-10
        assert_same(a, b, tol=dict(rtol=rel, atol=rel * scale))


def assert_grouped_and_transposed_match_torch(arrays) -> None:
    """A grouped conv (groups=2, padding 1) and a transposed conv (stride 2, output_padding 1) of the same
    input, forward and backward, against torch. arrays: x (N, 4, H, W), w (6, 2, 3, 3), wt (4, 3, 3, 3)."""
    results = []
    for m in (gt, torch):
        x, w, wt = tensors(m, arrays, requires_grad=True)
        F = m.nn.functional
        y = F.conv2d(x, w, groups=2, padding=1)
        z = F.conv_transpose2d(x, wt, stride=2, output_padding=1)
        (y.square().sum() + z.square().sum()).backward()
        results.append((y, z, x.grad, w.grad, wt.grad))
    for a, b in zip(*results):
        assert_same(a, b)


# one chunk; or two samples' windows (4 channels x 9 taps x 64 positions, float64) per chunk: 5 = 2 + 2 + 1
@pytest.mark.parametrize("chunk", [1 << 20, 2 * 4 * 9 * 64 * 8])
def test_grouped_and_transposed_conv_chunked(path, monkeypatch, chunk):
    """Groups and the transposed conv go through the same chunked products."""
    monkeypatch.setattr(C, "CHUNK_BYTES", chunk)
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal((5, 4, 8, 8)), rng.standard_normal((6, 2, 3, 3)), rng.standard_normal((4, 3, 3, 3))]
    assert_grouped_and_transposed_match_torch(arrays)


def test_conv_input_not_contiguous(path):
    """A channels-last view takes the reference im2col (the compiled loop wants C-contiguous arrays)."""
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((2, 5, 6, 3)), rng.standard_normal((4, 3, 2, 2))
    ours = gt.nn.functional.conv2d(gt.from_numpy(x).permute(0, 3, 1, 2), gt.from_numpy(w))
    theirs = torch.nn.functional.conv2d(torch.from_numpy(x).permute(0, 3, 1, 2), torch.from_numpy(w))
    assert_same(ours, theirs)
