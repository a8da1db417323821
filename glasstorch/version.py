"""torch.version: what this build is.

`__version__` is glasstorch's own (one source: `glasstorch.__version__`). There is no CUDA or ROCm
build: CUDA support comes from CuPy at run time, so `cuda` and `hip` are None as in a CPU-only torch.
"""
from . import __version__  # noqa: F401

__all__ = ["__version__", "cuda", "hip", "rocm", "xpu", "debug", "git_version"]

cuda: str | None = None
hip: str | None = None
rocm: str | None = None
xpu: str | None = None
debug = False
git_version = "Unknown"  # not recorded at install time
