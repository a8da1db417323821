"""Utilities: data loading (glasstorch.utils.data) and safetensors files."""
from . import data, safetensors  # noqa: F401
