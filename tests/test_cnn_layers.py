"""The non-convolution layers of image programs, against PyTorch: normalisation modules (batch, sync
batch, group, instance, local response, RMS) with their running statistics and train/eval behaviour,
the dropout variants' random masks (their statistics: the bits differ from PyTorch's generator),
Upsample and interpolate's options and errors, grid_sample's errors and warnings, pixel shuffle,
Flatten/Unflatten, Softmax2d, DataParallel, torch.accelerator, torch.backends.cudnn and the
torch.nn.modules.<file> import paths.

The functional forms' values and gradients are in the op table (tests/optable_norm.py).
"""
from __future__ import annotations

import importlib
import pickle
import warnings

import numpy as np
import pytest
import torch

import glasstorch
from _compare import assert_same, assert_same_error, tensors

G = glasstorch
TOL64 = dict(rtol=1e-10, atol=1e-12)


def _both(fn):
    """fn(module) on glasstorch and on torch, each starting from the same seed."""
    out = []
    for m in (G, torch):
        m.manual_seed(0)
        out.append(fn(m))
    return out


def _as_numpy(values) -> list:
    return [v.detach().numpy() if hasattr(v, "detach") else v for v in values]


def _assert_all_close(ours, theirs, tol=TOL64):
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(_as_numpy(ours), _as_numpy(theirs))):
        if isinstance(b, np.ndarray):
            np.testing.assert_allclose(a, b, err_msg=f"item {i}", **tol)
        else:
            assert a == b, f"item {i}: {a!r} != {b!r}"


# ---- normalisation modules: several steps of training, then eval ----------------------------------------
def _run_norm(m, cls: str, args: tuple, kwargs: dict, shape: tuple, steps: int = 3):
    """Outputs and input/parameter gradients of `steps` training steps and one eval step, and the final
    state_dict (names and values); parameters are set to fixed non-trivial values first."""
    layer = getattr(m.nn, cls)(*args, **kwargs).double()
    with m.no_grad():
        for k, p in enumerate(layer.parameters()):
            p.copy_(m.linspace(0.5 + k, 1.5 - k, p.numel(), dtype=m.float64).reshape(p.shape))
    rng = np.random.default_rng(0)
    results = []
    for step in range(steps + 1):
        layer.train(step < steps)
        x = m.from_numpy(rng.standard_normal(shape) * 2 + 1).requires_grad_(True)
        y = layer(x)
        y.backward(m.from_numpy(rng.standard_normal(tuple(y.shape))))
        results += [y, x.grad] + [p.grad.clone() for p in layer.parameters()]
        layer.zero_grad()
    state = layer.state_dict()
    return results + list(state.values()) + [list(state), repr(layer)]


NORM_CASES = [
    ("BatchNorm2d", (3,), {}, (4, 3, 2, 2)),
    ("BatchNorm2d", (3,), dict(momentum=None), (4, 3, 2, 2)),
    ("BatchNorm2d", (3,), dict(affine=False, eps=1e-3), (4, 3, 2, 2)),
    ("BatchNorm2d", (3,), dict(track_running_stats=False), (4, 3, 2, 2)),
    ("BatchNorm2d", (3,), dict(bias=False, momentum=0.5), (4, 3, 2, 2)),
    ("BatchNorm3d", (3,), {}, (2, 3, 2, 2, 2)),
    ("BatchNorm3d", (3,), dict(momentum=None, affine=False), (2, 3, 2, 2, 2)),
    ("BatchNorm3d", (3,), dict(track_running_stats=False, affine=False), (2, 3, 2, 1, 2)),
    ("BatchNorm1d", (3,), {}, (5, 3)),
    ("GroupNorm", (2, 4), {}, (3, 4, 3, 2)),
    ("GroupNorm", (3, 6), dict(affine=False, eps=1e-3), (2, 6, 5)),
    ("GroupNorm", (1, 4), dict(bias=False), (2, 4, 3, 3, 2)),
    ("InstanceNorm1d", (3,), {}, (2, 3, 5)),
    ("InstanceNorm1d", (3,), dict(affine=True, track_running_stats=True), (2, 3, 5)),
    ("InstanceNorm1d", (3,), dict(track_running_stats=True, momentum=None), (2, 3, 5)),
    ("InstanceNorm2d", (3,), dict(affine=True), (2, 3, 4, 3)),
    ("InstanceNorm2d", (3,), dict(track_running_stats=True, momentum=0.4), (3, 4, 2)),  # unbatched (C, H, W)
    ("InstanceNorm3d", (2,), dict(affine=True, track_running_stats=True), (2, 2, 2, 3, 2)),
    ("LocalResponseNorm", (3,), dict(alpha=0.2, beta=0.6, k=2.0), (2, 5, 3, 2)),
    ("SyncBatchNorm", (3,), {}, (4, 3, 2, 2)),
    ("SyncBatchNorm", (3,), dict(momentum=None, affine=False), (4, 3, 5)),
    ("RMSNorm", ((2, 3),), {}, (4, 2, 3)),
]


