"""Differential fuzzing: random programs run on glasstorch and on PyTorch must agree.

Hypothesis draws shapes, dtypes (float32, float64, int32, int64, bool), broadcasting pairs, index
expressions, reduction dims and options; each case runs on both libraries and compares the
forward result (values, dtype, shape) or, where torch raises, the exception class; then the
gradients of every floating-point input for a random upstream gradient (tests/_fuzz.py).
Tolerances are argued once, in tests/_fuzz.py; data that would sit on a knife edge (ties for
max/argmax, float32 sums compared against a threshold) is drawn so that it cannot (distinct or
integer-valued floats), rather than loosening the comparison.

Two profiles, one test function each (`test_<area>[ci]` and `test_<area>[long]`):

- ci (default): a few hundred cases in all (CI_PER_WEIGHT x weight per test), derandomized, so
  every run and every machine draws the same cases. Plain `pytest -q` runs it.
- long (opt-in): GLASSTORCH_FUZZ_EXAMPLES cases in all (default 10,000), shared out by weight,
  fresh random cases each run (repeat one with --hypothesis-seed=N). The `[long]` items carry the
  `fuzz` marker and skip themselves unless `-m` names `fuzz` or GLASSTORCH_FUZZ_EXAMPLES is set:
      pytest -m fuzz tests/test_fuzz.py                          # 10,000 cases
      GLASSTORCH_FUZZ_EXAMPLES=50000 pytest tests/test_fuzz.py   # both profiles, 50,000 long cases
  (No addopts deselection, so `pytest -m fuzz` needs nothing else and `-m "not slow"` still
  leaves the long profile skipped.) The cases compared are counted per test and printed at the
  end of the module; each test asserts it compared as many cases as it asked hypothesis for.

Every mismatch found so far was either a glasstorch bug, fixed and kept below as a regression
`examples=` case (hypothesis @example), or a PyTorch quirk, argued in a comment where the
generator steers around it. Two glasstorch gaps are steered around rather than fixed (see the
comments at "OPERATORS" and "keepdim = None"): torch's function forms take a Python number as
`input` (torch.div(2, t)), and torch refuses keepdim without a dim (x.sum(keepdim=True)).
"""
from __future__ import annotations

import operator

import numpy as np
import pytest
import torch
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glasstorch
import _fuzz
from _fuzz import DTYPES, FLOATS, INTS, fuzz_test, magnitude, run_both, values

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore::UserWarning")]

seeds = st.integers(0, 2 ** 32 - 1)
dtypes = st.sampled_from(DTYPES)
kinds = st.sampled_from(["normal", "int", "special"])
shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    """Print the number of cases each profile compared once the module is done."""
    yield
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if capture is None or reporter is None:
        return
    with capture.global_and_fixture_disabled():   # past pytest's output capture, as capsys.disabled()
        for profile, counts in _fuzz.COUNTS.items():
            if counts:
                reporter.write_line(f"\nglasstorch fuzz, {profile} profile: {sum(counts.values())} cases compared "
                                    f"in {len(counts)} tests ({', '.join(f'{k} {v}' for k, v in counts.items())})")


# ---- pointwise unary -------------------------------------------------------------------------------
UNARY = {
    "neg": lambda m, x: -x,
    "abs": lambda m, x: abs(x),
    "exp": lambda m, x: m.exp(x),
    "expm1": lambda m, x: x.expm1(),
    "log": lambda m, x: m.log(x),
    "log2": lambda m, x: x.log2(),
    "log1p": lambda m, x: m.log1p(x),
    "sqrt": lambda m, x: m.sqrt(x),
    "rsqrt": lambda m, x: x.rsqrt(),
    "square": lambda m, x: m.square(x),
    "reciprocal": lambda m, x: x.reciprocal(),
    "sin": lambda m, x: m.sin(x),
    "cos": lambda m, x: x.cos(),
    "tanh": lambda m, x: m.tanh(x),
    "sigmoid": lambda m, x: x.sigmoid(),
    "relu": lambda m, x: m.relu(x),
    "erf": lambda m, x: m.erf(x),
    "floor": lambda m, x: m.floor(x),
    "ceil": lambda m, x: x.ceil(),
    "trunc": lambda m, x: m.trunc(x),
    "round": lambda m, x: m.round(x),
    "sign": lambda m, x: x.sign(),
    "clamp": lambda m, x: m.clamp(x, -1.5, 2),
    "clamp_min": lambda m, x: x.clamp(min=0.5),
    "clamp_max": lambda m, x: x.clamp(max=-1),
    "clamp_crossed": lambda m, x: x.clamp(min=1, max=-1),   # min > max: every element becomes max
    "pow_2": lambda m, x: x ** 2,
    "pow_half": lambda m, x: x ** 0.5,
    "pow_neg": lambda m, x: m.pow(x, -2),
    "pow_neg_half": lambda m, x: x ** -0.5,
    "rpow": lambda m, x: 2 ** x,
    "logical_not": lambda m, x: m.logical_not(x),
    "invert": lambda m, x: ~x,
    "isnan": lambda m, x: m.isnan(x),
    "isinf": lambda m, x: x.isinf(),
    "isfinite": lambda m, x: m.isfinite(x),
    "softmax": lambda m, x: x.softmax(-1),
}


