"""The CUDA backend: CuPy, when it and a GPU are present."""
from __future__ import annotations

from . import _views, special

try:  # CuPy is optional: without it every CUDA call raises a clear error
    import cupy as xp
except Exception:  # pragma: no cover - depends on the machine
    xp = None

name = "cuda"
ndarray = xp.ndarray if xp is not None else type(None)


def is_available() -> bool:
    if xp is None:
        return False
    try:
        return xp.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def device_count() -> int:
    return xp.cuda.runtime.getDeviceCount() if is_available() else 0


def require() -> None:
    if not is_available():
        raise RuntimeError(
            "Found no NVIDIA driver on your system or CuPy is not installed: glasstorch's CUDA "
            "backend needs an NVIDIA GPU and `pip install cupy-cuda12x`."
        )


def erf(a):
    return special.erf(xp, a)


def erfc(a):
    return special.erfc(xp, a)


def scatter_add(target, index, values):
    xp.add.at(target, index, values)
    return target


def view_positions(view, base):
    """For each element of `view` (a view into `base`), its index in base.reshape(-1)."""
    return _views.view_positions(xp, view, base, view.data.ptr - base.data.ptr)


def to_numpy(a):
    return xp.asnumpy(a)


def from_numpy(a):
    return xp.asarray(a)


def is_array(a) -> bool:
    return xp is not None and isinstance(a, xp.ndarray)