@pytest.mark.parametrize("cls, args, kwargs, shape", NORM_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(NORM_CASES)])
def test_norm_modules_train_then_eval(cls, args, kwargs, shape):
    """Outputs, gradients (input and parameters), running statistics, num_batches_tracked, state_dict
    keys and repr all match PyTorch's over training steps and an eval step."""
    ours, theirs = _both(lambda m: _run_norm(m, cls, args, kwargs, shape))
    _assert_all_close(ours, theirs)


def test_batchnorm_eval_without_running_stats_uses_batch_statistics():
    def run(m):
        bn = m.nn.BatchNorm2d(2, track_running_stats=False).double().eval()
        x = m.from_numpy(np.arange(16.0).reshape(2, 2, 2, 2) ** 1.5)
        return bn(x), bn.running_mean, bn.num_batches_tracked

    ours, theirs = _both(run)
    _assert_all_close(ours[:1], theirs[:1])
    assert ours[1] is None and ours[2] is None and theirs[1] is None


def test_batchnorm_float32_running_stats_stay_float32():
    ours, theirs = _both(lambda m: [v for v in (lambda bn: (bn(m.ones(4, 2, 3, 3) * m.arange(4.0).reshape(4, 1, 1, 1)),
                                                             *bn.state_dict().values()))(m.nn.BatchNorm2d(2))])
    for o, t in zip(ours, theirs):
        assert_same(o.detach(), t.detach(), what="batchnorm float32")


def test_norm_module_errors():
    for fn, arrays in [
        (lambda m, x: m.nn.BatchNorm2d(3)(x), [np.zeros((2, 3, 4))]),
        (lambda m, x: m.nn.BatchNorm3d(3)(x), [np.zeros((2, 3, 4, 4))]),
        (lambda m, x: m.nn.BatchNorm2d(3)(x), [np.zeros((1, 3, 1, 1))]),
        (lambda m, x: m.nn.InstanceNorm2d(3)(x), [np.zeros((2, 3, 4, 4, 4))]),
        (lambda m, x: m.nn.InstanceNorm1d(3)(x), [np.zeros((2,))]),
        (lambda m, x: m.nn.InstanceNorm1d(3, affine=True)(x), [np.zeros((2, 4, 5))]),
        (lambda m, x: m.nn.InstanceNorm1d(4)(x), [np.zeros((2, 4, 1))]),
        (lambda m, x: m.nn.GroupNorm(2, 4)(x), [np.zeros((1, 4))]),
        (lambda m, x: m.nn.functional.group_norm(x, 3), [np.zeros((2, 4, 3, 3))]),
        (lambda m, x: m.nn.functional.group_norm(x, 2), [np.zeros((4,))]),
        (lambda m, x: m.nn.functional.group_norm(x, 2, m.ones(3, dtype=m.float64)), [np.zeros((2, 4, 3))]),
        (lambda m, x: m.nn.functional.group_norm(x, 2, None, m.ones(5, dtype=m.float64)), [np.zeros((2, 4, 3))]),
        (lambda m, x: m.nn.functional.group_norm(x, 2, m.ones(4)), [np.zeros((2, 4, 3))]),
        (lambda m, x: m.nn.functional.group_norm(x.long(), 2), [np.zeros((2, 4, 3))]),
        (lambda m, x: m.nn.functional.instance_norm(x), [np.zeros((1, 4, 1))]),
        (lambda m, x: m.nn.LocalResponseNorm(2)(x), [np.zeros((2, 3))]),
        (lambda m, x: m.nn.Softmax2d()(x), [np.zeros((2, 3))]),
        (lambda m, x: m.nn.SyncBatchNorm(3)(x), [np.zeros((3,))]),
        (lambda m, x: m.nn.SyncBatchNorm(0)(x), [np.zeros((2, 0, 3))]),
        (lambda m, x: m.nn.functional.rms_norm(x, (3,)), [np.zeros((2, 4))]),
        (lambda m, x: m.nn.functional.rms_norm(x, (2, 3, 4)), [np.zeros((3, 4))]),
        (lambda m, x: m.nn.functional.rms_norm(x, (4,), m.ones(3, dtype=m.float64)), [np.zeros((3, 4))]),
        (lambda m, x: m.nn.functional.rms_norm(x, 4), [np.zeros((3, 4))]),
        (lambda m, x: m.nn.functional.rms_norm(x.long(), (4,)), [np.zeros((3, 4))]),
    ]:
        assert_same_error(fn, arrays)
    for make in (lambda m: m.nn.GroupNorm(3, 4), lambda m: m.nn.GroupNorm(0, 4)):
        assert_same_error(lambda m: make(m))


