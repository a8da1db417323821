"""The older, hook-based nn.utils.weight_norm (deprecated in PyTorch in favour of
nn.utils.parametrizations.weight_norm, still common in scripts): weight = g * v / ||v||.

The module's parameter <name> is replaced by two parameters, <name>_g (the norms) and <name>_v (the
direction); a forward pre-hook recomputes the plain tensor attribute <name> from them before every call.
"""
from __future__ import annotations

import warnings

from ..._tensor import Tensor
from ..modules.module import Module
from ..parameter import Parameter
from .parametrizations import _norm_except_dim

__all__ = ["WeightNorm", "weight_norm", "remove_weight_norm"]


class WeightNorm:
    """The forward pre-hook: sets module.<name> = <name>_g * <name>_v / ||<name>_v||."""

    def __init__(self, name: str, dim: int | None) -> None:
        self.name = name
        self.dim = -1 if dim is None else dim  # -1: one norm over the whole tensor

    def compute_weight(self, module: Module) -> Tensor:
        g, v = getattr(module, self.name + "_g"), getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    @staticmethod
    def apply(module: Module, name: str, dim: int | None) -> "WeightNorm":
        warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                      "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=3)
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(_norm_except_dim(weight, fn.dim).detach()))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module: Module) -> None:
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrize module.<name> as <name>_g * <name>_v / ||<name>_v||, norms over every dim but `dim`
    (dim=None: over the whole tensor)."""
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Undo weight_norm: <name> becomes a parameter again, holding the current weight."""
    return _remove_reparametrization(module, name, WeightNorm, "weight_norm")


def _remove_reparametrization(module: Module, name: str, hook_class: type, what: str) -> Module:
    """Take off the forward pre-hook of `hook_class` that reparametrizes module.<name> (weight_norm,
    spectral_norm), leaving <name> a parameter again; torch's ValueError when there is none."""
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, hook_class) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"{what} of '{name}' not found in {module}")
