"""Op-table rows for the activations and losses of nn.functional beyond the basic ones: SELU/CELU/PReLU/RReLU,
the hard and shrink activations, GLU, the margin/embedding/likelihood losses, CTC, cross-entropy on
(N, C, d1, d2) inputs, and the distances.

Inputs of piecewise functions are drawn at least 0.1 from their kinks (so the finite differences
of gradcheck, steps of 1e-6, never straddle one). Margin losses have kinks where a margin is met
exactly, which depends on several inputs; random draws land within 1e-6 of such a point with
probability ~1e-6, and the draws are seeded, so the rows are deterministic.

Class-index targets, signs and lengths are constants built inside each row (torch does not accept
gradients for them). Where PyTorch's graph ends in a node of a composite (the norm of
pairwise_distance) or in a fused loss node (multi-margin) while glasstorch composes
recorded ops, the row lists the names glasstorch may report instead, or None (values are compared all the
same).

Float32: every row here reduces at most a few dozen terms, so the default float32 tolerance holds.
"""
from __future__ import annotations

import numpy as np
from _optable import AWAY0, Op, away, pos, real, small

AWAY3 = away(-3.0, 3.0, lo=-4.0, hi=4.0)
AWAY_SHRINK = away(-0.5, 0.5)
AWAY_THRESHOLD = away(0.1)

# constants for the losses: class indices, signs, label lists, sequence lengths
IDX = np.array([1, 0, 3])
SIGNS = np.array([1.0, -1.0, 1.0])
PM = np.array([[1.0, -1, 1, 1], [-1, -1, 1, 1], [1, 1, 1, -1]])
MULTILABEL = np.array([[1, 2, -1, 0], [0, -1, 2, 2], [3, 2, 1, 0]])
CTC_TARGETS = np.array([[1, 2, 2], [3, 1, 0]])
CTC_TARGET_LENGTHS = np.array([3, 2])
CTC_INPUT_LENGTHS = np.array([7, 5])
CLASS_W = np.array([0.5, 1.5, 1.0, 2.0])
ND_TARGETS = np.array([[[1, 0], [3, 2], [0, 1]], [[2, 2], [1, 3], [-100, 0]]])  # (N, d1, d2), one ignored

NORM_NAMES = ("LinalgVectorNormBackward0",)  # torch: NormBackward1


def _f(m):
    return m.nn.functional


def _const(m, a, like):
    """A constant tensor in like's dtype (a float array) or int64 (an int array)."""
    return m.tensor(a, dtype=like.dtype) if a.dtype.kind == "f" else m.tensor(a)


def _loss(name, fn, shapes, domain=real, **kw):
    """A loss row: other dtypes are rejected with errors compared elsewhere (test_nn_more.py)."""
    return Op(name, fn, shapes, domain, other_dtypes=False, **kw)


ONE34 = [((3, 4),)]
TWO34 = [((3, 4), (3, 4))]
THREE34 = [((3, 4), (3, 4), (3, 4))]