@st.composite
def unary_cases(draw):
    return (draw(st.sampled_from(sorted(UNARY))), draw(shapes), draw(dtypes), draw(kinds), draw(st.booleans()),
            draw(seeds))


@fuzz_test(unary_cases(), weight=3, examples=(
    ("pow_half", (2, 2, 2), "float32", "special", False, 0),   # x ** 0.5 at -0.0 and -inf: its grad is 0.5 / sqrt(x)
    ("pow_half", (2,), "float32", "special", False, 0),
))
def test_unary(case):
    """Pointwise unary ops on every dtype, contiguous or not, NaN/inf/0 included."""
    name, shape, dtype, kind, contiguous, seed = case
    x = values(np.random.default_rng(seed), shape, dtype, kind)
    # an empty int tensor: see test_reduction (softmax's dtype check, which torch skips)
    assume(not (name == "softmax" and x.size == 0 and dtype not in FLOATS))
    # elementwise: errors are ulps of each result (rtol), or of |x| where a formula cancels; softmax
    # sums a row (scale: its length)
    row = x.shape[-1] if name == "softmax" and x.ndim else 1
    run_both(UNARY[name], [x], seed=seed, contiguous=contiguous, scale=magnitude(x) * row)


# ---- pointwise binary and ternary, broadcasting, Python scalars ---------------------------------------
BINARY = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
    "floordiv": operator.floordiv, "mod": operator.mod, "pow": operator.pow,
    "lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge, "eq": operator.eq, "ne": operator.ne,
    "and": operator.and_, "or": operator.or_, "xor": operator.xor,
    "add_alpha": lambda a, b: torch_or_gt(a, b).add(a, b, alpha=2),
    "sub_alpha": lambda a, b: torch_or_gt(a, b).sub(a, b, alpha=3),
    "maximum": lambda a, b: torch_or_gt(a, b).maximum(a, b),
    "minimum": lambda a, b: torch_or_gt(a, b).minimum(a, b),
    "fmod": lambda a, b: torch_or_gt(a, b).fmod(a, b),
    "remainder": lambda a, b: torch_or_gt(a, b).remainder(a, b),
    "div_floor": lambda a, b: torch_or_gt(a, b).div(a, b, rounding_mode="floor"),
    "div_trunc": lambda a, b: torch_or_gt(a, b).div(a, b, rounding_mode="trunc"),
    "logical_and": lambda a, b: torch_or_gt(a, b).logical_and(a, b),
    "logical_or": lambda a, b: torch_or_gt(a, b).logical_or(a, b),
    "logical_xor": lambda a, b: torch_or_gt(a, b).logical_xor(a, b),
    "clamp_tensor_min": lambda a, b: torch_or_gt(a, b).clamp(a, min=b),
    "clamp_tensor_max": lambda a, b: torch_or_gt(a, b).clamp(a, max=b),
    "where_pos": lambda a, b: torch_or_gt(a, b).where(a > 0, a, b),
    "lerp": lambda a, b: torch_or_gt(a, b).lerp(a, b, 0.25),
    "iadd": lambda a, b: _inplace(a, b, operator.iadd),
    "imul": lambda a, b: _inplace(a, b, operator.imul),
}


def torch_or_gt(a, b):
    """The module of whichever operand is a tensor (the other may be a Python number)."""
    t = a if isinstance(a, (torch.Tensor, glasstorch.Tensor)) else b
    return torch if isinstance(t, torch.Tensor) else glasstorch


def _inplace(a, b, op):
    """a op= b on a copy of a (a leaf can't be changed in place): the result dtype stays a's."""
    a = a.clone() if isinstance(a, (torch.Tensor, glasstorch.Tensor)) else a
    return op(a, b)


OPERATORS = {"add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "lt", "le", "gt", "ge", "eq", "ne", "and", "or",
             "xor"}
SCALARS = {"int": 3, "negint": -2, "float": 0.5, "negfloat": -1.5, "bool": True, "zero": 0}


@st.composite
def operand(draw, shape):
    """('scalar', name) one time in five, else ('tensor', shape, dtype, kind)."""
    if draw(st.integers(0, 4)) == 0:
        return ("scalar", draw(st.sampled_from(sorted(SCALARS))))
    return ("tensor", shape, draw(dtypes), draw(kinds))


@st.composite
def binary_cases(draw):
    name = draw(st.sampled_from(sorted(BINARY)))
    sa, sb = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3)).input_shapes
    if draw(st.integers(0, 9)) == 0:   # shapes that need not broadcast: the same error as torch's
        sb = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
    a, b = draw(operand(sa)), draw(operand(sb))
    # torch's function forms (torch.div(2, t)) also take a Python number as `input`; glasstorch's
    # take a Tensor first (a known gap, see the report), so only operators get a number on the left
    # True ** t: torch 2.13's pow backward fails an internal assert on a bool base ("unknown ivalue
    # tag 4", a PyTorch bug), so a bool on the left of ** is left out
    if a == ("scalar", "bool") and name == "pow":
        a = ("scalar", "int")
    if a[0] == "scalar" and (b[0] == "scalar" or name not in OPERATORS):
        a = ("tensor", sa, draw(dtypes), draw(kinds))
    return name, a, b, draw(st.booleans()), draw(seeds)


