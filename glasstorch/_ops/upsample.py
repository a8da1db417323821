"""Resampling by interpolation, the kernels behind F.interpolate: nearest, nearest-exact, (bi/tri)linear, bicubic,
and antialiased bilinear/bicubic ('area' is adaptive average pooling, from the pooling ops).

Every mode is separable. Along one spatial axis, output position o reads input positions idx[t, o]
with weights w[t, o]: T = 1 tap for the nearest modes (no weights), 2 for linear, 4 for cubic, and
for antialiasing as many as the widened filter covers. The
forward gathers along the last axis first and then along the axes before it, the order of PyTorch's
CPU kernels (width inside height), so float results agree with PyTorch's to the rounding.

The op is linear in x, so its backward is its transpose, and the transpose is a gather too: the
indices never decrease along o, so the outputs that read input i form one run of consecutive o, and
input i collects its gradient by gathering that run (L taps per original tap, L the longest run,
weight 0 past a run's end). No scatter, so repeated indices cannot lose updates, and the same code
runs forward, backward and double backward (each node keeps a plan and its transpose).

Index and weight arithmetic follows ATen's UpSample.h, in the same precision (float32 for float32
and half inputs, float64 for float64), so that floor() falls on the same side of every boundary.
"""
from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np

from ._util import Node, Tensor, _GradMode, _make, not_implemented, record

__all__ = ["interpolate", "upsample"]

_CUBIC_A = -0.75  # the cubic convolution kernel's parameter PyTorch uses (as in OpenCV)


class _Axis(NamedTuple):
    """One step of a resampling: out[..., o, ...] = sum_t w[t, o] * x[..., idx[t, o], ...] along `axis`."""

    axis: int
    idx: object  # (T, out_size) int64 backend array
    w: object  # (T, out_size) float backend array, or None for one tap of weight 1


# ---- where each output position reads from (NumPy, then moved to the device) --------------------------
def _kernel_scale(in_size: int, out_size: int, scale: float | None, ftype) -> np.floating:
    """ATen's compute_scales_value: 1 / scale_factor when one was given, else in_size / out_size."""
    if scale is not None and scale > 0:
        return ftype(1.0 / scale)
    return ftype(in_size) / ftype(out_size)


def _nearest_index(in_size: int, out_size: int, scale: float | None) -> np.ndarray:
    """floor(o * scale) computed in float32, as PyTorch's nearest kernels do (their shortcuts for
    unchanged and doubled sizes are in _axis_taps)."""
    o = np.arange(out_size, dtype=np.int64)
    s = _kernel_scale(in_size, out_size, scale, np.float32)
    return np.minimum(np.floor(o.astype(np.float32) * s).astype(np.int64), in_size - 1)


def _nearest_exact_index(in_size: int, out_size: int, scale: float | None) -> np.ndarray:
    """floor((o + 0.5) * scale): the pixel whose centre is nearest (the product in float64, floored in float32)."""
    s = _kernel_scale(in_size, out_size, scale, np.float32)
    src = ((np.arange(out_size, dtype=np.float64) + 0.5) * np.float64(s)).astype(np.float32)
    return np.minimum(np.floor(src).astype(np.int64), in_size - 1)


def _source_position(in_size: int, out_size: int, scale: float | None, align_corners: bool, ftype,
                     cubic: bool) -> np.ndarray:
    """The real-valued input coordinate of each output position (ATen's area_pixel_compute_source_index)."""
    o = np.arange(out_size).astype(ftype)
    if align_corners:
        s = ftype(in_size - 1) / ftype(out_size - 1) if out_size > 1 else ftype(0)
        return s * o
    s = _kernel_scale(in_size, out_size, scale, ftype)
    src = s * (o + ftype(0.5)) - ftype(0.5)
    # linear clamps to the first pixel; cubic keeps the overhang (its taps are clamped instead)
    return src if cubic else np.maximum(src, ftype(0))


def _index_and_fraction(src: np.ndarray, in_size: int, ftype):
    """floor(src) (at most in_size - 1) and the fraction past it, clamped to [0, 1] (guard_index_and_lambda)."""
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    frac = np.clip(src - i0.astype(ftype), ftype(0), ftype(1)).astype(ftype)
    return i0, frac


