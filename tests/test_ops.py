"""Every op against PyTorch: forward values, dtypes and shapes, gradients, gradcheck, grad_fn names.

A TEST TABLE drives this file: each `Op` entry names a function `fn(m, *tensors)` that runs on
either module (`torch` or `glasstorch`), the input shapes to try and where the inputs are drawn
from. The generic tests below run every entry in float64 and float32, on contiguous and
non-contiguous inputs, compare forward and backward with torch and gradcheck it in float64.
Adding an op means adding one entry.

Further sections test what a table row cannot express: broadcasting shapes and reduction dims
drawn by hypothesis, indexing and index assignment, type promotion, creation and random
functions, attributes and conversions, in-place ops and the error messages.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glasstorch
from _compare import (assert_same, assert_same_error, assert_tensor_same, flat_outputs, grad_fn_name, raised,
                      tensors, tol_for)

G = glasstorch

# NaN, inf and empty inputs are tested on purpose: NumPy's floating-point warnings and PyTorch's
# (and glasstorch's) "non-tuple sequence" and "degrees of freedom" warnings are expected here.
pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore:Using a non-tuple sequence:UserWarning"),
              pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0:UserWarning"),
              pytest.mark.filterwarnings("ignore:The use of `x.T` on tensors:UserWarning")]

from _optable import (AWAY0, AWAY_CLAMP, AWAY_HALF, AWAY_INT, BINARY, INPLACE_SHAPES, MATMUL_NAMES, ONE, R,  # noqa: E402,F401
                      R3, UNARY, Op, _binary, _unary, away, family_tables, pos, real, small)

TABLE = [
    # ---- unary math -------------------------------------------------------------------------
    _unary("neg", lambda m, a: m.neg(a)),
    _unary("neg_op", lambda m, a: -a),
    _unary("abs", lambda m, a: m.abs(a), AWAY0),
    _unary("abs_builtin", lambda m, a: abs(a), AWAY0),
    _unary("sign", lambda m, a: m.sign(a), AWAY0),
    _unary("exp", lambda m, a: m.exp(a)),
    _unary("expm1", lambda m, a: m.expm1(a)),
    _unary("log", lambda m, a: m.log(a), pos),
    _unary("log2", lambda m, a: a.log2(), pos),
    _unary("log10", lambda m, a: a.log10(), pos),
    _unary("log1p", lambda m, a: m.log1p(a), away(-1.0, lo=-0.9, hi=2.0)),
    _unary("sqrt", lambda m, a: m.sqrt(a), pos),
    _unary("rsqrt", lambda m, a: m.rsqrt(a), pos),
    _unary("square", lambda m, a: m.square(a)),
    _unary("reciprocal", lambda m, a: m.reciprocal(a), AWAY0),
    _unary("sin", lambda m, a: m.sin(a)),
    _unary("cos", lambda m, a: m.cos(a)),
    _unary("tan", lambda m, a: m.tan(a), small),
    _unary("tanh", lambda m, a: m.tanh(a)),
    _unary("sigmoid", lambda m, a: m.sigmoid(a)),
    _unary("relu", lambda m, a: m.relu(a), AWAY0),
    _unary("erf", lambda m, a: m.erf(a)),
    _unary("floor", lambda m, a: m.floor(a), AWAY_INT),
    _unary("ceil", lambda m, a: m.ceil(a), AWAY_INT),
    _unary("trunc", lambda m, a: m.trunc(a), AWAY_INT),
    _unary("round", lambda m, a: m.round(a), AWAY_HALF),
    _unary("round_decimals", lambda m, a: m.round(a, decimals=1), away(*(k / 10 + 0.05 for k in range(-30, 30)),
                                                                            margin=0.01, lo=-2.9, hi=2.9)),
    _unary("clamp", lambda m, a: m.clamp(a, -0.5, 0.5), AWAY_CLAMP),
    _unary("clamp_min", lambda m, a: a.clamp(min=-0.5), AWAY_CLAMP),
    _unary("clamp_max", lambda m, a: a.clamp(max=0.5), AWAY_CLAMP),
    _unary("clip", lambda m, a: m.clip(a, -0.5, 0.5), AWAY_CLAMP),
    _unary("clamp_int_bounds", lambda m, a: a.clamp(-1, 1), away(-1, 1)),
    _unary("softmax", lambda m, a: m.softmax(a, -1) if a.ndim else m.softmax(a, 0)),
    _unary("log_softmax", lambda m, a: a.log_softmax(dim=0)),
    # ---- binary math, tensor (op) tensor, broadcasting ---------------------------------------------
    _binary("add", lambda m, a, b: m.add(a, b)),
    _binary("add_op", lambda m, a, b: a + b),
    _binary("add_alpha", lambda m, a, b: m.add(a, b, alpha=2.5)),
    _binary("sub", lambda m, a, b: m.sub(a, b)),
    _binary("sub_op", lambda m, a, b: a - b),
    _binary("sub_alpha", lambda m, a, b: a.sub(b, alpha=0.5)),
    _binary("mul", lambda m, a, b: m.mul(a, b)),
    _binary("mul_op", lambda m, a, b: a * b),
    _binary("div", lambda m, a, b: m.div(a, b), (real, AWAY0)),
    _binary("div_op", lambda m, a, b: a / b, (real, AWAY0)),
    _binary("floordiv_op", lambda m, a, b: a // b, (real, AWAY0), grad=False),
    _binary("div_floor", lambda m, a, b: m.div(a, b, rounding_mode="floor"), (real, AWAY0), grad=False),
    _binary("div_trunc", lambda m, a, b: m.div(a, b, rounding_mode="trunc"), (real, AWAY0), grad=False),
    _binary("remainder", lambda m, a, b: m.remainder(a, b), (real, pos)),
    _binary("mod_op", lambda m, a, b: a % b, (real, pos)),
    _binary("pow", lambda m, a, b: m.pow(a, b), (pos, real)),
    _binary("pow_op", lambda m, a, b: a ** b, (pos, real)),
    _binary("maximum", lambda m, a, b: m.maximum(a, b)),
    _binary("minimum", lambda m, a, b: m.minimum(a, b)),
    _binary("max_binary", lambda m, a, b: m.max(a, b)),
    _binary("where", lambda m, a, b: m.where(a > 0, a, b), (AWAY0, real)),
    _binary("where_method", lambda m, a, b: a.where(b > 0, b), (real, AWAY0)),
    _binary("clamp_tensor_min", lambda m, a, b: m.clamp(a, min=b)),
    _binary("clamp_tensor_max", lambda m, a, b: m.clamp(a, max=b)),
    Op("clamp_tensor_both", lambda m, x, lo, hi: m.clamp(x, lo, hi),
       [((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), (3, 1))], (real, away(0, lo=-1, hi=-0.2), away(0, lo=0.2, hi=1))),
    Op("lerp", lambda m, a, b: m.lerp(a, b, 0.3), BINARY[:2]),
    Op("lerp_tensor_weight", lambda m, a, b, w: a.lerp(b, w), [((3, 4), (3, 4), (3, 4)), ((3, 1), (4,), (3, 4))]),
    # ---- binary math with Python numbers, both sides -------------------------------------------
    _unary("add_scalar", lambda m, a: a + 2.5),
    _unary("radd_scalar", lambda m, a: 2.5 + a),
    _unary("add_int_scalar", lambda m, a: a + 2),
    _unary("sub_scalar", lambda m, a: a - 1.5),
    _unary("rsub_scalar", lambda m, a: 1.5 - a),
    _unary("mul_scalar", lambda m, a: a * 3.0),
    _unary("rmul_scalar", lambda m, a: 3 * a),
    _unary("div_scalar", lambda m, a: a / 4.0),
    _unary("rdiv_scalar", lambda m, a: 2.0 / a, AWAY0),
    _unary("floordiv_scalar", lambda m, a: a // 0.7, AWAY0, grad=False),
    _unary("rfloordiv_scalar", lambda m, a: 5 // a, AWAY0, grad=False),
    _unary("mod_scalar", lambda m, a: a % 0.7, away(*(0.7 * k for k in range(-4, 5)), margin=0.05)),
    _unary("rmod_scalar", lambda m, a: 0.7 % a, pos, grad=False),
    _unary("pow_2", lambda m, a: a ** 2),
    _unary("pow_3", lambda m, a: m.pow(a, 3)),
    _unary("pow_frac", lambda m, a: a ** 3.5, pos),
    _unary("pow_half", lambda m, a: a ** 0.5, pos),
    _unary("pow_neg", lambda m, a: a ** -1, AWAY0),
    _unary("pow_zero", lambda m, a: a ** 0),
    _unary("rpow", lambda m, a: 2 ** a),
    _unary("rpow_float", lambda m, a: m.pow(1.5, a)),
    # ---- matmul ---------------------------------------------------------------------------------
    Op("matmul", lambda m, a, b: m.matmul(a, b),
       [((3, 4), (4, 5)), ((4,), (4,)), ((4,), (4, 5)), ((3, 4), (4,)), ((2, 3, 4), (4, 5)),
        ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,)), ((3, 4), (2, 4, 5))],
       grad_fn=MATMUL_NAMES, tol32=dict(rtol=1e-5, atol=1e-5)),
    Op("matmul_op", lambda m, a, b: a @ b, [((3, 4), (4, 2)), ((2, 2, 3), (2, 3, 2))], grad_fn=MATMUL_NAMES),
    Op("mm", lambda m, a, b: m.mm(a, b), [((3, 4), (4, 2))]),
    Op("bmm", lambda m, a, b: a.bmm(b), [((2, 3, 4), (2, 4, 2))]),
    Op("dot", lambda m, a, b: m.dot(a, b), [((5,), (5,))]),
    Op("mv", lambda m, a, b: m.mv(a, b), [((3, 4), (4,))]),
    Op("outer", lambda m, a, b: m.outer(a, b), [((3,), (4,))]),
    # ---- reductions -----------------------------------------------------------------------------
    Op("sum", lambda m, a: a.sum(), UNARY),
    Op("sum_dim", lambda m, a: m.sum(a, 1), R),
    Op("sum_neg_dim", lambda m, a: a.sum(-1), R),
    Op("sum_dims_keepdim", lambda m, a: a.sum(dim=(0, 2), keepdim=True), R3),
    Op("sum_dim_list", lambda m, a: a.sum([2, 0]), R3),
    Op("sum_0dim_dim", lambda m, a: a.sum(0), [((),)]),
    Op("mean", lambda m, a: a.mean(), UNARY),
    Op("mean_dim", lambda m, a: m.mean(a, dim=-2, keepdim=True), R),
    Op("mean_dims", lambda m, a: a.mean((0, 1)), R3),
    Op("prod", lambda m, a: a.prod(), [((3, 4),), ((),)], pos),
    Op("prod_dim", lambda m, a: m.prod(a, 1), R, pos),
    Op("prod_dim_keepdim", lambda m, a: a.prod(-1, keepdim=True), R, pos),
    Op("max", lambda m, a: a.max(), UNARY),
    Op("min", lambda m, a: m.min(a), UNARY),
    Op("max_dim", lambda m, a: a.max(dim=1), R),
    Op("max_dim_keepdim", lambda m, a: m.max(a, -1, keepdim=True), R),
    Op("min_dim", lambda m, a: a.min(0), R),
    Op("min_dim_keepdim", lambda m, a: a.min(1, True), R),
    Op("amax", lambda m, a: m.amax(a), UNARY),
    Op("amax_dims", lambda m, a: a.amax(dim=(0, 2), keepdim=True), R3),
    Op("amin", lambda m, a: m.amin(a, 1), R),
    Op("argmax", lambda m, a: m.argmax(a), UNARY, grad=False),
    Op("argmax_dim", lambda m, a: a.argmax(dim=1, keepdim=True), R, grad=False),
    Op("argmin", lambda m, a: a.argmin(), UNARY, grad=False),
    Op("argmin_dim", lambda m, a: m.argmin(a, -1), R, grad=False),
    Op("var", lambda m, a: a.var(), R),
    Op("var_dim", lambda m, a: m.var(a, 1), R),
    Op("var_correction0", lambda m, a: a.var(dim=(0, 2), correction=0), R3),
    Op("var_unbiased_false", lambda m, a: a.var(1, unbiased=False, keepdim=True), R),
    Op("var_correction2", lambda m, a: m.var(a, -1, correction=2), R),
    Op("std", lambda m, a: a.std(), R),
    Op("std_dim", lambda m, a: m.std(a, dim=0, keepdim=True), R),
    Op("std_correction0", lambda m, a: a.std(-1, correction=0), R),
    Op("norm", lambda m, a: a.norm(), UNARY[:1] + R3),
    Op("norm_p1_dim", lambda m, a: m.norm(a, p=1, dim=1), R, AWAY0),
    Op("norm_p3", lambda m, a: a.norm(p=3), R),
    Op("norm_inf_dim", lambda m, a: a.norm(p=math.inf, dim=-1, keepdim=True), R),
    Op("norm_dims", lambda m, a: a.norm(dim=(0, 2)), R3),
    Op("logsumexp", lambda m, a: m.logsumexp(a, 1), R),
    Op("logsumexp_dims_keepdim", lambda m, a: a.logsumexp((0, 2), keepdim=True), R3),
    Op("cumsum", lambda m, a: m.cumsum(a, 1), R),
    Op("cumsum_neg", lambda m, a: a.cumsum(dim=-1), R),
    Op("all", lambda m, a: (a > 0).all(), UNARY, grad=False),
    Op("all_dim", lambda m, a: m.all(a > -1, 1), R, grad=False),
    Op("any", lambda m, a: m.any(a > 1), UNARY, grad=False),
    Op("any_dim_keepdim", lambda m, a: (a > 1).any(dim=-1, keepdim=True), R, grad=False),
    # ---- shape ----------------------------------------------------------------------------------
    Op("reshape", lambda m, a: a.reshape(4, 3), ONE),
    Op("reshape_infer", lambda m, a: m.reshape(a, (-1, 2)), [((3, 4),), ((2, 3, 4),)]),
    Op("reshape_0dim", lambda m, a: a.reshape(1, 1), [((),)]),
    Op("view", lambda m, a: a.view(2, -1), [((3, 4),), ((2, 3, 4),)], noncontig=False),
    Op("view_tuple", lambda m, a: a.view((12,)), ONE, noncontig=False),
    Op("flatten", lambda m, a: a.flatten(), UNARY),
    Op("flatten_range", lambda m, a: m.flatten(a, 1), R3),
    Op("squeeze", lambda m, a: a.squeeze(), [((3, 1, 4, 1),)]),
    Op("squeeze_dim", lambda m, a: m.squeeze(a, 1), [((3, 1, 4),)]),
    Op("squeeze_dims", lambda m, a: a.squeeze((0, 2)), [((1, 3, 1),)]),
    Op("unsqueeze", lambda m, a: a.unsqueeze(1), [((3, 4),), ((2, 3, 4),)]),
    Op("unsqueeze_0dim", lambda m, a: a.unsqueeze(0), [((),)]),
    Op("unsqueeze_neg", lambda m, a: m.unsqueeze(a, -1), UNARY),
    Op("transpose", lambda m, a: a.transpose(0, 1), R),
    Op("transpose_neg", lambda m, a: m.transpose(a, -1, 0), R3),
    Op("permute", lambda m, a: a.permute(2, 0, 1), R3),
    Op("permute_tuple", lambda m, a: m.permute(a, (1, 2, 0)), R3),
    Op("t", lambda m, a: a.t(), [((3, 4),), ((4,),)]),
    Op("T", lambda m, a: a.T, [((3, 4),)]),
    Op("mT", lambda m, a: a.mT, R3),
    Op("expand", lambda m, a: a.expand(2, 3, 4), [((3, 1),), ((4,),)]),
    Op("expand_neg1", lambda m, a: a.expand(-1, 4), [((3, 1),)]),
    Op("expand_as", lambda m, a, b: a.expand_as(b) * b, [((3, 1), (3, 4))]),
    Op("repeat", lambda m, a: a.repeat(2, 3), ONE + [((4,),)]),
    Op("repeat_more_dims", lambda m, a: a.repeat(2, 1, 3), ONE),
    Op("chunk", lambda m, a: a.chunk(2, 1), ONE),
    Op("chunk_uneven", lambda m, a: m.chunk(a, 3, 0), [((5, 2),)]),
    Op("split", lambda m, a: a.split(2, dim=1), [((3, 5),)]),
    Op("split_sizes", lambda m, a: m.split(a, [1, 3], 1), ONE),
    Op("unbind", lambda m, a: a.unbind(1), ONE),
    Op("narrow", lambda m, a: a.narrow(1, 1, 2), ONE),
    Op("movedim", lambda m, a: m.movedim(a, 0, 2), R3),
    Op("gather", lambda m, a: a.gather(1, m.tensor([[0, 2], [1, 1], [3, 0]])), ONE),
    Op("gather_dim0", lambda m, a: m.gather(a, 0, m.tensor([[2, 0, 1, 2]])), ONE),
    Op("gather_int32", lambda m, a: a.gather(-1, m.tensor([[1], [0], [1]], dtype=m.int32)), ONE),
    Op("scatter_add", lambda m, a, b: a.scatter_add(1, m.tensor([[0, 0, 2], [1, 3, 1], [2, 2, 2]]), b),
       [((3, 4), (3, 3))]),
    Op("index_select", lambda m, a: a.index_select(1, m.tensor([2, 0, 0])), R),
    Op("index_select_dim0", lambda m, a: m.index_select(a, 0, m.tensor([2, 2, 1])), ONE),
    Op("masked_fill", lambda m, a: a.masked_fill(a > 0, 0.5), UNARY, AWAY0),
    Op("masked_fill_broadcast", lambda m, a: m.masked_fill(a, m.tensor([True, False, True, False]), -1.0), ONE),
    Op("tril", lambda m, a: a.tril(), R),
    Op("tril_k", lambda m, a: m.tril(a, -1), ONE),
    Op("triu", lambda m, a: m.triu(a), R),
    Op("triu_k", lambda m, a: a.triu(1), ONE),
    Op("flip", lambda m, a: a.flip(0), R),
    Op("flip_dims", lambda m, a: m.flip(a, (0, -1)), R3),
    Op("stack", lambda m, a, b: m.stack([a, b]), [((3, 4), (3, 4)), ((), ())]),
    Op("stack_dim", lambda m, a, b: m.stack((a, b, a), dim=-1), [((3, 4), (3, 4))]),
    Op("cat", lambda m, a, b: m.cat([a, b]), [((2, 4), (3, 4)), ((3,), (2,))]),
    Op("cat_dim", lambda m, a, b: m.cat((a, b, a), dim=1), [((3, 2), (3, 4))]),
    Op("clone", lambda m, a: a.clone(), UNARY),
    Op("contiguous", lambda m, a: a.contiguous() * 2, R),
    Op("to_double", lambda m, a: a.to(m.float64), ONE, dtypes=("float32",)),
    Op("double", lambda m, a: a.double(), ONE, dtypes=("float32",)),
    Op("float", lambda m, a: a.float(), ONE, dtypes=("float64",), gradcheck=False),
    Op("to_same_dtype", lambda m, a: a.to(a.dtype) * 1, ONE),
    Op("detach", lambda m, a: a.detach(), ONE, grad=False),
    Op("data", lambda m, a: a.data, ONE, grad=False),
    # ---- in-place on non-leaves (gradients flow through the rewritten graph) ----------------------
    Op("add_", lambda m, a, b: a.clone().add_(b), INPLACE_SHAPES + [((2, 3, 4), ())]),
    Op("add_alpha_", lambda m, a, b: (a * 1).add_(b, alpha=-2), INPLACE_SHAPES),
    Op("sub_", lambda m, a, b: a.clone().sub_(b), INPLACE_SHAPES),
    Op("mul_", lambda m, a, b: a.clone().mul_(b), INPLACE_SHAPES),
    Op("div_", lambda m, a, b: a.clone().div_(b), INPLACE_SHAPES, (real, AWAY0)),
    Op("iadd", lambda m, a, b: _iadd(a.clone(), b), INPLACE_SHAPES),
    Op("imul_scalar", lambda m, a: _imul(a.clone(), 3.0), ONE),
    Op("zero_", lambda m, a: a.clone().zero_(), ONE),
    Op("fill_", lambda m, a: a.clone().fill_(2.5), ONE),
    Op("copy_", lambda m, a, b: a.clone().copy_(b), [((3, 4), (3, 4)), ((3, 4), (4,))]),
    Op("clamp_", lambda m, a: a.clone().clamp_(-0.5, 0.5), ONE, AWAY_CLAMP),
    Op("masked_fill_", lambda m, a: a.clone().masked_fill_(a > 0, 0.0), ONE, AWAY0),
    # ---- comparisons (no gradient) ----------------------------------------------------------------
    _binary("eq", lambda m, a, b: m.eq(a, b.round()), grad=False),
    _binary("eq_op", lambda m, a, b: a.round() == b.round(), grad=False),
    _binary("ne", lambda m, a, b: a.round().ne(b.round()), grad=False),
    _binary("ne_op", lambda m, a, b: a != b, grad=False),
    _binary("lt", lambda m, a, b: m.lt(a, b), grad=False),
    _binary("lt_op", lambda m, a, b: a < b, grad=False),
    _binary("le", lambda m, a, b: m.le(a.round(), b.round()), grad=False),
    _binary("le_op", lambda m, a, b: a <= b, grad=False),
    _binary("gt", lambda m, a, b: a.gt(b), grad=False),
    _binary("gt_op", lambda m, a, b: a > b, grad=False),
    _binary("ge", lambda m, a, b: m.ge(a, b), grad=False),
    _binary("ge_op", lambda m, a, b: a >= b.round(), grad=False),
    _unary("gt_scalar", lambda m, a: a > 0.25, grad=False),
    _unary("rlt_scalar", lambda m, a: 0.25 < a, grad=False),
    _unary("eq_int_scalar", lambda m, a: a.round() == 1, grad=False),
    _unary("isnan", lambda m, a: m.isnan(m.log(a)), grad=False),
    _unary("isinf", lambda m, a: m.isinf(1 / a.round()), grad=False),
    _unary("isfinite", lambda m, a: (m.log(a) / a.round()).isfinite(), grad=False),
    _binary("allclose", lambda m, a, b: m.allclose(a, a + b * 1e-9), grad=False),
    _binary("allclose_far", lambda m, a, b: a.allclose(a + b), grad=False),
    Op("equal", lambda m, a, b: m.equal(a, a.clone()), [((3, 4), (3, 4))], grad=False),
    Op("equal_shape", lambda m, a, b: m.equal(a, b), [((3, 4), (4,))], grad=False),
    Op("equal_values", lambda m, a, b: a.equal(b), [((3, 4), (3, 4))], grad=False),
]


def _iadd(a, b):
    a += b
    return a


def _imul(a, b):
    a *= b
    return a


def _ids(ops):
    return [op.name for op in ops]


TABLE += family_tables()  # the rows kept in tests/optable_*.py
assert len(set(_ids(TABLE))) == len(TABLE), "table names must be unique"


# ---- the generic runner -------------------------------------------------------------------------
def _domains(op: Op, n: int):
    return op.domain if isinstance(op.domain, tuple) else (op.domain,) * n


def _draw(op: Op, shapes, dtype: str, seed: int):
    rng = np.random.default_rng(seed)
    return [d(rng, s).astype(dtype) for d, s in zip(_domains(op, len(shapes)), shapes)]


def _tol(op: Op, dtype: str):
    tol = tol_for(dtype)
    return {**tol, **op.tol32} if dtype == "float32" else tol


def _check_forward_backward(op: Op, arrays, dtype: str, *, contiguous=True, seed=0):
    """Run op on both libraries; compare outputs, requires_grad, grad_fn names and input gradients."""
    xs_g = tensors(G, arrays, requires_grad=op.grad, contiguous=contiguous)
    xs_t = tensors(torch, arrays, requires_grad=op.grad, contiguous=contiguous)
    assert [x.is_contiguous() for x in xs_g] == [x.is_contiguous() for x in xs_t]
    ours, theirs = op.fn(G, *xs_g), op.fn(torch, *xs_t)
    tol = _tol(op, dtype)
    assert_same(ours, theirs, tol, what=f"{op.name} forward")
    if not op.grad:
        return
    outs = [(o, t) for o, t in zip(flat_outputs(ours), flat_outputs(theirs)) if isinstance(t, torch.Tensor)]
    for i, (o, t) in enumerate(outs):
        assert o.requires_grad == t.requires_grad, f"{op.name}: output {i} requires_grad"
        assert o.is_leaf == t.is_leaf, f"{op.name}: output {i} is_leaf"
        if t.grad_fn is not None and op.grad_fn is not None:  # None: compared elsewhere
            want = (grad_fn_name(t),) if op.grad_fn == "torch" else op.grad_fn
            assert grad_fn_name(o) in want, f"{op.name}: grad_fn {grad_fn_name(o)} (torch: {grad_fn_name(t)})"
    diff = [(o, t) for o, t in outs if t.requires_grad]
    if not diff:
        return
    rng = np.random.default_rng(seed + 1)
    ups = [rng.standard_normal(t.shape).astype(dtype_of(t)) for _, t in diff]
    G.autograd.backward([o for o, _ in diff], [G.from_numpy(u.copy()) for u in ups])
    torch.autograd.backward([t for _, t in diff], [torch.from_numpy(u.copy()) for u in ups])
    for i, (xg, xt) in enumerate(zip(xs_g, xs_t)):
        if xt.grad is None:
            assert xg.grad is None or not xg.grad.detach().numpy().any(), f"{op.name}: input {i} got a gradient"
            continue
        assert xg.grad is not None, f"{op.name}: no gradient for input {i}"
        assert_tensor_same(xg.grad, xt.grad, tol, what=f"{op.name} grad of input {i}")


def dtype_of(t) -> str:
    return str(t.dtype).replace("torch.", "")


OP_DTYPES = [pytest.param(op, dtype, id=f"{op.name}-{dtype}") for op in TABLE for dtype in op.dtypes]


@pytest.mark.parametrize("op, dtype", OP_DTYPES)
def test_forward_backward(op: Op, dtype):
    for k, shapes in enumerate(op.shapes):
        _check_forward_backward(op, _draw(op, shapes, dtype, seed=k), dtype, seed=k)


NONCONTIG = [op for op in TABLE if op.noncontig and any(len(s) >= 1 for ss in op.shapes for s in ss)]


@pytest.mark.parametrize("op", NONCONTIG, ids=_ids(NONCONTIG))
def test_noncontiguous(op: Op):
    dtype = op.dtypes[0]
    for k, shapes in enumerate(op.shapes):
        if all(len(s) == 0 for s in shapes):
            continue
        _check_forward_backward(op, _draw(op, shapes, dtype, seed=100 + k), dtype, contiguous=False, seed=k)


GRADCHECK = [op for op in TABLE if op.grad and op.gradcheck and "float64" in op.dtypes]


@pytest.mark.parametrize("op", GRADCHECK, ids=_ids(GRADCHECK))
def test_gradcheck(op: Op):
    arrays = _draw(op, op.shapes[0], "float64", seed=7)
    xs = tensors(G, arrays, requires_grad=True)

    def f(*inputs):
        return _float_outputs(op.fn(G, *inputs))

    assert G.autograd.gradcheck(f, xs, eps=1e-6, atol=1e-7, rtol=1e-5)


def _float_outputs(result) -> tuple:
    return tuple(o for o in flat_outputs(result) if isinstance(o, G.Tensor) and o.dtype.is_floating_point)


def test_gradcheck_catches_a_wrong_gradient():
    """gradcheck itself must be able to fail, or test_gradcheck proves nothing."""
    class BadExp(G.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.exp()

        @staticmethod
        def backward(ctx, g):
            return g * 1.001

    x = G.tensor([0.1, 0.2], dtype=G.float64, requires_grad=True)
    assert not G.autograd.gradcheck(BadExp.apply, (x,), raise_exception=False)


# ---- second derivatives -------------------------------------------------------------------------------
GRADGRAD = [op for op in GRADCHECK if op.gradgrad]


@pytest.mark.parametrize("op", GRADGRAD, ids=_ids(GRADGRAD))
def test_gradgradcheck(op: Op):
    """Backward formulas are built from differentiable ops, so gradients of gradients are right too."""
    arrays = _draw(op, op.shapes[0], "float64", seed=11)
    xs = tensors(G, arrays, requires_grad=True)

    def f(*inputs):
        return _float_outputs(op.fn(G, *inputs))

    assert G.autograd.gradgradcheck(f, xs, eps=1e-6, atol=1e-6, rtol=1e-4)


# ---- the same table on other dtypes: forward values and result dtypes, or the same error ------------
def _as_dtype(a: np.ndarray, dtype: str) -> np.ndarray:
    """Values drawn for floats, moved to `dtype`; integers are rounded away from zero (no new zeros)."""
    if dtype == "bool":
        return np.asarray(a > 0)
    if dtype.startswith("float"):
        return a.astype(dtype)
    ints = np.where(a >= 0, np.ceil(a), np.floor(a))
    return np.asarray(np.abs(ints) if dtype == "uint8" else ints).astype(dtype)


OTHER_DTYPES = ["float16", "int64", "int32", "uint8", "bool"]


OTHER_DTYPE_OPS = [op for op in TABLE if op.other_dtypes]


@pytest.mark.parametrize("op", OTHER_DTYPE_OPS, ids=_ids(OTHER_DTYPE_OPS))
def test_other_dtypes(op: Op):
    """Integer, bool and half inputs: the result (values and dtype) or the exception class match torch's."""
    for dtype in OTHER_DTYPES:
        for k, shapes in enumerate(op.shapes[:2]):
            arrays = [_as_dtype(a, dtype) for a in _draw(op, shapes, "float64", seed=k)]
            xs_g, xs_t = tensors(G, arrays), tensors(torch, arrays)
            try:
                theirs = op.fn(torch, *xs_t)
            except Exception as e:  # noqa: BLE001
                with pytest.raises(Exception) as info:
                    op.fn(G, *xs_g)
                assert type(info.value).__name__ == type(e).__name__, \
                    f"{op.name} {dtype}: raised {info.value!r}; torch {e!r}"
                continue
            ours = op.fn(G, *xs_g)
            assert_same(ours, theirs, what=f"{op.name} on {dtype}")