def _operand_value(rng, spec):
    if spec[0] == "scalar":
        return SCALARS[spec[1]]
    _, shape, dtype, kind = spec
    return values(rng, shape, dtype, kind)


@fuzz_test(binary_cases(), weight=4, examples=(
    # regressions, each a glasstorch bug found by this test and fixed:
    ("logical_and", ("tensor", (), "float32", "normal"), ("scalar", "bool"), False, 0),  # took a number: TypeError
    ("lerp", ("tensor", (), "float32", "normal"), ("scalar", "bool"), False, 0),  # AttributeError, not TypeError
    ("maximum", ("tensor", (), "float32", "normal"), ("scalar", "bool"), False, 0),  # took a number: TypeError
    ("div_floor", ("tensor", (), "float32", "normal"), ("scalar", "bool"), False, 0),  # no grad (DivBackward2: 0)
    ("div_trunc", ("tensor", (2, 3), "float64", "normal"), ("tensor", (3,), "float64", "int"), False, 0),
    ("floordiv", ("tensor", (2,), "float32", "normal"), ("tensor", (2,), "float32", "normal"), False, 0),  # no node
    ("maximum", ("tensor", (3, 2, 1, 3), "float32", "special"), ("tensor", (), "float32", "normal"), False, 1),  # NaN
    ("clamp_tensor_max", ("tensor", (3, 2, 1, 3), "float32", "special"), ("tensor", (), "float32", "normal"),
     False, 1),   # clamp's bound gradients at NaN
    ("mod", ("scalar", "int"), ("tensor", (2,), "float32", "normal"), False, 0),   # 3 % x has no derivative
    ("lerp", ("tensor", (), "float32", "normal"), ("tensor", (), "float64", "normal"), False, 0),  # no promotion
    ("pow", ("scalar", "negfloat"), ("tensor", (3,), "float64", "normal"), False, 0),  # (-1.5) ** x: nan grad
    ("pow", ("tensor", (), "int32", "normal"), ("tensor", (), "float64", "normal"), False, 0),  # log(int) in float32
    ("sub_alpha", ("tensor", (), "float64", "normal"), ("tensor", (), "float32", "normal"), False, 0),  # b * 3 in f32
    ("add_alpha", ("tensor", (), "bool", "normal"), ("scalar", "bool"), False, 0),  # True * True: an int
))
def test_binary(case):
    """Arithmetic, comparisons, logical/bitwise ops, pow, where, clamp, lerp: any dtype pair,
    broadcasting shapes, a Python number on either side."""
    name, a, b, contiguous, seed = case
    rng = np.random.default_rng(seed)
    xa, xb = _operand_value(rng, a), _operand_value(rng, b)
    fn = BINARY[name]
    # one elementwise op per result element: ulps of the result (rtol), or of the operands where
    # lerp's b - a or a + alpha * b cancels
    run_both(lambda m, p, q: fn(p, q), [xa, xb], seed=seed, contiguous=contiguous, scale=magnitude(xa, xb))


@st.composite
def ternary_cases(draw):
    shapes3 = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3)).input_shapes
    return (draw(st.sampled_from(["where", "clamp"])), shapes3, [draw(dtypes) for _ in range(3)], draw(kinds),
            draw(seeds))


@fuzz_test(ternary_cases(), weight=1, examples=(
    ("clamp", ((), (), ()), ["float32", "float32", "float32"], "int", 4),   # crossed bounds: hi gets the gradient
    ("clamp", ((), (), (1,)), ["int32", "float64", "float32"], "normal", 0),  # promotes all three at once
    ("clamp", ((3, 1, 1), (), (2,)), ["float32", "float64", "float64"], "normal", 0),  # ... before comparing
))
def test_ternary(case):
    """where(cond, a, b) and clamp(x, lo, hi) with three broadcast tensor operands of any dtypes."""
    name, shapes3, dts, kind, seed = case
    rng = np.random.default_rng(seed)
    arrays = [values(rng, s, d, kind) for s, d in zip(shapes3, dts)]
    if name == "where":
        arrays[0] = arrays[0].astype(bool) if dts[0] != "float32" else arrays[0]  # a float condition: torch's error
        fn = lambda m, c, a, b: m.where(c, a, b)  # noqa: E731
    else:
        # PyTorch's clamp backward builds its masks in place (x > hi, then |= hi < lo), which fails
        # when x's shape is smaller than the bounds' (a PyTorch bug): x takes the broadcast shape
        arrays[0] = np.broadcast_to(arrays[0], np.broadcast_shapes(*shapes3)).copy()
        fn = lambda m, x, lo, hi: m.clamp(x, lo, hi)  # noqa: E731
    run_both(fn, arrays, seed=seed, scale=magnitude(*arrays))


# ---- reductions ------------------------------------------------------------------------------------
def _kw(dim, keepdim):
    return ({} if dim == "none" else {"dim": dim}) | ({} if keepdim is None else {"keepdim": keepdim})


