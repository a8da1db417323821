"""What running everyday programs (tests/programs) found missing or different, each checked against PyTorch.

- out=: torch.matmul(a, b, out=c), torch.mul(a, b, out=c) (the 60-minute blitz) and the other everyday
  top-level functions write into `out` (glasstorch/_ops/out.py).
- nn.Linear's node lists its inputs in PyTorch's order, addmm(bias, x, W.T): the blitz walks
  `loss.grad_fn.next_functions[0][0].next_functions[0][0]` and prints the bias's AccumulateGrad.
- torch.tensor([...]) of NumPy arrays or scalars or tensors takes their dtypes into account.
- the settings a `seed_everything` helper calls: set_num_threads, use_deterministic_algorithms,
  set_float32_matmul_precision, ...
"""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import glasstorch

torch = pytest.importorskip("torch")

from _compare import assert_same  # noqa: E402


def both(fn):
    """fn(torch), fn(glasstorch)."""
    return fn(torch), fn(glasstorch)


def error_of(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001  (the class and message are what is compared)
        return type(e).__name__, str(e)
    return None


# ---- out= ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, args, kwargs", [
    ("mul", ([[1.0, 2.0], [3.0, 4.0]], [[0.5, -1.0], [2.0, 0.25]]), {}),
    ("add", ([[1.0, 2.0]], [[3.0], [4.0]]), {"alpha": 2}),
    ("matmul", ([[1.0, 2.0], [3.0, 4.0]], [[0.5, -1.0], [2.0, 0.25]]), {}),
    ("sum", ([[1.0, 2.0], [3.0, 4.0]], 1), {}),
    ("cat", (([[1.0, 2.0]], [[3.0, 4.0]]),), {}),
    ("clamp", ([[1.0, -2.0], [3.0, 4.0]],), {"min": 0.0, "max": 3.5}),
])
def test_out_writes_into_the_given_tensor(name, args, kwargs):
    def run(lib):
        tensors = [tuple(lib.tensor(x) for x in a) if isinstance(a, tuple) else lib.tensor(a) if isinstance(a, list)
                   else a for a in args]
        out = lib.zeros(getattr(lib, name)(*tensors, **kwargs).shape)  # the right shape: no resize
        version = out._version
        result = getattr(lib, name)(*tensors, out=out, **kwargs)
        assert result is out and out._version > version
        return out

    ours_ = run(glasstorch)
    assert_same(ours_, run(torch))


def test_out_resizes_casts_and_refuses_like_pytorch():
    def resize(lib):
        out = lib.zeros(3)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.cat([lib.ones(3), lib.ones(3)], out=out)
        # PyTorch's C++ warnings end in "(Triggered internally at <its source file>)"
        return out, [re.sub(r" \(Triggered internally at .*\)$", "", str(w.message)) for w in caught]

    (theirs, t_warn), (ours, g_warn) = both(resize)
    assert_same(ours, theirs)
    assert g_warn == t_warn and len(t_warn) == 1
    # an empty out is resized silently
    assert both(lambda lib: lib.mul(lib.ones(2), 3, out=lib.zeros(0)).tolist()) == ([3.0, 3.0],) * 2
    # a wider dtype takes the result; a narrower kind is refused
    theirs, ours = both(lambda lib: lib.mul(lib.ones(2), 3, out=lib.zeros(2, dtype=lib.float64)))
    assert_same(ours, theirs)
    t_err, g_err = both(lambda lib: error_of(lambda: lib.mul(lib.ones(2), 1.5, out=lib.zeros(2, dtype=lib.long))))
    assert g_err == t_err and t_err[0] == "RuntimeError"
    # out= and autograd do not mix: an input or out that requires grad is refused, under no_grad it is fine
    for make in (lambda lib: (lib.ones(2, requires_grad=True), lib.zeros(2)),
                 lambda lib: (lib.ones(2), lib.zeros(2, requires_grad=True))):
        t_err, g_err = both(lambda lib: error_of(lambda: lib.mul(make(lib)[0], 2, out=make(lib)[1])))
        assert g_err == t_err and "don't support automatic differentiation" in t_err[1]

    def no_grad(lib):
        x, out = lib.ones(2, requires_grad=True), lib.zeros(2)
        with lib.no_grad():
            lib.mul(x, 2, out=out)
        return out.tolist(), out.requires_grad

    assert both(no_grad)[0] == both(no_grad)[1] == ([2.0, 2.0], False)


