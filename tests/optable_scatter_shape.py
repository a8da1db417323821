"""Op-table rows for the scatter/gather family (glasstorch/_ops/indexing.py) and the shape ops added
next to it (roll, rot90, tile, repeat_interleave, tensor_split, stacks, diagonals; _ops/shape.py).

Indices are constants inside each row. Plain `scatter`/`index_copy`/`put` never write two values to one
place (PyTorch leaves the winner unspecified); the accumulating and reducing forms use repeated
indices on purpose, so the gradients of repeats are checked to add up.
"""
from __future__ import annotations

from _optable import ONE, R, R3, UNARY, Op, pos, real

# scatter along dim 0 of a (3, 4): every column writes each row at most once
IDX0 = [[0, 1, 2, 0], [2, 0, 1, 1]]
# scatter along dim 1 of a (3, 4): every row writes each column at most once
IDX1 = [[0, 3], [1, 2], [3, 0]]
# repeated destinations along dim 0 of a (3, 4), for the accumulating and reducing forms
REP0 = [[0, 1, 2, 0], [0, 1, 0, 2], [2, 1, 0, 0]]


def _i(m, rows):
    return m.tensor(rows)


def _scatter_reduce_rows():
    rows = []
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            rows.append(Op(f"scatter_reduce_{reduce}_{'self' if include_self else 'noself'}",
                           lambda m, a, b, r=reduce, s=include_self: a.scatter_reduce(0, _i(m, REP0), b, r,
                                                                                     include_self=s),
                           [((3, 4), (3, 4))], pos if reduce == "prod" else real))
    return rows


def _index_reduce_rows():
    rows = []
    for reduce in ("prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            rows.append(Op(f"index_reduce_{reduce}_{'self' if include_self else 'noself'}",
                           lambda m, a, b, r=reduce, s=include_self: a.index_reduce(0, _i(m, [0, 2, 0]), b, r,
                                                                                   include_self=s),
                           [((3, 4), (3, 4))], pos if reduce == "prod" else real))
    return rows


def _scatter_(a, *args, **kw):
    return a.clone().scatter_(*args, **kw)


