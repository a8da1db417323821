"""no_grad, enable_grad, set_grad_enabled, inference_mode: context managers and decorators.

Each one flips the global `_GradMode.enabled` switch that every op reads, and puts the old value
back on exit, so they nest. As decorators they work with or without parentheses:
`@torch.no_grad()` and `@torch.no_grad`.
"""
from __future__ import annotations

import functools

from .graph import _GradMode


class _DecoratorContext:
    """A context manager that can also decorate a function (a fresh context per call)."""

    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and callable(args[0]) and not kwargs and cls._bare_decorator:
            return cls()(args[0])  # used as @no_grad, without parentheses
        return super().__new__(cls)

    _bare_decorator = True

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)
        return wrapper

    def clone(self):
        return self.__class__()


class no_grad(_DecoratorContext):
    """Operations inside do not record a graph (inference, manual parameter updates)."""

    def __enter__(self) -> None:
        self.prev = _GradMode.enabled
        _GradMode.enabled = False

    def __exit__(self, *exc) -> None:
        _GradMode.enabled = self.prev


class enable_grad(_DecoratorContext):
    """Record graphs again (inside a no_grad block)."""

    def __enter__(self) -> None:
        self.prev = _GradMode.enabled
        _GradMode.enabled = True

    def __exit__(self, *exc) -> None:
        _GradMode.enabled = self.prev


class set_grad_enabled(_DecoratorContext):
    """Turn recording on or off now; used with `with`, the old mode comes back on exit."""

    _bare_decorator = False

    def __init__(self, mode: bool) -> None:
        self.prev = _GradMode.enabled
        self.mode = bool(mode)
        _GradMode.enabled = self.mode

    def __call__(self, fn):
        _GradMode.enabled = self.prev  # as a decorator it applies only while `fn` runs
        return super().__call__(fn)

    def clone(self):
        return self.__class__(self.mode)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        _GradMode.enabled = self.prev


class inference_mode(_DecoratorContext):
    """No graph, and the tensors made inside are inference tensors (no version counter).

    As PyTorch's InferenceMode guard: inference_mode(True) turns grad mode off, inference_mode(False)
    turns inference mode off and grad mode on; the previous modes come back on exit."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)

    def clone(self):
        return self.__class__(self.mode)

    def __enter__(self) -> None:
        self.prev = (_GradMode.enabled, _GradMode.inference)
        _GradMode.enabled = not self.mode
        _GradMode.inference = self.mode

    def __exit__(self, *exc) -> None:
        _GradMode.enabled, _GradMode.inference = self.prev


_INPLACE_ON_INFERENCE = (
    "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a clone to get a "
    "normal tensor before doing inplace update.See https://github.com/pytorch/rfcs/pull/17 for more details.")
_SAVED_INFERENCE = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created in inference mode in "
    "computation tracked by autograd. To work around this, you can make a clone to get a normal tensor and use "
    "it in autograd, or use `torch.no_grad()` instead of `torch.inference_mode()`.")


class _NoVersion:
    """The version counter of an inference tensor, which has none (shared by all of them).

    Inside inference mode it reads 0 and ignores writes. Outside, reading it means autograd is
    saving the tensor for backward (Node records saved versions), which PyTorch refuses."""

    __slots__ = ()

    def __getitem__(self, i) -> int:
        if _GradMode.inference:
            return 0
        raise RuntimeError(_SAVED_INFERENCE)

    def __setitem__(self, i, value) -> None:
        if not _GradMode.inference:
            raise RuntimeError(_INPLACE_ON_INFERENCE)


NO_VERSION = _NoVersion()


def check_inplace_allowed(t) -> None:
    """Refuse an in-place write to an inference tensor outside inference mode (before any data moves)."""
    if t._vc is NO_VERSION and not _GradMode.inference:
        raise RuntimeError(_INPLACE_ON_INFERENCE)


def is_grad_enabled() -> bool:
    return _GradMode.enabled


def is_inference_mode_enabled() -> bool:
    return _GradMode.inference
