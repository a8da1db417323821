"""torch.linalg, torch.special and the wider math ops beyond the op table (tests/optable_math_linalg.py):
error classes and messages, options (modes, tolerances, weights), edge values, return types.
Every expected value comes from torch, run live on the same inputs."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import glasstorch as G
from _compare import assert_same, assert_same_error, tensors

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning")]

MODULES = (G, torch)


def both(fn, *arrays, requires_grad=False):
    """fn(module, *tensors) on glasstorch and on torch, compared (values, dtype, shape)."""
    ours = fn(G, *tensors(G, arrays, requires_grad=requires_grad))
    theirs = fn(torch, *tensors(torch, arrays, requires_grad=requires_grad))
    assert_same(ours, theirs)
    return ours, theirs


def grads(fn, *arrays):
    """The gradients of sum(fn(m, *inputs) * weights) on both libraries, compared in float64."""
    out = []
    for m in MODULES:
        xs = tensors(m, arrays, requires_grad=True)
        y = fn(m, *xs)
        w = m.from_numpy(np.random.default_rng(5).standard_normal(tuple(y.shape)))
        (y * w).sum().backward()
        out.append([x.grad for x in xs])
    assert_same(out[0], out[1])


SINGULAR = np.array([[1.0, 2.0], [2.0, 4.0]])
NOT_PD = np.array([[1.0, 2.0], [2.0, 1.0]])


# ---- LinAlgError: singular and not positive-definite matrices ---------------------------------------
def test_linalg_error_class():
    assert issubclass(G.linalg.LinAlgError, RuntimeError)
    with pytest.raises(G.linalg.LinAlgError):
        G.linalg.inv(G.from_numpy(SINGULAR))


SINGULAR_CASES = {
    "cholesky": (lambda m, a: m.linalg.cholesky(a), NOT_PD),
    "inv": (lambda m, a: m.linalg.inv(a), SINGULAR),
    "solve": (lambda m, a: m.linalg.solve(a, m.ones(2, dtype=a.dtype)), SINGULAR),
    "inverse": (lambda m, a: m.inverse(a), SINGULAR),
    "matrix_power_neg": (lambda m, a: m.linalg.matrix_power(a, -1), SINGULAR),
}


@pytest.mark.parametrize("name", list(SINGULAR_CASES))
@pytest.mark.parametrize("batched", [False, True])
def test_singular_errors(name, batched):
    fn, bad = SINGULAR_CASES[name]
    arr = np.stack([np.eye(2), bad]) if batched else bad  # batched: the second matrix fails
    assert_same_error(fn, [arr])


def test_ex_variants_report_info():
    for m_name in ("inv_ex", "cholesky_ex"):
        bad = SINGULAR if m_name == "inv_ex" else NOT_PD
        arr = np.stack([np.eye(2), bad])
        ours = getattr(G.linalg, m_name)(G.from_numpy(arr))
        theirs = getattr(torch.linalg, m_name)(torch.from_numpy(arr))
        assert_same(ours[1], theirs[1])  # info: 0 for the good matrix, the failing pivot/minor otherwise
        assert_same(ours[0][0], theirs[0][0])  # the good one is factorized normally
        with pytest.raises(G.linalg.LinAlgError):
            getattr(G.linalg, m_name)(G.from_numpy(arr), check_errors=True)


def test_singular_values_without_error():
    both(lambda m, a: (m.linalg.det(a), m.linalg.slogdet(a), m.logdet(a)), SINGULAR)
    both(lambda m, a: m.logdet(a), np.array([[0.0, 1.0], [1.0, 0.0]]))  # negative determinant: NaN


# ---- shape and dtype errors ----------------------------------------------------------------------
SHAPE_ERRORS = {
    "det_1d": (lambda m, a: m.linalg.det(a), [np.ones(3)]),
    "det_int": (lambda m, a: m.linalg.det(a.long()), [np.ones((3, 3))]),
    "inv_rect": (lambda m, a: m.linalg.inv(a), [np.ones((2, 3))]),
    "inv_int": (lambda m, a: m.linalg.inv(a.long()), [np.ones((3, 3))]),
    "eigh_rect": (lambda m, a: m.linalg.eigh(a), [np.ones((2, 3))]),
    "eigh_uplo": (lambda m, a: m.linalg.eigh(a, UPLO="X"), [np.eye(2)]),
    "qr_mode": (lambda m, a: m.linalg.qr(a, mode="x"), [np.ones((3, 2))]),
    "solve_shapes": (lambda m, a, b: m.linalg.solve(a, b), [np.eye(3), np.ones(2)]),
    "solve_right_vector": (lambda m, a, b: m.linalg.solve(a, b, left=False), [np.eye(3), np.ones(3)]),
    "solve_batch_rhs": (lambda m, a, b: m.linalg.solve(a, b), [np.ones((2, 3, 3)), np.ones((2, 4, 3))]),
    "matrix_power_rect": (lambda m, a: m.linalg.matrix_power(a, 2), [np.ones((2, 3))]),
    "lstsq_rows": (lambda m, a, b: m.linalg.lstsq(a, b), [np.ones((3, 3)), np.ones((4, 2))]),
    "vector_norm_int": (lambda m, a: m.linalg.vector_norm(a.long()), [np.ones(3)]),
    "matrix_norm_1d": (lambda m, a: m.linalg.matrix_norm(a), [np.ones(3)]),
    "matrix_norm_ord": (lambda m, a: m.linalg.matrix_norm(a, 3), [np.ones((3, 3))]),
    "norm_3d_ord": (lambda m, a: m.linalg.norm(a, 2), [np.ones((2, 2, 2))]),
    "multi_dot_one": (lambda m, a: m.linalg.multi_dot([a]), [np.ones((2, 2))]),
    "cross_length": (lambda m, a, b: m.linalg.cross(a, b), [np.ones(3), np.ones(4)]),
    "cross_ndim": (lambda m, a, b: m.linalg.cross(a, b), [np.ones(3), np.ones((2, 3))]),
    "cross_broadcast": (lambda m, a, b: m.linalg.cross(a, b), [np.ones((2, 3)), np.ones((4, 3))]),
    "trace_1d": (lambda m, a: m.trace(a), [np.ones(3)]),
    "trace_bool": (lambda m, a: m.trace(a > 0), [np.ones((2, 2))]),
    "addmm_vector": (lambda m, i, a, b: m.addmm(i, a, b), [np.ones((3, 3)), np.ones((3, 3)), np.ones(3)]),
    "addmm_shapes": (lambda m, i, a, b: m.addmm(i, a, b), [np.ones((3, 3)), np.ones((3, 4)), np.ones((5, 3))]),
    "addmm_input": (lambda m, i, a, b: m.addmm(i, a, b), [np.ones((2, 2)), np.ones((3, 3)), np.ones((3, 3))]),
    "addmm_dtypes": (lambda m, i, a, b: m.addmm(i.float(), a, b), [np.ones((3, 3))] * 3),
    "addmv_shapes": (lambda m, i, a, v: m.addmv(i, a, v), [np.ones(3), np.ones((3, 3)), np.ones(4)]),
    "addmv_matrix": (lambda m, i, a, v: m.addmv(i, a, a), [np.ones(3), np.ones((3, 3)), np.ones(3)]),
    "baddbmm_shapes": (lambda m, i, a, b: m.baddbmm(i, a, b),
                       [np.ones((3, 3)), np.ones((2, 3, 3)), np.ones((2, 4, 3))]),
    "addbmm_batches": (lambda m, i, a, b: m.addbmm(i, a, b), [np.ones((3, 3)), np.ones((2, 3, 3)), np.ones((3, 3, 3))]),
    "vdot_2d": (lambda m, a, b: m.vdot(a, b), [np.ones((3, 3)), np.ones(3)]),
    "vdot_sizes": (lambda m, a, b: m.vdot(a, b), [np.ones(3), np.ones(4)]),
    "vdot_dtypes": (lambda m, a, b: m.vdot(a, b.float()), [np.ones(3), np.ones(3)]),
    "tensordot_dims": (lambda m, a, b: m.tensordot(a, b, dims=3), [np.ones((2, 3)), np.ones((2, 3))]),
    "tensordot_negative": (lambda m, a, b: m.tensordot(a, b, dims=-1), [np.ones((2, 3)), np.ones((2, 3))]),
    "tensordot_sizes": (lambda m, a, b: m.tensordot(a, b, dims=([0], [1])), [np.ones((2, 3)), np.ones((2, 3))]),
    "inner_sizes": (lambda m, a, b: m.inner(a, b), [np.ones((3, 3)), np.ones(4)]),
    "cdist_1d": (lambda m, a, b: m.cdist(a, b), [np.ones(3), np.ones(3)]),
    "cdist_columns": (lambda m, a, b: m.cdist(a, b), [np.ones((3, 3)), np.ones((3, 4))]),
    "cdist_int": (lambda m, a, b: m.cdist(a.long(), b.long()), [np.ones((3, 3)), np.ones((3, 3))]),
    "cdist_mode": (lambda m, a, b: m.cdist(a, b, compute_mode="fast"), [np.ones((3, 3)), np.ones((3, 3))]),
    "diff_0d": (lambda m, a: m.diff(a), [np.array(1.0)]),
    "heaviside_dtypes": (lambda m, a, b: m.heaviside(a, b.long()), [np.ones(2), np.ones(2)]),
    "frac_int": (lambda m, a: m.frac(a.long()), [np.ones(2)]),
    "hypot_int": (lambda m, a: m.hypot(a.long(), a.long()), [np.ones(2)]),
    "logaddexp_int": (lambda m, a: m.logaddexp(a.long(), a.long()), [np.ones(2)]),
    "logcumsumexp_int": (lambda m, a: m.logcumsumexp(a.long(), 0), [np.ones(2)]),
    "lshift_float": (lambda m, a: a << 1, [np.ones(2)]),
    "lshift_float_amount": (lambda m, a: a.long() << 1.5, [np.ones(2)]),
    "rshift_bool": (lambda m, a: (a > 0) >> (a > 0), [np.ones(2)]),
    "bitwise_and_float": (lambda m, a: m.bitwise_and(a, a), [np.ones(2)]),
    "invert_float": (lambda m, a: ~a, [np.ones(2)]),
    "isin_bool": (lambda m, a: m.isin(a > 0, a > 0), [np.ones(2)]),
    "positive_bool": (lambda m, a: m.positive(a > 0), [np.ones(2)]),
    "nanmean_int": (lambda m, a: m.nanmean(a.long()), [np.ones(2)]),
    "std_mean_int": (lambda m, a: m.std_mean(a.long()), [np.ones(2)]),
    "var_mean_int": (lambda m, a: m.var_mean(a.long()), [np.ones(2)]),
    "aminmax_empty": (lambda m, a: m.aminmax(a), [np.ones(0)]),
    "aminmax_empty_dim": (lambda m, a: m.aminmax(a, dim=1), [np.ones((2, 0))]),
    "cov_3d": (lambda m, a: m.cov(a), [np.ones((2, 2, 2))]),
    "cov_bool": (lambda m, a: m.cov(a > 0), [np.ones((2, 2))]),
    "cov_fweights_float": (lambda m, a: m.cov(a, fweights=m.ones(3)), [np.ones((2, 3))]),
    "cov_aweights_int": (lambda m, a: m.cov(a, aweights=m.ones(3, dtype=m.int64)), [np.ones((2, 3))]),
    "cov_fweights_negative": (lambda m, a: m.cov(a, fweights=m.tensor([1, -1, 1])), [np.ones((2, 3))]),
    "cov_aweights_negative": (lambda m, a: m.cov(a, aweights=m.tensor([1.0, -1.0, 1.0])), [np.ones((2, 3))]),
    "cov_weights_numel": (lambda m, a: m.cov(a, fweights=m.tensor([1, 1])), [np.ones((2, 3))]),
    **{f"{name}_half": (lambda m, a, name=name: getattr(m.linalg, name)(a.half()), [np.eye(2)])
       for name in ("det", "inv", "slogdet", "cholesky", "qr", "eigh", "eigvalsh", "svd", "svdvals", "pinv",
                    "matrix_rank")},
    "solve_half": (lambda m, a: m.linalg.solve(a.half(), a[0].half()), [np.eye(2)]),
    "log_ndtr_half": (lambda m, a: m.special.log_ndtr(a.half()), [np.ones(2)]),
    "special_round_int": (lambda m, a: m.special.round(a.long()), [np.ones(2)]),
}


@pytest.mark.parametrize("name", list(SHAPE_ERRORS))
def test_errors(name):
    fn, arrays = SHAPE_ERRORS[name]
    assert_same_error(fn, arrays)


def test_no_derivative_errors():
    for fn in (lambda m, a: m.heaviside(a, a), ):
        errs = []
        for m in MODULES:
            (x,) = tensors(m, [np.ones(3)], requires_grad=True)
            with pytest.raises(RuntimeError) as info:
                fn(m, x).sum().backward()
            errs.append(str(info.value))
        assert errs[0] == errs[1]


# ---- options ---------------------------------------------------------------------------------------
RNG = np.random.default_rng(0)
A43 = RNG.standard_normal((4, 3))
A34 = RNG.standard_normal((3, 4))
SYM_UPPER = np.triu(RNG.standard_normal((3, 3))) + 4 * np.eye(3)  # only the upper triangle is meaningful


def test_qr_modes():
    for mode in ("reduced", "complete", "r"):
        both(lambda m, a: m.linalg.qr(a, mode=mode), A43)
        both(lambda m, a: m.linalg.qr(a, mode=mode), A34)


def test_qr_complete_tall_is_not_differentiable():
    for m in MODULES:
        (a,) = tensors(m, [A43], requires_grad=True)
        with pytest.raises(RuntimeError, match="mode='complete' and nrows > ncols"):
            m.linalg.qr(a, mode="complete").Q.sum().backward()


def test_svd_full_matrices_shapes_and_singular_values():
    for a in (A43, A34):
        ours = G.linalg.svd(G.from_numpy(a))
        theirs = torch.linalg.svd(torch.from_numpy(a))
        assert [tuple(t.shape) for t in ours] == [tuple(t.shape) for t in theirs]
        assert_same(ours.S, theirs.S)
        # U diag(S) Vh rebuilds A whatever the signs LAPACK chose
        k = min(a.shape)
        rebuilt = (ours.U[:, :k] * ours.S) @ ours.Vh[:k]
        np.testing.assert_allclose(rebuilt.numpy(), a, rtol=1e-10, atol=1e-12)


def test_eigh_reads_one_triangle_and_its_gradient():
    for uplo in ("L", "U"):
        both(lambda m, a: m.linalg.eigvalsh(a, UPLO=uplo), SYM_UPPER)
    sym = SYM_UPPER + SYM_UPPER.T
    # a symmetric leaf: PyTorch's gradient is symmetric (the skew part of Q^T gQ is what counts)
    grads(lambda m, a: (lambda r: m.cat([r.eigenvalues, (r.eigenvectors * r.eigenvectors[:1].sign()).flatten()]))(
        m.linalg.eigh(a)), sym)


def test_pinv_and_matrix_rank_tolerances():
    rank2 = A43[:, :2] @ RNG.standard_normal((2, 3))  # rank 2: one singular value ~1e-16
    both(lambda m, a: m.linalg.matrix_rank(a), rank2)
    both(lambda m, a: (m.linalg.matrix_rank(a, atol=1.0), m.linalg.matrix_rank(a, rtol=0.5),
                       m.linalg.matrix_rank(a, hermitian=True)), A43 @ A43.T)
    both(lambda m, a: m.linalg.pinv(a), rank2)
    both(lambda m, a: (m.linalg.pinv(a, atol=0.5), m.linalg.pinv(a, rtol=0.3), m.pinverse(a)), A43)


def test_lstsq_fields():
    ours = G.linalg.lstsq(*tensors(G, [A43, A43[:, :2]]))
    theirs = torch.linalg.lstsq(*tensors(torch, [A43, A43[:, :2]]))
    for f in ("solution", "residuals", "rank", "singular_values"):
        assert_same(getattr(ours, f), getattr(theirs, f), what=f)
    both(lambda m, a, b: m.linalg.lstsq(a, b).solution, A43, A43[:, 0])  # a vector right-hand side


def test_matrix_power_zero_and_negative():
    a = np.stack([A43[:3] + 3 * np.eye(3)] * 2)
    both(lambda m, x: (m.linalg.matrix_power(x, 0), m.linalg.matrix_power(x, 1), m.linalg.matrix_power(x, 5),
                       x.matrix_power(-3)), a)
    grads(lambda m, x: m.linalg.matrix_power(x, 0), a)


def test_norm_dispatch():
    x = RNG.standard_normal((2, 3, 4))
    both(lambda m, a: (m.linalg.norm(a), m.linalg.norm(a, dim=1), m.linalg.norm(a, dim=(0, 2)),
                       m.linalg.norm(a[0], 1), m.linalg.norm(a[0, 0], 1), m.linalg.norm(a, -math.inf, dim=(1, 2)),
                       m.linalg.norm(a, "fro", dim=(0, 1), keepdim=True), m.linalg.norm(a, 0, dim=2)), x)
    both(lambda m, a: (m.linalg.vector_norm(a, 0.5, dim=-1), m.linalg.vector_norm(a, math.inf),
                       m.linalg.matrix_norm(a, -1, dim=(0, 2)), m.linalg.matrix_norm(a, 2, dim=(2, 0), keepdim=True),
                       m.linalg.matrix_norm(a, "nuc", keepdim=True)), x)


def test_return_type_reprs_and_fields():
    a = A43[:3] + 3 * np.eye(3)
    for fn in (lambda m, x: m.linalg.slogdet(x), lambda m, x: m.linalg.qr(x), lambda m, x: m.aminmax(x),
               lambda m, x: m.cummax(x, 0), lambda m, x: m.cummin(x, 1)):
        ours, theirs = both(fn, a)
        assert repr(ours).split("(")[0] == repr(theirs).split("(")[0]
        assert type(ours).__name__ == type(theirs).__name__
    # (eigenvectors' signs depend on the LAPACK build: the type and the eigenvalues only)
    ours, theirs = G.linalg.eigh(G.from_numpy(a @ a.T)), torch.linalg.eigh(torch.from_numpy(a @ a.T))
    assert type(ours).__name__ == type(theirs).__name__ and repr(ours).startswith("torch.return_types.linalg_eigh(")
    assert_same(ours.eigenvalues, theirs.eigenvalues)
    ours = G.aminmax(G.from_numpy(a))
    assert_same((ours.min, ours.max), tuple(torch.aminmax(torch.from_numpy(a))))
    assert_same(G.linalg.slogdet(G.from_numpy(a)).logabsdet, torch.linalg.slogdet(torch.from_numpy(a)).logabsdet)


def test_grad_fn_names_of_several_outputs():
    a = A43[:3] + 3 * np.eye(3)
    for fn in (lambda m, x: m.linalg.slogdet(x), lambda m, x: m.linalg.qr(x), lambda m, x: m.linalg.svd(x),
               lambda m, x: m.linalg.eigh(x + x.mT)):
        names = []
        for m in MODULES:
            (x,) = tensors(m, [a], requires_grad=True)
            names.append([t.grad_fn.name() for t in fn(m, x)])
        assert names[0] == names[1]


def test_cholesky_upper_and_deprecated_alias():
    spd = A43.T @ A43 + np.eye(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        both(lambda m, a: (m.cholesky(a), m.cholesky(a, upper=True), a.cholesky()), spd)
    with pytest.warns(UserWarning, match="torch.cholesky is deprecated"):  # (PyTorch warns once per process)
        G.cholesky(G.from_numpy(spd))
    grads(lambda m, a: m.linalg.cholesky(a, upper=True), spd)


# ---- products, scans, statistics --------------------------------------------------------------------------
def test_fused_products_beta_zero_ignores_nan_and_integer_scalars():
    nan = np.full((2, 2), np.nan)
    both(lambda m, i, a: (m.addmm(i, a, a, beta=0), m.baddbmm(i, a[None], a[None], beta=0)), nan, np.eye(2))
    ints = np.arange(4).reshape(2, 2)
    both(lambda m, i: (m.addmm(i.long(), i.long(), i.long(), beta=2, alpha=3),
                       m.addmv(i[0].int(), i.int(), i[1].int(), alpha=-1),
                       m.addbmm(i.int(), i.int()[None], i.int()[None]),
                       m.addmm(i.byte(), i.byte(), i.byte(), alpha=-2)), ints)


def test_cross_default_dim_warns_and_picks_the_first_size_3():
    a, b = RNG.standard_normal((3, 3, 2)), RNG.standard_normal((3, 3, 2))
    for m in MODULES:
        with pytest.warns(UserWarning, match="without specifying the dim"):
            m.cross(m.from_numpy(a), m.from_numpy(b))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        both(lambda m, x, y: (m.cross(x, y), x.cross(y, dim=1)), a, b)


def test_chain_matmul_warns_and_multiplies():
    mats = [RNG.standard_normal(s) for s in ((2, 3), (3, 4), (4, 5))]
    for m in MODULES:
        with pytest.warns(UserWarning, match="chain_matmul is deprecated"):
            m.chain_matmul(*tensors(m, mats))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        both(lambda m, a, b, c: m.chain_matmul(a, b, c), *mats)
        both(lambda m, a: m.chain_matmul(a), mats[0])


def test_cummax_ties_and_nans_and_bools():
    x = np.array([[1.0, 1.0, 0.5, 2.0, 2.0, np.nan, 3.0, np.nan, 1.0]])
    both(lambda m, a: (m.cummax(a, 1), m.cummin(a, 1), m.cummax(a > 0.7, 1), m.cummin(a.long(), 1)), x)
    both(lambda m, a: (m.cummax(a[0, 0], 0), m.cumprod(a[0, 0], 0), m.logcumsumexp(a[0, 0], 0)), x)


def test_cumprod_dtypes_and_zero_gradients():
    x = np.array([[2.0, 0.0, 3.0, 0.0, 1.5], [1.0, 2.0, 0.5, 3.0, 0.0]])
    both(lambda m, a: (m.cumprod(a.long(), 1), m.cumprod(a > 0, 0), m.cumprod(a, 1, dtype=m.float32)), x)
    grads(lambda m, a: m.cumprod(a, 1), x)  # one and two zeros in a row


def test_logcumsumexp_spread_and_infinities():
    x = np.array([[-1000.0, 0.0, 1000.0, -np.inf], [-np.inf, -np.inf, 1.0, np.inf]])
    both(lambda m, a: m.logcumsumexp(a, 1), x)
    grads(lambda m, a: m.logcumsumexp(a, 1), x[:1, :3])


def test_diff_options():
    x = np.array([[1.0, 4.0, 9.0, 16.0], [2.0, 3.0, 5.0, 7.0]])
    both(lambda m, a: (m.diff(a, n=3), m.diff(a, n=5), m.diff(a, dim=0), m.diff(a > 3), m.diff(a.long(), n=2),
                       m.diff(a, prepend=a[:, :1], dim=1), m.diff(a, append=a[:1], dim=0)), x)


def test_statistics_options():
    x = RNG.standard_normal((3, 5))
    x[0, 1] = x[2, 4] = np.nan
    both(lambda m, a: (m.nansum(a), m.nansum(a, (0, 1), keepdim=True), m.nanmean(a, 1), m.nanmean(a[:1, 1:2]),
                       m.nansum(a.long()), a.nansum(dtype=m.float32)), x)
    y = RNG.standard_normal((3, 5))
    both(lambda m, a: (m.std_mean(a, 1, unbiased=False), m.std_mean(a, True), m.var_mean(a, dim=0, correction=2),
                       m.aminmax(a, dim=0), m.aminmax(a, keepdim=True), m.count_nonzero(a > 0, dim=(0, 1)),
                       m.count_nonzero(a > 0, 1)), y)


def test_cov_and_corrcoef_options():
    x = RNG.standard_normal((3, 6))
    fw, aw = np.array([1, 2, 0, 3, 1, 1]), RNG.uniform(0.5, 2.0, 6)
    both(lambda m, a, w: (m.cov(a), m.cov(a, correction=0), m.cov(a[0]), m.cov(a, aweights=w),
                          m.cov(a, fweights=m.from_numpy(fw)), m.cov(a, correction=3, fweights=m.from_numpy(fw),
                                                                    aweights=w),
                          m.corrcoef(a), m.corrcoef(a[0]), m.cov(a.long())), x, aw)
    grads(lambda m, a, w: m.cov(a, fweights=m.from_numpy(fw), aweights=w), x, aw)
    for m in MODULES:
        with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
            out = m.cov(m.from_numpy(x[:, :1]))
        assert np.isnan(out.numpy()).all()


# ---- special functions: edge values -----------------------------------------------------------------------
EDGES = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -0.999999, 1 + 1e-12, 2.0, -3.5, 1e-300, 30.0, -40.0, 700.0, -745.0,
                  np.inf, -np.inf, np.nan])


@pytest.mark.parametrize("name", ["erfinv", "erfc", "i0", "i0e", "i1", "i1e", "ndtr", "log_ndtr", "entr", "expit",
                                  "logit", "sinc", "gammaln"])
def test_special_edge_values(name):
    both(lambda m, a: getattr(m.special, name)(a), EDGES)
    both(lambda m, a: getattr(m.special, name)(a.float()), EDGES)


def test_elementwise_edge_values():
    a, b = EDGES, np.roll(EDGES, 5)
    both(lambda m, x, y: (m.xlogy(x, y), m.special.xlog1py(x, y), m.hypot(x, y), m.atan2(x, y), m.copysign(x, y),
                          m.logaddexp(x, y), m.logaddexp2(x, y), m.nan_to_num(x), m.nan_to_num(x, 1.0, -2.0, 3.0),
                          m.nan_to_num(x.float()), m.frac(x), m.signbit(x), m.logit(x, 0.25), m.heaviside(x, y),
                          m.asin(x), m.acosh(x), m.atanh(x), m.sinh(x), m.deg2rad(x)), a, b)
    both(lambda m, x: (m.xlogy(0.0, x), m.xlogy(x, 0.0), m.xlogy(2, x.long()), m.atan2(x.long(), x.int()),
                       m.copysign(x.long(), -1), m.special.exp2(x)), a)


def test_special_gradients_at_edges():
    # logit outside [0, 1]: NaN gradient; with eps, 0 where clamped; sinc at 0: 0; entr, xlogy at 0
    grads(lambda m, a: m.logit(a), np.array([-0.5, 0.25, 1.5]))
    grads(lambda m, a: m.logit(a, eps=0.3), np.array([0.1, 0.5, 0.9]))
    grads(lambda m, a: m.sinc(a), np.array([0.0, 0.5, -1.5]))
    grads(lambda m, a, b: m.xlogy(a, b), np.array([0.0, 0.0, 2.0]), np.array([0.0, 2.0, -1.0]))
    grads(lambda m, a: m.copysign(a, -1.0), np.array([0.0, -0.0, 2.0]))
    grads(lambda m, a: m.nan_to_num(a), np.array([np.nan, np.inf, 1.0]))


def test_shifts_follow_pytorch_at_the_edges():
    x = np.array([1, -8, 5, 0, -1])
    s = np.array([0, 1, 63, 64, 70])
    both(lambda m, a, b: (a.long() << b.long(), a.long() >> b.long(), a.int() << 3, a.int() >> 40,
                          a.byte() << 7, 3 << a.abs().long(), (a > 0) << 1, m.bitwise_left_shift(a.short(), 2),
                          (a > 0) & (b > 1), a.long() | 2, a.long() ^ b.long(), ~a.long(), ~(a > 0)), x, s)


def test_isin_scalars_and_options():
    x = np.array([[1.0, 2.0, 3.0], [4.0, 2.0, 9.0]])
    both(lambda m, a: (m.isin(a, 2.0), m.isin(2.0, a), m.isin(a.long(), a[0].long()),
                       m.isin(a, a[1], assume_unique=True), m.isin(a, a[1], invert=True)), x)


def test_methods_and_aliases_exist_where_torch_has_them():
    for name in ("arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "arctan2", "fix", "bitwise_and",
                 "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift",
                 "logical_xor", "cumprod", "cummax", "cummin", "logcumsumexp", "diff", "trace", "inner", "kron",
                 "cross", "vdot", "addmm", "addmv", "addbmm", "baddbmm", "dist", "det", "logdet", "slogdet",
                 "inverse", "pinverse", "cholesky", "matrix_power", "aminmax", "nansum", "nanmean", "cov",
                 "corrcoef", "hypot", "atan2", "copysign", "logaddexp", "logaddexp2", "xlogy", "heaviside", "frac",
                 "deg2rad", "rad2deg", "sinc", "logit", "erfc", "erfinv", "i0", "nan_to_num", "signbit", "positive",
                 "exp2", "ldexp", "fmax", "fmin", "float_power", "sgn", "gcd", "lcm"):
        assert hasattr(torch.Tensor, name) and hasattr(G.Tensor, name), name
        assert hasattr(G, name), name


def test_namespace_aliases():
    x = RNG.uniform(0.5, 2.0, (3, 4))
    both(lambda m, a: (m.special.exp2(a), m.special.psi(a), m.special.digamma(a), m.special.polygamma(2, a),
                       m.special.expm1(a), m.special.log1p(a), m.special.logsumexp(a, 1), m.special.erf(a),
                       m.linalg.vecdot(a, a), m.linalg.vecdot(a, a[:1], dim=0), m.linalg.diagonal(a, offset=1),
                       m.linalg.matmul(a, a.T), m.arctan2(a, a), m.special.erfc(a)), x)
    grads(lambda m, a: m.linalg.vecdot(a, a.exp()), x)


def test_svd_full_matrices_gradient_uses_the_reduced_factors():
    for a in (A43, A34):
        grads(lambda m, x: (lambda r: m.cat([r.S, (r.U[:, :3] @ r.Vh[:3]).flatten()]))(m.linalg.svd(x)), a)


INPLACE = {
    "asin_": lambda t: t.asin_(), "arccos_": lambda t: t.arccos_(), "atanh_": lambda t: t.atanh_(),
    "sinh_": lambda t: t.sinh_(), "atan2_": lambda t: t.atan2_(t * 2), "hypot_": lambda t: t.hypot_(t + 1),
    "copysign_": lambda t: t.copysign_(-1.0), "xlogy_": lambda t: t.xlogy_(3.0), "frac_": lambda t: t.frac_(),
    "deg2rad_": lambda t: t.deg2rad_(), "sinc_": lambda t: t.sinc_(), "logit_": lambda t: t.abs_().logit_(0.1),
    "erfinv_": lambda t: t.erfinv_(), "i0_": lambda t: t.i0_(), "nan_to_num_": lambda t: t.div_(0).nan_to_num_(),
    "cumprod_": lambda t: t.cumprod_(0), "addmm_": lambda t: t.addmm_(t.detach().exp(), t.detach().cos(), alpha=2),
    "bitwise": lambda t: t.mul_(10).long().bitwise_and_(6).bitwise_or_(1).bitwise_left_shift_(2).bitwise_not_(),
    "operators": lambda t: _shift_ops(t.mul_(10).long()),
    "int_asin_": lambda t: t.long().asin_(),  # a float result into an integer tensor: an error
}


def _shift_ops(t):
    t <<= 2
    t >>= 1
    t &= 7
    t |= 8
    t ^= 3
    return t


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_forms(name):
    fn = INPLACE[name]
    x = RNG.uniform(-0.9, 0.9, (3, 3))
    if "int" in name:
        assert_same_error(lambda m, t: fn(t), [x])
        return
    both(lambda m, t: fn(t.clone()), x)
    # in-place on a tensor that is part of a graph: the same values and gradients
    if name not in ("bitwise", "operators", "atanh_"):  # (PyTorch has no derivative for atanh_)
        grads(lambda m, t: fn(t * 1), x)


def test_scan_fallback_without_ufunc_accumulate():
    """The Hillis-Steele scan used where a backend's ufunc has no accumulate (CuPy) gives NumPy's result."""
    from glasstorch._ops.scans import _scan

    class NoAccumulate:
        def __init__(self, f):
            self.f = f

        def __call__(self, a, b):
            return self.f(a, b)

    d = RNG.standard_normal((4, 7, 3))
    d[1, 3, 0] = np.nan
    for f in (np.maximum, np.minimum, np.logaddexp):
        for axis in (0, 1, 2):
            np.testing.assert_allclose(_scan(np, NoAccumulate(f), d, axis), f.accumulate(d, axis=axis),
                                       rtol=1e-13, equal_nan=True)


def test_det_gradient_of_singular_matrices():
    """The gradient of det is the adjugate, which singular matrices have too (rank n - 1: nonzero)."""
    rank2 = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.5], [1.0, 1.0, 1.0]])
    rank2[1] = rank2[0] * 2 + rank2[2]  # exactly dependent rows
    grads(lambda m, a: m.linalg.det(a), rank2)
    grads(lambda m, a: m.linalg.det(a), np.stack([rank2, np.eye(3) * 2]))  # one singular matrix in a batch


# ---- torch.svd, the older spelling of linalg.svd --------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 4, 4)])
@pytest.mark.parametrize("some", [True, False])
def test_legacy_svd(shape, some):
    """torch.svd returns V (not Vh); singular vectors are unique up to sign, so U S V^T and the
    sign-free quantities are compared, and gradients of S (unique) against torch's."""
    a = np.random.default_rng(3).standard_normal(shape)
    (ag,), (at,) = tensors(G, [a], requires_grad=True), tensors(torch, [a], requires_grad=True)
    ours, theirs = G.svd(ag, some=some), torch.svd(at, some=some)
    assert type(ours).__name__ == "svd" and repr(ours).startswith("torch.return_types.svd(\nU=")
    for o, t in zip(ours, theirs):
        assert tuple(o.shape) == tuple(t.shape)
    assert_same(ours.S, theirs.S)
    k = min(shape[-2:])
    recon = (ours.U[..., :k] * ours.S.unsqueeze(-2)) @ ours.V[..., :k].mT
    np.testing.assert_allclose(recon.detach().numpy(), a, rtol=1e-10, atol=1e-12)
    ours.S.sum().backward()
    theirs.S.sum().backward()
    np.testing.assert_allclose(ag.grad.numpy(), at.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert_same(ag.detach().svd(some=some).S, theirs.S.detach())


def test_legacy_svd_without_uv_gives_zero_factors():
    a = np.random.default_rng(4).standard_normal((4, 3))
    ours, theirs = G.svd(G.from_numpy(a), compute_uv=False), torch.svd(torch.from_numpy(a), compute_uv=False)
    for o, t in zip(ours, theirs):
        assert_same(o, t)


def test_pairwise_distance_and_cosine_similarity_at_the_top():
    a, b = np.random.default_rng(5).standard_normal((2, 3, 4))
    assert_same(G.pairwise_distance(G.from_numpy(a), G.from_numpy(b)), torch.pairwise_distance(torch.from_numpy(a), torch.from_numpy(b)))
    assert_same(G.cosine_similarity(G.from_numpy(a), G.from_numpy(b)), torch.cosine_similarity(torch.from_numpy(a), torch.from_numpy(b)))
