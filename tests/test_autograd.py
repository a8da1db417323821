"""The autograd engine against PyTorch: graphs, backward, grad modes, hooks, higher-order
gradients, custom Functions, gradcheck, anomaly detection, version counters and memory release.

Most tests run one function `fn(m)` on both libraries (`m` is `glasstorch` or `torch`) and compare
what comes out, error messages included.
"""
from __future__ import annotations

import contextlib
import gc
import io
import re
import warnings
import weakref

import numpy as np
import pytest
import torch

import glasstorch
from _compare import assert_same, assert_same_error, grad_fn_name, raised

G = glasstorch
BOTH = pytest.mark.parametrize("m", [glasstorch, torch], ids=["glasstorch", "torch"])


def on_both(fn):
    """fn(module) for glasstorch and torch: (ours, theirs)."""
    return fn(glasstorch), fn(torch)


def same(fn, tol=None):
    """fn(module) gives the same result (tensors, tuples, plain values) on both libraries."""
    ours, theirs = on_both(fn)
    assert_same(ours, theirs, tol)
    return ours


def same_error(fn, exc=RuntimeError):
    """fn(module) raises the same exception class and message on both libraries."""
    ours, theirs = assert_same_error(lambda m: fn(m))
    assert isinstance(ours, exc)
    return str(ours)


def node_names(t) -> list:
    """Breadth-first names of the graph behind `t` (None for constant inputs)."""
    out, frontier = [], [t.grad_fn]
    while frontier:
        nxt = []
        for fn in frontier:
            if fn is None:
                out.append(None)
                continue
            out.append(type(fn).__name__)
            nxt.extend(f for f, _ in fn.next_functions)
        frontier = nxt
    return out


# ---- the graph --------------------------------------------------------------------------------------
SEED_002 = """
x = torch.tensor(3.0, requires_grad=True)
a = x * 2
b = a + 5
c = b ** 3
d = torch.sin(c)
print(f"d.grad_fn = {d.grad_fn}")
print(f"  -> {d.grad_fn.next_functions[0][0]}")
print(f"    -> {d.grad_fn.next_functions[0][0].next_functions[0][0]}")
d.backward()
print(f"Gradient of d with respect to x: {x.grad.item():.4f}")
"""


def test_seed_002_graph_walk_prints_torchs_names():
    outputs = []
    for m in (glasstorch, torch):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            exec(SEED_002, {"torch": m})
        outputs.append(re.sub(r"0x[0-9a-f]+", "ADDR", buf.getvalue()))
    assert outputs[0] == outputs[1]
    assert "<SinBackward0 object at ADDR>" in outputs[0]
    assert "<PowBackward0 object at ADDR>" in outputs[0]
    assert "<AddBackward0 object at ADDR>" in outputs[0]
    assert "370.4638" in outputs[0]


GRAPHS = {
    "add_mul_pow": lambda m, x, y: ((x + y) * x) ** 2,
    "sub_div_neg": lambda m, x, y: -(x - y) / (y + 3),
    "mm_sum": lambda m, x, y: (x.reshape(2, 2) @ y.reshape(2, 2)).sum(),
    "matmul_mean": lambda m, x, y: m.matmul(x.reshape(2, 2), y.reshape(2, 2)).mean(),
    "exp_log_sigmoid": lambda m, x, y: m.log(m.exp(x) + m.sigmoid(y)),
    "tanh_relu_sqrt": lambda m, x, y: m.relu(m.tanh(x)) + m.sqrt(y * y + 1),
    "softmax_logsoftmax": lambda m, x, y: m.softmax(x, 0) * m.log_softmax(y, 0),
    "views_and_index": lambda m, x, y: x.view(2, 2).t()[0] * y.unsqueeze(0)[:, 1:3].squeeze(0),
    "constant_operands": lambda m, x, y: x * m.tensor([1.0, 2.0, 3.0, 4.0]) + 1,
    "scalar_pow_rpow": lambda m, x, y: 2 ** x + x ** 0.5 * 0 + y.abs(),
    "reductions": lambda m, x, y: m.stack([x.max(), y.min(), x.sum(), y.mean(), x.prod()]),
    "cat_expand": lambda m, x, y: m.cat([x, y]).unsqueeze(1).expand(8, 2),
}


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_grad_fn_names_and_next_functions_match_torch(name):
    def build(m):
        x = m.tensor([0.5, 1.0, 1.5, 2.0], requires_grad=True)
        y = m.tensor([0.3, -0.2, 0.7, 1.1], requires_grad=True)
        return GRAPHS[name](m, x, y)

    ours, theirs = on_both(build)
    assert node_names(ours) == node_names(theirs)
    assert_same(ours, theirs)


def test_next_functions_are_node_index_pairs_with_accumulate_grad_and_none():
    x = G.tensor([1.0, 2.0], requires_grad=True)
    y = x * G.tensor([3.0, 4.0])
    (mul_in, nr0), (const, nr1) = y.grad_fn.next_functions
    assert type(mul_in).__name__ == "AccumulateGrad" and mul_in.variable is x
    assert mul_in.name() == "torch::autograd::AccumulateGrad"
    assert mul_in.next_functions == ()
    assert const is None and nr0 == nr1 == 0
    # the same leaf always has the same AccumulateGrad while a graph holds it
    z = x + 1
    assert z.grad_fn.next_functions[0][0] is mul_in
    assert re.fullmatch(r"<AccumulateGrad object at 0x[0-9a-f]+>", repr(mul_in))