def test_instance_norm_feature_mismatch_warns_without_affine():
    for m in (G, torch):
        with pytest.warns(UserWarning, match=r"^input's size at dim=1 does not match num_features\. You can silence"):
            out = m.nn.InstanceNorm1d(3)(m.ones(2, 4, 5))
        assert tuple(out.shape) == (2, 4, 5)


def test_norm_reprs():
    for make in (lambda m: m.nn.GroupNorm(2, 4), lambda m: m.nn.GroupNorm(2, 4, affine=False, eps=1e-3),
                 lambda m: m.nn.InstanceNorm2d(3), lambda m: m.nn.InstanceNorm3d(3, affine=True, bias=False),
                 lambda m: m.nn.InstanceNorm1d(3, affine=True, track_running_stats=True, momentum=None),
                 lambda m: m.nn.LocalResponseNorm(2), lambda m: m.nn.LocalResponseNorm(3, 1e-3, 0.5, 2.0),
                 lambda m: m.nn.BatchNorm3d(4, momentum=None, affine=False), lambda m: m.nn.Softmax2d(),
                 lambda m: m.nn.SyncBatchNorm(3, bias=False), lambda m: m.nn.RMSNorm(4),
                 lambda m: m.nn.RMSNorm([3, 4], eps=1e-3, elementwise_affine=False),
                 lambda m: m.nn.Sequential(m.nn.BatchNorm2d(2), m.nn.GroupNorm(1, 2), m.nn.Dropout2d(0.1))):
        assert repr(make(G)) == repr(make(torch))


def test_convert_sync_batchnorm_shares_parameters():
    def build(m):
        net = m.nn.Sequential(m.nn.Linear(3, 4), m.nn.BatchNorm1d(4),
                              m.nn.Sequential(m.nn.BatchNorm1d(4, affine=False, track_running_stats=False)))
        net[1].eval()
        return net, m.nn.SyncBatchNorm.convert_sync_batchnorm(net)

    (net, ours), (_, theirs) = build(G), build(torch)
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    assert ours[1].weight is net[1].weight and ours[1].running_mean is net[1].running_mean
    assert not ours[1].training and ours[0] is net[0]


def test_instance_norm_state_dict_round_trip_with_torch():
    """A checkpoint of PyTorch's InstanceNorm2d (running stats on) loads into glasstorch's, and back."""
    theirs = torch.nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    theirs(torch.randn(2, 3, 4, 4))
    ours = G.nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    ours.load_state_dict({k: G.from_numpy(v.numpy().copy()) for k, v in theirs.state_dict().items()})
    for (k, a), (k2, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert k == k2
        np.testing.assert_array_equal(a.numpy(), b.numpy())


# ---- dropout: train/eval, scaling, shapes and the statistics of the masks ---------------------------------
# A fraction of n Bernoulli(p) draws has standard deviation sqrt(p (1 - p) / n); the tolerances below
# are 5 of those, so a correct implementation fails about once in 3 million runs (and the seed is fixed).
def _five_sigma(p: float, n: int) -> float:
    return 5 * (p * (1 - p) / n) ** 0.5


@pytest.mark.parametrize("name, shape, lead", [("Dropout1d", (50, 40, 7), 2), ("Dropout1d", (400, 7), 1),
                                               ("Dropout2d", (50, 40, 3, 2), 2), ("Dropout3d", (50, 40, 2, 2, 2), 2),
                                               ("Dropout3d", (400, 2, 3, 2), 1)])
def test_channel_dropout_drops_whole_channels(name, shape, lead):
    """`lead` leading dims name a channel (N, C, or just C without a batch dim)."""
    p = 0.3
    layer = getattr(G.nn, name)(p)
    x = G.rand(*shape, dtype=G.float64) + 0.5  # no zeros of its own
    x.requires_grad_(True)
    y = layer(x)
    assert y.shape == x.shape and y.grad_fn.name() == ("MulBackward0" if lead == 2 else "SqueezeBackward1")
    ratio = (y / x).detach().numpy()
    per_channel = ratio.reshape(int(np.prod(shape[:lead])), -1)
    # every channel is either all dropped or all kept and scaled by 1 / (1 - p)
    np.testing.assert_allclose(per_channel, np.repeat(per_channel[:, :1], per_channel.shape[1], 1), rtol=1e-12)
    np.testing.assert_allclose(np.unique(np.round(per_channel[:, 0], 12)), [0.0, 1 / (1 - p)], rtol=1e-12)
    dropped = float((per_channel[:, 0] == 0).mean())
    assert abs(dropped - p) < _five_sigma(p, per_channel.shape[0]), dropped
    y.sum().backward()  # the gradient is the same mask and scale
    np.testing.assert_allclose(x.grad.numpy(), ratio, rtol=1e-12)
    layer.eval()
    np.testing.assert_array_equal(layer(x).detach().numpy(), x.detach().numpy())


def test_dropout_identity_cases_match_torch():
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4))
    for fn in (lambda m, a: m.nn.functional.dropout2d(a, 0.5, training=False),
               lambda m, a: m.nn.functional.dropout3d(a[None], 0.0),
               lambda m, a: m.nn.functional.alpha_dropout(a, 0.5),  # training=False by default
               lambda m, a: m.nn.functional.feature_alpha_dropout(a, 0.9, False),
               lambda m, a: m.nn.functional.dropout2d(a, 1.0),
               lambda m, a: m.nn.functional.alpha_dropout(a, 1.0, True),
               lambda m, a: m.nn.AlphaDropout(0.3).eval()(a)):
        assert_same(fn(G, *tensors(G, [x])), fn(torch, *tensors(torch, [x])))
    xg, xt = G.from_numpy(x), torch.from_numpy(x)
    assert G.nn.functional.dropout2d(xg, 0.5, False) is xg and torch.nn.functional.dropout2d(xt, 0.5, False) is xt


