"""The everyday Tensor methods and top-level functions beyond the op table (tests/optable_tensor_more.py):
in-place semantics (leaves, version counters, dtypes), predicates, creation from buffers and arrays,
strided views, resizing, Python-callable maps, and PyTorch's error classes and messages. Every expected
value comes from torch, run live on the same inputs."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import glasstorch as G
from _compare import assert_same, assert_same_error, tensors

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning")]
RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4))


def both(fn, *arrays, requires_grad=False):
    """fn(module, *tensors) on glasstorch and on torch, compared (values, dtype, shape, Python values)."""
    ours = fn(G, *tensors(G, arrays, requires_grad=requires_grad))
    theirs = fn(torch, *tensors(torch, arrays, requires_grad=requires_grad))
    assert_same(ours, theirs)
    return ours, theirs


# ---- in-place twins: dtypes, leaves, version counters --------------------------------------------------
INPLACE = {
    "sin_": lambda t: t.sin_(), "log1p_": lambda t: t.abs().log1p_(), "ceil_": lambda t: t.ceil_(),
    "reciprocal_": lambda t: t.reciprocal_(), "erf_": lambda t: t.erf_(), "sign_": lambda t: t.sign_(),
    "eq_": lambda t: t.eq_(t[0].clone()), "lt_": lambda t: t.lt_(0.2), "greater_": lambda t: t.greater_(0),
    "less_equal_": lambda t: t.less_equal_(t.flip(0)), "not_equal_": lambda t: t.not_equal_(0),
    "logical_and_": lambda t: t.logical_and_(t > 0), "logical_or_": lambda t: t.logical_or_(t > 0),
    "logical_xor_": lambda t: t.logical_xor_(t > 0), "logical_not_": lambda t: t.logical_not_(),
    "fmod_": lambda t: t.fmod_(0.7), "remainder_": lambda t: t.remainder_(-0.7),
    "floor_divide_": lambda t: t.floor_divide_(0.3), "divide_floor": lambda t: t.divide_(0.3, rounding_mode="floor"),
    "cumsum_": lambda t: t.cumsum_(1), "clamp_min_": lambda t: t.clamp_min_(0), "clamp_max_": lambda t: t.clamp_max_(0),
    "exp2_": lambda t: t.exp2_(), "square_": lambda t: t.square_(), "negative_": lambda t: t.negative_(),
    "absolute_": lambda t: t.absolute_(), "ldexp_": lambda t: t.ldexp_(t.new_tensor(3)),
    "nextafter_": lambda t: t.nextafter_(t.new_zeros(())), "tril_": lambda t: t.tril_(), "triu_": lambda t: t.triu_(1),
    "addcmul_": lambda t: t.addcmul_(t, t, value=0.5),
    "addcdiv_": lambda t: t.addcdiv_(t.detach() + 1, t.detach().exp()),
    "addr_": lambda t: t.addr_(t[:, 0].clone(), t[0].clone(), beta=2), "renorm_": lambda t: t.renorm_(2, 0, 1.0),
    "mvlgamma_": lambda t: t.abs().add(2).mvlgamma_(2), "fill_diagonal_": lambda t: t.fill_diagonal_(7.0),
    "int_eq_": lambda t: t.long().eq_(1), "int_cumsum_": lambda t: (t * 10).long().cumsum_(0),
    "int_clamp_min_": lambda t: (t * 10).long().clamp_min_(2),
    "int_gcd_": lambda t: (t * 10).long().abs().gcd_(t.new_tensor(6).long()),
    "int_lcm_": lambda t: (t * 10).long().abs().lcm_(t.new_tensor(4).long()),
    "int_fill_diagonal_": lambda t: t.long().fill_diagonal_(3),
    "bool_logical_and_": lambda t: (t > 0).logical_and_(t < 1),
}


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_values_and_identity(name):
    """Values and dtype as torch's; the method returns the tensor itself and bumps its version once or more."""
    fn = INPLACE[name]
    both(lambda m, t: fn(t.clone()), X)
    t = G.from_numpy(X.copy())
    target = t if not name.startswith(("int_", "bool_", "log1p_", "mvlgamma_")) else None
    if target is not None:
        before = target._version
        assert fn(target) is target
        assert target._version > before


@pytest.mark.parametrize("name", ["sin_", "eq_", "clamp_min_", "cumsum_", "fmod_", "addcmul_", "renorm_", "ldexp_",
                                  "fill_diagonal_", "ceil_"])
