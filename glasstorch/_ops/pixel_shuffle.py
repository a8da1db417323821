"""pixel_shuffle and pixel_unshuffle: moving blocks of channels into space and back; channel_shuffle.

pixel_shuffle turns (*, C * r * r, H, W) into (*, C, H * r, W * r): the r * r channels of each group
become an r x r block of pixels. Each op is a reshape-transpose-reshape, and each is the other's
gradient (and so the other's double backward).
"""
from __future__ import annotations

from ._util import Node, Tensor, _GradMode, _make, record

__all__ = ["channel_shuffle", "pixel_shuffle", "pixel_unshuffle"]


def _shuffle(d, r: int):
    """(*, C r r, H, W) -> (*, C, H r, W r) on an array."""
    *lead, c, h, w = d.shape
    blocks = d.reshape(tuple(lead) + (c // (r * r), r, r, h, w))
    k = len(lead)
    order = tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2)  # (*, C, H, r, W, r)
    return blocks.transpose(order).reshape(tuple(lead) + (c // (r * r), h * r, w * r))


def _unshuffle(d, r: int):
    """(*, C, H r, W r) -> (*, C r r, H, W) on an array."""
    *lead, c, h, w = d.shape
    blocks = d.reshape(tuple(lead) + (c, h // r, r, w // r, r))
    k = len(lead)
    order = tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3)  # (*, C, r, r, H, W)
    return blocks.transpose(order).reshape(tuple(lead) + (c * r * r, h // r, w // r))


class PixelShuffleBackward0(Node):
    def __init__(self, x: Tensor, r: int):
        super().__init__((x,), ())
        self.r = r

    def backward(self, g):
        return (pixel_unshuffle(g, self.r),)


class PixelUnshuffleBackward0(Node):
    def __init__(self, x: Tensor, r: int):
        super().__init__((x,), ())
        self.r = r

    def backward(self, g):
        return (pixel_shuffle(g, self.r),)


def _check(x: Tensor, name: str, what: str, r: int) -> None:
    if x.dim() < 3:
        raise RuntimeError(f"{name} expects input to have at least 3 dimensions, but got input with {x.dim()} "
                           "dimension(s)")
    if r <= 0:
        raise RuntimeError(f"{name} expects a positive {what}, but got {r}")


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C * r^2, H, W) -> (*, C, H * r, W * r) for r = upscale_factor."""
    r = int(upscale_factor)
    _check(input, "pixel_shuffle", "upscale_factor", r)
    c = input.shape[-3]
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    out = _make(_shuffle(input._data, r) if r > 1 else input._data.copy(), input.device)  # never a view
    if _GradMode.enabled and input._requires_grad:
        record(out, PixelShuffleBackward0(input, r))
    return out


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H * r, W * r) -> (*, C * r^2, H, W) for r = downscale_factor."""
    r = int(downscale_factor)
    _check(input, "pixel_unshuffle", "downscale_factor", r)
    for name, dim in (("height", -2), ("width", -1)):
        if input.shape[dim] % r:
            raise RuntimeError(f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but "
                               f"input.size({dim})={input.shape[dim]} is not divisible by {r}")
    out = _make(_unshuffle(input._data, r) if r > 1 else input._data.copy(), input.device)
    if _GradMode.enabled and input._requires_grad:
        record(out, PixelUnshuffleBackward0(input, r))
    return out


# ---- channel_shuffle (ShuffleNet) ----------------------------------------------------------------------
class ChannelShuffleBackward0(Node):
    """Shuffling g groups of k channels reads them as a (g, k) grid transposed; k groups of g undo it."""

    def __init__(self, x: Tensor, groups: int):
        super().__init__((x,), ())
        self.groups = groups

    def backward(self, g):
        return (channel_shuffle(g, g.shape[1] // self.groups),)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """(N, g * k, *) -> (N, k * g, *): channel i * k + j moves to j * g + i, interleaving the groups."""
    d = input._data
    if d.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes {list(d.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    c = d.shape[1]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups.")
    n, rest = d.shape[0], d.shape[2:]
    shuffled = d.reshape((n, groups, c // groups) + rest).swapaxes(1, 2).reshape(d.shape)
    out = _make(shuffled if groups > 1 and groups < c else d.copy(), input.device)  # never a view
    if _GradMode.enabled and input._requires_grad:
        record(out, ChannelShuffleBackward0(input, groups))
    return out