REDUCTIONS = {
    "sum": lambda m, x, dim, k, o: x.sum(**_kw(dim, k)),
    "mean": lambda m, x, dim, k, o: m.mean(x, **_kw(dim, k)),
    "prod": lambda m, x, dim, k, o: x.prod(**_kw(dim, k)),
    "amax": lambda m, x, dim, k, o: x.amax(**_kw(dim, k)),
    "amin": lambda m, x, dim, k, o: m.amin(x, **_kw(dim, k)),
    "max": lambda m, x, dim, k, o: x.max(**_kw(dim, k)),
    "min": lambda m, x, dim, k, o: m.min(x, **_kw(dim, k)),
    "argmax": lambda m, x, dim, k, o: x.argmax(**_kw(dim, k)),
    "argmin": lambda m, x, dim, k, o: m.argmin(x, **_kw(dim, k)),
    "var": lambda m, x, dim, k, o: x.var(**_kw(dim, k), correction=o),
    "std": lambda m, x, dim, k, o: m.std(x, **_kw(dim, k), correction=o),
    "var_unbiased": lambda m, x, dim, k, o: x.var(**_kw(dim, k), unbiased=bool(o)),
    "logsumexp": lambda m, x, dim, k, o: m.logsumexp(x, **_kw(dim, k)),
    "softmax": lambda m, x, dim, k, o: x.softmax(dim if dim != "none" else -1),
    "log_softmax": lambda m, x, dim, k, o: m.log_softmax(x, dim if dim != "none" else 0),
    "softmax_dtype": lambda m, x, dim, k, o: m.softmax(x, dim if dim != "none" else 0, dtype=m.float64),
    "cumsum": lambda m, x, dim, k, o: x.cumsum(dim if dim != "none" else 0),
    "norm": lambda m, x, dim, k, o: x.norm(p=o, **_kw(dim, k)),
    "all": lambda m, x, dim, k, o: x.all(**_kw(dim, k)),
    "any": lambda m, x, dim, k, o: m.any(x, **_kw(dim, k)),
    "count_nonzero": lambda m, x, dim, k, o: m.count_nonzero(x, **_kw(dim, None)),
}
INDEX_RETURNING = {"max", "min", "argmax", "argmin"}   # ties would pick an unspecified index: no ties
NORM_P = [2, 1, 3, 0, float("inf"), float("-inf"), "fro", 0.5]


@st.composite
def reduction_cases(draw):
    name = draw(st.sampled_from(sorted(REDUCTIONS)))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))
    nd = len(shape)
    span = max(nd, 1)   # a 0-dim tensor takes dims 0 and -1
    which = draw(st.integers(0, 9))
    if which == 0:
        dim = "none"
    elif which <= 5:
        dim = draw(st.integers(-span, span - 1)) if draw(st.integers(0, 19)) else draw(st.integers(-span - 2, span + 1))
    else:   # a tuple of dims: distinct, or (rarely) repeated or empty
        dim = tuple(draw(st.lists(st.integers(-span, span - 1), max_size=span, unique_by=lambda d: d % span)))
        if draw(st.integers(0, 19)) == 0 and dim:
            dim = dim + (dim[0],)
    keepdim = draw(st.sampled_from([None, False, True]))
    option = draw(st.sampled_from(NORM_P)) if name == "norm" else draw(st.sampled_from([0, 1, 2, None]))
    dtype = draw(dtypes)
    kind = "distinct" if name in INDEX_RETURNING else draw(kinds)
    if name in INDEX_RETURNING and dtype == "bool":
        dtype = "int64"   # a bool tensor of more than two elements always has ties
    return name, shape, dtype, kind, dim, keepdim, option, draw(st.booleans()), draw(seeds)


