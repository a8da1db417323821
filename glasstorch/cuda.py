"""torch.cuda: availability and housekeeping of the CUDA backend."""
from __future__ import annotations

from .backends import cuda as _backend


def is_available() -> bool:
    """True when CuPy is installed and sees an NVIDIA GPU."""
    return _backend.is_available()


def device_count() -> int:
    return _backend.device_count()


def current_device() -> int:
    _backend.require()
    return 0


def synchronize(device=None) -> None:
    if is_available():
        _backend.xp.cuda.Device().synchronize()


def manual_seed(seed: int) -> None:
    """Seeds the CUDA generator; glasstorch draws all random numbers from the global one."""


def manual_seed_all(seed: int) -> None:
    pass


def empty_cache() -> None:
    if is_available():
        _backend.xp.get_default_memory_pool().free_all_blocks()


def get_device_name(device=None) -> str:
    _backend.require()
    return _backend.xp.cuda.runtime.getDeviceProperties(0)["name"].decode()
