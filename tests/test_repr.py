"""format_tensor must print exactly what repr() of the same PyTorch tensor prints."""
from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from glasstorch._tensor_str import format_tensor, set_printoptions

NP_DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8, np.bool_]
FLOAT_DTYPES = [np.float16, np.float32, np.float64]
# shapes big enough to be summarised (> 1000 elements), some with short axes that are not cut
BIG_SHAPES = [(1001,), (7, 150), (2, 3, 200), (1, 1001), (4, 300, 1), (20, 60), (3, 2, 5, 40)]
SPECIALS = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, -2.5, 1e-5, 3e9, 123456.0]

EXAMPLES = settings(max_examples=150, deadline=None)


def dtype_name(a: np.ndarray) -> str:
    return str(a.dtype)  # numpy names match torch's for every dtype tested here


def ours(a: np.ndarray, **kwargs) -> str:
    return format_tensor(a, dtype_name=dtype_name(a), **kwargs)


def theirs(a: np.ndarray) -> str:
    return repr(torch.from_numpy(a.copy()))


@contextlib.contextmanager
def printoptions_both(**options):
    """The same print options in torch and glasstorch for the block; defaults restored after."""
    torch.set_printoptions(**options)
    set_printoptions(**options)
    try:
        yield
    finally:
        torch.set_printoptions(profile="default")
        set_printoptions(profile="default")


def make_values(kind: str, shape: tuple, dtype, seed: int) -> np.ndarray:
    """Values of one flavour (tiny, huge, mixed magnitudes, whole numbers, nan/inf...) in `dtype`."""
    rng = np.random.default_rng(seed)
    if dtype == np.bool_:
        return np.asarray(rng.random(shape) < 0.5)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        if kind in ("huge", "mixed"):
            return np.asarray(rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True))
        return np.asarray(rng.integers(max(info.min, -20), 20, shape), dtype=dtype)
    normal = rng.standard_normal(shape)
    values = {
        "normal": normal,
        "tiny": normal * 1e-6,
        "huge": normal * 1e10,
        "mixed": normal * 10.0 ** rng.uniform(-7, 10, shape),
        "integral": rng.integers(-1000, 1000, shape).astype(np.float64),
        "specials": rng.choice(SPECIALS, shape),
        "zeros": rng.choice([0.0, -0.0], shape),
        "unit": rng.random(shape),
    }[kind]
    with np.errstate(over="ignore"):  # huge values become inf in float16, which is fine
        return np.asarray(values).astype(dtype)


KINDS = st.sampled_from(["normal", "tiny", "huge", "mixed", "integral", "specials", "zeros", "unit"])
SHAPES = st.one_of(
    hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6),
    hnp.array_shapes(min_dims=1, max_dims=2, min_side=0, max_side=40),
    st.sampled_from(BIG_SHAPES),
)


@st.composite
def arrays(draw, dtypes=NP_DTYPES, shapes=SHAPES) -> np.ndarray:
    dtype = draw(st.sampled_from(dtypes))
    shape = draw(shapes)
    return make_values(draw(KINDS), shape, dtype, draw(st.integers(0, 2**32 - 1)))


# hypothesis' own element values reach awkward spots: rounding edges, subnormals, extreme ints
ODD_ARRAYS = hnp.arrays(
    dtype=st.sampled_from(NP_DTYPES),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6),
)


# ---- values, shapes, dtypes ---------------------------------------------------------------------


@EXAMPLES
@given(arrays())
def test_matches_torch(a):
    assert ours(a) == theirs(a)


@EXAMPLES
@given(ODD_ARRAYS)
def test_matches_torch_on_odd_values(a):
    assert ours(a) == theirs(a)


@pytest.mark.parametrize(
    "a, expected",
    [
        (np.array([1.12345], np.float32), "tensor([1.1235])"),
        (np.array([-0.0, 1.0], np.float32), "tensor([-0., 1.])"),
        (np.array(-0.0, np.float32), "tensor(-0.)"),
        (np.array([math.nan, 1e10, 0.0], np.float32), "tensor([       nan, 1.0000e+10, 0.0000e+00])"),
        (np.array([math.nan, math.inf], np.float32), "tensor([nan, inf])"),
        (np.zeros((0, 3), np.float32), "tensor([], size=(0, 3))"),
        (np.zeros((0,), np.int64), "tensor([], dtype=torch.int64)"),
        (np.array([True, False]), "tensor([ True, False])"),
        (np.array(7, np.int32), "tensor(7, dtype=torch.int32)"),
        (np.arange(1001), "tensor([   0,    1,    2,  ...,  998,  999, 1000])"),
    ],
)
def test_known_strings(a, expected):
    assert theirs(a) == expected  # guards the spec itself
    assert ours(a) == expected