@fuzz_test(reduction_cases(), weight=4, examples=(
    ("cumsum", (), "float32", "normal", "none", None, 0, False, 0),        # 0-dim backward: AxisError
    ("max", (), "float32", "distinct", "none", False, 0, False, 0),        # keepdim without dim: TypeError
    ("all", (0,), "float32", "normal", (), None, 0, False, 0),             # all(dim=()) reduces nothing
    ("all", (), "float32", "normal", (0, 0), None, 0, False, 0),           # repeated dim of a 0-dim tensor
    ("prod", (), "float32", "normal", (), None, 0, False, 0),              # prod(dim=()): TypeError
    ("prod", (), "float32", "special", "none", None, 0, False, 0),         # 0-dim inf: gradient g, not nan
    ("norm", (0,), "float32", "normal", "none", None, float("inf"), False, 0),  # inf norm of nothing: RuntimeError
    ("norm", (), "float32", "normal", "none", None, 0, False, 0),          # p=0 has no gradient
    ("norm", (2, 2, 3), "float32", "special", "none", None, float("inf"), False, 0),  # NaN shares the inf-norm grad
    ("amax", (0,), "float32", "normal", (0, 0), None, 0, False, 0),        # empty dim reported before repeats
    ("var", (), "float32", "normal", "none", None, 2, False, 0),           # no dof left: inf/nan gradient
    ("std", (2, 2), "float64", "int", "none", None, 5, True, 1),
    ("prod", (3, 4), "float32", "special", "none", None, 0, False, 1),      # two zeros (and a nan): zero gradient
))
def test_reduction(case):
    """Reductions with dims (None, int, tuple, out of range, repeated) and keepdim drawn; var/std
    with each correction, norm with each p, softmax/cumsum along a dim; on every dtype."""
    name, shape, dtype, kind, dim, keepdim, option, contiguous, seed = case
    x = values(np.random.default_rng(seed), shape, dtype, kind)
    # torch checks softmax's dtype inside the kernel, which an empty tensor never runs: an empty
    # int tensor "works" there; glasstorch refuses every int tensor (an accident of dispatch, not kept)
    assume(not (name.startswith(("softmax", "log_softmax")) and x.size == 0 and dtype not in FLOATS))
    if name in ("var", "std") and option is None:
        option = 1
    if name in ("var", "std", "var_unbiased") and dim == ():
        # torch 2.13's var backward over dim=() divides by 1 - correction instead of numel -
        # correction (a PyTorch bug: the gradient is numel times too large)
        dim = "none"
    if name in ("sum", "mean", "prod", "var_unbiased") and dim == "none":
        # x.sum(keepdim=True) is a TypeError in torch but x.sum(dim=None, keepdim=True) is not (and
        # likewise x.var(unbiased=False, keepdim=True)); glasstorch cannot tell the two apart and
        # accepts both (reported, not fixed)
        keepdim = None
    if name == "logsumexp" and dim == ():
        # torch 2.13's logsumexp(x, dim=()) fails an internal out= shape check for x of 1+ dims
        # (a PyTorch bug, not an API decision); glasstorch reduces everything, as sum(dim=()) does
        dim = -1
    fn = REDUCTIONS[name]
    # a reduction sums up to numel terms of magnitude |x|, or |x|^2 for var/std (norms and products
    # add positive terms or multiply: no cancellation, their errors are relative)
    scale = max(1, x.size) * magnitude(x) ** (2 if name in ("var", "std", "var_unbiased") else 1)
    run_both(lambda m, t: fn(m, t, dim, keepdim, option), [x], seed=seed, contiguous=contiguous, scale=scale)


# ---- matmul ----------------------------------------------------------------------------------------
@st.composite
def matmul_cases(draw):
    n, k, p = draw(st.integers(1, 4)), draw(st.integers(0, 4)), draw(st.integers(1, 4))
    ba, bb = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3)).input_shapes
    sa = draw(st.sampled_from([(k,), (n, k), ba + (n, k)]))
    sb = draw(st.sampled_from([(k,), (k, p), bb + (k, p)]))
    if draw(st.integers(0, 9)) == 0:   # inner sizes that do not match: torch's error
        sb = sb[:-2] + (k + 1,) + sb[-1:] if len(sb) >= 2 else (k + 1,)
    dt = draw(st.sampled_from(FLOATS + INTS))
    dtb = dt if draw(st.integers(0, 9)) else draw(dtypes)
    return sa, sb, dt, dtb, draw(st.sampled_from(["normal", "int"])), draw(st.booleans()), draw(seeds)


@fuzz_test(matmul_cases(), weight=2, examples=(
    ((0,), (0,), "float32", "float64", "normal", False, 0),                # mixed dtypes: RuntimeError
    ((2, 2, 3), (4,), "float64", "float64", "normal", False, 0),           # its size error: IndexError
))
def test_matmul(case):
    """a @ b for 1-D, 2-D and broadcast batched operands, float and integer (and mismatched) dtypes."""
    sa, sb, dta, dtb, kind, contiguous, seed = case
    # torch's bmm kernel returns early for an empty inner dim, before its dtype check: (1, 1, 0) @
    # (1, 0, 1) of float and double "works" in torch, not as mm (2-D) does; glasstorch refuses both
    assume(not (dta != dtb and sa[-1] == 0 and max(len(sa), len(sb)) > 2))
    rng = np.random.default_rng(seed)
    a, b = values(rng, sa, dta, kind), values(rng, sb, dtb, kind)
    # each result element sums k products (gradients: the batch and n/p terms too)
    terms = max([1] + list(sa) + list(sb))
    scale = terms * magnitude(a) * magnitude(b)
    run_both(lambda m, x, y: x @ y, [a, b], seed=seed, contiguous=contiguous, scale=scale,
             grad_scale=terms * terms * max(magnitude(a), magnitude(b)))


# ---- shape ops -------------------------------------------------------------------------------------
def _factor_shape(draw, n):
    """A random shape with `n` elements, maybe with one -1."""
    dims = []
    rest = n
    for _ in range(draw(st.integers(0, 3))):
        divisors = [d for d in range(1, 5) if rest % d == 0] if rest else [0, 1, 2]
        d = draw(st.sampled_from(divisors))
        dims.append(d)
        rest = rest // d if d else rest
    dims.append(rest)
    dims = draw(st.permutations(dims))
    if dims and n and draw(st.booleans()):
        dims[draw(st.integers(0, len(dims) - 1))] = -1
    return tuple(dims)