def _linear_taps(in_size: int, out_size: int, scale, align_corners: bool, ftype):
    src = _source_position(in_size, out_size, scale, align_corners, ftype, cubic=False)
    i0, l1 = _index_and_fraction(src, in_size, ftype)
    i1 = i0 + (i0 < in_size - 1)
    return np.stack([i0, i1]), np.stack([ftype(1) - l1, l1])


def _cubic_weights(t: np.ndarray, ftype) -> np.ndarray:
    """Keys' cubic convolution weights of the 4 taps at distances 1 + t, t, 1 - t, 2 - t."""
    a = ftype(_CUBIC_A)

    def near(x):  # |x| <= 1
        return ((a + ftype(2)) * x - (a + ftype(3))) * x * x + ftype(1)

    def far(x):  # 1 < |x| < 2
        return ((a * x - ftype(5) * a) * x + ftype(8) * a) * x - ftype(4) * a

    one = ftype(1)
    return np.stack([far(t + one), near(t), near(one - t), far(ftype(2) - t)]).astype(ftype)


def _cubic_taps(in_size: int, out_size: int, scale, align_corners: bool, ftype):
    src = _source_position(in_size, out_size, scale, align_corners, ftype, cubic=True)
    i0, t = _index_and_fraction(src, in_size, ftype)
    idx = np.clip(i0[None, :] + np.arange(-1, 3)[:, None], 0, in_size - 1)  # the border pixel repeats
    return idx, _cubic_weights(t, ftype)


def _transpose_taps(idx: np.ndarray, w, in_size: int, ftype):
    """The taps of the transposed step (see the module docstring): (idx, w) of shape (T * L, in_size)."""
    taps, out_size = idx.shape
    positions = np.arange(in_size)
    lo = np.stack([np.searchsorted(idx[t], positions, "left") for t in range(taps)])
    hi = np.stack([np.searchsorted(idx[t], positions, "right") for t in range(taps)])
    runs = max(int((hi - lo).max()), 1)
    pos = lo[:, None, :] + np.arange(runs)[None, :, None]  # (T, L, in_size)
    valid = pos < hi[:, None, :]
    pos = np.minimum(pos, out_size - 1)
    weights = np.ones((taps, out_size), ftype) if w is None else w
    w_t = np.where(valid, weights[np.arange(taps)[:, None, None], pos], ftype(0)).astype(ftype)
    if taps * runs == 1 and valid.all():
        return pos.reshape(1, in_size), None
    return pos.reshape(taps * runs, in_size), w_t.reshape(taps * runs, in_size)


def _antialias_filter(x: np.ndarray, cubic: bool, ftype) -> np.ndarray:
    """The triangle (bilinear) or Keys cubic with a = -0.5 (bicubic) kernel of antialiased resampling."""
    x = np.abs(x)
    if not cubic:
        return np.where(x < 1, ftype(1) - x, ftype(0)).astype(ftype)
    a = ftype(-0.5)
    near = ((a + ftype(2)) * x - (a + ftype(3))) * x * x + ftype(1)
    far = (((x - ftype(5)) * x + ftype(8)) * x - ftype(4)) * a
    return np.where(x < 1, near, np.where(x < 2, far, ftype(0))).astype(ftype)


def _antialias_taps(in_size: int, out_size: int, scale, align_corners: bool, ftype, cubic: bool):
    """Antialiased taps (PyTorch's _compute_weights_aa): when shrinking by s, the filter is stretched s
    times, so each output averages every input pixel under its footprint; weights are normalised to 1."""
    if align_corners:
        s = ftype(in_size - 1) / ftype(out_size - 1) if out_size > 1 else ftype(0)
    else:
        s = _kernel_scale(in_size, out_size, scale, ftype)
    half = ftype(2.0 if cubic else 1.0)  # half the kernel's width
    support = half * s if s >= 1 else half
    inv = ftype(1) / s if s >= 1 else ftype(1)
    center = s * (np.arange(out_size).astype(ftype) + ftype(0.5))
    lo = np.maximum(np.trunc(center - support + ftype(0.5)).astype(np.int64), 0)
    size = np.minimum(np.trunc(center + support + ftype(0.5)).astype(np.int64), in_size) - lo
    j = np.arange(max(int(size.max()), 1))[:, None]  # (T, 1): tap j reads lo + j
    w = np.where(j < size, _antialias_filter((j + lo - center + ftype(0.5)) * inv, cubic, ftype), ftype(0))
    total = w.sum(axis=0)
    w = np.where(total != 0, w / np.where(total != 0, total, ftype(1)), w).astype(ftype)
    return np.minimum(lo + j, in_size - 1), w


