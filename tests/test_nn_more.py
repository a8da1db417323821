"""The wider nn API against PyTorch: activation and loss modules (reprs, options, in-place flags), the
remaining loss options (CTC's zero_infinity, reductions through the modules), nn.init schemes,
parametrizations (parametrize, weight_norm, spectral_norm), pruning, gradient clipping, errors.

Value comparisons use float64 and the float64 tolerance of tests/_compare.py (1e-10 relative): every
quantity here is a short sum or a product of a few terms. Random initialisers cannot match PyTorch's
bits (different generators), so they are checked by their statistics against the target
distribution, with bounds of several standard errors on 10^4 to 10^5 draws.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.utils.parametrize  # noqa: F401  (torch does not import these submodules by itself)
import torch.nn.utils.prune  # noqa: F401
from _compare import assert_same, assert_same_error, tensors

import glasstorch as G

RNG = np.random.default_rng(0)


def _both(fn):
    """fn(module) for glasstorch and torch."""
    return fn(G), fn(torch)


# ---- activation modules ------------------------------------------------------------------------
ACTIVATION_MODULES = [
    lambda nn: nn.SELU(), lambda nn: nn.SELU(inplace=True), lambda nn: nn.CELU(0.5), lambda nn: nn.CELU(inplace=True),
    lambda nn: nn.PReLU(), lambda nn: nn.PReLU(3, init=0.1), lambda nn: nn.RReLU(), lambda nn: nn.RReLU(0.1, 0.3, True),
    lambda nn: nn.Hardswish(), lambda nn: nn.Hardswish(True), lambda nn: nn.Hardsigmoid(), lambda nn: nn.Mish(),
    lambda nn: nn.Softsign(), lambda nn: nn.LogSigmoid(), lambda nn: nn.Threshold(0.1, 2.0),
    lambda nn: nn.Threshold(0.1, 2, True), lambda nn: nn.Tanhshrink(), lambda nn: nn.Softshrink(),
    lambda nn: nn.Softshrink(0.3), lambda nn: nn.Hardshrink(0.2), lambda nn: nn.GLU(), lambda nn: nn.GLU(0),
    lambda nn: nn.Softmin(1), lambda nn: nn.SiLU(True), lambda nn: nn.GELU("tanh"), lambda nn: nn.Softplus(2, 5),
    lambda nn: nn.ELU(0.5, True), lambda nn: nn.Hardtanh(-2, 2), lambda nn: nn.ReLU6(True),
    lambda nn: nn.CosineSimilarity(0, 1e-3), lambda nn: nn.PairwiseDistance(1, 1e-3, True),
]


@pytest.mark.parametrize("make", ACTIVATION_MODULES, ids=range(len(ACTIVATION_MODULES)))
def test_activation_module_repr_and_values(make):
    """repr, parameters, eval-mode output and input gradient as PyTorch's (in-place ones on a copy)."""
    ours, theirs = make(G.nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    ours.double().eval()
    theirs.double().eval()
    x = RNG.uniform(-4, 4, (2, 3, 4))
    x[np.abs(x) < 0.6] = 0.7  # away from every kink of these modules (0, +-0.2, 0.3, 0.5, 0.1)
    two = isinstance(theirs, (torch.nn.CosineSimilarity, torch.nn.PairwiseDistance))
    xs_g = tensors(G, [x, x[::-1].copy()], requires_grad=True)
    xs_t = tensors(torch, [x, x[::-1].copy()], requires_grad=True)
    args_g, args_t = (xs_g if two else [xs_g[0] * 1]), (xs_t if two else [xs_t[0] * 1])
    out_g, out_t = ours(*args_g), theirs(*args_t)
    assert_same(out_g, out_t)
    out_g.sum().backward()
    out_t.sum().backward()
    assert_same(xs_g[0].grad, xs_t[0].grad, what="input gradient")
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_same(p.grad, q.grad, what=f"{name} gradient")


def test_inplace_activations_write_into_their_input():
    for name in ("selu_", "celu_", "rrelu_", "threshold_"):
        assert hasattr(G.nn.functional, name), name
    for make in (lambda nn: nn.SELU(True), lambda nn: nn.Hardswish(True), lambda nn: nn.Threshold(0.1, 2.0, True)):
        x_g, x_t = G.tensor([-1.5, 0.05, 2.0]), torch.tensor([-1.5, 0.05, 2.0])
        y_g, y_t = make(G.nn)(x_g), make(torch.nn)(x_t)
        assert y_g is x_g and y_t is x_t
        assert_same(x_g, x_t)


def test_prelu_per_channel_gradient_and_init():
    m_g, m_t = G.nn.PReLU(3, init=0.2).double(), torch.nn.PReLU(3, init=0.2).double()
    assert_same(m_g.weight, m_t.weight)
    x = RNG.standard_normal((4, 3, 5))
    xs_g, xs_t = tensors(G, [x], requires_grad=True), tensors(torch, [x], requires_grad=True)
    m_g(xs_g[0]).pow(2).sum().backward()
    m_t(xs_t[0]).pow(2).sum().backward()
    assert_same(m_g.weight.grad, m_t.weight.grad, what="per-channel slope gradient")
    assert_same(xs_g[0].grad, xs_t[0].grad)


def test_rrelu_training_draws_slopes_in_range_and_eval_uses_the_mean():
    x = G.full((20000,), -1.0, dtype=G.float64, requires_grad=True)
    y = G.nn.functional.rrelu(x, 0.1, 0.3, training=True)
    slopes = -y.detach().numpy()
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3
    assert abs(slopes.mean() - 0.2) < 0.003  # U(0.1, 0.3): sd 0.058, standard error 4e-4
    y.sum().backward()
    assert np.array_equal(x.grad.numpy(), slopes)  # the gradient is each element's own slope
    positive = G.nn.functional.rrelu(G.tensor([2.0]), training=True)
    assert positive.item() == 2.0
    assert_same(G.nn.RReLU(0.1, 0.3).eval()(G.tensor([-1.0])), torch.nn.RReLU(0.1, 0.3).eval()(torch.tensor([-1.0])))


@pytest.mark.parametrize("case", [
    lambda m: m.nn.functional.glu(m.ones(3, 3), 1),
    lambda m: m.nn.functional.glu(m.tensor(1.0)),
    lambda m: m.nn.functional.prelu(m.ones(2, 3), m.ones(2)),
    lambda m: m.nn.functional.prelu(m.ones(2, 3), m.ones(1, 3)),
    lambda m: m.nn.functional.rrelu(m.ones(3), 0.5, 0.1),
    lambda m: m.nn.functional.celu(m.ones(3), 0.0),
    lambda m: m.nn.functional.softshrink(m.ones(3), -1.0),
    lambda m: m.nn.functional.hardswish(m.arange(3)),
    lambda m: m.nn.functional.selu(m.arange(3)),
    lambda m: m.nn.Hardtanh(1.0, 1.0),
], ids=range(10))
def test_activation_errors(case):
    assert_same_error(lambda m: case(m))


# ---- loss modules ---------------------------------------------------------------------------------
X = RNG.standard_normal((3, 4))
X2 = RNG.standard_normal((3, 4))
X3 = RNG.standard_normal((3, 4))
SIGNS = np.array([1.0, -1.0, 1.0])
PM = np.sign(RNG.standard_normal((3, 4)))
SCORES = RNG.standard_normal((2, 4, 3))  # (N, C, d1)

LOSS_CASES = [  # (module factory, inputs factory)
    (lambda m, r: m.nn.MarginRankingLoss(0.2, reduction=r), lambda m: (m.tensor(X[:, 0]), m.tensor(X2[:, 0]),
                                                                     m.tensor(SIGNS))),
    (lambda m, r: m.nn.HingeEmbeddingLoss(0.5, reduction=r), lambda m: (m.tensor(X), m.tensor(PM))),
    (lambda m, r: m.nn.CosineEmbeddingLoss(0.1, reduction=r), lambda m: (m.tensor(X), m.tensor(X2), m.tensor(SIGNS))),
    (lambda m, r: m.nn.TripletMarginLoss(1.5, 1.0, swap=True, reduction=r),
     lambda m: (m.tensor(X), m.tensor(X2), m.tensor(X3))),
    (lambda m, r: m.nn.TripletMarginWithDistanceLoss(margin=1.5, reduction=r),
     lambda m: (m.tensor(X), m.tensor(X2), m.tensor(X3))),
    (lambda m, r: m.nn.SoftMarginLoss(reduction=r), lambda m: (m.tensor(X), m.tensor(PM))),
    (lambda m, r: m.nn.MultiLabelSoftMarginLoss(reduction=r), lambda m: (m.tensor(X), m.tensor((PM > 0) * 1.0))),
    (lambda m, r: m.nn.MultiLabelMarginLoss(reduction=r),
     lambda m: (m.tensor(X), m.tensor([[3, 0, -1, 1], [1, 2, 3, -1], [-1, 0, 1, 2]]))),
    (lambda m, r: m.nn.MultiMarginLoss(2, 0.7, weight=m.tensor([1.0, 2, 0.5, 1], dtype=m.float64), reduction=r),
     lambda m: (m.tensor(X), m.tensor([3, 0, 2]))),
    (lambda m, r: m.nn.PoissonNLLLoss(False, True, eps=1e-3, reduction=r),
     lambda m: (m.tensor(np.abs(X) + 0.1), m.tensor(np.round(np.abs(X2) * 3)))),
    (lambda m, r: m.nn.GaussianNLLLoss(full=True, eps=0.05, reduction=r),
     lambda m: (m.tensor(X), m.tensor(X2), m.tensor(np.abs(X3[:, 0])))),
    (lambda m, r: m.nn.SmoothL1Loss(reduction=r, beta=0.3), lambda m: (m.tensor(X), m.tensor(X2))),
    (lambda m, r: m.nn.HuberLoss(reduction=r, delta=0.3), lambda m: (m.tensor(X), m.tensor(X2))),
    (lambda m, r: m.nn.KLDivLoss(reduction=r, log_target=True), lambda m: (m.tensor(X), m.tensor(X2))),
    (lambda m, r: m.nn.CrossEntropyLoss(label_smoothing=0.1, ignore_index=2, reduction=r),
     lambda m: (m.tensor(SCORES), m.tensor([[0, 2, 3], [1, 1, 2]]))),
    (lambda m, r: m.nn.NLLLoss(ignore_index=2, reduction=r),
     lambda m: (m.tensor(SCORES), m.tensor([[0, 2, 3], [1, 1, 2]]))),
]


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("case", range(len(LOSS_CASES)))
def test_loss_modules(case, reduction):
    """The module's repr, value and the gradient of its first input match torch's for each reduction."""
    make, inputs = LOSS_CASES[case]
    ours, theirs = make(G, reduction), make(torch, reduction)
    assert repr(ours) == repr(theirs)
    ins_g, ins_t = inputs(G), inputs(torch)
    ins_g[0].requires_grad_(True)
    ins_t[0].requires_grad_(True)
    out_g, out_t = ours(*ins_g), theirs(*ins_t)
    assert_same(out_g, out_t)
    out_g.sum().backward()
    out_t.sum().backward()
    assert_same(ins_g[0].grad, ins_t[0].grad, what="input gradient")


def test_loss_module_state_and_legacy_flags():
    w = [1.0, 2.0, 0.5]
    ours = G.nn.MultiLabelSoftMarginLoss(weight=G.tensor(w))
    theirs = torch.nn.MultiLabelSoftMarginLoss(weight=torch.tensor(w))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    with pytest.warns(UserWarning):
        legacy = G.nn.SoftMarginLoss(size_average=False)
    assert legacy.reduction == torch.nn.SoftMarginLoss(size_average=False).reduction == "sum"
    assert repr(G.nn.TripletMarginWithDistanceLoss()) == repr(torch.nn.TripletMarginWithDistanceLoss())


@pytest.mark.parametrize("case", [
    lambda m: m.nn.functional.margin_ranking_loss(m.ones(3), m.ones(3), m.ones(3, 1)),
    lambda m: m.nn.functional.cosine_embedding_loss(m.ones(3), m.ones(3), m.ones(3)),
    lambda m: m.nn.functional.triplet_margin_loss(m.ones(3, 2), m.ones(3, 2), m.ones(2)),
    lambda m: m.nn.functional.triplet_margin_with_distance_loss(m.ones(3, 2), m.ones(3, 2), m.ones(3, 2), margin=0),
    lambda m: m.nn.functional.multi_margin_loss(m.ones(3, 2), m.tensor([0, 1, 1]), p=3),
    lambda m: m.nn.functional.multi_margin_loss(m.ones(3, 2), m.tensor([0, 1, 1]), weight=m.ones(2, 1)),
    lambda m: m.nn.functional.gaussian_nll_loss(m.ones(3, 2), m.ones(3, 2), m.ones(2, 3)),
    lambda m: m.nn.functional.gaussian_nll_loss(m.ones(3, 2), m.ones(3, 2), -m.ones(3, 2)),
    lambda m: m.nn.functional.gaussian_nll_loss(m.ones(3, 2), m.ones(3, 2), m.ones(3, 2), reduction="x"),
    lambda m: m.nn.functional.poisson_nll_loss(m.ones(3), m.ones(3), reduction="avg"),
    lambda m: m.nn.functional.soft_margin_loss(m.ones(3), m.ones(3), reduction="avg"),
    lambda m: m.nn.TripletMarginLoss(margin=-1.0),
    lambda m: m.nn.MultiMarginLoss(p=3),
    lambda m: m.nn.functional.ctc_loss(m.zeros(5, 2, 3), m.ones(2, 2, dtype=m.int64), m.tensor([6, 5]),
                                       m.tensor([2, 2])),
], ids=range(14))
def test_loss_errors(case):
    assert_same_error(lambda m: case(m))


# ---- CTC beyond the op table -----------------------------------------------------------------------
def _ctc(m, logits, targets, input_lengths, target_lengths, **kw):
    x = m.tensor(logits, requires_grad=True)
    loss = m.nn.functional.ctc_loss(x.log_softmax(2), m.tensor(targets), input_lengths, target_lengths, **kw)
    loss.sum().backward()
    return loss, x.grad


@pytest.mark.parametrize("kw", [dict(), dict(reduction="none"), dict(reduction="sum", blank=2)])
def test_ctc_impossible_alignment_and_zero_infinity(kw):
    """A target longer than its input (3 labels with a repeat need 4 steps; 3 are given) has zero
    probability: the loss is inf, or 0 with zero_infinity=True, and then its gradient is 0 too."""
    logits = RNG.standard_normal((6, 2, 4))
    targets = np.array([[1, 1, 3], [3, 1, 0]])
    lengths = (G.tensor([3, 6]), torch.tensor([3, 6]))
    for zero_infinity in (False, True):
        ours = _ctc(G, logits, targets, lengths[0], G.tensor([3, 2]), zero_infinity=zero_infinity, **kw)
        theirs = _ctc(torch, logits, targets, lengths[1], torch.tensor([3, 2]), zero_infinity=zero_infinity, **kw)
        assert_same(ours[0], theirs[0])
        if zero_infinity:
            assert_same(ours[1], theirs[1], what="gradient")


def test_ctc_module_long_sequences_stay_finite():
    """Log-space recursion: 60 steps of 20 classes (probabilities ~ 20^-60 = 1e-78) against torch."""
    logits = RNG.standard_normal((60, 3, 20)) * 3
    targets = RNG.integers(1, 20, (3, 12))
    il, tl = [60, 50, 41], [12, 7, 12]
    ours = G.nn.CTCLoss(zero_infinity=True)
    theirs = torch.nn.CTCLoss(zero_infinity=True)
    xg, xt = G.tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    lg = ours(xg.log_softmax(2), G.tensor(targets), G.tensor(il), G.tensor(tl))
    lt = theirs(xt.log_softmax(2), torch.tensor(targets), torch.tensor(il), torch.tensor(tl))
    assert_same(lg, lt)
    lg.backward()
    lt.backward()
    assert_same(xg.grad, xt.grad, what="gradient")


# ---- nn.init -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["linear", "conv2d", "sigmoid", "tanh", "relu", "leaky_relu", "selu", "gelu"])
def test_calculate_gain(name):
    if name == "gelu":  # not a nonlinearity PyTorch knows a gain for
        assert_same_error(lambda m: m.nn.init.calculate_gain(name))
    else:
        assert G.nn.init.calculate_gain(name) == torch.nn.init.calculate_gain(name)


@pytest.mark.parametrize("param", [0.2, 3, True, "x"])
def test_calculate_gain_leaky_relu_param(param):
    try:
        expected = torch.nn.init.calculate_gain("leaky_relu", param)
    except ValueError as e:
        with pytest.raises(ValueError, match=str(e)):
            G.nn.init.calculate_gain("leaky_relu", param)
        return
    assert G.nn.init.calculate_gain("leaky_relu", param) == expected


def test_orthogonal_init_is_orthogonal_and_scaled():
    for shape in ((6, 4), (4, 6), (3, 2, 2)):
        w = G.nn.init.orthogonal_(G.empty(*shape, dtype=G.float64), gain=2.0).numpy().reshape(shape[0], -1)
        gram = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
        np.testing.assert_allclose(gram, 4.0 * np.eye(gram.shape[0]), atol=1e-12)


def test_trunc_normal_statistics_and_far_intervals():
    v = G.nn.init.trunc_normal_(G.empty(40000, dtype=G.float64), mean=0.5, std=2.0, a=-1.0, b=3.0).numpy()
    ref = torch.nn.init.trunc_normal_(torch.empty(400000, dtype=torch.float64), 0.5, 2.0, -1.0, 3.0).numpy()
    assert v.min() >= -1.0 and v.max() <= 3.0
    # mean and sd of this truncated normal: ~0.5 and ~1.12; standard errors ~0.006
    assert abs(v.mean() - ref.mean()) < 0.03 and abs(v.std() - ref.std()) < 0.03
    with pytest.warns(UserWarning):
        far = G.nn.init.trunc_normal_(G.empty(1000, dtype=G.float64), mean=10.0, a=-2.0, b=2.0).numpy()
    assert far.min() >= -2.0 and far.max() <= 2.0 and far.mean() > 1.8  # all the mass hugs b


def test_sparse_eye_dirac_init():
    w = G.nn.init.sparse_(G.empty(10, 300, dtype=G.float64), sparsity=0.35, std=0.5).numpy()
    assert ((w == 0).sum(axis=0) == math.ceil(0.35 * 10)).all()  # exactly ceil(sparsity * rows) zeros a column
    nonzero = w[w != 0]
    assert abs(nonzero.std() - 0.5) < 0.03  # 1950 draws: standard error of the sd ~0.008
    assert_same(G.nn.init.eye_(G.empty(3, 5)), torch.nn.init.eye_(torch.empty(3, 5)))
    for shape, groups in (((4, 2, 3), 2), ((6, 4, 3, 3), 2), ((3, 3, 1, 3, 3), 1)):
        assert_same(G.nn.init.dirac_(G.empty(*shape), groups), torch.nn.init.dirac_(torch.empty(*shape), groups))
    for fn in (lambda m: m.nn.init.sparse_(m.empty(3, 4, 2), 0.5), lambda m: m.nn.init.eye_(m.empty(3)),
               lambda m: m.nn.init.dirac_(m.empty(3, 3)), lambda m: m.nn.init.dirac_(m.empty(5, 3, 3), 2),
               lambda m: m.nn.init.orthogonal_(m.empty(3))):
        assert_same_error(fn)


# ---- parametrizations -------------------------------------------------------------------------------
W33 = np.arange(9.0).reshape(3, 3) / 10


class _Symmetric:
    @staticmethod
    def make(nn):
        class Symmetric(nn.Module):
            def forward(self, x):
                return x.triu() + x.triu(1).transpose(-1, -2)

        return Symmetric()


class _Skew:
    @staticmethod
    def make(nn):
        class Skew(nn.Module):
            def forward(self, x):
                upper = x.triu(1)
                return upper - upper.T

            def right_inverse(self, a):
                return a.triu(1)

        return Skew()


def _linear(m, w=W33):
    lin = m.nn.Linear(w.shape[1], w.shape[0]).double()
    with m.no_grad():
        lin.weight.copy_(m.tensor(w))
        lin.bias.fill_(0.5)
    return lin


def test_register_parametrization_state_dict_repr_gradient_and_removal():
    results = []
    for m in (G, torch):
        P = m.nn.utils.parametrize
        lin = _linear(m)
        P.register_parametrization(lin, "weight", _Symmetric.make(m.nn))
        x = m.tensor(RNG.standard_normal((2, 3)) if m is G else results[0][-1])
        lin(x).pow(2).sum().backward()
        with P.cached():
            same = lin.weight is lin.weight
        parts = [type(lin).__name__, repr(lin), list(lin.state_dict()), P.is_parametrized(lin),
                 P.is_parametrized(lin, "bias"), P.type_before_parametrizations(lin).__name__, same, lin.weight,
                 lin.parametrizations.weight.original.grad]
        P.remove_parametrizations(lin, "weight")
        parts += [type(lin).__name__, list(lin.state_dict()), lin.weight, x.numpy()]
        results.append(parts)
    for a, b in zip(results[0][:-1], results[1][:-1]):
        assert_same(a, b)


def test_parametrization_assignment_uses_right_inverse():
    for m in (G, torch):
        lin = _linear(m)
        m.nn.utils.parametrize.register_parametrization(lin, "weight", _Skew.make(m.nn))
        lin.weight = m.tensor([[0.0, 1, 2], [-1, 0, 3], [-2, -3, 0]], dtype=m.float64)
        orig = lin.parametrizations.weight.original
        m.nn.utils.parametrize.remove_parametrizations(lin, "weight", leave_parametrized=False)
        if m is G:
            ours = (orig.detach().clone(), lin.weight)
        else:
            assert_same(ours[0], orig.detach())
            assert_same(ours[1], lin.weight)


def test_parametrize_errors():
    assert_same_error(lambda m: m.nn.utils.parametrize.register_parametrization(_linear(m), "nope",
                                                                                 _Symmetric.make(m.nn)),
                      message=False)
    assert_same_error(lambda m: m.nn.utils.parametrize.remove_parametrizations(_linear(m), "weight"), message=False)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm(dim):
    w = RNG.standard_normal((3, 2, 2))
    outs = []
    for m in (G, torch):
        conv = m.nn.Conv1d(2, 3, 2).double()
        with m.no_grad():
            conv.weight.copy_(m.tensor(w))
            conv.bias.fill_(0.25)
        m.nn.utils.parametrizations.weight_norm(conv, dim=dim)
        y = conv(m.tensor(np.linspace(-1, 1, 10).reshape(1, 2, 5))).pow(2).sum()
        y.backward()
        p = conv.parametrizations.weight
        outs.append((list(conv.state_dict()), p.original0, p.original1, conv.weight, p.original0.grad,
                     p.original1.grad))
    for a, b in zip(*outs):
        assert_same(a, b)


@pytest.mark.parametrize("kind", ["linear", "conv_transpose"])
def test_spectral_norm_power_iteration(kind):
    """From the same u and v, two training forwards (one power step each) and an eval one give torch's
    weights, buffers and gradients."""
    w = RNG.standard_normal((3, 4, 2)) if kind == "conv_transpose" else RNG.standard_normal((3, 4))
    u0 = RNG.standard_normal(4 if kind == "conv_transpose" else 3)
    v0 = RNG.standard_normal(6 if kind == "conv_transpose" else 4)
    outs = []
    for m in (G, torch):
        layer = m.nn.ConvTranspose1d(3, 4, 2).double() if kind == "conv_transpose" else m.nn.Linear(4, 3).double()
        with m.no_grad():
            layer.weight.copy_(m.tensor(w))
        m.nn.utils.parametrizations.spectral_norm(layer)
        sn = layer.parametrizations.weight[0]
        with m.no_grad():
            sn._u.copy_(m.tensor(u0 / np.linalg.norm(u0)))
            sn._v.copy_(m.tensor(v0 / np.linalg.norm(v0)))
        first = layer.weight
        second = layer.weight
        second.pow(3).sum().backward()
        layer.eval()
        outs.append((list(layer.state_dict()), sn.dim, first, second, layer.weight, sn._u, sn._v,
                     layer.parametrizations.weight.original.grad))
    for a, b in zip(*outs):
        assert_same(a, b)


# ---- pruning -------------------------------------------------------------------------------------------
W34 = np.array([[0.3, -1.2, 0.05, 2.0], [-0.7, 0.01, 1.5, -0.2], [0.9, -0.4, 0.6, -1.1]])  # no ties in |w|


def test_l1_unstructured_iterative_and_remove():
    outs = []
    for m in (G, torch):
        pr = m.nn.utils.prune
        lin = _linear(m, W34)
        pr.l1_unstructured(lin, "weight", amount=0.25)
        first = (pr.is_pruned(lin), sorted(lin.state_dict()), [n for n, _ in lin.named_parameters()],
                 lin.weight_mask.clone())
        pr.l1_unstructured(lin, "weight", amount=2)  # two more, among the nine left
        hook = type(next(iter(lin._forward_pre_hooks.values()))).__name__
        lin(m.ones(2, 4, dtype=m.float64)).sum().backward()
        second = (lin.weight_mask.clone(), hook, lin.weight_orig.grad, lin.weight)
        pr.remove(lin, "weight")
        outs.append(first + second + (pr.is_pruned(lin), sorted(lin.state_dict()), lin.weight))
    for a, b in zip(*outs):
        assert_same(a, b)


def test_random_and_global_pruning_and_errors():
    lin = G.nn.Linear(10, 10)
    G.nn.utils.prune.random_unstructured(lin, "weight", amount=0.3)
    assert int((lin.weight_mask == 0).sum()) == 30
    assert (lin.weight.detach().numpy()[lin.weight_mask.numpy() == 0] == 0).all()
    masks = []
    for m in (G, torch):
        a, b = _linear(m, W34), _linear(m, W34[:2, :3] * 1.3)
        m.nn.utils.prune.global_unstructured([(a, "weight"), (b, "weight")],
                                             pruning_method=m.nn.utils.prune.L1Unstructured, amount=5)
        masks.append((a.weight_mask, b.weight_mask))
    for x, y in zip(*masks):
        assert_same(x, y)
    for amount in (-1, 1.5, "x", 13):
        assert_same_error(lambda m: m.nn.utils.prune.l1_unstructured(_linear(m, W34), "weight", amount))
    assert_same_error(lambda m: m.nn.utils.prune.remove(_linear(m, W34), "weight"), message=False)


# ---- gradient clipping and parameter vectors -----------------------------------------------------------
@pytest.mark.parametrize("norm_type", [2.0, 1.0, "inf"])
@pytest.mark.parametrize("foreach", [None, True, False])
def test_clip_grad_norm(norm_type, foreach):
    grads = [RNG.standard_normal((3, 4)) * 3, RNG.standard_normal(4)]
    outs = []
    for m in (G, torch):
        ps = [m.nn.Parameter(m.zeros(g.shape, dtype=m.float64)) for g in grads]
        for p, g in zip(ps, grads):
            p.grad = m.tensor(g)
        total = m.nn.utils.clip_grad_norm_(ps, 1.5, norm_type=float(norm_type), foreach=foreach)
        outs.append((total, ps[0].grad, ps[1].grad))
    for a, b in zip(*outs):
        assert_same(a, b)


def test_clip_grad_nonfinite_and_value():
    def nonfinite(m):
        p = m.nn.Parameter(m.ones(3))
        p.grad = m.tensor([1.0, float("inf"), 2.0])
        return m.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)

    assert_same_error(nonfinite)
    outs = []
    for m in (G, torch):
        p = m.nn.Parameter(m.ones(4, dtype=m.float64))
        p.grad = m.tensor([-3.0, 0.2, 0.7, -0.1], dtype=m.float64)
        m.nn.utils.clip_grad_value_(p, 0.5, foreach=True)
        outs.append(p.grad)
    assert_same(*outs)