# ---- hypothesis: broadcasting shapes for binary ops, dims for reductions ------------------------------
HYP = settings(max_examples=25, deadline=None, derandomize=True)
BROADCAST_OPS = [op for op in TABLE if op.name in (
    "add", "sub_alpha", "mul", "div", "remainder", "pow", "maximum", "minimum", "where", "clamp_tensor_min",
    "lerp", "lt", "eq_op")]
broadcast_pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=1, max_side=3)


@pytest.mark.parametrize("op", BROADCAST_OPS, ids=_ids(BROADCAST_OPS))
@HYP
@given(shapes=broadcast_pairs, seed=st.integers(0, 2 ** 16), contiguous=st.booleans())
def test_binary_broadcasting(op: Op, shapes, seed, contiguous):
    arrays = _draw(op, shapes.input_shapes, "float64", seed)
    _check_forward_backward(op, arrays, "float64", contiguous=contiguous, seed=seed)


@st.composite
def reduce_args(draw, max_dims=4):
    """(shape, dim, keepdim): dim an int or a tuple of distinct dims, possibly negative."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=max_dims, min_side=1, max_side=4))
    nd = len(shape)
    dims = draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True))
    dims = [d - nd if draw(st.booleans()) else d for d in dims]
    dim = dims[0] if len(dims) == 1 and draw(st.booleans()) else tuple(dims)
    return shape, dim, draw(st.booleans())


MULTI_DIM_REDUCTIONS = {
    "sum": lambda m, a, dim, k: a.sum(dim, keepdim=k),
    "mean": lambda m, a, dim, k: m.mean(a, dim, keepdim=k),
    "amax": lambda m, a, dim, k: a.amax(dim, keepdim=k),
    "amin": lambda m, a, dim, k: m.amin(a, dim, k),
    "var": lambda m, a, dim, k: a.var(dim, keepdim=k, correction=0),
    "std": lambda m, a, dim, k: m.std(a, dim, keepdim=k),
    "norm": lambda m, a, dim, k: a.norm(dim=dim, keepdim=k),
    "norm_p1": lambda m, a, dim, k: a.norm(p=1, dim=dim, keepdim=k),
    "logsumexp": lambda m, a, dim, k: m.logsumexp(a, dim, keepdim=k),
    "all": lambda m, a, dim, k: (a > -1).all(dim, keepdim=k) if isinstance(dim, int) else (a > -1).all(),
    "any": lambda m, a, dim, k: m.any(a > 1, dim, k) if isinstance(dim, int) else (a > 1).any(),
}
ONE_DIM_REDUCTIONS = {
    "prod": lambda m, a, dim, k: a.prod(dim, keepdim=k),
    "max": lambda m, a, dim, k: a.max(dim, keepdim=k),
    "min": lambda m, a, dim, k: m.min(a, dim, k),
    "argmax": lambda m, a, dim, k: a.argmax(dim, keepdim=k),
    "argmin": lambda m, a, dim, k: m.argmin(a, dim=dim, keepdim=k),
    "cumsum": lambda m, a, dim, k: a.cumsum(dim),
    "softmax": lambda m, a, dim, k: a.softmax(dim),
    "log_softmax": lambda m, a, dim, k: m.log_softmax(a, dim),
}


def _reduce_check(fn, shape, dim, keepdim, seed, contiguous=True):
    arrays = [np.random.default_rng(seed).uniform(0.5, 2.0, shape) * np.where(
        np.random.default_rng(seed + 1).random(shape) < 0.5, -1, 1)]
    op = Op("reduction", lambda m, a: fn(m, a, dim, keepdim), [], grad=True)
    if raised(op.fn, torch, *tensors(torch, arrays)) is not None:  # e.g. a Frobenius norm over 3 dims
        assert_same_error(op.fn, arrays)
        return
    _check_forward_backward(op, arrays, "float64", contiguous=contiguous, seed=seed)


@pytest.mark.parametrize("name", sorted(MULTI_DIM_REDUCTIONS))
@HYP
@given(args=reduce_args(), seed=st.integers(0, 2 ** 16), contiguous=st.booleans())
def test_reduction_dims(name, args, seed, contiguous):
    shape, dim, keepdim = args
    if name == "var" and isinstance(dim, tuple) and len(dim) == len(shape) and all(s == 1 for s in shape):
        return  # one element: var with correction is nan in both, but 0/0 warnings are noise
    _reduce_check(MULTI_DIM_REDUCTIONS[name], shape, dim, keepdim, seed, contiguous)


@pytest.mark.parametrize("name", sorted(ONE_DIM_REDUCTIONS))
@HYP
@given(args=reduce_args(), seed=st.integers(0, 2 ** 16))
def test_reduction_one_dim(name, args, seed):
    shape, dim, keepdim = args
    dim = dim if isinstance(dim, int) else dim[0]
    _reduce_check(ONE_DIM_REDUCTIONS[name], shape, dim, keepdim, seed)


def test_reduction_return_types():
    """max/min/sort with a dim return named (values, indices) tuples; without a dim a 0-dim tensor."""
    x = np.array([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    for m in (G, torch):
        t = m.from_numpy(x.copy())
        r = t.max(1)
        assert isinstance(r, tuple) and len(r) == 2
        assert r.values.tolist() == [5.0, 6.0] and r.indices.tolist() == [1, 2]
        values, indices = t.min(dim=0, keepdim=True)
        assert values.tolist() == [[1.0, 2.0, 3.0]] and indices.tolist() == [[0, 1, 0]]
        assert t.max().dim() == 0 and t.max().item() == 6.0
        assert type(r).__name__ == "max" and repr(r).startswith("torch.return_types.max(")
    assert repr(G.from_numpy(x).max(1)) == repr(torch.from_numpy(x).max(1))
    assert repr(G.from_numpy(x).sort(1)) == repr(torch.from_numpy(x).sort(1))


def test_max_gradient_ties_and_prod_with_zeros():
    """Ties share the gradient of max() evenly; max(dim) sends it to the returned index; prod with zeros."""
    ties = np.array([[3.0, 1.0, 3.0], [2.0, 2.0, 0.5]])
    for fn in (lambda m, a: a.max(), lambda m, a: a.amax(1), lambda m, a: a.max(1).values, lambda m, a: a.min(),
               lambda m, a: m.maximum(a, a.flip(1)), lambda m, a: a.norm(p=math.inf)):
        op = Op("ties", fn, [])
        _check_forward_backward(op, [ties], "float64")
    zeros = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 4.0], [1.0, 2.0, 3.0]])
    for fn in (lambda m, a: a.prod(), lambda m, a: a.prod(1), lambda m, a: a.prod(0, keepdim=True)):
        _check_forward_backward(Op("prod_zeros", fn, []), [zeros], "float64")


# ---- indexing -----------------------------------------------------------------------------------------
X_SHAPE = (4, 5, 6)
INDICES = {  # name -> index expression built with module m (for tensors in the index)
    "int": lambda m: 1,
    "neg_int": lambda m: -1,
    "ints": lambda m: (1, -2),
    "three_ints": lambda m: (-1, 0, 3),
    "slice": lambda m: slice(1, 3),
    "slice_step": lambda m: slice(None, None, 2),
    "slice_neg_start": lambda m: slice(-3, None),
    "slice_past_end": lambda m: slice(2, 100),
    "empty_slice": lambda m: slice(3, 1),
    "slices": lambda m: (slice(None), slice(1, None, 2), slice(0, 5, 3)),
    "int_slice": lambda m: (2, slice(1, 4)),
    "slice_int": lambda m: (slice(None), 3),
    "none": lambda m: None,
    "none_int": lambda m: (None, 1),
    "slice_none_int": lambda m: (slice(None), None, 2),
    "ellipsis": lambda m: ...,
    "ellipsis_int": lambda m: (..., 1),
    "int_ellipsis": lambda m: (0, ...),
    "ellipsis_none": lambda m: (..., None),
    "ellipsis_slice_step": lambda m: (..., slice(0, 6, 4)),
    "list": lambda m: [0, 2],
    "list_repeated": lambda m: [3, 0, 3, 3],
    "nested_list": lambda m: [[0, 1], [2, 3]],
    "two_lists": lambda m: ([0, 2], [1, 4]),
    "tensor": lambda m: m.tensor([1, 1, 3]),
    "tensor_neg": lambda m: m.tensor([-1, 0, -4]),
    "tensor_2d": lambda m: m.tensor([[0, 3], [3, 3]]),
    "tensor_0dim": lambda m: m.tensor(2),
    "tensor_int32": lambda m: m.tensor([2, 0], dtype=m.int32),
    "slice_tensor": lambda m: (slice(None), m.tensor([4, 4, 0])),
    "int_tensor": lambda m: (0, m.tensor([1, 1])),
    "tensors_broadcast": lambda m: (m.tensor([[0], [2]]), slice(None), m.tensor([1, 5, 5])),
    "tensors_apart": lambda m: (m.tensor([0, 1]), slice(1, 3), m.tensor([2, 5])),
    "tensors_adjacent": lambda m: (slice(None), m.tensor([0, 4]), m.tensor([5, 1])),
    "tensor_ellipsis_none": lambda m: (m.tensor([0, 2]), ..., None),
    "mask_dim0": lambda m: m.tensor([True, False, True, True]),
    "mask_dim1": lambda m: (slice(None), m.tensor([False, True, True, False, True])),
    "mask_2d": lambda m: m.from_numpy(np.arange(20).reshape(4, 5) % 3 == 0),
    "mask_all_false": lambda m: m.zeros(4, dtype=m.bool),
    "mask_uint8_style_bool_then_int": lambda m: (m.tensor([True, False, True, False]), 2),
    "bool_true": lambda m: True,
}
MASK_FULL = "mask_full"


def _index(m, name, x):
    if name == MASK_FULL:
        return x.detach() > 0
    return INDICES[name](m)


INDEX_NAMES = list(INDICES) + [MASK_FULL]


@pytest.mark.parametrize("name", INDEX_NAMES)
@pytest.mark.parametrize("contiguous", [True, False], ids=["contiguous", "strided"])
def test_getitem(name, contiguous):
    """Forward values and gradients of x[index] (repeated indices accumulate their gradients)."""
    x = np.random.default_rng(1).standard_normal(X_SHAPE)
    op = Op(f"getitem[{name}]", lambda m, a: a[_index(m, name, a)], [])
    _check_forward_backward(op, [x], "float64", contiguous=contiguous)


@pytest.mark.parametrize("name", INDEX_NAMES)
def test_getitem_grad_fn_and_views(name):
    """Basic indexing gives views (writes show through), advanced indexing gives copies."""
    x = np.random.default_rng(2).standard_normal(X_SHAPE)
    results = []
    for m in (G, torch):
        t = m.from_numpy(x.copy())
        y = t[_index(m, name, t)]
        y.fill_(7.0) if y.numel() else None
        results.append(t.numpy().copy())
        leaf = m.from_numpy(x.copy()).requires_grad_()
        results.append(grad_fn_name(leaf[_index(m, name, leaf)]))
    ours, theirs = results[:2], results[2:]
    np.testing.assert_array_equal(ours[0], theirs[0])
    assert ours[1] == theirs[1], f"grad_fn {ours[1]} (torch: {theirs[1]})"


def test_getitem_repeated_indices_accumulate():
    for m in (G, torch):
        x = m.zeros(3, dtype=m.float64, requires_grad=True)
        x[m.tensor([0, 0, 2, 0])].sum().backward()
        assert x.grad.tolist() == [3.0, 0.0, 1.0]
        x.grad = None
        x[[1, 1]].mul(m.tensor([2.0, 5.0], dtype=m.float64)).sum().backward()
        assert x.grad.tolist() == [0.0, 7.0, 0.0]


SETITEM_NAMES = [n for n in INDEX_NAMES if n not in ("list_repeated", "tensor", "tensor_2d", "slice_tensor",
                                                        "int_tensor", "tensors_broadcast", "bool_true")]


@pytest.mark.parametrize("name", SETITEM_NAMES)
@pytest.mark.parametrize("value", ["scalar", "tensor", "broadcast"])
def test_setitem(name, value):
    """base[index] = v on a non-leaf that requires grad: forward, and gradients to base's leaf and to v."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal(X_SHAPE)
    w = rng.standard_normal(X_SHAPE)
    target_shape = tuple(torch.from_numpy(x)[_index(torch, name, torch.from_numpy(x))].shape)
    v_shape = {"scalar": None, "tensor": target_shape, "broadcast": target_shape[-1:]}[value]
    v = None if v_shape is None else rng.standard_normal(v_shape)
    results = []
    for m in (G, torch):
        leaf = m.from_numpy(x.copy()).requires_grad_()
        base = leaf * 1.0
        if v is None:
            base[_index(m, name, leaf)] = 0.5
            val = None
        else:
            val = m.from_numpy(v.copy()).requires_grad_()
            base[_index(m, name, leaf)] = val
        (base * m.from_numpy(w)).sum().backward()
        results.append((base, leaf.grad, None if val is None else val.grad, grad_fn_name(base)))
    (b_g, lg_g, vg_g, fn_g), (b_t, lg_t, vg_t, fn_t) = results
    assert_tensor_same(b_g, b_t, what="forward")
    assert_tensor_same(lg_g, lg_t, what="grad of base")
    if vg_t is not None:
        assert_tensor_same(vg_g, vg_t, what="grad of value")
    assert fn_g == fn_t


