"""The per-op fast paths of the autograd core, checked against the general code and PyTorch.

Backward formulas made of arithmetic operators only run on bare arrays when create_graph=False and
on Tensors when create_graph=True: both evaluations must give the same numbers (and the numbers
PyTorch gives). Mixed dtypes must leave the array path (NumPy's promotion is not PyTorch's), nodes
save only what their formula reads yet still refuse a second backward, and the cheap implicit
gradient of `loss.backward()` keeps PyTorch's checks.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import glasstorch
import glasstorch as gt
from _compare import assert_same, assert_same_error

G = glasstorch

# one-input functions whose backward formula is pure arithmetic (the array path), and a few that
# are not, for contrast; inputs are positive so that log/sqrt/pow are defined
UNARY = {
    "mul_scalar": lambda x: x * 1.01,
    "rmul_int": lambda x: 3 * x,
    "add_scalar": lambda x: x + 0.1,
    "sub_scalar": lambda x: x - 0.05,
    "rsub_scalar": lambda x: 1.5 - x,
    "div_scalar": lambda x: x / 3.0,
    "rdiv_scalar": lambda x: 2.0 / x,
    "neg": lambda x: -x,
    "pow_3": lambda x: x ** 3,
    "pow_half": lambda x: x ** 0.5,
    "pow_2": lambda x: x ** 2,
    "pow_0": lambda x: x ** 0,
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "exp": lambda x: x.exp(),
    "expm1": lambda x: x.expm1(),
    "log": lambda x: x.log(),
    "log2": lambda x: x.log2(),
    "log10": lambda x: x.log10(),
    "log1p": lambda x: x.log1p(),
    "sqrt": lambda x: x.sqrt(),
    "rsqrt": lambda x: x.rsqrt(),
    "reciprocal": lambda x: x.reciprocal(),
    "tan": lambda x: (x * 0.3).tan(),
    "floor": lambda x: x.floor(),
    "sin": lambda x: x.sin(),
    "mean": lambda x: x.mean(),
    "mean_dim": lambda x: x.mean(0),
    "sum_dim_keepdim": lambda x: x.sum(1, keepdim=True),
    "chain": lambda x: ((x * 1.01 + 0.1).tanh() - 0.05).exp(),
}


def _input(dtype, shape=(3, 4)):
    rng = np.random.default_rng(7)
    return rng.uniform(0.2, 2.0, size=shape).astype(dtype)


def _grad_of(m, fn, a, create_graph):
    x = m.tensor(a, requires_grad=True)
    y = fn(x)
    g = m.tensor(np.linspace(-1.0, 1.5, num=y.numel()).reshape(tuple(y.shape)).astype(a.dtype))
    (gx,) = m.autograd.grad(y, x, g, create_graph=create_graph)
    return gx.detach()


@pytest.mark.parametrize("name", list(UNARY))
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_array_and_tensor_evaluation_agree_exactly(name, dtype):
    a = _input(dtype)
    fast = _grad_of(G, UNARY[name], a, create_graph=False)
    general = _grad_of(G, UNARY[name], a, create_graph=True)
    assert fast.dtype == general.dtype == G.from_numpy(a).dtype
    np.testing.assert_array_equal(fast.numpy(), general.numpy())


@pytest.mark.parametrize("name", list(UNARY))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_gradients_match_torch(name, dtype):
    a = _input(dtype)
    assert_same(_grad_of(G, UNARY[name], a, False), _grad_of(torch, UNARY[name], a, False))


BINARY = {
    "mul": lambda x, w: x * w,
    "add": lambda x, w: x + w,
    "sub": lambda x, w: x - w,
    "div": lambda x, w: x / w,
    "pow": lambda x, w: x ** w,
    "maximum": lambda x, w: torch_or_glass(x).maximum(x, w),
}


def torch_or_glass(t):
    return torch if isinstance(t, torch.Tensor) else G


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((3, 4), ()), ((4,), (3, 4))])
def test_binary_gradients_with_broadcasting_both_paths(name, shapes):
    rng = np.random.default_rng(3)
    xa = rng.uniform(0.5, 2.0, size=shapes[0]).astype(np.float32)
    wa = rng.uniform(0.5, 2.0, size=shapes[1]).astype(np.float32)

    def grads(m, create_graph):
        x = m.tensor(xa, requires_grad=True)
        w = m.tensor(wa, requires_grad=True)
        y = BINARY[name](x, w)
        g = m.ones_like(y) * 0.5
        return tuple(t.detach() for t in m.autograd.grad(y, (x, w), g, create_graph=create_graph))

    fast, general = grads(G, False), grads(G, True)
    for f, s in zip(fast, general):
        np.testing.assert_array_equal(f.numpy(), s.numpy())
    assert_same(fast, grads(torch, False))


@pytest.mark.parametrize("op", ["mul", "div", "add", "sub"])
def test_mixed_dtypes_take_pytorch_promotion(op):
    # float32 tensor with a float64 0-dim tensor: PyTorch computes in float32 (NumPy would widen)
    def f(m):
        x0 = m.tensor([0.5, 1.0, 2.0], requires_grad=True)
        x = x0 * 1.0
        seen = []
        x.register_hook(lambda g: seen.append(str(g.dtype)))  # the gradient as the op's backward gave it
        w = m.tensor(1.5, dtype=m.float64, requires_grad=True)
        y = {"mul": x * w, "div": x / w, "add": x + w, "sub": x - w}[op]
        gx, gw = m.autograd.grad(y.tanh().sum(), (x0, w))
        return (str(y.dtype), seen), gx, gw

    ours, theirs = f(G), f(torch)
    assert ours[0] == theirs[0] == ("torch.float32", ["torch.float32"])
    # w.grad is float64 but sums float32 values: compare at float32 precision
    assert_same(ours[1:], theirs[1:], tol={"rtol": 1e-5, "atol": 1e-6})


def test_gradient_of_another_dtype_than_the_output():
    def f(m):
        x = m.tensor([0.5, 1.0, 2.0], requires_grad=True)
        y = (x * 2.0).tanh()
        y.backward(m.ones(3, dtype=m.float64))
        return x.grad

    assert_same(f(G), f(torch))


def test_numpy_scalar_operand_keeps_float32():
    def f(m):
        x = m.tensor([0.5, 1.0, 2.0], requires_grad=True)
        y = x * np.float64(2.0) / np.float64(3.0) - np.float32(1.0)
        y.sum().backward()
        return y, x.grad

    assert_same(f(G), f(torch))


@pytest.mark.parametrize("make", [lambda x: x * 3, lambda x: x / 3, lambda x: x.tanh(), lambda x: x * x])
def test_second_backward_through_freed_nodes_raises(make):
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = make(x)
        y.sum().backward()
        y.sum().backward()

    ours, _ = assert_same_error(f)
    assert str(ours).startswith("Trying to backward through the graph a second time")


def test_mul_saves_only_the_operand_its_gradient_reads():
    x = G.randn(3, requires_grad=True)
    c = G.randn(3)
    node = (x * c).grad_fn
    assert node._saved[0] is None and node._saved[1] is c  # grad of x reads c; c needs none
    node = (x * 2.0).grad_fn
    assert node._saved == (None, None) and node.b_scalar == 2.0


def test_in_place_change_of_a_saved_operand_is_still_detected():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        c = m.tensor([3.0, 4.0])
        y = x * c
        c.add_(1.0)
        y.sum().backward()

    assert_same_error(f)


def test_double_backward_through_the_hot_ops():
    def f(m):
        x = m.tensor([0.3, -0.7, 1.1], requires_grad=True)
        y = ((x * 1.01 + 0.1).tanh() - 0.05).sum()
        (gx,) = m.autograd.grad(y, x, create_graph=True)
        (ggx,) = m.autograd.grad(gx.sum(), x)
        return gx, ggx

    assert_same(f(G), f(torch))


def test_implicit_gradient_checks():
    def not_scalar(m):
        m.ones(2, requires_grad=True).mul(2).backward()

    def not_float(m):
        m.ones(2, requires_grad=True).sum().long().backward()

    assert_same_error(not_scalar)
    assert_same_error(not_float)

    def ok(m):
        x = m.tensor([[1.0, 2.0]], dtype=m.float64, requires_grad=True)
        (x * 3).sum().backward()
        x.sum(1, keepdim=True).backward()  # a (1, 1) output is a scalar too
        return x.grad

    assert_same(ok(G), ok(torch))


def test_extra_saved_state_is_released_after_backward():
    x = G.randn(4, requires_grad=True)
    y = G.where(x > 0, x, x * 2)
    node = y.grad_fn
    assert node.cond is not None
    y.sum().backward()
    assert node.cond is None


def test_post_hooks_and_tensor_hooks_still_run():
    x = G.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    seen = []
    y.grad_fn.register_hook(lambda gin, gout: seen.append((gin[0].tolist(), gout[0].tolist())))
    y.register_hook(lambda g: g * 10)
    y.sum().backward()
    assert seen == [([30.0, 30.0], [10.0, 10.0])]
    assert x.grad.tolist() == [30.0, 30.0]


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_relu_gradient_special_values_bit_for_bit(dtype):
    """ReLU's array backward selects with integer bit operations: every value, sign of zero, inf and
    nan included, must equal PyTorch's threshold_backward (a nan output passes its gradient on)."""
    x = np.array([-1.0, 0.0, -0.0, 2.0, np.nan, 3.0, 1.0, 4.0, -5.0, 6.0], dtype=dtype)
    g = np.array([1.0, -2.0, 3.0, -0.0, 5.0, np.inf, np.nan, -np.inf, np.inf, 1e-3], dtype=dtype)
    ours = gt.tensor(x, requires_grad=True)
    gt.relu(ours).backward(gt.tensor(g))
    ref = torch.tensor(x, requires_grad=True)
    torch.relu(ref).backward(torch.tensor(g))
    a, b = ours.grad.numpy(), ref.grad.numpy()
    assert a.dtype == b.dtype
    np.testing.assert_array_equal(a.view(f"i{a.itemsize}"), b.view(f"i{b.itemsize}"))


