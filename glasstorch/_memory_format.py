"""torch.memory_format and its four values (torch.contiguous_format, torch.channels_last, ...).

glasstorch keeps every tensor in its one row-major layout, so a memory format is accepted wherever
PyTorch takes one (x.to(memory_format=torch.channels_last), model.to(...), x.contiguous(...)) and
changes no values: it is a layout hint for PyTorch's kernels, not part of a tensor's meaning.
"""
from __future__ import annotations

__all__ = ["memory_format", "contiguous_format", "channels_last", "channels_last_3d", "preserve_format"]


class _TorchConstant:
    """A named singleton that prints as PyTorch prints it (torch.channels_last, torch.strided) and
    pickles as the module-level name it is."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"torch.{self._name}"

    def __reduce__(self):
        return self._name


class memory_format(_TorchConstant):  # noqa: N801  (PyTorch's class name)
    """One memory layout."""

    __slots__ = ()


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")