def test_inplace_on_a_leaf_that_requires_grad_is_refused(name):
    assert_same_error(lambda m, t: INPLACE[name](t.requires_grad_()), [X])


@pytest.mark.parametrize("name", ["sin_", "eq_", "clamp_max_", "cumsum_", "remainder_", "addcdiv_", "renorm_",
                                  "fill_diagonal_", "square_", "tril_"])
def test_inplace_gradients(name):
    """In-place on a non-leaf: the gradient flows through the new value (comparisons: zeros), as in torch."""
    out = []
    for m in (G, torch):
        (x,) = tensors(m, [X], requires_grad=True)
        y = INPLACE[name](x * 1)
        w = m.from_numpy(np.random.default_rng(5).standard_normal(tuple(y.shape)))
        (y * w).sum().backward()
        out.append(x.grad)
    assert_same(out[0], out[1])


def test_inplace_dtype_errors():
    assert_same_error(lambda m, t: t.long().sin_(), [X])  # a float result into an integer tensor
    assert_same_error(lambda m, t: t.float().float_power_(2), [X])
    assert_same_error(lambda m, t: t.long().exp2_(), [X])
    both(lambda m, t: t.float_power_(2), X)  # float64: allowed
    # a clamp with number bounds names the dtype as its C kernel does ("long int"); with tensor bounds, "Long"
    for fn in (lambda m, t: t.long().clamp_min_(0.5), lambda m, t: t.long().clamp_max_(t.new_tensor(0.5)),
               lambda m, t: t.long().clamp_(t.new_tensor(0.5)), lambda m, t: t.long().clamp_(0.5),
               lambda m, t: t.long().addcmul_(t, t), lambda m, t: t.long().renorm_(2, 0, 1.0)):
        assert_same_error(fn, [X])


def test_addcmul_addcdiv_errors_and_nodes():
    ints = np.arange(4.0).reshape(2, 2)
    assert_same_error(lambda m, t: t.long().addcdiv(t.long(), t.long()), [ints])
    assert_same_error(lambda m, t: (t > 0).addcmul(t > 0, t > 0), [ints], message=False)
    for m in (G, torch):
        a, b, c = tensors(m, [X, X, X + 5], requires_grad=True)
        assert type(a.addcmul(b, c).grad_fn).__name__ == "AddcmulBackward0"
        assert type(m.addcdiv(a, b, c).grad_fn).__name__ == "AddcdivBackward0"


# ---- predicates and attributes -------------------------------------------------------------------------------
def test_predicates_and_sizes():
    for dtype in ("float32", "int64", "uint8", "bool", "int8"):
        both(lambda m, t: (t.is_signed(), m.is_signed(t), t.nbytes, t.itemsize, t.is_cpu, t.is_neg(),
                           m.is_neg(t), t.is_same_size(t[0]), m.is_same_size(t, t * 1)), X.astype(dtype))
    both(lambda m, t: (t[0, :1].is_nonzero(), m.is_nonzero(t[1, 1] * 0), t.is_shared()), X)
    for a in (X, np.zeros((0,))):
        assert_same_error(lambda m, t: t.is_nonzero(), [a])


def test_share_memory_is_a_flag():
    t = G.ones(3)
    assert not t.is_shared() and t.share_memory_() is t and t.is_shared()


def test_conjugate_transposes_and_their_errors():
    both(lambda m, t: (t.H, t.mH, t.adjoint(), m.adjoint(t[None])), X)
    for shape in ((3,), (2, 3, 4)):
        a = RNG.standard_normal(shape)
        assert_same_error(lambda m, t: t.H, [a])
        assert_same_error(lambda m, t: t.mH, [a]) if len(shape) < 2 else None
        assert_same_error(lambda m, t: t.adjoint(), [a]) if len(shape) < 2 else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        both(lambda m, t: t.H, np.array(2.5))


def test_flip_and_ravel_errors_and_views():
    assert_same_error(lambda m, t: t.fliplr(), [X[0]])
    assert_same_error(lambda m, t: m.flipud(t), [np.array(1.0)])
    for m in (G, torch):  # ravel of a contiguous tensor is a view: writes show through
        t = m.zeros(2, 3)
        t.ravel()[4] = 1
        assert t[1, 1].item() == 1


