"""torchvision.utils: make_grid (a batch of images as one image) and save_image."""
from __future__ import annotations

import math
import os
from typing import Any, BinaryIO, List, Optional, Tuple, Union

import glasstorch
from glasstorch import Tensor

__all__ = ["make_grid", "save_image"]


def _as_batch(tensor: Union[Tensor, List[Tensor]]) -> Tensor:
    """A tensor or list of tensors as [B, C, H, W], single-channel images repeated into 3 channels."""
    if not isinstance(tensor, Tensor):
        if not isinstance(tensor, list):
            raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
        for t in tensor:
            if not isinstance(t, Tensor):
                raise TypeError(f"tensor or list of tensors expected, got a list containing {type(t)}")
        tensor = glasstorch.stack(tensor, dim=0)
    if tensor.dim() == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 3:
        if tensor.size(0) == 1:
            tensor = glasstorch.cat((tensor, tensor, tensor), 0)
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 4 and tensor.size(1) == 1:
        tensor = glasstorch.cat((tensor, tensor, tensor), 1)
    return tensor


def _rescale(tensor: Tensor, value_range: Optional[Tuple[float, float]], scale_each: bool) -> Tensor:
    """Clamp to value_range (default: the min and max, of each image if scale_each, else of all)
    and map it onto [0, 1]; the divisor is max(high - low, 1e-5), computed in double precision."""
    if value_range is not None and not isinstance(value_range, tuple):
        raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")
    if value_range is not None:
        low, high = float(value_range[0]), float(value_range[1])
        return tensor.clamp(min=low, max=high).sub(low).div(max(high - low, 1e-5))
    if not scale_each:
        low, high = float(tensor.min()), float(tensor.max())
        return tensor.sub(low).div(max(high - low, 1e-5))
    dims = tuple(range(1, tensor.dim()))
    low = tensor.amin(dim=dims, keepdim=True).detach()
    high = tensor.amax(dim=dims, keepdim=True).detach()
    span = (high.double() - low.double()).clamp(min=1e-5).to(tensor.dtype)
    return (tensor - low) / span


def make_grid(tensor: Union[Tensor, List[Tensor]], nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range: Optional[Tuple[float, float]] = None, scale_each: bool = False,
              pad_value: float = 0.0, **kwargs: Any) -> Tensor:
    """Images [B, C, H, W] (or a list of [C, H, W]) laid out row by row, `nrow` per row, with
    `padding` pixels of `pad_value` around each: [C, rows * (H + padding) + padding, ...]."""
    tensor = _as_batch(tensor)
    if normalize is True:
        tensor = _rescale(tensor, value_range, scale_each)
    if tensor.size(0) == 1:
        return tensor.squeeze(0)
    nmaps, channels, height, width = (int(s) for s in tensor.shape)
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    cell_h, cell_w = height + padding, width + padding
    # one cell per image: padding above and left of it; the grid then gets one more strip below and right
    cells = tensor.new_full((ymaps * xmaps, channels, cell_h, cell_w), pad_value)
    cells[:nmaps, :, padding:, padding:] = tensor
    grid = cells.reshape(ymaps, xmaps, channels, cell_h, cell_w).permute(2, 0, 3, 1, 4)
    grid = grid.reshape(channels, ymaps * cell_h, xmaps * cell_w)
    full = tensor.new_full((channels, ymaps * cell_h + padding, xmaps * cell_w + padding), pad_value)
    full[:, :ymaps * cell_h, :xmaps * cell_w] = grid
    return full


def save_image(tensor: Union[Tensor, List[Tensor]], fp: Union[str, os.PathLike, BinaryIO],
               format: Optional[str] = None, **kwargs: Any) -> None:
    """make_grid(tensor, **kwargs), values in [0, 1] rounded to 8 bits, written with Pillow."""
    from .transforms.functional import _pil

    grid = make_grid(tensor, **kwargs)
    pixels = grid.detach().mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to("cpu", glasstorch.uint8).numpy()
    _pil().fromarray(pixels).save(fp, format=format)
