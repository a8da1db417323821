"""Convolution, pooling, padding and fold layers against PyTorch: module reprs and attributes, default
initialisation, padding modes, ConvTranspose's output_size, return_indices and ceil_mode edge cases,
and the errors (class and message) of the functional forms.

Values and gradients of the functional forms are in the op table (tests/optable_conv.py).
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import glasstorch
from _compare import assert_same, assert_same_error, tensors

G = glasstorch
# float64 convolutions: BLAS sums up to C*K products in another order than PyTorch (see optable_conv)
TOL64 = dict(rtol=1e-10, atol=1e-12)


def _copy_params(ours, theirs):
    """Give the glasstorch module torch's parameter values (so outputs can be compared)."""
    for (name, p), (tname, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == tname
        with G.no_grad():
            p.copy_(G.from_numpy(tp.detach().numpy().copy()))


def _module_pair(cls_name, *args, **kwargs):
    ours = getattr(G.nn, cls_name)(*args, **kwargs)
    theirs = getattr(torch.nn, cls_name)(*args, **kwargs)
    return ours, theirs


# ---- modules: repr, attributes, forward with the same weights --------------------------------------------
MODULES = [
    ("Conv1d", (2, 4, 3), {}, (2, 2, 9)),
    ("Conv1d", (2, 4, 3), dict(padding="same", padding_mode="circular", bias=False), (2, 2, 9)),
    ("Conv2d", (1, 32, 3), {}, (2, 1, 8, 8)),
    ("Conv2d", (4, 6, (3, 2)), dict(stride=2, padding=1, dilation=2, groups=2, padding_mode="reflect"), (2, 4, 9, 8)),
    ("Conv2d", (3, 4, 3), dict(padding=(1, 2), padding_mode="replicate"), (2, 3, 5, 6)),
    ("Conv2d", (3, 4, 3), dict(padding="same", padding_mode="zeros", dilation=2), (2, 3, 7, 6)),
    ("Conv2d", (3, 4, 4), dict(padding="valid", bias=False), (3, 7, 6)),
    ("ConvTranspose1d", (4, 2, 3), dict(stride=2, output_padding=1), (2, 4, 5)),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2, dilation=1), (2, 4, 4, 5)),
    ("MaxPool1d", (3, 2, 1), dict(ceil_mode=True), (2, 3, 8)),
    ("MaxPool2d", (2,), {}, (2, 3, 7, 6)),
    ("MaxPool2d", (3,), dict(stride=2, padding=1, dilation=1, ceil_mode=True), (2, 3, 7, 6)),
    ("AvgPool1d", (3,), dict(stride=2, padding=1, count_include_pad=False), (2, 3, 8)),
    ("AvgPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True, divisor_override=2), (2, 3, 7, 6)),
    ("AdaptiveAvgPool1d", (3,), {}, (2, 3, 8)),
    ("AdaptiveAvgPool2d", ((1, None),), {}, (2, 3, 7, 6)),
    ("AdaptiveAvgPool2d", (5,), {}, (2, 3, 7, 6)),
    ("AdaptiveMaxPool2d", ((3, 2),), {}, (2, 3, 7, 6)),
    ("LPPool2d", (2, 3), dict(stride=2), (2, 3, 7, 6)),
    ("LPPool1d", (2, 3), {}, (2, 3, 7)),
    ("ZeroPad1d", (2,), {}, (2, 3, 4)),
    ("ZeroPad2d", ((1, 0, 2, 3),), {}, (2, 3, 4, 5)),
    ("ConstantPad1d", ((1, 2), 3.5), {}, (2, 3, 4)),
    ("ConstantPad2d", (1, -1.0), {}, (3, 4, 5)),
    ("ReflectionPad1d", (2,), {}, (2, 3, 4)),
    ("ReflectionPad2d", ((1, 2, 3, 0),), {}, (2, 3, 4, 5)),
    ("ReplicationPad1d", ((4, 1),), {}, (2, 3, 4)),
    ("ReplicationPad2d", (2,), {}, (3, 4, 5)),
    ("CircularPad1d", (2,), {}, (2, 3, 4)),
    ("CircularPad2d", ((1, 2, 0, 3),), {}, (2, 3, 4, 5)),
    ("Unfold", ((2, 3),), dict(padding=1, stride=2), (2, 3, 6, 7)),
    ("Fold", ((5, 6), 2), {}, (2, 12, 20)),
]


