"""Pretrained-weight enums: the names torchvision scripts refer to, and the one clear error when
weights are asked for (glasstorch does not download pretrained weights)."""
from __future__ import annotations

import warnings
from enum import Enum
from typing import Any, Dict, Optional

__all__ = ["WeightsEnum", "Weights", "PretrainedWeightsUnavailable", "resolve_weights"]


class PretrainedWeightsUnavailable(RuntimeError):
    """Raised for weights= other than None: there is no download of pretrained weights here."""


class Weights:
    """What torchvision records about a set of weights (its URL and category count)."""

    def __init__(self, url: str, num_classes: int) -> None:
        self.url = url
        self.meta: Dict[str, Any] = {"num_params": None, "categories_count": num_classes}

    def __repr__(self) -> str:
        return f"Weights(url={self.url!r})"


class WeightsEnum(Enum):
    """Base of ResNet18_Weights & co.: `ResNet18_Weights.DEFAULT`, `ResNet18_Weights["IMAGENET1K_V1"]`."""

    @classmethod
    def verify(cls, obj: Any) -> Any:
        if obj is None or isinstance(obj, cls):
            return obj
        if isinstance(obj, str):
            try:
                return cls[obj.replace(cls.__name__ + ".", "")]
            except KeyError:
                raise ValueError(f"Failed to find Weights {obj} in {cls.__name__}.") from None
        raise TypeError(f"Invalid Weight class provided; expected {cls.__name__} but received {type(obj).__name__}.")

    @property
    def url(self) -> str:
        return self.value.url

    @property
    def meta(self) -> Dict[str, Any]:
        return self.value.meta

    def __repr__(self) -> str:
        return f"{type(self).__name__}.{self._name_}"


def resolve_weights(builder: str, enum: type, weights: Any, kwargs: Dict[str, Any]) -> None:
    """Check a builder's weights= (and the legacy pretrained=) argument: None passes, anything else
    raises PretrainedWeightsUnavailable naming the weights asked for."""
    if "pretrained" in kwargs:
        pretrained = kwargs.pop("pretrained")
        warnings.warn("The parameter 'pretrained' is deprecated since 0.13 and may be removed in the future, "
                      "please use 'weights' instead.")
        if pretrained and weights is None:
            weights = enum.DEFAULT
    chosen: Optional[WeightsEnum] = enum.verify(weights)
    if chosen is not None:
        raise PretrainedWeightsUnavailable(
            f"{builder}(weights={chosen!r}): glasstorch cannot download pretrained weights ({chosen.url}). "
            f"Build the model with weights=None and load a state_dict you have, e.g. "
            f"model.load_state_dict(torch.load('resnet18.pth'))")
