"""Op-table rows for the everyday Tensor methods and top-level functions added with them: addcmul/addcdiv as
methods, one-sided clamps, the in-place twins (run on a non-leaf copy, so autograd records them), addr,
renorm, mvlgamma, frexp, nextafter, flips, ravel, conjugate transposes, region scatters, as_strided, the
trapezoidal rule and torch's activation aliases. Behaviour a row cannot express is in tests/test_tensor_more.py."""
import numpy as np
from _optable import AWAY0, AWAY_CLAMP, BINARY, ONE, R, UNARY, Op, away, pos, real, small

TERNARY = [((3, 4), (3, 4), (3, 4)), ((3, 1), (1, 4), (4,)), ((), (2, 3), (3,))]
# glasstorch names every product with a Python number MulBackward0; torch says MulBackward1 for some
SCALAR_MUL = ("MulBackward0", "MulBackward1")
INPLACE_UNARY = [((3, 4),), ((2, 3, 4),)]  # (0-dim in-place ops are covered by the out-of-place rows)
INPLACE_BINARY = [((3, 4), (3, 4)), ((3, 4), (1, 4)), ((2, 3, 4), (3, 1))]
MATRICES = [((3, 4),), ((2, 3, 4),)]


def _copy(a):
    """A non-leaf copy, so an in-place op on it is recorded (a leaf that requires grad refuses them)."""
    return a * 1


def above(lo):
    """Uniform values in [lo + 0.1, lo + 3]: the domain of mvlgamma."""
    return lambda rng, shape: rng.uniform(lo + 0.1, lo + 3.0, shape)


TABLE = [
    Op("addcmul_method", lambda m, a, b, c: a.addcmul(b, c, value=2), TERNARY),
    Op("addcdiv_method", lambda m, a, b, c: a.addcdiv(b, c, value=-2), TERNARY, (real, real, AWAY0)),
    Op("addcmul_top", lambda m, a, b, c: m.addcmul(a, b, c), TERNARY),
    Op("addcmul_inplace", lambda m, a, b, c: _copy(a).addcmul_(b, c, value=2), [((3, 4), (3, 4), (1, 4))]),
    Op("addcdiv_inplace", lambda m, a, b, c: _copy(a).addcdiv_(b, c), [((3, 4), (3, 4), (1, 4))], (real, real, AWAY0)),
    Op("clamp_min_method", lambda m, a: a.clamp_min(0.5), UNARY, AWAY_CLAMP),
    Op("clamp_max_top", lambda m, a: m.clamp_max(a, -0.5), UNARY, AWAY_CLAMP),
    Op("clamp_min_tensor", lambda m, a, b: a.clamp_min(b), [((3, 4), (3, 4)), ((3, 4), (4,))]),
    Op("clamp_max_tensor", lambda m, a, b: m.clamp_max(a, b), [((3, 4), (3, 4)), ((3, 4), (4,))]),
    Op("clamp_min_", lambda m, a: _copy(a).clamp_min_(0.5), INPLACE_UNARY, AWAY_CLAMP),
    Op("clamp_max_", lambda m, a: _copy(a).clamp_max_(-0.5), INPLACE_UNARY, AWAY_CLAMP),
]

# in-place twins of unary ops: the same values, grad_fn and gradient as the op itself
_UNARY_INPLACE = [
    ("sin_", real), ("cos_", real), ("tan_", small), ("log_", pos), ("log2_", pos), ("log10_", pos),
    ("log1p_", pos), ("expm1_", small), ("exp2_", small), ("rsqrt_", pos), ("reciprocal_", pos),
    ("square_", real), ("erf_", real), ("lgamma_", pos), ("digamma_", pos), ("negative_", real),
    ("absolute_", AWAY0), ("ceil_", away(-2, -1, 0, 1, 2)),
    ("sign_", AWAY0),  # (no sgn_ row: torch hands back a ZeroTensor gradient, which cannot be compared)
]
TABLE += [Op(name, (lambda n: lambda m, a: getattr(_copy(a), n)())(name), INPLACE_UNARY, domain,
             special_values=False) for name, domain in _UNARY_INPLACE]