def test_setitem_without_grad_and_dtypes():
    """Plain setitem writes in place (and through views), casting the value to the tensor's dtype."""
    x = np.arange(24).reshape(4, 6)
    for setter in (lambda m, t: t.__setitem__((slice(None), 1), 9.7),
                   lambda m, t: t.__setitem__(t > 10, -1),
                   lambda m, t: t.__setitem__(m.tensor([0, 2]), m.tensor([1, 2, 3, 4, 5, 6])),
                   lambda m, t: t[1].__setitem__(slice(2, None), m.tensor(5.5, dtype=m.float64)),
                   lambda m, t: t.__setitem__((..., m.tensor([True, False, True, False, True, False])), 0)):
        out = []
        for m in (G, torch):
            t = m.from_numpy(x.copy())
            version = t._version
            setter(m, t)
            out.append(t)
            assert t._version > version
        assert_tensor_same(*out)


def test_setitem_errors():
    x = np.zeros((3, 4))
    assert_same_error(lambda m, a: a.requires_grad_().__setitem__(0, 1.0), [x])
    assert_same_error(lambda m, a: a.__setitem__(0, m.ones(3)), [x], message=False, contains="shape mismatch")
    assert_same_error(lambda m, a: a.__getitem__(5), [x])
    assert_same_error(lambda m, a: a.__getitem__((0, 7)), [x])
    assert_same_error(lambda m, a: a.__getitem__(m.tensor([0, 3])), [x])
    assert_same_error(lambda m, a: a.__getitem__((0, 0, 0)), [x])
    assert_same_error(lambda m, a: a.__getitem__(m.tensor([0.0])), [x])
    assert_same_error(lambda m, a: a.__getitem__(slice(None, None, -1)), [x])
    assert_same_error(lambda m, a: a.__getitem__(m.tensor([True, False])), [x])
    assert_same_error(lambda m, a: a.__setitem__((1, 9), 0.0), [x])
    assert_same_error(lambda m, a: a.__setitem__((1, 1, 1), 0.0), [x])
    assert_same_error(lambda m, a: a.__getitem__((..., m.tensor([True, False, True]))), [x])
    assert_same_error(lambda m, a: a.__getitem__((1, m.tensor([True, False, True]))), [x])
    assert_same_error(lambda m, a: a.__setitem__(m.ones(4, 3, dtype=m.bool), 1.0), [x])
    assert_same_error(lambda m, a: a.__getitem__((m.tensor([0, 1]), m.tensor([True, False, True]))), [x])
    assert_same_error(lambda m, a: a.__getitem__((None, ..., m.tensor([True, False, True]))), [x])