def test_batch_of_rows_by_index_tensor_matches_torch():
    """x[index] with a 1-D integer index (the mini-batch gather) takes rows, repeats and negatives
    included, and its gradient adds up repeated rows."""
    data = np.arange(24.0).reshape(6, 4)
    idx = [5, 0, 5, -1, 2]
    ours = gt.tensor(data, requires_grad=True)
    ref = torch.tensor(data, requires_grad=True)
    out, rout = ours[gt.tensor(idx)], ref[torch.tensor(idx)]
    np.testing.assert_array_equal(out.detach().numpy(), rout.detach().numpy())
    out.sum().backward()
    rout.sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), ref.grad.numpy())


@pytest.mark.parametrize("bounds", [dict(min=0.0), dict(max=1.0), dict(min=-1.0, max=2.0)])
def test_clamp_gradient_special_values_bit_for_bit(bounds):
    """clamp's backward blocks the gradient outside the bounds with +0.0 (never -0.0 or inf * 0 = nan)."""
    x = np.array([-3.0, -1.0, 0.0, 0.5, 1.0, 2.0, 5.0, np.nan, -2.0, 3.0], dtype=np.float32)
    g = np.array([-1.0, 2.0, -0.0, np.inf, np.nan, -4.0, -np.inf, 1.0, np.inf, -2.0], dtype=np.float32)
    ours = gt.tensor(x, requires_grad=True)
    gt.clamp(ours, **bounds).backward(gt.tensor(g))
    ref = torch.tensor(x, requires_grad=True)
    torch.clamp(ref, **bounds).backward(torch.tensor(g))
    np.testing.assert_array_equal(ours.grad.numpy().view(np.int32), ref.grad.numpy().view(np.int32))