def test_parameters_vector_round_trip():
    outs = []
    for m in (G, torch):
        ps = [m.nn.Parameter(m.tensor(W34)), m.nn.Parameter(m.tensor(W34[0]))]
        v = m.nn.utils.parameters_to_vector(ps)
        m.nn.utils.vector_to_parameters(v * 2, ps)
        outs.append((v, ps[0], ps[1]))
    for a, b in zip(*outs):
        assert_same(a, b)


# ---- orthogonal ------------------------------------------------------------------------------------------
ORTH_CASES = [(shape, mp, triv) for shape in ((4, 4), (5, 3), (3, 5)) for mp in ("matrix_exp", "householder", "cayley")
              for triv in (True, False)]


@pytest.mark.parametrize("shape,orthogonal_map,use_trivialization", ORTH_CASES)
def test_orthogonal(shape, orthogonal_map, use_trivialization):
    """The weight is orthogonal (orthonormal columns, or rows when wide); where no random completion is
    involved (square matrices, or no trivialization) weight and gradient equal torch's."""
    if orthogonal_map == "cayley" and not hasattr(G.linalg, "solve"):
        pytest.skip("the Cayley map needs glasstorch.linalg.solve")
    w = RNG.standard_normal(shape)
    outs = []
    for m in (G, torch):
        lin = _linear(m, w)
        m.nn.utils.parametrizations.orthogonal(lin, orthogonal_map=orthogonal_map,
                                               use_trivialization=use_trivialization)
        weight = lin.weight
        (weight * m.tensor(np.arange(weight.numel()).reshape(shape) / 7.0)).sum().backward()
        outs.append((list(lin.state_dict()), weight, lin.parametrizations.weight.original.grad))
    ours = outs[0][1].detach().numpy()
    gram = ours @ ours.T if shape[0] <= shape[1] else ours.T @ ours
    np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-12)
    assert outs[0][0] == outs[1][0]
    if shape[0] == shape[1] or not use_trivialization:
        assert_same(outs[0][1], outs[1][1])
        assert_same(outs[0][2], outs[1][2], tol=dict(rtol=1e-8, atol=1e-10), what="gradient")  # exp/solve chains