@pytest.mark.parametrize("feature", [False, True])
def test_alpha_dropout_statistics(feature):
    """Kept units become a * x + c and dropped ones a * (-alpha') + c, with a and c chosen so that a
    standard normal input keeps mean 0 and variance 1 (Klambauer et al., SELU)."""
    p, saturation = 0.2, 1.7580993408473766
    a = ((1 - p) * (1 + p * saturation ** 2)) ** -0.5
    c = a * saturation * p
    shape = (400, 500) if not feature else (2000, 100, 1)
    m = G.nn.FeatureAlphaDropout(p) if feature else G.nn.AlphaDropout(p)
    x = G.randn(*shape, dtype=G.float64)
    y = m(x).numpy()
    xd = x.numpy()
    kept = np.isclose(y, a * xd + c, rtol=0, atol=1e-12)
    dropped = np.isclose(y, -a * saturation + c, rtol=0, atol=1e-12)
    assert (kept | dropped).all()
    n = dropped.size if not feature else dropped.shape[0] * dropped.shape[1]
    assert abs(dropped.mean() - p) < _five_sigma(p, n)
    if feature:  # one draw per channel
        assert (dropped == dropped[..., :1]).all()
    else:
        # mean and standard deviation of the output: 0 and 1 within 5 standard errors (~5 / sqrt(n))
        assert abs(y.mean()) < 5 / np.sqrt(y.size) * 1.5
        assert abs(y.std() - 1) < 5 / np.sqrt(y.size) * 1.5


def test_dropout_inplace_and_errors():
    x = G.ones(4, 3, 5, dtype=G.float64)
    y = G.nn.Dropout1d(0.5, inplace=True)(x)
    assert y is x and set(np.unique(x.numpy())) <= {0.0, 2.0}
    for fn, arrays in [(lambda m, a: m.nn.functional.dropout1d(a, 0.5), [np.zeros((2, 3, 4, 5))]),
                       (lambda m, a: m.nn.functional.dropout2d(a, 1.5), [np.zeros((2, 3, 4, 5))]),
                       (lambda m, a: m.nn.functional.alpha_dropout(a, -0.1, True), [np.zeros((2, 3))]),
                       (lambda m, a: m.nn.functional.feature_alpha_dropout(a, 0.5, True), [np.zeros((3,))])]:
        assert_same_error(fn, arrays)
    assert_same_error(lambda m: m.nn.Dropout2d(2.0))
    for m in (G, torch):
        with pytest.warns(UserWarning, match=r"^dropout2d: Received a 5-D input to dropout2d, which is deprecated"):
            m.nn.functional.dropout2d(m.ones(2, 3, 2, 2, 2), 0.5)
        with pytest.warns(UserWarning, match=r"^dropout2d: Received a 3D input to dropout2d and assuming"):
            m.nn.functional.dropout2d(m.ones(2, 3, 2), 0.5)
        with pytest.warns(UserWarning, match=r"^dropout3d: Received a 3-D input to dropout3d"):
            m.nn.functional.dropout3d(m.ones(2, 3, 2), 0.5)


def test_dropout_reprs():
    for name in ("Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"):
        assert repr(getattr(G.nn, name)()) == repr(getattr(torch.nn, name)())
        assert repr(getattr(G.nn, name)(0.2, True)) == repr(getattr(torch.nn, name)(0.2, True))


