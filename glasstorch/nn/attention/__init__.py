"""torch.nn.attention: choosing a scaled-dot-product-attention kernel.

glasstorch has one kernel, so `sdpa_kernel(...)` is accepted and changes nothing: programs that
pick PyTorch's flash or memory-efficient kernels run unchanged, with the same values.
"""
from __future__ import annotations

import contextlib
import enum
from typing import Iterable, Iterator

__all__ = ["SDPBackend", "sdpa_kernel", "WARN_FOR_UNFUSED_KERNELS"]

WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.IntEnum):
    """The attention kernels PyTorch can choose from (glasstorch computes every choice the same way)."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    __str__ = enum.Enum.__str__  # "SDPBackend.MATH", as PyTorch prints it


@contextlib.contextmanager
def sdpa_kernel(backends: SDPBackend | Iterable[SDPBackend], set_priority: bool = False) -> Iterator[None]:
    """Run the block with these kernels allowed (a no-op: there is one kernel)."""
    yield
