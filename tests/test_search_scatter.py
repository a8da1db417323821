"""Searching, sorting, scatter/gather and shape ops: what the op-table rows cannot express.

Errors (class and message), options that change the result's structure (as_tuple, return_inverse,
return_counts, return types and their repr), ties broken as PyTorch breaks them, in-place forms,
warnings, and integer inputs. The forward/backward/gradcheck rows are in tests/optable_search.py and
tests/optable_scatter_shape.py.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import glasstorch as G
from _compare import assert_same, assert_same_error, noncontiguous, raised, tensors

M = (G, torch)


def both(fn, *arrays, requires_grad=False):
    """fn(module, *tensors) on glasstorch and torch."""
    return [fn(m, *tensors(m, arrays, requires_grad=requires_grad)) for m in M]


def same(fn, *arrays):
    ours, theirs = both(fn, *arrays)
    assert_same(ours, theirs)


F = np.array([[0.5, -1.0, 2.0, 0.0], [3.0, 1.5, -2.0, 1.0], [-0.5, 2.5, 0.25, -3.0]])
I = np.array([[3, 1, 2, 1, 3], [0, 0, 4, 4, 2]])


# ---- errors ---------------------------------------------------------------------------------------------
def _idx(m, rows, dtype=None):
    return m.tensor(rows, dtype=dtype or m.int64)


ERRORS = {
    # sorting and searching
    "kthvalue_k": (lambda m, a: a.kthvalue(5), [F]),
    "kthvalue_bool": (lambda m, a: (a > 0).kthvalue(1), [F]),
    "median_bool": (lambda m, a: (a > 0).median(), [F]),
    "median_dim_bool": (lambda m, a: (a > 0).median(0), [F]),
    "median_dim_empty": (lambda m, a: a[:, :0].median(1), [F]),
    "topk_k": (lambda m, a: a.topk(5), [F]),
    "quantile_q_range": (lambda m, a: a.quantile(1.5), [F]),
    "quantile_q_tensor_range": (lambda m, a: a.quantile(m.tensor([0.5, 1.5], dtype=a.dtype)), [F]),
    "quantile_q_dtype": (lambda m, a: a.quantile(m.tensor([0.5], dtype=m.float32)), [F]),
    "quantile_q_2d": (lambda m, a: a.quantile(m.tensor([[0.5]], dtype=a.dtype)), [F]),
    "quantile_int": (lambda m, a: a.long().quantile(0.5), [F]),
    "quantile_empty": (lambda m, a: a[:0].quantile(0.5), [F]),
    "quantile_interpolation": (lambda m, a: a.quantile(0.5, interpolation="cubic"), [F]),
    "nanquantile_q_range": (lambda m, a: m.nanquantile(a, -0.1), [F]),
    "searchsorted_side": (lambda m, a: m.searchsorted(a[0], a, side="middle"), [F]),
    "searchsorted_side_right": (lambda m, a: m.searchsorted(a[0], a, right=True, side="left"), [F]),
    "searchsorted_shape": (lambda m, a: m.searchsorted(a, a[:2]), [F]),
    "searchsorted_scalar_nd": (lambda m, a: m.searchsorted(a, 0.5), [F]),
    "searchsorted_sorter_shape": (lambda m, a: m.searchsorted(a[0], a, sorter=_idx(m, [0, 1])), [F]),
    "searchsorted_bool": (lambda m, a: m.searchsorted((a > 0)[0], a > 0), [F]),
    "bucketize_2d": (lambda m, a: m.bucketize(a, a), [F]),
    "bincount_2d": (lambda m, a: m.bincount(a.long().abs()), [F]),
    "bincount_negative": (lambda m, a: m.bincount(a.long()[0]), [F]),
    "bincount_float": (lambda m, a: m.bincount(a[0]), [F]),
    "bincount_weights": (lambda m, a: m.bincount(a.long().abs()[0], a[1, :2]), [F]),
    "bincount_minlength": (lambda m, a: m.bincount(a.long().abs()[0], minlength=-1), [F]),
    "histc_bins": (lambda m, a: m.histc(a, bins=0), [F]),
    "histc_range": (lambda m, a: m.histc(a, min=2, max=1), [F]),
    "histc_int": (lambda m, a: m.histc(a.long()), [F]),
    "histc_bool": (lambda m, a: m.histc(a > 0), [F]),
    "histogram_int": (lambda m, a: m.histogram(a.long(), 3), [F]),
    "histogram_bins_dtype": (lambda m, a: m.histogram(a, m.tensor([0.0, 1.0], dtype=m.float32)), [F]),
    "histogram_weight_shape": (lambda m, a: m.histogram(a, 3, weight=a[0]), [F]),
    "histogram_range_order": (lambda m, a: m.histogram(a, 3, range=(1.0, 0.0)), [F]),
    "histogram_range_inf": (lambda m, a: m.histogram(a, 3, range=(0.0, float("inf"))), [F]),
    "histogram_bins_2d": (lambda m, a: m.histogram(a, a[:1, :2]), [F]),
    "histc_range_inf": (lambda m, a: m.histc(a, 3, min=0, max=float("inf")), [F]),
    # scatter family
    "scatter_index_dims": (lambda m, a: a.scatter(1, _idx(m, [0, 1]), 1.0), [F]),
    "scatter_index_bound": (lambda m, a: a.scatter(1, _idx(m, [[0, 5]]), 1.0), [F]),
    "scatter_index_negative": (lambda m, a: a.scatter(1, _idx(m, [[0, -1]]), 1.0), [F]),
    "scatter_index_float": (lambda m, a: a.scatter(1, m.tensor([[0.0]]), 1.0), [F]),
    "scatter_index_too_big": (lambda m, a: a.scatter(1, _idx(m, [[0, 1]] * 4), a), [F]),
    "scatter_src_dtype": (lambda m, a: a.scatter(1, _idx(m, [[0, 1]]), a.float()), [F]),
    "scatter_reduce_arg": (lambda m, a: a.scatter(1, _idx(m, [[0, 1]]), 2.0, reduce="mean"), [F]),
    "scatter_reduce_name": (lambda m, a: a.scatter_reduce(1, _idx(m, [[0, 1]]), a, "add"), [F]),
    "scatter_reduce_mean_bool": (lambda m, a: (a > 0).scatter_reduce(1, _idx(m, [[0]]), a > 0, "mean"), [F]),
    "scatter_add_dtype": (lambda m, a: a.scatter_add(1, _idx(m, [[0, 1]]), a.float()), [F]),
    "index_add_count": (lambda m, a: a.index_add(1, _idx(m, [0, 1]), a[:, :3]), [F]),
    "index_add_bound": (lambda m, a: a.index_add(1, _idx(m, [0, 4]), a[:, :2]), [F]),
    "index_add_negative": (lambda m, a: a.index_add(0, _idx(m, [-1]), a[:1]), [F]),
    "index_add_source_shape": (lambda m, a: a.index_add(1, _idx(m, [0, 1]), a[:2, :2]), [F]),
    "index_add_2d_index": (lambda m, a: a.index_add(1, _idx(m, [[0, 1]]), a[:, :2]), [F]),
    "index_add_float_index": (lambda m, a: a.index_add(1, m.tensor([0.0, 1.0]), a[:, :2]), [F]),
    "index_add_dtype": (lambda m, a: a.index_add(1, _idx(m, [0, 1]), a[:, :2].float()), [F]),
    "index_add_alpha_uint8": (lambda m, a: a.abs().to(m.uint8).index_add(1, _idx(m, [0]), a[:, :1].abs().to(m.uint8),
                                                                           alpha=-300), [F]),
    "index_copy_count": (lambda m, a: a.index_copy(1, _idx(m, [0, 1]), a[:, :3]), [F]),
    "index_copy_bound": (lambda m, a: a.index_copy(1, _idx(m, [0, 9]), a[:, :2]), [F]),
    "index_copy_negative": (lambda m, a: a.index_copy(0, _idx(m, [-1]), a[:1]), [F]),
    "index_copy_dtype": (lambda m, a: a.index_copy(0, _idx(m, [0]), a[:1].float()), [F]),
    "index_fill_bound": (lambda m, a: a.index_fill(1, _idx(m, [0, 9]), 1.0), [F]),
    "index_fill_value_dims": (lambda m, a: a.index_fill(1, _idx(m, [0]), a[0, :2]), [F]),
    "index_reduce_name": (lambda m, a: a.index_reduce(1, _idx(m, [0, 1]), a[:, :2], "sum"), [F]),
    "index_reduce_bound": (lambda m, a: a.index_reduce(0, _idx(m, [-1]), a[:1], "prod"), [F]),
    "index_reduce_bool_noself": (lambda m, a: (a > 0).index_reduce(0, _idx(m, [0]), a[:1] > 0, "amax",
                                                                    include_self=False), [F]),
    "index_put_shape": (lambda m, a: a.index_put((_idx(m, [0, 1]),), a[0, :3]), [F]),
    "index_put_bound": (lambda m, a: a.index_put((_idx(m, [0, 5]),), a[0]), [F]),
    "index_put_dtype": (lambda m, a: a.index_put((_idx(m, [0, 1]),), a[0].float()), [F]),
    "index_put_accumulate_shape": (lambda m, a: a.index_put((_idx(m, [0, 1]),), a[0, :3], accumulate=True), [F]),
    "masked_select_mask_dtype": (lambda m, a: a.masked_select(a.long()), [F]),
    "masked_select_broadcast": (lambda m, a: a.masked_select(a[0, :2] > 0), [F]),
    "masked_scatter_short": (lambda m, a: a.masked_scatter(a > -5, a[0]), [F]),
    "masked_scatter_mask_dtype": (lambda m, a: a.masked_scatter(a.long(), a), [F]),
    "masked_scatter_dtype": (lambda m, a: a.masked_scatter(a > 0, a.float()), [F]),
    "take_bound": (lambda m, a: a.take(_idx(m, [12])), [F]),
    "take_negative_bound": (lambda m, a: a.take(_idx(m, [-13])), [F]),
    "take_int32": (lambda m, a: a.take(_idx(m, [1], m.int32)), [F]),
    "put_count": (lambda m, a: a.put(_idx(m, [1, 2]), a[0, :3]), [F]),
    "put_bound": (lambda m, a: a.put(_idx(m, [12]), a[0, :1]), [F]),
    "take_along_dim_dims": (lambda m, a: m.take_along_dim(a, _idx(m, [1, 2]), 1), [F]),
    "take_along_dim_int32": (lambda m, a: m.take_along_dim(a, _idx(m, [[1]], m.int32), 1), [F]),
    "take_along_dim_noncontiguous": (lambda m, a: m.take_along_dim(a.t(), _idx(m, [1])), [F]),
    # shape ops
    "roll_align": (lambda m, a: a.roll((1, 2), 0), [F]),
    "roll_align_flat": (lambda m, a: a.roll((1, 2)), [F]),
    "rot90_dims": (lambda m, a: a.rot90(1, [0]), [F]),
    "rot90_1d": (lambda m, a: a[0].rot90(), [F]),
    "rot90_same": (lambda m, a: a.rot90(1, [1, -1]), [F]),
    "tile_negative": (lambda m, a: a.tile(-1), [F]),
    "repeat_interleave_size": (lambda m, a: a.repeat_interleave(_idx(m, [1, 2])), [F]),
    "repeat_interleave_negative": (lambda m, a: a.repeat_interleave(_idx(m, [1, 2, -1]), dim=0), [F]),
    "repeat_interleave_negative_int": (lambda m, a: a.repeat_interleave(-1), [F]),
    "repeat_interleave_2d": (lambda m, a: a.repeat_interleave(_idx(m, [[1, 2, 1]]), dim=0), [F]),
    "repeat_interleave_output_size": (lambda m, a: a.repeat_interleave(_idx(m, [1, 2, 1]), dim=0, output_size=3),
                                      [F]),
    "tensor_split_zero": (lambda m, a: a.tensor_split(0), [F]),
    "tensor_split_0d": (lambda m, a: a[0, 0].tensor_split(2), [F]),
    "tensor_split_2d_tensor": (lambda m, a: a.tensor_split(_idx(m, [[1]])), [F]),
    "tensor_split_float_tensor": (lambda m, a: a.tensor_split(m.tensor([1.0])), [F]),
    "hsplit_divisible": (lambda m, a: a.hsplit(3), [F]),
    "hsplit_0d": (lambda m, a: a[0, 0].hsplit(1), [F]),
    "vsplit_1d": (lambda m, a: a[0].vsplit(1), [F]),
    "dsplit_2d": (lambda m, a: a.dsplit(2), [F]),
    "hstack_empty": (lambda m, a: m.hstack([]), [F]),
    "column_stack_rows": (lambda m, a: m.column_stack([a, a[0]]), [F]),
    "meshgrid_indexing": (lambda m, a: m.meshgrid(a[0], a[1], indexing="foo"), [F]),
    "cartesian_prod_2d": (lambda m, a: m.cartesian_prod(a), [F]),
    "combinations_2d": (lambda m, a: m.combinations(a), [F]),
    "combinations_negative": (lambda m, a: m.combinations(a[0], -1), [F]),
    "triu_indices_float": (lambda m, a: m.triu_indices(3, 3, dtype=m.float32), [F]),
    "diag_3d": (lambda m, a: m.diag(a[None]), [F]),
    "diagonal_same_dims": (lambda m, a: a.diagonal(dim1=1, dim2=-1), [F]),
    "diag_embed_same_dims": (lambda m, a: m.diag_embed(a, dim1=0, dim2=0), [F]),
    "block_diag_3d": (lambda m, a: m.block_diag(a, a[None]), [F]),
    "broadcast_tensors_shapes": (lambda m, a: m.broadcast_tensors(a, a[0, :3]), [F]),
    # the ops that existed before, with the options and messages checked again
    "index_select_dim0_bound": (lambda m, a: a.index_select(0, _idx(m, [5])), [F]),
    "index_select_dim1_bound": (lambda m, a: a.index_select(1, _idx(m, [-1])), [F]),
    "movedim_repeated": (lambda m, a: m.movedim(a, (0, 0), (1, 0)), [F]),
    "movedim_lengths": (lambda m, a: a.movedim((0, 1), (1,)), [F]),
    "unflatten_sizes": (lambda m, a: a.unflatten(1, (3, 2)), [F]),
    "unflatten_infer": (lambda m, a: a.unflatten(1, (3, -1)), [F]),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_error_messages(name):
    fn, arrays = ERRORS[name]
    assert_same_error(fn, arrays)


# ---- structure of results ---------------------------------------------------------------------------
def test_return_types_and_repr():
    """Named tuples (values/indices, hist/bin_edges) with PyTorch's repr."""
    for fn in (lambda m, a: a.kthvalue(2, 1), lambda m, a: m.median(a, 0), lambda m, a: a.nanmedian(-1, True),
               lambda m, a: m.mode(a.round(), 1), lambda m, a: a.sort(stable=True), lambda m, a: m.topk(a, 2),
               lambda m, a: m.histogram(a, 3)):
        ours, theirs = both(fn, F)
        assert repr(ours) == repr(theirs)
        assert type(ours).__name__ == type(theirs).__name__
        assert_same(tuple(ours), tuple(theirs))
    ours, theirs = both(lambda m, a: a.kthvalue(1), F[0])
    assert_same((ours.values, ours.indices), (theirs.values, theirs.indices))
    ours, theirs = both(lambda m, a: m.histogram(a, 2), F)
    assert_same((ours.hist, ours.bin_edges), (theirs.hist, theirs.bin_edges))


