"""torch.compile as a pass-through: glasstorch runs eagerly, so compiling changes nothing.

Programs written for PyTorch 2 often wrap their model (`model = torch.compile(model)`) or a
function (`@torch.compile`, `@torch.compile(mode="reduce-overhead")`); here each form hands back
the same object, so such programs run unchanged and print the same numbers.
"""
from __future__ import annotations

from typing import Callable

__all__ = ["compile"]


def compile(model: Callable | None = None, *, fullgraph: bool = False, dynamic: bool | None = None,
            backend: str | Callable = "inductor", mode: str | None = None, options: dict | None = None,
            disable: bool = False) -> Callable:
    """Return `model` itself; without a model, a decorator that returns what it decorates."""
    if model is None:
        def decorate(fn: Callable) -> Callable:
            return fn

        return decorate
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    return model