# ---- interpolate and Upsample ---------------------------------------------------------------------
def test_interpolate_many_sizes_against_torch():
    """Every mode over a grid of sizes and scale factors (awkward fractions included, where floor() in
    float32 decides the source pixel), forward and backward in float64."""
    rng = np.random.default_rng(0)
    cases = []
    for mode, nd in [("nearest", 1), ("nearest", 2), ("nearest", 3), ("nearest-exact", 1), ("nearest-exact", 2),
                     ("linear", 1), ("bilinear", 2), ("bicubic", 2), ("trilinear", 3)]:
        for size_in in (3, 7):
            for option in (dict(scale_factor=1.1), dict(scale_factor=1 / 3), dict(scale_factor=2.5),
                           dict(scale_factor=0.7, recompute_scale_factor=True), dict(size=5), dict(size=1)):
                corners = [None] if mode.startswith("nearest") else [False, True]
                cases += [((2, 1) + (size_in,) * nd, dict(option, mode=mode, align_corners=c)) for c in corners]
    for shape, kw in cases:
        a = rng.standard_normal(shape)
        xg, xt = tensors(G, [a], requires_grad=True)[0], tensors(torch, [a], requires_grad=True)[0]
        yg, yt = G.nn.functional.interpolate(xg, **kw), torch.nn.functional.interpolate(xt, **kw)
        assert_same(yg, yt, what=str(kw))
        assert yg.grad_fn.name() == yt.grad_fn.name()
        up = rng.standard_normal(tuple(yt.shape))
        yg.backward(G.from_numpy(up.copy()))
        yt.backward(torch.from_numpy(up.copy()))
        assert_same(xg.grad, xt.grad, what=f"grad {shape} {kw}")


def test_interpolate_antialias_against_torch():
    """Antialiased bilinear/bicubic over shrinking and growing sizes, forward and backward in float64.

    Left out: outputs one pixel wide but more than one tall, where PyTorch 2.13's separable kernel
    copies the first row's value into every row (8x6 -> 2x1 gives two equal rows), a bug of its own."""
    rng = np.random.default_rng(5)
    for mode in ("bilinear", "bicubic"):
        for shape in ((5, 5), (8, 6), (13, 9)):
            for option in (dict(size=(3, 4)), dict(size=(1, 1)), dict(size=(7, 11)), dict(scale_factor=0.5),
                           dict(scale_factor=(0.4, 2.2)), dict(scale_factor=0.3), dict(size=shape)):
                for corners in (False, True):
                    kw = dict(option, mode=mode, antialias=True, align_corners=corners)
                    a = rng.standard_normal((2, 2) + shape)
                    xg, xt = tensors(G, [a], requires_grad=True)[0], tensors(torch, [a], requires_grad=True)[0]
                    yt = torch.nn.functional.interpolate(xt, **kw)
                    if yt.shape[-1] == 1 and yt.shape[-2] > 1:
                        continue
                    yg = G.nn.functional.interpolate(xg, **kw)
                    assert_same(yg, yt, what=str(kw))
                    assert yg.grad_fn.name() == yt.grad_fn.name()
                    up = rng.standard_normal(tuple(yt.shape))
                    yg.backward(G.from_numpy(up.copy()))
                    yt.backward(torch.from_numpy(up.copy()))
                    assert_same(xg.grad, xt.grad, what=f"grad {shape} {kw}")


def test_interpolate_backward_accumulates_repeated_indices():
    """Upsampling by 3 reads each input pixel 9 times (nearest) or from several outputs (bilinear): the
    gradient must add them all, not keep the last write."""
    x = G.ones(1, 1, 2, 2, requires_grad=True)
    G.nn.functional.interpolate(x, scale_factor=3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((1, 1, 2, 2), 9.0))
    x.grad = None
    G.nn.functional.interpolate(x, size=(5, 5), mode="bilinear", align_corners=True).sum().backward()
    assert x.grad.numpy().sum() == pytest.approx(25.0)


def test_interpolate_errors():
    a4 = [np.zeros((1, 1, 3, 3))]
    for fn in [lambda m, x: m.nn.functional.interpolate(x, size=2, scale_factor=2),
               lambda m, x: m.nn.functional.interpolate(x),
               lambda m, x: m.nn.functional.interpolate(x, size=(2, 2, 2)),
               lambda m, x: m.nn.functional.interpolate(x, scale_factor=(2, 2, 2)),
               lambda m, x: m.nn.functional.interpolate(x, size=(2, 2.5)),
               lambda m, x: m.nn.functional.interpolate(x, size=4, align_corners=True),
               lambda m, x: m.nn.functional.interpolate(x, size=4, mode="bilinear", recompute_scale_factor=True),
               lambda m, x: m.nn.functional.interpolate(x, size=4, mode="linear"),
               lambda m, x: m.nn.functional.interpolate(x, size=4, mode="trilinear"),
               lambda m, x: m.nn.functional.interpolate(x, size=4, mode="nearest", antialias=True),
               lambda m, x: m.nn.functional.interpolate(x.long(), size=4, mode="bicubic", antialias=True),
               lambda m, x: m.nn.functional.interpolate(x.half(), size=2, mode="bilinear", antialias=True),
               lambda m, x: m.nn.functional.interpolate(x, size=4, mode="cubic"),
               lambda m, x: m.nn.functional.interpolate(x, size=(0, 2)),
               lambda m, x: m.nn.functional.interpolate(x, size=(0, 2), mode="bicubic"),
               lambda m, x: m.nn.functional.interpolate(x[0, 0], size=2),
               lambda m, x: m.nn.functional.interpolate(x[0], size=0, mode="linear"),
               lambda m, x: m.nn.functional.interpolate(x[:, :0], size=2),
               lambda m, x: m.nn.functional.interpolate(x.long(), size=2, mode="bilinear"),
               lambda m, x: m.nn.functional.interpolate(x[0].long(), size=2, mode="linear")]:
        assert_same_error(fn, a4)


