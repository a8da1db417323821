"""torch.optim.Optimizer: parameter groups, per-parameter state, zero_grad, state_dict, step hooks.

Subclasses implement `step` by working directly on the backend arrays (`p._data`, `p.grad._data`)
with in-place array operations: an optimizer step is not differentiated, so going through Tensor
ops and autograd would only cost time. State tensors stay glasstorch Tensors (so `state_dict`,
`glasstorch.save` and printing work), and their arrays are updated in place.
"""
from __future__ import annotations

import functools
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from copy import deepcopy
from itertools import accumulate, chain
from typing import Any, Union

import numpy as np

from .. import _dtype
from .._ops import deferred
from .._tensor import Tensor, _make
from ..autograd.graph import _Handle
from ..autograd.grad_mode import enable_grad

__all__ = ["Optimizer", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook", "required"]

ParamsT = Union[Iterable[Tensor], Iterable[dict], Iterable[tuple]]
StateDict = dict

_global_pre_hooks: "OrderedDict[int, Callable]" = OrderedDict()
_global_post_hooks: "OrderedDict[int, Callable]" = OrderedDict()


class _RequiredParameter:
    """Marks a hyper-parameter that every parameter group must set (torch.optim.optimizer.required)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def register_optimizer_step_pre_hook(hook: Callable) -> _Handle:
    """hook(optimizer, args, kwargs) -> None or (args, kwargs), run before every optimizer's step."""
    return _Handle(_global_pre_hooks, hook)


def register_optimizer_step_post_hook(hook: Callable) -> _Handle:
    """hook(optimizer, args, kwargs), run after every optimizer's step."""
    return _Handle(_global_post_hooks, hook)


def _typename(obj) -> str:
    """torch.typename: 'torch.FloatTensor' for tensors, 'module.Class' (or 'int') otherwise."""
    if isinstance(obj, Tensor):
        return obj.type()
    cls = type(obj)
    module = cls.__module__
    return cls.__qualname__ if module in (None, "builtins") else f"{module}.{cls.__qualname__}"


def _with_step_hooks(step: Callable) -> Callable:
    """Wrap a subclass's `step` so that the step pre/post hooks run around it."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        self._opt_called = True  # lets an LR scheduler warn when it is stepped before the optimizer
        deferred.flush()  # steps write parameters and state straight into their arrays
        if self._optimizer_step_pre_hooks or _global_pre_hooks:
            for hook in chain(_global_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            f"{step} must return None or a tuple of (new_args, new_kwargs), but got {result}.")
                    args, kwargs = result
        out = step(self, *args, **kwargs)
        if self._optimizer_step_post_hooks or _global_post_hooks:
            for hook in chain(self._optimizer_step_post_hooks.values(), _global_post_hooks.values()):
                hook(self, args, kwargs)
        return out

    wrapper.hooked = True
    return wrapper


def _eval_closure(closure: Callable | None):
    """Run the closure (which recomputes the loss and calls backward) with autograd on."""
    if closure is None:
        return None
    with enable_grad():
        return closure()


def _as_float(x) -> float:
    """A hyper-parameter (float or 1-element Tensor) as a Python float."""
    return float(x) if isinstance(x, Tensor) else x


def _check_nonnegative(*checks: tuple) -> None:
    """PyTorch's ValueError for the first negative hyper-parameter: checks are (label, value) pairs,
    e.g. ("learning rate", lr) -> "Invalid learning rate: -1"."""
    for label, value in checks:
        if not 0.0 <= value:
            raise ValueError(f"Invalid {label}: {value}")


def _check_tensor_hparam(value, what: str) -> None:
    if isinstance(value, Tensor) and value.numel() != 1:
        raise ValueError(f"Tensor {what} must be 1-element")


def _check_no_differentiable(differentiable: bool) -> None:
    # step() works on raw arrays, outside autograd: refuse rather than silently not differentiate
    if differentiable:
        raise NotImplementedError("glasstorch optimizers do not support differentiable=True: "
                                  "step() is not recorded by autograd")


def _step_counter(value: float = 0.0) -> Tensor:
    """The 'step' count torch keeps per parameter: a 0-d CPU tensor of the default float dtype."""
    return _make(np.array(value, dtype=_dtype.get_default_dtype().np))


def _tick(step: Tensor) -> float:
    """Add one to a 'step' counter tensor in place and return the new count as a float."""
    arr = step._data
    arr += 1
    return float(arr)


_PIECE = 1 << 15  # elements per piece in _add_scaled_: 128 KiB of float32


def _lerp_(start, end, weight: float, xp) -> None:
    """start <- start + weight * (end - start), in place, in torch's two-sided form (exact at weight 1)."""
    diff = end - start
    if abs(weight) < 0.5:
        diff *= weight
        start += diff
    else:
        diff *= 1 - start.dtype.type(weight)  # torch forms (1 - weight) in the tensor's precision
        xp.subtract(end, diff, out=start)


_PACK_MAX = 1 << 14  # parameters of at most this many elements are updated together (see _Pack)


class _Pack:
    """The small parameters of a group, updated as one: each state array (exp_avg, ...) becomes a
    view into one flat array per state key, and the gradients are gathered into one flat array, so
    that the update runs its dozen array calls once for all of them instead of once per parameter.
    (On a bias of 10 numbers the calls, not the arithmetic, are the cost.) Element by element the
    update is the same, so the results are too.

    The state tensors stay the same objects; only the arrays behind them move into the flat ones.
    """

    def __init__(self, params: list, states: list, keys: tuple, xp) -> None:
        self.keys = keys
        self.bounds = list(accumulate((p._data.size for p in params), initial=0))
        self.flat, self.views = {}, {}
        for key in keys:
            flat = xp.concatenate([s[key]._data.reshape(-1) for s in states])
            views = [flat[a:b].reshape(p._data.shape) for p, a, b in zip(params, self.bounds, self.bounds[1:])]
            for s, v in zip(states, views):
                s[key]._data = v
            self.flat[key], self.views[key] = flat, views
        self.grad = xp.empty_like(flat)
        self.work = xp.empty_like(flat)

    def holds(self, states: list) -> bool:
        """Whether every state array is still this pack's view (load_state_dict puts new ones)."""
        for key in self.keys:
            views = self.views[key]
            if len(views) != len(states):
                return False
            for s, v in zip(states, views):
                if s[key]._data is not v:
                    return False
        return True

    def gather_grads(self, params: list, xp):
        """The parameters' gradients, one after the other in one flat array."""
        xp.concatenate([p.grad._data.reshape(-1) for p in params], out=self.grad)
        return self.grad

    def add_to_params(self, params: list, update) -> None:
        """p += its piece of the flat `update`, for every parameter."""
        bounds = self.bounds
        for i, p in enumerate(params):
            d = p._data
            d += update[bounds[i]:bounds[i + 1]].reshape(d.shape)
            p._vc[0] += 1


def _packable(params: list) -> bool:
    """Whether these parameters can share a _Pack: two or more, real floating, one dtype and device."""
    if len(params) < 2:
        return False
    d0, dev = params[0]._data.dtype, params[0].device
    return d0.kind == "f" and all(p._data.dtype == d0 and p.device == dev for p in params)


def _zeros_state(param: Tensor, fill: float = 0.0) -> Tensor:
    """A state tensor shaped, typed and placed like `param`, filled with `fill`."""
    xp = param.device.xp
    arr = xp.zeros_like(param._data) if fill == 0 else xp.full_like(param._data, fill)
    return _make(arr, param.device)


def _state_copy(array, param: Tensor) -> Tensor:
    """A new state tensor on param's device holding a copy of `array` (a backend array or scalar)."""
    return _make(param.device.xp.array(array, copy=True), param.device)


class Optimizer:
    """Base class of all optimizers.

    params: an iterable of Tensors, of (name, Tensor) pairs, or of dicts (parameter groups, each
    with a 'params' entry and optionally its own hyper-parameters); defaults: the hyper-parameters
    used where a group does not set them.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "hooked", False):
            cls.step = _with_step_hooks(step)

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors "
                            "or dicts, but got " + _typename(params))
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def _scratch(self, array):
        """A reusable work array shaped like `array` (not state: never saved, shared by same-shaped
        parameters), so that an update allocates nothing."""
        bufs = self.__dict__.setdefault("_scratch_bufs", {})
        key = (array.shape, array.dtype, type(array))
        buf = bufs.get(key)
        if buf is None:
            buf = bufs[key] = array.copy()  # (its values are overwritten before every use)
        return buf

    def _pack(self, params: list, states: list, keys: tuple) -> _Pack:
        """The _Pack of these parameters' `keys` state, made on first use and again whenever their
        state arrays were replaced (not pickled: it is rebuilt from the state)."""
        packs = self.__dict__.setdefault("_packs", {})
        key = tuple(map(id, params))
        pack = packs.get(key)
        if pack is None or pack.keys != keys or not pack.holds(states):
            pack = packs[key] = _Pack(params, states, keys, params[0].device.xp)
        return pack

    def _add_scaled_(self, target, source, alpha: float, xp) -> None:
        """target += alpha * source without a temporary as large as target: piece by piece through a
        small scratch that stays in the CPU cache (a fresh multi-megabyte temporary costs more than
        the arithmetic). On a GPU the pieces would be thousands of kernel launches: one pass there."""
        if (target.size <= _PIECE or type(target) is not np.ndarray
                or not (target.flags.c_contiguous and source.flags.c_contiguous)):
            tmp = self._scratch(target)
            xp.multiply(source, alpha, out=tmp)
            target += tmp
            return
        t, s = target.reshape(-1), source.reshape(-1)
        buf = self._scratch(t[:_PIECE])
        for a in range(0, t.size, _PIECE):
            piece = buf[:min(_PIECE, t.size - a)]
            xp.multiply(s[a:a + _PIECE], alpha, out=piece)
            t[a:a + _PIECE] += piece

    # ---- pickling and printing --------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("_optimizer_step_pre_hooks", OrderedDict())
        self.__dict__.setdefault("_optimizer_step_post_hooks", OrderedDict())
        self.defaults.setdefault("differentiable", False)

    def _upgrade_state(self, group_defaults: tuple, step_counters: bool = True) -> None:
        """After unpickling an older optimizer: fill in group options it did not have, and (if this
        optimizer counts steps) turn 'step' numbers into the tensors newer checkpoints keep."""
        for group in self.param_groups:
            for key, default in group_defaults:
                group.setdefault(key, default)
        if step_counters:
            for p_state in self.state.values():
                if p_state and not isinstance(p_state["step"], Tensor):
                    p_state["step"] = _step_counter(float(p_state["step"]))

    def __repr__(self) -> str:
        # each group opens with a newline and each entry ends with one: groups are blank-line separated
        out = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            out += f"\nParameter Group {i}\n"
            out += "".join(f"    {key}: {group[key]}\n" for key in sorted(group) if key != "params")
        return out + ")"

    # ---- hooks ---------------------------------------------------------------------------------------
    def register_step_pre_hook(self, hook: Callable) -> _Handle:
        """hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs), run before step()."""
        return _Handle(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook: Callable) -> _Handle:
        """hook(optimizer, args, kwargs), run after step()."""
        return _Handle(self._optimizer_step_post_hooks, hook)

    # ---- parameter groups ------------------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Append a group of parameters (with its own hyper-parameters) to `param_groups`."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the "
                            "ordering of tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)

        tensors, names = [], []
        for p in params:
            if isinstance(p, tuple):  # (name, tensor) pairs from named_parameters()
                names.append(p[0])
                p = p[1]
            tensors.append(p)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names

        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + _typename(p))
            if not self.defaults.get("differentiable", None) and not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)

        if len(tensors) != len(set(tensors)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this "
                          "will cause an error; see github.com/pytorch/pytorch/issues/40967 for more "
                          "information", stacklevel=3)

        seen: set = set()
        for group in self.param_groups:
            seen.update(group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if not seen.isdisjoint(tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ---- gradients -------------------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: drop them (set_to_none=True) or fill them with zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                if grad.grad_fn is not None:
                    grad.detach_()
                else:
                    grad._requires_grad = False
                grad._data.fill(0)
                grad._vc[0] += 1

    def step(self, closure: Callable[[], Any] | None = None):
        """Update the parameters once from their .grad; `closure` recomputes and returns the loss."""
        raise NotImplementedError

    # ---- checkpoints -----------------------------------------------------------------------------------
    def state_dict(self) -> StateDict:
        """{'state': {index: per-parameter state}, 'param_groups': [group with 'params' as index lists]}.

        Parameters are numbered in the order they first appear across the groups; the state tensors
        are the optimizer's own (not copies), as in torch.
        """
        index_of: dict[int, int] = {}
        packed_groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index_of.setdefault(id(p), len(index_of))
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            packed_groups.append(packed)
        packed_state = {(index_of[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        return {"state": packed_state, "param_groups": packed_groups}

    def load_state_dict(self, state_dict: StateDict) -> None:
        """Restore what `state_dict()` returned; groups must match this optimizer's in number and sizes."""
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        param_of = dict(zip(chain.from_iterable(s["params"] for s in saved_groups),
                            chain.from_iterable(g["params"] for g in groups)))

        state: defaultdict = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in param_of:
                p = param_of[key]
                state[p] = _cast_state(p, value)
            else:
                state[key] = value

        new_groups = []
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            new_groups.append(saved)
        self.__setstate__({"state": state, "param_groups": new_groups})


def _cast_state(param: Tensor, value, key=None):
    """A loaded state value made ready for `param`: tensors moved to its device (and, apart from the
    'step' counters, its float dtype), containers rebuilt, everything else kept."""
    if isinstance(value, Tensor):
        if key != "step" and param.is_floating_point() and value.dtype != param.dtype:
            value = value.to(dtype=param.dtype)
        if value.device != param.device:
            value = value.to(device=param.device)
        if getattr(value._data.flags, "writeable", True):
            return value
        return _make(value._data.copy(), value.device)  # updated in place later, so it must be writeable
    if isinstance(value, dict):
        return {k: _cast_state(param, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(param, v) for v in value)
    return value