def test_graph_is_dynamic_control_flow():
    def f(m):
        x = m.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = x
        for i in range(4):
            y = y * 2 if y.sum() < 10 else y - 1
        y.sum().backward()
        return x.grad, y
    same(f)


# ---- backward semantics -----------------------------------------------------------------------------
def test_gradients_accumulate_on_leaves_across_backward_calls():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        first = x.grad.clone()
        (x * 3).sum().backward()
        return first, x.grad
    ours = same(f)
    np.testing.assert_allclose(ours[1].numpy(), [5.0, 7.0])


def test_backward_with_gradient_argument():
    def f(m):
        x = m.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = x * x
        y.backward(m.tensor([[1.0, 0.5], [-1.0, 2.0]]))
        return x.grad
    same(f)


def test_backward_on_leaf_and_on_non_float_gradient_values():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        x.backward(m.tensor([3.0, 4.0]))
        x.sum().backward()
        return x.grad
    same(f)


def test_backward_non_scalar_without_gradient_raises():
    msg = same_error(lambda m: (m.ones(2, requires_grad=True) * 2).backward())
    assert msg == "grad can be implicitly created only for scalar outputs"


def test_backward_gradient_shape_mismatch_raises():
    same_error(lambda m: (m.ones(2, requires_grad=True) * 2).backward(m.ones(3)))


def test_backward_on_tensor_without_graph_raises():
    same_error(lambda m: m.ones(2).sum().backward())


def test_second_backward_through_freed_graph_raises():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        y.backward()
        y.backward()
    msg = same_error(f)
    assert msg.startswith("Trying to backward through the graph a second time")


