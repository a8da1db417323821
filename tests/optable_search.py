"""Op-table rows for searching and sorting (glasstorch/_ops/sorting.py and sort/topk in reduction.py).

Values are drawn from a continuous distribution, so sort order and order statistics have no ties
and the picked element does not depend on tie-breaking; rows that need ties (stable sort, mode,
unique) draw small integers and skip gradcheck, because a finite-difference step breaks the ties.
"""
from __future__ import annotations

import numpy as np

from _optable import ONE, R, R3, UNARY, Op


def few(rng, shape):
    """Small integers as floats: ties on purpose (stable sort, mode, unique, bincount)."""
    return rng.integers(0, 3, shape).astype(float)


def with_nan(rng, shape):
    """Normal values with about a quarter NaN (nanmedian, nanquantile)."""
    x = rng.standard_normal(shape)
    x[rng.random(shape) < 0.25] = np.nan
    return x


def _q(m, a, values):
    return m.tensor(values, dtype=a.dtype)


TIES = dict(gradcheck=False, domain=few)
# integer inputs made from these draws have ties, and which of the tied indices topk, kthvalue and
# median(dim) report is unspecified (tests/test_search_scatter.py checks integers without ties)
NO_INT_TIES = dict(other_dtypes=False)
# PyTorch's quantile is a composite whose last step is an in-place squeeze_ (SqueezeBackward4); ours ends
# in a reshape, so the grad_fn name is not compared (values and gradients are)
QUANT = dict(grad_fn=None)
QUANT_NAN = dict(grad_fn=None, other_dtypes=False)  # NaN draws do not convert to integer dtypes