@st.composite
def shape_and_index(draw):
    """A shape and a random basic index for it, maybe with an integer-array index mixed in."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    index = draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    index = index if isinstance(index, tuple) else (index,)
    if draw(st.booleans()) and Ellipsis not in index:
        taken = sum(1 for i in index if i is not None)
        if taken < len(shape):
            rows = draw(st.lists(st.integers(-shape[taken], shape[taken] - 1), min_size=1, max_size=4))
            index = index + (np.array(rows),)
    return shape, index


def _module_index(m, index):
    return tuple(m.from_numpy(i.copy()) if isinstance(i, np.ndarray) else i for i in index)


@HYP
@given(args=shape_and_index(), seed=st.integers(0, 2 ** 16))
def test_getitem_random_indices(args, seed):
    shape, index = args
    x = np.random.default_rng(seed).standard_normal(shape)
    fn = lambda m, a: a[_module_index(m, index)]  # noqa: E731
    if raised(fn, torch, *tensors(torch, [x])) is not None:  # e.g. a negative slice step
        assert_same_error(fn, [x], message=False)
        return
    _check_forward_backward(Op("getitem", fn, []), [x], "float64", seed=seed)


@HYP
@given(args=shape_and_index(), seed=st.integers(0, 2 ** 16), scalar=st.booleans())
def test_setitem_random_indices(args, seed, scalar):
    """base[index] = value with autograd: forward, grad_fn and the gradients of base's leaf and of value."""
    shape, index = args
    if any(isinstance(i, np.ndarray) and len(np.unique(i % shape[0])) < i.size for i in index):
        return  # repeated targets: which write wins is unspecified in PyTorch
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal(shape), rng.standard_normal(shape)
    if raised(lambda: torch.from_numpy(x)[_module_index(torch, index)]) is not None:
        return
    target = tuple(torch.from_numpy(x)[_module_index(torch, index)].shape)
    v = None if scalar else rng.standard_normal(target)
    results = []
    for m in (G, torch):
        leaf = m.from_numpy(x.copy()).requires_grad_()
        base = leaf * 1.0
        val = 0.25 if v is None else m.from_numpy(v.copy()).requires_grad_()
        base[_module_index(m, index)] = val
        (base * m.from_numpy(w)).sum().backward()
        results.append((base, leaf.grad, None if v is None else val.grad, grad_fn_name(base)))
    assert_same(results[0][:3], results[1][:3])
    assert results[0][3] == results[1][3], (results[0][3], results[1][3])