def test_retain_graph_allows_second_backward():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = (x.exp() * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return x.grad
    same(f)


def test_non_leaf_grad_is_none_and_warns_without_retain_grad():
    x = G.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.sum().backward()
    with pytest.warns(UserWarning, match="not a leaf Tensor"):
        assert y.grad is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is not None  # leaves never warn


def test_retain_grad_keeps_non_leaf_gradients_and_accumulates():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.retain_grad()
        y.retain_grad()  # twice is the same as once
        z = (y * y).sum()
        z.backward(retain_graph=True)
        first = y.grad.clone()
        z.backward()
        return first, y.grad, y.retains_grad, x.retains_grad, x.grad
    same(f)


def test_retain_grad_errors_on_tensor_without_grad():
    same_error(lambda m: m.ones(2).retain_grad())


def test_chain_of_10000_ops_has_no_recursion_error():
    def f(m):
        x = m.tensor(1.0, requires_grad=True)
        y = x
        for _ in range(10_000):
            y = y * 1.0001
        y.backward()
        return x.grad
    same(f, tol=dict(rtol=1e-4, atol=0))


def test_chain_of_100000_cheap_ops():
    x = G.tensor(1.0, dtype=G.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + x
    y.backward()
    assert x.grad.item() == 100_001.0
    del y  # freeing a deep graph must not overflow the stack either


def test_diamond_graph_and_tensor_used_many_times():
    def f(m):
        x = m.tensor([0.5, -1.0, 2.0], requires_grad=True)
        a = x * 2
        b, c = a.sin(), a.cos()  # diamond: a feeds two branches that join again
        d = b * c + a
        e = x + x + x * x + x.exp() * x
        (d.sum() + e.sum() + sum(x[i] * x[i] for i in range(3))).backward()
        return x.grad
    same(f)


def test_shared_subgraph_used_by_two_roots():
    def f(m):
        x = m.tensor([0.5, 1.5], requires_grad=True)
        h = (x * x).tanh()
        m.autograd.backward([h.sum(), (h * 3).mean()])
        return x.grad
    same(f)


@pytest.mark.parametrize("kind", ["getitem_list", "getitem_tensor", "index_select", "gather", "expand"])
def test_repeated_indices_accumulate(kind):
    def f(m):
        x = m.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        idx = m.tensor([0, 0, 2, 0, 3])
        y = {"getitem_list": lambda: x[[0, 0, 1]],
             "getitem_tensor": lambda: x[idx],
             "index_select": lambda: x.index_select(0, idx),
             "gather": lambda: x.gather(0, idx),
             "expand": lambda: x[1:2].expand(5)}[kind]()
        (y * m.arange(1.0, y.shape[0] + 1)).sum().backward()
        return x.grad
    same(f)


def test_backward_inputs_argument_only_fills_those():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        w = m.tensor([3.0, 4.0], requires_grad=True)
        (x * w).sum().backward(inputs=[w])
        return x.grad is None, w.grad
    same(f)
    same_error(lambda m: (m.ones(2, requires_grad=True) * 2).sum().backward(inputs=[]))


# ---- grad modes -------------------------------------------------------------------------------------
def test_no_grad_enable_grad_set_grad_enabled_nested():
    def f(m):
        x = m.ones(2, requires_grad=True)
        seen = []
        with m.no_grad():
            seen.append((x * 2).requires_grad)
            with m.enable_grad():
                seen.append((x * 2).requires_grad)
                with m.set_grad_enabled(False):
                    seen.append((x * 2).requires_grad)
                seen.append(m.is_grad_enabled())
            seen.append(m.is_grad_enabled())
        seen.append(m.is_grad_enabled())
        m.set_grad_enabled(False)  # as a plain call it switches immediately
        seen.append((x * 2).requires_grad)
        m.set_grad_enabled(True)
        seen.append((x * 2).requires_grad)
        return seen
    assert same(f) == [False, True, False, True, False, True, False, True]


def test_grad_mode_decorators_with_and_without_parentheses():
    def f(m):
        x = m.ones(2, requires_grad=True)

        @m.no_grad()
        def a():
            return (x * 2).requires_grad

        @m.no_grad
        def b():
            return (x * 2).requires_grad

        @m.enable_grad()
        def c():
            return (x * 2).requires_grad

        @m.set_grad_enabled(False)
        def d():
            return (x * 2).requires_grad

        @m.inference_mode()
        def e():
            return (x * 2).requires_grad, m.is_inference_mode_enabled()

        after_decorating = m.is_grad_enabled()  # set_grad_enabled as decorator must not leak
        with m.no_grad():
            inside = c()
        return a(), b(), inside, d(), e(), after_decorating, m.is_grad_enabled(), a.__name__
    assert same(f) == (False, False, True, False, (False, True), True, True, "a")


def test_grad_mode_restored_after_exception():
    for m in (G, torch):
        with pytest.raises(ZeroDivisionError):
            with m.no_grad():
                1 / 0
        assert m.is_grad_enabled()


def test_inference_mode():
    def f(m):
        x = m.ones(2, requires_grad=True)
        with m.inference_mode():
            y = x * 2
            inside = m.is_inference_mode_enabled(), m.is_grad_enabled()
        with m.inference_mode(False):
            z = x * 2
        return y.requires_grad, z.requires_grad, inside, m.is_inference_mode_enabled()
    assert same(f) == (False, True, (True, False), False)


def test_detach_and_detach_():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        d = y.detach()
        d[0] = 10.0  # a detached tensor shares data and version counter
        y2 = x * 3
        y2.detach_()
        return d.requires_grad, d.is_leaf, y, y._version, d._version, y2.requires_grad, y2.is_leaf, y2.grad_fn
    same(f)


# ---- hooks ------------------------------------------------------------------------------------------
def test_hooks_on_leaf_and_non_leaf_replace_the_gradient():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        seen = []
        x.register_hook(lambda g: seen.append(g.clone()))
        x.register_hook(lambda g: g * 3)  # registered before x is used: must still run
        y = x * x
        y.register_hook(lambda g: g + 1)
        (y * 2).sum().backward()
        return x.grad, seen
    same(f)


def test_leaf_hook_sees_the_summed_gradient_once():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        calls = []
        x.register_hook(lambda g: calls.append(g.clone()))
        (x * 2 + x * x + x).sum().backward()
        return calls
    assert len(same(f)) == 1


def test_hook_handle_remove():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        h = x.register_hook(lambda g: g * 10)
        y = x * 2
        hy = y.register_hook(lambda g: g * 100)
        y.sum().backward(retain_graph=True)
        first = x.grad.clone()
        h.remove()
        hy.remove()
        x.grad = None
        y.sum().backward()
        return first, x.grad
    same(f)


def test_retain_grad_sees_gradient_after_hooks():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.retain_grad()
        y.register_hook(lambda g: g * 3)
        y.sum().backward()
        return y.grad, x.grad
    same(f)


def test_register_hook_on_tensor_without_grad_raises():
    same_error(lambda m: m.ones(2).register_hook(lambda g: g))


def test_node_post_hook_and_prehook():
    x = G.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    calls = []
    y.grad_fn.register_prehook(lambda g: g * 2)
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: calls.append((grad_inputs, grad_outputs)))
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])
    (gi,), (go,) = calls[0][0][:1], calls[0][1]
    np.testing.assert_allclose(gi.numpy(), [6.0, 6.0])
    np.testing.assert_allclose(go.numpy(), [2.0, 2.0])


# ---- autograd.grad and higher order -----------------------------------------------------------------
rng = np.random.default_rng(0)
X34 = rng.standard_normal((3, 4))
W42 = rng.standard_normal((4, 2))
V34 = rng.standard_normal((3, 4))

SECOND_ORDER = {
    "pow3": lambda m, x: (x ** 3).sum(),
    "sin": lambda m, x: m.sin(x).sum(),
    "exp_tanh": lambda m, x: (m.exp(x) * m.tanh(x)).sum(),
    "sigmoid": lambda m, x: m.sigmoid(x).pow(2).sum(),
    "matmul_chain": lambda m, x: m.tanh(x @ m.tensor(W42)).matmul(m.tensor(W42.T)).pow(2).sum(),
    "x_xT": lambda m, x: (x @ x.T).pow(2).sum(),
    "softmax": lambda m, x: (m.softmax(x, 1) * m.tensor(V34)).sum(),
    "log_softmax": lambda m, x: (m.log_softmax(x, 1) ** 2).sum(),
    "sum_mean": lambda m, x: (x.sum(0) ** 2).mean() + x.mean(1).pow(3).sum(),
    "prod_sqrt_log": lambda m, x: x[:, :2].prod(1).sum() + (x * x + 1).sqrt().log().sum(),
    "logsumexp_norm_var": lambda m, x: m.logsumexp(x, 1).pow(2).sum() + x.norm() ** 3 + x.var(1).sum(),
    "std_amax_max": lambda m, x: x.std(0).pow(3).sum() + (x.amax(1) ** 2).sum() + x.max() ** 3,
    "div_abs_where": lambda m, x: (1 / (x * x + 1) + m.where(x > 0, x ** 2, x.abs() ** 3)).sum(),
}


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_second_derivatives_match_torch(name):
    def f(m):
        x = m.tensor(X34, requires_grad=True)
        (g,) = m.autograd.grad(SECOND_ORDER[name](m, x), x, create_graph=True)
        (h,) = m.autograd.grad((g * m.tensor(V34)).sum(), x)  # Hessian-vector product
        return g.detach(), h, g.requires_grad, x.grad is None
    same(f)


