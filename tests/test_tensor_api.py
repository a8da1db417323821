"""The Tensor object's own API against PyTorch: shape and Size, dtype and device, requires_grad and
is_leaf, .data, conversions to Python and NumPy, the dunder protocols, repr suffixes, CUDA without
a GPU, pickling and copying.
"""
from __future__ import annotations

import copy
import operator
import pickle
import warnings

import numpy as np
import pytest
import torch

import glasstorch
from _compare import assert_same, assert_same_error

G = glasstorch


def same(fn):
    """fn(module) gives the same result on glasstorch and torch."""
    ours, theirs = fn(glasstorch), fn(torch)
    assert_same(ours, theirs)
    return ours


def same_error(fn, exc):
    ours, _ = assert_same_error(lambda m: fn(m))
    assert isinstance(ours, exc)
    return str(ours)


# ---- shape, Size, dims ------------------------------------------------------------------------------
def test_shape_and_size():
    def f(m):
        t = m.zeros(2, 3, 4)
        return (t.shape, t.size(), t.size(1), t.size(-1), t.dim(), t.ndim, t.ndimension(), t.numel(),
                t.nelement(), m.zeros(()).shape, m.zeros(0, 3).numel(), len(t), t.shape == (2, 3, 4))
    same(f)


def test_size_is_a_tuple_with_torchs_repr():
    def f(m):
        s = m.zeros(2, 3).shape
        return (repr(s), str(s), s[1:], s + (4,), s.numel(), tuple(s), s == m.Size([2, 3]),
                hash(s) == hash((2, 3)), isinstance(s, tuple), repr(m.Size([])), list(s))
    ours = same(f)
    assert type(ours[2]) is G.Size and type(ours[3]) is G.Size


@pytest.mark.parametrize("shape, dim", [((2, 3), 2), ((2, 3), -3), ((), 0), ((), -1)])
def test_size_dim_out_of_range(shape, dim):
    same_error(lambda m: m.zeros(shape).size(dim), IndexError)


# ---- dtype and device ------------------------------------------------------------------------------
def test_dtype_and_type_strings():
    def f(m):
        return [(t.dtype, t.type(), t.is_floating_point(), t.element_size())
                for t in (m.zeros(2), m.zeros(2, dtype=m.float64), m.zeros(2, dtype=m.int64),
                          m.tensor([True]), m.tensor([1, 2], dtype=m.int32), m.zeros(1, dtype=m.float16))]
    same(f)


def test_device():
    def f(m):
        t = m.zeros(2)
        d = m.device("cpu")
        return (repr(t.device), repr(d), str(d), t.device == d, d.type, d.index, t.is_cuda,
                repr(m.device("cuda:1")), m.device("cuda", 0).index, m.device(d) == d)
    same(f)
    same_error(lambda m: m.device("cuda:x"), RuntimeError)


def test_cuda_unavailable_without_a_gpu():
    if G.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    assert G.cuda.is_available() is False
    assert G.cuda.device_count() == 0
    for make in (lambda: G.ones(2).to("cuda"), lambda: G.ones(2).cuda(), lambda: G.ones(2, device="cuda"),
                 lambda: G.ones(2).to(G.device("cuda:0"))):
        with pytest.raises(RuntimeError, match="CUDA"):
            make()


# ---- requires_grad and is_leaf ------------------------------------------------------------------------
def test_requires_grad_and_is_leaf():
    def f(m):
        x = m.ones(2, requires_grad=True)
        c = m.ones(2)
        y = x * 2
        z = c * 2
        w = m.ones(2)
        w.requires_grad = True
        return ([t.requires_grad for t in (x, c, y, z, w, y.detach())],
                [t.is_leaf for t in (x, c, y, z, w, y.detach())],
                y.requires_grad_() is y, x.grad_fn, y.grad_fn.name())
    same(f)


def test_requires_grad_errors():
    # factories say "Only Tensors ..." (capital O) in PyTorch: compared case-insensitively here
    ours, theirs = assert_same_error(lambda m: m.tensor([1, 2], requires_grad=True), message=False)
    assert str(ours).lower() == str(theirs).lower()
    assert same_error(lambda m: setattr(m.tensor([1, 2]), "requires_grad", True), RuntimeError) == \
        "only Tensors of floating point and complex dtype can require gradients"
    same_error(lambda m: m.tensor([1, 2]).requires_grad_(), RuntimeError)
    same_error(lambda m: setattr(m.ones(2, requires_grad=True) * 2, "requires_grad", False), RuntimeError)
    same_error(lambda m: setattr(m.ones(2, requires_grad=True) * 2, "requires_grad", True), RuntimeError)
    same_error(lambda m: (m.ones(2, requires_grad=True) * 2).requires_grad_(False), RuntimeError)