def test_list_of_sequences_index_warns_like_pytorch():
    x = np.arange(12.0).reshape(3, 4)
    for m in (G, torch):
        with pytest.warns(UserWarning, match="non-tuple sequence for multidimensional indexing"):
            assert m.from_numpy(x)[[[0, 2], [1, 3]]].tolist() == [1.0, 11.0]


# ---- type promotion ---------------------------------------------------------------------------------
PROMO_DTYPES = ["float32", "float64", "float16", "int64", "int32", "uint8", "bool"]
PROMO_OPS = {
    "add": lambda m, a, b: a + b,
    "sub": lambda m, a, b: m.sub(a, b),
    "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / b,
    "floor_divide": lambda m, a, b: a // b,
    "remainder": lambda m, a, b: a % b,
    "pow": lambda m, a, b: a ** b,
    "maximum": lambda m, a, b: m.maximum(a, b),
    "minimum": lambda m, a, b: m.minimum(a, b),
    "where": lambda m, a, b: m.where(m.ones((), dtype=m.bool), a, b),
    "eq": lambda m, a, b: a == b,
    "lt": lambda m, a, b: m.lt(a, b),
    "cat": lambda m, a, b: m.cat([a.reshape(-1), b.reshape(-1)]),
    "stack": lambda m, a, b: m.stack([a, b.expand_as(a)]),
    "clamp": lambda m, a, b: m.clamp(a, min=b),
    "add_alpha": lambda m, a, b: m.add(a, b, alpha=2),
}
PYTHON_SCALARS = [3, 2.5, True, -1]
SCALAR_OPS = {
    "add": lambda m, a, s: a + s, "radd": lambda m, a, s: s + a, "sub": lambda m, a, s: a - s,
    "rsub": lambda m, a, s: s - a, "mul": lambda m, a, s: a * s, "div": lambda m, a, s: a / s,
    "rdiv": lambda m, a, s: s / a, "floordiv": lambda m, a, s: a // s, "mod": lambda m, a, s: a % s,
    "pow": lambda m, a, s: a ** s, "rpow": lambda m, a, s: s ** a, "gt": lambda m, a, s: a > s,
    "eq": lambda m, a, s: a == s, "where": lambda m, a, s: m.where(a > 0, a, s),
    "clamp": lambda m, a, s: a.clamp(max=s), "full_like": lambda m, a, s: m.full_like(a, s),
    "masked_fill": lambda m, a, s: a.masked_fill(m.ones(a.shape, dtype=m.bool), s),
}


def _same_dtype_or_error(fn, arrays, what):
    xs_t, xs_g = tensors(torch, arrays), tensors(G, arrays)
    try:
        theirs = fn(torch, *xs_t)
    except Exception as e:  # noqa: BLE001
        with pytest.raises(Exception) as info:
            fn(G, *xs_g)
        assert type(info.value).__name__ == type(e).__name__, f"{what}: {info.value!r}; torch {e!r}"
        return
    ours = fn(G, *xs_g)
    assert_same(ours, theirs, what=what)


@pytest.mark.parametrize("a", PROMO_DTYPES)
@pytest.mark.parametrize("b", PROMO_DTYPES)
def test_type_promotion_tensors(a, b):
    """result_type and every op's result dtype (and values) for dimensioned and 0-dim operands."""
    for sa, sb in [((2,), (2,)), ((2,), ()), ((), (2,)), ((), ())]:
        arrays = [np.asarray(np.ones(sa, dtype=a) * (1 + (a != "bool"))), np.ones(sb, dtype=b)]
        ta, tb = torch.from_numpy(arrays[0]), torch.from_numpy(arrays[1])
        ga, gb = G.from_numpy(arrays[0]), G.from_numpy(arrays[1])
        assert repr(G.result_type(ga, gb)) == repr(torch.result_type(ta, tb)), (a, b, sa, sb)
        assert repr(G.promote_types(ga.dtype, gb.dtype)) == repr(torch.promote_types(ta.dtype, tb.dtype))
        for name, fn in PROMO_OPS.items():
            _same_dtype_or_error(fn, arrays, f"{name}({a}{list(sa)}, {b}{list(sb)})")


@pytest.mark.parametrize("a", PROMO_DTYPES)
def test_type_promotion_python_scalars(a):
    """A Python number only changes a tensor's dtype category (int tensor + 2.5 -> float32)."""
    arrays = [np.array([1, 2], dtype=a) if a != "bool" else np.array([True, False])]
    for s in PYTHON_SCALARS:
        ours, theirs = G.result_type(G.from_numpy(arrays[0]), s), torch.result_type(torch.from_numpy(arrays[0]), s)
        assert repr(ours) == repr(theirs)
        for name, fn in SCALAR_OPS.items():
            _same_dtype_or_error(lambda m, x: fn(m, x, s), arrays, f"{name}({a}, {s!r})")


def test_default_dtype():
    assert G.get_default_dtype() is G.float32
    try:
        for m in (G, torch):
            m.set_default_dtype(m.float64)
        for fn in (lambda m: m.tensor([1.5]), lambda m: m.zeros(2), lambda m: m.arange(0.0, 1.0, 0.5),
                   lambda m: m.tensor([1, 2]) + 2.5, lambda m: m.tensor([1, 2]) / 2, lambda m: m.rand(2),
                   lambda m: m.linspace(0, 1, 3), lambda m: m.tensor(3).exp(), lambda m: m.full((2,), 1.5),
                   lambda m: m.tensor([1.0], dtype=m.float32) * 2.5):
            assert repr(fn(G).dtype) == repr(fn(torch).dtype)
        assert G.get_default_dtype() is G.float64
    finally:
        G.set_default_dtype(G.float32)
        torch.set_default_dtype(torch.float32)
    assert G.tensor([1.5]).dtype is G.float32
    assert_same_error(lambda m: m.set_default_dtype(m.int64))