def test_interpolate_keeps_dtype_and_empty_batch():
    x = np.random.default_rng(1).standard_normal((0, 2, 3, 3))
    for kw in (dict(scale_factor=2), dict(size=(4, 5), mode="bicubic")):
        assert_same(G.nn.functional.interpolate(G.from_numpy(x), **kw),
                    torch.nn.functional.interpolate(torch.from_numpy(x), **kw))
    u8 = (np.arange(18).reshape(1, 2, 3, 3) * 13 % 256).astype(np.uint8)
    assert_same(G.nn.functional.interpolate(G.from_numpy(u8), scale_factor=1.5),
                torch.nn.functional.interpolate(torch.from_numpy(u8), scale_factor=1.5))


def test_deprecated_upsample_functions_warn_and_match():
    x = np.random.default_rng(2).standard_normal((1, 2, 3, 3))
    for name, kw in (("upsample", dict(scale_factor=2, mode="bilinear")), ("upsample_nearest", dict(size=5)),
                     ("upsample_bilinear", dict(scale_factor=2))):
        results = []
        for m in (G, torch):
            with pytest.warns(UserWarning, match=rf"^`nn.functional.{name}` is deprecated"):
                results.append(getattr(m.nn.functional, name)(m.from_numpy(x.copy()), **kw))
        assert_same(*results)


def test_upsample_modules_repr_and_pickle():
    for make in (lambda m: m.nn.Upsample(scale_factor=2), lambda m: m.nn.Upsample(size=(3, 4), mode="bilinear"),
                 lambda m: m.nn.Upsample(scale_factor=(2, 3), mode="bicubic", align_corners=True),
                 lambda m: m.nn.UpsamplingNearest2d(scale_factor=2), lambda m: m.nn.UpsamplingBilinear2d(size=3),
                 lambda m: m.nn.PixelShuffle(2), lambda m: m.nn.PixelUnshuffle(3)):
        ours, theirs = make(G), make(torch)
        assert repr(ours) == repr(theirs)
        assert repr(pickle.loads(pickle.dumps(ours))) == repr(theirs)
    up = G.nn.Upsample(scale_factor=2)
    assert up.scale_factor == 2.0 and type(up.scale_factor) is float and up.name == "Upsample"


def test_pixel_shuffle_errors_and_round_trip():
    for fn, shape in [(lambda m, x: m.nn.functional.pixel_shuffle(x, 2), (2, 3, 4, 4)),
                      (lambda m, x: m.nn.functional.pixel_shuffle(x, 2), (3, 4)),
                      (lambda m, x: m.nn.functional.pixel_shuffle(x, 0), (2, 4, 4, 4)),
                      (lambda m, x: m.nn.functional.pixel_unshuffle(x, 2), (2, 3, 5, 4)),
                      (lambda m, x: m.nn.functional.pixel_unshuffle(x, 2), (2, 3, 4, 5)),
                      (lambda m, x: m.nn.functional.pixel_unshuffle(x, -1), (2, 3, 4, 4))]:
        assert_same_error(fn, [np.zeros(shape)])
    for fn, shape in [(lambda m, x: m.nn.functional.channel_shuffle(x, 4), (2, 6, 3)),
                      (lambda m, x: m.nn.functional.channel_shuffle(x, 0), (2, 6, 3)),
                      (lambda m, x: m.nn.ChannelShuffle(2)(x), (6, 2))]:
        assert_same_error(fn, [np.zeros(shape)])
    assert repr(G.nn.ChannelShuffle(3)) == repr(torch.nn.ChannelShuffle(3))
    x = G.randn(2, 12, 3, 5)
    assert G.equal(G.nn.functional.channel_shuffle(G.nn.functional.channel_shuffle(x, 3), 4), x)
    assert G.equal(G.nn.functional.pixel_unshuffle(G.nn.functional.pixel_shuffle(x, 2), 2), x)
    y = G.nn.functional.pixel_shuffle(x, 1)
    y.add_(1)  # a copy, never a view of the input
    assert not G.equal(x, y)