TABLE += [
    Op("polygamma_", lambda m, a: _copy(a).polygamma_(1), INPLACE_UNARY, pos, special_values=False,
       grad_fn=("PolygammaBackward0",)),  # (torch names its in-place overload's node PolygammaBackward1)
    Op("fmod_", lambda m, a: _copy(a).fmod_(1.5), INPLACE_UNARY, away(-1.5, 0, 1.5), special_values=False),
    Op("remainder_", lambda m, a, b: _copy(a).remainder_(b), INPLACE_BINARY, (real, pos), gradcheck=False,
       special_values=False),  # (a kink wherever a / b is an integer: gradcheck's steps may cross one)
    Op("multiply_", lambda m, a, b: _copy(a).multiply_(b), INPLACE_BINARY, special_values=False),
    Op("divide_", lambda m, a, b: _copy(a).divide_(b), INPLACE_BINARY, (real, AWAY0), special_values=False),
    Op("subtract_", lambda m, a, b: _copy(a).subtract_(b, alpha=2), INPLACE_BINARY, special_values=False),
    Op("cumsum_", lambda m, a: _copy(a).cumsum_(1), INPLACE_UNARY, special_values=False),
    Op("float_power_", lambda m, a: _copy(a).float_power_(2.5), INPLACE_UNARY, pos, dtypes=("float64",),
       special_values=False, other_dtypes=False),
    Op("ldexp_", lambda m, a, b: _copy(a).ldexp_(b), INPLACE_BINARY, special_values=False, other_dtypes=False),
    Op("igamma_", lambda m, a, b: _copy(a).igamma_(b), INPLACE_BINARY, pos, grad=False, special_values=False,
       other_dtypes=False),  # (no derivative in a, in PyTorch either)
    Op("tril_", lambda m, a: _copy(a).tril_(-1), INPLACE_UNARY, special_values=False),
    Op("triu_", lambda m, a: _copy(a).triu_(1), INPLACE_UNARY, special_values=False),
    # comparisons written into the tensor: zero gradients, PyTorch's EqBackward0/1 & co.
    Op("eq_", lambda m, a: _copy(a).eq_(0.5), INPLACE_UNARY, special_values=False, gradgrad=False),
    Op("lt_tensor_", lambda m, a, b: _copy(a).lt_(b), INPLACE_BINARY, special_values=False, gradgrad=False),
    Op("greater_equal_", lambda m, a, b: _copy(a).greater_equal_(b), INPLACE_BINARY, special_values=False,
       gradgrad=False),
    Op("not_equal_", lambda m, a: _copy(a).not_equal_(0.0), INPLACE_UNARY, special_values=False, gradgrad=False),
]

