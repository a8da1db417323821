"""Device backends: the one place that maps a device to its array module.

Each backend module exposes `xp` (a NumPy-compatible array namespace) plus the few helpers NumPy
itself lacks (`erf`, `scatter_add`). Ops reach arrays only through `tensor.device.xp`.
"""
from __future__ import annotations

import os

from . import cpu, cpu_fused
from . import cudnn, mps  # noqa: F401  (torch.backends.cudnn / .mps: settings, no devices)

# the NumPy-backed test device (fake_cuda.py) in place of CuPy for device 'cuda'
_fake_cuda = os.environ.get("GLASSTORCH_FAKE_CUDA", "0") not in ("", "0")


def use_fake_cuda(enabled: bool = True) -> bool:
    """Serve device 'cuda' from the test-only fake backend (or CuPy again); returns the previous choice."""
    global _fake_cuda
    previous, _fake_cuda = _fake_cuda, bool(enabled)
    if previous != _fake_cuda:
        from .._device import _forget_cuda_backend

        _forget_cuda_backend()
    return previous


def cuda_module():
    """The module behind device 'cuda' (fake_cuda when selected, else the CuPy backend), unchecked."""
    if _fake_cuda:
        from . import fake_cuda

        return fake_cuda
    from . import cuda

    return cuda


_fused_kernels: dict = {}  # backend module -> its cuda_fused.Fused


def fused(device):
    """The fused kernels serving a device's arrays (the one place that picks): `cpu_fused` (numba) on the
    CPU, `cuda_fused.Fused` (CuPy kernels, or the fake device's NumPy run of them) on CUDA. Their functions
    return False (or None) when they cannot take the arrays, and the caller runs its reference code."""
    backend = device.backend
    if backend is cpu:
        return cpu_fused
    kernels = _fused_kernels.get(backend)
    if kernels is None:
        from .cuda_fused import Fused

        kernels = _fused_kernels[backend] = Fused(backend.xp)
    return kernels


def get(device_type: str):
    """The backend module for a device type ('cpu' or 'cuda')."""
    if device_type == "cpu":
        return cpu
    if device_type == "cuda":
        module = cuda_module()
        module.require()
        return module
    raise RuntimeError(f"Expected one of cpu, cuda device type at start of device string: {device_type}")