def test_grid_sample_and_affine_grid_errors_and_warnings():
    x, grid, theta = [np.zeros((2, 3, 4, 5))], np.zeros((2, 3, 4, 2)), np.zeros((2, 2, 3))
    for fn, arrays in [
        (lambda m, a, g: m.nn.functional.grid_sample(a, g, mode="cubic", align_corners=False), x + [grid]),
        (lambda m, a, g: m.nn.functional.grid_sample(a, g, padding_mode="wrap", align_corners=False), x + [grid]),
        (lambda m, a, g: m.nn.functional.grid_sample(a, g.float(), align_corners=False), x + [grid]),
        (lambda m, a, g: m.nn.functional.grid_sample(a, g[0], align_corners=False), x + [grid]),
        (lambda m, a, g: m.nn.functional.grid_sample(a, g[:1], align_corners=False), x + [grid]),
        (lambda m, a, g: m.nn.functional.grid_sample(a, g[..., :1], align_corners=False), x + [grid]),
        (lambda m, t: m.nn.functional.affine_grid(t, (2, 3, 4), align_corners=False), [theta]),
        (lambda m, t: m.nn.functional.affine_grid(t, (2, 3, 4, 4, 4), align_corners=False), [theta]),
        (lambda m, t: m.nn.functional.affine_grid(t[0], (2, 3, 4, 4), align_corners=False), [theta]),
        (lambda m, t: m.nn.functional.affine_grid(t, (2, 3, 0, 4), align_corners=False), [theta]),
        (lambda m, t: m.nn.functional.affine_grid(t.long(), (2, 3, 4, 4), align_corners=False), [theta]),
    ]:
        assert_same_error(fn, arrays)
    for m in (G, torch):
        with pytest.warns(UserWarning, match=r"^Default grid_sample and affine_grid behavior has changed"):
            g = m.nn.functional.affine_grid(m.zeros(1, 2, 3), (1, 1, 2, 2))
        with pytest.warns(UserWarning, match=r"^Default grid_sample and affine_grid behavior has changed"):
            m.nn.functional.grid_sample(m.ones(1, 1, 2, 2), g)
        with pytest.warns(UserWarning, match=r"^Since version 1.3.0, affine_grid behavior has changed"):
            m.nn.functional.affine_grid(m.zeros(1, 2, 3), (1, 1, 1, 2), align_corners=True)


def test_grid_sample_identity_grid_reproduces_the_image():
    """An identity affine grid samples every pixel at its own centre: the output is the input."""
    x = G.randn(2, 3, 5, 4, dtype=G.float64)
    for corners in (False, True):
        grid = G.nn.functional.affine_grid(G.eye(2, 3, dtype=G.float64).expand(2, 2, 3), (2, 3, 5, 4), corners)
        for mode in ("bilinear", "nearest"):
            out = G.nn.functional.grid_sample(x, grid, mode=mode, align_corners=corners)
            np.testing.assert_allclose(out.numpy(), x.numpy(), rtol=1e-12, atol=1e-12)


# ---- Flatten, Unflatten ------------------------------------------------------------------------------
def test_flatten_unflatten_against_torch():
    x = np.random.default_rng(3).standard_normal((2, 3, 4, 5))
    for fn in (lambda m, a: m.nn.Flatten()(a), lambda m, a: m.nn.Flatten(0, 2)(a), lambda m, a: m.nn.Flatten(-2)(a),
               lambda m, a: m.nn.Unflatten(1, (3, 1))(a), lambda m, a: m.nn.Unflatten(-1, [5, 1])(a),
               lambda m, a: m.nn.Sequential(m.nn.Flatten(), m.nn.Unflatten(1, (12, 5)))(a)):
        xs_g, xs_t = tensors(G, [x], requires_grad=True), tensors(torch, [x], requires_grad=True)
        yg, yt = fn(G, *xs_g), fn(torch, *xs_t)
        assert_same(yg, yt)
        yg.sum().backward()
        yt.sum().backward()
        assert_same(xs_g[0].grad, xs_t[0].grad)
    for make in (lambda m: m.nn.Flatten(), lambda m: m.nn.Flatten(0, -2), lambda m: m.nn.Unflatten(1, (2, 3)),
                 lambda m: m.nn.Unflatten(-1, [4, 1])):
        assert repr(make(G)) == repr(make(torch))
    for fn, arrays in [(lambda m, a: m.nn.Unflatten(1, (2, 2))(a), [x]),
                       (lambda m, a: m.nn.Flatten(3, 4)(a), [x])]:
        assert_same_error(fn, arrays, message=False)
    for make in (lambda m: m.nn.Unflatten(1, 3), lambda m: m.nn.Unflatten(1, (2, 1.5))):
        assert_same_error(make)