def _axis_taps(mode: str, in_size: int, out_size: int, scale, align_corners: bool, ftype, spatial: int):
    """(idx, w) of the forward along one axis, and of the step PyTorch's backward transposes."""
    same = np.arange(out_size, dtype=np.int64)[None]
    if mode == "nearest":
        idx = _nearest_index(in_size, out_size, scale)[None]
        # PyTorch's nearest backward maps an unchanged axis one-to-one and a doubled one by o // 2;
        # its 2d forward does too, its 1d and 3d forwards do not (they resample 5 -> 5 by 1 / 1.1)
        shortcut = same if out_size == in_size else (same >> 1 if out_size == 2 * in_size else None)
        forward = (shortcut if shortcut is not None and spatial == 2 else idx, None)
        return forward, (shortcut if shortcut is not None else idx, None)
    if mode == "nearest-exact":
        taps = (_nearest_exact_index(in_size, out_size, scale)[None], None)
    elif mode.endswith("-aa"):
        taps = _antialias_taps(in_size, out_size, scale, align_corners, ftype, mode == "bicubic-aa")
    elif mode == "bicubic":
        taps = _cubic_taps(in_size, out_size, scale, align_corners, ftype)
    elif out_size == in_size:  # PyTorch's linear kernels copy an axis whose size is unchanged
        taps = (same, None)
    else:
        taps = _linear_taps(in_size, out_size, scale, align_corners, ftype)
    return taps, taps


@functools.lru_cache(maxsize=256)  # a training loop asks for the same few resamplings every step
def _axis_plan(mode: str, in_size: int, out_size: int, scale, align_corners: bool, ftype, spatial: int,
               pass_through: bool) -> tuple:
    """NumPy (idx, w) of one axis' forward step and of its gradient step (read-only: they are shared)."""
    (idx, w), (b_idx, b_w) = _axis_taps(mode, in_size, out_size, scale, align_corners, ftype, spatial)
    if pass_through:
        b_idx, b_w = np.arange(in_size, dtype=np.int64)[None], None
    steps = ((idx, w), _transpose_taps(b_idx, b_w, in_size, ftype))
    for a in (idx, w) + steps[1]:
        if a is not None:
            a.setflags(write=False)
    return steps


def _plan(x: Tensor, mode: str, out_sizes: list, scales: list, align_corners: bool) -> tuple:
    """(forward plan, gradient plan): the _Axis steps of the resampling and of its backward.

    The backward is the transpose of the forward except where PyTorch's backward kernels take
    shortcuts its forward kernels do not (see _axis_taps), and for bicubic, whose backward passes the
    gradient through unchanged when no size changes while its forward still resamples.
    """
    d = x._data
    ftype = np.float64 if d.dtype == np.float64 else np.float32
    pass_through = mode == "bicubic" and list(out_sizes) == list(d.shape[2:])
    dev = x.device.backend.from_numpy
    forward, grad = [], []
    for k, (out_size, scale) in enumerate(zip(out_sizes, scales)):
        (idx, w), (t_idx, t_w) = _axis_plan(mode, d.shape[2 + k], out_size, scale, align_corners, ftype, d.ndim - 2,
                                            pass_through)
        forward.append(_Axis(2 + k, dev(idx), None if w is None else dev(w)))
        grad.append(_Axis(2 + k, dev(t_idx), None if t_w is None else dev(t_w)))
    # the forward runs the last axis first; its transpose undoes the steps in the opposite order
    return tuple(reversed(forward)), tuple(grad)


