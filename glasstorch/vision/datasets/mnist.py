"""MNIST, Fashion-MNIST and KMNIST as torchvision gives them: samples are (PIL image 'L', int).

The files are found, downloaded and verified by glasstorch.datasets (one implementation for the
library, the CLI and these classes); only the form of a sample differs: torchvision's datasets
hand a PIL image to `transform`, glasstorch.datasets a ready-made tensor.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Optional, Sequence

import numpy as np

from ...datasets import mnist as _impl
from ...datasets.mnist import _numpy
from ..transforms.functional import _pil
from .vision import StandardTransform, VisionDataset, collate_uint8_images, vision_repr

__all__ = ["MNIST", "FashionMNIST", "KMNIST"]


class _PILSamples(VisionDataset):
    """What the MNIST family adds to glasstorch.datasets' classes: PIL samples, torchvision's repr."""

    def _image(self, pixels: np.ndarray) -> Any:
        return _pil().fromarray(np.ascontiguousarray(pixels), mode="L")

    def __getitems__(self, indices: Sequence[int]) -> list:
        return [self[i] for i in indices]

    def _collated_batch(self, indices: Sequence[int]) -> Optional[list]:
        """The DataLoader's batch in one go for ToTensor() [+ Normalize] pipelines (see collate_uint8_images)."""
        return collate_uint8_images(self, indices, lambda idx: _numpy(self.data)[idx][:, None],
                                    lambda idx: _numpy(self.targets)[idx])

    @property
    def search_folders(self) -> list[str]:
        """root's folders, then $GLASSTORCH_DATA's: a script that says root="./data" still finds
        a local verified copy (files count only if their digests are the official ones)."""
        folders = super().search_folders
        shared = os.environ.get("GLASSTORCH_DATA")
        if shared:
            shared = os.path.expanduser(shared)
            folders += [f for f in (os.path.join(shared, type(self).__name__, "raw"), shared,
                                    os.path.join(shared, self.folder_name)) if f not in folders]
        return folders

    @property
    def processed_folder(self) -> str:
        return os.path.join(self.root, type(self).__name__, "processed")

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"

    def __repr__(self) -> str:
        return vision_repr(self)

    def _not_found_message(self, tried, download: bool) -> str:
        message = super()._not_found_message(tried, download)
        if download:  # torchvision's words first, then which sources were tried and why they failed
            message = f"Error downloading {next(iter(tried))}.gz\n{message}"
        return message


def _init(self, root: Any, train: bool, transform: Optional[Callable], target_transform: Optional[Callable],
          download: bool, base: type) -> None:
    base.__init__(self, root=root, train=train, download=download, transform=transform,
                  target_transform=target_transform)
    has_transforms = transform is not None or target_transform is not None
    self.transforms = StandardTransform(transform, target_transform) if has_transforms else None


class MNIST(_PILSamples, _impl.MNIST):
    """MNIST digits: `root/MNIST/raw/` holds the IDX files (downloaded there with download=True)."""

    def __init__(self, root: Any = None, train: bool = True, transform: Optional[Callable] = None,
                 target_transform: Optional[Callable] = None, download: bool = False) -> None:
        _init(self, root, train, transform, target_transform, download, _impl.MNIST)


class FashionMNIST(_PILSamples, _impl.FashionMNIST):
    """Fashion-MNIST: `root/FashionMNIST/raw/`."""

    def __init__(self, root: Any = None, train: bool = True, transform: Optional[Callable] = None,
                 target_transform: Optional[Callable] = None, download: bool = False) -> None:
        _init(self, root, train, transform, target_transform, download, _impl.FashionMNIST)


class KMNIST(_PILSamples, _impl.KMNIST):
    """Kuzushiji-MNIST: `root/KMNIST/raw/`."""

    def __init__(self, root: Any = None, train: bool = True, transform: Optional[Callable] = None,
                 target_transform: Optional[Callable] = None, download: bool = False) -> None:
        _init(self, root, train, transform, target_transform, download, _impl.KMNIST)