@st.composite
def shape_cases(draw):
    """(op name, input shapes, argument) for one shape op; arguments are sometimes invalid."""
    name = draw(st.sampled_from(["reshape", "view", "permute", "transpose", "expand", "cat", "stack", "squeeze",
                                 "unsqueeze", "flatten", "flip", "chunk", "split", "split_sizes", "movedim", "t",
                                 "narrow", "unbind", "broadcast_to"]))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))
    nd, n = len(shape), int(np.prod(shape, dtype=np.int64))
    bad = draw(st.integers(0, 9)) == 0          # one case in ten asks for something invalid
    span = max(nd, 1)
    anydim = st.integers(-span - 1, span) if bad else st.integers(-span, span - 1)
    shapes = [shape]
    if name in ("reshape", "view"):
        arg = draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)) if bad else _factor_shape(draw, n)
    elif name == "permute":
        arg = tuple(draw(st.permutations(range(nd))))
        arg = arg[:-1] if bad and arg else tuple(d - nd if draw(st.booleans()) else d for d in arg)
    elif name in ("transpose", "movedim"):
        arg = (draw(anydim), draw(anydim))
    elif name in ("expand", "broadcast_to"):
        new = [draw(st.integers(1, 3)) if s == 1 else (-1 if draw(st.booleans()) else s) for s in shape]
        arg = tuple(draw(st.lists(st.integers(1, 3), max_size=2)) + new)
        if bad:
            arg = tuple(draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=3)))
    elif name in ("cat", "stack"):
        d = draw(anydim) if name == "cat" else draw(st.integers(-nd - 1, nd))
        count = draw(st.integers(1, 3))
        for _ in range(count - 1):
            other = list(shape)
            if name == "cat" and nd and -nd <= d < nd:
                other[d] = draw(st.integers(0, 3))
            if bad and other:
                other[0] += 1
            shapes.append(tuple(other))
        arg = d
    elif name == "squeeze":
        arg = draw(st.one_of(st.none(), anydim, st.lists(st.integers(-span, span - 1), max_size=span,
                                                        unique_by=lambda d: d % span).map(tuple)))
    elif name == "unsqueeze":
        arg = draw(st.integers(-nd - 2, nd + 1) if bad else st.integers(-nd - 1, nd))
    elif name == "flatten":
        arg = (draw(anydim), draw(anydim))
    elif name == "flip":
        arg = tuple(draw(st.lists(anydim, max_size=span, unique_by=lambda d: d % span if not bad else d)))
    elif name in ("chunk", "split"):
        arg = (draw(st.integers(0 if bad else 1, 4)), draw(anydim))
    elif name == "split_sizes":
        d = draw(anydim)
        size = shape[d] if nd and -nd <= d < nd else 1
        cuts = sorted(draw(st.lists(st.integers(0, size), max_size=3)))
        arg = (tuple(np.diff([0] + cuts + [size + (1 if bad else 0)]).tolist()), d)
    elif name == "narrow":
        d = draw(anydim)
        size = shape[d] if nd and -nd <= d < nd else 1
        start = draw(st.integers(-size, size))
        arg = (d, start, draw(st.integers(0, size - (start % size if size else 0) + (1 if bad else 0))))
    elif name == "unbind":
        arg = draw(anydim)
    else:
        arg = None
    return name, shapes, arg, draw(dtypes), draw(st.booleans()), draw(seeds)


SHAPE_OPS = {
    "reshape": lambda m, a, xs: xs[0].reshape(a),
    "view": lambda m, a, xs: xs[0].view(*a),
    "permute": lambda m, a, xs: xs[0].permute(*a),
    "transpose": lambda m, a, xs: m.transpose(xs[0], *a),
    "movedim": lambda m, a, xs: m.movedim(xs[0], *a),
    "expand": lambda m, a, xs: xs[0].expand(*a),
    "broadcast_to": lambda m, a, xs: m.broadcast_to(xs[0], a),
    "cat": lambda m, a, xs: m.cat(list(xs), dim=a),
    "stack": lambda m, a, xs: m.stack(xs, a),
    "squeeze": lambda m, a, xs: xs[0].squeeze() if a is None else m.squeeze(xs[0], a),
    "unsqueeze": lambda m, a, xs: xs[0].unsqueeze(a),
    "flatten": lambda m, a, xs: m.flatten(xs[0], *a),
    "flip": lambda m, a, xs: xs[0].flip(a),
    "chunk": lambda m, a, xs: xs[0].chunk(*a),
    "split": lambda m, a, xs: m.split(xs[0], *a),
    "split_sizes": lambda m, a, xs: xs[0].split(list(a[0]), a[1]),
    "t": lambda m, a, xs: xs[0].t(),
    "narrow": lambda m, a, xs: m.narrow(xs[0], *a),
    "unbind": lambda m, a, xs: xs[0].unbind(a),
}