def test_assigning_grad():
    def f(m):
        x = m.ones(2, requires_grad=True)
        x.grad = m.tensor([1.0, 2.0])
        (x * 3).sum().backward()
        first = x.grad.clone()
        x.grad = None
        return first, x.grad
    same(f)


@pytest.mark.parametrize("value, exc", [
    (lambda m: m.zeros(3), RuntimeError),
    (lambda m: m.zeros(1, 2), RuntimeError),
    (lambda m: m.zeros(2, dtype=m.float64), RuntimeError),
    (lambda m: m.zeros(2, dtype=m.int64), RuntimeError),
    (lambda m: 3, TypeError),
])
def test_assigning_grad_of_wrong_kind_raises(value, exc):
    same_error(lambda m: setattr(m.ones(2, requires_grad=True), "grad", value(m)), exc)


def test_data_shares_memory_but_not_the_graph():
    def f(m):
        x = m.ones(3, requires_grad=True)
        d = x.data
        d[0] = 5.0
        y = (x * 2).data
        x2 = m.ones(2, requires_grad=True)
        x2.data = m.zeros(4)
        return x, d.requires_grad, d.is_leaf, x._version, y.requires_grad, y.grad_fn, x2, x2.requires_grad
    same(f)


# ---- conversions -----------------------------------------------------------------------------------
def test_item_and_tolist():
    def f(m):
        return (m.tensor([2.5]).item(), m.tensor(3).item(), m.tensor(True).item(), m.tensor([[7]]).item(),
                m.tensor(2.5, requires_grad=True).item(), m.tensor([[1.0, 2.0]]).tolist(), m.tensor(3).tolist(),
                m.tensor([True, False]).tolist(), (m.tensor([[1.5]], requires_grad=True) * 2).tolist(),
                m.zeros(0).tolist())
    same(f)


@pytest.mark.parametrize("n", [0, 3])
def test_item_of_not_one_element_raises(n):
    same_error(lambda m: m.ones(n).item(), RuntimeError)


def test_numpy():
    def f(m):
        t = m.zeros(3)
        a = t.numpy()
        a[0] = 9.0  # shares memory
        return t, m.ones(2, requires_grad=True).detach().numpy().tolist(), a.dtype == np.float32
    same(f)
    same_error(lambda m: m.ones(2, requires_grad=True).numpy(), RuntimeError)
    np.testing.assert_array_equal(G.ones(2, requires_grad=True).numpy(force=True), [1.0, 1.0])


# ---- dunder protocols -------------------------------------------------------------------------------
def test_len_iter_bool_float_int_index():
    def f(m):
        t = m.tensor([[1, 2], [3, 4]])
        return (len(t), [r.tolist() for r in t], bool(m.tensor([0.0])), bool(m.tensor(2)), bool(m.tensor([[1]])),
                float(m.tensor([2])), int(m.tensor(2.7)), int(m.tensor(-2.7)), complex(m.tensor(1.5)),
                [10, 20, 30][m.tensor(1)], operator.index(m.tensor([2])), range(5)[m.tensor(3)],
                operator.index(m.tensor(True)))
    same(f)


def test_iterating_a_tensor_keeps_the_graph():
    def f(m):
        x = m.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        rows = list(x * 2)
        (rows[0] * 3 + rows[1]).sum().backward()
        return x.grad, rows[0].grad_fn.name()
    same(f)


@pytest.mark.parametrize("bad, exc", [
    (lambda m: len(m.tensor(1.0)), TypeError),
    (lambda m: iter(m.tensor(1.0)), TypeError),
    (lambda m: bool(m.tensor([1, 2])), RuntimeError),
    (lambda m: bool(m.tensor([])), RuntimeError),
    (lambda m: float(m.tensor([2, 3])), ValueError),
    (lambda m: int(m.tensor([])), ValueError),
    (lambda m: [1, 2][m.tensor(1.0)], TypeError),
    (lambda m: [1, 2][m.tensor([1, 0])], TypeError),
    (lambda m: f"{m.tensor([1.5, 2.0]):.2f}", TypeError),
    (lambda m: f"{m.tensor([1.5]):.2f}", TypeError),
])
def test_dunder_errors(bad, exc):
    same_error(bad, exc)


