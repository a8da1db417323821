"""VisionDataset, the base of torchvision's datasets: root, transforms and the repr they share."""
from __future__ import annotations

import os
from typing import Any, Callable, List, Optional, Sequence, Tuple

import numpy as np

import glasstorch

from ...utils.data import Dataset

__all__ = ["VisionDataset", "StandardTransform", "collate_uint8_images"]


class StandardTransform:
    """`transform` applied to the input and `target_transform` to the target."""

    def __init__(self, transform: Optional[Callable] = None, target_transform: Optional[Callable] = None) -> None:
        self.transform = transform
        self.target_transform = target_transform

    def __call__(self, input: Any, target: Any) -> Tuple[Any, Any]:
        if self.transform is not None:
            input = self.transform(input)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return input, target

    @staticmethod
    def _format(transform: Callable, head: str) -> List[str]:
        lines = repr(transform).splitlines()
        return [f"{head}{lines[0]}"] + [" " * len(head) + line for line in lines[1:]]

    def __repr__(self) -> str:
        body = [type(self).__name__]
        if self.transform is not None:
            body += self._format(self.transform, "Transform: ")
        if self.target_transform is not None:
            body += self._format(self.target_transform, "Target transform: ")
        return "\n".join(body)


class VisionDataset(Dataset):
    """A dataset under `root` whose samples go through `transforms(input, target)`, or through
    `transform` and `target_transform` separately (one or the other, not both)."""

    _repr_indent = 4

    def __init__(self, root: Any = None, transforms: Optional[Callable] = None, transform: Optional[Callable] = None,
                 target_transform: Optional[Callable] = None) -> None:
        if isinstance(root, str):
            root = os.path.expanduser(root)
        self.root = root
        has_separate = transform is not None or target_transform is not None
        if transforms is not None and has_separate:
            raise ValueError("Only transforms or transform/target_transform can be passed as argument")
        self.transform = transform
        self.target_transform = target_transform
        if has_separate:
            transforms = StandardTransform(transform, target_transform)
        self.transforms = transforms

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return vision_repr(self)


def vision_repr(dataset: Any) -> str:
    """torchvision's dataset repr (shared with the MNIST family, which derives from glasstorch.datasets)."""
    body = [f"Number of datapoints: {len(dataset)}"]
    if getattr(dataset, "root", None) is not None:
        body.append(f"Root location: {dataset.root}")
    body += dataset.extra_repr().splitlines()
    transforms = getattr(dataset, "transforms", None)
    if transforms is not None:
        body += [repr(transforms)]  # one entry: only its first line is indented, as in torchvision
    return "\n".join([f"Dataset {type(dataset).__name__}"] + [" " * 4 + line for line in body])


def _normalizers_after_to_tensor(transform: Any) -> Optional[list]:
    """[Normalize, ...] if `transform` is ToTensor() or Compose([ToTensor(), Normalize(...), ...]), else None."""
    from ..transforms import Compose, Normalize, ToTensor

    if type(transform) is ToTensor:
        return []
    if type(transform) is not Compose or not transform.transforms or type(transform.transforms[0]) is not ToTensor:
        return None
    rest = list(transform.transforms[1:])
    return rest if all(type(t) is Normalize for t in rest) else None


def collate_uint8_images(dataset: Any, indices: Sequence[int], images: Callable[[np.ndarray], np.ndarray],
                         targets: Callable[[np.ndarray], Any]) -> Optional[list]:
    """A DataLoader batch [images float [B, C, H, W], targets int64 [B]] gathered with one index,
    for a dataset of uint8 images whose `transform` is ToTensor() or Compose([ToTensor(),
    Normalize(...), ...]) and which has no target_transform; None (the per-sample path) otherwise.

    `images(idx)` gives the uint8 pixels [B, C, H, W] and `targets(idx)` the labels. The arithmetic
    is ToTensor's and Normalize's, element by element, so the batch equals the stacked samples.
    """
    from ..transforms.functional import _unit_float

    normalizers = _normalizers_after_to_tensor(dataset.transform)
    if normalizers is None or dataset.target_transform is not None:
        return None
    idx = np.asarray(indices, dtype=np.int64)
    n = len(dataset)
    if idx.ndim != 1 or (idx.size and (idx.min() < -n or idx.max() >= n)):
        return None  # the per-sample path raises its own error
    pixels = np.ascontiguousarray(images(idx))
    if pixels.dtype != np.uint8:
        return None  # ToTensor scales uint8 only
    batch = glasstorch.from_numpy(_unit_float(pixels))
    for normalize in normalizers:
        batch = normalize(batch)
    return [batch, glasstorch.from_numpy(np.asarray(targets(idx), dtype=np.int64))]