# ---- creation --------------------------------------------------------------------------------------
CREATION = {
    "tensor_list": lambda m: m.tensor([[1.5, 2.0], [3.0, 4.0]]),
    "tensor_ints": lambda m: m.tensor([1, 2, 3]),
    "tensor_bools": lambda m: m.tensor([True, False]),
    "tensor_mixed": lambda m: m.tensor([1, 2.5, True]),
    "tensor_scalar": lambda m: m.tensor(3.5),
    "tensor_int_scalar": lambda m: m.tensor(7),
    "tensor_empty": lambda m: m.tensor([]),
    "tensor_dtype": lambda m: m.tensor([1, 2], dtype=m.float64),
    "tensor_dtype_cast": lambda m: m.tensor([1.7, -2.7], dtype=m.int32),
    "tensor_uint8": lambda m: m.tensor([1, 255], dtype=m.uint8),
    "tensor_half": lambda m: m.tensor([0.1, 2.0], dtype=m.float16),
    "tensor_numpy": lambda m: m.tensor(np.arange(6, dtype=np.int32).reshape(2, 3)),
    "tensor_numpy_f64": lambda m: m.tensor(np.array([0.5, 1.5])),
    "tensor_of_tensors": lambda m: m.tensor([m.tensor(1.5), m.tensor(2.5)]),
    "tensor_nested_tuple": lambda m: m.tensor(((1, 2), (3, 4))),
    "tensor_requires_grad": lambda m: m.tensor([1.0, 2.0], requires_grad=True),
    "as_tensor_list": lambda m: m.as_tensor([1, 2]),
    "as_tensor_dtype": lambda m: m.as_tensor(np.array([1, 2]), dtype=m.float32),
    "from_numpy_f32": lambda m: m.from_numpy(np.ones((2, 2), dtype=np.float32)),
    "from_numpy_bool": lambda m: m.from_numpy(np.array([True, False])),
    "zeros": lambda m: m.zeros(2, 3),
    "zeros_tuple": lambda m: m.zeros((2, 3), dtype=m.int64),
    "zeros_list": lambda m: m.zeros([4]),
    "zeros_0dim": lambda m: m.zeros(()),
    "zeros_empty": lambda m: m.zeros(0, 3),
    "ones": lambda m: m.ones(3, dtype=m.bool),
    "ones_size": lambda m: m.ones(m.Size([2, 2])),
    "full_float": lambda m: m.full((2, 2), 2.5),
    "full_int": lambda m: m.full((2,), 3),
    "full_bool": lambda m: m.full((2,), True),
    "full_dtype": lambda m: m.full([3], 1.7, dtype=m.int64),
    "empty_shape": lambda m: m.empty(2, 3).shape,
    "empty_dtype": lambda m: m.empty(4, dtype=m.int32).dtype,
    "zeros_like": lambda m: m.zeros_like(m.tensor([[1, 2]])),
    "ones_like_dtype": lambda m: m.ones_like(m.tensor([1, 2]), dtype=m.float64),
    "full_like": lambda m: m.full_like(m.tensor([1.0, 2.0]), 7),
    "full_like_int": lambda m: m.full_like(m.tensor([1, 2]), 2.7),
    "empty_like": lambda m: (m.empty_like(m.tensor([[1, 2]], dtype=m.int32)).shape,
                             m.empty_like(m.tensor([[1, 2]], dtype=m.int32)).dtype),
    "arange_int": lambda m: m.arange(5),
    "arange_start_end": lambda m: m.arange(2, 7),
    "arange_step": lambda m: m.arange(1, 10, 3),
    "arange_neg_step": lambda m: m.arange(10, 0, -3),
    "arange_float": lambda m: m.arange(0, 1, 0.1),
    "arange_float_start": lambda m: m.arange(1.0, 4.0),
    "arange_neg_float": lambda m: m.arange(-1.5, 1.5, 0.5),
    "arange_dtype": lambda m: m.arange(5, dtype=m.float64),
    "arange_empty": lambda m: m.arange(3, 3),
    "linspace": lambda m: m.linspace(0, 1, 5),
    "linspace_neg": lambda m: m.linspace(-2, 3, 7),
    "linspace_one": lambda m: m.linspace(2, 5, 1),
    "linspace_zero": lambda m: m.linspace(0, 1, 0),
    "linspace_f64": lambda m: m.linspace(1, 10, 10, dtype=m.float64),
    "linspace_int": lambda m: m.linspace(0, 10, 4, dtype=m.int64),
    "linspace_big": lambda m: m.linspace(-3.3, 7.1, 101),
    "eye": lambda m: m.eye(3),
    "eye_rect": lambda m: m.eye(2, 4),
    "eye_int": lambda m: m.eye(3, dtype=m.int64),
    "stack": lambda m: m.stack([m.tensor([1, 2]), m.tensor([3, 4])], dim=1),
    "cat": lambda m: m.cat([m.zeros(2, 1), m.ones(2, 2)], dim=-1),
    "cat_empty_1d": lambda m: m.cat([m.tensor([]), m.ones(2, 2)]),
}


@pytest.mark.parametrize("name", list(CREATION))
def test_creation(name):
    ours, theirs = CREATION[name](G), CREATION[name](torch)
    assert_same(ours, theirs, what=name)
    if isinstance(theirs, torch.Tensor):
        assert ours.requires_grad == theirs.requires_grad and ours.is_leaf


def test_creation_memory_sharing():
    a = np.arange(4.0)
    t = G.from_numpy(a)
    a[0] = 9.0
    assert t[0].item() == 9.0
    t[1] = -1.0
    assert a[1] == -1.0
    assert G.as_tensor(a)._data is a or np.shares_memory(G.as_tensor(a).numpy(), a)
    assert not np.shares_memory(G.as_tensor(a, dtype=G.float32).numpy(), a)
    assert not np.shares_memory(G.tensor(a).numpy(), a)
    t2 = G.tensor([1.0, 2.0])
    assert G.as_tensor(t2) is t2
    assert np.shares_memory(t.numpy(), a)
    src = [1.0, 2.0]
    made = G.tensor(src)
    src[0] = 5.0
    assert made.tolist() == [1.0, 2.0]


def test_random_creation_shapes_dtypes_ranges():
    G.manual_seed(0)
    x = G.rand(2000)
    assert x.dtype is G.float32 and x.shape == (2000,) and 0 <= x.min().item() and x.max().item() < 1
    assert abs(x.mean().item() - 0.5) < 0.03
    y = G.randn(4000, dtype=G.float64)
    assert y.dtype is G.float64 and abs(y.mean().item()) < 0.06 and abs(y.std().item() - 1) < 0.06
    assert G.rand(2, 3).shape == (2, 3) and G.randn((3, 1)).shape == (3, 1) and G.rand(()).shape == ()
    r = G.randint(3, 10, (2000,))
    assert r.dtype is G.int64 and r.min().item() == 3 and r.max().item() == 9
    r2 = G.randint(5, (3, 2), dtype=G.int32)
    assert r2.dtype is G.int32 and r2.shape == (3, 2) and 0 <= r2.min().item() and r2.max().item() < 5
    p = G.randperm(50)
    assert p.dtype is G.int64 and sorted(p.tolist()) == list(range(50)) and p.tolist() != list(range(50))
    assert G.rand_like(G.zeros(2, 2, dtype=G.float64)).dtype is G.float64
    assert G.randn_like(G.zeros(3)).shape == (3,)
    assert G.rand(3, dtype=G.float16).dtype is G.float16
    assert G.rand(3, requires_grad=True).requires_grad
    assert_same_error(lambda m: m.randint(5, 5, (2,)), message=False)
    assert_same_error(lambda m: m.rand(2, dtype=m.int64), message=False)


def test_manual_seed_reproducible():
    draws = []
    for _ in range(2):
        G.manual_seed(1234)
        draws.append([f().tolist() for f in (lambda: G.rand(5), lambda: G.randn(3), lambda: G.randint(0, 100, (4,)),
                                             lambda: G.randperm(6))])
    assert draws[0] == draws[1]
    G.manual_seed(1235)
    assert G.rand(5).tolist() != draws[0][0]
    g = G.Generator().manual_seed(7)
    a = G.rand(4, generator=g)
    G.rand(10)  # the global generator does not disturb a private one
    b = G.rand(4, generator=G.Generator().manual_seed(7))
    assert a.tolist() == b.tolist()
    assert isinstance(G.manual_seed(3), G.Generator)
    G.manual_seed(5)
    state = G.get_rng_state()
    first = G.rand(3).tolist()
    G.set_rng_state(state)
    assert G.rand(3).tolist() == first


def test_creation_errors():
    assert_same_error(lambda m: m.randn(2, dtype=m.int32))
    assert_same_error(lambda m: m.arange(0, 5, 0))
    assert_same_error(lambda m: m.arange(5, 0, 1))
    assert_same_error(lambda m: m.zeros(2, -1))
    assert_same_error(lambda m: m.linspace(0, 1, -1))
    assert_same_error(lambda m: m.ones(2, -1))
    assert_same_error(lambda m: m.full((2, -1), 1.0))
    assert_same_error(lambda m: m.eye(-1))
    assert_same_error(lambda m: m.eye(2, -3))
    assert_same_error(lambda m: m.randperm(-1))
    assert_same_error(lambda m: m.tensor([[1, 2], [3]]), message=False)


# ---- attributes and conversions ------------------------------------------------------------------------
ATTRIBUTES = {
    "shape": lambda m, x: x.shape,
    "shape_repr": lambda m, x: repr(x.shape),
    "shape_index": lambda m, x: (x.shape[0], x.shape[-1], x.shape[1:]),
    "size": lambda m, x: x.size(),
    "size_dim": lambda m, x: (x.size(1), x.size(-1)),
    "dim": lambda m, x: (x.dim(), x.ndim, x.ndimension()),
    "numel": lambda m, x: (x.numel(), m.numel(x), x[0].numel()),
    "dtype": lambda m, x: (x.dtype, repr(x.dtype), x.dtype.is_floating_point, x.long().dtype.is_floating_point),
    "device": lambda m, x: (str(x.device), repr(x.device), x.device.type, x.device == m.device("cpu"), x.is_cuda),
    "requires_grad": lambda m, x: (x.requires_grad, x.requires_grad_().requires_grad, (x * 2).requires_grad),
    "grad_fn_leaf": lambda m, x: (x.grad_fn, x.requires_grad_().grad_fn, x.is_leaf),
    "is_leaf": lambda m, x: (x.is_leaf, x.requires_grad_().is_leaf, (x * 2).is_leaf, (x * 2).detach().is_leaf),
    "no_grad_result_is_leaf": lambda m, x: _in_no_grad(m, lambda: x.requires_grad_() * 2).is_leaf,
    "grad_none": lambda m, x: x.requires_grad_().grad,
    "grad_after_backward": lambda m, x: _backward_sum(x.requires_grad_()),
    "data": lambda m, x: (x.requires_grad_().data.requires_grad, x.data.is_leaf, x.data),
    "T": lambda m, x: x.T,
    "mT": lambda m, x: x.mT,
    "item_float": lambda m, x: x[0, 1].item(),
    "item_int": lambda m, x: x.long()[1, 2].item(),
    "item_bool": lambda m, x: (x > 0)[0, 0].item(),
    "item_1elem": lambda m, x: x[:1, :1].item(),
    "tolist": lambda m, x: x.tolist(),
    "tolist_int": lambda m, x: x.int().tolist(),
    "tolist_0dim": lambda m, x: x[1, 1].tolist(),
    "numpy": lambda m, x: (x.numpy().dtype, x.numpy().shape, x.numpy().tolist()),
    "numpy_shares": lambda m, x: np.shares_memory(x.numpy(), x.numpy()),
    "clone": lambda m, x: x.clone(),
    "clone_is_copy": lambda m, x: _mutate(x.clone(), x),
    "detach": lambda m, x: (x.requires_grad_().detach().requires_grad, x.detach().is_leaf),
    "detach_shares": lambda m, x: _mutate(x.detach(), x),
    "contiguous_self": lambda m, x: x.contiguous() is x,
    "contiguous_copy": lambda m, x: (x.t().is_contiguous(), x.t().contiguous().is_contiguous(), x.t().contiguous()),
    "to_dtype": lambda m, x: x.to(m.float64),
    "to_same_is_self": lambda m, x: (x.to(m.float32) is x, x.to("cpu") is x, x.to(x) is x),
    "to_device": lambda m, x: (x.to("cpu").device.type, x.to(m.device("cpu")).device.type, x.cpu().device.type),
    "to_device_dtype": lambda m, x: x.to("cpu", m.int64),
    "to_kwargs": lambda m, x: x.to(dtype=m.float16, device="cpu"),
    "to_other": lambda m, x: x.to(m.zeros(1, dtype=m.int32)),
    "to_copy": lambda m, x: (x.to(m.float32, copy=True) is x, _mutate(x.to(m.float32, copy=True), x)),
    "float": lambda m, x: x.double().float(),
    "double": lambda m, x: x.double(),
    "long": lambda m, x: (x * 3).long(),
    "int": lambda m, x: (x * 3).int(),
    "bool": lambda m, x: x.round().bool(),
    "half": lambda m, x: x.half(),
    "type_conversion_chain": lambda m, x: (x * 10).long().float().bool().long(),
    "python_float": lambda m, x: (float(x[0, 0]), int(x[0, 0] * 10), bool(x[0, 0] > 0)),
    "len": lambda m, x: (len(x), len(x[0])),
    "iter": lambda m, x: [row.tolist() for row in x],
    "element_size": lambda m, x: (x.element_size(), x.double().element_size(), x.bool().element_size()),
    "stride": lambda m, x: (x.stride(), x.t().stride(), x.stride(1)),
    "is_floating_point": lambda m, x: (x.is_floating_point(), x.long().is_floating_point(), m.is_floating_point(x)),
    "type": lambda m, x: (x.type(), x.long().type(), x.type(m.float64).dtype),
    "is_tensor": lambda m, x: (m.is_tensor(x), m.is_tensor(3.0)),
    "new_zeros": lambda m, x: (x.new_zeros(2), x.new_ones((1, 2)), x.new_full((2,), 3.0), x.new_tensor([1, 2])),
}


