"""torchvision.transforms.functional: the image operations the transforms are made of.

Images are PIL images (Pillow does the pixel work with the same filters torchvision asks it for,
so results match torchvision's bit for bit) or glasstorch tensors [..., C, H, W] for the
operations that make sense on tensors (normalize, crops, flips, pad, erase, grayscale).
Pillow is imported only when a PIL image is actually handled: `glasstorch.vision` itself needs
NumPy only.
"""
from __future__ import annotations

import math
import numbers
import sys
import warnings
from enum import Enum
from typing import Any, List, Optional, Sequence

import numpy as np

import glasstorch
from glasstorch import Tensor

__all__ = [
    "InterpolationMode", "get_dimensions", "get_image_size", "get_image_num_channels", "to_tensor",
    "pil_to_tensor", "to_pil_image", "normalize", "resize", "pad", "crop", "center_crop", "resized_crop",
    "hflip", "vflip", "rotate", "adjust_brightness", "adjust_contrast", "adjust_saturation", "adjust_hue",
    "rgb_to_grayscale", "to_grayscale", "erase", "gaussian_blur", "affine",
]


class InterpolationMode(Enum):
    """Interpolation modes (the values are torchvision's names for them)."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"  # the last three exist for Pillow only
    HAMMING = "hamming"
    LANCZOS = "lanczos"


# Pillow's integer filter constants (Image.Resampling) <-> modes
_FROM_PIL_INT = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR, 3: InterpolationMode.BICUBIC,
                 4: InterpolationMode.BOX, 5: InterpolationMode.HAMMING, 1: InterpolationMode.LANCZOS}
pil_modes_mapping = {mode: code for code, mode in _FROM_PIL_INT.items()}
pil_modes_mapping[InterpolationMode.NEAREST_EXACT] = 0


def _interpolation_modes_from_int(i: int) -> InterpolationMode:
    return _FROM_PIL_INT[i]


def _to_interpolation(interpolation: Any) -> InterpolationMode:
    """A Pillow integer constant or an InterpolationMode, as an InterpolationMode."""
    if isinstance(interpolation, int):
        return _interpolation_modes_from_int(interpolation)
    if not isinstance(interpolation, InterpolationMode):
        raise TypeError("Argument interpolation should be a InterpolationMode or a corresponding Pillow integer "
                        "constant")
    return interpolation


# ---- what an image is ----------------------------------------------------------------------------

def _pil():
    """PIL.Image, imported on first use (Pillow is the optional extra `glasstorch[vision]`)."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("glasstorch.vision needs Pillow for PIL images: pip install 'glasstorch[vision]'") from None
    return Image


def _is_pil_image(img: Any) -> bool:
    # an object can only be a PIL image if Pillow has been imported, so never import it here
    image_module = sys.modules.get("PIL.Image")
    return image_module is not None and isinstance(img, image_module.Image)


def _check_pil(img: Any) -> None:
    if not _is_pil_image(img):
        raise TypeError(f"img should be PIL Image. Got {type(img)}")


def _check_image_tensor(img: Tensor) -> None:
    if img.ndim < 2:
        raise TypeError("Tensor is not a torch image.")


def get_dimensions(img: Any) -> List[int]:
    """[channels, height, width] of a PIL image or a tensor [..., C, H, W]."""
    if isinstance(img, Tensor):
        _check_image_tensor(img)
        channels = 1 if img.ndim == 2 else int(img.shape[-3])
        return [channels, int(img.shape[-2]), int(img.shape[-1])]
    if not _is_pil_image(img):
        raise TypeError(f"Unexpected type {type(img)}")
    width, height = img.size
    return [len(img.getbands()), height, width]


def get_image_size(img: Any) -> List[int]:
    """[width, height]."""
    _, height, width = get_dimensions(img)
    return [width, height]


def get_image_num_channels(img: Any) -> int:
    return get_dimensions(img)[0]


# ---- conversions ---------------------------------------------------------------------------------

def _unit_float(pixels: np.ndarray) -> np.ndarray:
    """uint8 -> the default float dtype, divided by 255 in that dtype (torch's `.to(dtype).div(255)`)."""
    dtype = glasstorch.get_default_dtype().np
    out = pixels.astype(dtype)
    out /= dtype.type(255)
    return out