TABLE = [
    # ---- sort, argsort, topk ---------------------------------------------------------------------
    Op("sort", lambda m, a: m.sort(a), UNARY),
    Op("sort_dim_descending", lambda m, a: a.sort(0, descending=True), R),
    Op("sort_stable_ties", lambda m, a: m.sort(a, dim=-1, stable=True), R, **TIES),
    Op("sort_stable_descending_ties", lambda m, a: a.sort(dim=1, descending=True, stable=True), R, **TIES),
    Op("argsort", lambda m, a: m.argsort(a, dim=1), R, grad=False),
    Op("argsort_stable_ties", lambda m, a: a.argsort(stable=True, descending=True), R, few, grad=False),
    Op("msort", lambda m, a: m.msort(a), R),
    Op("topk", lambda m, a: m.topk(a, 2), R, **NO_INT_TIES),
    Op("topk_smallest_dim0", lambda m, a: a.topk(2, dim=0, largest=False), R, **NO_INT_TIES),
    Op("topk_0d", lambda m, a: a.topk(1), [((),)]),
    # k at most an eighth of the dim: the partition path (3-D shapes, which the special-values test skips:
    # its repeated values are ties, whose order topk leaves unspecified)
    Op("topk_partition", lambda m, a: a.topk(2, dim=1), [((3, 17, 1),), ((2, 16, 3),)], **NO_INT_TIES),
    Op("topk_partition_smallest", lambda m, a: m.topk(a, 3, dim=0, largest=False), [((25, 3, 2),)],
       **NO_INT_TIES),
    # ---- order statistics ------------------------------------------------------------------------
    Op("kthvalue", lambda m, a: m.kthvalue(a, 2), R, **NO_INT_TIES),
    Op("kthvalue_dim_keepdim", lambda m, a: a.kthvalue(2, dim=0, keepdim=True), R, **NO_INT_TIES),
    Op("median", lambda m, a: m.median(a), UNARY),
    Op("median_even", lambda m, a: a.median(), [((4,),), ((2, 3),)]),   # the lower of the middle two
    Op("median_dim", lambda m, a: a.median(dim=1), R, **NO_INT_TIES),
    Op("median_dim_keepdim", lambda m, a: m.median(a, 0, keepdim=True), R3, **NO_INT_TIES),
    Op("median_nan", lambda m, a: m.median(a, -1), R, with_nan, other_dtypes=False, gradcheck=False),
    Op("nanmedian", lambda m, a: m.nanmedian(a), [((3, 4),)], with_nan, other_dtypes=False),
    Op("nanmedian_dim", lambda m, a: a.nanmedian(1), [((3, 8),)], lambda rng, s: _nan_cols(rng, s),
       other_dtypes=False),
    # (3-D shapes first: the special-values test, which feeds NaN, skips them; PyTorch's mode sorts
    # with `<`, which leaves the place of NaNs unspecified)
    Op("mode", lambda m, a: m.mode(a), [((2, 3, 6),), ((3, 5),)], **TIES),
    Op("mode_dim_keepdim", lambda m, a: a.mode(0, keepdim=True), [((7, 3, 1),)], **TIES),
    Op("quantile", lambda m, a: m.quantile(a, 0.3), UNARY, **QUANT),
    Op("quantile_tensor_q_dim", lambda m, a: a.quantile(_q(m, a, [0.0, 0.25, 0.9, 1.0]), dim=1), R, **QUANT),
    Op("quantile_keepdim", lambda m, a: m.quantile(a, 0.7, dim=0, keepdim=True), R3, **QUANT),
    Op("quantile_all_keepdim", lambda m, a: a.quantile(_q(m, a, [0.2, 0.6]), keepdim=True), R, **QUANT),
    *[Op(f"quantile_{mode}", lambda m, a, mode=mode: a.quantile(_q(m, a, [0.1, 0.4, 0.5, 0.75]), dim=-1,
                                                                interpolation=mode), R, **QUANT)
      for mode in ("lower", "higher", "midpoint", "nearest")],
    Op("quantile_nan", lambda m, a: a.quantile(0.4, dim=1), [((3, 8),)], with_nan, **QUANT_NAN, gradcheck=False),
    Op("nanquantile", lambda m, a: m.nanquantile(a, _q(m, a, [0.25, 0.5]), dim=1), [((3, 8),)],
       lambda rng, s: _nan_cols(rng, s), **QUANT_NAN),
    Op("nanquantile_all", lambda m, a: a.nanquantile(0.6, interpolation="nearest"), ONE, with_nan, **QUANT_NAN),
    # ---- where the values are ----------------------------------------------------------------------
    Op("nonzero", lambda m, a: m.nonzero(a > 0), UNARY, grad=False),
    Op("nonzero_as_tuple", lambda m, a: (a > 0).nonzero(as_tuple=True), UNARY, grad=False),
    Op("argwhere", lambda m, a: m.argwhere(a > 0), UNARY, grad=False),
    Op("where_one_arg", lambda m, a: m.where(a > 0), R, grad=False),
    Op("unique", lambda m, a: m.unique(a), R, few, grad=False),
    Op("unique_inverse_counts", lambda m, a: a.unique(return_inverse=True, return_counts=True), R, few, grad=False),
    Op("unique_dim", lambda m, a: m.unique(a, dim=0, return_inverse=True, return_counts=True),
       [((6, 2, 1),)], lambda rng, s: rng.integers(0, 2, s).astype(float), grad=False),
    Op("unique_consecutive", lambda m, a: m.unique_consecutive(a, return_inverse=True, return_counts=True),
       R, few, grad=False),
    Op("unique_consecutive_dim", lambda m, a: a.unique_consecutive(dim=1, return_counts=True),
       [((2, 7),)], lambda rng, s: np.repeat(rng.integers(0, 2, (s[0], 1)), s[1], 1).astype(float)
       + np.repeat(rng.integers(0, 2, (1, s[1])), s[0], 0), grad=False),
    Op("searchsorted", lambda m, a, b: m.searchsorted(a.flatten().sort().values, b), [((3, 4), (2, 5))], grad=False),
    Op("searchsorted_right_int32", lambda m, a, b: m.searchsorted(a.sort().values, b, right=True, out_int32=True),
       [((3, 4), (3, 5))], grad=False),
    Op("searchsorted_ties_side", lambda m, a, b: m.searchsorted(a.sort().values, b, side="right"),
       [((6,), (4,))], few, grad=False),
    Op("searchsorted_sorter", lambda m, a, b: m.searchsorted(a, b, sorter=a.argsort()), [((7,), (3, 2))], grad=False),
    Op("bucketize", lambda m, a, b: m.bucketize(b, a.sort().values), [((5,), (3, 4))], grad=False),
    Op("bucketize_right_ties", lambda m, a, b: m.bucketize(b, a.sort().values, right=True), [((5,), (3, 4))],
       few, grad=False),
    Op("bincount", lambda m, a: m.bincount((a.abs() * 3).long().flatten()), R, grad=False),
    Op("bincount_weights_minlength", lambda m, a, w: (a.abs() * 2).long().bincount(w, minlength=9),
       [((6,), (6,))], grad=False),
    Op("histc", lambda m, a: m.histc(a, bins=5), R, grad=False),
    Op("histc_range", lambda m, a: a.histc(4, min=-1, max=1), R, grad=False),
    Op("histogram", lambda m, a: m.histogram(a, 6), R, grad=False),
    Op("histogram_range_density", lambda m, a: a.histogram(4, range=(-1.0, 1.5), density=True), R, grad=False),
    Op("histogram_edges_weight", lambda m, a, w: m.histogram(a, m.tensor([-1.0, -0.2, 0.3, 2.0], dtype=a.dtype),
                                                              weight=w.abs()), [((3, 4), (3, 4))], grad=False,
       other_dtypes=False),  # (the edges, made in the input's dtype, would not fit uint8)
]


def _nan_cols(rng, shape):
    """NaNs in some places, but never a whole row (an all-NaN row's index is unspecified in PyTorch)."""
    x = rng.standard_normal(shape)
    holes = rng.random(shape) < 0.3
    holes[..., 0] = False
    x[holes] = np.nan
    return x
