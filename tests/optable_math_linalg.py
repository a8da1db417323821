"""Op-table rows for the wider math, linear algebra, logic and statistics ops (glasstorch/_ops/elementwise.py,
products.py, scans.py, statistics.py, linalg_decomp.py; torch.linalg and torch.special).

Matrices for factorizations are built inside each row from the drawn (leaf) input, so gradients flow
through the construction and the inputs stay well-conditioned: A A^T + n I (symmetric positive
definite, eigenvalues >= n and, for random A, well separated) or A + n I (diagonally dominated,
far from singular). Their first shape set is batched (3-D), which keeps them out of the NaN/inf
forward test: LAPACK's handling of NaN (error or NaN result) is not part of the contract.

Where PyTorch's result is a composite whose last op names the grad_fn (inner, kron, tensordot,
cov, std_mean, ...), grad_fn=None skips the name check: the values and gradients are still compared.
Eigenvectors and singular vectors are defined up to sign; rows normalise them (first row positive)
with sign(), whose gradient is 0, so values and gradients compare between LAPACK builds.
"""
from _optable import AWAY0, AWAY_HALF, AWAY_INT, BINARY, R, R3, UNARY, Op, away, pos, real

INSIDE = away(lo=-0.9, hi=0.9)          # (-1, 1) away from the ends: asin, acos, atanh, erfinv
ABOVE1 = away(lo=1.2, hi=3.0)           # acosh
UNIT = away(lo=0.05, hi=0.95)           # logit
WIDE = away(lo=-30.0, hi=30.0)          # Bessel functions: both the series and the asymptotic branch
NONZERO = away(0.0, margin=0.3)         # cumprod: products stay away from 0


def with_zeros(rng, shape):
    return rng.choice([0.0, 0.5, -1.5, 2.0], shape)


def _ints(t, scale):
    return (t * scale).nan_to_num(0.0, 0.0, 0.0).long()


def _eye(m, a):
    return m.eye(a.shape[-1], dtype=a.dtype)


def spd(m, a):
    """A A^T + n I: symmetric positive definite."""
    return a @ a.mT + a.shape[-1] * _eye(m, a)


def wellcond(m, a):
    """A + n I: a general (non-symmetric) matrix far from singular."""
    return a + a.shape[-1] * _eye(m, a)


def sign_fixed(q):
    """Columns of q scaled by the sign of their first entry (sign() passes no gradient)."""
    return q * q[..., :1, :].sign()


def svd_fixed(m, a):
    u, s, vh = m.linalg.svd(a, full_matrices=False)
    flip = u[..., :1, :].sign()
    return s, u * flip, vh * flip.mT


SQ = [((2, 3, 3),), ((4, 4),)]          # square: batched first (see above)
RECT = [((2, 4, 3),), ((3, 5),), ((4, 4),)]
LIN = dict(other_dtypes=False, tol32=dict(rtol=1e-4, atol=1e-5))  # float32: LAPACK's rounding differs

