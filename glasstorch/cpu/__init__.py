"""torch.cpu: the CPU as a device module (always available, nothing to wait for), and torch.cpu.amp."""
from __future__ import annotations


def is_available() -> bool:
    return True


def device_count() -> int:
    return 1


def current_device() -> str:
    return "cpu"


def synchronize(device=None) -> None:
    """CPU work is done when the call returns."""


from . import amp  # noqa: E402,F401
