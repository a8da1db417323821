"""FakeData: random images, the same for the same index every time."""
from __future__ import annotations

from typing import Any, Callable, Optional, Tuple

import glasstorch

from ..transforms.functional import to_pil_image
from .vision import VisionDataset

__all__ = ["FakeData"]


class FakeData(VisionDataset):
    """`size` samples (PIL image of `image_size` = (C, H, W), int class < num_classes).

    Sample i is drawn from glasstorch's generator seeded with i + random_offset; the global random
    state is restored afterwards, so reading samples does not disturb a training run's randomness.
    """

    def __init__(self, size: int = 1000, image_size: Tuple[int, int, int] = (3, 224, 224), num_classes: int = 10,
                 transform: Optional[Callable] = None, target_transform: Optional[Callable] = None,
                 random_offset: int = 0) -> None:
        super().__init__(None, transform=transform, target_transform=target_transform)
        self.size = size
        self.num_classes = num_classes
        self.image_size = image_size
        self.random_offset = random_offset

    def __getitem__(self, index: int) -> Tuple[Any, Any]:
        if index >= len(self):
            raise IndexError(f"{type(self).__name__} index out of range")
        state = glasstorch.get_rng_state()
        glasstorch.manual_seed(index + self.random_offset)
        img = glasstorch.randn(*self.image_size)
        target = glasstorch.randint(0, self.num_classes, size=(1,), dtype=glasstorch.long)[0]
        glasstorch.set_rng_state(state)
        img, target = to_pil_image(img), int(target.item())
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return self.size