def test_format():
    def f(m):
        return (f"{m.tensor(3.14159):.3f}", f"{m.tensor(3):d}", f"{m.tensor(7):>4}", f"{m.tensor([1.5])}",
                f"{m.tensor(2.5)}", "{}".format(m.tensor(1.0)), f"{m.tensor(2.0, requires_grad=True):.1f}",
                f"{m.tensor([1.0, 2.0], requires_grad=True) * 2}")
    same(f)


def test_float_of_tensor_requiring_grad_warns():
    with pytest.warns(UserWarning, match="requires_grad=True to a scalar"):
        assert float(G.tensor(2.5, requires_grad=True)) == 2.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert float(G.tensor(2.5)) == 2.5
        assert int(G.tensor(2.5, requires_grad=True)) == 2


# ---- repr -------------------------------------------------------------------------------------------
REPRS = {
    "leaf_requires_grad": lambda m: m.tensor([1.5, 2.0], requires_grad=True),
    "grad_fn": lambda m: m.tensor([1.5, 2.0], requires_grad=True) * 2,
    "scalar_grad_fn": lambda m: (m.tensor([1.5, 2.0], requires_grad=True) * 2).sum(),
    "float64_requires_grad": lambda m: m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True),
    "float64_grad_fn": lambda m: m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True).exp(),
    "float16": lambda m: m.tensor([1.0, 2.0], dtype=m.float16) * 2,
    "int32": lambda m: m.tensor([1, 2], dtype=m.int32),
    "int64": lambda m: m.tensor([1, 2]),
    "bool": lambda m: m.tensor([True, False]),
    "detached": lambda m: m.tensor([1.5, 2.0], requires_grad=True).detach(),
    "to_float64_grad_fn": lambda m: m.tensor([1.5, 2.0], requires_grad=True).to(m.float64),
    "empty": lambda m: m.zeros(0),
    "empty_2d_requires_grad": lambda m: m.zeros(2, 0, requires_grad=True),
    "matrix_grad_fn": lambda m: m.tensor([[1.0, -2.5], [3.0, 4.25]], requires_grad=True) @ m.eye(2),
    "custom_function": lambda m: _Twice(m).apply(m.tensor([1.0, 2.0], requires_grad=True)),
}


def _Twice(m):  # noqa: N802
    class Twice(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2
    return Twice


@pytest.mark.parametrize("name", sorted(REPRS))
def test_repr_suffixes_match_torch(name):
    assert repr(REPRS[name](G)) == repr(REPRS[name](torch))
    assert str(REPRS[name](G)) == str(REPRS[name](torch))


# ---- pickle and copies ------------------------------------------------------------------------------
def test_pickle_and_deepcopy_of_leaves():
    def f(m):
        x = m.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        (x * x).sum().backward()
        p = pickle.loads(pickle.dumps(x))
        d = copy.deepcopy(x)
        x.grad.zero_()  # the copy's grad is its own
        with m.no_grad():
            x.add_(1)  # and so is its data
        i = pickle.loads(pickle.dumps(m.tensor([1, 2], dtype=m.int16)))
        v = pickle.loads(pickle.dumps(m.arange(6.0).reshape(2, 3)[:, 1]))
        return (p, p.requires_grad, p.is_leaf, p.grad, d, d.requires_grad, d.grad, i, i.dtype, v)
    same(f)


def test_deepcopy_keeps_shared_tensors_shared():
    x = G.ones(2, requires_grad=True)
    a, b = copy.deepcopy([x, x])
    assert a is b and a is not x


def test_deepcopy_of_non_leaf_raises():
    same_error(lambda m: copy.deepcopy(m.ones(2, requires_grad=True) * 2), RuntimeError)


def test_inf_and_nan_arithmetic_is_silent_like_pytorch():
    # a fresh interpreter with Python's default warning filters: what a user sees (pytest installs its own)
    import subprocess
    import sys

    code = ("import glasstorch as t, numpy as np\n"
            "x = t.tensor([1.0, 0.0, -1.0])\n"
            "print((x / 0).tolist(), t.log(x).isnan().tolist(), t.sqrt(x).isnan().tolist())\n"
            "np.array([1.0]) / 0  # NumPy's own warning is left alone\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[inf, nan, -inf] [False, False, True] [False, False, True]"
    assert r.stderr.count("RuntimeWarning") == 1 and "<string>:4" in r.stderr