def test_out_keeps_the_functions_names():
    """Tracebacks, glasstorch.viz traces and repr read the function's own name."""
    assert glasstorch.mul.__name__ == "mul" and glasstorch.mul.__code__.co_name == "mul"
    import pickle

    for fn in (glasstorch.add, glasstorch.subtract, glasstorch.cat, glasstorch.zeros):  # collate_fn=torch.cat, spawned
        assert pickle.loads(pickle.dumps(fn)) is fn
    assert glasstorch.matmul(glasstorch.ones(2, 2), glasstorch.ones(2, 2)).tolist() == [[2.0, 2.0]] * 2


# ---- nn.Linear's node: inputs in addmm's order ----------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
def test_linear_node_lists_inputs_in_pytorchs_order(bias):
    def walk(lib):
        layer = lib.nn.Linear(3, 2, bias=bias)
        x = lib.relu(lib.arange(6.0).reshape(2, 3).requires_grad_())
        node = layer(x).grad_fn
        names = [type(fn).__name__ if fn is not None else None for fn, _ in node.next_functions]
        return node.name(), names

    (t_name, t_next), (g_name, g_next) = both(walk)
    assert g_name == t_name
    # PyTorch's weight goes through a TBackward0 node; glasstorch's node takes the weight itself
    t_next = ["AccumulateGrad" if n == "TBackward0" else n for n in t_next]
    assert g_next == t_next


def test_linear_gradients_after_the_reorder():
    """The gradients go to the right inputs: bias, input and weight, in float64, against PyTorch."""
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(4, 3)), rng.normal(size=(2, 3)), rng.normal(size=2)
    grads = []
    for lib in (glasstorch, torch):
        xs, ws, bs = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
        y = lib.nn.functional.linear(xs, ws, bs)
        (y * lib.arange(8.0, dtype=lib.float64).reshape(4, 2)).sum().backward()
        grads.append((xs.grad, ws.grad, bs.grad))
        # gradients of gradients still flow (create_graph takes the recorded-op path)
        xs2 = lib.tensor(x, requires_grad=True)
        g, = lib.autograd.grad(lib.nn.functional.linear(xs2, ws, bs).pow(2).sum(), xs2, create_graph=True)
        grads.append(lib.autograd.grad(g.sum(), ws))
    for ours, theirs in ((grads[0], grads[2]), (grads[1], grads[3])):
        for a, b in zip(ours, theirs):
            assert_same(a, b)


