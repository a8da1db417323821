"""Device backends: the one place that maps a device to its array module.

Each backend module exposes `xp` (a NumPy-compatible array namespace) plus the few helpers NumPy
itself lacks (`erf`, `scatter_add`). Ops reach arrays only through `tensor.device.xp`.
"""
from __future__ import annotations

from . import cpu
from . import cudnn, mps  # noqa: F401  (torch.backends.cudnn / .mps: settings, no devices)


def get(device_type: str):
    """The backend module for a device type ('cpu' or 'cuda')."""
    if device_type == "cpu":
        return cpu
    if device_type == "cuda":
        from . import cuda

        cuda.require()
        return cuda
    raise RuntimeError(f"Expected one of cpu, cuda device type at start of device string: {device_type}")
