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
    """Like no_grad (for code that will never need gradients); inference_mode(False) does nothing."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)

    def clone(self):
        return self.__class__(self.mode)

    def __enter__(self) -> None:
        self.prev = (_GradMode.enabled, _GradMode.inference)
        if self.mode:
            _GradMode.enabled = False
            _GradMode.inference = True

    def __exit__(self, *exc) -> None:
        _GradMode.enabled, _GradMode.inference = self.prev


def is_grad_enabled() -> bool:
    return _GradMode.enabled


def is_inference_mode_enabled() -> bool:
    return _GradMode.inference