# ---- DataParallel, accelerator, cudnn flags, import paths ----------------------------------------------
def test_data_parallel_wraps_the_module():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 3))

    def run(m):
        net = m.nn.Sequential(m.nn.Linear(3, 4), m.nn.BatchNorm1d(4), m.nn.ReLU()).double()
        dp = m.nn.DataParallel(net)
        opt = m.optim.SGD(dp.parameters(), lr=0.1)
        out = dp(m.from_numpy(x.copy()))
        out.square().mean().backward()
        opt.step()
        state = dp.state_dict()
        return [out, list(state), repr(dp), dp.module is net, *state.values()]

    ours, theirs = _both(run)
    _assert_all_close(ours[1:4], theirs[1:4])
    if not G.cuda.is_available():  # the same device (the CPU) as torch's CPU build
        assert G.nn.DataParallel(G.nn.Linear(1, 1)).device_ids == []
    # torch's parameters start from its own generator; load ours from theirs to compare numbers
    torch.manual_seed(0)
    tnet = torch.nn.DataParallel(torch.nn.Linear(3, 2).double())
    gnet = G.nn.DataParallel(G.nn.Linear(3, 2).double())
    gnet.load_state_dict({k: G.from_numpy(v.detach().numpy().copy()) for k, v in tnet.state_dict().items()})
    assert_same(gnet(G.from_numpy(x.copy())), tnet(torch.from_numpy(x.copy())))
    if G.cuda.is_available():
        out = G.nn.parallel.data_parallel(gnet.module.cuda(), G.from_numpy(x.copy()))
        assert_same(out.cpu(), tnet(torch.from_numpy(x.copy())))
    else:  # PyTorch's function, unlike its module, refuses to run without an accelerator
        assert_same_error(lambda m: m.nn.parallel.data_parallel((gnet if m is G else tnet).module,
                                                                m.from_numpy(x.copy())))


def test_accelerator_matches_torch_cpu_build():
    if G.cuda.is_available():  # glasstorch then has CUDA where the installed torch (CPU) has none
        assert G.accelerator.is_available() and G.accelerator.current_accelerator() == G.device("cuda")
        assert G.accelerator.device_count() >= 1 and G.accelerator.current_device_index() == 0
        return
    for name in ("is_available", "current_accelerator", "device_count"):
        assert repr(getattr(G.accelerator, name)()) == repr(getattr(torch.accelerator, name)())
    assert G.accelerator.current_accelerator(check_available=True) is None
    for fn in (lambda m: m.accelerator.current_device_index(), lambda m: m.accelerator.synchronize(),
               lambda m: m.accelerator.set_device_index(0), lambda m: m.accelerator.empty_cache()):
        assert_same_error(fn)


def test_backends_cudnn_and_mps_flags():
    cudnn = G.backends.cudnn
    for name in ("enabled", "benchmark", "deterministic", "allow_tf32", "benchmark_limit"):
        assert getattr(cudnn, name) == getattr(torch.backends.cudnn, name), name
    assert G.backends.mps.is_available() is torch.backends.mps.is_available() is False
    assert G.backends.mps.is_built() is False and cudnn.is_available() is False
    saved = cudnn.benchmark, cudnn.deterministic
    try:
        cudnn.benchmark, cudnn.deterministic = True, True
        import glasstorch.backends.cudnn as again

        assert again.benchmark is True and again.deterministic is True
        with cudnn.flags(enabled=False, benchmark=False, deterministic=False):
            assert not cudnn.enabled and not cudnn.benchmark
        assert cudnn.enabled and cudnn.benchmark and cudnn.deterministic
    finally:
        cudnn.benchmark, cudnn.deterministic = saved
    # the device backends are untouched by the settings modules
    assert G.backends.get("cpu").xp is np


MODULE_FILES = ["activation", "batchnorm", "channelshuffle", "container", "dropout", "flatten", "instancenorm", "linear", "loss",
                "module", "normalization", "pixelshuffle", "sparse", "upsampling"]


@pytest.mark.parametrize("file", MODULE_FILES)
def test_nn_modules_import_paths(file):
    """torch.nn.modules.<file>.<Class> is a path programs use; each class glasstorch.nn has lives in the
    file PyTorch keeps it in."""
    ours = importlib.import_module(f"glasstorch.nn.modules.{file}")
    theirs = importlib.import_module(f"torch.nn.modules.{file}")
    names = [n for n in getattr(theirs, "__all__", ()) if hasattr(G.nn, n)]
    assert names or file == "module", file
    for name in names:
        assert getattr(ours, name) is getattr(G.nn, name), f"glasstorch.nn.modules.{file}.{name}"
    if file == "module":
        assert ours.Module is G.nn.Module


def test_softmax2d_dims_and_channel_sum():
    x = G.randn(2, 3, 4, 5)
    y = G.nn.Softmax2d()(x)
    np.testing.assert_allclose(y.sum(1).numpy(), np.ones((2, 4, 5)), rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an explicit dim: no implicit-dim warning
        G.nn.Softmax2d()(G.randn(3, 4, 5))
