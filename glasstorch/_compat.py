"""Run unchanged PyTorch programs on glasstorch: `import torch` gets glasstorch.

    with torch_alias():          # for a while; sys.modules is restored afterwards
        ...                      # here `import torch` gives glasstorch, `import torch.nn` glasstorch.nn

    install_torch_alias()        # for the rest of the process
    run_script("train.py", ["--epochs", "1"])   # python train.py --epochs 1, on glasstorch

Two mechanisms work together. Every glasstorch submodule that already exists (or one of the usual
public ones that can be imported) is entered in sys.modules under its torch name up front, so
`sys.modules["torch.nn"] is glasstorch.nn`. Any other `torch.X` a script imports is found on
demand by a meta-path finder that imports `glasstorch.X` and hands back that same module object.
`torchvision` and `torchvision.X` are mapped the same way, to `glasstorch.vision(.X)`.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import runpy
import sys
from types import ModuleType
from typing import Any, Iterator, Sequence

__all__ = ["torch_alias", "install_torch_alias", "uninstall_torch_alias", "run_script"]

# The public submodules scripts import by name; those glasstorch lacks are simply left out.
PUBLIC_SUBMODULES = (
    "nn", "nn.functional", "nn.init", "nn.utils", "nn.parameter", "nn.modules",
    "optim", "optim.lr_scheduler", "utils", "utils.data", "autograd", "cuda", "backends",
    "serialization",
)


def _torch_name(name: str) -> str | None:
    """'glasstorch.nn.init' -> 'torch.nn.init', 'glasstorch.vision.X' -> 'torchvision.X'; None for
    names outside glasstorch."""
    if name == "glasstorch":
        return "torch"
    if name == "glasstorch.vision" or name.startswith("glasstorch.vision."):
        return "torchvision" + name[len("glasstorch.vision"):]
    if name.startswith("glasstorch."):
        return "torch" + name[len("glasstorch"):]
    return None


def _glasstorch_name(name: str) -> str | None:
    """'torch.nn.init' -> 'glasstorch.nn.init', 'torchvision.X' -> 'glasstorch.vision.X'; None for
    names outside torch and torchvision."""
    if name == "torch":
        return "glasstorch"
    if name == "torchvision" or name.startswith("torchvision."):
        return "glasstorch.vision" + name[len("torchvision"):]
    if name.startswith("torch."):
        return "glasstorch" + name[len("torch"):]
    return None


def _is_torch_key(name: str) -> bool:
    return name in ("torch", "torchvision") or name.startswith(("torch.", "torchvision."))


class _AliasLoader(importlib.abc.Loader):
    """Loads `torch.X` by returning the already-imported `glasstorch.X` module itself."""

    def __init__(self, module: ModuleType):
        self.module = module
        self.spec = module.__spec__

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return self.module

    def exec_module(self, module: ModuleType) -> None:
        # The import system stamped the alias spec onto the module; glasstorch.X keeps its own.
        module.__spec__ = self.spec


class _AliasFinder(importlib.abc.MetaPathFinder):
    """Answers imports of `torch` and `torch.X` with glasstorch's modules."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None):
        real = _glasstorch_name(fullname)
        if real is None:
            return None
        try:
            module = importlib.import_module(real)
        except ModuleNotFoundError as exc:
            # glasstorch lacks this submodule: let Python report "No module named 'torch.X'".
            # A missing dependency *inside* glasstorch is a real error and propagates.
            if exc.name is not None and (real == exc.name or real.startswith(exc.name + ".")):
                return None
            raise
        return importlib.util.spec_from_loader(fullname, _AliasLoader(module),
                                               is_package=hasattr(module, "__path__"))


def _alias_table() -> dict[str, ModuleType]:
    """{torch name: glasstorch module} for glasstorch and its public, importable submodules."""
    glasstorch = importlib.import_module("glasstorch")
    for sub in PUBLIC_SUBMODULES:
        try:
            importlib.import_module(f"glasstorch.{sub}")
        except ModuleNotFoundError as exc:
            full = f"glasstorch.{sub}"
            if exc.name is None or not (full == exc.name or full.startswith(exc.name + ".")):
                raise
    table = {"torch": glasstorch}
    for name, module in list(sys.modules.items()):
        alias = _torch_name(name)
        # Private modules (glasstorch._ops...) stay private; the finder maps them if asked.
        private = any(part.startswith("_") for part in name.split(".")[1:])
        if alias is not None and module is not None and not private:
            table[alias] = module
    return table


def _install() -> _AliasFinder:
    """Enters the aliases in sys.modules and puts the finder first on sys.meta_path."""
    for key in [k for k in sys.modules if _is_torch_key(k)]:
        del sys.modules[key]  # a real torch already imported must not leak its submodules
    sys.modules.update(_alias_table())
    finder = _AliasFinder()
    sys.meta_path.insert(0, finder)
    return finder


def install_torch_alias() -> None:
    """Maps `torch` to glasstorch for the rest of the process (undo with uninstall_torch_alias)."""
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        _install()


def uninstall_torch_alias() -> None:
    """Removes every `torch` alias that install_torch_alias() made (real torch is not restored)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _AliasFinder)]
    for key in [k for k in sys.modules if _is_torch_key(k)]:
        module = sys.modules[key]
        if getattr(module, "__name__", "").startswith("glasstorch"):
            del sys.modules[key]


@contextlib.contextmanager
def torch_alias() -> Iterator[ModuleType]:
    """Within the block `import torch` (and torch.X) gives glasstorch; yields glasstorch.

    On exit sys.modules holds exactly the `torch` entries it held before (a real torch imported
    earlier comes back) and the finder is gone from sys.meta_path.
    """
    saved = {k: v for k, v in sys.modules.items() if _is_torch_key(k)}
    finder = _install()
    try:
        yield sys.modules["torch"]
    finally:
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(finder)
        for key in [k for k in sys.modules if _is_torch_key(k)]:
            del sys.modules[key]
        sys.modules.update(saved)


def run_script(path: str, argv: Sequence[str] = (), restore: bool = True) -> dict[str, Any]:
    """Runs a script as `__main__` (like `python path *argv`) with torch mapped to glasstorch.

    sys.argv and sys.path[0] are set as the interpreter would set them and restored afterwards;
    with restore=False the torch aliases stay installed (what a process that only runs this
    script wants: atexit handlers and late imports keep seeing glasstorch). Returns the script's
    globals; exceptions, SystemExit included, propagate.
    """
    path = os.fspath(path)
    old_argv, old_path = sys.argv[:], sys.path[:]
    sys.argv = [path, *argv]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        if restore:
            with torch_alias():
                return runpy.run_path(path, run_name="__main__")
        install_torch_alias()
        return runpy.run_path(path, run_name="__main__")
    finally:
        sys.argv, sys.path[:] = old_argv, old_path