TABLE += [
    Op("addr", lambda m, a, b, c: a.addr(b, c, beta=0.5, alpha=2), [((3, 4), (3,), (4,)), ((4,), (3,), (4,))]),
    Op("addr_top", lambda m, a, b, c: m.addr(a, b, c), [((3, 4), (3,), (4,))]),
    Op("addr_", lambda m, a, b, c: _copy(a).addr_(b, c, alpha=-1), [((3, 4), (3,), (4,))], special_values=False),
    Op("ger", lambda m, a, b: m.ger(a, b), [((3,), (4,))], grad_fn=("MulBackward0",)),
    Op("renorm", lambda m, a: a.renorm(2, 0, 1.0), [((3, 4),), ((2, 3, 4),)], special_values=False),
    Op("renorm_p1_dim1", lambda m, a: m.renorm(a, 1, 1, 0.7), [((3, 4),), ((2, 3, 4),)], special_values=False),
    Op("renorm_p3", lambda m, a: a.renorm(3, -1, 0.9), [((3, 4),)], special_values=False),
    Op("renorm_", lambda m, a: _copy(a).renorm_(2, 1, 0.8), [((3, 4),)], special_values=False),
    Op("mvlgamma", lambda m, a: a.mvlgamma(3), UNARY, above(1.0), special_values=False),
    Op("mvlgamma_top", lambda m, a: m.mvlgamma(a, 1), UNARY, pos, special_values=False),
    Op("frexp", lambda m, a: m.frexp(a), UNARY, AWAY0, other_dtypes=False, special_values=False),
    Op("frexp_method", lambda m, a: a.frexp().mantissa * 2, R, AWAY0, other_dtypes=False, special_values=False),
    Op("nextafter", lambda m, a, b: m.nextafter(a, b), BINARY, gradgrad=False, other_dtypes=False),
    Op("fliplr", lambda m, a: a.fliplr(), MATRICES),
    Op("flipud", lambda m, a: m.flipud(a), [((4,),), ((3, 4),)]),
    Op("ravel", lambda m, a: a.ravel(), UNARY),
    Op("ravel_top", lambda m, a: m.ravel(a), R),
    Op("adjoint", lambda m, a: a.adjoint(), MATRICES),
    Op("adjoint_top", lambda m, a: m.adjoint(a), MATRICES),
    Op("mH", lambda m, a: a.mH, MATRICES),
    Op("H", lambda m, a: a.H * 2, ONE),
    Op("hardshrink_method", lambda m, a: a.hardshrink(0.3), UNARY, away(-0.3, 0.3)),
    Op("hardshrink_top", lambda m, a: m.hardshrink(a), UNARY, away(-0.5, 0.5)),
    Op("prelu_method", lambda m, a, w: a.prelu(w), [((2, 3, 4), (3,)), ((3, 4), (1,))], (AWAY0, real),
       other_dtypes=False),  # (nn's prelu: its dtype checks are nn's tests')
    Op("prelu_top", lambda m, a, w: m.prelu(a, w), [((2, 3, 4), (3,))], (AWAY0, real), other_dtypes=False),
    Op("selu_top", lambda m, a: m.selu(a), UNARY, AWAY0),
    Op("celu_top", lambda m, a: m.celu(a, 0.7), UNARY, AWAY0),
    Op("threshold_top", lambda m, a: m.threshold(a, 0.1, -2.0), UNARY, away(0.1), other_dtypes=False),
    Op("rrelu_eval_top", lambda m, a: m.rrelu(a), UNARY, AWAY0, grad_fn=None),  # (torch: RreluWithNoiseBackward0)
    Op("dropout_eval_top", lambda m, a: m.dropout(a, 0.5, False) * 1, UNARY),
    Op("rsub_top", lambda m, a: m.rsub(a, 2.0), UNARY),
    Op("rsub_alpha", lambda m, a, b: m.rsub(a, b, alpha=3), BINARY, grad_fn=None, other_dtypes=False),
    Op("diagonal_scatter", lambda m, a, b: a.diagonal_scatter(b), [((3, 4), (3,)), ((4, 3), (3,))]),
    Op("diagonal_scatter_offset", lambda m, a, b: m.diagonal_scatter(a, b, 1, 1, 2), [((2, 3, 4), (2, 3))]),
    Op("select_scatter", lambda m, a, b: a.select_scatter(b, 1, -1), [((3, 4), (3,)), ((2, 3, 4), (2, 4))]),
    Op("slice_scatter", lambda m, a, b: m.slice_scatter(a, b, 1, 0, 4, 2), [((3, 4), (3, 2)), ((2, 4), (2, 2))]),
    Op("slice_scatter_default", lambda m, a, b: a.slice_scatter(b, start=1), [((3, 4), (2, 4))]),
    Op("narrow_copy", lambda m, a: a.narrow_copy(1, 1, 2), R),
    Op("narrow_copy_top", lambda m, a: m.narrow_copy(a, -1, 2, 2), R),
    Op("narrow_copy_negative", lambda m, a: m.narrow_copy(a, 0, -2, 2), R, grad=False),  # (torch's backward fails)
    Op("as_strided", lambda m, a: a.as_strided((2, 3), (3, 1), 1), ONE, noncontig=False),
    Op("as_strided_overlap", lambda m, a: m.as_strided(a, (3, 3), (1, 1)), ONE, noncontig=False),
    Op("as_strided_windows", lambda m, a: a.as_strided((2, 2, 2), (4, 1, 4)), ONE, noncontig=False),
    Op("trapezoid", lambda m, a: m.trapezoid(a), R, grad_fn=SCALAR_MUL),
    Op("trapezoid_dx", lambda m, a: m.trapezoid(a, dx=0.5, dim=0), R, grad_fn=SCALAR_MUL),
    Op("trapezoid_x", lambda m, y, x: m.trapezoid(y, x), [((3, 4), (4,)), ((3, 4), (3, 4))], grad_fn=None),
    Op("trapz", lambda m, y, x: m.trapz(y, x, dim=0), [((3, 4), (3,))], grad_fn=None),
    Op("trapz_dx", lambda m, a: m.trapz(a, dx=2.0), R, grad_fn=SCALAR_MUL),
    Op("cumulative_trapezoid", lambda m, a: m.cumulative_trapezoid(a), R, grad_fn=None),
    Op("cumulative_trapezoid_x", lambda m, y, x: m.cumulative_trapezoid(y, x, dim=0), [((3, 4), (3,))], grad_fn=None),
    # torch.vander's own backward fails (an in-place write into a saved tensor): values only
    Op("vander", lambda m, a: m.vander(a), [((4,),)], grad=False),
    Op("vander_increasing", lambda m, a: m.vander(a, N=3, increasing=True), [((4,),)], grad=False),
]

