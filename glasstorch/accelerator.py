"""torch.accelerator: the device-agnostic view of the current accelerator.

glasstorch's one accelerator is CUDA (through CuPy); without it there is none, and these answer
as PyTorch's CPU build does: is_available() False, current_accelerator() None, device_count() 0.
"""
from __future__ import annotations

from . import cuda as _cuda
from ._device import device as _device

__all__ = ["current_accelerator", "current_device_idx", "current_device_index", "device_count", "device_index",
           "empty_cache", "is_available", "set_device_idx", "set_device_index", "synchronize"]

_NONE = "Cannot access accelerator device when none is available."


def device_count() -> int:
    """The number of accelerator devices (0 without one)."""
    return _cuda.device_count()


def is_available() -> bool:
    return device_count() > 0


def current_accelerator(check_available: bool = False) -> _device | None:
    """device('cuda') when CUDA is usable, else None (also when check_available and it is not available)."""
    return _device("cuda") if _cuda.is_available() else None


def _require() -> None:
    if not is_available():
        raise RuntimeError(_NONE)


def current_device_index() -> int:
    _require()
    return _cuda.current_device()


current_device_idx = current_device_index


def set_device_index(device, /) -> None:
    """glasstorch drives one device, so the only index there is to set is 0."""
    _require()
    index = device.index if isinstance(device, _device) else device
    if index not in (None, 0):
        raise RuntimeError(f"glasstorch uses one CUDA device; cannot select device {index}")


set_device_idx = set_device_index


def synchronize(device=None, /) -> None:
    _require()
    _cuda.synchronize(device)


def empty_cache() -> None:
    _require()
    _cuda.empty_cache()


class device_index:
    """Context manager selecting an accelerator device by index (None: leave it as it is)."""

    def __init__(self, device: int | None, /) -> None:
        self.idx = device

    def __enter__(self) -> None:
        if self.idx is not None:
            set_device_index(self.idx)

    def __exit__(self, *exc) -> bool:
        return False
