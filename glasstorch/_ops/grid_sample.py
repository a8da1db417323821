"""affine_grid and grid_sample: sampling an image at arbitrary points (spatial transformer networks).

affine_grid maps each output pixel's normalised coordinates (-1 .. 1) through a batch of affine
matrices; grid_sample reads the input at those points, bilinearly or from the nearest pixel, with
zero, border or reflection padding outside the image.

grid_sample is composed of recorded ops (coordinate arithmetic, index_select gathers, weighted sums),
so its gradients for the input (a scatter-add of the weighted gradient, repeated points accumulating)
and for the grid, and their second derivatives, come from those ops: its grad_fn is the last op's
(AddBackward0), where PyTorch's is one GridSampler2DBackward0 node.
"""
from __future__ import annotations

import warnings

import numpy as np

from ._util import Node, Tensor, _GradMode, _make, record, type_word
from .pointwise import where

__all__ = ["affine_grid", "grid_sample"]

_DEFAULT_CHANGED = ("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                    "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                    "grid_sample for details.")


# ---- affine_grid ------------------------------------------------------------------------------------
def _base_coordinates(steps: int, align_corners: bool, np_dtype) -> np.ndarray:
    """Normalised pixel coordinates along one axis: the pixel centres (align_corners=False) or the corner
    pixels' centres (True) at -1 and 1."""
    if steps <= 1:
        return np.zeros(max(steps, 1), np_dtype)
    coords = np.linspace(-1.0, 1.0, steps)
    if not align_corners:
        coords = coords * (steps - 1) / steps
    return coords.astype(np_dtype)


def _base_grid(spatial: list, align_corners: bool, np_dtype) -> np.ndarray:
    """(prod(spatial), k + 1) rows [x, y(, z), 1] for every output position, x varying fastest."""
    axes = [_base_coordinates(s, align_corners, np_dtype) for s in spatial]
    mesh = np.meshgrid(*axes, indexing="ij")  # (D,) H, W
    columns = [m.reshape(-1) for m in reversed(mesh)] + [np.ones(mesh[0].size, np_dtype)]
    return np.stack(columns, axis=1)


class AffineGridGeneratorBackward0(Node):
    """grid = base @ theta^T, so d theta = g^T @ base (summed over output positions)."""

    def __init__(self, theta: Tensor, base: np.ndarray):
        super().__init__((theta,), ())
        self.base = base

    def backward(self, g):
        n, k = g.shape[0], g.shape[-1]
        base = _make(g.device.backend.from_numpy(self.base), g.device)
        return (g.reshape(n, -1, k).transpose(1, 2).matmul(base),)


def affine_grid(theta: Tensor, size: list, align_corners: bool | None = None) -> Tensor:
    """A sampling grid (N, H, W, 2) (or (N, D, H, W, 3)) from affine matrices theta (N, 2, 3) (or (N, 3, 4))."""
    if align_corners is None:
        warnings.warn(_DEFAULT_CHANGED, stacklevel=3)
        align_corners = False
    if not theta.dtype.is_floating_point:
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if len(size) not in (4, 5):
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    given, size = size, [int(s) for s in size]
    k = len(size) - 2
    if theta.dim() != 3 or tuple(theta.shape[-2:]) != (k, k + 1):
        raise ValueError(f"Expected a batch of {k}D affine matrices of shape Nx{k}x{k + 1} for size {given}. "
                         f"Got {theta.shape}.")
    spatial = size[2:]
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the documentation "
                      "of affine_grid for details.", stacklevel=3)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {given}")
    d = theta._data
    base = _base_grid(spatial, align_corners, d.dtype)
    xp = theta.device.xp
    grid = xp.matmul(theta.device.backend.from_numpy(base)[None], xp.swapaxes(d, 1, 2))  # (N, P, k)
    out = _make(grid.reshape([size[0]] + spatial + [k]), theta.device)
    if _GradMode.enabled and theta._requires_grad:
        record(out, AffineGridGeneratorBackward0(theta, base))
    return out


# ---- grid_sample ------------------------------------------------------------------------------------
def _unnormalize(coord: Tensor, size: int, align_corners: bool) -> Tensor:
    """Normalised -1 .. 1 coordinates to pixel coordinates (-1 and 1 are the corner pixels' centres, or
    their outer edges when align_corners=False)."""
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord: Tensor, twice_low: int, twice_high: int) -> Tensor:
    """Reflect coordinates into [twice_low / 2, twice_high / 2] as a mirror does, fold after fold."""
    if twice_low == twice_high:
        return coord * 0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    distance = (coord - low).abs()
    extra = distance.fmod(span)
    flips = (distance / span).floor().detach()
    even = flips.fmod(2) == 0
    return where(even, extra + low, span - extra + low)


