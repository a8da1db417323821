"""Random number generators: torch.Generator and the global default generator.

glasstorch draws from NumPy's PCG64; streams differ from PyTorch's (same distributions, not the
same bits), but the same seed always gives the same numbers here.
"""
from __future__ import annotations

import numpy as np

_DEFAULT_SEED = 67280421310721  # PyTorch's default seed


class Generator:
    """`Generator(device='cpu')`; `manual_seed(s)` returns the generator, as in PyTorch."""

    __slots__ = ("device", "rng", "_seed")

    def __init__(self, device="cpu"):
        from ._device import device as _device

        self.device = _device(device)
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed: int) -> "Generator":
        seed = int(seed)
        if not -0x8000_0000_0000_0000 <= seed <= 0xFFFF_FFFF_FFFF_FFFF:
            raise ValueError("Overflow when unpacking long long")  # PyTorch's words; seed must fit 64 bits
        self._seed = seed & 0xFFFF_FFFF_FFFF_FFFF
        self.rng = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self) -> int:
        """Re-seed from the OS's entropy and return the new seed."""
        s = int(np.random.SeedSequence().generate_state(1, np.uint64)[0])
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self):
        """The generator's state as a uint8 tensor (restore it with set_state)."""
        from ._ops.creation import tensor

        state = repr(self.rng.bit_generator.state).encode()
        return tensor(list(state), dtype=_uint8())

    def set_state(self, state) -> "Generator":
        import ast

        from ._tensor import Tensor

        if not isinstance(state, Tensor):
            raise TypeError(f"expected a torch.ByteTensor, but got {type(state).__name__}")
        if state.dtype is not _uint8():
            raise TypeError("RNG state must be a torch.ByteTensor")
        try:
            new = ast.literal_eval(bytes(state.tolist()).decode())
            self.rng.bit_generator.state = new
        except (ValueError, TypeError, SyntaxError, KeyError):
            raise RuntimeError(f"Expected a state made by Generator.get_state() but found an RNG state of "
                               f"{state.numel()} bytes that is not one") from None
        return self

    def __repr__(self) -> str:
        return f"<glasstorch.Generator object at {id(self):#x}>"


def _uint8():
    from ._dtype import uint8

    return uint8


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the global generator (and every device's), as torch.manual_seed does."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state) -> None:
    default_generator.set_state(state)


def rng_of(generator) -> np.random.Generator:
    """The NumPy generator to draw from: the given torch.Generator's, else the global one."""
    if generator is None:
        return default_generator.rng
    if not isinstance(generator, Generator):
        raise TypeError(f"expected a torch.Generator as generator, but got {type(generator).__name__}")
    return generator.rng
