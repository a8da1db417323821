"""PyTorch's `out=` argument for the top-level functions: `torch.mul(a, b, out=c)` writes into c.

The function computes its result as usual; the result is then written into `out`, which is resized
first when its shape differs (with PyTorch's deprecation warning unless it was empty). As in PyTorch,
out= does not mix with autograd: an input or `out` that requires grad, with grad mode on, is refused.
"""
from __future__ import annotations

import functools
import warnings
from typing import Callable

from .deferred import begin_write
from ._util import Tensor, _GradMode, type_word
from .inplace import _write

__all__ = ["with_out", "write_out", "refuse_autograd"]


def with_out(fn: Callable, dtype_from_out: bool = False, exported_as: str | None = None) -> Callable:
    """`fn`, also taking the keyword `out`: the result goes into that tensor, which is returned.
    dtype_from_out (the creation functions: torch.zeros(3, out=t)): the result takes out's dtype.
    exported_as: the wrapper's name as glasstorch.<name> (so that pickle finds the wrapper itself)."""

    @functools.wraps(fn)
    def wrapper(*args, out: Tensor | None = None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        refuse_autograd(fn.__name__, out, args, kwargs)
        if dtype_from_out:
            dtype = kwargs.get("dtype")
            if dtype is not None and dtype != out.dtype:
                raise RuntimeError(f"dtype {type_word(dtype.np)} does not match dtype of out parameter "
                                   f"({type_word(out._data.dtype)})")
            kwargs["dtype"] = out.dtype
        return write_out(out, fn(*args, **kwargs), warn=not dtype_from_out)

    # The wrapper's frame carries fn's name: tracebacks and glasstorch.viz's traces read "mul", not "wrapper"
    wrapper.__code__ = wrapper.__code__.replace(co_name=fn.__name__, co_qualname=fn.__qualname__)
    if exported_as is not None:
        wrapper.__module__, wrapper.__qualname__ = "glasstorch", exported_as
    return wrapper


def refuse_autograd(name: str, out: Tensor, args, kwargs) -> None:
    """PyTorch's error when out= meets autograd: `out` or an input requires grad, with grad mode on."""
    if _GradMode.enabled and (out._requires_grad or _any_requires_grad(args, kwargs)):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic differentiation, "
                           "but one of the arguments requires grad.")


def _any_requires_grad(args, kwargs) -> bool:
    """Whether a tensor among the arguments (or inside a list of them, as cat's) requires grad."""
    for a in (*args, *kwargs.values()):
        items = a if isinstance(a, (list, tuple)) else (a,)
        if any(isinstance(t, Tensor) and t._requires_grad for t in items):
            return True
    return False


def write_out(out: Tensor, result: Tensor, warn: bool = True) -> Tensor:
    """Store `result` into `out` (resizing it if needed, casting to out's dtype when allowed). PyTorch warns
    when it resizes a non-empty `out`, except in the creation functions (warn=False)."""
    begin_write(out)
    data = result._data
    if out._data.shape != data.shape:
        if warn and out._data.size != 0:
            old, new = (", ".join(map(str, s)) for s in (out._data.shape, data.shape))
            warnings.warn(f"An output with one or more elements was resized since it had shape [{old}], which does "
                          f"not match the required output shape [{new}]. This behavior is deprecated, and in a "
                          "future PyTorch release outputs will not be resized unless they have zero elements. You "
                          "can explicitly reuse an out tensor t by resizing it, inplace, to zero elements with "
                          "t.resize_(0).", UserWarning, stacklevel=3)
        out._data = out.device.xp.empty(data.shape, dtype=out._data.dtype)
    _write(out, data)  # refuses a result dtype that cannot be cast to out's, in PyTorch's words
    out._vc[0] += 1
    return out
