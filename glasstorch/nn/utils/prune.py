"""nn.utils.prune: zero parts of a parameter through a mask, re-applied before every forward.

Pruning `weight` moves the parameter to `weight_orig`, stores the mask as the buffer `weight_mask`,
sets the plain attribute `weight = weight_orig * weight_mask` and registers the pruning method as a
forward pre-hook that recomputes it (so gradients reach weight_orig only where the mask is 1).
Pruning the same tensor again prunes among the entries still left (a PruningContainer);
`remove` makes the pruned tensor the parameter again.
"""
from __future__ import annotations

import numbers
from abc import ABC, abstractmethod

import numpy as np

from ..._ops.creation import ones_like
from ..._random import rng_of
from ..._tensor import Tensor, _make
from ...autograd.grad_mode import no_grad
from ..modules.module import Module

__all__ = ["BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured", "L1Unstructured",
           "RandomStructured", "LnStructured", "CustomFromMask", "identity", "random_unstructured", "l1_unstructured",
           "random_structured", "ln_structured", "global_unstructured", "custom_from_mask", "remove", "is_pruned"]


# ---- amounts --------------------------------------------------------------------------------------
def _validate_pruning_amount_init(amount) -> None:
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral) and (float(amount) > 1.0 or float(amount) < 0.0)):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a non-negative integer")


def _compute_nparams_toprune(amount, tensor_size: int) -> int:
    """An int amount is a count; a float one a fraction of tensor_size, rounded half to even."""
    if isinstance(amount, numbers.Integral):
        if amount > tensor_size:
            raise ValueError(f"amount={amount} should be smaller than the number of parameters to "
                             f"prune={tensor_size}")
        return int(amount)
    return round(amount * tensor_size)


def _mask_without(default_mask: Tensor, flat_indices) -> Tensor:
    """A copy of default_mask with the given flat positions set to 0."""
    mask = default_mask.detach().clone()
    if len(flat_indices):
        data = mask._data.reshape(-1)
        data[flat_indices] = 0
        mask._data = data.reshape(mask._data.shape)
    return mask


# ---- methods ----------------------------------------------------------------------------------------
class BasePruningMethod(ABC):
    """A way of choosing a mask; an instance is also the forward pre-hook that re-applies it."""

    PRUNING_TYPE = "unstructured"
    _tensor_name: str

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The new mask for importance scores t, given the mask already in place."""

    def apply_mask(self, module: Module) -> Tensor:
        """name_orig * name_mask (the tensor the module uses)."""
        orig = getattr(module, self._tensor_name + "_orig")
        mask = getattr(module, self._tensor_name + "_mask")
        return mask.to(dtype=orig.dtype) * orig

    @classmethod
    def apply(cls, module: Module, name: str, *args, importance_scores: Tensor | None = None, **kwargs):
        """Prune module.<name> with cls(*args, **kwargs), composing with earlier pruning of it."""
        old_method = None
        for key, hook in list(module._forward_pre_hooks.items()):
            if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
                if old_method is not None:
                    raise AssertionError(f"Avoid adding multiple pruning hooks to the same tensor {name} of module "
                                         f"{module}. Use a PruningContainer.")
                old_method = hook
                del module._forward_pre_hooks[key]
        method = cls(*args, **kwargs)
        method._tensor_name = name
        if old_method is not None:
            container = old_method if isinstance(old_method, PruningContainer) else PruningContainer(old_method)
            container.add_pruning_method(method)
            method = container
        orig = getattr(module, name)
        if importance_scores is not None:
            if importance_scores.shape != orig.shape:
                raise AssertionError(f"importance_scores should have the same shape as parameter {name} of "
                                     f"{module}")
        else:
            importance_scores = orig
        if not isinstance(method, PruningContainer):  # first pruning of this tensor
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = ones_like(orig)
        else:
            default_mask = getattr(module, name + "_mask").detach().clone()
        with no_grad():
            mask = method.compute_mask(importance_scores.detach(), default_mask=default_mask)
        module.register_buffer(name + "_mask", mask)
        setattr(module, name, method.apply_mask(module))
        module.register_forward_pre_hook(method)
        return method

    def prune(self, t: Tensor, default_mask: Tensor | None = None, importance_scores: Tensor | None = None) -> Tensor:
        """t with this method's mask applied (no module involved)."""
        scores = t if importance_scores is None else importance_scores
        mask = self.compute_mask(scores, default_mask if default_mask is not None else ones_like(t))
        return t * mask

    def remove(self, module: Module) -> None:
        """Make name_orig * name_mask the parameter `name` again, dropping name_orig and name_mask."""
        weight = self.apply_mask(module)
        if hasattr(module, self._tensor_name):
            delattr(module, self._tensor_name)
        orig = module._parameters[self._tensor_name + "_orig"]
        orig.data = weight.data
        del module._parameters[self._tensor_name + "_orig"]
        del module._buffers[self._tensor_name + "_mask"]
        setattr(module, self._tensor_name, orig)


