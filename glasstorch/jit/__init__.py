"""torch.jit without a compiler: scripting and tracing hand back code that runs eagerly.

glasstorch has no TorchScript. `script(module)` and `trace(module, inputs)` return the same module seen
through a `ScriptModule` subclass (it shares the original's parameters, buffers and submodules, as a
scripted module does in PyTorch, and adds `.save`, `.code`); `script(fn)` / `trace(fn, inputs)`
return a `ScriptFunction` that calls `fn`. The decorators (`ignore`, `unused`, `export`, ...) return
what they decorate, `fork` runs its function at once and `wait` hands back the result. script, trace,
save, load, freeze, fork and wait warn as PyTorch 2.13 does (DeprecationWarning: torch.jit is deprecated).

`save`/`load` write glasstorch's own checkpoint (the module pickled whole by `glasstorch.save`), not
a TorchScript archive: neither PyTorch nor C++ can read it, and loading it needs the module's class
to be importable (it runs the pickle: load only files you trust).
"""
from __future__ import annotations

import functools
import os
import warnings
from typing import Any, Callable, Final  # noqa: F401  (torch.jit.Final is typing.Final)

from ..nn.modules.module import Module

__all__ = ["script", "trace", "trace_module", "ScriptModule", "ScriptFunction", "RecursiveScriptModule", "Future",
           "ignore", "unused", "export", "is_scripting", "is_tracing", "annotate", "Final", "Attribute",
           "save", "load", "fork", "wait", "freeze", "optimize_for_inference", "script_if_tracing", "interface",
           "script_method"]

_NO_COMPILER = "glasstorch runs this eagerly: it has no TorchScript compiler"
_TO_COMPILE_OR_EXPORT = "Please switch to `torch.compile` or `torch.export`."


def _deprecated(name: str, advice: str = _TO_COMPILE_OR_EXPORT) -> None:
    """PyTorch 2.13 deprecates most of torch.jit, with these warnings."""
    warnings.warn(f"`torch.jit.{name}` is deprecated. {advice}", DeprecationWarning, stacklevel=3)


class ScriptModule(Module):
    """What `script`/`trace` return for a module: the module itself, with ScriptModule's methods."""

    @property
    def original_name(self) -> str:
        return getattr(type(self), "_original", type(self)).__name__

    @property
    def code(self) -> str:
        return f"# {_NO_COMPILER}; forward is {self.original_name}.forward\n"

    @property
    def graph(self) -> str:
        return self.code

    def save(self, f, _extra_files=None) -> None:
        _save_module(self, f)

    def _get_name(self) -> str:
        return "RecursiveScriptModule" if hasattr(type(self), "_original") else super()._get_name()

    def extra_repr(self) -> str:
        if hasattr(type(self), "_original"):  # PyTorch shows a scripted module by its original's name only
            return f"original_name={self.original_name}"
        return super().extra_repr()

    def __reduce_ex__(self, protocol):
        if hasattr(type(self), "_original"):  # the generated class cannot be pickled by name: its original can
            return _as_script_module, (_plain(self),)
        return super().__reduce_ex__(protocol)


RecursiveScriptModule = ScriptModule
_SCRIPTED_CLASSES: dict[type, type] = {}


def _scripted_class(cls: type) -> type:
    """The ScriptModule subclass of a module class, made once per class."""
    scripted = _SCRIPTED_CLASSES.get(cls)
    if scripted is None:
        scripted = type("RecursiveScriptModule", (ScriptModule, cls), {"_original": cls, "__module__": __name__,
                                                                      "__qualname__": "RecursiveScriptModule"})
        _SCRIPTED_CLASSES[cls] = scripted
    return scripted


def _as_script_module(module: Module) -> ScriptModule:
    """A second view of `module` (a new object sharing its state) whose class adds ScriptModule's methods."""
    if isinstance(module, ScriptModule):
        return module
    view = object.__new__(_scripted_class(type(module)))
    view.__dict__ = module.__dict__  # the same parameters, buffers, submodules and hooks: nothing is copied
    return view


def _plain(module: Module) -> Module:
    """The module as its own class again (what gets pickled: the generated class cannot be)."""
    if not isinstance(module, ScriptModule) or not hasattr(type(module), "_original"):
        return module
    obj = object.__new__(type(module)._original)
    obj.__dict__ = module.__dict__
    return obj


class ScriptFunction:
    """A "scripted" function: calling it calls the Python function."""

    def __init__(self, fn: Callable):
        functools.update_wrapper(self, fn)
        self._fn = fn
        self.name = getattr(fn, "__name__", type(fn).__name__)

    def __call__(self, *args, **kwargs):
        return self._fn(*args, **kwargs)

    @property
    def code(self) -> str:
        return f"# {_NO_COMPILER}; this calls {self.name}\n"

    graph = code

    def save(self, f, _extra_files=None) -> None:
        raise RuntimeError("glasstorch.jit can save modules only: a ScriptFunction has no checkpoint of its own")

    def __repr__(self) -> str:
        return f"<glasstorch.jit.ScriptFunction object at {id(self):#x}>"