# ---- torch.tensor's dtype for lists holding arrays, NumPy scalars or tensors ---------------------------
@pytest.mark.parametrize("make", [
    lambda lib: [np.array([1.0, 2.0]), np.array([3.0, 4.0])],              # float64 arrays -> float64
    lambda lib: [np.float64(1.5), 2.0],                                     # a NumPy float64 scalar
    lambda lib: [[np.float32(1.0)], [2.0]],                                 # float32 with a Python float
    lambda lib: [np.array([1, 2], dtype=np.int32)],                         # int32 stays
    lambda lib: [np.array([1, 2]), np.array([1.5, 2.0])],                   # int64 and float64
    lambda lib: [np.array([1.0, 2.0], dtype=np.float16)],
    lambda lib: [lib.tensor(1, dtype=lib.int32), 2],                        # a Python int is int64
    lambda lib: [np.int32(3), 4],
    lambda lib: [1.0, 2],                                                   # Python numbers only
])
def test_tensor_from_list_of_arrays_takes_their_dtype(make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's "list of numpy.ndarrays is extremely slow"
        theirs, ours = both(lambda lib: lib.tensor(make(lib)))
    assert_same(ours, theirs)


# ---- settings --------------------------------------------------------------------------------------------
def test_settings_round_trip_and_checks(monkeypatch):
    # set_num_threads writes GLASSTORCH_THREADS; monkeypatch puts the variable back as it was afterwards
    monkeypatch.setenv("GLASSTORCH_THREADS", "")
    saved = {lib: (lib.get_num_threads(), lib.are_deterministic_algorithms_enabled(),
                   lib.is_deterministic_algorithms_warn_only_enabled(), lib.get_float32_matmul_precision())
             for lib in (torch, glasstorch)}
    try:
        for lib in (torch, glasstorch):
            assert lib.get_num_threads() >= 1 and lib.get_num_interop_threads() >= 1
            lib.set_num_threads(1)
            assert lib.get_num_threads() == 1
            lib.use_deterministic_algorithms(True, warn_only=True)
            assert lib.are_deterministic_algorithms_enabled() and lib.is_deterministic_algorithms_warn_only_enabled()
            assert lib.get_deterministic_debug_mode() == 1
            lib.set_deterministic_debug_mode("error")
            assert lib.get_deterministic_debug_mode() == 2 and not lib.is_deterministic_algorithms_warn_only_enabled()
            lib.set_float32_matmul_precision("high")
            assert lib.get_float32_matmul_precision() == "high"
        # glasstorch's batch split follows set_num_threads
        from glasstorch.backends import cpu_threads

        assert cpu_threads.workers() == 1
        for bad in (lambda lib: lib.set_num_threads(0), lambda lib: lib.set_num_threads("2"),
                    lambda lib: lib.use_deterministic_algorithms("yes")):
            t_err, g_err = both(lambda lib: error_of(lambda: bad(lib)))
            assert g_err == t_err and t_err is not None
        for lib in (torch, glasstorch):
            with pytest.warns(UserWarning, match="bad is not one of 'highest', 'high', or 'medium'"):
                lib.set_float32_matmul_precision("bad")
            assert lib.get_float32_matmul_precision() == "high"
    finally:
        for lib, (threads, det, warn_only, precision) in saved.items():
            if lib is torch:
                lib.set_num_threads(threads)
            lib.use_deterministic_algorithms(det, warn_only=warn_only)
            lib.set_float32_matmul_precision(precision)


# ---- the older, hook-based nn.utils.spectral_norm and weight_norm ------------------------------------------
def test_spectral_norm_hook_matches_pytorch():
    """Same weight and same start of the power iteration (u, v set on both): outputs, gradients, the
    buffers' next step, eval mode (no iteration), state_dict keys, and remove_spectral_norm."""
    rng = np.random.default_rng(0)
    w, b, u, v = rng.normal(size=(4, 3)), rng.normal(size=4), rng.normal(size=4), rng.normal(size=3)
    x = rng.normal(size=(2, 3))
    seen = []
    for lib in (glasstorch, torch):
        m = lib.nn.Linear(3, 4).double()
        with lib.no_grad():
            m.weight.copy_(lib.tensor(w))
            m.bias.copy_(lib.tensor(b))
        assert lib.nn.utils.spectral_norm(m) is m
        with lib.no_grad():
            m.weight_u.copy_(lib.tensor(u / np.linalg.norm(u)))
            m.weight_v.copy_(lib.tensor(v / np.linalg.norm(v)))
        y = m(lib.tensor(x))
        (y * y).sum().backward()
        grad = m.weight_orig.grad
        keys = sorted(m.state_dict())
        m.eval()
        y_eval = m(lib.tensor(x))
        u_after = m.weight_u.clone()  # eval mode did not advance it
        lib.nn.utils.remove_spectral_norm(m)
        seen.append((y, grad, u_after, y_eval, m.weight,
                     keys, sorted(m.state_dict()), type(m.weight).__name__))
    (y, grad, u_after, y_eval, weight, keys, keys_after, kind), theirs = seen
    for a, b_ in zip((y, grad, u_after, y_eval, weight), theirs[:5]):
        assert_same(a.detach(), b_.detach())
    assert (keys, keys_after, kind) == (theirs[5], theirs[6], theirs[7]) == (
        ["bias", "weight_orig", "weight_u", "weight_v"], ["bias", "weight"], "Parameter")


def test_spectral_norm_gradient_and_errors():
    rng = np.random.default_rng(1)
    w, u, v = rng.normal(size=(3, 2, 2, 2)), rng.normal(size=3), rng.normal(size=8)
    grads = []
    for lib in (glasstorch, torch):
        conv = lib.nn.Conv2d(2, 3, 2, bias=False).double()
        with lib.no_grad():
            conv.weight.copy_(lib.tensor(w))
        lib.nn.utils.spectral_norm(conv, n_power_iterations=2)
        with lib.no_grad():
            conv.weight_u.copy_(lib.tensor(u))
            conv.weight_v.copy_(lib.tensor(v))
        conv(lib.tensor(np.linspace(-1, 1, 18).reshape(1, 2, 3, 3))).pow(2).sum().backward()
        grads.append(conv.weight_orig.grad)
        errors = [error_of(lambda: lib.nn.utils.spectral_norm(conv)),
                  error_of(lambda: lib.nn.utils.spectral_norm(lib.nn.Linear(2, 2), n_power_iterations=0)),
                  error_of(lambda: lib.nn.utils.remove_spectral_norm(lib.nn.Linear(2, 2)))]
        grads.append([e[0] for e in errors] + [errors[0][1], errors[1][1]])
    assert_same(grads[0], grads[2])
    assert grads[1] == grads[3]


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_hook_matches_pytorch(dim):
    w = np.arange(24.0).reshape(3, 2, 2, 2) / 10 - 1
    seen = []
    for lib in (glasstorch, torch):
        conv = lib.nn.Conv2d(2, 3, 2, bias=False).double()
        with lib.no_grad():
            conv.weight.copy_(lib.tensor(w))
        with pytest.warns(FutureWarning, match="`torch.nn.utils.weight_norm` is deprecated"):
            lib.nn.utils.weight_norm(conv, dim=dim)
        out = conv(lib.tensor(np.linspace(-1, 1, 18).reshape(1, 2, 3, 3)))
        out.pow(2).sum().backward()
        keys = sorted(conv.state_dict())
        g_shape = tuple(conv.weight_g.shape)
        grads = conv.weight_g.grad, conv.weight_v.grad
        with pytest.warns(FutureWarning):  # the deprecation comes first, then the error
            twice = error_of(lambda: lib.nn.utils.weight_norm(conv, dim=dim))
        lib.nn.utils.remove_weight_norm(conv)
        seen.append((out, grads, conv.weight, keys, g_shape, twice, sorted(conv.state_dict())))
    ours, theirs = seen
    assert_same(ours[0], theirs[0])
    for a, b in zip(ours[1], theirs[1]):
        assert_same(a, b)
    assert_same(ours[2].detach(), theirs[2].detach())
    assert ours[3:] == theirs[3:]


# ---- torch.utils.checkpoint ------------------------------------------------------------------------------
def _ckpt_net(lib):
    net = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))
    with lib.no_grad():
        for i, p in enumerate(net.parameters()):
            p.copy_(lib.linspace(-1, 1, p.numel(), dtype=lib.float64).view_as(p) * (i + 1) / 3)
    return net.double()