# sliding windows (a view; overlapping windows add their gradients) and the in-place view ops
TABLE += [
    Op("tensor_unfold", lambda m, a: a.unfold(1, 2, 1), R),
    Op("tensor_unfold_step", lambda m, a: a.unfold(-1, 2, 2) * 1, R),
    Op("tensor_unfold_dim0", lambda m, a: a.unfold(0, 2, 1), [((3, 4),), ((4,),)]),
    Op("tensor_unfold_0dim", lambda m, a: a.unfold(0, 1, 1), [((),)]),
    Op("unsqueeze_", lambda m, a: _copy(a).unsqueeze_(1), R, special_values=False),
    Op("t_", lambda m, a: _copy(a).t_(), ONE, special_values=False),
    Op("transpose_", lambda m, a: _copy(a).transpose_(0, -1), R, special_values=False),
    Op("squeeze_", lambda m, a: _copy(a).squeeze_(), [((3, 1, 4),)], special_values=False),
    Op("squeeze_dim_", lambda m, a: _copy(a).squeeze_(1), [((3, 1, 4),)], special_values=False),
]

# as_strided_scatter: src's gradient is compared; torch 2.13 hands the input the gradient at the wrong
# elements (the scattered ones instead of the rest), so the input enters detached and its gradient is
# checked against the formula and by gradcheck in tests/test_tensor_more.py
TABLE += [
    Op("as_strided_scatter", lambda m, a, b: a.detach().as_strided_scatter(b, (2, 2), (1, 2), 1), [((6,), (2, 2))],
       noncontig=False, gradcheck=False),
    Op("as_strided_scatter_top", lambda m, a, b: m.as_strided_scatter(a.detach(), b, (3,), (4,)), [((3, 4), (3,))],
       noncontig=False, gradcheck=False),
]


def lower_factor(rng, shape):
    """Well-conditioned lower-triangular factors: a positive diagonal of 1.5 to 2.5, small entries below."""
    a = np.tril(rng.uniform(-0.5, 0.5, shape), -1)
    return a + np.eye(shape[-1]) * rng.uniform(1.5, 2.5, shape[:-1])[..., None]


# the older triangular and Cholesky solves (torch names their nodes TriangularSolveBackward0 and
# CholeskySolveBackward0; here they are compositions of LinalgSolveTriangularBackward0 solves)
TABLE += [
    Op("triangular_solve", lambda m, b, a: m.triangular_solve(b, a, upper=False), [((3, 2), (3, 3)), ((2, 3, 2), (3, 3))],
       (real, lower_factor), grad_fn=None, noncontig=False, other_dtypes=False, special_values=False),
    Op("triangular_solve_t_unit", lambda m, b, a: b.triangular_solve(a.mT, transpose=True, unitriangular=True)[0],
       [((3, 2), (3, 3))], (real, lower_factor), grad_fn=None, noncontig=False, other_dtypes=False,
       special_values=False),
    # (no gradcheck: the factor's gradient covers its unread triangle, as in PyTorch; b's gradient is
    # gradchecked in tests/test_tensor_more.py)
    Op("cholesky_solve", lambda m, b, a: m.cholesky_solve(b, a), [((3, 2), (3, 3)), ((2, 3, 1), (2, 3, 3))],
       (real, lower_factor), noncontig=False, other_dtypes=False, special_values=False, gradcheck=False),
    Op("cholesky_solve_b", lambda m, b, a: m.cholesky_solve(b, a.detach()), [((3, 2), (3, 3)), ((4, 3, 1), (3, 3))],
       (real, lower_factor), noncontig=False, other_dtypes=False, special_values=False, gradcheck=False),
    Op("cholesky_solve_upper", lambda m, b, a: b.cholesky_solve(a.mT, upper=True), [((3, 2), (3, 3))],
       (real, lower_factor), grad_fn=None, noncontig=False, other_dtypes=False, special_values=False,
       gradcheck=False),
    # (no gradcheck: like PyTorch's, the factor's gradient covers the triangle the forward never reads)
    Op("cholesky_inverse_top", lambda m, a: m.cholesky_inverse(a), [((3, 3),), ((2, 3, 3),)], lower_factor,
       noncontig=False, other_dtypes=False, special_values=False, gradcheck=False),
    Op("cholesky_inverse_upper", lambda m, a: a.mT.cholesky_inverse(upper=True), [((3, 3),)], lower_factor,
       grad_fn=None, noncontig=False, other_dtypes=False, special_values=False, gradcheck=False),
]