def script(obj: Any, optimize=None, _frames_up: int = 0, _rcb=None, example_inputs=None) -> Any:
    """A module comes back as a ScriptModule view of itself, a function as a ScriptFunction; classes,
    enums and already-scripted objects come back unchanged."""
    _deprecated("script")
    if isinstance(obj, Module):
        return _as_script_module(obj)
    if isinstance(obj, (ScriptFunction, type)):
        return obj
    if callable(obj):
        return ScriptFunction(obj)
    raise RuntimeError(f"glasstorch.jit.script cannot take an object of type {type(obj).__name__}")


def trace(func, example_inputs=None, optimize=None, check_trace: bool = True, check_inputs=None,
          check_tolerance: float = 1e-5, strict: bool = True, _force_outplace: bool = False,
          _module_class=None, _compilation_unit=None, example_kwarg_inputs=None, _store_inputs: bool = True) -> Any:
    """Like `script`: nothing is recorded, so data-dependent control flow keeps working (unlike a
    real trace, which freezes the path the example inputs took). The example inputs are not run."""
    _deprecated("trace")
    if isinstance(func, Module):
        _deprecated("trace_method")  # PyTorch traces a module's forward through trace_module, which says so
        return _as_script_module(func)
    if not callable(func):
        raise TypeError(f"trace expects a function or an nn.Module, got {type(func).__name__}")
    return func if isinstance(func, ScriptFunction) else ScriptFunction(func)


def trace_module(mod: Module, inputs: dict, **kwargs) -> ScriptModule:
    _deprecated("trace_method")  # PyTorch's own wording names trace_method here
    return _as_script_module(mod)


def save(m, f, _extra_files=None) -> None:
    """Write a scripted (or plain) module as a glasstorch checkpoint of the whole module."""
    _deprecated("save", "Please switch to `torch.export`.")
    _save_module(m, f)


def _save_module(m, f) -> None:
    from ..serialization import save as _save

    if not isinstance(m, Module):
        raise TypeError(f"glasstorch.jit.save expects a module, got {type(m).__name__}")
    _save(_plain(m), f)


def load(f, map_location=None, _extra_files=None, _restore_shapes: bool = False) -> ScriptModule:
    """Read a module written by `save` (glasstorch's checkpoint; runs its pickle: trusted files only)."""
    from ..serialization import load as _load

    _deprecated("load", "Please switch to `torch.export`.")
    if isinstance(f, (str, os.PathLike)):
        if not os.path.exists(f):
            raise ValueError(f"The provided filename {os.fspath(f)} does not exist")
        if os.path.isdir(f):
            raise ValueError(f"The provided filename {os.fspath(f)} is a directory")
    module = _load(f, map_location=map_location, weights_only=False)
    if not isinstance(module, Module):
        raise RuntimeError(f"{f} holds a {type(module).__name__}, not a module saved by glasstorch.jit.save")
    return _as_script_module(module)


# ---- decorators and helpers that only mark code for the compiler: here they change nothing ----------------
def ignore(drop=False, **kwargs):
    """@ignore and @ignore(drop=True): the function is left as it is."""
    if callable(drop):  # used bare: @torch.jit.ignore
        return drop
    return lambda fn: fn


def unused(fn: Callable) -> Callable:
    return fn


def export(fn: Callable) -> Callable:
    return fn


def script_method(fn: Callable) -> Callable:
    return fn


def script_if_tracing(fn: Callable) -> Callable:
    return fn


def interface(obj):
    return obj


def is_scripting() -> bool:
    """False: glasstorch code always runs as Python."""
    return False


def is_tracing() -> bool:
    return False


def annotate(the_type, the_value):
    """The value (the type is a hint for the compiler)."""
    return the_value


def Attribute(value, type=None):  # noqa: N802  (PyTorch's name)
    return value


def freeze(mod, preserved_attrs=None, optimize_numerics: bool = True):
    _deprecated("freeze", "Please use `torch.compile` instead.")
    return mod


def optimize_for_inference(mod, other_methods=None):
    return mod


class Future:
    """The result of `fork`: the call has already run, so `wait()` and `value()` only hand it back."""

    def __init__(self, value=None, error: BaseException | None = None):
        self._value, self._error = value, error

    def done(self) -> bool:
        return True

    def wait(self):
        if self._error is not None:
            raise self._error
        return self._value

    value = wait


def fork(func: Callable, *args, **kwargs) -> Future:
    """Run `func(*args, **kwargs)` now (an error is raised by `wait`, as with an asynchronous call)."""
    _deprecated("fork", "Please use `torch.compile` instead.")
    try:
        return Future(func(*args, **kwargs))
    except Exception as error:  # noqa: BLE001  (handed to wait(), like an asynchronous task's failure)
        return Future(error=error)


def wait(future: Future):
    _deprecated("wait", "Please use `torch.compile` instead.")
    return future.wait()