def _ids(rows):
    return [f"{r[0]}-{i}" for i, r in enumerate(rows)]


@pytest.mark.parametrize("name, args, kwargs, shape", MODULES, ids=_ids(MODULES))
def test_module_matches_torch(name, args, kwargs, shape):
    ours, theirs = _module_pair(name, *args, **kwargs)
    assert repr(ours) == repr(theirs)
    public = {k: v for k, v in vars(theirs).items() if not k.startswith("_") and k != "training"}
    assert {k: getattr(ours, k) for k in public} == public
    if hasattr(theirs, "_reversed_padding_repeated_twice"):
        assert list(ours._reversed_padding_repeated_twice) == list(theirs._reversed_padding_repeated_twice)
    _copy_params(ours.double(), theirs.double())
    x = np.random.default_rng(1).standard_normal(shape)
    (xg,), (xt,) = tensors(G, [x], requires_grad=True), tensors(torch, [x], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # padding='same' with an even total: both warn
        yg, yt = ours(xg), theirs(xt)
    assert_same(yg, yt, TOL64)
    up = np.random.default_rng(2).standard_normal(tuple(yt.shape))
    yg.backward(G.from_numpy(up.copy()))
    yt.backward(torch.from_numpy(up.copy()))
    assert_same(xg.grad, xt.grad, TOL64)
    for (n, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_same(p.grad, tp.grad, TOL64, what=f"{name}.{n}.grad")


def test_module_import_paths_and_exports():
    import glasstorch.nn.functional as F
    from glasstorch.nn.modules.conv import Conv2d
    from glasstorch.nn.modules.fold import Fold
    from glasstorch.nn.modules.padding import ReflectionPad2d
    from glasstorch.nn.modules.pooling import MaxPool2d
    from glasstorch.nn.modules.utils import _pair

    assert G.nn.Conv2d is Conv2d and G.nn.Fold is Fold and G.nn.ReflectionPad2d is ReflectionPad2d
    assert G.nn.MaxPool2d is MaxPool2d and _pair(3) == (3, 3)
    for name in ("conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d", "avg_pool1d",
                 "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool2d", "lp_pool1d",
                 "lp_pool2d", "max_unpool2d", "unfold", "fold", "pad"):
        assert name in F.__all__ and callable(getattr(F, name)), name
    for name in ("Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "MaxPool1d", "MaxPool2d", "AvgPool1d",
                 "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "LPPool2d", "MaxUnpool2d",
                 "ZeroPad1d", "ZeroPad2d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad1d", "ReflectionPad2d",
                 "ReplicationPad1d", "ReplicationPad2d", "CircularPad1d", "CircularPad2d", "Fold", "Unfold"):
        assert name in G.nn.__all__ if hasattr(G.nn, "__all__") else hasattr(G.nn, name), name
        assert hasattr(G.nn, name), name


# ---- initialisation ----------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, args, fan_in", [
    ("Conv2d", (16, 32, 3), 16 * 9), ("Conv2d", (8, 12, (3, 5), 1, 0, 1, 4), 2 * 15), ("Conv1d", (6, 40, 5), 30),
    ("ConvTranspose2d", (16, 8, 3), 8 * 9), ("ConvTranspose1d", (6, 9, 4, 1, 0, 0, 3), 3 * 4),
])
def test_default_init_bounds_and_statistics(cls, args, fan_in):
    """kaiming_uniform_(a=sqrt(5)) on the weight gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)); the bias the same.

    The values differ from torch's (another generator), so compare the law: the bound is PyTorch's
    (torch's own weights reach it), every value lies inside, and the variance is bound^2 / 3 within
    sampling error (thousands of draws: 10% is over 4 standard errors)."""
    G.manual_seed(0)
    ours = getattr(G.nn, cls)(*args)
    theirs = getattr(torch.nn, cls)(*args)
    bound = 1 / math.sqrt(fan_in)
    for p, tp in ((ours.weight, theirs.weight), (ours.bias, theirs.bias)):
        assert tuple(p.shape) == tuple(tp.shape) and p.dtype == G.float32
        assert tp.abs().max().item() <= bound
        a = p.detach().numpy()
        assert np.abs(a).max() <= bound
        assert np.abs(a).max() > 0.8 * bound  # drawn up to the bound, not a narrower law
    w = ours.weight.detach().numpy().ravel()
    assert abs(w.var() / (bound ** 2 / 3) - 1) < 0.1 and abs(w.mean()) < 0.1 * bound