@pytest.mark.parametrize("kw", [{}, dict(return_inverse=True), dict(return_counts=True),
                                dict(return_inverse=True, return_counts=True), dict(sorted=False)])
def test_unique_options(kw):
    """unique returns a tensor or a tuple depending on the flags; int and float inputs."""
    same(lambda m, a: m.unique(a, **kw), I)
    same(lambda m, a: a.unique(**kw), I.astype(np.float32))
    same(lambda m, a: m.unique(a, dim=1, **{k: v for k, v in kw.items() if k != "sorted"}), I[:, [0, 1, 0, 3]])
    same(lambda m, a: m.unique_consecutive(a, **{k: v for k, v in kw.items() if k != "sorted"}), I)


def test_unique_nan_and_empty():
    """NaNs stay distinct (PyTorch compares with ==); empty inputs give empty results."""
    same(lambda m, a: m.unique(a, return_inverse=True, return_counts=True), np.array([np.nan, 1.0, np.nan, 1.0]))
    same(lambda m, a: m.unique(a, return_counts=True), np.zeros(0))
    same(lambda m, a: m.unique_consecutive(a, return_inverse=True), np.array([np.nan, np.nan, 1.0, 1.0]))


def test_unique_has_no_derivative():
    ours, theirs = both(lambda m, a: m.unique(a), np.array([1.0, 2.0, 1.0]), requires_grad=True)
    assert ours.requires_grad and ours.grad_fn.name() == theirs.grad_fn.name()
    with pytest.raises(NotImplementedError, match="the derivative for '_unique2' is not implemented."):
        ours.sum().backward()