def test_orthogonal_errors():
    assert_same_error(lambda m: m.nn.utils.parametrizations.orthogonal(m.nn.Linear(3, 3), orthogonal_map="qr"))
    assert_same_error(lambda m: m.nn.utils.parametrizations.orthogonal(m.nn.Linear(3, 3), "bias"))


# ---- embedding options -------------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [dict(padding_idx=1), dict(padding_idx=-2, scale_grad_by_freq=True),
                                dict(max_norm=1.0, norm_type=1.0), dict(max_norm=0.5)])
def test_embedding_options(kw):
    table = RNG.standard_normal((5, 3))
    idx = np.array([[0, 1, 1], [3, 4, 1]])
    outs = []
    for m in (G, torch):
        w = m.tensor(table, requires_grad=True)
        with m.no_grad():
            weight = w * 1.0  # max_norm renormalises the table in place
        weight.requires_grad_(True)
        out = m.nn.functional.embedding(m.tensor(idx), weight, **kw)
        (out * m.tensor(np.arange(18.0).reshape(2, 3, 3))).sum().backward()
        outs.append((out, weight.grad, weight.detach()))
    for a, b in zip(*outs):
        assert_same(a, b)


def test_parametrized_module_copies_loads_and_refuses_pickle():
    import copy
    import pickle

    for m in (G, torch):
        lin = _linear(m, W34)
        m.nn.utils.parametrizations.weight_norm(lin)
        twin = copy.deepcopy(lin)
        assert type(twin).__name__ == "ParametrizedLinear"
        assert twin.parametrizations.weight.original1 is not lin.parametrizations.weight.original1
        other = m.nn.Linear(4, 3).double()
        m.nn.utils.parametrizations.weight_norm(other)
        other.load_state_dict(lin.state_dict())
        assert m.equal(other.weight, lin.weight) and m.equal(twin.weight, lin.weight)
    assert_same_error(lambda m: pickle.dumps(m.nn.utils.parametrizations.weight_norm(m.nn.Linear(2, 2))))


