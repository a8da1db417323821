"""Utilities: data loading (glasstorch.utils.data) and safetensors files."""
from . import data, safetensors  # noqa: F401
from . import checkpoint  # noqa: F401  (torch.utils.checkpoint)