@pytest.mark.parametrize("use_reentrant", [True, False, None])
def test_checkpoint_matches_pytorch(use_reentrant):
    """Values, grad_fn name, input and weight gradients, and the warning when use_reentrant is not passed."""
    seen = []
    for lib in (glasstorch, torch):
        net = _ckpt_net(lib)
        x = lib.linspace(-2, 2, 6, dtype=lib.float64).view(2, 3).requires_grad_()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            extra = {} if use_reentrant is None else {"use_reentrant": use_reentrant}
            y = lib.utils.checkpoint.checkpoint(net, x, **extra)
        y.pow(2).sum().backward()
        seen.append((y, x.grad, net[0].weight.grad, type(y.grad_fn).__name__, [str(w.message) for w in caught]))
    ours, theirs = seen
    for a, b in zip(ours[:3], theirs[:3]):
        assert_same(a, b)
    assert ours[3:] == theirs[3:]
    assert ours[3] == ("CheckpointFunctionBackward" if use_reentrant is not False else "AddmmBackward0")
    assert len(ours[4]) == (use_reentrant is None)


def test_checkpoint_sequential_and_errors():
    seen = []
    for lib in (glasstorch, torch):
        net = _ckpt_net(lib)
        x = lib.linspace(-2, 2, 6, dtype=lib.float64).view(2, 3).requires_grad_()
        y = lib.utils.checkpoint.checkpoint_sequential(net, 2, x, use_reentrant=True)
        y.sum().backward()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            z = lib.utils.checkpoint.checkpoint(net, x.detach(), use_reentrant=True)
        kwargs_error = error_of(lambda: lib.utils.checkpoint.checkpoint(net, x, use_reentrant=True, foo=1))
        seen.append((y, x.grad, net[2].bias.grad, z.requires_grad, [str(w.message) for w in caught], kwargs_error))
    ours, theirs = seen
    for a, b in zip(ours[:3], theirs[:3]):
        assert_same(a, b)
    assert ours[3:] == theirs[3:] and theirs[4] == ["None of the inputs have requires_grad=True. Gradients will be None"]


