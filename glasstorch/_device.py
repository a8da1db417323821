"""torch.device: a device type and index, and (lazily) the backend that serves it."""
from __future__ import annotations

from . import backends


class device:
    """`device('cpu')`, `device('cuda')`, `device('cuda:1')`, `device('cuda', 0)`."""

    # `backend` and `xp` are plain slots, read on every op; they are filled on first use (see
    # __getattr__), so that naming a CUDA device does not need CuPy until it is used
    __slots__ = ("type", "index", "backend", "xp")

    def __new__(cls, type_or_str, index: int | None = None):
        if isinstance(type_or_str, device):
            return type_or_str
        if not isinstance(type_or_str, str):
            raise TypeError(f"device() received an invalid combination of arguments - got ({type(type_or_str).__name__})")
        s = type_or_str
        if ":" in s:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: {s}")
            s, _, idx = s.partition(":")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type_or_str}'")
            index = int(idx)
        if s not in ("cpu", "cuda"):
            raise RuntimeError(
                f"Expected one of cpu, cuda device type at start of device string: {type_or_str}")
        if s == "cpu" and index is None:
            return CPU
        self = object.__new__(cls)
        self.type = s
        self.index = index
        return self

    def __getattr__(self, name: str):
        """First use of `backend` (glasstorch.backends.cpu or .cuda) or `xp` (numpy or cupy)."""
        if name not in ("backend", "xp"):
            raise AttributeError(f"'device' object has no attribute '{name}'")
        self.backend = backends.get(self.type)
        self.xp = self.backend.xp
        return getattr(self, name)

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (str(self),))

    def __enter__(self) -> "device":
        """`with torch.device('cuda'):` makes it the default device of factory functions inside."""
        _DEFAULT.append(tensor_device(self))
        return self

    def __exit__(self, *exc) -> None:
        _DEFAULT.pop()


CPU = object.__new__(device)
CPU.type, CPU.index, CPU.backend, CPU.xp = "cpu", None, backends.cpu, backends.cpu.xp


# the device factory functions (tensor, zeros, arange, ...) use when given none: the last entry
_DEFAULT: list = [CPU]


def set_default_device(d) -> None:
    """torch.set_default_device: where factory functions put tensors by default (None: the CPU)."""
    _DEFAULT[-1] = CPU if d is None else tensor_device(d)


def get_default_device() -> device:
    return _DEFAULT[-1]


_CUDA: dict = {}  # index -> the one device object that tensors on cuda:<index> share


def tensor_device(d) -> device:
    """The device a tensor placed on `d` reports: 'cuda' means the current device, cuda:0, as in torch.

    Tensors share one device object per device, so `a.device is b.device` is the common fast check.
    """
    if d is CPU:
        return CPU
    d = device(d)
    if d.type == "cpu":
        return CPU
    index = 0 if d.index is None else d.index
    out = _CUDA.get(index)
    if out is None:
        if index > 0 and index >= backends.get("cuda").device_count():
            raise RuntimeError("CUDA error: invalid device ordinal")
        out = _CUDA[index] = device("cuda", index)
    return out


def _forget_cuda_backend() -> None:
    """Drop the backend cached on the shared cuda devices (backends.use_fake_cuda switched it)."""
    for d in _CUDA.values():
        for slot in ("backend", "xp"):
            try:
                delattr(d, slot)
            except AttributeError:
                pass


def device_of_array(a) -> device:
    """The device an array lives on (NumPy -> cpu, CuPy or the fake device's arrays -> cuda:0)."""
    if isinstance(a, backends.cpu.ndarray):
        return CPU
    return tensor_device("cuda")