def test_third_derivative_of_exp_times_tanh():
    def f(m):
        x = m.tensor(np.array([0.3, -1.2]), requires_grad=True)
        y = (m.exp(x) * m.tanh(x)).sum()
        (g,) = m.autograd.grad(y, x, create_graph=True)
        (h,) = m.autograd.grad(g.sum(), x, create_graph=True)
        (k,) = m.autograd.grad(h.sum(), x)
        return g, h, k
    same(f)


def test_hvp_matches_torch_autograd_functional():
    def fn(x):
        return (torch.tanh(x @ torch.tensor(W42)) ** 2).sum() + (x ** 4).sum()

    v = torch.tensor(V34)
    _, expected = torch.autograd.functional.hvp(fn, torch.tensor(X34), v)

    x = G.tensor(X34, requires_grad=True)
    y = (G.tanh(x @ G.tensor(W42)) ** 2).sum() + (x ** 4).sum()
    (g,) = G.autograd.grad(y, x, create_graph=True)
    (hv,) = G.autograd.grad(g, x, grad_outputs=G.tensor(V34))
    np.testing.assert_allclose(hv.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)


FUNCTIONAL = {
    "jacobian_scalar": lambda m, a, b, cg: m.autograd.functional.jacobian(
        lambda x: (x.exp() * x.sin()).sum(), a, create_graph=cg),
    "jacobian_tuples": lambda m, a, b, cg: m.autograd.functional.jacobian(
        lambda x, w: (w @ x, (w * w).sum() * x), (a, b), create_graph=cg),
    "hessian_one_input": lambda m, a, b, cg: m.autograd.functional.hessian(
        lambda x: (x.exp() * x.sin()).sum(), a, create_graph=cg),
    "hessian_two_inputs": lambda m, a, b, cg: m.autograd.functional.hessian(
        lambda x, w: ((w @ x).tanh() ** 2).sum(), (a, b), create_graph=cg),
    "vjp": lambda m, a, b, cg: m.autograd.functional.vjp(
        lambda x: (x ** 2, x.sum() * x), a, (a * 0 + 1, a.flip(0)), create_graph=cg),
    "jvp": lambda m, a, b, cg: m.autograd.functional.jvp(
        lambda x, w: (w @ x, (w * w).sum()), (a, b), (a.flip(0), b * 2), create_graph=cg),
    "hvp": lambda m, a, b, cg: m.autograd.functional.hvp(
        lambda x, w: ((w @ x).tanh() ** 2).sum(), (a, b), (a.flip(0), b * 2), create_graph=cg),
    "vhp": lambda m, a, b, cg: m.autograd.functional.vhp(
        lambda x: (x.exp() * x.sin()).sum(), a, a.flip(0), create_graph=cg),
}


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name", sorted(FUNCTIONAL))
def test_autograd_functional_matches_torch(name, create_graph):
    def f(m):
        out = FUNCTIONAL[name](m, m.tensor(X34[0, :3]), m.tensor(X34[1:, :3]), create_graph)
        flat = out if isinstance(out, tuple) else (out,)
        flags = [t.requires_grad for t in flat if not isinstance(t, tuple)]
        return out, flags
    same(f)


def test_double_backward_through_backward_create_graph():
    def f(m):
        x = m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True)
        (x ** 3).sum().backward(create_graph=True)
        g = x.grad
        x.grad = None
        g.sum().backward()
        return g.detach(), x.grad
    same(f)


def test_create_graph_leaf_gradients_are_not_aliased():
    def f(m):
        a = m.ones(2, requires_grad=True)
        b = m.ones(2, requires_grad=True)
        ((a + b) ** 2).sum().backward(create_graph=True)
        with m.no_grad():
            a.grad.mul_(5)
        return a.grad.detach(), b.grad.detach()
    same(f)


def test_grad_with_several_outputs_inputs_and_grad_outputs():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        w = m.tensor([0.5, -1.0], requires_grad=True)
        y1, y2 = x * w, (x ** 2).sum()
        return m.autograd.grad([y1, y2], [x, w], grad_outputs=[m.tensor([1.0, 3.0]), None])
    same(f)


def test_grad_wrt_non_leaf_and_does_not_touch_leaf_grad():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        h = x * 3
        z = (h * h).sum()
        gh, gx = m.autograd.grad(z, [h, x])
        return gh, gx, x.grad is None, h.requires_grad
    same(f)