@fuzz_test(shape_cases(), weight=3, examples=(
    ("cat", [(0,), (1,)], 0, "float32", False, 0),         # a skipped empty tensor still promotes
    ("cat", [(0,)], 1, "float32", False, 0),               # only empty 1-D tensors: no dim check
    ("transpose", [()], (0, 0), "float32", False, 0),      # 0-dim: no grad_fn
    ("movedim", [()], (0, 0), "float32", False, 0),        # 0-dim: RuntimeError
    ("permute", [()], (), "float32", False, 0),            # x.permute(): TypeError
    ("view", [()], (), "float32", False, 0),               # x.view(): TypeError
    ("chunk", [()], (1, 0), "float32", False, 0),          # 0-dim: RuntimeError (was an IndexError)
    ("flip", [()], (0,), "float32", False, 0),             # 0-dim: AxisError
    ("flatten", [()], (0, 1), "float32", False, 0),        # 0-dim: end_dim out of range
    ("narrow", [()], (0, 0, 0), "float32", False, 0),      # 0-dim: RuntimeError
    ("flip", [(0, 0, 0, 0)], (0, 1, 2, -2), "float32", False, 0),  # a repeated dim: RuntimeError
    ("flip", [(0, 0, 0, 0)], (0, -4, 4), "float32", False, 0),     # ... found before a later bad dim
))
def test_shape_ops(case):
    """reshape/view, permute, transpose, expand, cat/stack (mixed dtypes), squeeze/unsqueeze, flatten,
    flip, chunk/split, movedim, t, narrow, unbind; valid and invalid arguments, non-contiguous inputs."""
    name, shapes_, arg, dtype, contiguous, seed = case
    rng = np.random.default_rng(seed)
    arrays = [values(rng, s, dtype if i == 0 else str(rng.choice(DTYPES)), "normal") for i, s in enumerate(shapes_)]
    fn = SHAPE_OPS[name]
    # values are moved, not computed: exact, except gradients summed over a broadcast (expand)
    run_both(lambda m, *xs: fn(m, arg, xs), arrays, seed=seed, contiguous=contiguous, scale=1.0)


# ---- indexing: getitem and setitem -----------------------------------------------------------------
@st.composite
def index_parts(draw, shape):
    """An index for `shape`: a tuple of ints, slices (any step, negative ones included), None,
    at most one Ellipsis, integer arrays (repeats allowed, as tensors or lists) and bool masks
    (covering one or more dims); sometimes out of range or mis-shaped."""
    parts, d = [], 0
    ellipsis = False
    while d < len(shape) or (not parts and draw(st.booleans())):
        if draw(st.integers(0, 3)) == 0:
            break
        size = shape[d] if d < len(shape) else 1
        kind = draw(st.sampled_from(["int", "slice", "slice", "none", "ellipsis", "array", "list", "mask"]))
        if kind == "int":
            parts.append(draw(st.integers(-size - 1, size) if draw(st.integers(0, 9)) == 0 else
                              st.integers(-size, size - 1) if size else st.integers(0, 0)))
            d += 1
        elif kind == "slice":
            bound = st.one_of(st.none(), st.integers(-size - 2, size + 2))
            step = draw(st.sampled_from([None, 1, 2, 3, -1, 1, 2])) if draw(st.integers(0, 19)) else -2
            parts.append(slice(draw(bound), draw(bound), step))
            d += 1
        elif kind == "none":
            parts.append(None)
        elif kind == "ellipsis" and not ellipsis:
            parts.append(Ellipsis)
            ellipsis = True
            d = len(shape) - max(0, len(shape) - d - draw(st.integers(0, len(shape) - d)))
        elif kind in ("array", "list"):
            lo, hi = (-size, size - 1) if size else (0, 0)
            ashape = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1 if size else 0, max_side=3))
            idx = draw(hnp.arrays(np.int64, ashape, elements=st.integers(lo, hi)))
            parts.append(("array", idx) if kind == "array" else idx.reshape(-1).tolist())
            d += 1
        elif kind == "mask":
            k = draw(st.integers(1, max(1, min(2, len(shape) - d))))
            mshape = tuple(shape[d:d + k]) or (1,)
            if draw(st.integers(0, 19)) == 0:
                mshape = tuple(s + 1 for s in mshape)   # a mis-shaped mask: torch's IndexError
            parts.append(("mask", draw(hnp.arrays(np.bool_, mshape))))
            d += k
    if draw(st.integers(0, 19)) == 0:
        parts.append(0)   # one index too many
    return tuple(parts) if len(parts) != 1 or draw(st.booleans()) else parts[0]


def _in_range_when_empty(index, x: np.ndarray):
    """The index, with integer arrays zeroed when x is empty. PyTorch checks integer-array bounds
    in the kernel, element by element, so an empty x never fails them (x[..., [5]] on a (0, 2)
    tensor "works"); glasstorch checks up front. Index 0 still fails on a dim of size 0 in both."""
    if x.size:
        return index

    def zero(p):
        if _is_tensor_part(p) and p[0] == "array":
            return ("array", np.zeros_like(p[1]))
        return [0] * len(p) if isinstance(p, list) else p
    return tuple(zero(p) for p in index) if isinstance(index, tuple) and not _is_tensor_part(index) else zero(index)


def _index_for(m, index):
    """The index with its ('array'|'mask', ndarray) parts made into tensors of module m."""
    def part(p):
        if isinstance(p, tuple) and len(p) == 2 and isinstance(p[1], np.ndarray):
            return m.from_numpy(p[1].copy())
        return p
    return tuple(part(p) for p in index) if isinstance(index, tuple) and not _is_tensor_part(index) else part(index)


def _is_tensor_part(p):
    return isinstance(p, tuple) and len(p) == 2 and isinstance(p[1], np.ndarray)