def test_init_is_reproducible_and_takes_dtype():
    G.manual_seed(3)
    a = G.nn.Conv2d(2, 3, 3)
    G.manual_seed(3)
    b = G.nn.Conv2d(2, 3, 3)
    np.testing.assert_array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())
    c = G.nn.Conv2d(2, 3, 3, dtype=G.float64)
    assert c.weight.dtype == G.float64 and c.bias.dtype == G.float64
    assert G.nn.Conv2d(2, 4, 3, bias=False).bias is None


def test_conv2d_float32_module_matches_torch():
    """The MNIST network's first layers in float32, the dtype programs use (tolerance as optable_conv)."""
    ours, theirs = _module_pair("Conv2d", 3, 8, 3, padding=1)
    _copy_params(ours, theirs)
    x = np.random.default_rng(0).standard_normal((4, 3, 12, 12)).astype(np.float32)
    yg, yt = ours(G.from_numpy(x)), theirs(torch.from_numpy(x))
    assert yg.dtype == G.float32
    np.testing.assert_allclose(yg.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=2e-5)


# ---- ConvTranspose output_size -----------------------------------------------------------------------
@pytest.mark.parametrize("output_size", [(9, 9), (10, 10), (9, 10), [2, 4, 10, 9]])
def test_conv_transpose_output_size(output_size):
    ours, theirs = _module_pair("ConvTranspose2d", 4, 2, 3, stride=2, padding=1)
    _copy_params(ours, theirs)
    x = np.random.default_rng(0).standard_normal((2, 4, 5, 5)).astype(np.float32)
    yg, yt = ours(G.from_numpy(x), output_size=output_size), theirs(torch.from_numpy(x), output_size=output_size)
    assert tuple(yg.shape) == tuple(yt.shape)
    np.testing.assert_allclose(yg.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=2e-5)


def test_conv_transpose_output_size_errors():
    x = np.zeros((2, 4, 5, 5), np.float32)
    for size in ((12, 12), (8, 9), (1, 2, 3)):
        assert_same_error(lambda m, x: m.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)(x, output_size=size), [x])


# ---- return_indices and ceil_mode ----------------------------------------------------------------------
def test_max_pool_indices_are_flat_input_positions():
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 6))
    for kw in (dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
               dict(kernel_size=(2, 3), dilation=(2, 1), padding=(1, 1))):
        out_g, idx_g = G.nn.functional.max_pool2d(G.from_numpy(x), return_indices=True, **kw)
        out_t, idx_t = torch.nn.functional.max_pool2d(torch.from_numpy(x), return_indices=True, **kw)
        assert_same((out_g, idx_g), (out_t, idx_t))
        # each index points at the value it reports
        flat = x.reshape(2, 3, -1)
        np.testing.assert_array_equal(np.take_along_axis(flat, idx_g.numpy().reshape(2, 3, -1), -1),
                                      out_g.numpy().reshape(2, 3, -1))
    m = G.nn.MaxPool2d(2, return_indices=True)
    out, idx = m(G.from_numpy(x))
    assert idx.dtype == G.int64
    assert_same(G.nn.MaxUnpool2d(2)(out, idx, output_size=x.shape[-2:]),
                torch.nn.MaxUnpool2d(2)(*torch.nn.MaxPool2d(2, return_indices=True)(torch.from_numpy(x)),
                                         output_size=x.shape[-2:]))


