"""no_grad, enable_grad, set_grad_enabled, inference_mode: context managers and decorators."""
from __future__ import annotations

import functools

from .graph import _GradMode


class _DecoratorContext:
    """A context manager that also works as a function decorator."""

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args()):
                return fn(*args, **kwargs)
        return wrapper

    def _args(self):
        return ()


class set_grad_enabled(_DecoratorContext):
    """Turn gradient recording on or off (immediately, and restores on exit when used with `with`)."""

    def __init__(self, mode: bool) -> None:
        self.prev = _GradMode.enabled
        self.mode = bool(mode)
        _GradMode.enabled = self.mode

    def _args(self):
        return (self.mode,)

    def __call__(self, fn):
        _GradMode.enabled = self.prev
        return super().__call__(fn)

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        _GradMode.enabled = self.prev


class no_grad(_DecoratorContext):
    """Operations inside do not record a graph (inference, manual parameter updates)."""

    def __enter__(self):
        self.prev = _GradMode.enabled
        _GradMode.enabled = False

    def __exit__(self, *exc):
        _GradMode.enabled = self.prev


class enable_grad(_DecoratorContext):
    def __enter__(self):
        self.prev = _GradMode.enabled
        _GradMode.enabled = True

    def __exit__(self, *exc):
        _GradMode.enabled = self.prev


class inference_mode(_DecoratorContext):
    def __init__(self, mode: bool = True) -> None:
        self.mode = mode

    def _args(self):
        return (self.mode,)

    def __enter__(self):
        self.prev = _GradMode.enabled
        if self.mode:
            _GradMode.enabled = False

    def __exit__(self, *exc):
        _GradMode.enabled = self.prev


def is_grad_enabled() -> bool:
    return _GradMode.enabled


def is_inference_mode_enabled() -> bool:
    return False
