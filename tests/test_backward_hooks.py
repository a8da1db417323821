"""Module.register_full_backward_hook / register_full_backward_pre_hook against PyTorch.

Every scenario runs the same code on both libraries (float64, fixed inputs) and records what the hooks
were given; the records and the resulting gradients must agree. float64 and a few products of small
exact values: agreement to 1e-12.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import glasstorch

LIBS = (torch, glasstorch)


def as_lists(grads):
    # copies: a gradient handed to a hook may become a .grad that a later backward adds to in place
    return [None if g is None else g.detach().numpy().copy() for g in grads]


def assert_records_same(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a[0] == b[0]
        for x, y in zip(a[1:], b[1:]):
            assert [v is None for v in x] == [v is None for v in y]
            for u, v in zip(x, y):
                if u is not None:
                    np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-12)


def linear(lib):
    lin = lib.nn.Linear(3, 2).double()
    with lib.no_grad():
        lin.weight.copy_(lib.arange(6.0, dtype=lib.float64).reshape(2, 3) / 10)
        lin.bias.fill_(0.5)
    return lin


def scenario_pre_hook_replaces_grad_output(lib):
    lin, seen = linear(lib), []
    lin.register_full_backward_pre_hook(lambda m, go: seen.append(("pre", as_lists(go))) or (go[0] * 2,))
    lin.register_full_backward_hook(lambda m, gi, go: seen.append(("hook", as_lists(gi), as_lists(go))))
    x = lib.arange(6.0, dtype=lib.float64).reshape(2, 3).requires_grad_()
    lin(x).pow(2).sum().backward()
    return seen, [x.grad, lin.weight.grad, lin.bias.grad]


def scenario_hook_replaces_grad_input(lib):
    lin, seen = linear(lib), []
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0] * 10,))
    lin.register_full_backward_hook(lambda m, gi, go: seen.append(("second", as_lists(gi), as_lists(go))))
    x = lib.arange(6.0, dtype=lib.float64).reshape(2, 3).requires_grad_()
    (lin(x) * lib.tensor([1.0, -2.0], dtype=lib.float64)).sum().backward()
    return seen, [x.grad, lin.weight.grad]  # the weight's gradient is not the hook's to change


class Mixer:
    """forward(a, k, b) -> (a * k + b, b.sum() * 3, "tag"): a non-tensor argument and output, and an
    output the loss ignores (its grad_output is None)."""

    @staticmethod
    def make(lib):
        class _Mixer(lib.nn.Module):
            def forward(self, a, k, b):
                return a * k + b, b.sum() * 3, "tag"
        return _Mixer()


def scenario_several_inputs_and_outputs(lib):
    m, seen = Mixer.make(lib), []
    m.register_full_backward_pre_hook(lambda mod, go: seen.append(("pre", as_lists(go))))
    m.register_full_backward_hook(lambda mod, gi, go: seen.append(("hook", as_lists(gi), as_lists(go))))
    a = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)  # does not require grad: its grad_input is None
    b = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
    out, _, tag = m(a, 2.0, b)
    assert tag == "tag"
    (out ** 2).sum().backward()
    return seen, [b.grad]


def scenario_hooks_removed(lib):
    lin, seen = linear(lib), []
    handle = lin.register_full_backward_hook(lambda m, gi, go: seen.append(("hook", as_lists(gi))))
    pre = lin.register_full_backward_pre_hook(lambda m, go: seen.append(("pre", as_lists(go))))
    x = lib.ones(1, 3, dtype=lib.float64, requires_grad=True)
    lin(x).sum().backward()
    handle.remove()
    pre.remove()
    lin(x).sum().backward()
    return seen, [x.grad]


SCENARIOS = [scenario_pre_hook_replaces_grad_output, scenario_hook_replaces_grad_input,
             scenario_several_inputs_and_outputs, scenario_hooks_removed]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__.removeprefix("scenario_"))
def test_hooks_see_and_change_what_torchs_do(scenario):
    seen_g, grads_g = scenario(glasstorch)
    seen_t, grads_t = scenario(torch)
    assert seen_g, "the hooks never ran"
    assert_records_same(seen_g, seen_t)
    for g, t in zip(grads_g, grads_t):
        np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_no_input_requires_grad_warns_and_passes_none(lib):
    lin, seen = linear(lib), []
    lin.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go[0].shape)))
    with pytest.warns(UserWarning, match="Full backward hook is firing when gradients are computed with "
                                         "respect to module outputs since no inputs require gradients"):
        lin(lib.ones(4, 3, dtype=lib.float64)).sum().backward()
    assert seen == [((None,), (4, 2))]
    lin.register_full_backward_hook(lambda m, gi, go: (lib.ones(4, 3),))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match="Backward hook for Modules where no input requires gradient "
                                               "should always return None or None for all gradients"):
            lin(lib.ones(4, 3, dtype=lib.float64)).sum().backward()


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_wrong_number_of_gradients_returned(lib):
    x = lib.ones(2, 3, requires_grad=True)
    lin = lib.nn.Linear(3, 2)
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="Backward hook returned an invalid number of grad_input, got 2, but "
                                           "expected 1"):
        lin(x).sum().backward()
    lin = lib.nn.Linear(3, 2)
    lin.register_full_backward_pre_hook(lambda m, go: (go[0], go[0]))
    with pytest.raises(RuntimeError, match="Backward pre hook returned an invalid number of grad_output, got 2, "
                                           "but expected 1"):
        lin(x).sum().backward()


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_grad_fn_names_with_and_without_hooks(lib):
    """Without backward hooks the output comes straight from forward; with them, through torch's node."""
    lin = lib.nn.Linear(3, 2)
    assert type(lin(lib.ones(1, 3, requires_grad=True)).grad_fn).__name__ == "AddmmBackward0"
    lin.register_full_backward_hook(lambda m, gi, go: None)
    assert type(lin(lib.ones(1, 3, requires_grad=True)).grad_fn).__name__ == "BackwardHookFunctionBackward"


def test_inplace_module_with_hooks_is_refused_as_torch_refuses_it():
    """ReLU(inplace=True) under a full backward hook modifies the hook node's output view in place."""
    messages = []
    for lib in LIBS:
        relu = lib.nn.ReLU(inplace=True)
        relu.register_full_backward_hook(lambda m, gi, go: None)
        x = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="Output 0 of BackwardHookFunction is a view and is being modified "
                                               "inplace") as info:
            relu(x * 1)
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    relu = glasstorch.nn.ReLU(inplace=True)  # without hooks the in-place module is fine
    x = glasstorch.tensor([1.0, -1.0], requires_grad=True)
    relu(x * 1).sum().backward()
    assert x.grad.tolist() == [1.0, 0.0]