# Python float operands reach NumPy as 0-d arrays of the tensor's dtype, kept between calls
# (backends/cpu.scalar): the result must be what NumPy's own conversion of the float gives, bit for bit,
# including the values a conversion can get wrong (signed zeros, NaN, infinities, overflow to inf,
# underflow to a subnormal or zero, a double that rounds up in float16).
_SPECIAL_FLOATS = [1.01, 0.1, -0.05, 0.0, -0.0, float("nan"), float("inf"), -float("inf"), 1e300, -1e300,
                   1e-300, 3e-42, 65519.0, 1 / 3]


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv"])
def test_float_operands_give_numpys_bits(dtype, op):
    import operator

    from glasstorch.backends import cpu

    fn = getattr(operator, op)
    base = np.array([1.5, -2.25, 0.0, -0.0, 3e-5, 7.0e4 if dtype != "float16" else 6.0e4], dtype)
    with np.errstate(all="ignore"):
        for _ in range(2):  # the second round takes the kept arrays
            for v in _SPECIAL_FLOATS:
                want = fn(base, v)  # NumPy's conversion of the Python float
                got = fn(G.tensor(base), v)._data
                assert got.dtype == want.dtype
                assert got.tobytes() == want.tobytes(), (dtype, op, v)
                if dtype != "float16":  # (PyTorch keeps a float16 op's number in float32: NumPy's differs)
                    assert_same(fn(G.tensor(base), v), fn(torch.tensor(base), v))
    kept = cpu._SCALARS[np.dtype(dtype)]
    assert 0.0 not in kept and not any(k != k for k in kept)  # zeros and NaN are never kept
    assert len(kept) <= cpu._SCALARS_MAX


def test_kept_float_operands_are_bounded():
    from glasstorch.backends import cpu

    x = G.ones(3)
    for i in range(3 * cpu._SCALARS_MAX):  # a schedule: a new number every step
        assert (x * (1.0 + i * 1e-3))[0].item() == np.float32(1.0 + i * 1e-3)
    assert 0 < len(cpu._SCALARS[np.dtype("float32")]) <= cpu._SCALARS_MAX