def test_nonzero_as_tuple_and_0d():
    for arr in (F, F[0], np.array(2.0), np.array(0.0), np.zeros((0, 3))):
        same(lambda m, a: m.nonzero(a), arr)
        same(lambda m, a: a.nonzero(as_tuple=True), arr)
        same(lambda m, a: m.argwhere(a), arr)
        same(lambda m, a: m.where(a != 0), arr)


def test_existing_ops_options():
    """gather's sparse_grad, topk's sorted, sort's stable keyword: accepted with PyTorch's results."""
    same(lambda m, a: m.gather(a, 1, m.tensor([[0, 0], [3, 1], [2, 2]]), sparse_grad=False), F)
    same(lambda m, a: m.topk(a, 2, sorted=True), F)
    same(lambda m, a: m.sort(a, stable=True, dim=0, descending=True), F)


def test_sort_ties_are_stable_and_grad_fn():
    """stable=True keeps equal values in input order, ascending and descending; grad_fn follows the overload."""
    ties = np.array([[2.0, 1.0, 2.0, 1.0, 2.0, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0]])
    for descending in (False, True):
        same(lambda m, a: a.sort(descending=descending, stable=True), ties)
        same(lambda m, a: m.argsort(a, descending=descending, stable=True), ties)
        same(lambda m, a: m.sort(a.long(), dim=1, descending=descending, stable=True), ties)
    for fn in (lambda m, a: a.sort(), lambda m, a: a.sort(stable=False), lambda m, a: a.topk(2)):
        ours, theirs = both(fn, F, requires_grad=True)
        assert ours.values.grad_fn.name() == theirs.values.grad_fn.name()


