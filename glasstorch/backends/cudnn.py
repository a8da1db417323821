"""torch.backends.cudnn: cuDNN's switches, kept as plain settings.

glasstorch does not call cuDNN (its CUDA path is CuPy), so the flags change nothing; they exist so that
programs which set them (`torch.backends.cudnn.benchmark = True`) run unchanged.
"""
from __future__ import annotations

import contextlib

enabled = True
benchmark = False
benchmark_limit = None  # (PyTorch builds without cuDNN have None here)
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """False: glasstorch has no cuDNN path."""
    return False


def version() -> int | None:
    return None


def is_acceptable(tensor) -> bool:
    return False


@contextlib.contextmanager
def flags(enabled: bool = False, benchmark: bool = False, benchmark_limit: int = 10, deterministic: bool = False,
          allow_tf32: bool = True):
    """Set the flags for the duration of a with-block, then restore them."""
    names = ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32")
    module = globals()
    saved = {name: module[name] for name in names}
    module.update(enabled=enabled, benchmark=benchmark, benchmark_limit=benchmark_limit, deterministic=deterministic,
                  allow_tf32=allow_tf32)
    try:
        yield
    finally:
        module.update(saved)
