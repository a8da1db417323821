"""torch.random: the global generator's seed and state, and fork_rng.

glasstorch has one generator for every device (`glasstorch._random.default_generator`), so saving
and restoring its state covers the CPU and CUDA streams alike.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

from ._random import (  # noqa: F401
    Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state,
)

__all__ = ["manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state", "fork_rng", "Generator",
           "default_generator"]


@contextlib.contextmanager
def fork_rng(devices=None, enabled: bool = True, _caller: str = "fork_rng", _devices_kw: str = "devices",
             device_type: str | None = None) -> Iterator[None]:
    """Within the block draw freely: on exit the generator's state and initial seed are as before.

    `devices` (CUDA device indices) is accepted for PyTorch's signature; the one generator glasstorch
    has already covers them. enabled=False makes this a no-op.
    """
    if device_type is not None:
        from ._device import device

        device(device_type)  # an unknown device type fails here, as in PyTorch
    if not enabled:
        yield
        return
    state, seed_before = default_generator.get_state(), default_generator.initial_seed()
    try:
        yield
    finally:
        default_generator.set_state(state)
        default_generator._seed = seed_before  # torch's state carries the seed: manual_seed inside is undone too