# ---- ops with options and errors ------------------------------------------------------------------------------
def test_frexp_and_nextafter():
    special = np.array([0.0, -0.0, 1.0, -3.5, 1e-310, 2.0 ** 70, np.inf, -np.inf, np.nan])
    ours, theirs = both(lambda m, t: t.frexp(), special)
    assert type(ours).__name__ == "frexp" and repr(ours).startswith("torch.return_types.frexp(\nmantissa=")
    both(lambda m, t: (t.float().frexp().exponent, m.nextafter(t, -t), m.nextafter(t.float(), t.float() + 1)), special)
    assert_same_error(lambda m, t: m.frexp(t.long()), [X])
    assert_same_error(lambda m, t: m.nextafter(t.long(), t.long()), [X], message=False)


def test_isneginf_isposinf_isreal():
    a = np.array([1.0, -np.inf, np.inf, np.nan, 0.0])
    both(lambda m, t: (m.isneginf(t), t.isposinf(), t.isreal(), m.isreal(t.long()), t.long().isposinf()), a)
    for m in (G, torch):
        z = m.complex(m.tensor([1.0, 2.0]), m.tensor([0.0, 1.0]))
        assert z.isreal().tolist() == [True, False]


def test_clamp_min_max_nodes_and_errors():
    for m in (G, torch):
        (x,) = tensors(m, [X], requires_grad=True)
        names = [type(f.grad_fn).__name__ for f in (x.clamp_min(0), x.clamp_max(0), x.clamp_min(x[0]),
                                                    m.clamp_max(x, x[0].detach()))]
        assert names == ["ClampMinBackward0", "ClampMaxBackward0", "ClampMinBackward1", "ClampMaxBackward1"]
    both(lambda m, t: ((t * 5).long().clamp_min(2), (t * 5).long().clamp_max(2.5), t.clamp_min(t.new_tensor(0.1))), X)


def test_renorm_and_mvlgamma_errors():
    for fn in (lambda m, t: t.renorm(0, 0, 1.0), lambda m, t: t.renorm(-1, 0, 1.0), lambda m, t: t.renorm(2, 0, -1.0),
               lambda m, t: t.renorm(2, 2, 1.0), lambda m, t: t[0].renorm(2, 0, 1.0),
               lambda m, t: t[0, 0].renorm(2, 0, 1)):
        assert_same_error(fn, [X])
    both(lambda m, t: (t.renorm(2, 0, 100.0), t.renorm(float("inf"), 1, 0.5), t.renorm(1, 0, 0.0)), X)
    assert_same_error(lambda m, t: (t > 0).mvlgamma(1), [X])
    both(lambda m, t: (t.abs().mvlgamma(2), (t.abs() * 10).long().mvlgamma(3)), X)  # inf below the domain, like torch


def test_addr_ger_errors_and_dtypes():
    v, w = RNG.standard_normal(3), RNG.standard_normal(4)
    both(lambda m, a, b: (m.ger(a, b), m.addr(m.zeros(3, 4), a, b), m.addr(m.full((1, 4), float("nan")), a, b, beta=0),
                          m.addr(m.ones(3, 4).long(), (a * 4).long(), (b * 4).long(), alpha=2),
                          m.addr(m.ones(3, 4, dtype=m.bool), a > 0, b > 0), m.addr(m.ones(4), a.float(), b)), v, w)
    assert_same_error(lambda m, a, b: m.addr(m.ones(3, 4), a[None], b), [v, w])
    assert_same_error(lambda m, a, b: m.addr(m.ones(2, 4), a, b), [v, w])
    assert_same_error(lambda m, a, b: m.addr(m.ones(2, 3, 4), a, b), [v, w])
    assert_same_error(lambda m, a, b: m.addr(m.ones(3, 4).long(), a.long(), b.long(), alpha=0.5), [v, w])


def test_scatters_and_narrow_copy_errors():
    for fn in (lambda m, t: t.diagonal_scatter(m.zeros(2, dtype=t.dtype)),
               lambda m, t: t.select_scatter(m.zeros(3, dtype=t.dtype), 0, 0),
               lambda m, t: t.slice_scatter(m.zeros(2, 3, dtype=t.dtype), 0, 0, 1),
               lambda m, t: t.select_scatter(m.zeros(4, dtype=t.dtype), 0, 5),
               lambda m, t: t.narrow_copy(0, 1, 5)):
        assert_same_error(fn, [X])
    # a source of another dtype is converted to the input's; the input itself is untouched
    both(lambda m, t: (t.select_scatter(m.ones(4), 0, 1), t.diagonal_scatter(m.ones(3).long(), 0), t), X)
    both(lambda m, t: (t.slice_scatter(m.ones(3, 1, dtype=t.dtype), 1, -1), t.narrow_copy(1, -3, 2)), X)