def test_max_pool_ties_and_nan_pick_like_torch():
    """Ties go to the first element of a window; a NaN wins its window (the last NaN's index)."""
    x = np.array([[[[1.0, 1.0, 2.0, 2.0], [1.0, 0.0, 2.0, 2.0], [np.nan, 3.0, 5.0, np.nan], [3.0, np.nan, 0.0, 5.0]]]])
    assert_same(G.nn.functional.max_pool2d(G.from_numpy(x), 2, return_indices=True),
                torch.nn.functional.max_pool2d(torch.from_numpy(x), 2, return_indices=True))
    assert_same(G.nn.functional.adaptive_max_pool2d(G.from_numpy(x), 2, return_indices=True),
                torch.nn.functional.adaptive_max_pool2d(torch.from_numpy(x), 2, return_indices=True))


@pytest.mark.parametrize("size, k, s, p", [(5, 2, 2, 0), (6, 3, 2, 1), (7, 3, 3, 1), (4, 2, 3, 1), (8, 3, 2, 0),
                                           (5, 4, 3, 2)])
def test_ceil_mode_output_sizes(size, k, s, p):
    """Ceil mode adds a last window only if it starts inside the input or its left padding."""
    x = np.random.default_rng(0).standard_normal((1, 2, size, size))
    for ceil in (False, True):
        for fn in (lambda m, x: m.nn.functional.max_pool2d(x, k, s, p, ceil_mode=ceil),
                   lambda m, x: m.nn.functional.avg_pool2d(x, k, s, p, ceil_mode=ceil),
                   lambda m, x: m.nn.functional.avg_pool2d(x, k, s, p, ceil_mode=ceil, count_include_pad=False),
                   lambda m, x: m.nn.functional.max_pool1d(x[0], k, s, p, ceil_mode=ceil),
                   lambda m, x: m.nn.functional.avg_pool1d(x[0], k, s, p, ceil_mode=ceil)):
            assert_same(fn(G, G.from_numpy(x)), fn(torch, torch.from_numpy(x)))


def test_pool_and_pad_on_empty_batch():
    x = np.zeros((0, 2, 6, 6))
    for fn in (lambda m, x: m.nn.functional.max_pool2d(x, 2), lambda m, x: m.nn.functional.avg_pool2d(x, 2),
               lambda m, x: m.nn.functional.conv2d(x, m.ones(3, 2, 3, 3, dtype=m.float64)),
               lambda m, x: m.nn.functional.pad(x, (1, 1, 1, 1), mode="reflect")):
        assert_same(fn(G, G.from_numpy(x)), fn(torch, torch.from_numpy(x)))


# ---- errors -----------------------------------------------------------------------------------------------
def _f(m):
    return m.nn.functional