def test_summary_of_3d_tensor():
    a = np.arange(20000).reshape(20, 10, 100)
    assert ours(a) == theirs(a)
    # 6 blocks shown, each with 6 cut rows and one "..." row, plus the "..." between blocks
    assert ours(a).count("...") == 6 * (6 + 1) + 1


def test_rejects_unprintable_array():
    # (complex arrays print now, as PyTorch's complex tensors: tests/test_dtypes_more.py)
    with pytest.raises(TypeError, match="<U1"):
        format_tensor(np.array(["a"]), dtype_name="str")


# ---- print options ------------------------------------------------------------------------------

OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "precision": st.integers(0, 8),
        "threshold": st.sampled_from([0, 5, 50, 1000, math.inf]),
        "edgeitems": st.integers(0, 4),
        "linewidth": st.integers(10, 150),
        "profile": st.sampled_from(["default", "short", "full"]),
        "sci_mode": st.sampled_from([None, True, False]),
    },
)
SMALLER_SHAPES = st.one_of(
    hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=12),
    st.sampled_from([(1001,), (7, 150), (2, 3, 200)]),
)


@EXAMPLES
@given(OPTIONS, arrays(shapes=SMALLER_SHAPES))
def test_printoptions_match_torch(options, a):
    with printoptions_both(**options):
        assert ours(a) == theirs(a)


def test_profiles_set_the_same_options_as_torch():
    fields = ["precision", "threshold", "edgeitems", "linewidth", "sci_mode"]
    from glasstorch._tensor_str import PRINT_OPTS

    for profile in ["short", "full", "default"]:
        with printoptions_both(profile=profile, linewidth=99):
            mine = [getattr(PRINT_OPTS, f) for f in fields]
            assert mine == [getattr(torch._tensor_str.PRINT_OPTS, f) for f in fields]
            assert PRINT_OPTS.linewidth == 99
    assert PRINT_OPTS.threshold == 1000 and PRINT_OPTS.precision == 4


def test_later_call_without_sci_mode_resets_it():
    a = np.array([1.5, 2.25], np.float32)
    with printoptions_both(sci_mode=True):
        assert ours(a) == theirs(a) == "tensor([1.5000e+00, 2.2500e+00])"
        torch.set_printoptions(precision=2)
        set_printoptions(precision=2)
        assert ours(a) == theirs(a) == "tensor([1.50, 2.25])"


def test_full_profile_prints_everything():
    a = np.arange(1500)
    with printoptions_both(profile="full"):
        assert "..." not in ours(a)
        assert ours(a) == theirs(a)


# ---- suffixes: dtype, grad_fn, requires_grad, device --------------------------------------------

AUTOGRAD_OPS = {
    "leaf": lambda t: t,
    "mul": lambda t: t * 2,
    "add": lambda t: t + 1,
    "neg": lambda t: -t,
    "sum": lambda t: t.sum(),
    "view": lambda t: t.reshape(-1),
    "transpose": lambda t: t.transpose(0, -1) if t.dim() else t * 1,
}


@EXAMPLES
@given(
    arrays(dtypes=FLOAT_DTYPES, shapes=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=14)),
    st.sampled_from(sorted(AUTOGRAD_OPS)),
)
def test_autograd_suffixes_match_torch(a, op):
    out = AUTOGRAD_OPS[op](torch.from_numpy(a.copy()).requires_grad_())
    grad_fn = None if out.grad_fn is None else type(out.grad_fn).__name__
    mine = format_tensor(out.detach().numpy(), dtype_name=dtype_name(a), grad_fn=grad_fn, requires_grad=True)
    assert mine == repr(out)


