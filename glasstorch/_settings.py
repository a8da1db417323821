"""Process-wide settings scripts set at their start (a `seed_everything` helper, say):

    torch.set_num_threads(1); torch.use_deterministic_algorithms(True)
    torch.set_float32_matmul_precision("high")

glasstorch's kernels are deterministic and compute float32 products in float32 whatever is set, so the
last two only record what was asked and answer it back, with PyTorch's checks. The thread count is
real: it is GLASSTORCH_THREADS, the most parts glasstorch splits a batch loop into
(backends/cpu_threads.py).
"""
from __future__ import annotations

import os
import warnings

from .backends import cpu_threads

__all__ = [
    "get_num_threads", "set_num_threads", "get_num_interop_threads", "set_num_interop_threads",
    "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
    "is_deterministic_algorithms_warn_only_enabled", "set_deterministic_debug_mode", "get_deterministic_debug_mode",
    "set_float32_matmul_precision", "get_float32_matmul_precision",
]

_state = {"interop_threads": None, "deterministic": False, "warn_only": False, "matmul_precision": "highest"}
_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def _check_count(name: str, n) -> int:
    if not isinstance(n, int) or isinstance(n, bool):
        raise RuntimeError(f"{name} expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError(f"{name} expects a positive integer")
    return n


# ---- threads ----------------------------------------------------------------------------------------------
def get_num_threads() -> int:
    """The threads glasstorch may use on the CPU: what set_num_threads (or GLASSTORCH_THREADS) asked,
    else the usable cores."""
    limit = os.environ.get("GLASSTORCH_THREADS", "").strip()
    return int(limit) if limit.isdigit() and int(limit) > 0 else cpu_threads._cores()


def set_num_threads(n: int) -> None:
    """Use at most n threads: glasstorch splits a batch loop into at most n parts (1: no split)."""
    os.environ["GLASSTORCH_THREADS"] = str(_check_count("set_num_threads", n))


def get_num_interop_threads() -> int:
    return _state["interop_threads"] or cpu_threads._cores()


def set_num_interop_threads(n: int) -> None:
    """Recorded only: glasstorch runs no inter-op thread pool."""
    _state["interop_threads"] = _check_count("set_num_interop_threads", n)


# ---- determinism ------------------------------------------------------------------------------------------
def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    if not isinstance(mode, bool):
        raise TypeError(f"_set_deterministic_algorithms(): argument 'mode' (position 1) must be bool, not "
                        f"{type(mode).__name__}")
    _state["deterministic"], _state["warn_only"] = mode, bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _state["warn_only"]


def set_deterministic_debug_mode(debug_mode: str | int) -> None:
    """0 / "default": off, 1 / "warn": deterministic with warnings, 2 / "error": deterministic."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, `warn`, `error`, but got "
                               f"{debug_mode}")
        debug_mode = _DEBUG_MODES[debug_mode]
    elif debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    if not _state["deterministic"]:
        return 0
    return 1 if _state["warn_only"] else 2


# ---- float32 matrix products ----------------------------------------------------------------------------
def set_float32_matmul_precision(precision: str) -> None:
    """Recorded only: glasstorch's float32 products are always computed in float32 ("highest")."""
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      "setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    _state["matmul_precision"] = precision


def get_float32_matmul_precision() -> str:
    return _state["matmul_precision"]