def test_checkpoint_recomputes_with_the_same_dropout_mask():
    """preserve_rng_state: the recomputation draws the first run's mask, so the gradient is the plain one."""
    def grads(checkpointed: bool):
        glasstorch.manual_seed(3)
        net = glasstorch.nn.Sequential(glasstorch.nn.Linear(3, 16), glasstorch.nn.Dropout(0.5), glasstorch.nn.Linear(16, 1))
        x = glasstorch.linspace(-1, 1, 6).view(2, 3).requires_grad_()
        glasstorch.manual_seed(7)
        y = glasstorch.utils.checkpoint.checkpoint(net, x, use_reentrant=True) if checkpointed else net(x)
        y.sum().backward()
        return x.grad, net[0].weight.grad

    for a, b in zip(grads(True), grads(False)):
        assert glasstorch.equal(a, b)
    assert (grads(False)[1] == 0).any()  # the mask did drop units (else this test could not fail)


# ---- torch.func.functional_call, memory formats ------------------------------------------------------------
def test_functional_call_matches_pytorch():
    seen = []
    for lib in (glasstorch, torch):
        m = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3), lib.nn.Tanh(), lib.nn.Linear(3, 1)).double()
        before = {k: v.clone() for k, v in m.state_dict().items()}
        params = {k: lib.linspace(-1, 1, v.numel(), dtype=lib.float64).view_as(v).requires_grad_()
                  for k, v in m.named_parameters()}
        x = lib.linspace(0, 1, 8, dtype=lib.float64).view(4, 2)
        y = lib.func.functional_call(m, params, (x,))
        y.sum().backward()
        unchanged = all(lib.equal(v, before[k]) for k, v in m.state_dict().items() if "running" not in k and "num_batches" not in k)
        errors = [error_of(lambda: lib.func.functional_call(m, {"0.weight": params["0.weight"], "zzz": x}, (x,),
                                                             strict=True)),
                  error_of(lambda: lib.func.functional_call(m, ({"0.bias": x}, {"0.bias": x}), (x,)))]
        seen.append((y, params["3.weight"].grad, params["0.weight"].grad, m[1].running_mean, unchanged,
                     m[0].weight.grad is None, errors))
    ours, theirs = seen
    for a, b in zip(ours[:4], theirs[:4]):
        assert_same(a, b)
    assert ours[4:] == theirs[4:] and ours[4] and ours[5]