CONV_ERRORS = [
    ((1, 4, 8, 8), (8, 3, 3, 3), lambda m, x, w: _f(m).conv2d(x, w)),
    ((1, 3, 2, 2), (8, 3, 3, 3), lambda m, x, w: _f(m).conv2d(x, w)),
    ((1, 3, 2, 2), (8, 3, 3, 3), lambda m, x, w: _f(m).conv2d(x, w, dilation=2, padding=1)),
    ((1, 3, 8), (8, 3, 3, 3), lambda m, x, w: _f(m).conv2d(x, w)),
    ((1, 3, 8, 8), (8, 3, 3), lambda m, x, w: _f(m).conv2d(x, w)),
    ((1, 3, 8), (8, 3, 3, 3), lambda m, x, w: _f(m).conv1d(x, w)),
    ((1, 2, 3, 8), (4, 3, 3), lambda m, x, w: _f(m).conv1d(x, w)),
    ((8, 8), (4, 3, 3, 3), lambda m, x, w: _f(m).conv2d(x, w)),
    ((1, 4, 8, 8), (8, 2, 3, 3), lambda m, x, w: _f(m).conv2d(x, w, groups=3)),
    ((1, 4, 8, 8), (8, 1, 3, 3), lambda m, x, w: _f(m).conv2d(x, w, groups=2)),
    ((1, 3, 8, 8), (8, 3, 3, 3), lambda m, x, w: _f(m).conv2d(x, w, stride=0)),
    ((1, 3, 8, 8), (8, 3, 3, 3), lambda m, x, w: _f(m).conv2d(x, w, padding=-1)),
    ((1, 3, 8, 8), (8, 3, 3, 3), lambda m, x, w: _f(m).conv2d(x, w, dilation=0)),
    ((1, 3, 8, 8), (8, 3, 3, 3), lambda m, x, w: _f(m).conv2d(x, w, groups=0)),
    ((1, 3, 8, 8), (8, 3, 3, 3), lambda m, x, w: _f(m).conv2d(x, w, padding="same", stride=2)),
    ((1, 3, 8, 8), (8, 3, 3, 3), lambda m, x, w: _f(m).conv2d(x, w, padding="full")),
    ((1, 3, 8, 8), (8, 3, 3, 3), lambda m, x, w: _f(m).conv2d(x, w, m.zeros(7, dtype=m.float64))),
    ((1, 3, 8, 8), (8, 3, 3, 3), lambda m, x, w: _f(m).conv2d(x, w, stride=(1, 1, 1))),
    ((1, 3, 8, 8), (8, 3, 3, 3), lambda m, x, w: _f(m).conv2d(x, w.float())),
    ((1, 3, 4, 4), (3, 2, 3, 3), lambda m, x, w: _f(m).conv_transpose2d(x, w, stride=2, output_padding=2)),
    ((1, 4, 4, 4), (3, 2, 3, 3), lambda m, x, w: _f(m).conv_transpose2d(x, w)),
    ((1, 3, 1, 1), (3, 2, 3, 3), lambda m, x, w: _f(m).conv_transpose2d(x, w, padding=2)),
    ((1, 3, 4, 4), (3, 2, 3, 3), lambda m, x, w: _f(m).conv_transpose2d(x, w, m.zeros(3, dtype=m.float64))),
    ((1, 3, 4), (3, 2, 3), lambda m, x, w: _f(m).conv_transpose1d(x, w, stride=2, output_padding=3)),
]


@pytest.mark.parametrize("xs, ws, fn", CONV_ERRORS, ids=[str(i) for i in range(len(CONV_ERRORS))])
def test_conv_errors(xs, ws, fn):
    rng = np.random.default_rng(0)
    assert_same_error(fn, [rng.standard_normal(xs), rng.standard_normal(ws)])


def test_conv_bool_and_int_kernels():
    x, w = np.ones((1, 3, 5, 5)), np.ones((2, 3, 3, 3))
    assert_same_error(lambda m, x, w: _f(m).conv2d(x.bool(), w.bool()), [x, w])
    assert_same_error(lambda m, x, w: _f(m).conv2d(x.int(), w.int(), dilation=2), [x, w])
    assert_same_error(lambda m, x, w: _f(m).conv_transpose2d(x.int(), w.int().transpose(0, 1)), [x, w])
    for m_fn in (lambda m, x, w: _f(m).conv2d(x.long(), w.long(), padding=1),
                 lambda m, x, w: _f(m).conv_transpose2d(x.long(), w.long().transpose(0, 1))):
        assert_same(m_fn(G, *tensors(G, [x, w])), m_fn(torch, *tensors(torch, [x, w])))