def test_as_strided_views_and_errors():
    for m in (G, torch):
        t = m.arange(12.0)
        v = t.as_strided((3, 2), (4, 1), 1)
        assert v.tolist() == [[1.0, 2.0], [5.0, 6.0], [9.0, 10.0]] and v.storage_offset() == 1
        v[0, 0] = -1  # a view: the write reaches t
        assert t[1].item() == -1
        assert t[2:].storage_offset() == 2 and t[2:].as_strided((2,), (1,)).tolist() == [2.0, 3.0]
        assert m.as_strided(t[2:], (2,), (3,), 0).tolist() == [0.0, 3.0]
    for fn in (lambda m, t: t.as_strided((2, 2), (1, 2), 100), lambda m, t: t.as_strided((2, 2), (-1, 1)),
               lambda m, t: t.as_strided((2, 2), (1, 1, 1))):
        assert_same_error(fn, [X])


def test_new_empty_strided_and_empty_strided():
    for m in (G, torch):
        t = m.ones(2, dtype=m.float64).new_empty_strided((2, 3), (1, 2))
        assert t.shape == (2, 3) and t.stride() == (1, 2) and t.dtype == m.float64
        e = m.empty_strided((3, 2), (1, 3), dtype=m.int32)
        assert e.stride() == (1, 3) and e.dtype == m.int32 and not e.is_contiguous()


def test_sum_to_size_split_with_sizes_bernoulli_multinomial():
    both(lambda m, t: (t.sum_to_size(1, 4), t.sum_to_size((3, 1)), t.sum_to_size(4), t.split_with_sizes([1, 2]),
                       m.split_with_sizes(t, (3, 1), 1), t.unsafe_chunk(2), t.unsafe_split(2, 1)), X)
    assert_same_error(lambda m, t: t.sum_to_size(2, 4), [X])
    for m in (G, torch):
        p = m.full((3, 4), 0.5)
        assert p.bernoulli().shape == (3, 4) and set(p.bernoulli(0.3).unique().tolist()) <= {0.0, 1.0}
        assert p.bernoulli(1.0).sum().item() == 12 and p.bernoulli().dtype == m.float32
        s = p.multinomial(3)
        assert s.shape == (3, 3) and s.dtype == m.int64 and all(len(set(r)) == 3 for r in s.tolist())
    assert_same_error(lambda m, t: t.bernoulli(2.0), [X])


# ---- resize_, fill_diagonal_, apply_/map_ -----------------------------------------------------------------------
def test_resize():
    both(lambda m, t: (t.clone().resize_(2, 2), t.clone().resize_((6,)), t.clone().resize_as_(m.ones(2, 6)),
                       t.clone().resize_(3, 4)), X)
    for m in (G, torch):
        t = m.arange(4.0)
        assert t.resize_(3, 3) is t and t.shape == (3, 3) and t.flatten()[:4].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert_same_error(lambda m, t: t.requires_grad_().resize_(2, 2), [X])
    assert_same_error(lambda m, t: (t.requires_grad_() * 1).resize_(2, 2), [X])
    assert_same_error(lambda m, t: _under_no_grad(m, lambda: t.requires_grad_().resize_(2, 2)), [X])


def _under_no_grad(m, fn):
    with m.no_grad():
        return fn()


def test_fill_diagonal():
    for shape, wrap in (((5, 3), True), ((5, 3), False), ((3, 5), True), ((3, 3, 3), False), ((4, 4), False)):
        both(lambda m, t: t.fill_diagonal_(1.5, wrap=wrap), np.zeros(shape))
    for shape in ((3, 3, 2), (3,)):
        assert_same_error(lambda m, t: t.fill_diagonal_(1.0), [np.zeros(shape)])