def test_memory_formats_are_accepted_and_change_no_values():
    assert [repr(getattr(glasstorch, n)) for n in ("contiguous_format", "channels_last", "channels_last_3d",
                                                    "preserve_format")] == \
        [repr(getattr(torch, n)) for n in ("contiguous_format", "channels_last", "channels_last_3d", "preserve_format")]
    assert isinstance(glasstorch.channels_last, glasstorch.memory_format)
    x = glasstorch.arange(24.0).view(1, 2, 3, 4)
    assert glasstorch.equal(x.to(memory_format=glasstorch.channels_last), x)
    assert glasstorch.equal(x.contiguous(memory_format=glasstorch.channels_last), x)
    conv = glasstorch.nn.Conv2d(2, 3, 1).to(memory_format=glasstorch.channels_last)
    assert conv(x).shape == (1, 3, 3, 4)


def test_weight_norm_second_derivatives_are_right():
    """MAML through a weight-normed layer needs d2/dv2: glasstorch's agrees with finite differences.
    (PyTorch 2.13's fused CPU kernel, torch._weight_norm, fails the same gradgradcheck: its double backward
    is wrong, so tests/programs/efficient_training.py runs its MAML step on a plain MLP.)"""
    from glasstorch.nn.utils.weight_norm import WeightNorm

    norm = WeightNorm("weight", 0)
    v = glasstorch.tensor(np.sin(np.arange(12.0)).reshape(3, 4), requires_grad=True)
    g = glasstorch.tensor(np.cos(np.arange(3.0)).reshape(3, 1) + 2, requires_grad=True)
    holder = type("Holder", (), {})()

    def weight(v, g):
        holder.weight_g, holder.weight_v = g, v
        return norm.compute_weight(holder)

    assert glasstorch.autograd.gradcheck(weight, (v, g))
    assert glasstorch.autograd.gradgradcheck(weight, (v, g))


# ---- indexing with a range ("What is torch.nn really?": -input[range(n), target].mean()) ------------------
@pytest.mark.parametrize("index", [
    lambda: (range(3), [0, 1, 3]), lambda: range(2), lambda: ((0, 2), slice(None)), lambda: (slice(None), (1, 3)),
    lambda: range(0), lambda: (range(0, 3, 2), 1),
])
def test_range_and_tuple_indices(index):
    theirs, ours = both(lambda lib: lib.arange(12.0, dtype=lib.float64).view(3, 4)[index()])
    assert_same(ours, theirs)


def test_nll_by_hand_with_a_range_index_backward():
    def run(lib):
        logits = lib.tensor(np.sin(np.arange(12.0)).reshape(4, 3), requires_grad=True)
        target = lib.tensor([2, 0, 1, 1])
        log_probs = logits - logits.exp().sum(-1).log().unsqueeze(-1)
        loss = -log_probs[range(target.shape[0]), target].mean()
        loss.backward()
        x = lib.zeros(3, 4, dtype=lib.float64)
        x[range(3), [0, 2, 3]] = 1.0  # and written through
        return loss, logits.grad, x

    for a, b in zip(*both(run)[::-1]):
        assert_same(a, b)


