"""Utilities: data loading (glasstorch.utils.data) and safetensors files."""
