"""Lazy modules: layers that learn their input size from the first batch they see.

    model = nn.Sequential(nn.LazyConv2d(16, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(10))
    model(torch.zeros(1, 3, 32, 32))   # now Conv2d(3, 16, ...) and Linear(14400, 10)

A lazy layer starts with UninitializedParameters; a forward pre-hook sizes them from the first input
(`initialize_parameters`), runs the layer's usual initialisation, removes itself and turns the module
into its ordinary class (LazyLinear -> Linear), as PyTorch does. The lazy layers live beside their
ordinary classes, as in PyTorch: LazyLinear in linear.py, LazyConv1d/2d/3d in conv.py.
"""
from __future__ import annotations

from ..parameter import UninitializedParameter

__all__ = ["LazyModuleMixin"]


class LazyModuleMixin:
    """Shapes a module's UninitializedParameters on its first forward, then becomes `cls_to_become`."""

    cls_to_become = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters)

    def has_uninitialized_params(self) -> bool:
        params = list(self._parameters.values()) + list(self._buffers.values())
        return any(isinstance(p, UninitializedParameter) for p in params)

    def initialize_parameters(self, *args, **kwargs) -> None:
        raise NotImplementedError(f"initialize_parameters is not implemented for {type(self).__name__}")

    @staticmethod
    def _infer_parameters(module, args) -> None:
        module.initialize_parameters(*args)
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {type(module).__name__} has not been fully initialized")
        module._initialize_hook.remove()
        del module._initialize_hook
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become