def test_integer_order_statistics():
    """Integer inputs without ties: values and indices equal PyTorch's, dtypes kept."""
    perm = np.array([[5, 0, 3, 9, 1], [7, 2, 8, 4, 6]])
    for fn in (lambda m, a: a.topk(3), lambda m, a: m.topk(a, 2, 0, largest=False), lambda m, a: a.kthvalue(2),
               lambda m, a: m.median(a, 1), lambda m, a: a.median(), lambda m, a: m.msort(a),
               lambda m, a: a.nanmedian(0), lambda m, a: m.mode(a % 3, 1)):
        same(fn, perm)
        same(fn, perm.astype(np.uint8))


def test_median_is_lower_and_nan_wins():
    same(lambda m, a: (a.median(), m.median(a, 0)), np.array([4.0, 1.0, 3.0, 2.0]))
    same(lambda m, a: (a.median(), a.nanmedian()), np.array([4.0, np.nan, 3.0, 2.0]))
    same(lambda m, a: (m.quantile(a, 0.5), m.nanquantile(a, 0.5)), np.array([4.0, np.nan, 3.0, 2.0]))


def test_median_gradient_is_shared_by_ties():
    """median() of all elements spreads the gradient evenly over the elements equal to it (as PyTorch)."""
    for fn in (lambda m, a: a.median(), lambda m, a: m.nanmedian(a)):
        arr = np.array([1.0, 2.0, 2.0, 3.0, 2.0])
        xs = [m.from_numpy(arr.copy()).requires_grad_() for m in M]
        for m, x in zip(M, xs):
            fn(m, x).backward()
        assert_same(xs[0].grad, xs[1].grad)


def test_scatter_reduce_ties_share_the_gradient():
    """amax/amin ties (in src and with self) split the gradient as PyTorch's formula does."""
    x = np.array([[1.0, 2.0], [3.0, 3.0]])
    src = np.array([[3.0, 2.0], [3.0, 1.0]])
    index = [[1, 0], [1, 0]]
    for reduce in ("amax", "amin"):
        for include_self in (True, False):
            xs = [tensors(m, [x, src], requires_grad=True) for m in M]
            outs = [a.scatter_reduce(0, m.tensor(index), b, reduce, include_self=include_self)
                    for m, (a, b) in zip(M, xs)]
            assert_same(outs[0], outs[1])
            for m, o in zip(M, outs):
                (o * m.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=m.float64)).sum().backward()
            assert_same(xs[0][0].grad, xs[1][0].grad)
            assert_same(xs[0][1].grad, xs[1][1].grad)


def test_scatter_reduce_old_names():
    """'max' and 'min' still mean amax and amin."""
    for reduce in ("max", "min"):
        same(lambda m, a: a.scatter_reduce(1, m.tensor([[0, 0, 1], [3, 3, 3], [2, 1, 2]]), a * 2, reduce), F)


def test_scatter_reduce_prod_with_zeros():
    """prod's gradient with zeros in self and src (one zero, two zeros) matches PyTorch's."""
    x = np.array([[0.0, 2.0, 1.5], [3.0, 0.5, 2.0]])
    src = np.array([[0.0, 2.0, 0.0], [4.0, 0.0, 1.0]])
    index = [[0, 1, 1], [0, 1, 0]]
    for include_self in (True, False):
        xs = [tensors(m, [x, src], requires_grad=True) for m in M]
        for m, (a, b) in zip(M, xs):
            a.scatter_reduce(0, m.tensor(index), b, "prod", include_self=include_self).sum().backward()
        assert_same(xs[0][0].grad, xs[1][0].grad)
        assert_same(xs[0][1].grad, xs[1][1].grad)


def test_0d_index_ops_gradients():
    """0-d self and source: the index_* ops treat them as one-element vectors, gradients included."""
    fns = [lambda m, x, s: x.index_add(0, m.tensor([0]), s, alpha=3),
           lambda m, x, s: x.index_copy(0, m.tensor([0]), s) * x,
           lambda m, x, s: x.index_fill(0, m.tensor([0]), s) + x,
           lambda m, x, s: x.scatter(0, m.tensor(0), s) * x,
           lambda m, x, s: x.scatter_reduce(0, m.tensor(0), s, "prod")]
    for fn in fns:
        xs = [tensors(m, [S0, np.array(-2.0)], requires_grad=True) for m in M]
        outs = [fn(m, *t) for m, t in zip(M, xs)]
        assert_same(outs[0], outs[1])
        for o in outs:
            o.backward()
        for ours, theirs in zip(*xs):
            assert_same(ours.grad, theirs.grad)


