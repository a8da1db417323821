"""Op-table rows for attention and Einstein summation: F.scaled_dot_product_attention and torch.einsum.

Neither op's grad_fn name can match PyTorch's: both are composites there (the result's grad_fn is
whichever view or product ran last: UnsafeViewBackward0, BmmBackward0, PermuteBackward0, ...),
while glasstorch records one node each.
"""
from __future__ import annotations

import numpy as np

from _optable import Op

SDPA = ("ScaledDotProductAttentionBackward0",)
EINSUM = ("EinsumBackward0",)

# (L=3 queries, S=5 keys): row 1 may attend to nothing (its output and gradients are zeros in
# PyTorch's "safe softmax"), the others to a few keys
_BOOL_MASK = np.array([[True, False, True, True, False],
                       [False, False, False, False, False],
                       [True, True, True, True, True]])
_QKV = [((2, 3, 4), (2, 5, 4), (2, 5, 6)), ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 6))]


def _sdpa(m, q, k, v, **kw):
    return m.nn.functional.scaled_dot_product_attention(q, k, v, **kw)


def _float_mask(m, q, k, v, mask):
    """A learnable additive mask, with one fully -inf row and one partly -inf row."""
    ninf = np.zeros((3, 5))
    ninf[1] = -np.inf
    ninf[2, :2] = -np.inf
    return _sdpa(m, q, k, v, attn_mask=mask + m.from_numpy(ninf).to(mask.dtype))


def _einsum(equation):
    return lambda m, *xs: m.einsum(equation, *xs)


TABLE = [
    # ---- scaled dot-product attention --------------------------------------------------------------
    Op("sdpa", lambda m, q, k, v: _sdpa(m, q, k, v), _QKV, grad_fn=SDPA),
    Op("sdpa_unbatched", lambda m, q, k, v: _sdpa(m, q, k, v), [((3, 4), (5, 4), (5, 6))], grad_fn=SDPA,
       other_dtypes=False),
    Op("sdpa_causal", lambda m, q, k, v: _sdpa(m, q, k, v, is_causal=True),
       [((2, 4, 4), (2, 4, 4), (2, 4, 3)), ((2, 5, 4), (2, 3, 4), (2, 3, 3)), ((2, 3, 4), (2, 5, 4), (2, 5, 3))],
       grad_fn=SDPA),
    Op("sdpa_bool_mask", lambda m, q, k, v: _sdpa(m, q, k, v, attn_mask=m.from_numpy(_BOOL_MASK.copy())), _QKV,
       grad_fn=SDPA),
    Op("sdpa_float_mask", _float_mask, [((2, 3, 4), (2, 5, 4), (2, 5, 6), (3, 5)),
                                        ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 6), (2, 1, 3, 5))],
       grad_fn=SDPA, other_dtypes=False),
    Op("sdpa_scale", lambda m, q, k, v: _sdpa(m, q, k, v, scale=0.3), _QKV, grad_fn=SDPA, other_dtypes=False),
    Op("sdpa_broadcast_batch", lambda m, q, k, v: _sdpa(m, q, k, v),
       [((2, 2, 3, 4), (2, 1, 5, 4), (1, 2, 5, 6))], grad_fn=SDPA, other_dtypes=False),
    Op("sdpa_gqa", lambda m, q, k, v: _sdpa(m, q, k, v, enable_gqa=True),
       [((1, 4, 3, 8), (1, 2, 5, 8), (1, 2, 5, 8)), ((2, 6, 3, 4), (2, 3, 5, 4), (2, 1, 5, 2))],
       grad_fn=("ScaledDotProductAttentionBackward0",), other_dtypes=False),
    # ---- einsum -----------------------------------------------------------------------------------
    Op("einsum_matmul", _einsum("ij,jk->ik"), [((3, 4), (4, 5))], grad_fn=EINSUM),
    Op("einsum_batched", _einsum("bij,bjk->bik"), [((2, 3, 4), (2, 4, 5))], grad_fn=EINSUM),
    Op("einsum_trace", _einsum("ii"), [((3, 3),)], grad_fn=EINSUM),
    Op("einsum_diagonal", _einsum("ii->i"), [((4, 4),)], grad_fn=EINSUM),
    Op("einsum_partial_diagonal", _einsum("iji->j"), [((3, 2, 3),)], grad_fn=EINSUM),
    Op("einsum_outer", _einsum("i,j"), [((3,), (4,))], grad_fn=EINSUM),
    Op("einsum_implicit", _einsum("ba,ab"), [((3, 4), (4, 3))], grad_fn=EINSUM),
    Op("einsum_upper_first", _einsum("bA,Ab->Ab"), [((3, 4), (4, 3))], grad_fn=EINSUM),
    Op("einsum_sum", _einsum("ijk->j"), [((2, 3, 4),)], grad_fn=EINSUM),
    Op("einsum_transpose", _einsum("ij->ji"), [((3, 4),)], grad_fn=EINSUM),
    Op("einsum_ellipsis", _einsum("...ij,...jk"), [((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (3, 4, 2))],
       grad_fn=EINSUM, other_dtypes=False),
    Op("einsum_ellipsis_out", _einsum("i...,i->..."), [((3, 2, 4), (3,))], grad_fn=EINSUM),
    Op("einsum_ellipsis_diagonal", _einsum("...ii->...i"), [((2, 3, 3),)], grad_fn=EINSUM),
    # integer inputs: PyTorch sums a label found in one operand only (or of size 1 there) before
    # multiplying, and that sum widens to int64; glasstorch keeps the operands' dtype
    Op("einsum_broadcast_label", _einsum("ij,ij->i"), [((3, 1), (3, 4)), ((1, 4), (3, 4))], grad_fn=EINSUM,
       other_dtypes=False),
    Op("einsum_only_in_one", _einsum("ij,j->j"), [((3, 4), (4,))], grad_fn=EINSUM, other_dtypes=False),
    Op("einsum_three", _einsum("ij,jk,kl->il"), [((2, 3), (3, 4), (4, 2))], grad_fn=EINSUM),
    Op("einsum_sublists", lambda m, a, b: m.einsum(a, [0, 1], b, [1, 27], [27, 0]), [((3, 4), (4, 2))],
       grad_fn=EINSUM, other_dtypes=False),
    Op("einsum_sublists_ellipsis", lambda m, a, b: m.einsum(a, [..., 0], b, [0]), [((2, 3, 4), (4,))],
       grad_fn=EINSUM, other_dtypes=False),
    Op("einsum_list", lambda m, a, b: m.einsum("ij,j->i", [a, b]), [((3, 4), (4,))], grad_fn=EINSUM),
]