def test_conv_module_errors():
    for args, kw in (((4, 8, 3), dict(groups=0)), ((4, 8, 3), dict(groups=3)), ((6, 8, 3), dict(groups=3)),
                     ((4, 8, 3), dict(padding="same", stride=2))):
        assert_same_error(lambda m: m.nn.Conv2d(*args, **kw))
    # these messages print a set, whose order depends on the hash seed of the process that compiled
    # each library: compare the words, not their order
    for kw in (dict(padding="full"), dict(padding_mode="wrap")):
        ours, theirs = assert_same_error(lambda m: m.nn.Conv2d(4, 8, 3, **kw), message=False)
        def words(e):
            return sorted(str(e).translate(str.maketrans(",{}", "   ")).split())

        assert words(ours) == words(theirs)
    assert_same_error(lambda m: m.nn.ConvTranspose2d(4, 8, 3, padding_mode="reflect"))


POOL_ERRORS = [
    ((1, 4, 8, 8), lambda m, x: _f(m).max_pool2d(x, 3, padding=2)),
    ((1, 4, 8, 8), lambda m, x: _f(m).max_pool2d(x, 9)),
    ((1, 4, 8, 8), lambda m, x: _f(m).max_pool2d(x, 0)),
    ((1, 4, 8, 8), lambda m, x: _f(m).max_pool2d(x, 0, stride=1)),
    ((1, 4, 8, 8), lambda m, x: _f(m).max_pool2d(x, 2, stride=0)),
    ((1, 4, 8, 8), lambda m, x: _f(m).max_pool2d(x, 2, dilation=0)),
    ((1, 4, 8, 8), lambda m, x: _f(m).max_pool2d(x, 2, padding=-1)),
    ((1, 4, 8, 8), lambda m, x: _f(m).max_pool2d(x, (2, 2, 2))),
    ((1, 4, 8, 8), lambda m, x: _f(m).max_pool2d(x, 2, stride=(1, 1, 1))),
    ((8,), lambda m, x: _f(m).max_pool2d(x, 2)),
    ((2, 0, 8, 8), lambda m, x: _f(m).max_pool2d(x, 2)),
    ((8,), lambda m, x: _f(m).max_pool1d(x, 2)),
    ((1, 1, 2), lambda m, x: _f(m).max_pool1d(x, 3)),
    ((1, 2, 8), lambda m, x: _f(m).max_pool1d(x, 3, padding=2)),
    ((1, 2, 8), lambda m, x: _f(m).max_pool1d(x, (2, 2))),
    ((1, 4, 8, 8), lambda m, x: _f(m).avg_pool2d(x, 3, padding=2)),
    ((1, 4, 8, 8), lambda m, x: _f(m).avg_pool2d(x, 9)),
    ((1, 4, 8, 8), lambda m, x: _f(m).avg_pool2d(x, 2, divisor_override=0)),
    ((1, 4, 8, 8), lambda m, x: _f(m).avg_pool2d(x, (2, 2, 2))),
    ((8, 8), lambda m, x: _f(m).avg_pool2d(x, 2)),
    ((2, 2, 2, 8, 8), lambda m, x: _f(m).avg_pool2d(x, 2)),
    ((1, 1, 2), lambda m, x: _f(m).avg_pool1d(x, 3)),
    ((2, 1, 2, 8), lambda m, x: _f(m).avg_pool1d(x, 2)),
    ((8,), lambda m, x: _f(m).adaptive_avg_pool2d(x, 2)),
    ((1, 4, 8, 8), lambda m, x: _f(m).adaptive_avg_pool2d(x, (2, 2, 2))),
    ((1, 2, 0, 8), lambda m, x: _f(m).adaptive_avg_pool2d(x, 2)),
    ((8,), lambda m, x: _f(m).adaptive_max_pool2d(x, 2)),
    ((1, 4, 8, 8), lambda m, x: _f(m).adaptive_avg_pool1d(x, 2)),
    ((1, 2, 8), lambda m, x: _f(m).adaptive_avg_pool1d(x, (2, 2))),
    ((1, 4, 8, 8), lambda m, x: _f(m).max_unpool2d(*_f(m).max_pool2d(x, 2, return_indices=True), 2,
                                                   output_size=(20, 20))),
    ((1, 2, 3, 3), lambda m, x: _f(m).max_unpool2d(x, m.full((1, 2, 3, 3), 100), 2)),
    ((1, 2, 3, 3), lambda m, x: _f(m).max_unpool2d(x, m.zeros(1, 2, 3, 2, dtype=m.int64), 2)),
    ((1, 2, 3, 3), lambda m, x: _f(m).max_unpool2d(x, m.zeros(1, 2, 3, 3), 2)),
    ((3, 3), lambda m, x: _f(m).max_unpool2d(x, m.zeros(3, 3, dtype=m.int64), 2)),
    ((2, 3, 8), lambda m, x: _f(m).unfold(x[0], 2)),
    ((1, 4, 8, 8), lambda m, x: _f(m).unfold(x, 9)),
    ((2, 12, 10), lambda m, x: _f(m).fold(x, (4, 4), 2)),
    ((2, 11, 9), lambda m, x: _f(m).fold(x, (4, 4), 2)),
]