def _source(coord: Tensor, size: int, padding_mode: str, align_corners: bool) -> Tensor:
    """Pixel coordinates to read, after the padding mode has folded or clamped them into the image."""
    x = _unnormalize(coord, size, align_corners)
    if padding_mode == "reflection":
        x = _reflect(x, 0, 2 * (size - 1)) if align_corners else _reflect(x, -1, 2 * size - 1)
    if padding_mode in ("border", "reflection"):
        x = x.clamp(0, size - 1)
    return x


def _read(flat_input: Tensor, ys: Tensor, xs: Tensor, height: int, width: int):
    """flat_input (N*H*W, C) at integer pixel coordinates ys, xs (N, Ho, Wo): the values (N, C, Ho, Wo) read
    at the clamped coordinates, and a (N, 1, Ho, Wo) 0/1 Tensor of the points inside the image."""
    xp = flat_input.device.xp
    yd, xd = ys._data.astype(np.int64), xs._data.astype(np.int64)
    inside = (yd >= 0) & (yd < height) & (xd >= 0) & (xd < width)
    batch = xp.arange(yd.shape[0], dtype=np.int64).reshape(-1, 1, 1)
    flat = ((batch * height + xp.clip(yd, 0, height - 1)) * width + xp.clip(xd, 0, width - 1)).reshape(-1)
    values = flat_input.index_select(0, _make(flat, flat_input.device))  # (N*Ho*Wo, C)
    values = values.reshape(tuple(yd.shape) + (-1,)).permute(0, 3, 1, 2)
    return values, _make(inside[:, None].astype(flat_input._data.dtype), flat_input.device)


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """Sample input (N, C, H, W) at the points of grid (N, Ho, Wo, 2), given as normalised (x, y) in -1 .. 1:
    (N, C, Ho, Wo)."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', "
                         f"but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_DEFAULT_CHANGED, stacklevel=3)
        align_corners = False
    _check(input, grid)
    if mode == "bicubic":
        raise NotImplementedError("grid_sample: mode 'bicubic' is not supported by glasstorch")
    n, c, height, width = input.shape
    flat_input = input.permute(0, 2, 3, 1).reshape(n * height * width, c)
    ix = _source(grid[..., 0], width, padding_mode, align_corners)
    iy = _source(grid[..., 1], height, padding_mode, align_corners)
    if mode == "nearest":  # round half to even, as C's nearbyint
        values, inside = _read(flat_input, iy.detach().round(), ix.detach().round(), height, width)
        return values * inside + (ix * 0 + iy * 0).unsqueeze(1)  # the grid gets a zero gradient, as in PyTorch
    x0, y0 = ix.detach().floor(), iy.detach().floor()
    x1, y1 = x0 + 1, y0 + 1
    # each corner weighs the area of the rectangle between the point and the opposite corner
    corners = [(y0, x0, (x1 - ix) * (y1 - iy)), (y0, x1, (ix - x0) * (y1 - iy)),
               (y1, x0, (x1 - ix) * (iy - y0)), (y1, x1, (ix - x0) * (iy - y0))]
    out = None
    for ys, xs, weight in corners:  # summed in PyTorch's order: nw, ne, sw, se
        values, inside = _read(flat_input, ys, xs, height, width)
        term = values * (weight.unsqueeze(1) * inside)  # the small factors first: one product of full size
        out = term if out is None else out + term
    return out


def _check(input: Tensor, grid: Tensor) -> None:
    if input.device != grid.device:
        raise RuntimeError(f"grid_sampler(): expected input and grid to be on same device, but input is on "
                           f"{input.device} and grid is on {grid.device}")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"expected scalar type {type_word(input._data.dtype)} but found "
                           f"{type_word(grid._data.dtype)}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input with "
                           f"sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if input.dim() != grid.dim():
        raise RuntimeError(f"grid_sampler(): expected 4D input and grid with same number of dimensions, but got "
                           f"input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if input.dim() != 4:
        raise NotImplementedError("grid_sample: only 4-D inputs (N, C, H, W) are supported by glasstorch")
    if grid.shape[-1] != 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size 2 in last dimension, but got grid with "
                           f"sizes {list(grid.shape)}")
