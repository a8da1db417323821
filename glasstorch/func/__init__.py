"""torch.func: functional_call, which runs a module with other tensors in place of its parameters and
buffers (MAML-style inner loops, ensembling, evaluating a model at given weights)."""
from __future__ import annotations

from typing import Any

from .._tensor import Tensor

__all__ = ["functional_call"]


def _owner(module, dotted: str):
    """(submodule, attribute name) for a dotted name such as "layers.0.weight"."""
    *path, attr = dotted.split(".")
    for part in path:
        module = getattr(module, part)
    return module, attr


def functional_call(module, parameter_and_buffer_dicts, args: Any = None, kwargs: dict | None = None, *,
                    tie_weights: bool = True, strict: bool = False):
    """module(*args, **kwargs) with module's parameters and buffers named in the dict(s) replaced by the
    given tensors for the duration of the call (gradients flow to those tensors); the module is left
    as it was. tie_weights: a tensor shared by two names is replaced under both."""
    dicts = parameter_and_buffer_dicts
    if isinstance(dicts, dict):
        dicts = (dicts,)
    if not all(isinstance(d, dict) for d in dicts):
        raise ValueError("Expected all elements of parameter_and_buffer_dicts to be dictionaries")
    names = [name for d in dicts for name in d]
    repeated = [name for name in dict.fromkeys(names) if names.count(name) > 1]
    if repeated:
        raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional call is ambiguous")
    replacements: dict[str, Tensor] = {name: value for d in dicts for name, value in d.items()}
    if strict:
        expected = {n for n, _ in module.named_parameters(remove_duplicate=False)}
        expected |= {n for n, _ in module.named_buffers(remove_duplicate=False)}
        missing, unexpected = sorted(expected - set(replacements)), sorted(set(replacements) - expected)
        if missing or unexpected:
            lines = []
            if unexpected:
                lines.append("Unexpected key(s): " + ", ".join(repr(k) for k in unexpected) + ".")
            if missing:
                lines.append("Missing key(s): " + ", ".join(repr(k) for k in missing) + ".")
            raise RuntimeError("Error(s) in reparametrizing for {}:\n\t{}".format(type(module).__name__,
                                                                               "\n\t".join(lines)))
    if tie_weights:  # a replaced tensor also replaces the other names of the same (tied) tensor
        names_of: dict[int, list[str]] = {}
        for n, t in [*module.named_parameters(remove_duplicate=False), *module.named_buffers(remove_duplicate=False)]:
            names_of.setdefault(id(t), []).append(n)
        for n, t in [*module.named_parameters(remove_duplicate=False), *module.named_buffers(remove_duplicate=False)]:
            for other in names_of[id(t)]:
                if other in replacements and n not in replacements:
                    replacements[n] = replacements[other]
    saved = []
    try:
        for name, value in replacements.items():
            owner, attr = _owner(module, name)
            table = next((t for t in (owner._parameters, owner._buffers) if attr in t), None)
            if table is None:
                raise AttributeError(f"{type(owner).__name__} has no parameter or buffer named {attr!r}")
            saved.append((table, attr, table[attr]))
            table[attr] = value
        args = () if args is None else args if isinstance(args, tuple) else (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for table, attr, original in reversed(saved):
            table[attr] = original
