"""glasstorch.vision: torchvision's API for the common parts (datasets, transforms, utils, models).

`glasstorch run script.py` maps `import torchvision` to this package, as it maps torch to glasstorch.
Pillow (the extra `glasstorch[vision]`) is imported only when a PIL image is handled.
"""
from . import datasets, models, transforms, utils

__version__ = "0.28.0"  # the torchvision release whose API this follows (the one paired with torch 2.13)

__all__ = ["datasets", "models", "transforms", "utils"]