# ---- lazy modules ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("opt_name", ["SGD", "Adam", "AdamW"])
def test_lazy_linear_with_an_optimizer_built_before_the_first_forward(opt_name):
    """The optimizer holds the UninitializedParameters; the first forward gives them shapes and the
    optimizer then trains the same objects: after deterministic weights, the steps match PyTorch's."""
    seen = []
    for lib in (glasstorch, torch):
        m = lib.nn.LazyLinear(3)
        repr_before, weight_before = repr(m), repr(m.weight)
        opt = getattr(lib.optim, opt_name)(m.parameters(), lr=0.1)
        x = lib.linspace(-1, 1, 8).view(2, 4)
        m(x)
        with lib.no_grad():
            m.weight.copy_(lib.linspace(-0.5, 0.5, 12).view(3, 4))
            m.bias.fill_(0.1)
        for _ in range(3):
            opt.zero_grad()
            m(x).pow(2).sum().backward()
            opt.step()
        seen.append((m.weight.detach(), m.bias.detach(), repr_before, weight_before, repr(m), type(m.weight).__name__,
                     len(m._forward_pre_hooks)))
    ours, theirs = seen
    assert_same(ours[0], theirs[0], tol=dict(rtol=1e-5, atol=1e-6))  # float32, three steps
    assert_same(ours[1], theirs[1], tol=dict(rtol=1e-5, atol=1e-6))
    assert ours[2:] == theirs[2:] == ("LazyLinear(in_features=0, out_features=3, bias=True)", "<UninitializedParameter>",
                                      "Linear(in_features=4, out_features=3, bias=True)", "Parameter", 0)


@pytest.mark.parametrize("cls, shape, kwargs", [("LazyConv1d", (3, 2, 7), dict(groups=2, bias=False)),
                                                ("LazyConv2d", (1, 2, 5, 5), dict(padding=1)),
                                                ("LazyConv2d", (2, 5, 5), {}),  # unbatched
                                                ("LazyConv3d", (1, 1, 3, 4, 4), dict(stride=2))])
def test_lazy_convolutions_take_their_input_channels(cls, shape, kwargs):
    seen = []
    for lib in (glasstorch, torch):
        conv = getattr(lib.nn, cls)(4, 3, **kwargs)
        before = repr(conv)
        out = conv(lib.zeros(shape))
        seen.append((before, repr(conv), tuple(conv.weight.shape), tuple(out.shape), sorted(conv.state_dict()),
                     lib.nn.parameter.is_lazy(conv.weight)))
    assert seen[0] == seen[1]


def test_uninitialized_parameter_behaves_like_pytorchs():
    for lib in (glasstorch, torch):
        m = lib.nn.LazyLinear(2)
        assert m.has_uninitialized_params() and lib.nn.parameter.is_lazy(m.weight)
        assert [repr(v) for v in m.state_dict().values()] == ["<UninitializedParameter>"] * 2
    t_err, g_err = both(lambda lib: error_of(lambda: lib.nn.LazyLinear(2).weight.shape))
    assert g_err == t_err and t_err[0] == "RuntimeError"


@pytest.mark.parametrize("make", [
    lambda lib: lib.zeros(3, out=lib.empty(2, dtype=lib.long)),            # out's dtype, resized silently
    lambda lib: lib.ones(2, 2, out=lib.empty(0, dtype=lib.float64)),
    lambda lib: lib.full((2,), 7, out=lib.empty(2, dtype=lib.int32)),
    lambda lib: lib.arange(4, out=lib.empty(0, dtype=lib.float64)),
    lambda lib: lib.linspace(0, 1, 3, out=lib.empty(3)),
    lambda lib: lib.eye(2, out=lib.empty(0)),
])
def test_creation_functions_write_into_out(make):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        theirs, ours = both(make)
    assert_same(ours, theirs)
    assert not caught
    t_err, g_err = both(lambda lib: error_of(lambda: lib.zeros(3, out=lib.empty(3), dtype=lib.float64)))
    assert g_err == t_err and t_err[0] == "RuntimeError"