def test_repeated_indices_accumulate_gradients():
    """No gradient is lost where an index repeats (gather, index_select, take, take_along_dim, index_put)."""
    fns = [lambda m, a: a.gather(0, m.tensor([[1, 1, 1, 1], [1, 0, 1, 1]])),
           lambda m, a: a.index_select(1, m.tensor([2, 2, 2])),
           lambda m, a: a.take(m.tensor([4, 4, 4, 0])),
           lambda m, a: m.take_along_dim(a, m.tensor([[3, 3, 3]] * 3), 1),
           lambda m, a: a.repeat_interleave(m.tensor([3, 0, 2]), dim=0),
           lambda m, a: a.index_put((m.tensor([1, 1]),), a[0], accumulate=True)]
    for fn in fns:
        xs = [m.from_numpy(F.copy()).requires_grad_() for m in M]
        for m, x in zip(M, xs):
            y = fn(m, x)
            (y * m.arange(1.0, 1.0 + y.numel(), dtype=m.float64).reshape(y.shape)).sum().backward()  # distinct weights
        assert_same(xs[0].grad, xs[1].grad)


# ---- in-place forms -----------------------------------------------------------------------------------
INPLACE = {
    "scatter_": lambda m, a, b: a.scatter_(1, m.tensor([[0, 3], [1, 2], [3, 0]]), b[:, :2]),
    "scatter_value_": lambda m, a, b: a.scatter_(1, m.tensor([[0], [2], [1]]), 4.0),
    "scatter_add_": lambda m, a, b: a.scatter_add_(0, m.tensor([[0, 0, 2, 2]]), b),
    "scatter_reduce_": lambda m, a, b: a.scatter_reduce_(0, m.tensor([[0, 0, 2, 2]]), b, "amin"),
    "index_add_": lambda m, a, b: a.index_add_(0, m.tensor([2, 2]), b[:2], alpha=2),
    "index_copy_": lambda m, a, b: a.index_copy_(1, m.tensor([1, 0]), b[:, :2]),
    "index_fill_": lambda m, a, b: a.index_fill_(0, m.tensor([-1]), -7.0),
    "index_put_": lambda m, a, b: a.index_put_((m.tensor([0, 0]), m.tensor([1, 1])), b[0, :2], accumulate=True),
    "index_reduce_": lambda m, a, b: a.index_reduce_(0, m.tensor([1, 1]), b[:2], "prod"),
    "masked_scatter_": lambda m, a, b: a.masked_scatter_(b > 0, b),
    "put_": lambda m, a, b: a.put_(m.tensor([0, 11]), b[0, :2], accumulate=True),
}


@pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta")
@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_forms(name):
    """The in-place form writes into the tensor (and its views), returns it and bumps its version."""
    fn = INPLACE[name]
    for m in M:
        a, b = tensors(m, [F, F * 2 - 1])
        view = a[1:]
        v0 = a._version
        out = fn(m, a, b)
        assert out is a and a._version > v0
        np.testing.assert_array_equal(view.numpy(), a.numpy()[1:])
    ours, theirs = both(lambda m, a, b: fn(m, a.clone(), b), F, F * 2 - 1, requires_grad=True)
    assert_same(ours, theirs)
    assert ours.grad_fn.name() == theirs.grad_fn.name()
    for m in M:
        leaf = m.from_numpy(F.copy()).requires_grad_()
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
            fn(m, leaf, m.from_numpy(F.copy()))


def test_inplace_on_a_view_reaches_the_base_gradient():
    ours, theirs = [], []
    for m, out in zip(M, (ours, theirs)):
        x = m.from_numpy(F.copy()).requires_grad_()
        y = x * 1
        y[1:].index_add_(1, m.tensor([0, 0]), m.ones(2, 2, dtype=m.float64) * x[0, :2])
        (y * m.arange(12.0, dtype=m.float64).reshape(3, 4)).sum().backward()
        out.append(x.grad)
    assert_same(ours[0], theirs[0])


# ---- searchsorted, histograms ----------------------------------------------------------------------------
def test_searchsorted_forms():
    seq = np.array([-1.0, 0.0, 0.0, 2.0, 5.0])
    rows = np.array([[0.0, 1.0, 1.0], [-2.0, -1.0, 3.0]])
    same(lambda m, s: (m.searchsorted(s, 0.0), m.searchsorted(s, 0.0, right=True), m.searchsorted(s, 7)), seq)
    same(lambda m, s, v: (m.searchsorted(s, v), m.searchsorted(s, v, side="right", out_int32=True)), rows,
         np.array([[1.0, 0.5], [-1.0, 9.0]]))
    same(lambda m, s, v: m.bucketize(v, s, out_int32=True), seq, rows)
    same(lambda m, s: m.bucketize(3, s, right=True), seq)
    same(lambda m, s, v: m.searchsorted(s.long(), v.long()), seq, rows)
    same(lambda m, s, v: m.searchsorted(s, v), np.array([1.0, 2.0, np.nan]), np.array([np.nan, 1.5, np.inf]))


def test_histograms_at_edges():
    """Values on bin edges, and the right edge itself, land in the bins PyTorch puts them in."""
    edges = np.array([0.0, 0.25, 0.5, 0.75, 1.0, 1.0, -0.1, 0.1, 1.1])
    for dtype in ("float32", "float64"):
        a = edges.astype(dtype)
        same(lambda m, x: (m.histc(x, 4, 0, 1), x.histc(4), m.histc(x, 3, min=0.1, max=0.9)), a)
        same(lambda m, x: (m.histogram(x, 4, range=(0.0, 1.0)), x.histogram(5), m.histogram(x, 4, density=True)), a)
        same(lambda m, x: m.histogram(x, m.tensor([0.0, 0.25, 1.0], dtype=x.dtype), weight=x * 2), a)
    same(lambda m, x: (m.histc(x, 3), m.histogram(x, 2)), np.array([2.0, 2.0, 2.0]))  # min == max