def to_tensor(pic: Any) -> Tensor:
    """PIL image or ndarray [H, W(, C)] -> tensor [C, H, W]; uint8 pixels become floats in [0, 1]."""
    is_array = isinstance(pic, np.ndarray)
    if not (_is_pil_image(pic) or is_array):
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    if is_array and pic.ndim not in (2, 3):
        raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
    if is_array:
        hwc = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        dtypes = {"I": np.int32, "I;16" if sys.byteorder == "little" else "I;16B": np.int16, "F": np.float32}
        hwc = np.array(pic, dtypes.get(pic.mode, np.uint8), copy=True)
        if pic.mode == "1":
            hwc = 255 * hwc
        hwc = hwc.reshape(pic.size[1], pic.size[0], len(pic.getbands()))
    chw = np.ascontiguousarray(hwc.transpose(2, 0, 1))
    if chw.dtype == np.uint8:
        chw = _unit_float(chw)
    return glasstorch.from_numpy(chw)


def pil_to_tensor(pic: Any) -> Tensor:
    """PIL image -> tensor [C, H, W] of the image's own dtype (uint8 for 'L', 'RGB', ...)."""
    if not _is_pil_image(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    hwc = np.array(pic, copy=True).reshape(pic.size[1], pic.size[0], len(pic.getbands()))
    return glasstorch.from_numpy(hwc).permute((2, 0, 1))


def to_pil_image(pic: Any, mode: Optional[str] = None) -> Any:
    """Tensor [C, H, W] or ndarray [H, W, C] -> PIL image; floats are scaled by 255 and truncated."""
    if isinstance(pic, Tensor):
        if pic.ndim == 3:
            pic = pic.permute((1, 2, 0))
        pic = pic.detach().cpu().numpy()
    elif not isinstance(pic, np.ndarray):
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    if pic.ndim == 2:
        pic = pic[:, :, None]
    if pic.ndim != 3:
        raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
    if pic.shape[-1] > 4:
        raise ValueError(f"pic should not have > 4 channels. Got {pic.shape[-1]} channels.")
    npimg = pic
    if np.issubdtype(npimg.dtype, np.floating) and mode != "F":
        with np.errstate(invalid="ignore"):  # out-of-range values wrap as torchvision's cast does
            npimg = (npimg * 255).astype(np.uint8)
    channels = npimg.shape[2]
    if channels == 1:
        npimg = npimg[:, :, 0]
        expected = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16" if sys.byteorder == "little" else "I;16B",
                    np.dtype(np.int32): "I", np.dtype(np.float32): "F"}.get(npimg.dtype)
        if mode is not None and mode != expected:
            raise ValueError(f"Incorrect mode ({mode}) supplied for input type {np.dtype}. Should be {expected}")
        mode = expected
    else:
        permitted, default = {2: (["LA"], "LA"), 3: (["RGB", "YCbCr", "HSV"], "RGB"),
                              4: (["RGBA", "CMYK", "RGBX"], "RGBA")}[channels]
        if mode is not None and mode not in permitted:
            raise ValueError(f"Only modes {permitted} are supported for {channels}D inputs")
        if mode is None and npimg.dtype == np.uint8:
            mode = default
    if mode is None:
        raise TypeError(f"Input type {npimg.dtype} is not supported")
    return _pil().fromarray(npimg, mode=mode)