class PruningContainer(BasePruningMethod):
    """Successive pruning of one tensor: each new method prunes among the entries its mask left."""

    def __init__(self, *args) -> None:
        self._pruning_methods: tuple = ()
        if len(args) == 1 and not isinstance(args[0], BasePruningMethod):  # an iterable of methods
            args = tuple(args[0])
        for method in args:
            self.add_pruning_method(method)

    def add_pruning_method(self, method: BasePruningMethod) -> None:
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._pruning_methods and self._tensor_name != method._tensor_name:
            raise ValueError(f"Can only add pruning methods acting on the parameter named '{self._tensor_name}' to "
                             f"PruningContainer. Found '{method._tensor_name}'")
        if method is not None:
            self._tensor_name = method._tensor_name
            self._pruning_methods += (method,)

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The last method's mask, computed on what the earlier ones left: the unpruned entries
        (unstructured) or the channels along its dim with any entry left (structured)."""
        method = self._pruning_methods[-1]
        d = default_mask._data
        if method.PRUNING_TYPE == "unstructured":
            keep = d == 1
        elif method.PRUNING_TYPE == "structured":
            if not hasattr(method, "dim"):
                raise AttributeError("Pruning methods of PRUNING_TYPE 'structured' need to have the attribute `dim` "
                                     "defined.")
            dim = method.dim % t.dim()
            others = tuple(i for i in range(t.dim()) if i != dim)
            channels = d.sum(axis=others) != 0
            keep = (slice(None),) * dim + (channels,)
        elif method.PRUNING_TYPE == "global":
            keep = (slice(None),) * t.dim()
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {method.PRUNING_TYPE}")
        partial = method.compute_mask(_make(t._data[keep], t.device), _make(d[keep], default_mask.device))
        new = default_mask.detach().clone()
        new._data[keep] = partial._data.astype(new._data.dtype)
        return new


class Identity(BasePruningMethod):
    """Prune nothing (a mask of ones)."""

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return default_mask

    @classmethod
    def apply(cls, module: Module, name: str):  # type: ignore[override]
        return super().apply(module, name)


class RandomUnstructured(BasePruningMethod):
    """Zero `amount` entries (a count, or a fraction) chosen uniformly at random."""

    def __init__(self, amount) -> None:
        _validate_pruning_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        k = _compute_nparams_toprune(self.amount, t.numel())
        chosen = np.argsort(rng_of(None).random(t.numel()))[:k]
        return _mask_without(default_mask, t.device.backend.from_numpy(chosen) if t.device.type != "cpu" else chosen)

    @classmethod
    def apply(cls, module: Module, name: str, amount):  # type: ignore[override]
        return super().apply(module, name, amount=amount)


class L1Unstructured(BasePruningMethod):
    """Zero the `amount` entries of smallest absolute value."""

    def __init__(self, amount) -> None:
        _validate_pruning_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        k = _compute_nparams_toprune(self.amount, t.numel())
        xp = t.device.xp
        smallest = xp.argsort(xp.abs(t._data.reshape(-1)), kind="stable")[:k]
        return _mask_without(default_mask, smallest)

    @classmethod
    def apply(cls, module: Module, name: str, amount, importance_scores=None):  # type: ignore[override]
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


def _validate_structured(t: Tensor, dim: int) -> None:
    if t.dim() <= 1:
        raise ValueError(f"Structured pruning can only be applied to multidimensional tensors. Found tensor of shape "
                         f"{t.shape} with {t.dim()} dims")
    if dim >= t.dim():
        raise IndexError(f"Invalid index {dim} for tensor of size {t.shape}")


def _channel_mask(t: Tensor, dim: int, kept, default_mask: Tensor) -> Tensor:
    """default_mask with every channel along dim not in `kept` (an index array) zeroed."""
    xp = t.device.xp
    mask = xp.zeros(t._data.shape, dtype=default_mask._data.dtype)
    index = [slice(None)] * t.dim()
    index[dim] = kept
    mask[tuple(index)] = 1
    return _make(mask * default_mask._data, t.device)


class RandomStructured(BasePruningMethod):
    """Zero `amount` whole channels along dim, chosen at random."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim: int = -1) -> None:
        _validate_pruning_amount_init(amount)
        self.amount, self.dim = amount, dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        _validate_structured(t, self.dim)
        size = t.shape[self.dim]
        k = _compute_nparams_toprune(self.amount, size)
        if k == 0:
            return default_mask
        kept = np.sort(np.argsort(rng_of(None).random(size))[k:])
        return _channel_mask(t, self.dim % t.dim(), t.device.xp.asarray(kept), default_mask)

    @classmethod
    def apply(cls, module: Module, name: str, amount, dim: int = -1):  # type: ignore[override]
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Zero the `amount` channels along dim of smallest L`n` norm."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim: int = -1) -> None:
        _validate_pruning_amount_init(amount)
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        _validate_structured(t, self.dim)
        dim = self.dim % t.dim()
        size = t.shape[dim]
        k = _compute_nparams_toprune(self.amount, size)
        if k == 0:
            return default_mask
        others = tuple(i for i in range(t.dim()) if i != dim)
        norms = t.detach().norm(self.n, dim=others)._data
        xp = t.device.xp
        kept = xp.sort(xp.argsort(-norms, kind="stable")[:size - k])
        return _channel_mask(t, dim, kept, default_mask)

    @classmethod
    def apply(cls, module: Module, name: str, amount, n, dim, importance_scores=None):  # type: ignore[override]
        return super().apply(module, name, amount=amount, n=n, dim=dim, importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prune with a given mask (combined with any mask already in place)."""

    def __init__(self, mask: Tensor) -> None:
        self.mask = mask

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        if default_mask.shape != self.mask.shape:
            raise AssertionError("mask and default_mask must have the same shape")
        return default_mask * self.mask.to(dtype=default_mask.dtype)

    @classmethod
    def apply(cls, module: Module, name: str, mask: Tensor):  # type: ignore[override]
        return super().apply(module, name, mask=mask)


# ---- the functional interface -------------------------------------------------------------------------
def identity(module: Module, name: str) -> Module:
    Identity.apply(module, name)
    return module


def random_unstructured(module: Module, name: str, amount) -> Module:
    """Prune `amount` random entries of module.<name> (int: how many; float: which fraction)."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module: Module, name: str, amount, importance_scores: Tensor | None = None) -> Module:
    """Prune the `amount` entries of module.<name> (or of importance_scores) of smallest magnitude."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module: Module, name: str, amount, dim: int) -> Module:
    """Prune `amount` random channels of module.<name> along dim."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module: Module, name: str, amount, n, dim: int, importance_scores: Tensor | None = None) -> Module:
    """Prune the `amount` channels of module.<name> along dim with the smallest L`n` norms."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module: Module, name: str, mask: Tensor) -> Module:
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores: dict | None = None, **kwargs) -> None:
    """Prune (module, name) pairs together: the method ranks all their entries as one vector."""
    from ..._ops.shape import cat

    parameters = list(parameters)
    importance_scores = importance_scores or {}
    scores = cat([importance_scores.get((m, n), getattr(m, n)).detach().reshape(-1) for m, n in parameters])
    masks = cat([getattr(m, n + "_mask", ones_like(getattr(m, n))).detach().reshape(-1) for m, n in parameters])
    container = PruningContainer()
    container._tensor_name = "temp"
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(f'Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. Found method '
                        f"{pruning_method} of type {method.PRUNING_TYPE}")
    container.add_pruning_method(method)
    final = container.compute_mask(scores, masks)
    start = 0
    for module, name in parameters:
        param = getattr(module, name)
        n = param.numel()
        custom_from_mask(module, name, final[start:start + n].view_as(param))
        start += n


def remove(module: Module, name: str) -> Module:
    """Make the pruning of module.<name> permanent: the pruned tensor becomes the parameter again."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning can be removed")


def is_pruned(module: Module) -> bool:
    """Whether any pruning hook sits on module or one of its submodules."""
    for _, sub in module.named_modules():
        if any(isinstance(hook, BasePruningMethod) for hook in sub._forward_pre_hooks.values()):
            return True
    return False