@pytest.mark.parametrize("xs, fn", POOL_ERRORS, ids=[str(i) for i in range(len(POOL_ERRORS))])
def test_pool_errors(xs, fn):
    assert_same_error(fn, [np.random.default_rng(0).standard_normal(xs)])


PAD_ERRORS = [
    ((2, 3, 8, 8), (1, 1), "reflect"), ((2, 3, 8), (1, 1, 1, 1, 1, 1), "replicate"), ((3, 8), (1, 2, 1, 0), "circular"),
    ((1, 2, 4, 5), (0, 0, 4, 0), "reflect"), ((1, 2, 4, 5), (5, 0, 0, 0), "reflect"), ((1, 2, 4), (4, 1), "reflect"),
    ((1, 2, 4), (-2, -2), "replicate"), ((1, 2, 4, 5), (11, 0, 0, 0), "circular"), ((2, 0, 4), (1, 1), "reflect"),
    ((2, 3, 8, 8), (1, 1), "wrap"),
]


@pytest.mark.parametrize("xs, pad, mode", PAD_ERRORS, ids=[str(i) for i in range(len(PAD_ERRORS))])
def test_pad_errors(xs, pad, mode):
    assert_same_error(lambda m, x: _f(m).pad(x, pad, mode=mode), [np.zeros(xs)])


def test_pad_value_with_non_constant_mode():
    assert_same_error(lambda m, x: _f(m).pad(x, (1, 1), mode="reflect", value=1.0), [np.zeros((2, 3, 4))])
    # value=0 (or None) is accepted, as in PyTorch
    assert_same(_f(G).pad(G.ones(1, 2, 3), (1, 1), mode="reflect", value=0.0),
                _f(torch).pad(torch.ones(1, 2, 3), (1, 1), mode="reflect", value=0.0))


def test_padding_grad_fn_names():
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    for pad, mode in (((1, 1), "reflect"), ((1, 1, 1, 1), "reflect"), ((1, 2), "replicate"),
                      ((1, 1, 1, 1), "replicate"), ((1, 1, 1, 1), "circular")):
        xin = x if len(pad) == 4 else x[0]
        (xg,), (xt,) = tensors(G, [xin], requires_grad=True), tensors(torch, [xin], requires_grad=True)
        name_g = _f(G).pad(xg, pad, mode=mode).grad_fn.name()
        name_t = _f(torch).pad(xt, pad, mode=mode).grad_fn.name()
        assert name_g == name_t.replace("torch::autograd::", ""), (mode, name_g, name_t)


def test_conv_same_padding_warns_like_torch():
    """PyTorch's warning text (PyTorch itself warns once per process, so only glasstorch is run here)."""
    x, w = np.zeros((1, 2, 5, 5)), np.zeros((3, 2, 2, 2))
    for m in (G,):
        xs = tensors(m, [x, w])
        with pytest.warns(UserWarning, match="Using padding='same' with even kernel lengths"):
            _f(m).conv2d(*xs, padding="same")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            _f(m).conv2d(xs[0], xs[1][:, :, :1, :1], padding="same")  # an odd kernel pads evenly: no warning