def normalize(tensor: Tensor, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> Tensor:
    """(tensor - mean[c]) / std[c] per channel of a float tensor [..., C, H, W]."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    _check_image_tensor(tensor)
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError("Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = "
                         f"{tensor.size()}")
    if not inplace:
        tensor = tensor.clone()
    mean = glasstorch.as_tensor(mean, dtype=tensor.dtype, device=tensor.device)
    std = glasstorch.as_tensor(std, dtype=tensor.dtype, device=tensor.device)
    if (std == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading to division by zero.")
    if mean.ndim == 1:
        mean = mean.view(-1, 1, 1)
    if std.ndim == 1:
        std = std.view(-1, 1, 1)
    return tensor.sub_(mean).div_(std)


# ---- geometry ------------------------------------------------------------------------------------

def _resized_output_size(height: int, width: int, size: List[int], max_size: Optional[int]) -> List[int]:
    """[new_h, new_w]: `size` = [h, w], or [s] for the shorter edge (aspect kept, long edge floored)."""
    if len(size) == 2:
        return [size[0], size[1]]
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = size[0], int(size[0] * long / short)
    if max_size is not None:
        if max_size <= size[0]:
            raise ValueError(f"max_size = {max_size} must be strictly greater than the requested "
                             f"size for the smaller edge size = {size}")
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    new_w, new_h = (new_short, new_long) if width <= height else (new_long, new_short)
    return [new_h, new_w]


def resize(img: Any, size: Any, interpolation: Any = InterpolationMode.BILINEAR, max_size: Optional[int] = None,
           antialias: Optional[bool] = True) -> Any:
    """Resize to `size` ([h, w], or an int for the shorter edge); PIL resamples with its own
    filters, which always antialias when shrinking."""
    interpolation = _to_interpolation(interpolation)
    if isinstance(size, (list, tuple)):
        if len(size) not in (1, 2):
            raise ValueError(f"Size must be an int or a 1 or 2 element tuple/list, not a {len(size)} element "
                             "tuple/list")
        if max_size is not None and len(size) != 1:
            raise ValueError("max_size should only be passed if size specifies the length of the smaller edge, "
                             "i.e. size should be an int or a sequence of length 1 in torchscript mode.")
    _, height, width = get_dimensions(img)
    output = _resized_output_size(height, width, [size] if isinstance(size, int) else list(size), max_size)
    if [height, width] == output:
        return img
    if isinstance(img, Tensor):
        return _resize_tensor(img, output, interpolation, antialias)
    if antialias is False:
        warnings.warn("Anti-alias option is always applied for PIL Image input. Argument antialias is ignored.")
    return img.resize((output[1], output[0]), pil_modes_mapping[interpolation])


def _aa_weights(in_size: int, out_size: int, kernel: str) -> np.ndarray:
    """[out_size, in_size] antialiased resampling weights (PyTorch's antialias=True interpolation):
    output i averages the inputs within `support` of its centre scale * (i + 0.5), weighted by the
    triangle (bilinear) or Keys cubic with a = -0.5 (bicubic), stretched by the scale when
    shrinking, and normalised to sum to 1."""
    scale = in_size / out_size
    half_width = 1.0 if kernel == "bilinear" else 2.0
    support = half_width * scale if scale >= 1.0 else half_width
    invscale = 1.0 / scale if scale >= 1.0 else 1.0
    centers = scale * (np.arange(out_size) + 0.5)
    xmin = np.maximum((centers - support + 0.5).astype(np.int64), 0)  # truncation toward zero, as C's cast
    xmax = np.minimum((centers + support + 0.5).astype(np.int64), in_size)
    j = np.arange(in_size)
    x = np.abs((j[None, :] - centers[:, None] + 0.5) * invscale)
    if kernel == "bilinear":
        w = np.maximum(1.0 - x, 0.0)
    else:
        a = -0.5
        w = np.where(x < 1.0, ((a + 2) * x - (a + 3)) * x * x + 1,
                     np.where(x < 2.0, ((a * x - 5 * a) * x + 8 * a) * x - 4 * a, 0.0))
    w = np.where((j[None, :] >= xmin[:, None]) & (j[None, :] < xmax[:, None]), w, 0.0)
    total = w.sum(axis=1, keepdims=True)
    return np.divide(w, total, out=np.zeros_like(w), where=total != 0)


def _resize_tensor(img: Tensor, size: List[int], interpolation: InterpolationMode,
                   antialias: Optional[bool]) -> Tensor:
    """torchvision's tensor resize: float math (integer images are rounded back), antialiased
    bilinear/bicubic as separable weight matrices, other modes through nn.functional.interpolate."""
    _check_image_tensor(img)
    mode = interpolation.value
    if mode not in ("nearest", "nearest-exact", "bilinear", "bicubic"):
        raise ValueError(f"Interpolation mode {mode} is not supported for tensor images")
    out_dtype = img.dtype
    x = img if img.dtype in (glasstorch.float32, glasstorch.float64) else img.to(glasstorch.float32)
    lead, (h, w) = tuple(img.shape[:-2]), tuple(img.shape[-2:])
    x = x.reshape(-1, 1, h, w)  # every channel of every image is resized the same way
    if antialias and mode in ("bilinear", "bicubic"):
        rows = glasstorch.as_tensor(_aa_weights(h, size[0], mode), dtype=x.dtype, device=x.device)
        cols = glasstorch.as_tensor(_aa_weights(w, size[1], mode), dtype=x.dtype, device=x.device)
        x = rows @ (x @ cols.T)  # width first, then height
    else:
        from ...nn import functional as nnf

        align = False if mode in ("bilinear", "bicubic") else None
        x = nnf.interpolate(x, size=list(size), mode=mode, align_corners=align)
    x = x.reshape(*lead, size[0], size[1])
    if out_dtype != x.dtype:
        if mode == "bicubic" and out_dtype == glasstorch.uint8:
            x = x.clamp(min=0, max=255)
        x = glasstorch.round(x).to(out_dtype)
    return x


def _padding_ltrb(padding: Any) -> List[int]:
    """torchvision's padding argument (int, or 1, 2 or 4 numbers) as [left, top, right, bottom]."""
    if isinstance(padding, numbers.Number):
        padding = [padding]
    padding = [int(p) for p in padding]
    if len(padding) == 1:
        return padding * 4
    if len(padding) == 2:
        return [padding[0], padding[1], padding[0], padding[1]]
    return padding


def _parse_fill(fill: Any, img: Any, name: str = "fillcolor") -> dict:
    """Pillow's keyword for a fill colour: one value per band, ints unless the image is 'F'."""
    bands = len(img.getbands())
    if fill is None:
        fill = 0
    if isinstance(fill, (int, float)) and bands > 1:
        fill = tuple([fill] * bands)
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = tuple(fill) * bands
        elif len(fill) != bands:
            raise ValueError("The number of elements in 'fill' does not match the number of channels of the image "
                             f"({len(fill)} != {bands})")
        fill = tuple(fill)
    if img.mode != "F":
        fill = tuple(int(x) for x in fill) if isinstance(fill, tuple) else int(fill)
    return {name: fill}


def pad(img: Any, padding: Any, fill: Any = 0, padding_mode: str = "constant") -> Any:
    """Pad the borders: `padding` is an int, (left/right, top/bottom) or (left, top, right, bottom);
    padding_mode constant (with `fill`), edge, reflect or symmetric (NumPy's meanings)."""
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if not isinstance(fill, (numbers.Number, str, tuple, list)):
        raise TypeError("Got inappropriate fill arg")
    if not isinstance(padding_mode, str):
        raise TypeError("Got inappropriate padding_mode arg")
    if isinstance(padding, (tuple, list)) and len(padding) not in (1, 2, 4):
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    left, top, right, bottom = _padding_ltrb(padding)
    if isinstance(img, Tensor):
        return _pad_tensor(img, left, top, right, bottom, fill, padding_mode)
    _check_pil(img)
    if padding_mode == "constant":
        from PIL import ImageOps

        palette = img.getpalette() if img.mode == "P" else None
        out = ImageOps.expand(img, border=(left, top, right, bottom), **_parse_fill(fill, img, name="fill"))
        if palette is not None:
            out.putpalette(palette)
        return out
    # negative padding crops; NumPy pads the rest
    cl, ct, cr, cb = (max(-p, 0) for p in (left, top, right, bottom))
    if cl or ct or cr or cb:
        img = img.crop((cl, ct, img.width - cr, img.height - cb))
    left, top, right, bottom = (max(p, 0) for p in (left, top, right, bottom))
    palette = img.getpalette() if img.mode == "P" else None
    array = np.asarray(img)
    widths = ((top, bottom), (left, right)) + (((0, 0),) if array.ndim == 3 else ())
    out = _pil().fromarray(np.pad(array, widths, padding_mode))
    if palette is not None:
        out.putpalette(palette)
    return out


def _pad_tensor(img: Tensor, left: int, top: int, right: int, bottom: int, fill: Any, mode: str) -> Tensor:
    """Pad (or, for negative amounts, crop) the last two dims of a tensor, on its own device."""
    if not isinstance(fill, numbers.Number):
        raise TypeError("Only numerical fill is supported for tensor images")
    h, w = int(img.shape[-2]), int(img.shape[-1])
    img = img[..., max(-top, 0):h - max(-bottom, 0), max(-left, 0):w - max(-right, 0)]
    widths = [(0, 0)] * (img.ndim - 2) + [(max(top, 0), max(bottom, 0)), (max(left, 0), max(right, 0))]
    xp = img.device.xp
    data = img.detach()._data
    if mode == "constant":
        out = xp.pad(data, widths, mode="constant", constant_values=fill)
    else:
        out = xp.pad(data, widths, mode=mode)
    return glasstorch.as_tensor(out, device=img.device)


def crop(img: Any, top: int, left: int, height: int, width: int) -> Any:
    """The box of `height` x `width` pixels at (top, left); outside the image is 0."""
    if isinstance(img, Tensor):
        _, h, w = get_dimensions(img)
        right, bottom = left + width, top + height
        if left < 0 or top < 0 or right > w or bottom > h:
            ltrb = [max(-left + min(0, right), 0), max(-top + min(0, bottom), 0),
                    max(right - max(w, left), 0), max(bottom - max(h, top), 0)]
            return pad(img[..., max(top, 0):bottom, max(left, 0):right], ltrb, fill=0)
        return img[..., top:bottom, left:right]
    _check_pil(img)
    return img.crop((left, top, left + width, top + height))


def _pair(size: Any) -> tuple:
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, (tuple, list)) and len(size) == 1:
        return size[0], size[0]
    return tuple(size)


def center_crop(img: Any, output_size: Any) -> Any:
    """The central `output_size` box (zero-padded first if the image is smaller); an odd margin
    puts the extra pixel on the bottom/right when cropping (round half to even of margin/2)."""
    crop_height, crop_width = _pair(output_size)
    _, height, width = get_dimensions(img)
    if crop_width > width or crop_height > height:
        ltrb = [(crop_width - width) // 2 if crop_width > width else 0,
                (crop_height - height) // 2 if crop_height > height else 0,
                (crop_width - width + 1) // 2 if crop_width > width else 0,
                (crop_height - height + 1) // 2 if crop_height > height else 0]
        img = pad(img, ltrb, fill=0)
        _, height, width = get_dimensions(img)
        if crop_width == width and crop_height == height:
            return img
    top = int(round((height - crop_height) / 2.0))
    left = int(round((width - crop_width) / 2.0))
    return crop(img, top, left, crop_height, crop_width)


def resized_crop(img: Any, top: int, left: int, height: int, width: int, size: Any,
                 interpolation: Any = InterpolationMode.BILINEAR, antialias: Optional[bool] = True) -> Any:
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


def hflip(img: Any) -> Any:
    if isinstance(img, Tensor):
        return img.flip(-1)
    _check_pil(img)
    return img.transpose(_pil().Transpose.FLIP_LEFT_RIGHT)


def vflip(img: Any) -> Any:
    if isinstance(img, Tensor):
        return img.flip(-2)
    _check_pil(img)
    return img.transpose(_pil().Transpose.FLIP_TOP_BOTTOM)


def rotate(img: Any, angle: float, interpolation: Any = InterpolationMode.NEAREST, expand: bool = False,
           center: Optional[Sequence[int]] = None, fill: Any = None) -> Any:
    """Rotate a PIL image by `angle` degrees counter-clockwise about `center` (default: the middle)."""
    interpolation = _to_interpolation(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    if isinstance(img, Tensor):
        raise NotImplementedError("glasstorch.vision rotates PIL images only: put RandomRotation before ToTensor()")
    _check_pil(img)
    return img.rotate(angle, pil_modes_mapping[interpolation], expand, center, **_parse_fill(fill, img))


def _inverse_affine_matrix(center: Sequence[float], angle: float, translate: Sequence[float], scale: float,
                           shear: Sequence[float]) -> List[float]:
    """The 2x3 map from output to input pixel coordinates (what Pillow's AFFINE transform takes) of
    M = T(translate) C(center) R(angle) S(scale) Shear(sx, sy) C^-1, angles in degrees.

    R Shear without the scale is [[a, b], [c, d]] with det 1, so its inverse is [[d, -b], [-c, a]].
    """
    rot, sx, sy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    m = [x / scale for x in (d, -b, 0.0, -c, a, 0.0)]
    # undo the translation and the centring, rotate back, then centre again
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty) + cx
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty) + cy
    return m


def affine(img: Any, angle: float, translate: Sequence[int], scale: float, shear: Any,
           interpolation: Any = InterpolationMode.NEAREST, fill: Any = None,
           center: Optional[Sequence[int]] = None) -> Any:
    """Rotate (degrees, clockwise on screen, unlike `rotate`), scale and shear (degrees along x, y)
    about `center` (default: the middle, w/2, h/2), then translate by (tx, ty) pixels; a PIL image
    keeps its size."""
    interpolation = _to_interpolation(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if not isinstance(translate, (list, tuple)):
        raise TypeError("Argument translate should be a sequence")
    if len(translate) != 2:
        raise ValueError("Argument translate should be a sequence of length 2")
    if scale <= 0.0:
        raise ValueError("Argument scale should be positive")
    if not isinstance(shear, (numbers.Number, list, tuple)):
        raise TypeError("Shear should be either a single value or a sequence of two values")
    shear = [shear, 0.0] if isinstance(shear, numbers.Number) else list(shear)
    if len(shear) == 1:
        shear = [shear[0], shear[0]]
    if len(shear) != 2:
        raise ValueError(f"Shear should be a sequence containing two values. Got {shear}")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    if isinstance(img, Tensor):
        raise NotImplementedError("glasstorch.vision applies affine maps to PIL images only: put RandomAffine "
                                  "before ToTensor()")
    _check_pil(img)
    width, height = img.size
    if center is None:
        center = [width * 0.5, height * 0.5]
    matrix = _inverse_affine_matrix(center, float(angle), list(translate), scale, shear)
    return img.transform(img.size, _pil().Transform.AFFINE, matrix, pil_modes_mapping[interpolation],
                         **_parse_fill(fill, img))


# ---- colour --------------------------------------------------------------------------------------

def _enhance(img: Any, kind: str, factor: float) -> Any:
    if isinstance(img, Tensor):
        raise NotImplementedError("glasstorch.vision adjusts the colours of PIL images only: put ColorJitter "
                                  "before ToTensor()")
    _check_pil(img)
    from PIL import ImageEnhance

    return getattr(ImageEnhance, kind)(img).enhance(factor)


def adjust_brightness(img: Any, brightness_factor: float) -> Any:
    """Blend with black: 0 gives black, 1 the image, 2 twice as bright (clipped)."""
    return _enhance(img, "Brightness", brightness_factor)


def adjust_contrast(img: Any, contrast_factor: float) -> Any:
    """Blend with the mean grey level: 0 gives solid grey, 1 the image."""
    return _enhance(img, "Contrast", contrast_factor)


def adjust_saturation(img: Any, saturation_factor: float) -> Any:
    """Blend with the greyscale image: 0 gives black and white, 1 the image."""
    return _enhance(img, "Color", saturation_factor)


def adjust_hue(img: Any, hue_factor: float) -> Any:
    """Shift the hue channel (HSV, 0-255) cyclically by hue_factor * 255, hue_factor in [-0.5, 0.5]."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if isinstance(img, Tensor):
        raise NotImplementedError("glasstorch.vision adjusts the hue of PIL images only: put ColorJitter "
                                  "before ToTensor()")
    _check_pil(img)
    if img.mode in {"L", "1", "I", "F"}:
        return img
    h, s, v = img.convert("HSV").split()
    # the shift is truncated toward zero and wraps modulo 256, as the uint8 cast of it does
    shifted = np.array(h, dtype=np.uint8) + np.uint8(int(hue_factor * 255) % 256)
    Image = _pil()
    return Image.merge("HSV", (Image.fromarray(shifted, "L"), s, v)).convert(img.mode)


def rgb_to_grayscale(img: Any, num_output_channels: int = 1) -> Any:
    """Luma (PIL's ITU-R 601-2 conversion for images; 0.2989 R + 0.587 G + 0.114 B for tensors),
    repeated into 3 channels if asked."""
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if isinstance(img, Tensor):
        channels = get_dimensions(img)[0]
        if channels not in (1, 3):
            raise TypeError(f"Input image tensor permitted channel values are [1, 3], but found {channels}")
        if channels == 3:
            r, g, b = img.unbind(dim=-3)
            gray = (0.2989 * r + 0.587 * g + 0.114 * b).to(img.dtype).unsqueeze(dim=-3)
        else:
            gray = img.clone()
        # torchvision expands to the input's shape, so a 1-channel input stays 1-channel
        return gray.expand(img.shape) if num_output_channels == 3 else gray
    return to_grayscale(img, num_output_channels)


def to_grayscale(img: Any, num_output_channels: int = 1) -> Any:
    """A PIL image in mode 'L', or 'RGB' with three equal channels."""
    _check_pil(img)
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    gray = img.convert("L")
    if num_output_channels == 1:
        return gray
    array = np.array(gray, dtype=np.uint8)
    return _pil().fromarray(np.dstack([array, array, array]), "RGB")


def _gaussian_kernel1d(size: int, sigma: float, dtype: Any) -> Tensor:
    """exp(-x^2 / (2 sigma^2)) at x = -(size-1)/2 ... (size-1)/2, normalised to sum to 1."""
    half = (size - 1) * 0.5
    x = glasstorch.linspace(-half, half, steps=size, dtype=dtype)
    pdf = glasstorch.exp(-0.5 * (x / sigma).pow(2))
    return pdf / pdf.sum()


def gaussian_blur(img: Any, kernel_size: Any, sigma: Any = None) -> Any:
    """Blur with a separable Gaussian (kernel_size = (kx, ky), odd; sigma = (sx, sy), default
    0.15 * k + 0.35), reflecting at the borders. PIL images go through a uint8 tensor, as in
    torchvision, and are rounded back."""
    if not isinstance(kernel_size, (int, list, tuple)):
        raise TypeError(f"kernel_size should be int or a sequence of integers. Got {type(kernel_size)}")
    if isinstance(kernel_size, int):
        kernel_size = [kernel_size, kernel_size]
    if len(kernel_size) != 2:
        raise ValueError(f"If kernel_size is a sequence its length should be 2. Got {len(kernel_size)}")
    for k in kernel_size:
        if k % 2 == 0 or k < 0:
            raise ValueError(f"kernel_size should have odd and positive integers. Got {kernel_size}")
    if sigma is None:
        sigma = [k * 0.15 + 0.35 for k in kernel_size]
    if not isinstance(sigma, (int, float, list, tuple)):
        raise TypeError(f"sigma should be either float or sequence of floats. Got {type(sigma)}")
    if isinstance(sigma, (int, float)):
        sigma = [float(sigma), float(sigma)]
    if len(sigma) == 1:
        sigma = [sigma[0], sigma[0]]
    if len(sigma) != 2:
        raise ValueError(f"If sigma is a sequence, its length should be 2. Got {len(sigma)}")
    for s in sigma:
        if s <= 0.0:
            raise ValueError(f"sigma should have positive values. Got {sigma}")
    is_pil = not isinstance(img, Tensor)
    t = pil_to_tensor(img) if is_pil else img
    _check_image_tensor(t)
    dtype = t.dtype if t.is_floating_point() else glasstorch.float32
    kx = _gaussian_kernel1d(kernel_size[0], sigma[0], dtype)
    ky = _gaussian_kernel1d(kernel_size[1], sigma[1], dtype)
    kernel = glasstorch.mm(ky[:, None], kx[None, :])
    lead, (c, h, w) = tuple(t.shape[:-3]), tuple(t.shape[-3:]) if t.ndim > 2 else (1, *t.shape)
    x = t.reshape(-1, c, h, w).to(dtype)
    from ...nn import functional as nnf

    x = nnf.pad(x, [kernel_size[0] // 2, kernel_size[0] // 2, kernel_size[1] // 2, kernel_size[1] // 2],
                mode="reflect")
    x = nnf.conv2d(x, kernel.expand(c, 1, *kernel.shape), groups=c)
    x = x.reshape(*lead, c, h, w) if t.ndim > 2 else x.reshape(h, w)
    if x.dtype != t.dtype:
        x = glasstorch.round(x).to(t.dtype)
    return to_pil_image(x, mode=img.mode) if is_pil else x


def erase(img: Tensor, i: int, j: int, h: int, w: int, v: Any, inplace: bool = False) -> Tensor:
    """The tensor with the box at (i, j) of size h x w replaced by `v` (broadcast over it)."""
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    if not inplace:
        img = img.clone()
    img[..., i:i + h, j:j + w] = v
    return img


def _angle_range(degrees: Any, name: str) -> List[float]:
    """A number d -> [-d, d]; a pair -> itself; as floats."""
    if isinstance(degrees, numbers.Number):
        if degrees < 0:
            raise ValueError(f"If {name} is a single number, it must be positive.")
        degrees = [-degrees, degrees]
    elif not isinstance(degrees, Sequence):
        raise TypeError(f"{name} should be a sequence of length 2.")
    elif len(degrees) != 2:
        raise ValueError(f"{name} should be a sequence of length 2.")
    return [float(d) for d in degrees]