# ---- applying a plan ------------------------------------------------------------------------------------
def _gather(d, ax: _Axis, xp):
    """Resample array d along one axis."""
    if ax.w is None:
        return xp.take(d, ax.idx[0], axis=ax.axis)
    trailing = (1,) * (d.ndim - ax.axis - 1)
    out = None
    for t in range(ax.idx.shape[0]):  # the taps, summed in PyTorch's order
        term = ax.w[t].reshape((-1,) + trailing).astype(d.dtype, copy=False) * xp.take(d, ax.idx[t], axis=ax.axis)
        out = term if out is None else out.__iadd__(term)
    return out


def _apply(x: Tensor, plan: tuple):
    d = x._data
    xp = x.device.xp
    work = d.astype(np.float32) if d.dtype == np.float16 else d  # half computes in float (PyTorch's opmath)
    for ax in plan:
        work = _gather(work, ax, xp)
    return work.astype(d.dtype, copy=False)


class _ResampleBackward(Node):
    """A resampling's node: its backward applies `grad_plan` (the transpose), recorded with `plan` (the
    op itself) as the transpose's own backward; so double backward is the forward again, as in PyTorch."""

    transpose_node: type = None  # the node class of the backward op (set per mode below)

    def __init__(self, x: Tensor, grad_plan: tuple, plan: tuple):
        super().__init__((x,), ())
        self.grad_plan, self.plan = grad_plan, plan

    def backward(self, g):
        return (_resample(g, self.grad_plan, self.plan, type(self).transpose_node),)


def _resample(x: Tensor, plan: tuple, grad_plan: tuple, node: type) -> Tensor:
    """x resampled by `plan`; the recorded node's backward applies `grad_plan`."""
    out = _make(_apply(x, plan), x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, node(x, grad_plan, plan))
    return out


def _node_pair(name: str) -> type:
    """The grad_fn class PyTorch names `name` (e.g. UpsampleBilinear2DBackward0), linked with the class
    of its backward op's node (UpsampleBilinear2DBackwardBackward0) and back."""
    fwd = type(name, (_ResampleBackward,), {})
    fwd.transpose_node = type(name.replace("Backward0", "BackwardBackward0"), (_ResampleBackward,), {})
    fwd.transpose_node.transpose_node = fwd
    return fwd


_NODES = {
    ("nearest", 1): _node_pair("UpsampleNearest1DBackward0"),
    ("nearest", 2): _node_pair("UpsampleNearest2DBackward0"),
    ("nearest", 3): _node_pair("UpsampleNearest3DBackward0"),
    ("nearest-exact", 1): _node_pair("UpsampleNearestExact1DBackward0"),
    ("nearest-exact", 2): _node_pair("UpsampleNearestExact2DBackward0"),
    ("nearest-exact", 3): _node_pair("UpsampleNearestExact3DBackward0"),
    ("linear", 1): _node_pair("UpsampleLinear1DBackward0"),
    ("bilinear", 2): _node_pair("UpsampleBilinear2DBackward0"),
    ("trilinear", 3): _node_pair("UpsampleTrilinear3DBackward0"),
    ("bicubic", 2): _node_pair("UpsampleBicubic2DBackward0"),
    ("bilinear-aa", 2): _node_pair("UpsampleBilinear2DAaBackward0"),
    ("bicubic-aa", 2): _node_pair("UpsampleBicubic2DAaBackward0"),
}

# the kernel names in PyTorch's "not implemented for 'Long'" errors, by mode and spatial dims
_KERNELS = {"nearest": "compute_indices_weights_nearest", "nearest-exact": "compute_indices_weights_nearest",
            "linear": "compute_indices_weights_linear", "trilinear": "compute_indices_weights_linear",
            "bilinear": "upsample_bilinear2d_channels_last", "bicubic": "compute_indices_weights_cubic",
            ("nearest", 2): "upsample_nearest2d_channels_last",
            ("nearest-exact", 2): "upsample_nearest2d_channels_last",
            "bilinear-aa": "compute_index_ranges_weights", "bicubic-aa": "compute_index_ranges_weights"}