TABLE = [
    # ---- inverse trigonometric and hyperbolic ------------------------------------------------------
    Op("asin", lambda m, a: m.asin(a), UNARY, INSIDE),
    Op("arcsin_method", lambda m, a: a.arcsin(), UNARY, INSIDE),
    Op("acos", lambda m, a: m.acos(a), UNARY, INSIDE),
    Op("atan", lambda m, a: a.atan(), UNARY),
    Op("sinh", lambda m, a: m.sinh(a), UNARY),
    Op("cosh", lambda m, a: a.cosh(), UNARY),
    Op("asinh", lambda m, a: m.asinh(a), UNARY),
    Op("acosh", lambda m, a: m.arccosh(a), UNARY, ABOVE1),
    Op("atanh", lambda m, a: a.atanh(), UNARY, INSIDE),
    Op("deg2rad", lambda m, a: m.deg2rad(a), UNARY),
    Op("rad2deg", lambda m, a: a.rad2deg(), UNARY),
    Op("frac", lambda m, a: a.frac(), UNARY, AWAY_INT),
    Op("fix", lambda m, a: m.fix(a), UNARY, AWAY_INT),
    Op("sinc", lambda m, a: m.sinc(a), UNARY),
    Op("logit", lambda m, a: m.logit(a), UNARY, UNIT),
    Op("logit_eps", lambda m, a: a.logit(eps=0.2), UNARY, away(0.2, 0.8, margin=0.05, lo=0.02, hi=0.98)),
    Op("nan_to_num", lambda m, a: m.nan_to_num(a, nan=1.5, posinf=2.0), UNARY),
    # ---- special functions -------------------------------------------------------------------------
    Op("erfc", lambda m, a: m.erfc(a), UNARY),
    Op("erfinv", lambda m, a: a.erfinv(), UNARY, INSIDE),
    Op("special_erfinv", lambda m, a: m.special.erfinv(a), UNARY, away(lo=-0.999, hi=0.999)),
    Op("i0", lambda m, a: m.i0(a), UNARY),
    Op("i0_wide", lambda m, a: m.special.i0(a), UNARY, WIDE),
    Op("special_i0e", lambda m, a: m.special.i0e(a), UNARY, WIDE),
    Op("special_i1", lambda m, a: m.special.i1(a), UNARY, WIDE),
    Op("special_i1e", lambda m, a: m.special.i1e(a), UNARY, WIDE),
    Op("special_ndtr", lambda m, a: m.special.ndtr(a), UNARY, grad_fn=None),
    # float32: far in the lower tail the gradient is exp(-(x^2/2 + log_ndtr(x))), a difference of two
    # numbers near 100 rounded to float32 (ulp ~8e-6) in PyTorch's formula: ~3e-5 relative apart from ours
    Op("special_log_ndtr", lambda m, a: m.special.log_ndtr(a), UNARY, away(lo=-25.0, hi=5.0),
       tol32=dict(rtol=2e-4, atol=1e-6)),
    Op("special_entr", lambda m, a: m.special.entr(a), UNARY, pos),
    Op("special_expit", lambda m, a: m.special.expit(a), UNARY),
    Op("special_gammaln", lambda m, a: m.special.gammaln(a), UNARY, pos),
    Op("special_xlog1py", lambda m, a, b: m.special.xlog1py(a, b), BINARY, (real, pos)),
    Op("special_xlogy", lambda m, a, b: m.special.xlogy(a, b), BINARY, (real, pos)),
    Op("special_round", lambda m, a: m.special.round(a), UNARY, AWAY_HALF),
    Op("special_softmax", lambda m, a: m.special.softmax(a, -1), R),
    Op("special_log_softmax", lambda m, a: m.special.log_softmax(a, 0), R),
    # ---- binary functions --------------------------------------------------------------------------
    Op("atan2", lambda m, a, b: m.atan2(a, b), BINARY),
    Op("arctan2_method", lambda m, a, b: a.arctan2(b), BINARY[:2]),
    Op("hypot", lambda m, a, b: m.hypot(a, b), BINARY),
    Op("copysign", lambda m, a, b: m.copysign(a, b), BINARY, (AWAY0, AWAY0)),
    Op("copysign_scalar", lambda m, a: a.copysign(-1.0), UNARY, AWAY0),
    Op("logaddexp", lambda m, a, b: m.logaddexp(a, b), BINARY),
    Op("logaddexp2", lambda m, a, b: a.logaddexp2(b), BINARY),
    Op("xlogy", lambda m, a, b: m.xlogy(a, b), BINARY, (real, pos)),
    Op("xlogy_scalar_other", lambda m, a: m.xlogy(a, 2.0), UNARY),
    Op("xlogy_scalar_self", lambda m, a: m.xlogy(2.0, a), UNARY, pos),
    Op("exp2", lambda m, a: m.exp2(a), UNARY),
    Op("ldexp", lambda m, a, b: m.ldexp(a, b), BINARY),
    # an integer exponent: PyTorch's gradient is 0 where it is negative (see LdexpBackward0), which
    # is not the derivative, so no gradcheck; the comparison with torch's gradient still runs
    Op("ldexp_int_exponent", lambda m, a: a.ldexp(m.tensor([1, -2, 3, 0])), [((3, 4),), ((4,),)], gradcheck=False),
    Op("fmax", lambda m, a, b: m.fmax(a, b), BINARY),
    Op("fmin", lambda m, a, b: a.fmin(b), BINARY),
    Op("float_power", lambda m, a, b: m.float_power(a, b), BINARY, (pos, real)),
    Op("float_power_scalar", lambda m, a: (a.float_power(2), m.float_power(2.5, a)), UNARY),
    Op("sgn", lambda m, a: m.sgn(a), UNARY, AWAY0, grad=False),  # (PyTorch's zero gradient is a ZeroTensor)
    # (integers from finite values only: PyTorch's own gcd faults on the smallest int64, which NaN casts to)
    Op("gcd_lcm", lambda m, a, b: (m.gcd(_ints(a, 20), _ints(b, 30)), _ints(a, 9).lcm(_ints(b, 7))), BINARY,
       grad=False),
    Op("heaviside", lambda m, a, b: m.heaviside(a, b), BINARY[:3], (AWAY0, real), grad=False),
    # ---- logic and bits (integer results: no gradient) ----------------------------------------------
    Op("lshift", lambda m, a, b: (a * 10).long() << (b.abs() * 3).long(), BINARY, grad=False),
    Op("rshift", lambda m, a, b: m.bitwise_right_shift((a * 100).long(), (b.abs() * 3).long()), BINARY, grad=False),
    Op("lshift_scalar", lambda m, a: ((a * 10).int() << 3, (a * 10).int() >> 1), UNARY, grad=False),
    Op("bitwise_methods", lambda m, a, b: ((a * 10).long().bitwise_and((b * 10).long()),
                                           (a * 10).long().bitwise_or((b * 10).long()),
                                           (a > 0).bitwise_xor(b > 0), (a * 10).long().bitwise_not()),
       BINARY[:3], grad=False),
    Op("logical_xor_method", lambda m, a, b: (a > 0).logical_xor(b), BINARY[:3], grad=False),
    # (noncontig=False: PyTorch's isin and kron view their inputs, and fail on non-contiguous ones)
    Op("isin", lambda m, a, b: m.isin((a * 3).round(), (b * 3).round()), BINARY[:3], grad=False, noncontig=False),
    Op("isin_invert", lambda m, a: m.isin((a * 3).round(), m.tensor([0.0, 1.0, 2.0], dtype=a.dtype), invert=True),
       UNARY, grad=False),
    Op("signbit", lambda m, a: m.signbit(a), UNARY, grad=False),
    # ---- scans -------------------------------------------------------------------------------------
    Op("cumprod", lambda m, a: m.cumprod(a, 1), R, NONZERO),
    Op("cumprod_zeros", lambda m, a: a.cumprod(-1), R, with_zeros),
    Op("cummax", lambda m, a: m.cummax(a, 1), R),
    Op("cummin", lambda m, a: a.cummin(0), R),
    Op("logcumsumexp", lambda m, a: m.logcumsumexp(a, 1), R),
    # float32: inputs up to ~900 in size have ulps near 6e-5; the gradient's exponents x_i - out_j are
    # differences of such numbers, rounded differently by PyTorch's formula and ours
    Op("logcumsumexp_spread", lambda m, a: (a * 300).logcumsumexp(-1), R, tol32=dict(rtol=2e-4, atol=1e-6)),
    Op("diff", lambda m, a: m.diff(a), R, grad_fn=None),
    Op("diff_n2_dim0", lambda m, a: a.diff(n=2, dim=0), R, grad_fn=None),
    Op("diff_prepend_append", lambda m, a, b: m.diff(a, dim=1, prepend=b, append=b), [((3, 4), (3, 2))], grad_fn=None),
    # ---- products ------------------------------------------------------------------------------------
    Op("addmm", lambda m, i, a, b: m.addmm(i, a, b), [((2, 4), (2, 3), (3, 4)), ((4,), (2, 3), (3, 4))]),
    Op("addmm_beta_alpha", lambda m, i, a, b: i.addmm(a, b, beta=0.5, alpha=-2.0), [((2, 4), (2, 3), (3, 4))]),
    Op("addmv", lambda m, i, a, v: m.addmv(i, a, v, alpha=3), [((3,), (3, 4), (4,)), ((), (3, 4), (4,))]),
    Op("baddbmm", lambda m, i, a, b: m.baddbmm(i, a, b, beta=2), [((2, 3, 4), (2, 3, 5), (2, 5, 4)),
                                                                 ((3, 4), (2, 3, 5), (2, 5, 4))]),
    Op("addbmm", lambda m, i, a, b: i.addbmm(a, b, alpha=0.5), [((3, 4), (2, 3, 5), (2, 5, 4))]),
    Op("vdot", lambda m, a, b: m.vdot(a, b), [((5,), (5,))]),
    Op("trace", lambda m, a: m.trace(a), [((3, 4),), ((4, 4),)]),
    Op("linalg_cross", lambda m, a, b: m.linalg.cross(a, b), [((4, 3), (4, 3)), ((2, 1, 3), (1, 4, 3))]),
    Op("cross_dim", lambda m, a, b: m.cross(a, b, dim=0), [((3, 4), (3, 4))]),
    Op("inner", lambda m, a, b: m.inner(a, b), [((3, 4), (2, 4)), ((4,), (4,)), ((), (3,))], grad_fn=None),
    Op("kron", lambda m, a, b: m.kron(a, b), [((2, 3), (3, 2)), ((2,), (2, 3))], grad_fn=None, noncontig=False),
    Op("tensordot", lambda m, a, b: m.tensordot(a, b), [((2, 3, 4), (3, 4, 5))], grad_fn=None),
    Op("tensordot_lists", lambda m, a, b: m.tensordot(a, b, dims=([0, 2], [2, 0])), [((2, 3, 4), (4, 5, 2))],
       grad_fn=None),
    Op("multi_dot", lambda m, a, b, c, d: m.linalg.multi_dot([a, b, c, d]), [((2, 3), (3, 4), (4, 2), (2, 5))],
       grad_fn=None),
    Op("multi_dot_vectors", lambda m, a, b, c: m.linalg.multi_dot([a, b, c]), [((3,), (3, 4), (4,))], grad_fn=None),
    Op("cdist", lambda m, a, b: m.cdist(a, b), [((4, 3), (5, 3)), ((2, 4, 3), (1, 5, 3))]),
    Op("cdist_p1", lambda m, a, b: m.cdist(a, b, p=1), [((4, 3), (5, 3))]),
    Op("cdist_p3", lambda m, a, b: m.cdist(a, b, p=3), [((4, 3), (5, 3))]),
    # more than 25 rows: one matrix product, as in PyTorch (whose gradient is then a composite's)
    Op("cdist_mm", lambda m, a, b: m.cdist(a, b), [((30, 3), (4, 3))], grad_fn=None),
    Op("dist", lambda m, a, b: m.dist(a, b), [((3, 4), (3, 4)), ((3, 4), (4,))], grad_fn=None),
    Op("dist_p3", lambda m, a, b: a.dist(b, 3), [((3, 4), (3, 4))], grad_fn=None),
    # ---- statistics ------------------------------------------------------------------------------------
    Op("std_mean", lambda m, a: m.std_mean(a, 1), R, grad_fn=None),
    Op("std_mean_all", lambda m, a: m.std_mean(a, correction=0), R, grad_fn=None),
    Op("var_mean", lambda m, a: m.var_mean(a, (0, 1), keepdim=True), R, grad_fn=None),
    Op("aminmax", lambda m, a: m.aminmax(a), UNARY, grad_fn=None),
    Op("aminmax_dim", lambda m, a: a.aminmax(dim=1, keepdim=True), R, grad_fn=None),
    Op("nansum", lambda m, a: m.nansum(a), UNARY),
    Op("nansum_dim", lambda m, a: a.nansum(1), R),
    Op("nanmean", lambda m, a: m.nanmean(a, 0), R, grad_fn=None),
    Op("count_nonzero_dims", lambda m, a: m.count_nonzero((a > 0.5), dim=(0, 1)), R, grad=False),
    Op("cov", lambda m, a: m.cov(a), [((3, 5),), ((5,),)], grad_fn=None),
    Op("cov_weights", lambda m, a, w: m.cov(a, correction=0, fweights=m.tensor([1, 2, 1, 3, 1]), aweights=w),
       [((3, 5), (5,))], (real, pos), grad_fn=None),
    Op("corrcoef", lambda m, a: m.corrcoef(a), [((3, 5),)], grad_fn=None),
    # ---- torch.linalg --------------------------------------------------------------------------------------
    Op("linalg_det", lambda m, a: m.linalg.det(wellcond(m, a)), SQ, **LIN),
    Op("det_spd", lambda m, a: spd(m, a).det(), SQ, **LIN),
    Op("linalg_slogdet", lambda m, a: m.linalg.slogdet(-wellcond(m, a)), SQ, **LIN),
    Op("logdet", lambda m, a: m.logdet(spd(m, a)), SQ, grad_fn=None, **LIN),
    Op("linalg_inv", lambda m, a: m.linalg.inv(wellcond(m, a)), SQ, **LIN),
    Op("inverse", lambda m, a: wellcond(m, a).inverse(), SQ, **LIN),
    Op("linalg_solve", lambda m, a, b: m.linalg.solve(wellcond(m, a), b),
       [((2, 3, 3), (2, 3, 2)), ((3, 3), (3,)), ((2, 3, 3), (3, 4))], **LIN),
    Op("linalg_solve_right", lambda m, a, b: m.linalg.solve(wellcond(m, a), b, left=False),
       [((2, 3, 3), (2, 4, 3)), ((3, 3), (1, 3))], **LIN),
    Op("linalg_cholesky", lambda m, a: m.linalg.cholesky(spd(m, a)), SQ, **LIN),
    Op("linalg_cholesky_upper", lambda m, a: m.linalg.cholesky(spd(m, a), upper=True), SQ, **LIN),
    Op("linalg_qr", lambda m, a: m.linalg.qr(a), RECT, **LIN),
    Op("linalg_eigh", lambda m, a: (lambda r: (r.eigenvalues, sign_fixed(r.eigenvectors)))(m.linalg.eigh(spd(m, a))),
       SQ, **LIN),
    Op("linalg_eigvalsh", lambda m, a: m.linalg.eigvalsh(spd(m, a)), SQ, **LIN),
    Op("linalg_svd", lambda m, a: svd_fixed(m, a), RECT, **LIN),
    Op("linalg_svdvals", lambda m, a: m.linalg.svdvals(a), RECT, **LIN),
    Op("linalg_pinv", lambda m, a: m.linalg.pinv(a), RECT, **LIN),
    Op("linalg_lstsq", lambda m, a, b: m.linalg.lstsq(a, b).solution, [((2, 5, 3), (2, 5, 2)), ((4, 3), (4, 2))],
       grad_fn=None, **LIN),
    Op("linalg_matrix_rank", lambda m, a: m.linalg.matrix_rank(a), RECT, grad=False, **LIN),
    Op("linalg_matrix_power", lambda m, a: m.linalg.matrix_power(a, 3), SQ, grad_fn=None, **LIN),
    Op("matrix_power_neg", lambda m, a: wellcond(m, a).matrix_power(-2), SQ, grad_fn=None, **LIN),
    Op("linalg_norm", lambda m, a: m.linalg.norm(a), RECT, **LIN),
    Op("linalg_norm_ord1", lambda m, a: m.linalg.norm(a, 1, dim=(-2, -1)), RECT, grad_fn=None, **LIN),
    Op("linalg_matrix_norm_inf", lambda m, a: m.linalg.matrix_norm(a, float("inf"), keepdim=True), RECT,
       grad_fn=None, **LIN),
    Op("linalg_matrix_norm_nuc", lambda m, a: m.linalg.matrix_norm(a, "nuc"), RECT, grad_fn=None, **LIN),
    Op("linalg_matrix_norm_2", lambda m, a: m.linalg.matrix_norm(a, 2), RECT, grad_fn=None, **LIN),
    Op("linalg_matrix_norm_neg2", lambda m, a: m.linalg.matrix_norm(a, -2), RECT, grad_fn=None, **LIN),
    Op("linalg_vector_norm", lambda m, a: m.linalg.vector_norm(a, 3, dim=(0, -1)), R3, **LIN),
]