def test_max_pool_keeps_the_first_of_signed_zeros():
    """+0 and -0 compare equal: the window keeps whichever comes first, sign included."""
    for a in (np.array([[[[0.0, -0.0], [-0.0, 0.0]]]]), np.array([[[[-0.0, 0.0], [0.0, -0.0]]]])):
        ours = G.nn.functional.max_pool2d(G.from_numpy(a), 2).numpy()
        theirs = torch.nn.functional.max_pool2d(torch.from_numpy(a), 2).numpy()
        assert ours == theirs and np.signbit(ours) == np.signbit(theirs)


def test_top_level_functions():
    """torch.conv2d, torch.max_pool2d, torch.convolution, ... are the functional forms."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    for fn in (lambda m, x, w: m.conv2d(x, w, None, 1, 1), lambda m, x, w: m.conv1d(x[:, :, 0], w[:, :, 0]),
               lambda m, x, w: m.conv_transpose2d(x, w.transpose(0, 1)), lambda m, x, w: m.max_pool2d(x, 2),
               lambda m, x, w: m.max_pool1d(x[0], 3, 2), lambda m, x, w: m.avg_pool1d(x[0], 2),
               lambda m, x, w: m.adaptive_avg_pool1d(x[0], 4), lambda m, x, w: m.adaptive_max_pool1d(x[0], 4),
               lambda m, x, w: m.convolution(x, w, None, [2, 1], [0, 1], [1, 1], False, [0, 0], 1)):
        assert_same(fn(G, *tensors(G, [x, w])), fn(torch, *tensors(torch, [x, w])), TOL64)


@pytest.mark.parametrize("fn, w_shape", [
    (lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, stride=2, padding=(1, 0), dilation=(1, 2)), (3, 4, 3, 2)),
    (lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, padding="same", groups=2), (6, 2, 2, 3)),
    (lambda m, x, w, b: m.nn.functional.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
     (4, 3, 3, 2)),
], ids=["conv2d", "conv2d_same_groups", "conv_transpose2d"])
def test_double_backward_matches_torch(fn, w_shape):
    """A gradient penalty: the gradient (taken with create_graph) of the input gradient's squared norm."""
    rng = np.random.default_rng(0)
    out_ch = w_shape[1] if "conv_transpose2d" in fn.__code__.co_names else w_shape[0]
    arrays = [rng.standard_normal((2, 4, 7, 7)), rng.standard_normal(w_shape), rng.standard_normal(out_ch)]
    results = []
    for m in (G, torch):
        x, w, b = tensors(m, arrays, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # padding='same' with an even kernel
            y = fn(m, x, w, b)
        (gx,) = m.autograd.grad((y * y).sum(), x, create_graph=True)
        (gx * gx).sum().backward()
        results.append((gx, x.grad, w.grad, b.grad))
    assert_same(results[0], results[1], TOL64)


def test_mnist_cnn_trains_like_torch():
    """PyTorch's MNIST example network, same weights, same batches: losses and weights after SGD steps
    agree to float64 rounding (dropout off: its masks come from another generator)."""
    def net(m):
        nn = m.nn
        return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 8, 3), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Dropout(0.25), nn.Flatten(), nn.Linear(8 * 12 * 12, 16), nn.ReLU(), nn.Dropout(0.5),
                             nn.Linear(16, 10), nn.LogSoftmax(dim=1)).double().eval()

    ours, theirs = net(G), net(torch)
    _copy_params(ours, theirs)
    opt_g = G.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(0)
    for _ in range(2):
        x, y = rng.standard_normal((4, 1, 28, 28)), rng.integers(0, 10, 4)
        losses = []
        for m, model, opt in ((G, ours, opt_g), (torch, theirs, opt_t)):
            loss = m.nn.functional.nll_loss(model(m.from_numpy(x)), m.from_numpy(y))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert losses[0] == pytest.approx(losses[1], rel=1e-12)
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), **TOL64)