def test_apply_and_map():
    both(lambda m, t: (t.clone().apply_(lambda v: v * 2 + 1), t.long().apply_(lambda v: v * 1.5),
                       t.clone().map_(t[0], lambda a, b: a - b), t.clone().map_(t[:1, :1], lambda a, b: a + b)), X)
    assert_same_error(lambda m, t: t.clone().map_(t.float(), lambda a, b: a), [X])
    assert_same_error(lambda m, t: t.requires_grad_().apply_(lambda v: v), [X])
    assert_same_error(lambda m, t: _under_no_grad(m, lambda: t.requires_grad_().map_(t, lambda a, b: a)), [X])
    assert_same_error(lambda m, t: t.clone().map_(m.ones(2), lambda a, b: a), [X])
    assert_same_error(lambda m, t: t.clone().apply_(lambda v: "a"), [X])


# ---- top-level functions -----------------------------------------------------------------------------------------
def test_constants_and_typename():
    for name in ("pi", "e", "inf", "nan", "newaxis"):
        a, b = getattr(G, name), getattr(torch, name)
        assert a is b or a == b or (math.isnan(a) and math.isnan(b))
    for make in (lambda m: m.ones(2), lambda m: m.ones(2, dtype=m.int64), lambda m: 3, lambda m: "s",
                 lambda m: m.nn.Linear(2, 2), lambda m: m.nn.Linear, lambda m: m.nn.ReLU()):
        assert G.typename(make(G)) == torch.typename(make(torch))


def test_logspace():
    for args, kw in (((0, 2, 5), {}), ((0, 2, 5), {"base": 2}), ((-1, 1, 3), {"dtype": "float64"}),
                     ((0, 2, 5), {"dtype": "int64"}), ((1, 1, 1), {}), ((0, 3, 0), {})):
        both(lambda m: m.logspace(*args, **{k: getattr(m, v) if k == "dtype" else v for k, v in kw.items()}))


def test_vander_options_and_errors():
    v = np.array([1.0, 2.0, -3.0])
    both(lambda m, t: (m.vander(t), m.vander(t, N=0), m.vander(t, N=1), m.vander(t.long()), m.vander(t > 0),
                       m.vander(t.int(), 4, True)), v)
    assert_same_error(lambda m, t: m.vander(t), [X])


def test_trapezoid_errors_and_edges():
    both(lambda m, t: (m.trapezoid(t.long()), m.trapezoid(t[:, :0]), m.trapezoid(t[:, :1]),
                       m.cumulative_trapezoid(t, dx=0.5, dim=0), m.cumulative_trapezoid(t.long())), X)
    assert_same_error(lambda m, t: m.trapezoid(t > 0), [X])
    assert_same_error(lambda m, t: m.trapezoid(t, t[0] > 0), [X])
    assert_same_error(lambda m, t: m.trapezoid(t, t[0, :3]), [X])


def test_asarray():
    for m in (G, torch):
        a = np.arange(3.0)
        t = m.asarray(a)  # shares memory with the array
        a[0] = 9
        assert t[0].item() == 9
        c = m.asarray(a, copy=True)
        a[1] = 9
        assert c[1].item() == 1
        x = m.ones(2)
        assert m.asarray(x) is x and m.asarray(x, copy=False) is x and m.asarray(x, copy=True) is not x
        assert m.asarray([1, 2]).dtype == m.int64 and m.asarray([1.0, 2]).dtype == m.float32
        assert m.asarray(a, dtype=m.float32).dtype == m.float32 and m.asarray(3.5).shape == ()
        assert m.asarray([m.tensor(1.0), m.tensor(2.0)]).tolist() == [1.0, 2.0]
        assert m.asarray(a, requires_grad=True).requires_grad
    assert_same_error(lambda m: m.asarray(a, dtype=m.float32, copy=False), message=False)
    assert_same_error(lambda m: m.asarray(m.ones(2, dtype=m.float64), dtype=m.float32, copy=False))


def test_frombuffer():
    data = bytearray(np.array([1, 2, 3, 4], dtype=np.int32).tobytes())
    both(lambda m: (m.frombuffer(data, dtype=m.int32), m.frombuffer(data, dtype=m.int32, count=2, offset=4),
                    m.frombuffer(data, dtype=m.int16), m.frombuffer(data, dtype=m.uint8, offset=15)))
    for m in (G, torch):  # shares the buffer
        t = m.frombuffer(data, dtype=m.int32)
        t[0] = 7
        assert np.frombuffer(bytes(data), dtype=np.int32)[0] == 7
        data[4] = 0
        assert t[1].item() == 0
        data[4] = 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        both(lambda m: m.frombuffer(b"abc", dtype=m.uint8))
    assert_same_error(lambda m: m.frombuffer(data, dtype=m.float64, count=3))
    assert_same_error(lambda m: m.frombuffer(bytearray(b"abc"), dtype=m.int16))


