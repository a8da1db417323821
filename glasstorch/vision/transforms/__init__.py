"""torchvision.transforms: image transforms (v1 API) on PIL images and tensors."""
from . import functional
from .functional import InterpolationMode
from .transforms import (CenterCrop, ColorJitter, Compose, GaussianBlur, Grayscale, Lambda, Normalize, Pad,
                         PILToTensor, RandomAffine, RandomApply, RandomCrop, RandomErasing, RandomGrayscale,
                         RandomHorizontalFlip, RandomResizedCrop, RandomRotation, RandomVerticalFlip, Resize,
                         ToPILImage, ToTensor)

__all__ = ["functional", "InterpolationMode", "CenterCrop", "ColorJitter", "Compose", "Grayscale", "Lambda",
           "Normalize", "PILToTensor", "RandomCrop", "RandomErasing", "RandomHorizontalFlip", "RandomResizedCrop",
           "RandomRotation", "RandomVerticalFlip", "Resize", "ToPILImage", "ToTensor", "Pad", "RandomApply",
           "RandomGrayscale", "GaussianBlur", "RandomAffine"]