def test_mul_backward_suffix_wraps_like_torch():
    a = np.arange(14, dtype=np.float16) / 4
    out = torch.from_numpy(a).requires_grad_() * 2
    expected = repr(out)
    assert ",\n       grad_fn=<MulBackward0>)" in expected  # suffixes pushed onto their own line
    got = format_tensor(a * 2, dtype_name="float16", grad_fn="MulBackward0", requires_grad=True)
    assert got == expected


def test_requires_grad_suffix():
    a = np.array([1.0, 2.0], np.float32)
    assert ours(a, requires_grad=True) == repr(torch.from_numpy(a).requires_grad_())
    assert ours(a, requires_grad=True) == "tensor([1., 2.], requires_grad=True)"


@EXAMPLES
@given(arrays(shapes=SMALLER_SHAPES))
def test_default_dtype_float64_matches_torch(a):
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        expected = theirs(a)
    finally:
        torch.set_default_dtype(previous)
    assert ours(a, default_float="float64") == expected


def test_default_dtype_float64_examples():
    assert ours(np.array([1.0], np.float32), default_float="float64") == "tensor([1.], dtype=torch.float32)"
    assert ours(np.array([1.0]), default_float="float64") == "tensor([1.])"
    assert ours(np.zeros(0), default_float="float64") == "tensor([])"
    assert ours(np.zeros(0, np.float32), default_float="float64") == "tensor([], dtype=torch.float32)"


@pytest.mark.parametrize(
    "a, device, expected",
    [
        (np.array([1.0, 2.0], np.float32), "cuda:0", "tensor([1., 2.], device='cuda:0')"),
        (np.array([1.0, 2.0], np.float32), "cuda", "tensor([1., 2.], device='cuda:0')"),
        (np.array([1.0, 2.0], np.float32), "cpu", "tensor([1., 2.])"),
        (np.array(3, np.int32), "cuda:1", "tensor(3, device='cuda:1', dtype=torch.int32)"),
        (np.zeros((2, 0), np.int64), "cuda:0", "tensor([], device='cuda:0', size=(2, 0), dtype=torch.int64)"),
        (
            np.arange(12, dtype=np.float32) * 1.5,
            "cuda:0",
            "tensor([ 0.0000,  1.5000,  3.0000,  4.5000,  6.0000,  7.5000,  9.0000, 10.5000,\n"
            "        12.0000, 13.5000, 15.0000, 16.5000], device='cuda:0')",
        ),
    ],
)
def test_device_suffix(a, device, expected):
    assert ours(a, device=device) == expected


def test_device_suffix_wraps_when_line_is_full():
    # torch's estimate of the last line is len + 2: 57 + len(", device='cuda:0'") fits in 80,
    # the grad_fn suffix after it does not
    a = np.arange(6, dtype=np.float32) * 1.5
    assert ours(a, device="cuda:0", grad_fn="MulBackward0") == (
        "tensor([0.0000, 1.5000, 3.0000, 4.5000, 6.0000, 7.5000], device='cuda:0',\n"
        "       grad_fn=<MulBackward0>)"
    )
    # 65 + 17 > 80: every suffix goes to the next line, indented under the "["
    a = np.arange(7, dtype=np.float32) * 1.5
    assert ours(a, device="cuda:0", grad_fn="MulBackward0") == (
        "tensor([0.0000, 1.5000, 3.0000, 4.5000, 6.0000, 7.5000, 9.0000],\n"
        "       device='cuda:0', grad_fn=<MulBackward0>)"
    )


# ---- prefixes -----------------------------------------------------------------------------------


class LongNamedTensor(torch.Tensor):
    pass


@EXAMPLES
@given(arrays(dtypes=FLOAT_DTYPES + [np.int64], shapes=SMALLER_SHAPES))
def test_prefix_sets_the_indent(a):
    expected = repr(torch.from_numpy(a.copy()).as_subclass(LongNamedTensor))
    assert ours(a, prefix="LongNamedTensor(") == expected


@given(arrays(dtypes=FLOAT_DTYPES, shapes=SMALLER_SHAPES))
@settings(max_examples=30, deadline=None)
def test_multiline_prefix_indents_by_its_last_line(a):
    expected = repr(torch.nn.Parameter(torch.from_numpy(a.copy())))
    got = ours(a, prefix="Parameter containing:\ntensor(", requires_grad=True)
    assert got == expected