def test_rsub_scalar_tensor_and_aliases():
    both(lambda m, t: (m.rsub(t, 2), m.rsub(t, t.flip(0), alpha=2), m.rsub(t.long(), 3), m.scalar_tensor(2),
                       m.scalar_tensor(1, dtype=m.int64), m.is_conj(t), m.resolve_neg(t), m.resolve_conj(t)), X)
    with G.random.fork_rng() if hasattr(G, "random") and hasattr(G.random, "fork_rng") else _nothing():
        both(lambda m, t: (m.dropout(t, 0.5, False), m.alpha_dropout(t, 0.3, False), m.selu(t), m.celu(t, 2.0),
                           m.threshold(t, 0.0, 5.0), m.rrelu(t), m.hardshrink(t, 0.4),
                           m.prelu(t, m.full((1,), 0.2, dtype=t.dtype)),
                           m.dropout(t, 0.0, True)), X)
    for m in (G, torch):  # train=False hands the input back; the in-place aliases write into it
        t = m.from_numpy(X.copy())
        assert m.dropout(t, 0.5, False) is t
        assert m.selu_(t) is t and m.celu_(t) is t and m.threshold_(t, 0.0, 1.0) is t and m.rrelu_(t) is t
        out = m.dropout(m.ones(1000), 0.5, True)
        assert set(out.unique().tolist()) <= {0.0, 2.0} and 350 < (out == 0).sum().item() < 650


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("name", ["abs_", "relu_", "sigmoid_", "exp_", "sqrt_", "tanh_", "neg_", "floor_", "round_",
                                  "trunc_", "frac_", "sin_", "cos_", "log_", "zero_", "square_", "rsqrt_", "erf_",
                                  "deg2rad_", "sinc_", "detach_"])
def test_top_level_inplace_functions(name):
    a = np.abs(X) + 0.5

    def run(m, t):
        out = getattr(m, name)(t)
        assert out is t
        return t
    both(run, a)
    both(lambda m, t: (m.clamp_(t, -0.5, 0.5), m.clip_(t, 0.0), m.clamp_min_(t, 0.1), m.clamp_max_(t, 0.3),
                       m.fill_(t, 2.0), m.xlogy_(t, 2.0), m.nan_to_num_(t / 0)), X)


def test_onnx_export_of_clamp_min_and_addcmul(tmp_path):
    """The new nodes (ClampMinBackward0, AddcmulBackward0, ...) translate to ONNX and run to the same numbers."""
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")

    class Net(G.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = G.nn.Linear(4, 4)

        def forward(self, x):
            h = self.lin(x)
            return h.clamp_min(0.1).addcmul(h, h.clamp_max(0.5), value=0.5).addcdiv(h, h.exp())

    G.manual_seed(0)
    net, x = Net(), G.randn(3, 4)
    path = tmp_path / "net.onnx"
    G.onnx.export(net, (x,), str(path))
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    (got,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, _feed(path, x))
    with G.no_grad():
        want = net(x).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)  # float32 arithmetic in a different order


def _feed(path, x):
    import onnx

    return {onnx.load(str(path)).graph.input[0].name: x.numpy()}


def test_unfold_views_and_errors():
    both(lambda m, t: (t.unfold(1, 3, 1), t.unfold(0, 2, 1).stride(), t.unfold(1, 0, 1).shape,
                       t.unfold(1, 4, 5), t[0, 0].unfold(0, 1, 1), t.unfold(1, 2, 1).is_contiguous()), X)
    for fn in (lambda m, t: t.unfold(1, 5, 1), lambda m, t: t.unfold(1, 2, 0), lambda m, t: t[0, 0].unfold(0, 2, 1),
               lambda m, t: t.unfold(2, 1, 1)):
        assert_same_error(fn, [X])
    for m in (G, torch):  # a view: writes reach the input
        t = m.zeros(5)
        t.unfold(0, 2, 2)[1, 1] = 1
        assert t.tolist() == [0.0, 0.0, 0.0, 1.0, 0.0]