TABLE = [
    # ---- scatter -------------------------------------------------------------------------------------
    Op("scatter_src", lambda m, a, b: a.scatter(0, _i(m, IDX0), b), [((3, 4), (2, 4))]),
    Op("scatter_src_dim1", lambda m, a, b: m.scatter(a, 1, _i(m, IDX1), b), [((3, 4), (3, 2))]),
    Op("scatter_value", lambda m, a: m.scatter(a, 1, _i(m, IDX1), 0.5), ONE),
    Op("scatter_value_kw", lambda m, a: a.scatter(0, _i(m, IDX0), value=-1.5), ONE),
    Op("scatter_add_repeats", lambda m, a, b: m.scatter_add(a, 0, _i(m, REP0), b), [((3, 4), (3, 4))]),
    Op("scatter_", lambda m, a, b: _scatter_(a, 1, _i(m, IDX1), b), [((3, 4), (3, 2))]),
    Op("scatter_value_", lambda m, a: _scatter_(a, 0, _i(m, IDX0), 2.0), ONE),
    Op("scatter_add_", lambda m, a, b: a.clone().scatter_add_(0, _i(m, REP0), b), [((3, 4), (3, 4))]),
    Op("scatter_reduce_add_arg", lambda m, a, b: a.scatter(0, _i(m, REP0), b, reduce="add"), [((3, 4), (3, 4))],
       grad=False),
    Op("scatter_reduce_multiply_arg", lambda m, a: m.scatter(a, 0, _i(m, REP0), 1.5, reduce="multiply"), ONE,
       grad=False),
    *_scatter_reduce_rows(),
    Op("scatter_reduce_", lambda m, a, b: a.clone().scatter_reduce_(0, _i(m, REP0), b, "amax", include_self=False),
       [((3, 4), (3, 4))]),
    # ---- index_add / index_copy / index_fill / index_reduce / index_put ---------------------------------
    Op("index_add", lambda m, a, b: a.index_add(1, _i(m, [0, 2, 0]), b), [((3, 4), (3, 3))]),
    Op("index_add_alpha", lambda m, a, b: m.index_add(a, 0, _i(m, [2, 2]), b, alpha=-2.5), [((3, 4), (2, 4))]),
    Op("index_add_", lambda m, a, b: a.clone().index_add_(0, _i(m, [1, 0]), b), [((3, 4), (2, 4))]),
    Op("index_copy", lambda m, a, b: a.index_copy(0, _i(m, [2, 0]), b), [((3, 4), (2, 4))]),
    Op("index_copy_dim1", lambda m, a, b: m.index_copy(a, 1, _i(m, [3, 0, 1]), b), [((3, 4), (3, 3))]),
    Op("index_copy_", lambda m, a, b: a.clone().index_copy_(1, _i(m, [1]), b), [((3, 4), (3, 1))]),
    Op("index_fill", lambda m, a: a.index_fill(1, _i(m, [1, -1, 1]), -2.0), R),
    Op("index_fill_tensor_value", lambda m, a, v: m.index_fill(a, 0, _i(m, [0, 2]), v), [((3, 4), ())]),
    Op("index_fill_", lambda m, a: a.clone().index_fill_(-1, _i(m, [0]), 0.25), ONE),
    *_index_reduce_rows(),
    Op("index_reduce_", lambda m, a, b: a.clone().index_reduce_(1, _i(m, [3, 3]), b, "mean"), [((3, 4), (3, 2))]),
    Op("index_put", lambda m, a, b: m.index_put(a, (_i(m, [0, 2]),), b), [((3, 4), (4,)), ((3, 4), (2, 4))]),
    Op("index_put_2d", lambda m, a, b: a.index_put((_i(m, [0, 2, 1]), _i(m, [3, 0, 0])), b), [((3, 4), (3,))]),
    Op("index_put_accumulate", lambda m, a, b: a.index_put((_i(m, [0, 0, 2]), _i(m, [1, 1, 3])), b,
                                                           accumulate=True), [((3, 4), (3,)), ((3, 4), ())]),
    Op("index_put_", lambda m, a, b: a.clone().index_put_((_i(m, [1, 1]),), b, accumulate=True), [((3, 4), (4,))]),
    # ---- masks, take, put ----------------------------------------------------------------------------------
    Op("masked_select", lambda m, a, b: m.masked_select(a, b > 0), [((3, 4), (3, 4)), ((3, 4), (4,)),
                                                                     ((3, 1), (3, 4))]),
    Op("masked_select_method", lambda m, a: a.masked_select(a > 0), UNARY),
    Op("masked_scatter", lambda m, a, b, c: a.masked_scatter(b > 0, c), [((3, 4), (3, 4), (13,)),
                                                                        ((3, 4), (4,), (4, 3)),
                                                                        ((4,), (3, 4), (12,))]),
    Op("masked_scatter_", lambda m, a, b: a.clone().masked_scatter_(b > 0, b), [((3, 4), (3, 4))]),
    Op("take", lambda m, a: m.take(a, _i(m, [[0, 5], [11, -1], [5, 5]])), ONE),
    Op("take_method", lambda m, a: a.take(_i(m, [1, 0, 5])), R3),
    Op("take_along_dim", lambda m, a: m.take_along_dim(a, _i(m, [[0], [3], [1]]), dim=1), ONE),
    Op("take_along_dim_broadcast", lambda m, a: a.take_along_dim(_i(m, [[2, 0, 1, 1]]), 0), ONE),
    # (noncontig=False: PyTorch views the input as 1-D, which fails for a non-contiguous one, as in glasstorch;
    # tests/test_search_scatter.py checks that error)
    Op("take_along_dim_flat", lambda m, a: m.take_along_dim(a, _i(m, [3, 0, 3, 11])), ONE, noncontig=False),
    Op("take_along_dim_argsort", lambda m, a: m.take_along_dim(a, a.argsort(dim=-1), dim=-1), R),
    Op("put", lambda m, a, b: a.put(_i(m, [1, 5, -1]), b), [((3, 4), (3,)), ((3, 4), (1, 3))]),
    Op("put_accumulate", lambda m, a, b: a.put(_i(m, [[1, 1], [7, 1]]), b, accumulate=True),
       [((3, 4), (2, 2))]),
    Op("put_", lambda m, a, b: a.clone().put_(_i(m, [0, 2]), b), [((3, 4), (2,))]),
    # ---- roll, rot90, tile, repeat_interleave --------------------------------------------------------------
    Op("roll", lambda m, a: a.roll(1, 0), R),
    Op("roll_dims", lambda m, a: m.roll(a, (1, -2), (0, -1)), R),
    Op("roll_flat", lambda m, a: m.roll(a, 5), UNARY),
    Op("rot90", lambda m, a: a.rot90(), R),
    Op("rot90_k", lambda m, a: m.rot90(a, 2, [1, 0]), ONE),
    Op("rot90_neg_dims", lambda m, a: a.rot90(-1, (1, 2)), R3),
    Op("rot90_k3", lambda m, a: m.rot90(a, 3), ONE),
    Op("tile", lambda m, a: a.tile((2,)), R),
    Op("tile_more_dims", lambda m, a: m.tile(a, (2, 1, 2)), ONE + [((4,),)]),
    Op("repeat_interleave", lambda m, a: a.repeat_interleave(2), UNARY),
    Op("repeat_interleave_dim", lambda m, a: m.repeat_interleave(a, 3, dim=1), R),
    Op("repeat_interleave_tensor", lambda m, a: a.repeat_interleave(_i(m, [1, 0, 2]), dim=0), ONE),
    Op("repeat_interleave_output_size", lambda m, a: m.repeat_interleave(a, _i(m, [2, 1, 1, 0]), dim=-1,
                                                                         output_size=4), ONE),
    Op("repeat_interleave_counts", lambda m, a: m.repeat_interleave(_i(m, [2, 0, 3])), ONE, grad=False,
       other_dtypes=False),
    # ---- splits and stacks ------------------------------------------------------------------------------
    Op("tensor_split", lambda m, a: a.tensor_split(3, dim=1), ONE),
    Op("tensor_split_indices", lambda m, a: m.tensor_split(a, [1, 3], dim=-1), R),
    # (an index past the end leaves an empty last piece; gradgradcheck's numerical Jacobian does not take
    # empty inputs, so that check is left to the other rows)
    Op("tensor_split_tensor", lambda m, a: a.tensor_split(_i(m, [1, 5])), ONE, gradgrad=False),
    Op("tensor_split_tensor_sections", lambda m, a: m.tensor_split(a, _i(m, 2)), ONE),
    Op("hsplit", lambda m, a: a.hsplit(2), ONE + [((4,),)]),
    Op("hsplit_indices", lambda m, a: m.hsplit(a, [1]), ONE),
    Op("vsplit", lambda m, a: m.vsplit(a, [1, 2]), ONE),
    Op("dsplit", lambda m, a: a.dsplit(2), R3),
    Op("hstack", lambda m, a, b: m.hstack([a, b]), [((3, 4), (3, 2)), ((3,), (2,)), ((), (2,))]),
    Op("vstack", lambda m, a, b: m.vstack((a, b)), [((3, 4), (1, 4)), ((4,), (4,)), ((4,), (2, 4))]),
    Op("row_stack", lambda m, a, b: m.row_stack([a, b]), [((3, 4), (4,))]),
    Op("dstack", lambda m, a, b: m.dstack([a, b]), [((3, 4), (3, 4)), ((4,), (4,)), ((), ())]),
    Op("column_stack", lambda m, a, b: m.column_stack([a, b]), [((3,), (3, 2)), ((3,), (3,)), ((), ())]),
    Op("atleast_1d", lambda m, a: m.atleast_1d(a) * 1, UNARY),
    Op("atleast_2d", lambda m, a: m.atleast_2d(a), UNARY + [((4,),)]),
    Op("atleast_3d", lambda m, a: m.atleast_3d(a), UNARY + [((4,),)]),
    Op("atleast_3d_many", lambda m, a, b: m.atleast_3d(a, b), [((), (4,))]),
    Op("atleast_2d_list", lambda m, a, b: m.atleast_2d([a, b]), [((), (4,))]),
    Op("meshgrid_ij", lambda m, a, b: m.meshgrid(a, b, indexing="ij"), [((3,), (4,)), ((), (2,))]),
    Op("meshgrid_xy", lambda m, a, b, c: m.meshgrid([a, b, c], indexing="xy"), [((3,), (4,), (2,))]),
    Op("cartesian_prod", lambda m, a, b: m.cartesian_prod(a, b), [((3,), (2,))]),
    Op("cartesian_prod_three", lambda m, a, b, c: m.cartesian_prod(a, b, c), [((2,), (3,), (2,))]),
    Op("combinations", lambda m, a: m.combinations(a), [((4,),)]),
    Op("combinations_r3_replacement", lambda m, a: m.combinations(a, 3, with_replacement=True), [((3,),)]),
    Op("combinations_r_too_big", lambda m, a: m.combinations(a, 4), [((3,),)], grad=False),
    Op("triu_indices", lambda m, a: m.triu_indices(3, 4, 1), ONE, grad=False, other_dtypes=False),
    Op("tril_indices", lambda m, a: m.tril_indices(4, 3, -1, dtype=m.int32), ONE, grad=False, other_dtypes=False),
    # ---- diagonals, blocks, broadcasting -----------------------------------------------------------------
    Op("diag_vector", lambda m, a: m.diag(a), [((4,),)]),
    Op("diag_vector_offset", lambda m, a: a.diag(-2), [((3,),)]),
    Op("diag_matrix", lambda m, a: m.diag(a, 1), ONE),
    Op("diag_matrix_main", lambda m, a: a.diag(), [((4, 3),)]),
    Op("diagonal", lambda m, a: a.diagonal(), ONE),
    Op("diagonal_offset_dims", lambda m, a: m.diagonal(a, -1, 2, 0), R3),
    Op("diagonal_offset", lambda m, a: a.diagonal(offset=2, dim1=-1, dim2=-2) * 2, ONE),
    Op("diag_embed", lambda m, a: m.diag_embed(a), R),
    Op("diag_embed_offset_dims", lambda m, a: a.diag_embed(1, 0, 2), ONE),
    Op("diagflat", lambda m, a: m.diagflat(a), [((2, 3),), ((4,),)]),
    Op("diagflat_offset", lambda m, a: a.diagflat(-1), [((3,),)]),
    Op("block_diag", lambda m, a, b, c: m.block_diag(a, b, c), [((2, 3), (2,), ()), ((1, 1), (3, 2), (2, 4))]),
    Op("broadcast_tensors", lambda m, a, b: m.broadcast_tensors(a, b), [((3, 1), (4,)), ((2, 3, 4), (3, 4))]),
    Op("broadcast_to", lambda m, a: m.broadcast_to(a, (2, 3, 4)), [((3, 1),), ((4,),)]),
    Op("swapaxes", lambda m, a: m.swapaxes(a, 0, 2), R3),
    Op("swapdims", lambda m, a: a.swapdims(-1, 0), R),
    Op("moveaxis", lambda m, a: m.moveaxis(a, (0, 1), (2, 0)), R3),
    Op("moveaxis_method", lambda m, a: a.moveaxis(-1, 0), R),
]