def test_bincount_forms():
    ints = np.array([0, 3, 3, 1, 0, 3])
    same(lambda m, a: (m.bincount(a), a.bincount(minlength=7), m.bincount(a[:0])), ints)
    for wdtype in (np.float32, np.float64, np.int64):
        ws = (np.arange(6) * 0.5).astype(wdtype)
        same(lambda m, a, w: m.bincount(a, w), ints, ws)


# ---- warnings ------------------------------------------------------------------------------------------------
def test_warnings():
    with pytest.warns(UserWarning, match="torch.meshgrid: in an upcoming release, it will be required to pass the "
                                         "indexing argument."):
        G.meshgrid(G.arange(2), G.arange(3))
    with pytest.warns(UserWarning, match="The reduce argument of torch.scatter with Tensor src is deprecated"):
        G.zeros(2).scatter(0, G.tensor([0]), G.ones(1), reduce="add")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        G.zeros(2).scatter(0, G.tensor([0]), 1.0, reduce="add")  # a number src: no warning
        G.meshgrid(G.arange(2), G.arange(3), indexing="xy")


# ---- shape ops: identities and views -----------------------------------------------------------------------
def test_views_and_identities():
    """diagonal and the splits are views; atleast_nd/broadcast_tensors return an input that already fits."""
    for m in M:
        x = m.from_numpy(F.copy())
        d = x.diagonal(1)
        d.mul_(10)
        assert x[0, 1].item() == F[0, 1] * 10
        pieces = x.tensor_split(2, dim=1)
        pieces[1][0, 0] = 99.0
        assert x[0, 2].item() == 99.0
        assert m.atleast_1d(x) is x and m.atleast_2d(x) is x
        assert m.broadcast_tensors(x, x[0])[0] is x
    same(lambda m, a: (m.atleast_1d(a[0, 0], a), m.atleast_3d([a])), F)
    same(lambda m, a: m.block_diag(), F)
    same(lambda m, a: m.combinations(a[0], 0), F)


def test_noncontiguous_sources():
    """Non-contiguous self/src/index tensors scatter the same values as contiguous ones."""
    src = noncontiguous(F * 3)
    for fn in (lambda m, a, b: a.scatter_reduce(1, m.tensor([[0, 0], [3, 1], [2, 2]]).t().t(), b, "sum"),
               lambda m, a, b: a.index_add(1, m.tensor([3, 1, 3, 1]), b),
               lambda m, a, b: a.masked_scatter(b > 0, b),
               lambda m, a, b: a.diagonal().mul(b.diagonal())):
        ours, theirs = both(fn, noncontiguous(F), src)
        assert_same(ours, theirs)


def test_meshgrid_error_names_the_tensor():
    """(PyTorch prints the offending tensor in its C++ format, so only the start of the message is compared.)"""
    with pytest.raises(RuntimeError, match=r"^torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: "):
        G.meshgrid(G.zeros(2, 2), indexing="ij")