@st.composite
def getitem_cases(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))
    return shape, draw(index_parts(shape)), draw(dtypes), draw(st.booleans()), draw(seeds)


@fuzz_test(getitem_cases(), weight=4, examples=(
    ((), ("array", np.array([0])), "float32", False, 0),                            # 0-dim x[tensor([0])]
    ((), (slice(None, None, -2), 0), "float32", False, 0),                          # counts before the step
    ((0, 0, 0), (0, slice(None, None, -2), 0), "float32", False, 0),                # left to right
    ((1, 0, 1), (0, slice(None), ("mask", np.array([True]))), "float32", False, 0),  # int + mask: dims' order
    ((2, 3, 4), (slice(None), ("array", np.array([0, 1])), 0, ("array", np.array([2, 2]))), "float64", True, 3),
    ((), slice(None, None, -2), "float32", False, 0),                               # bare slice: step first
    ((0, 1, 1), (Ellipsis, ("mask", np.zeros(0, bool)), 0), "float32", False, 0),   # misfit mask, empty x
    ((0, 0, 1), (slice(None), [], 0), "float64", False, 0),                         # [] is an integer index
    ((1, 2, 3), (slice(None), ("array", np.array([0, 1])), Ellipsis, ("array", np.array([2, 0]))), "float64",
     False, 0),                                                                     # an empty `...` separates not
))
def test_getitem(case):
    """x[index] for random index expressions: values, dtype, shape or the error class; gradients
    (repeated integer indices accumulate)."""
    shape, index, dtype, contiguous, seed = case
    x = values(np.random.default_rng(seed), shape, dtype)
    index = _in_range_when_empty(index, x)
    # the gradient of a repeated index sums up to (indices per element) terms
    run_both(lambda m, t: t[_index_for(m, index)], [x], seed=seed, contiguous=contiguous, scale=1.0,
             grad_scale=1.0)


def _repeats(index, shape) -> bool:
    """Whether an integer-array part names an element twice (torch's write order is then unspecified)."""
    parts = index if isinstance(index, tuple) and not _is_tensor_part(index) else (index,)
    for p in parts:
        arr = p[1] if _is_tensor_part(p) and p[0] == "array" else np.array(p) if isinstance(p, list) else None
        if arr is not None and arr.size > 1:
            return True
    return False


@st.composite
def setitem_cases(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))
    index = draw(index_parts(shape))
    value = draw(st.sampled_from(["scalar_int", "scalar_float", "scalar_bool", "tensor", "tensor", "tensor0d"]))
    return shape, index, draw(dtypes), value, draw(dtypes), draw(st.integers(0, 2)), draw(seeds)


SETITEM_SCALARS = {"scalar_int": -3, "scalar_float": 2.5, "scalar_bool": True}


@fuzz_test(setitem_cases(), weight=4, examples=(
    ((1,), ("array", np.array([0])), "float32", "tensor", "float64", 0, 0),        # index_put_ dtypes: RuntimeError
    ((0,), (slice(None, None, -2), 0), "float32", "scalar_int", "float32", 0, 0),
    ((0, 0, 1, 0), (slice(None), ("mask", np.array([False])), 0, ("array", np.zeros(0, np.int64))), "float32",
     "tensor", "float64", 0, 0),                                                    # mask error before dtype
    ((0, 0, 0), (("array", np.zeros((0, 2), np.int64)), ("mask", np.zeros(0, bool))), "float32", "tensor",
     "float64", 0, 0),                                                              # shape error before dtype
    ((2, 1), (Ellipsis, ("array", np.array([1]))), "float32", "tensor", "float64", 0, 0),  # dtype before bounds
    ((0,), ("array", np.array([0])), "float32", "tensor", "float64", 0, 0),      # an empty dim before dtype
    ((2, 3, 4), (0, slice(None), ("mask", np.array([True, False, True, True]))), "float64", "tensor", "float64",
     0, 1),
))
def test_setitem(case):
    """y = x.clone(); y[index] = value with value a Python number, a 0-dim tensor or a tensor
    broadcast to the indexed shape (dropping `trim` leading dims), of any dtype; then gradients of
    x and of value."""
    shape, index, dtype, value, vdtype, trim, seed = case
    rng = np.random.default_rng(seed)
    x = values(rng, shape, dtype)
    index = _in_range_when_empty(index, x)
    try:   # the shape torch's getitem gives is the target; an index torch refuses is tested as such
        target = tuple(torch.from_numpy(x)[_index_for(torch, index)].shape)
    except Exception:  # noqa: BLE001
        target = ()
    if value in SETITEM_SCALARS:
        v = SETITEM_SCALARS[value]
    else:
        # a repeated integer index writes one element twice: torch leaves which write wins
        # unspecified, so the value is then the same for every write (0-dim)
        vshape = () if value == "tensor0d" or _repeats(index, shape) else target[trim:]
        v = values(rng, vshape, vdtype)

    def fn(m, t, val):
        y = t.clone()
        y[_index_for(m, index)] = val
        return y

    # writes move values; the value's gradient sums the upstream gradient over its broadcast
    run_both(fn, [x, v], seed=seed, scale=1.0)