def _in_no_grad(m, fn):
    with m.no_grad():
        return fn()


def _backward_sum(x):
    (x * x).sum().backward()
    return x.grad


def _mutate(y, x):
    """Whether writing into y shows through in x."""
    before = x.detach().clone()
    y.detach().fill_(123.0)
    shows = bool((x.detach() == 123.0).all())
    x.detach().copy_(before)
    return shows


@pytest.mark.parametrize("name", list(ATTRIBUTES))
def test_attributes(name):
    x = np.array([[0.5, -1.25, 2.0], [3.5, -0.75, 1.0]], dtype=np.float32)
    ours, theirs = ATTRIBUTES[name](G, G.from_numpy(x.copy())), ATTRIBUTES[name](torch, torch.from_numpy(x.copy()))
    assert_same(ours, theirs, what=name)


def test_conversion_errors():
    x = [np.arange(6.0).reshape(2, 3)]
    assert_same_error(lambda m, a: a.item(), x)
    assert_same_error(lambda m, a: a.requires_grad_().numpy(), x)
    assert_same_error(lambda m, a: a.long().requires_grad_(), x)
    assert_same_error(lambda m, a: bool(a), x)
    assert_same_error(lambda m, a: (a * 1).requires_grad_(False) if a.requires_grad_() is a else None, x)
    assert_same_error(lambda m, a: len(a.sum()), x)
    assert_same_error(lambda m, a: a.size(2), x)
    assert_same_error(lambda m, a: a.to("meta-device"), x, message=False)


# ---- in-place ops -----------------------------------------------------------------------------------------
INPLACE = {
    "add_": lambda m, x, y: x.add_(y),
    "add_scalar": lambda m, x, y: x.add_(1.5),
    "add_alpha": lambda m, x, y: x.add_(y, alpha=-2.0),
    "sub_": lambda m, x, y: x.sub_(y[0]),
    "sub_scalar": lambda m, x, y: x.sub_(2),
    "mul_": lambda m, x, y: x.mul_(y),
    "mul_broadcast": lambda m, x, y: x.mul_(y[:1]),
    "div_": lambda m, x, y: x.div_(y),
    "div_scalar": lambda m, x, y: x.div_(4),
    "div_floor": lambda m, x, y: x.div_(y, rounding_mode="floor"),
    "iadd": lambda m, x, y: _iadd(x, y),
    "isub": lambda m, x, y: _isub(x, 2.0),
    "imul": lambda m, x, y: _imul(x, y),
    "itruediv": lambda m, x, y: _idiv(x, y),
    "zero_": lambda m, x, y: x.zero_(),
    "fill_": lambda m, x, y: x.fill_(2.5),
    "fill_tensor": lambda m, x, y: x.fill_(m.tensor(-1.0)),
    "copy_": lambda m, x, y: x.copy_(y),
    "copy_broadcast_cast": lambda m, x, y: x.copy_(m.tensor([1, 2, 3])),
    "copy_from_double": lambda m, x, y: x.copy_(y.double() / 3),
    "clamp_": lambda m, x, y: x.clamp_(-0.5, 0.5),
    "clamp_min_": lambda m, x, y: x.clamp_(min=0.0),
    "clip_": lambda m, x, y: x.clip_(max=0.25),
    "masked_fill_": lambda m, x, y: x.masked_fill_(y > 0, 9.0),
    "int_add_": lambda m, x, y: x.long().add_(3),
    "int_mul_float_tensor_0dim": lambda m, x, y: x.long().mul_(m.tensor(2)),
    "uint8_add_wraps": lambda m, x, y: m.tensor([250, 3], dtype=m.uint8).add_(10),
    "bool_mul_": lambda m, x, y: (x > 0).mul_(y > 0),
}


def _isub(a, b):
    a -= b
    return a


def _idiv(a, b):
    a /= b
    return a


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace(name):
    """In-place ops return self, change it (and its views) and bump its version counter."""
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal((2, 3)), AWAY0(rng, (2, 3))]
    results = []
    for m in (G, torch):
        x, y = tensors(m, arrays)
        view = x[1]
        version = x._version
        out = INPLACE[name](m, x, y)
        if out is not None and out.data_ptr() == x.data_ptr() and out.shape == x.shape:
            assert out is x
            assert x._version > version
        results.append((out, x, view))
    assert_same(results[0], results[1], what=name)


def test_inplace_autograd():
    """In-place ops on leaves that require grad fail; on non-leaves they rewrite the graph; under no_grad they work."""
    x = [np.array([1.0, -2.0, 3.0])]
    assert_same_error(lambda m, a: a.requires_grad_().add_(1), x)
    assert_same_error(lambda m, a: a.requires_grad_().zero_(), x)
    assert_same_error(lambda m, a: a.requires_grad_().copy_(a.detach()), x)
    assert_same_error(lambda m, a: a.requires_grad_().clamp_(0, 1), x)
    for m in (G, torch):
        w = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        with m.no_grad():
            w.mul_(2).sub_(1)
        assert w.tolist() == [1.0, 3.0, 5.0] and w.requires_grad and w.is_leaf and w.grad_fn is None
    # a tensor saved for backward and then changed in place makes backward fail
    ours, theirs = assert_same_error(_modified_saved, x, message=False)
    assert "modified by an inplace operation" in str(ours)


def _modified_saved(m, a):
    a.requires_grad_()
    y = a.exp()
    y.add_(1)
    y.sum().backward()


def test_inplace_errors():
    x = [np.zeros((3, 1)), np.ones((3, 4))]
    assert_same_error(lambda m, a, b: a.add_(b), x)
    assert_same_error(lambda m, a, b: a.long().add_(1.5), x)
    assert_same_error(lambda m, a, b: a.long().div_(2), x)
    assert_same_error(lambda m, a, b: (a > 0).add_(b), x)
    assert_same_error(lambda m, a, b: a.fill_(b), x)
    assert_same_error(lambda m, a, b: b.copy_(m.ones(2)), x)
    assert_same_error(lambda m, a, b: b.expand(2, 3, 4).add_(1), x)
    assert_same_error(lambda m, a, b: m.tensor([1, 2], dtype=m.uint8).fill_(300), x)
    assert_same_error(lambda m, a, b: a.mul_(b[:2]), x)
    assert_same_error(lambda m, a, b: b.sub_(m.ones(2, 4)), x)


# ---- error classes and messages --------------------------------------------------------------------------
def _a(*shape):
    return np.ones(shape)