def test_structured_pruning():
    """ln_structured along two dims in turn, then unstructured pruning on top: torch's masks; random_structured
    zeroes whole channels."""
    w = RNG.standard_normal((4, 3, 2))
    masks = []
    for m in (G, torch):
        pr = m.nn.utils.prune
        conv = m.nn.Conv1d(3, 4, 2).double()
        with m.no_grad():
            conv.weight.copy_(m.tensor(w))
        pr.ln_structured(conv, "weight", amount=1, n=2, dim=0)
        first = conv.weight_mask.clone()
        pr.ln_structured(conv, "weight", amount=0.34, n=1, dim=-1)
        pr.l1_unstructured(conv, "weight", amount=2)
        masks.append((first, conv.weight_mask))
    for a, b in zip(*masks):
        assert_same(a, b)
    conv = G.nn.Conv1d(3, 6, 2)
    G.nn.utils.prune.random_structured(conv, "weight", amount=2, dim=0)
    per_channel = conv.weight_mask.sum((1, 2)).numpy()
    assert sorted(per_channel.tolist()) == [0, 0, 6, 6, 6, 6]
    assert_same_error(lambda m: m.nn.utils.prune.ln_structured(m.nn.Linear(3, 2), "bias", 1, 2, 0))
    assert_same_error(lambda m: m.nn.utils.prune.ln_structured(m.nn.Linear(3, 2), "weight", 1, 2, 2))