def test_grad_allow_unused_and_materialize_grads():
    def unused(m, **kw):
        x = m.ones(2, requires_grad=True)
        z = m.ones(2, requires_grad=True)
        return m.autograd.grad((x * 2).sum(), [x, z], **kw)

    msg = same_error(unused)
    assert "index 1 appears to not have been used in the graph" in msg
    assert same(lambda m: unused(m, allow_unused=True))[1] is None
    same(lambda m: unused(m, materialize_grads=True))
    same_error(lambda m: unused(m, allow_unused=False, materialize_grads=True), ValueError)


def test_grad_errors():
    same_error(lambda m: m.autograd.grad((m.ones(2, requires_grad=True) * 2).sum(), m.ones(2)))
    same_error(lambda m: m.autograd.grad((m.ones(2, requires_grad=True) * 2).sum(), []))
    same_error(lambda m: m.autograd.grad(m.ones(2, requires_grad=True) * 2, m.ones(1)))


def test_grad_only_runs_the_needed_part_of_the_graph():
    calls = []

    class Spy(G.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            calls.append(1)
            return g

    x = G.ones(2, requires_grad=True)
    w = G.ones(2, requires_grad=True)
    y = (Spy.apply(w) * x).sum()
    (gx,) = G.autograd.grad(y, x)
    np.testing.assert_allclose(gx.numpy(), [1.0, 1.0])
    assert calls == []  # nothing below w's branch was needed for d y / d x


# ---- custom Function ----------------------------------------------------------------------------------
def make_functions(m):
    class MulAdd(m.autograd.Function):
        """(a * b * k + 1, a - b): two outputs, a non-tensor argument and a default one."""

        @staticmethod
        def forward(ctx, a, b, k, flag=False):
            ctx.save_for_backward(a, b)
            ctx.k = k
            return a * b * k + 1, a - b

        @staticmethod
        def backward(ctx, g1, g2):
            a, b = ctx.saved_tensors
            ga = g1 * b * ctx.k + g2 if ctx.needs_input_grad[0] else None
            gb = g1 * a * ctx.k - g2 if ctx.needs_input_grad[1] else None
            return ga, gb, None, None  # an extra trailing None is allowed

    class Square(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    class WrongSquare(Square):
        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x * g

    class SortVals(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            vals, idx = x.sort()
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(idx)
            return vals, idx

        @staticmethod
        @m.autograd.function.once_differentiable
        def backward(ctx, gv, gi):
            (idx,) = ctx.saved_tensors
            out = m.zeros_like(gv)
            out[idx] = gv
            return out

    return MulAdd, Square, WrongSquare, SortVals


def test_function_multiple_outputs_and_non_tensor_args():
    def f(m):
        MulAdd, *_ = make_functions(m)
        a = m.tensor([1.0, 2.0], requires_grad=True)
        b = m.tensor([3.0, 4.0])
        o1, o2 = MulAdd.apply(a, b, 2.0)
        (o1.sum() + 3 * o2.sum()).backward()
        fn = o1.grad_fn
        return (a.grad, o1, o2, fn.name(), type(fn).__name__, fn is o2.grad_fn, fn.needs_input_grad,
                [type(n).__name__ if n is not None else None for n, _ in fn.next_functions],
                [i for _, i in fn.next_functions], fn.k)
    same(f)
    ours = make_functions(G)[0].apply(G.ones(1, requires_grad=True), G.ones(1), 1.0)[0].grad_fn
    assert re.fullmatch(r"<torch\.autograd\.function\.MulAddBackward object at 0x[0-9a-f]+>", repr(ours))


def test_function_second_output_only_and_both_need_grad():
    def f(m):
        MulAdd, *_ = make_functions(m)
        a = m.tensor([1.0, 2.0], requires_grad=True)
        b = m.tensor([3.0, 4.0], requires_grad=True)
        o1, o2 = MulAdd.apply(a, b, 2.0)
        (o2 * m.tensor([5.0, 7.0])).sum().backward(retain_graph=True)
        first = a.grad.clone(), b.grad.clone()
        o1.sum().backward()
        return first, a.grad, b.grad
    same(f)


def test_function_hook_on_second_output():
    def f(m):
        MulAdd, *_ = make_functions(m)
        a = m.tensor([1.0, 2.0], requires_grad=True)
        o1, o2 = MulAdd.apply(a, m.tensor([3.0, 4.0]), 2.0)
        o2.register_hook(lambda g: g * 10)
        o2.retain_grad()
        (o1 + o2).sum().backward()
        return a.grad, o2.grad
    same(f)


def test_function_mark_non_differentiable_and_once_differentiable():
    def f(m):
        *_, SortVals = make_functions(m)
        x = m.tensor([3.0, 1.0, 2.0], requires_grad=True)
        v, i = SortVals.apply(x)
        (v * m.tensor([1.0, 2.0, 3.0])).sum().backward()
        return x.grad, v.requires_grad, i.requires_grad, i.grad_fn, v.grad_fn.name()
    same(f)


def test_once_differentiable_refuses_double_backward():
    def f(m):
        *_, SortVals = make_functions(m)
        x = m.tensor([3.0, 1.0, 2.0], requires_grad=True)
        v, _ = SortVals.apply(x)
        (g,) = m.autograd.grad((v * v).sum(), x, create_graph=True)
        g.sum().backward()
    msg = same_error(f)
    assert "once_differentiable" in msg


def test_function_double_backward_and_gradchecks():
    def f(m):
        _, Square, *_ = make_functions(m)
        x = m.tensor([3.0, 1.0, 2.0], dtype=m.float64, requires_grad=True)
        y = Square.apply(x)
        (g,) = m.autograd.grad(y.sum(), x, create_graph=True)
        (h,) = m.autograd.grad(g.sum(), x)
        return y, g, h, m.autograd.gradcheck(Square.apply, (x,)), m.autograd.gradgradcheck(Square.apply, (x,))
    same(f)


def test_function_without_grad_needed_returns_plain_outputs():
    def f(m):
        _, Square, *_ = make_functions(m)
        y = Square.apply(m.tensor([3.0]))
        with m.no_grad():
            z = Square.apply(m.tensor([3.0], requires_grad=True))
        return y.requires_grad, y.grad_fn, z.requires_grad
    same(f)


def test_function_returning_its_input_and_saved_tensors_freed():
    def f(m):
        class Ident(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 2

        _, Square, *_ = make_functions(m)
        x = m.tensor([3.0], requires_grad=True)
        y = Ident.apply(x)
        y.sum().backward()
        s = Square.apply(x)
        s.sum().backward()
        err = raised(lambda: s.grad_fn.saved_tensors)
        return x.grad, y is x, y.is_leaf, type(err).__name__, str(err)
    same(f)


def test_function_setup_context_style():
    def f(m):
        class Cube(m.autograd.Function):
            @staticmethod
            def forward(x):
                return x ** 3

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.save_for_backward(inputs[0])

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 3 * x * x * g

        x = m.tensor([1.0, 2.0], requires_grad=True)
        Cube.apply(x).sum().backward()
        return x.grad
    same(f)


def test_function_backward_errors():
    def wrong_count(m):
        class F(m.autograd.Function):
            @staticmethod
            def forward(ctx, x, y):
                return x * y

            @staticmethod
            def backward(ctx, g):
                return g

        F.apply(m.ones(2, requires_grad=True), m.ones(2)).sum().backward()

    def wrong_shape(m):
        class F(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x.sum()

            @staticmethod
            def backward(ctx, g):
                return g.expand(3)

        F.apply(m.ones(2, requires_grad=True)).backward()

    same_error(wrong_count)
    same_error(wrong_shape)


def test_function_saved_tensor_modified_in_place():
    def f(m):
        _, Square, *_ = make_functions(m)
        x = m.tensor([1.0, 2.0], requires_grad=True)
        h = x * 1
        y = Square.apply(h)
        h.add_(1)
        y.sum().backward()
    assert "modified by an inplace operation" in same_error(f)


# ---- gradcheck -------------------------------------------------------------------------------------
def test_gradcheck_and_gradgradcheck_pass_on_correct_functions():
    for m in (G, torch):
        m.manual_seed(0)
        x = m.randn(3, 4, dtype=m.float64, requires_grad=True)
        w = m.randn(4, 2, dtype=m.float64, requires_grad=True)
        f = lambda x, w: m.log_softmax(m.tanh(x @ w), 1)  # noqa: E731
        assert m.autograd.gradcheck(f, (x, w))
        assert m.autograd.gradgradcheck(f, (x, w))
        assert m.autograd.gradcheck(lambda x, k: (x * k, x.sum()), (x, 3))  # non-tensor arg, two outputs
        assert x.grad is None and w.grad is None  # gradcheck leaves .grad alone


def test_gradcheck_raises_gradcheck_error_on_wrong_function():
    def f(m):
        _, _, WrongSquare, _ = make_functions(m)
        x = m.tensor([3.0, 1.0, 2.0], dtype=m.float64, requires_grad=True)
        return m.autograd.gradcheck(WrongSquare.apply, (x,))

    ours = raised(f, G)
    theirs = raised(f, torch)
    assert isinstance(ours, G.autograd.GradcheckError) and isinstance(ours, RuntimeError)
    assert str(ours) == str(theirs)

    def quiet(m):
        _, _, WrongSquare, _ = make_functions(m)
        x = m.tensor([3.0, 1.0], dtype=m.float64, requires_grad=True)
        return m.autograd.gradcheck(WrongSquare.apply, (x,), raise_exception=False)
    assert same(quiet) is False


def test_gradgradcheck_catches_wrong_second_derivative():
    class BadDouble(G.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * (x * x).detach() * g  # right first derivative, no second

    x = G.tensor([1.0, 2.0], dtype=G.float64, requires_grad=True)
    assert G.autograd.gradcheck(BadDouble.apply, (x,))
    with pytest.raises(G.autograd.GradcheckError):
        G.autograd.gradgradcheck(BadDouble.apply, (x,))


def test_gradcheck_requires_an_input_needing_grad():
    ours, theirs = raised(G.autograd.gradcheck, lambda x: x, (G.ones(2),)), \
        raised(torch.autograd.gradcheck, lambda x: x, (torch.ones(2),))
    assert type(ours) is type(theirs) is ValueError and str(ours) == str(theirs)


# ---- anomaly detection -----------------------------------------------------------------------------
def test_detect_anomaly_names_the_node_and_shows_the_forward_line():
    for m in (G, torch):
        x = m.zeros(1, requires_grad=True)
        with pytest.warns(UserWarning) as record:
            with m.autograd.detect_anomaly():
                y = x / x  # THE FORWARD LINE
                with pytest.raises(RuntimeError) as err:
                    y.backward(m.ones(1))
        assert str(err.value) == "Function 'DivBackward0' returned nan values in its 1th output."
        messages = [str(r.message) for r in record]
        assert any("Anomaly Detection has been enabled" in s for s in messages)
        trace = [s for s in messages if s.startswith("Error detected in DivBackward0")]
        assert trace and "y = x / x  # THE FORWARD LINE" in trace[0]
        assert not m.is_anomaly_enabled()


def test_set_detect_anomaly_and_0th_output():
    def f(m):
        x = m.zeros(1, requires_grad=True)
        m.autograd.set_detect_anomaly(True)
        try:
            y = m.sqrt(x) * 0  # MulBackward0 multiplies 0 by sqrt's inf: nan in its 0th output
            (y / x.detach()).sum().backward()
        finally:
            m.autograd.set_detect_anomaly(False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert same_error(f) == "Function 'MulBackward0' returned nan values in its 0th output."
    assert not G.autograd.is_anomaly_enabled()


def test_no_nan_check_without_anomaly_mode_or_with_check_nan_false():
    for m in (G, torch):
        x = m.zeros(1, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (x / x).backward(m.ones(1))
            with m.autograd.detect_anomaly(check_nan=False):
                (x / x).backward(m.ones(1))
        assert bool(x.grad.isnan().all())


# ---- version counter and in-place ops ----------------------------------------------------------------
INPLACE_AFTER_SAVE = {
    "saved_input": lambda m, x: (lambda a: (a * a, a.add_(1)))(x * 1)[0],
    "saved_output_exp": lambda m, x: (lambda y: (y, y.add_(1)))(x.exp())[0],
    "saved_output_sigmoid": lambda m, x: (lambda y: (y, y.mul_(2)))(m.sigmoid(x))[0],
    "saved_output_tanh_via_view": lambda m, x: (lambda y: (y, y[1:].zero_()))(m.tanh(x))[0],
    "through_detached": lambda m, x: (lambda a: (a.sin(), a.detach().add_(1)))(x * 1)[0],
    "constant_operand": lambda m, x: (lambda c: (x * c, c.add_(1)))(m.ones(3))[0],
    "leaf_data_via_detach": lambda m, x: (lambda y: (y, x.detach().mul_(2)))(x.sin())[0],
}


@pytest.mark.parametrize("name", sorted(INPLACE_AFTER_SAVE))
def test_inplace_after_save_raises_torchs_error(name):
    msg = same_error(lambda m: INPLACE_AFTER_SAVE[name](m, m.ones(3, requires_grad=True)).sum().backward())
    assert msg.startswith("one of the variables needed for gradient computation has been modified by an "
                          "inplace operation: [torch.FloatTensor [3]]")


def test_inplace_through_view_after_save_raises():
    def f(m):
        a = m.ones(3, requires_grad=True) * 1
        y = a.sin()
        a.view(3, 1)[0].mul_(2)  # the view shares a's version counter
        y.sum().backward()
    ours, theirs = assert_same_error(f, message=False)
    # PyTorch names the base's new grad_fn (CopySlices), which glasstorch does not have yet
    assert str(ours).split(", which is")[0] == str(theirs).split(", which is")[0]
    assert "is at version 1; expected version 0 instead" in str(ours)


def test_inplace_error_names_sigmoid_output():
    msg = same_error(lambda m: INPLACE_AFTER_SAVE["saved_output_sigmoid"](m, m.ones(3, requires_grad=True))
                     .sum().backward())
    assert ", which is output 0 of Sigmoid, is at version 1; expected version 0 instead. Hint:" in msg


def test_version_counter_counts_inplace_ops_and_is_shared_by_views():
    def f(m):
        x = m.zeros(2, 3)
        v = x[0]
        t = x.t()
        versions = [x._version]
        x.add_(1)
        v.mul_(2)
        t[1, 1] = 5.0
        x.zero_()
        versions += [x._version, v._version, t._version, (x + 1)._version]
        return versions
    same(f)


def test_inplace_on_leaf_requiring_grad_raises():
    msg = same_error(lambda m: m.ones(3, requires_grad=True).add_(1))
    assert msg == "a leaf Variable that requires grad is being used in an in-place operation."
    same_error(lambda m: m.ones(3, requires_grad=True).relu_())
    # PyTorch words x[0] = v as "a view of a leaf Variable ..."
    ours, _ = assert_same_error(lambda m: m.ones(3, requires_grad=True).__setitem__(0, 2.0), message=False)
    assert "leaf Variable that requires grad is being used in an in-place operation." in str(ours)


def test_no_grad_update_of_leaves_as_in_the_seeds():
    def f(m):
        w = m.tensor([1.0, -2.0, 3.0], requires_grad=True)
        b = m.tensor(0.5, requires_grad=True)
        for _ in range(3):
            loss = ((w * 2 + b) ** 2).mean()
            loss.backward()
            with m.no_grad():
                w -= 0.1 * w.grad
                b -= 0.1 * b.grad
                w.grad.zero_()
                b.grad.zero_()
        return w, b, w.is_leaf, w.requires_grad, w.grad_fn, w._version
    same(f)


def test_inplace_ops_on_non_leaves_give_correct_gradients():
    def f(m):
        x = m.tensor([1.0, -2.0, 3.0, -4.0], requires_grad=True)
        v = m.tensor([5.0, 6.0], requires_grad=True)
        y = x * 2
        y.mul_(x)
        y.add_(x, alpha=3)
        y.sub_(1).div_(2)
        z = y.clone()
        z[m.tensor([0, 2])] = v * 2
        z.masked_fill_(m.tensor([False, True, False, False]), 0.5)
        s = z.sigmoid()  # saves its own output, not z
        z.relu_()
        w = y * 3
        w.sigmoid_()
        (z * m.arange(1.0, 5.0) + s + w).sum().backward()
        return x.grad, v.grad, z.grad_fn.name(), y.grad_fn.name(), w.grad_fn.name(), z._version, y._version
    same(f)


def test_setitem_with_value_requiring_grad_into_plain_tensor():
    def f(m):
        v = m.tensor([1.0, 2.0], requires_grad=True)
        out = m.zeros(2, 3)
        out[:, 1] = v * v
        out[0, 0] = v[1]
        (out * m.arange(6.0).reshape(2, 3)).sum().backward()
        return v.grad, out.requires_grad, out.is_leaf
    same(f)


VIEW_INPLACE = {
    "slice_of_non_leaf": lambda m, x: (lambda a: (a[1:3].mul_(3), a)[1])(x * 1),
    "row_of_reshaped_non_leaf": lambda m, x: (lambda a: (a.view(2, 2)[0].mul_(2), a)[1])(x * 1),
    "setitem_on_view_of_view": lambda m, x: (lambda a: (a[1:][0:2].__setitem__(0, x[0] * 7), a)[1])(x * 1),
    "constant_base_gets_graph": lambda m, x: (lambda z: (z[1:3].add_(x[:2] * x[2:]), z)[1])(m.zeros(4)),
    "view_used_after": lambda m, x: (lambda a: (lambda v: (v.mul_(x[3]), a * v.sum())[1])(a[::2]))(x * 2),
}


@pytest.mark.parametrize("name", sorted(VIEW_INPLACE))
def test_inplace_through_view_of_non_leaf_updates_base_gradient(name):
    def f(m):
        x = m.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        a = VIEW_INPLACE[name](m, x)
        (a * a).sum().backward()
        return x.grad
    same(f)


def test_inplace_on_view_of_leaf_requiring_grad_raises():
    same_error(lambda m: m.ones(3, requires_grad=True)[0].add_(1))


def test_retain_grad_follows_inplace_op():
    def f(m):
        x = m.ones(2, requires_grad=True)
        y = x * 1
        y.retain_grad()
        y.mul_(3)
        (y * 5).sum().backward()
        return y.grad, x.grad
    same(f)


# ---- gradient aliasing ------------------------------------------------------------------------------
def test_leaf_gradients_are_not_aliased():
    def f(m):
        a = m.ones(2, requires_grad=True)
        b = m.ones(2, requires_grad=True)
        (a + b).sum().backward()
        a.grad.mul_(5)
        g = m.ones(2)
        c = m.ones(2, requires_grad=True)
        (c * 1).backward(g)
        g.mul_(7)
        d = m.ones(2, requires_grad=True)
        d.backward(g)
        g.mul_(3)
        return a.grad, b.grad, c.grad, d.grad
    same(f)


def test_gradient_kept_by_a_hook_is_not_the_leaf_grad():
    def f(m):
        x = m.ones(2, requires_grad=True)
        kept = []
        x.register_hook(lambda g: kept.append(g))
        (x * 2).sum().backward()
        x.grad.mul_(10)
        return kept[0], x.grad
    same(f)


# ---- memory -------------------------------------------------------------------------------------------
def test_saved_tensors_are_freed_after_backward():
    x = G.randn(10, requires_grad=True)
    y = x.exp()
    z = (y * x).sum()
    nodes = [z.grad_fn.next_functions[0][0], y.grad_fn]
    assert all(n._saved for n in nodes)
    z.backward()
    assert all(n._saved is None for n in nodes)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        nodes[0].saved_tensors


def test_retain_graph_keeps_saved_tensors():
    x = G.randn(10, requires_grad=True)
    z = (x.exp() * x).sum()
    z.backward(retain_graph=True)
    assert z.grad_fn.next_functions[0][0]._saved is not None


def test_large_intermediate_dies_after_backward_without_gc():
    gc.disable()
    try:
        x = G.randn(500, 500, requires_grad=True)
        big = x * 2
        big_ref, array_ref = weakref.ref(big), weakref.ref(big._data)
        out = (big * big).sum()
        del big
        assert big_ref() is not None  # the graph still needs it
        out.backward()
        del out
        assert big_ref() is None and array_ref() is None
    finally:
        gc.enable()


def test_graph_dies_with_its_output():
    x = G.randn(100, requires_grad=True)
    y = x.exp().sin() * 3
    node_ref = weakref.ref(y.grad_fn.next_functions[0][0])
    del y
    gc.collect()
    assert node_ref() is None
    assert grad_fn_name(x * 2) == "MulBackward0"