def test_inplace_view_ops():
    both(lambda m, t: (t.clone().unsqueeze_(0), t.clone().t_(), t.clone().transpose_(0, 1).stride(),
                       t.clone().swapaxes_(0, 1), t.clone().swapdims_(1, 0), t[:1].clone().squeeze_(),
                       t[:1].clone().squeeze_(0).shape, t.clone().unsqueeze_(-1).squeeze_(2).shape), X)
    for m in (G, torch):
        t = m.ones(3, 4)
        v = t._version
        assert t.t_() is t and t.shape == (4, 3) and t._version == v + 1
    assert_same_error(lambda m, t: t.requires_grad_().unsqueeze_(0), [X])


def test_qr_unravel_index_and_layout_flags():
    a = RNG.standard_normal((4, 3))
    for m in (G, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.qr is deprecated in favour of torch.linalg.qr
            for some in (True, False):
                q, r = m.qr(m.from_numpy(a), some=some)
                np.testing.assert_allclose((q @ r).numpy(), a, atol=1e-12)  # Q R = A (signs may differ from torch's)
                assert tuple(q.shape) == ((4, 3) if some else (4, 4)) and type(m.from_numpy(a).qr()).__name__ == "qr"
    both(lambda m, i: (m.unravel_index(i, (3, 4)), m.unravel_index(i[:2], 12),
                       m.unravel_index(i.reshape(2, 2), (2, 2, 3))),
         np.array([4, 7, -1, 11]))
    assert_same_error(lambda m, i: m.unravel_index(i.float(), (3, 4)), [np.array([1, 2])])
    both(lambda m, t: (t.is_sparse, t.is_quantized, t.is_meta, t.is_nested, t.is_mkldnn, t.is_mps, t.is_xpu,
                       t.resolve_neg(), t.output_nr), X)


def test_nn_functions_under_torch_signatures():
    """torch.layer_norm & co. take ATen's argument order (and Reduction enums 0/1/2), not nn.functional's."""
    x, w = RNG.standard_normal((2, 4, 3)), RNG.uniform(0.5, 1.5, 4)
    both(lambda m, t, g: (m.layer_norm(t, (3,), None, None, 1e-5, True), m.group_norm(t, 2, g, g, 1e-5, True),
                          m.batch_norm(t, g, g, g * 0, g * 0 + 1, True, 0.1, 1e-5, True),
                          m.batch_norm(t, None, None, g * 0, g * 0 + 1, False, 0.1, 1e-5, False),
                          m.instance_norm(t, g, g, None, None, True, 0.1, 1e-5, True), m.rms_norm(t, (3,)),
                          m.constant_pad_nd(t, (1, 2), 0.5)), x, w, requires_grad=False)
    both(lambda m, t: (m.pixel_shuffle(t.reshape(1, 4, 2, 3), 2), m.pixel_unshuffle(t.reshape(1, 2, 2, 6), 2),
                       m.channel_shuffle(t.reshape(1, 4, 2, 3), 2)), x)
    both(lambda m, wt: (m.embedding(wt, m.tensor([[0, 2], [1, 1]])), m.embedding(wt, m.tensor([3, 0]), 0)),
         RNG.standard_normal((4, 3)))
    a, b, y = RNG.standard_normal((5, 3)), RNG.standard_normal((5, 3)), np.sign(RNG.standard_normal(5))
    for r in (0, 1, 2):
        both(lambda m, p, q, s: (m.kl_div(p.log_softmax(1), q.softmax(1), r), m.kl_div(p, q, r, log_target=True),
                                 m.binary_cross_entropy_with_logits(p, q.sigmoid(), None, None, r),
                                 m.binary_cross_entropy_with_logits(p, q.sigmoid(), q.exp(), p[0].exp(), r),
                                 m.cosine_embedding_loss(p, q, s, 0.1, r),
                                 m.margin_ranking_loss(p[:, 0], q[:, 0], s, 0.2, r),
                                 m.hinge_embedding_loss(p, s[:, None].expand(5, 3), 1.0, r),
                                 m.triplet_margin_loss(p, q, q.flip(0), 1.0, 2, 1e-6, False, r),
                                 m.poisson_nll_loss(p, q.abs(), True, False, 1e-8, r)), a, b, y)


def test_as_strided_scatter_input_gradient_and_inplace_as_strided():
    """z = y with y's elements 1..4 replaced by src: dz/dy is 1 at elements 0 and 5 only (the mathematics;
    torch 2.13 returns the complement), dz/dsrc is the gradient read through the same strides (torch agrees)."""
    y = G.zeros(6, dtype=G.float64, requires_grad=True)
    src = G.ones(2, 2, dtype=G.float64, requires_grad=True)
    (y.as_strided_scatter(src, (2, 2), (1, 2), 1) * G.arange(6.0, dtype=G.float64)).sum().backward()
    assert y.grad.tolist() == [0.0, 0.0, 0.0, 0.0, 0.0, 5.0] and src.grad.tolist() == [[1.0, 3.0], [2.0, 4.0]]
    y, src = G.randn(3, 4, dtype=G.float64, requires_grad=True), G.randn(2, 2, dtype=G.float64, requires_grad=True)
    f = lambda a, b: a.as_strided_scatter(b, (2, 2), (4, 1), 5)  # noqa: E731
    assert G.autograd.gradcheck(f, (y, src)) and G.autograd.gradgradcheck(f, (y, src))
    both(lambda m, t: (t.clone().as_strided_((2, 2), (1, 4), 1), t.clone().as_strided_((3,), (5,)).stride(),
                       t.new(2, 3).shape, t.new([1, 2]), t.new().shape, t.unsafe_split_with_sizes([1, 2])), X)


def test_layouts():
    import pickle

    for m in (G, torch):
        assert m.ones(2).layout is m.strided and type(m.strided) is m.layout
        assert pickle.loads(pickle.dumps(m.strided)) is m.strided
    for name in ("strided", "sparse_coo", "sparse_csr", "sparse_csc", "sparse_bsr", "sparse_bsc", "jagged"):
        assert repr(getattr(G, name)) == repr(getattr(torch, name))


def test_triangular_and_cholesky_solves():
    """Values, return types and errors as torch's; b's gradients pass gradcheck (the factors' gradients, like
    PyTorch's, treat them as general matrices, so are compared with torch in the op table instead)."""
    low = np.tril(RNG.uniform(-0.5, 0.5, (3, 3)), -1) + np.diag([2.0, 1.5, 2.5])
    b = RNG.standard_normal((2, 3, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.triangular_solve is deprecated in favour of linalg.solve_triangular
        ours, _ = both(lambda m, x, a: (m.triangular_solve(x, a, False), x.triangular_solve(a.mT, True, True)), b, low)
        assert type(ours[0]).__name__ == "triangular_solve" and ours[0].cloned_coefficient.shape == (2, 3, 3)
        both(lambda m, x, a: (m.cholesky_solve(x, a), x.cholesky_solve(a.mT, upper=True), m.cholesky_inverse(a),
                              a.mT.cholesky_inverse(True)), b, low)
        for fn in (lambda m, x, a: m.triangular_solve(x[0, :, 0], a), lambda m, x, a: m.triangular_solve(x, a[0]),
                   lambda m, x, a: m.cholesky_solve(x[0, :, 0], a), lambda m, x, a: m.cholesky_solve(x, a[0]),
                   lambda m, x, a: m.cholesky_inverse(a[0])):
            assert_same_error(fn, [b, low])
    lg = G.from_numpy(low)
    (bg,) = tensors(G, [b], requires_grad=True)
    for upper in (False, True):
        f = lambda x: G.cholesky_solve(x, lg.mT if upper else lg, upper)  # noqa: E731
        assert G.autograd.gradcheck(f, (bg,)) and G.autograd.gradgradcheck(f, (bg,))


def test_nonzero_static_dim_order_map2_and_small_methods():
    x = np.array([[0, 1, 0], [2, 0, 3]])
    both(lambda m, t: (t.nonzero_static(size=5), t.nonzero_static(size=2, fill_value=9), m.nonzero_static(t, size=0),
                       t[0, 1].nonzero_static(size=2), t.dim_order(), t.t().dim_order(), t.is_distributed(),
                       t.to_dense(), t.float().to_dense(m.float64)), x)
    for m in (G, torch):
        t = m.ones(2, 3, 4)
        assert t.permute(2, 0, 1).dim_order() == (1, 2, 0) and t.const_data_ptr() == t.data_ptr()
        assert t.to_dense() is t
    both(lambda m, t: t.clone().map2_(t.flip(0), t[:1], lambda a, b, c: a + b * c), X)
