"""Module full backward hooks: register_full_backward_pre_hook / register_full_backward_hook.

As in PyTorch (torch/utils/hooks.py, BackwardHook), a call of a hooked module passes its tensor
arguments and its outputs through identity nodes, `BackwardHookFunctionBackward`. In backward the
output node sees every grad_output at once: the pre-hooks run there (and may replace them); the input
node then sees every grad_input and runs the hooks with both (they may replace grad_input). When no
input requires grad, the hooks run at the output node with grad_input all None.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable

from ...autograd.function import Function


class BackwardHookFunction(Function):
    """Identity on its tensor arguments; backward hands the output gradients to `callback` first."""

    @staticmethod
    def forward(ctx, callback: Callable, *tensors):
        ctx.set_materialize_grads(False)  # the hooks see None for outputs that got no gradient
        outputs = tuple(t.view_as(t) for t in tensors)  # our own aliases, so marking them is unambiguous
        ctx.mark_non_differentiable(*[o for o, t in zip(outputs, tensors) if not t.requires_grad])
        ctx.callback = callback
        return outputs

    @staticmethod
    def backward(ctx, *grads):
        return (None, *ctx.callback(grads))


class BackwardHook:
    """The state one hooked module call shares between its output node and its input node."""

    def __init__(self, module, user_hooks: list, user_pre_hooks: list):
        self.module = module
        self.user_hooks, self.user_pre_hooks = user_hooks, user_pre_hooks
        self.grad_outputs = None
        self.n_inputs = 0
        self.input_positions = None  # positions of the wrapped tensor arguments; None: none wrapped

    def setup_input_hook(self, args: tuple) -> tuple:
        """args with their tensors passed through the input node (only if one of them requires grad)."""
        from ..._tensor import Tensor
        from ...autograd.grad_mode import is_grad_enabled

        self.n_inputs = len(args)
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        if not (is_grad_enabled() and any(args[i].requires_grad for i in positions)):
            return args
        self.input_positions = positions
        self.constant_inputs = {i: args[i] for i in positions if not args[i].requires_grad}
        wrapped = BackwardHookFunction.apply(self._input_grads, *[args[i] for i in positions])
        new_args = list(args)
        for i, t in zip(positions, wrapped):
            new_args[i] = t
        return tuple(new_args)

    def setup_output_hook(self, result: Any) -> Any:
        """The module's result (a tensor, or a tuple/list holding tensors) passed through the output node."""
        from ..._tensor import Tensor
        from ...autograd.grad_mode import is_grad_enabled

        single = isinstance(result, Tensor)
        items = (result,) if single else result
        if not isinstance(items, (tuple, list)):
            return result
        positions = [i for i, o in enumerate(items) if isinstance(o, Tensor)]
        if not (is_grad_enabled() and any(items[i].requires_grad for i in positions)):
            return result
        self.n_outputs = len(items)
        self.output_positions = positions
        wrapped = BackwardHookFunction.apply(self._output_grads, *[items[i] for i in positions])
        new = list(items)
        for i, t in zip(positions, wrapped):
            new[i] = t
        return new[0] if single else type(items)(new)

    def _pack(self, grads, positions, n) -> tuple:
        full = [None] * n
        for i, g in zip(positions, grads):
            full[i] = g
        return tuple(full)

    def _output_grads(self, grads: tuple) -> tuple:
        """At the output node: the pre-hooks may replace grad_output; remember it for the hooks."""
        grad_outputs = self._pack(grads, self.output_positions, self.n_outputs)
        for hook in self.user_pre_hooks:
            res = hook(self.module, grad_outputs)
            if res is None:
                continue
            res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
            if len(res) != len(grad_outputs):
                raise RuntimeError(f"Backward pre hook returned an invalid number of grad_output, got {len(res)}, "
                                   f"but expected {len(grad_outputs)}")
            grad_outputs = res
        self.grad_outputs = grad_outputs
        if self.input_positions is None and self.user_hooks:  # no input requires grad: the hooks run now
            warnings.warn("Full backward hook is firing when gradients are computed with respect to module outputs "
                          "since no inputs require gradients. See https://docs.pytorch.org/docs/main/generated/"
                          "torch.nn.Module.html#torch.nn.Module.register_full_backward_hook for more details.",
                          stacklevel=2)
            grad_inputs = (None,) * self.n_inputs
            for hook in self.user_hooks:
                res = hook(self.module, grad_inputs, self.grad_outputs)
                if res is not None and not all(r is None for r in res):
                    raise RuntimeError("Backward hook for Modules where no input requires gradient should always "
                                       "return None or None for all gradients.")
        return tuple(grad_outputs[i] for i in self.output_positions)

    def _input_grads(self, grads: tuple) -> tuple:
        """At the input node: the hooks see (grad_input, grad_output) and may replace grad_input."""
        grads = [g if g is not None or i not in self.constant_inputs else self.constant_inputs[i].new_zeros(
            self.constant_inputs[i].shape) for i, g in zip(self.input_positions, grads)]  # torch passes zeros there
        grad_inputs = self._pack(grads, self.input_positions, self.n_inputs)
        for hook in self.user_hooks:
            res = hook(self.module, grad_inputs, self.grad_outputs)
            if res is None:
                continue
            res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
            if len(res) != len(grad_inputs):
                raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got {len(res)}, but "
                                   f"expected {len(grad_inputs)}")
            grad_inputs = res
        return tuple(grad_inputs[i] for i in self.input_positions)