def test_max_and_min_write_into_out():
    def run(lib):
        x = lib.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], dtype=lib.float64)
        values, indices = lib.empty(0, dtype=lib.float64), lib.empty(0, dtype=lib.long)
        pair = lib.max(x, 1, out=(values, indices))
        assert pair[0] is values and pair[1] is indices
        low = lib.min(x, 0, keepdim=True, out=(lib.empty(0, dtype=lib.float64), lib.empty(0, dtype=lib.long)))
        whole = lib.min(x, out=lib.empty((), dtype=lib.float64))
        return values, indices, low.values, low.indices, whole, repr(pair).split("(")[0]

    ours, theirs = both(run)[::-1]
    for a, b in zip(ours[:5], theirs[:5]):
        assert_same(a, b)
    assert ours[5] == theirs[5] == "torch.return_types.max_out"


# ---- nn.utils.fusion, nn.utils.stateless -------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["conv", "conv_nobias", "transposed", "linear"])
def test_fuse_bn_into_the_layer_before(kind):
    """Fused weights, bias and outputs against PyTorch's, float64; requires_grad carried over."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 3, 5, 5)) if kind != "linear" else rng.normal(size=(4, 3))
    stats = [rng.normal(size=6), rng.random(6) + 0.5, rng.normal(size=6), rng.normal(size=6)]
    seen = []
    for lib in (glasstorch, torch):
        nn = lib.nn
        layer = {"conv": lambda: nn.Conv2d(3, 6, 3), "conv_nobias": lambda: nn.Conv2d(3, 6, 3, bias=False),
                 "transposed": lambda: nn.ConvTranspose2d(3, 6, 2), "linear": lambda: nn.Linear(3, 6)}[kind]().double()
        bn = (nn.BatchNorm1d(6) if kind == "linear" else nn.BatchNorm2d(6)).double()
        with lib.no_grad():  # the same weights on both libraries (drawn once, on the first)
            values = values if lib is torch else [rng.normal(size=tuple(p.shape)) for p in layer.parameters()]
            for p, v in zip(layer.parameters(), values):
                p.copy_(lib.tensor(v))
            for t, v in zip((bn.running_mean, bn.running_var, bn.weight, bn.bias), stats):
                t.copy_(lib.tensor(v))
        layer.eval(), bn.eval()
        utils = lib.nn.utils
        fused = (utils.fuse_linear_bn_eval(layer, bn) if kind == "linear"
                 else utils.fuse_conv_bn_eval(layer, bn, transpose=kind == "transposed"))
        xs = lib.tensor(x)
        seen.append((fused(xs), bn(layer(xs)), fused.weight, fused.bias, type(fused.weight).__name__,
                     fused.weight.requires_grad, error_of(lambda: utils.fuse_conv_bn_eval(layer.train(), bn))))
    ours, theirs = seen
    for a, b in zip(ours[:4], theirs[:4]):
        assert_same(a.detach(), b.detach())
    assert_same(ours[1].detach(), theirs[0].detach())  # the fused layer computes the pair
    assert ours[4:] == theirs[4:]


def test_stateless_functional_call_warns_and_calls():
    for lib in (glasstorch, torch):
        m = lib.nn.Linear(2, 1)
        with pytest.warns(FutureWarning, match="stateless.functional_call` is deprecated"):
            y = lib.nn.utils.stateless.functional_call(m, {"weight": lib.ones(1, 2), "bias": lib.zeros(1)},
                                                       (lib.ones(1, 2),))
        assert y.tolist() == [[2.0]]


# ---- scaled_dot_product_attention with a mask that does not fit the scores -----------------------------------
@pytest.mark.parametrize("mask_shape, is_bool", [((1, 1, 1, 4), True), ((1, 1, 1, 4), False), ((5, 3, 3), True),
                                                 ((3, 2), True)])
def test_sdpa_mask_shape_error_is_pytorchs(mask_shape, is_bool):
    def run(lib):
        x = lib.zeros(1, 2, 3, 4)
        mask = lib.ones(mask_shape).bool() if is_bool else lib.ones(mask_shape)
        return error_of(lambda: lib.nn.functional.scaled_dot_product_attention(x, x, x, attn_mask=mask))

    theirs, ours = both(run)
    assert ours == theirs and theirs[0] == "RuntimeError"