ERRORS = {  # name -> (fn(m, *tensors), input shapes): the exception class and message must be torch's
    "matmul_2d": (lambda m, a, b: a @ b, [(64, 784), (128, 10)]),
    "matmul_fn": (lambda m, a, b: m.matmul(a, b), [(3, 4), (5, 6)]),
    "matmul_1d_2d": (lambda m, a, b: a @ b, [(3,), (4, 5)]),
    "matmul_1d_1d": (lambda m, a, b: a @ b, [(3,), (4,)]),
    "matmul_2d_1d": (lambda m, a, b: a @ b, [(3, 4), (5,)]),
    "matmul_0d": (lambda m, a, b: m.matmul(a, b), [(), (3,)]),
    "mm": (lambda m, a, b: m.mm(a, b), [(2, 3), (4, 2)]),
    "linear": (lambda m, a, b: m.nn.functional.linear(a, b), [(64, 784), (10, 128)]),
    "add_broadcast": (lambda m, a, b: a + b, [(2, 3), (2, 4)]),
    "mul_broadcast": (lambda m, a, b: m.mul(a, b), [(5, 3), (4, 1)]),
    "sub_broadcast_3d": (lambda m, a, b: a - b, [(2, 3, 4), (3, 5)]),
    "div_broadcast": (lambda m, a, b: a / b, [(3,), (4,)]),
    "maximum_broadcast": (lambda m, a, b: m.maximum(a, b), [(2, 3), (3, 2)]),
    "eq_broadcast": (lambda m, a, b: a == b, [(2, 3), (2, 4)]),
    "pow_broadcast": (lambda m, a, b: a ** b, [(2,), (3,)]),
    "where_broadcast": (lambda m, a, b: m.where(a > 0, a, b), [(2, 3), (4, 3)]),
    "sum_dim": (lambda m, a: a.sum(dim=3), [(2, 3)]),
    "sum_neg_dim": (lambda m, a: a.sum(-3), [(2, 3)]),
    "sum_dims": (lambda m, a: a.sum((0, 5)), [(2, 3)]),
    "sum_dup_dims": (lambda m, a: a.sum((0, 0)), [(2, 3)]),
    "mean_dim": (lambda m, a: a.mean(2), [(2, 3)]),
    "max_dim": (lambda m, a: a.max(dim=2), [(2, 3)]),
    "argmax_dim": (lambda m, a: a.argmax(-3), [(2, 3)]),
    "softmax_dim": (lambda m, a: a.softmax(2), [(2, 3)]),
    "cumsum_dim": (lambda m, a: a.cumsum(2), [(2, 3)]),
    "var_dim": (lambda m, a: a.var(4), [(2, 3)]),
    "unsqueeze_dim": (lambda m, a: a.unsqueeze(3), [(2, 3)]),
    "squeeze_dim": (lambda m, a: a.squeeze(2), [(2, 3)]),
    "transpose_dim": (lambda m, a: a.transpose(0, 2), [(2, 3)]),
    "permute_len": (lambda m, a: a.permute(1, 0, 2), [(2, 3)]),
    "permute_dup": (lambda m, a: a.permute(0, 0), [(2, 3)]),
    "flatten_dim": (lambda m, a: a.flatten(3), [(2, 3)]),
    "flatten_order": (lambda m, a: a.flatten(2, 1), [(2, 3, 4)]),
    "cat_dim": (lambda m, a, b: m.cat([a, b], dim=2), [(2, 3), (2, 3)]),
    "cat_sizes": (lambda m, a, b: m.cat([a, b], dim=1), [(2, 3), (3, 3)]),
    "cat_ndim": (lambda m, a, b: m.cat([a, b]), [(2, 3), (3,)]),
    "cat_0dim": (lambda m, a, b: m.cat([a, b]), [(), ()]),
    "cat_empty_list": (lambda m: m.cat([]), []),
    "stack_sizes": (lambda m, a, b: m.stack([a, b]), [(2, 3), (3, 2)]),
    "stack_dim": (lambda m, a, b: m.stack([a, b], dim=3), [(2, 3), (2, 3)]),
    "view_noncontiguous": (lambda m, a: a.t().view(-1), [(2, 3)]),
    "view_transposed_3d": (lambda m, a: a.transpose(0, 1).view(6, 4), [(2, 3, 4)]),
    "view_invalid": (lambda m, a: a.view(4, 2), [(2, 3)]),
    "reshape_invalid": (lambda m, a: a.reshape(5, 5), [(3, 4)]),
    "reshape_infer_invalid": (lambda m, a: a.reshape(-1, 5), [(3, 4)]),
    "reshape_two_infers": (lambda m, a: a.reshape(-1, -1), [(3, 4)]),
    "reshape_negative": (lambda m, a: a.reshape(-2, 6), [(3, 4)]),
    "expand_size": (lambda m, a: a.expand(3, 4), [(2, 1)]),
    "expand_fewer": (lambda m, a: a.expand(4), [(2, 1)]),
    "repeat_fewer": (lambda m, a: a.repeat(2), [(2, 3)]),
    "t_3d": (lambda m, a: a.t(), [(2, 3, 4)]),
    "tril_1d": (lambda m, a: a.tril(), [(3,)]),
    "chunk_zero": (lambda m, a: a.chunk(0), [(3,)]),
    "split_sizes": (lambda m, a: a.split([1, 1]), [(3,)]),
    "gather_dtype": (lambda m, a: a.gather(0, m.tensor([[0]], dtype=m.int16)), [(2, 3)]),
    "gather_negative": (lambda m, a: a.gather(1, m.tensor([[-1]])), [(2, 3)]),
    "scatter_add_range": (lambda m, a: a.scatter_add(1, m.tensor([[3]]), a), [(2, 3)]),
    "index_select_negative": (lambda m, a: a.index_select(1, m.tensor([-1])), [(2, 3)]),
    "gather_ndim": (lambda m, a: a.gather(0, m.tensor([0])), [(2, 3)]),
    "gather_out_of_range": (lambda m, a: a.gather(1, m.tensor([[0, 5]])), [(2, 3)]),
    "index_select_2d": (lambda m, a: a.index_select(0, m.tensor([[0]])), [(2, 3)]),
    "index_select_range": (lambda m, a: a.index_select(1, m.tensor([3])), [(2, 3)]),
    "masked_fill_dtype": (lambda m, a: a.masked_fill(m.tensor([1, 0, 1]), 0.0), [(2, 3)]),
    "masked_fill_value": (lambda m, a: a.masked_fill(a > 0, m.ones(2)), [(2, 3)]),
    "where_condition": (lambda m, a: m.where(a, a, a), [(2, 3)]),
    "clamp_none": (lambda m, a: a.clamp(), [(2, 3)]),
    "mean_int": (lambda m, a: a.long().mean(), [(2, 3)]),
    "item_many": (lambda m, a: a.item(), [(2, 3)]),
    "backward_nonscalar": (lambda m, a: (a.requires_grad_() * 2).backward(), [(2, 3)]),
    "backward_no_grad": (lambda m, a: a.sum().backward(), [(2, 3)]),
    "backward_twice": (lambda m, a: _backward_twice(a), [(2, 3)]),
    "grad_shape": (lambda m, a: (a.requires_grad_() * 2).backward(m.ones(3)), [(2, 3)]),
    "neg_bool": (lambda m, a: -(a > 0), [(2, 3)]),
    "sub_bool": (lambda m, a: (a > 0) - (a > 1), [(2, 3)]),
    "integer_neg_pow": (lambda m, a: a.long() ** -1, [(2, 3)]),
    "int_div_zero": (lambda m, a: a.long() // 0, [(2, 3)]),
    "alpha_float_int": (lambda m, a: a.long().add(a.long(), alpha=0.5), [(2, 3)]),
    "float_index": (lambda m, a: a[m.tensor([0.0])], [(2, 3)]),
}


def _backward_twice(a):
    y = (a.requires_grad_() * a).sum()
    y.backward()
    y.backward()


@pytest.mark.parametrize("name", list(ERRORS))
def test_error_messages(name):
    fn, shapes = ERRORS[name]
    assert_same_error(fn, [_a(*s) for s in shapes])


def test_error_message_examples():
    """The messages the issue quotes, spelled out."""
    with pytest.raises(RuntimeError, match=r"^mat1 and mat2 shapes cannot be multiplied \(64x784 and 128x10\)$"):
        G.zeros(64, 784) @ G.zeros(128, 10)
    with pytest.raises(RuntimeError, match=r"^The size of tensor a \(3\) must match the size of tensor b \(4\) at "
                                           r"non-singleton dimension 1$"):
        G.zeros(2, 3) + G.zeros(2, 4)
    with pytest.raises(IndexError, match=r"^Dimension out of range \(expected to be in range of \[-2, 1\], "
                                         r"but got 2\)$"):
        G.zeros(2, 3).sum(2)
    with pytest.raises(RuntimeError, match=r"^view size is not compatible with input tensor's size and stride"):
        G.zeros(2, 3).t().view(6)
    with pytest.raises(RuntimeError, match=r"^shape '\[5, 5\]' is invalid for input of size 12$"):
        G.zeros(3, 4).reshape(5, 5)


# ---- special values and empty tensors ------------------------------------------------------------------
SPECIAL = np.array([[np.nan, 1.0, -np.inf, 0.0], [-0.0, np.inf, -2.5, np.nan], [3.0, -1.0, 0.5, 2.0]])
SPECIAL_OPS = [op for op in TABLE if not op.name.startswith(("equal", "allclose"))
               and all(len(s) <= 2 for s in op.shapes[0]) and len(op.shapes[0]) <= 2 and op.special_values]


@pytest.mark.parametrize("op", SPECIAL_OPS, ids=_ids(SPECIAL_OPS))
def test_special_values(op: Op):
    """NaN, infinities and signed zeros flow through every op as in PyTorch (forward only)."""
    shapes = op.shapes[0]
    arrays = []
    for k, s in enumerate(shapes):
        size = int(np.prod(s))
        flat = np.roll(SPECIAL.reshape(-1), 3 * k)
        arrays.append(np.resize(flat, size).reshape(s) if size else np.zeros(s))
    xs_g, xs_t = tensors(G, arrays), tensors(torch, arrays)
    with np.errstate(all="ignore"):
        try:
            theirs = op.fn(torch, *xs_t)
        except Exception as e:  # noqa: BLE001
            with pytest.raises(type(e)):
                op.fn(G, *xs_g)
            return
        ours = op.fn(G, *xs_g)
    assert_same(ours, theirs, what=op.name)


EMPTY = [
    Op("sum_empty", lambda m, a: (a.sum(), a.sum(0), a.sum(1)), [((0, 3),)]),
    Op("mean_empty", lambda m, a: (a.mean(0), a.mean(1)), [((0, 3),)]),
    Op("prod_empty", lambda m, a: (a.prod(), a.prod(0)), [((0, 3),)]),
    Op("amax_empty", lambda m, a: a.amax(0), [((2, 0),)]),
    Op("max_empty_dim", lambda m, a: a.max(1), [((0, 3),)]),
    Op("logsumexp_empty", lambda m, a: a.logsumexp(0), [((0, 3),)]),
    Op("norm_empty", lambda m, a: a.norm(), [((0, 3),)]),
    Op("unary_empty", lambda m, a: (a.exp(), -a, a.relu(), a * 2, a.abs().sqrt()), [((0, 3),)]),
    Op("binary_empty", lambda m, a, b: (a + b, m.maximum(a, b), a == b), [((0, 3), (1, 3)), ((0, 1), (3,))]),
    Op("matmul_empty", lambda m, a, b: a @ b, [((2, 0), (0, 3)), ((0, 4), (4, 3)), ((3, 4), (4, 0))]),
    Op("reshape_empty", lambda m, a: (a.reshape(3, 0, 2), a.reshape(-1, 3).shape, a.flatten()), [((0, 6),)]),
    Op("cat_empty", lambda m, a, b: m.cat([a, b]), [((0, 3), (2, 3))]),
    Op("stack_empty", lambda m, a, b: m.stack([a, b], 1), [((0, 3), (0, 3))]),
    Op("index_empty", lambda m, a: (a[m.tensor([], dtype=m.int64)], a[:0], a[a > 5]), [((3, 2),)]),
    Op("cumsum_empty", lambda m, a: a.cumsum(0), [((0, 3),)]),
    Op("softmax_empty", lambda m, a: a.softmax(1), [((0, 3),)]),
    Op("var_empty", lambda m, a: a.var(0), [((0, 3),)]),
    Op("split_empty", lambda m, a: (a.split(2), a.split(2, 1)), [((0, 3),), ((3, 0),)]),
    Op("chunk_empty", lambda m, a: (a.chunk(2), a.chunk(2, 1)), [((0, 3),)]),
    Op("sign_special", lambda m, a: m.sign(a / a.abs().round()), [((3, 4),)]),
]


@pytest.mark.parametrize("op", EMPTY, ids=_ids(EMPTY))
def test_empty_tensors(op: Op):
    for k, shapes in enumerate(op.shapes):
        with np.errstate(all="ignore"):
            arrays = _draw(op, shapes, "float64", seed=k)
            if raised(op.fn, torch, *tensors(torch, arrays)) is not None:
                assert_same_error(op.fn, arrays, message=False)
                continue
            _check_forward_backward(op, arrays, "float64", seed=k)


def test_empty_reduction_errors():
    x = [np.zeros((0, 3))]
    assert_same_error(lambda m, a: a.max(), x)
    assert_same_error(lambda m, a: a.amax(0), x, message=False)
    assert_same_error(lambda m, a: a.argmax(), x, message=False)
    for fn in (lambda m, a: a.max(0), lambda m, a: a.amax(), lambda m, a: a.amin((1, 0)), lambda m, a: a.argmax(),
               lambda m, a: a.argmin(0), lambda m, a: a.min(), lambda m, a: a.max(-2, keepdim=True)):
        assert_same_error(fn, x)
    assert_same(G.zeros(0, 3).amax(1), torch.zeros(0, 3).amax(1))
    assert_same(G.zeros(0, 3).argmax(1), torch.zeros(0, 3).argmax(1))