TABLE = [
    # ---- activations ------------------------------------------------------------------------------
    Op("selu", lambda m, a: _f(m).selu(a), [((3, 4),), ((),)], AWAY0),
    Op("celu", lambda m, a: _f(m).celu(a, 0.7), [((3, 4),), ((2, 3, 4),)], AWAY0),
    Op("prelu_shared", lambda m, a, w: _f(m).prelu(a, w), [((2, 3, 4), (1,))], (AWAY0, pos), other_dtypes=False),
    Op("prelu_channels", lambda m, a, w: _f(m).prelu(a, w), [((2, 3, 4), (3,)), ((2, 3), (3,))], (AWAY0, pos),
       other_dtypes=False),
    Op("rrelu_eval", lambda m, a: _f(m).rrelu(a, 0.1, 0.3), [((3, 4),)], AWAY0),
    Op("hardswish", lambda m, a: _f(m).hardswish(a), [((3, 4),), ((2, 3, 4),)], AWAY3),
    Op("hardsigmoid", lambda m, a: _f(m).hardsigmoid(a), [((3, 4),)], AWAY3),
    Op("mish_node", lambda m, a: _f(m).mish(a), [((3, 4),), ((),)]),
    Op("softsign_f", lambda m, a: _f(m).softsign(a), [((3, 4),)]),
    Op("tanhshrink", lambda m, a: _f(m).tanhshrink(a), [((3, 4),)]),
    Op("softshrink", lambda m, a: _f(m).softshrink(a), [((3, 4),)], AWAY_SHRINK),
    Op("softshrink_lambd", lambda m, a: _f(m).softshrink(a, 0.3), [((3, 4),)], away(-0.3, 0.3)),
    Op("hardshrink", lambda m, a: _f(m).hardshrink(a), [((3, 4),)], AWAY_SHRINK),
    Op("threshold_node", lambda m, a: _f(m).threshold(a, 0.1, 2.0), [((3, 4),)], AWAY_THRESHOLD),
    Op("glu_last", lambda m, a: _f(m).glu(a), [((3, 4),), ((2, 3, 6),)]),
    Op("glu_dim1", lambda m, a: _f(m).glu(a, 1), [((2, 4, 3),)]),
    Op("softmin_f", lambda m, a: _f(m).softmin(a, 1), [((3, 4),)], grad_fn=None),
    Op("logsigmoid_f", lambda m, a: _f(m).logsigmoid(a), [((3, 4),)]),
    Op("softplus_beta", lambda m, a: _f(m).softplus(a, 2.0, 3.0), [((3, 4),)], away(1.5, lo=-3, hi=3)),
    Op("gelu_tanh_f", lambda m, a: _f(m).gelu(a, approximate="tanh"), [((3, 4),)]),
    Op("silu_f", lambda m, a: _f(m).silu(a), [((3, 4),)]),
    Op("elu_alpha", lambda m, a: _f(m).elu(a, 0.5), [((3, 4),)], AWAY0),
    Op("hardtanh_bounds", lambda m, a: _f(m).hardtanh(a, -0.5, 1.0), [((3, 4),)], away(-0.5, 1.0)),
    Op("relu6_f", lambda m, a: _f(m).relu6(a * 4), [((3, 4),)], away(0.0, 1.5)),
    # ---- distances ----------------------------------------------------------------------------------
    Op("pairwise_distance", lambda m, a, b: _f(m).pairwise_distance(a, b), TWO34 + [((4,), (4,))],
       grad_fn=NORM_NAMES, other_dtypes=False),
    Op("pairwise_distance_p1_keepdim", lambda m, a, b: _f(m).pairwise_distance(a, b, 1.0, 1e-3, True), TWO34,
       grad_fn=NORM_NAMES, other_dtypes=False),
    Op("cosine_similarity_f", lambda m, a, b: _f(m).cosine_similarity(a, b), TWO34 + [((3, 4), (1, 4))],
       other_dtypes=False),
    # PyTorch floors each norm at eps under no_grad, so its gradient (matched here) is not the derivative of
    # the floored function: gradcheck would fail on torch itself
    Op("cosine_similarity_floor", lambda m, a, b: _f(m).cosine_similarity(a * 1e-3, b, dim=0, eps=0.01), TWO34,
       other_dtypes=False, gradcheck=False),
    Op("normalize_p1", lambda m, a: _f(m).normalize(a, p=1.0, dim=0), ONE34, AWAY0, other_dtypes=False),
    # ---- losses -------------------------------------------------------------------------------------
    *[_loss(f"margin_ranking_{r}",
            lambda m, a, b, r=r: _f(m).margin_ranking_loss(a, b, _const(m, SIGNS, a), 0.2, reduction=r),
            [((3,), (3,))]) for r in ("none", "mean", "sum")],
    *[_loss(f"hinge_embedding_{r}",
            lambda m, a, r=r: _f(m).hinge_embedding_loss(a, _const(m, PM, a), 0.5, reduction=r), ONE34)
      for r in ("none", "mean", "sum")],
    *[_loss(f"cosine_embedding_{r}",
            lambda m, a, b, r=r: _f(m).cosine_embedding_loss(a, b, _const(m, SIGNS, a), 0.1, reduction=r), TWO34)
      for r in ("none", "mean", "sum")],
    _loss("triplet_margin", lambda m, a, p, n: _f(m).triplet_margin_loss(a, p, n, margin=2.0), THREE34),
    _loss("triplet_margin_p1_swap_none",
          lambda m, a, p, n: _f(m).triplet_margin_loss(a, p, n, margin=2.0, p=1, swap=True, reduction="none"),
          THREE34),
    _loss("triplet_distance_cosine",
          lambda m, a, p, n: _f(m).triplet_margin_with_distance_loss(
              a, p, n, distance_function=lambda x, y: 1.0 - _f(m).cosine_similarity(x, y), swap=True,
              reduction="sum"), THREE34),
    *[_loss(f"soft_margin_{r}", lambda m, a, r=r: _f(m).soft_margin_loss(a, _const(m, PM, a), reduction=r), ONE34)
      for r in ("none", "mean", "sum")],
    _loss("multilabel_soft_margin", lambda m, a: _f(m).multilabel_soft_margin_loss(a, _const(m, (PM > 0) * 1.0, a)),
          ONE34),
    _loss("multilabel_soft_margin_weight_none",
          lambda m, a, w: _f(m).multilabel_soft_margin_loss(a, _const(m, (PM > 0) * 1.0, a), w, reduction="none"),
          [((3, 4), (4,))], (real, pos)),
    *[_loss(f"multilabel_margin_{r}",
            lambda m, a, r=r: _f(m).multilabel_margin_loss(a, m.tensor(MULTILABEL), reduction=r), ONE34,
            grad_fn=None) for r in ("none", "mean", "sum")],
    _loss("multilabel_margin_1d", lambda m, a: _f(m).multilabel_margin_loss(a, m.tensor(MULTILABEL[0])), [((4,),)],
          grad_fn=None),
    *[_loss(f"multi_margin_{r}", lambda m, a, r=r: _f(m).multi_margin_loss(a, m.tensor(IDX), reduction=r), ONE34,
            grad_fn=None) for r in ("none", "mean", "sum")],
    _loss("multi_margin_p2_weight",
          lambda m, a: _f(m).multi_margin_loss(a, m.tensor(IDX), p=2, margin=0.5, weight=_const(m, CLASS_W, a)),
          ONE34, grad_fn=None),
    *[_loss(f"poisson_nll_{r}", lambda m, a, t, r=r: _f(m).poisson_nll_loss(a, t * 3, reduction=r), TWO34,
            (small, pos)) for r in ("none", "mean", "sum")],
    _loss("poisson_nll_rates_full", lambda m, a, t: _f(m).poisson_nll_loss(a, t * 3, log_input=False, full=True),
          TWO34, (pos, pos)),
    *[_loss(f"gaussian_nll_{r}", lambda m, a, t, v, r=r: _f(m).gaussian_nll_loss(a, t, v, reduction=r), THREE34,
            (real, real, pos)) for r in ("none", "mean", "sum")],
    _loss("gaussian_nll_row_var_full", lambda m, a, t, v: _f(m).gaussian_nll_loss(a, t, v, full=True),
          [((3, 4), (3, 4), (3,))], (real, real, pos)),
    _loss("gaussian_nll_shared_var", lambda m, a, t, v: _f(m).gaussian_nll_loss(a, t, v, reduction="sum"),
          [((3, 4), (3, 4), (3, 1)), ((2, 3, 4), (2, 3, 4), (2, 1, 4))], (real, real, pos)),
    *[_loss(f"smooth_l1_beta_{r}", lambda m, a, t, r=r: _f(m).smooth_l1_loss(a, t, reduction=r, beta=0.5), TWO34)
      for r in ("none", "mean", "sum")],
    *[_loss(f"huber_delta_{r}", lambda m, a, t, r=r: _f(m).huber_loss(a, t, reduction=r, delta=0.5), TWO34)
      for r in ("none", "mean", "sum")],
    _loss("smooth_l1_broadcast", lambda m, a, t: _f(m).smooth_l1_loss(a, t.expand(3, 4), beta=2.0),
          [((3, 4), (4,))]),
    _loss("kl_div_batchmean", lambda m, a, t: _f(m).kl_div(a, t, reduction="batchmean"), TWO34, (real, pos)),
    _loss("kl_div_log_target_none", lambda m, a, t: _f(m).kl_div(a, t, reduction="none", log_target=True), TWO34),
    _loss("kl_div_sum", lambda m, a, t: _f(m).kl_div(a, t, reduction="sum"), TWO34, (real, pos), grad_fn=None),
    *[_loss(f"ctc_{r}", lambda m, a, r=r: _f(m).ctc_loss(
        a.log_softmax(2), m.tensor(CTC_TARGETS), m.tensor(CTC_INPUT_LENGTHS), m.tensor(CTC_TARGET_LENGTHS),
        reduction=r), [((7, 2, 4),)], gradgrad=False) for r in ("none", "mean", "sum")],
    _loss("ctc_concatenated_blank_last", lambda m, a: _f(m).ctc_loss(
        a.log_softmax(2), m.tensor([1, 2, 2, 0, 1]), (7, 5), (3, 2), blank=3, reduction="sum"),
        [((7, 2, 4),)], gradgrad=False),
    _loss("ctc_unbatched", lambda m, a: _f(m).ctc_loss(
        a.log_softmax(1), m.tensor([1, 1, 2]), m.tensor(6), m.tensor(3)), [((6, 3),)], gradgrad=False),
    # ---- cross-entropy and nll on (N, C, d1, d2) ----------------------------------------------------------
    _loss("cross_entropy_nd", lambda m, a: _f(m).cross_entropy(a, m.tensor(ND_TARGETS), _const(m, CLASS_W, a)),
          [((2, 4, 3, 2),)]),
    _loss("cross_entropy_nd_smoothing_none", lambda m, a: _f(m).cross_entropy(
        a, m.tensor(ND_TARGETS), _const(m, CLASS_W, a), reduction="none", label_smoothing=0.2), [((2, 4, 3, 2),)],
        grad_fn=None),
    _loss("cross_entropy_nd_probabilities", lambda m, a, t: _f(m).cross_entropy(a, t.softmax(1), label_smoothing=0.1),
          [((2, 4, 3, 2), (2, 4, 3, 2))], grad_fn=None),
    _loss("nll_nd_sum", lambda m, a: _f(m).nll_loss(a.log_softmax(1), m.tensor(ND_TARGETS), reduction="sum"),
          [((2, 4, 3, 2),)]),
    _loss("nll_3d_none", lambda m, a: _f(m).nll_loss(a.log_softmax(1), m.tensor(ND_TARGETS[:, :, 0]),
                                                    reduction="none"), [((2, 4, 3),)]),
]