# ---- edge cases ---------------------------------------------------------------------------------------
S0, V, E = np.array(1.5), np.array([1.0, -2.0, 3.0]), np.zeros((0, 3))
EDGE = {  # 0-d, empty and integer inputs: the same result, or the same error, as PyTorch
    "scatter_0d": (lambda m, a: a.scatter(0, m.tensor(0), 2.0), [S0]),
    "scatter_add_0d": (lambda m, a: a.scatter_add(0, m.tensor(0), a), [S0]),
    "gather_0d": (lambda m, a: a.gather(0, m.tensor(0)), [S0]),
    "scatter_reduce_0d": (lambda m, a: a.scatter_reduce(0, m.tensor(0), a, "sum"), [S0]),
    "index_add_1d": (lambda m, a: a.index_add(0, m.tensor([0, 0]), m.tensor([1., 2.], dtype=a.dtype)), [V]),
    "index_add_0d": (lambda m, a: a.index_add(0, m.tensor([0]), a), [S0]),
    "index_fill_0d": (lambda m, a: a.index_fill(0, m.tensor([0]), 3.0), [S0]),
    "index_copy_0d": (lambda m, a: a.index_copy(0, m.tensor([0]), a * 2), [S0]),
    "take_0d": (lambda m, a: a.take(m.tensor([0, 0])), [S0]),
    "put_0d": (lambda m, a: a.put(m.tensor([0]), m.tensor([5.], dtype=a.dtype)), [S0]),
    "roll_0d": (lambda m, a: a.roll(1, 0), [S0]),
    "roll_empty": (lambda m, a: a.roll(1, 0), [E]),
    "tile_0d": (lambda m, a: a.tile((2, 2)), [S0]),
    "repeat_interleave_0d": (lambda m, a: a.repeat_interleave(3), [S0]),
    "repeat_interleave_0d_tensor": (lambda m, a: a.repeat_interleave(m.tensor(2)), [V]),
    "repeat_interleave_1elt_tensor": (lambda m, a: a.repeat_interleave(m.tensor([2]), dim=0), [V]),
    "diag_embed_1d": (lambda m, a: m.diag_embed(a, -1), [V]),
    "diagflat_0d": (lambda m, a: m.diagflat(a), [S0]),
    "diag_empty": (lambda m, a: m.diag(a), [E]),
    "diagonal_big_offset": (lambda m, a: a.diagonal(5), [F]),
    "tensor_split_more_than_size": (lambda m, a: a.tensor_split(5), [V]),
    "tensor_split_empty": (lambda m, a: a.tensor_split(2), [E]),
    "tensor_split_negative": (lambda m, a: (a.tensor_split([-2, 1, 3], dim=1), a.tensor_split([-1], dim=0)), [F]),
    "unique_consecutive_dim_size1": (lambda m, a: m.unique_consecutive(a[:1], dim=0, return_inverse=True,
                                                                      return_counts=True), [F]),
    "unique_consecutive_dim_empty": (lambda m, a: m.unique_consecutive(a, dim=1, return_counts=True), [E]),
    "unique_consecutive_dim_empty_selected": (lambda m, a: m.unique_consecutive(a, dim=0, return_inverse=True), [E]),
    "unique_dim_empty": (lambda m, a: m.unique(a, dim=1), [E]),
    "unique_dim_empty_selected": (lambda m, a: m.unique(a, dim=0, return_inverse=True, return_counts=True), [E]),
    "unique_0d": (lambda m, a: m.unique(a, return_inverse=True), [S0]),
    "unique_consecutive_0d": (lambda m, a: m.unique_consecutive(a, return_counts=True), [S0]),
    "kthvalue_0d": (lambda m, a: a.kthvalue(1), [S0]),
    "median_0d": (lambda m, a: (a.median(), a.median(0)), [S0]),
    "mode_0d": (lambda m, a: a.mode(), [S0]),
    "mode_1d": (lambda m, a: a.mode(), [V]),
    "median_empty": (lambda m, a: a.median(), [E]),
    "quantile_0d": (lambda m, a: (a.quantile(0.5), a.quantile(0.5, dim=0)), [S0]),
    "quantile_0d_keep": (lambda m, a: a.quantile(m.tensor([0.5], dtype=a.dtype), dim=0, keepdim=True), [S0]),
    "searchsorted_empty_seq": (lambda m, a: m.searchsorted(a[0, :0], a), [F]),
    "bincount_empty_minlength": (lambda m, a: m.bincount(a[0, :0].long(), minlength=3), [F]),
    "histc_empty": (lambda m, a: m.histc(a, 3), [E]),
    "histogram_empty": (lambda m, a: m.histogram(a, 3), [E]),
    "nonzero_empty": (lambda m, a: m.nonzero(a), [E]),
    "sort_empty": (lambda m, a: a.sort(1), [E]),
    "topk_0": (lambda m, a: a.topk(0), [F]),
    "topk_0d": (lambda m, a: (a.topk(1), a.topk(0), a.topk(1, largest=False)), [S0]),
    "combinations_empty": (lambda m, a: m.combinations(a[:0]), [V]),
    "cartesian_empty": (lambda m, a: m.cartesian_prod(a, a[:0]), [V]),
    "block_diag_empty_mat": (lambda m, a: m.block_diag(a, a[:0]), [F]),
    "meshgrid_single": (lambda m, a: m.meshgrid(a, indexing="xy"), [V]),
    "hstack_0d": (lambda m, a: m.hstack([a, a]), [S0]),
    "vstack_0d": (lambda m, a: m.vstack([a, a]), [S0]),
    "rot90_neg5": (lambda m, a: a.rot90(-5), [F]),
    "masked_select_0d": (lambda m, a: a.masked_select(a > 0), [S0]),
    "take_along_dim_0d": (lambda m, a: m.take_along_dim(a, m.tensor(0)), [S0]),
    "index_put_bool": (lambda m, a: a.index_put((a > 5,), m.tensor(0., dtype=a.dtype)), [F]),
    "index_put_bool_acc": (lambda m, a: a.index_put((a > 5,), m.tensor(1., dtype=a.dtype), accumulate=True), [F]),
    "scatter_int": (lambda m, a: a.long().scatter(1, m.tensor([[0],[1],[2]]), 7), [F]),
    "scatter_int_float_value": (lambda m, a: a.long().scatter(1, m.tensor([[0],[1],[2]]), 7.9), [F]),
    "index_fill_int_float": (lambda m, a: a.long().index_fill(1, m.tensor([0]), 2.7), [F]),
    "scatter_reduce_int_mean": (lambda m, a: a.long().scatter_reduce(1, m.tensor([[0, 0], [1, 1], [2, 2]]),
                                                                     a.long() * 3, "mean"), [F]),
    "scatter_reduce_int_amax_noself": (lambda m, a: a.long().scatter_reduce(1, m.tensor([[0, 0], [1, 1], [2, 2]]),
                                                                            a.long() * 3, "amax", include_self=False),
                                       [F]),
}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", list(EDGE))
def test_edge_cases(name):
    fn, arrays = EDGE[name]
    if raised(fn, torch, *tensors(torch, arrays)) is not None:
        assert_same_error(fn, arrays)
    else:
        same(fn, *arrays)


# ---- random shapes and repeated indices ---------------------------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

REDUCING = {
    "scatter_add": lambda m, x, s, dim, idx: x.scatter_add(dim, idx, s),
    "scatter_reduce_sum": lambda m, x, s, dim, idx: x.scatter_reduce(dim, idx, s, "sum", include_self=False),
    "scatter_reduce_mean": lambda m, x, s, dim, idx: x.scatter_reduce(dim, idx, s, "mean"),
    "scatter_reduce_amax": lambda m, x, s, dim, idx: x.scatter_reduce(dim, idx, s, "amax", include_self=False),
    "scatter_reduce_prod": lambda m, x, s, dim, idx: x.scatter_reduce(dim, idx, s, "prod"),
    "index_add": lambda m, x, s, dim, idx: x.index_add(dim, idx.reshape(-1)[:s.shape[dim]], s, alpha=0.5),
    "index_reduce_amin": lambda m, x, s, dim, idx: x.index_reduce(dim, idx.reshape(-1)[:s.shape[dim]], s, "amin"),
    "gather": lambda m, x, s, dim, idx: x.gather(dim, idx) * s[tuple(slice(0, k) for k in idx.shape)],
    "take_along_dim": lambda m, x, s, dim, idx: m.take_along_dim(x, idx, dim),
}


@st.composite
def scatter_case(draw):
    """A 1-3-D self, a dim, and an index (with repeats) of self's shape but any length along dim.

    (src has the index's shape: PyTorch's scatter_add backward fails for a larger src.)
    """
    nd = draw(st.integers(1, 3))
    shape = draw(st.lists(st.integers(1, 4), min_size=nd, max_size=nd))
    dim = draw(st.integers(-nd, nd - 1))
    idx_shape = list(shape)
    idx_shape[dim] = draw(st.integers(1, 5))
    return shape, idx_shape, idx_shape, dim, draw(st.integers(0, 2 ** 16))


@pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta")
@settings(max_examples=15, deadline=None, derandomize=True, database=None)
@given(case=scatter_case(), name=st.sampled_from(sorted(REDUCING)))
def test_random_scatter_shapes(case, name):
    """Forward and gradients of the accumulating ops on random shapes with repeated indices."""
    shape, src_shape, idx_shape, dim, seed = case
    rng = np.random.default_rng(seed)
    x, s = rng.uniform(0.5, 2.0, shape), rng.uniform(0.5, 2.0, src_shape)  # no zeros: prod's easy case
    idx = rng.integers(0, shape[dim], idx_shape)
    fn = REDUCING[name]
    outs, grads = [], []
    for m in M:
        xs = tensors(m, [x, s], requires_grad=True)
        out = fn(m, *xs, dim, m.from_numpy(idx.copy()))
        out.backward(m.from_numpy(np.linspace(-1.0, 1.0, out.numel()).reshape(tuple(out.shape))))
        outs.append(out)
        grads.append([t.grad for t in xs])
    assert_same(outs[0], outs[1])
    for ours, theirs in zip(*grads):
        assert (ours is None) == (theirs is None)
        if theirs is not None:
            assert_same(ours, theirs)


ORDER_STATS = {
    "sort": lambda m, a, dim, k, keep: a.sort(dim, descending=keep),
    "argsort": lambda m, a, dim, k, keep: m.argsort(a, dim, descending=keep),
    "topk": lambda m, a, dim, k, keep: a.topk(k, dim, largest=keep),
    "kthvalue": lambda m, a, dim, k, keep: a.kthvalue(k, dim, keep),
    "median": lambda m, a, dim, k, keep: m.median(a, dim, keep),
    "nanmedian": lambda m, a, dim, k, keep: a.nanmedian(dim, keepdim=keep),
    "quantile": lambda m, a, dim, k, keep: a.quantile(m.tensor([0.1, 0.5, 1.0], dtype=a.dtype), dim, keep),
    "nanquantile": lambda m, a, dim, k, keep: m.nanquantile(a, 0.3 * k, dim=dim, keepdim=keep,
                                                             interpolation="midpoint"),
}


@st.composite
def order_case(draw):
    nd = draw(st.integers(1, 3))
    shape = draw(st.lists(st.integers(1, 5), min_size=nd, max_size=nd))
    dim = draw(st.integers(-nd, nd - 1))
    return shape, dim, draw(st.integers(1, shape[dim])), draw(st.booleans()), draw(st.integers(0, 2 ** 16))


@settings(max_examples=20, deadline=None, derandomize=True, database=None)
@given(case=order_case(), name=st.sampled_from(sorted(ORDER_STATS)))
def test_random_order_statistics(case, name):
    """Sorting and order statistics along random dims (continuous values: no ties), forward and backward."""
    shape, dim, k, keep, seed = case
    x = np.random.default_rng(seed).standard_normal(shape)
    outs, grads = [], []
    for m in M:
        (t,) = tensors(m, [x], requires_grad=True)
        out = ORDER_STATS[name](m, t, dim, k, keep)
        values = out[0] if isinstance(out, tuple) else out
        if values.requires_grad:
            (values * m.from_numpy(np.linspace(0.5, 2.0, values.numel()).reshape(tuple(values.shape)))).sum().backward()
        outs.append(out)
        grads.append(t.grad)
    assert_same(outs[0], outs[1])
    assert (grads[0] is None) == (grads[1] is None)
    if grads[1] is not None:
        assert_same(grads[0], grads[1])


def test_ops_without_derivative():
    """scatter's reduce forms, bincount's weights and histogram give PyTorch's NotImplemented grad_fn."""
    for fn in (lambda m, x, s: x.scatter(0, m.tensor([0, 0]), s, reduce="add"),
               lambda m, x, s: x.scatter(0, m.tensor([1]), 2.0, reduce="multiply"),
               lambda m, x, s: m.bincount(m.tensor([0, 2]), weights=s),
               lambda m, x, s: m.histogram(x, 3, weight=x * 2).hist):
        outs = []
        for m in M:
            x, s = tensors(m, [np.array([1.0, 2.0, 3.0]), np.array([0.5, 1.5])], requires_grad=True)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = fn(m, x, s)
            assert out.requires_grad and out.grad_fn.name() == "torch::autograd::NotImplemented"
            assert repr(out.grad_fn).startswith("<NotImplemented object at ")
            with pytest.raises(RuntimeError, match=r"^derivative for aten::(scatter|bincount|histogram) is not "
                                                   r"implemented$"):
                out.sum().backward()
            outs.append(out)
        assert repr(outs[0]) == repr(outs[1])


def test_ufunc_at_in_rounds_matches_ufunc_at():
    """The CuPy path for reductions CuPy's ufunc.at lacks (multiply), run on NumPy: the same bits as
    np.multiply.at, repeated positions applied in input order."""
    from glasstorch._ops.indexing import _grids, _ufunc_at_in_rounds

    rng = np.random.default_rng(0)
    for _ in range(10):
        shape = tuple(int(s) for s in rng.integers(1, 5, 3))
        dim = int(rng.integers(0, 3))
        idx_shape = list(shape)
        idx_shape[dim] = int(rng.integers(1, 7))
        grids = _grids(np, rng.integers(0, shape[dim], idx_shape), dim)
        values = rng.uniform(0.5, 2.0, idx_shape)
        for name, v in (("multiply", values), ("maximum", values), ("multiply", 1.5)):
            expected, actual = [rng.uniform(0.5, 2.0, shape)] * 2
            expected, actual = expected.copy(), actual.copy()
            getattr(np, name).at(expected, grids, v)
            _ufunc_at_in_rounds(np, name, actual, grids, v)
            np.testing.assert_array_equal(actual, expected)