def upsample(x: Tensor, mode: str, out_sizes: list, scales: list, align_corners: bool) -> Tensor:
    """Resample the spatial dims of x (N, C, *spatial) to out_sizes; `scales` are the user's scale factors
    (None where the size was given), which the kernels use in place of in_size / out_size."""
    d = x._data
    spatial = d.ndim - 2
    if (d.dtype.kind not in "fu" or (d.dtype == np.uint8 and mode in ("linear", "trilinear"))
            or (d.dtype == np.float16 and mode.endswith("-aa"))):
        raise not_implemented(_KERNELS.get((mode, spatial), _KERNELS[mode]), d.dtype)
    if d.dtype == np.uint8 and mode not in ("nearest", "nearest-exact"):
        raise NotImplementedError(f"interpolate: mode {mode!r} on uint8 input is not supported by glasstorch")
    if any(s <= 0 for s in out_sizes) or any(s <= 0 for s in d.shape[2:]):
        names = "DHW"[3 - spatial:]
        ins = ", ".join(f"{c}: {s}" for c, s in zip(names, d.shape[2:]))
        outs = ", ".join(f"{c}: {s}" for c, s in zip(names, out_sizes))
        joiner = " and" if spatial == 1 else ""
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input ({ins}){joiner} "
                           f"output ({outs})")
    if d.shape[1] == 0:
        raise RuntimeError(f"Non-empty {d.ndim}D data tensor expected but got a tensor with sizes {list(d.shape)}")
    plan, grad_plan = _plan(x, mode, out_sizes, scales, align_corners)
    return _resample(x, plan, grad_plan, _NODES[(mode, spatial)])


# ---- F.interpolate: argument checking ------------------------------------------------------------------
def _is_integer(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool) or \
        (isinstance(v, Tensor) and not v.dtype.is_floating_point and v.dim() == 0)


_SPATIAL_MODES = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """Resize the spatial dims of `input` (N, C, d1[, d2[, d3]]) to `size`, or by `scale_factor`.

    Modes: 'nearest', 'nearest-exact', 'area' (1-3 spatial dims), 'linear' (1), 'bilinear' / 'bicubic' (2,
    also antialiased), 'trilinear' (3). align_corners maps corner pixel centres onto each other (the
    interpolating modes only).
    """
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    dim = input.dim() - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got input with spatial "
                    f"dimensions of {list(input.shape[2:])} and output size of {size}. Please provide input tensor "
                    "in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format.")
            if not all(_is_integer(s) for s in size):
                raise TypeError("expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                                f"Tuple[int, int, int], but got size with types {[type(s) for s in size]}")
            out_sizes = [int(s) for s in size]
        else:
            out_sizes = [int(size)] * dim
        scales = [None] * dim
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(
                    "Input and scale_factor must have the same number of spatial dimensions, but got input with "
                    f"spatial dimensions of {list(input.shape[2:])} and scale_factor of shape {scale_factor}. "
                    "Please provide input tensor in (N, C, d1, d2, ...,dK) format and scale_factor in "
                    "(s1, s2, ...,sK) format.")
            scales = [float(s) for s in scale_factor]
        else:
            scales = [float(scale_factor)] * dim
        # the output size is floor(in * scale), in double precision
        out_sizes = [int(math.floor(input.shape[2 + k] * s)) for k, s in enumerate(scales)]
        if recompute_scale_factor:  # the kernels then use in / out instead of 1 / scale
            scales = [None] * dim
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.dim() == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a "
                         "4-D tensor as input")
    if antialias and mode == "lanczos":
        raise NotImplementedError("interpolate: mode 'lanczos' is not supported by glasstorch")
    if antialias:
        return upsample(input, mode + "-aa", out_sizes, scales, align_corners)
    if mode in ("nearest", "nearest-exact") and 1 <= dim <= 3:
        return upsample(input, mode, out_sizes, scales, False)
    if mode in _SPATIAL_MODES and _SPATIAL_MODES[mode] == dim:
        return upsample(input, mode, out_sizes, scales, align_corners)
    if mode == "area" and 1 <= dim <= 3:  # the mean over each output pixel's area: adaptive average pooling
        from ..nn import functional as F  # (imported here: nn is built on _ops)

        return getattr(F, f"adaptive_avg_pool{dim}d")(input, out_sizes)
    if mode in _SPATIAL_MODES and 1 <= dim <= 3:
        wanted = _SPATIAL_MODES[mode]
        raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs {wanted + 2}D input")
    raise NotImplementedError(
        f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) for the modes: "
        f"nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact (got {mode})")
