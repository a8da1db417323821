"""torch.nn.functional's convolution, pooling, unfold/fold: argument checking and dispatch.

The array work and graph nodes live in glasstorch/_ops/conv.py and _ops/pooling.py; this file
turns PyTorch's flexible arguments (ints or tuples, stride=None, unbatched inputs) into the
tuples those ops take, and raises PyTorch's errors for bad ones.
"""
from __future__ import annotations

from .._ops import conv as C, pooling as P
from .._ops._util import Tensor, _GradMode, not_implemented
from .._ops.pointwise import abs as _abs, relu as _relu, sign as _sign

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "unfold",
           "fold", "max_pool1d", "max_pool2d", "max_pool1d_with_indices", "max_pool2d_with_indices", "avg_pool1d",
           "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
           "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices", "lp_pool1d", "lp_pool2d",
           "max_unpool1d", "max_unpool2d"]


# ---- convolution ------------------------------------------------------------------------------------
def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """input (N, C_in, L) or (C_in, L), weight (C_out, C_in/groups, k) -> (N, C_out, L_out)."""
    return C.conv_nd(1, "conv1d", input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """input (N, C_in, H, W) or (C_in, H, W), weight (C_out, C_in/groups, kh, kw) -> (N, C_out, H_out, W_out)."""
    return C.conv_nd(2, "conv2d", input, weight, bias, stride, padding, dilation, groups)


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    return C.conv_nd(3, "conv3d", input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """input (N, C_in, L), weight (C_in, C_out/groups, k) -> (N, C_out, (L-1)*stride - 2*padding + ...)."""
    return C.conv_transpose_nd(1, "conv_transpose1d", input, weight, bias, stride, padding, output_padding, groups,
                               dilation)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """input (N, C_in, H, W), weight (C_in, C_out/groups, kh, kw) -> (N, C_out, H_out, W_out)."""
    return C.conv_transpose_nd(2, "conv_transpose2d", input, weight, bias, stride, padding, output_padding, groups,
                               dilation)


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    return C.conv_transpose_nd(3, "conv_transpose3d", input, weight, bias, stride, padding, output_padding, groups,
                               dilation)


unfold = C.unfold
fold = C.fold


# ---- argument helpers for pooling --------------------------------------------------------------------
def _ints(value) -> tuple:
    if isinstance(value, (tuple, list)):
        return tuple(int(v) for v in value)
    return (int(value),)


def _pair_arg(value, name: str, what: str, allow_empty: bool = False) -> tuple:
    """An int or a 1- or 2-sequence as a pair, with PyTorch's 2-d pooling message otherwise."""
    v = _ints(value)
    if len(v) == 1:
        return v * 2
    if len(v) == 2:
        return v
    raise RuntimeError(f"{name}: {what}")


_KERNEL = "kernel_size must either be a single int, or a tuple of two ints"
_STRIDE = "stride must either be omitted, a single int, or a tuple of two ints"
_PADDING = "padding must either be a single int, or a tuple of two ints"
_DILATION = "dilation must be either a single int, or a tuple of two ints"


def _stride_or_kernel(stride, kernel: tuple, name: str) -> tuple:
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        return kernel
    return _pair_arg(stride, name, _STRIDE)


def _check_pool2d(x: Tensor, kernel, stride, pad, dilation, batch_message: bool):
    """PyTorch's order of checks for 2-d sliding-window pools (output size is checked by the op)."""
    if any(s == 0 for s in stride):
        raise RuntimeError("stride should not be zero")
    for p, k, d in zip(pad, kernel, dilation):
        if p < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {p}")
        if p > ((k - 1) * d + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p}, "
                               f"kernel_size={k} and dilation={d}")
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kernel[0]} kW: {kernel[1]}")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"stride should be greater than zero, but got dH: {stride[0]} dW: {stride[1]}")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {dilation[0]} "
                           f"dilationW: {dilation[1]}")
    shape = tuple(x.shape)
    if len(shape) not in (3, 4) and not batch_message:
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    if len(shape) not in (3, 4) or 0 in shape[-3:]:
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, "
                           f"but got:{list(shape)}")


# ---- max pooling -------------------------------------------------------------------------------------
def max_pool2d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
                            return_indices: bool = False):
    kernel = _pair_arg(kernel_size, "max_pool2d", _KERNEL)
    stride = _stride_or_kernel(stride, kernel, "max_pool2d")
    pad = _pair_arg(padding, "max_pool2d", _PADDING)
    dilation = _pair_arg(dilation, "max_pool2d", _DILATION)
    _check_pool2d(input, kernel, stride, pad, dilation, batch_message=False)
    return P.max_pool_nd(input, kernel, stride, pad, dilation, ceil_mode, return_indices)


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """(N, C, H, W) or (C, H, W) -> the max of each window; with return_indices also its flat index h * W + w."""
    return max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _one(value, name: str, what: str) -> int:
    v = _ints(value)
    if len(v) != 1:
        raise RuntimeError(f"{name}() {what} must be an int, list of ints or tuple of ints of size 1 but got size "
                           f"{len(v)}")
    return v[0]


def max_pool1d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
                            return_indices: bool = False):
    k = _one(kernel_size, "max_pool1d", "kernel_size")
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) else _one(stride, "max_pool1d",
                                                                                            "stride")
    p = _one(padding, "max_pool1d", "padding")
    d = _one(dilation, "max_pool1d", "dilation")
    shape = tuple(input.shape)
    if input.dim() not in (2, 3) or 0 in shape[input.dim() - 2:]:  # only a batch dim may be empty
        raise RuntimeError(f"max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for "
                           f"input, but got:{list(input.shape)}")
    if k <= 0:
        raise RuntimeError(f"max_pool1d() kernel_size must be greater than zero, but got {k}")
    if s <= 0:
        raise RuntimeError(f"max_pool1d() stride must be greater than zero, but got {s}")
    if p < 0:
        raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {p}")
    if p > k // 2:
        raise RuntimeError(f"max_pool1d() padding should be at most half of kernel size, but got padding={p} and "
                           f"kernel_size={k}")
    if d <= 0:
        raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got {d}")
    out = P.pool_output_size(input.shape[-1], k, p, s, d, ceil_mode)
    if out <= 0:
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {out}")
    if not return_indices and not (_GradMode.enabled and input.requires_grad) and input._data.dtype.kind != "f":
        # without indices or a graph PyTorch runs a float-only 1-d kernel
        raise not_implemented("max_pool1d_impl", input._data.dtype)
    # PyTorch pools a row of height 1 in 2-d and squeezes it away (grad_fn SqueezeBackward1)
    out = P.max_pool_nd(input.unsqueeze(-2), (1, k), (1, s), (0, p), (1, d), ceil_mode, return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """(N, C, L) or (C, L) -> the max of each window (and its index along L)."""
    return max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


# ---- average pooling -------------------------------------------------------------------------------------
def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """(N, C, H, W) or (C, H, W) -> the mean of each window (divided by divisor_override if given)."""
    kernel = _pair_arg(kernel_size, "avg_pool2d", _KERNEL)
    stride = _stride_or_kernel(stride, kernel, "avg_pool2d")
    pad = _pair_arg(padding, "avg_pool2d", _PADDING)
    if input.dim() < 3:  # PyTorch reads the size of dim -3 first
        raise IndexError(f"Dimension out of range (expected to be in range of [{-max(input.dim(), 1)}, "
                         f"{max(input.dim(), 1) - 1}], but got -3)")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    _check_pool2d(input, kernel, stride, pad, (1, 1), batch_message=True)
    return P.avg_pool_nd(input, kernel, stride, pad, ceil_mode, count_include_pad, divisor_override)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """(N, C, L) or (C, L) -> the mean of each window."""
    k = _ints(kernel_size)
    if len(k) != 1:
        raise RuntimeError(f"avg_pool1d() argument 'kernel_size' should contain one int (got {len(k)})")
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) else _ints(stride)
    p = _ints(padding)
    if input.dim() not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor for argument #1 "
                           "'self' (while checking arguments for avg_pool1d)")
    y = avg_pool2d(input.unsqueeze(-2), (1, k[0]), (1, s[0]), (0, p[0]), ceil_mode, count_include_pad)
    return y.squeeze(-2)


# ---- adaptive pooling ------------------------------------------------------------------------------------
def _adaptive_size(output_size, size: tuple, name: str) -> tuple:
    """output_size as a tuple the length of `size`; None entries keep the input's size."""
    nd = len(size)
    if isinstance(output_size, (tuple, list)):
        out = tuple(output_size)
    else:
        out = (output_size,) * nd
    if len(out) != nd:
        if nd == 1:
            raise RuntimeError(f"{name}() argument 'output_size' should contain one int (got {len(out)})")
        if name == "adaptive_max_pool2d":
            raise RuntimeError(f"{name}(): internal error: output_size.size() must be 2")
        raise RuntimeError(f"{name}: output_size must be 2")
    return tuple(s if o is None else int(o) for o, s in zip(out, size))


def _check_adaptive(x: Tensor, nd: int, name: str):
    shape = tuple(x.shape)
    if nd == 1:
        if x.dim() not in (2, 3):
            raise RuntimeError(f"Expected 2 to 3 dimensions, but got {x.dim()}-dimensional tensor for argument #1 "
                               f"'self' (while checking arguments for {name})")
        return
    if x.dim() not in (3, 4):
        sep = ": " if "max" in name else " "  # (PyTorch's two messages differ by this colon)
        raise RuntimeError(f"{name}(): Expected 3D or 4D tensor, but got{sep}{list(shape)}")
    for i in range(x.dim() - 2, x.dim()):
        if shape[i] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch dimensions, but input "
                               f"has sizes {list(shape)} with dimension {i} being empty")


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """(N, C, H, W) or (C, H, W) -> (..., *output_size): window i spans [floor(i*H/oh), ceil((i+1)*H/oh))."""
    _check_adaptive(input, 2, "adaptive_avg_pool2d")
    out = _adaptive_size(output_size, tuple(input.shape[-2:]), "adaptive_avg_pool2d")
    if out == (1, 1):  # PyTorch takes the mean (grad_fn MeanBackward1)
        return input.mean((-1, -2), keepdim=True)
    return P.adaptive_avg_pool_nd(input, out, "adaptive_avg_pool2d")


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    _check_adaptive(input, 1, "adaptive_avg_pool1d")
    out = _adaptive_size(output_size, tuple(input.shape[-1:]), "adaptive_avg_pool1d")
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1,) + out).squeeze(-2)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size, return_indices: bool = False):
    _check_adaptive(input, 2, "adaptive_max_pool2d")
    out = _adaptive_size(output_size, tuple(input.shape[-2:]), "adaptive_max_pool2d")
    return P.adaptive_max_pool_nd(input, out, True, "adaptive_max_pool2d")


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """(N, C, H, W) or (C, H, W) -> the max of each adaptive window (and its flat index h * W + w)."""
    out, idx = adaptive_max_pool2d_with_indices(input, output_size, True)
    return (out, idx) if return_indices else out


def adaptive_max_pool1d_with_indices(input: Tensor, output_size, return_indices: bool = False):
    _check_adaptive(input, 1, "adaptive_max_pool1d")
    out = _adaptive_size(output_size, tuple(input.shape[-1:]), "adaptive_max_pool1d")
    y, idx = P.adaptive_max_pool_nd(input.unsqueeze(-2), (1,) + out, True, "adaptive_max_pool2d")
    return y.squeeze(-2), idx.squeeze(-2)


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    out, idx = adaptive_max_pool1d_with_indices(input, output_size, True)
    return (out, idx) if return_indices else out


# ---- power-average pooling ------------------------------------------------------------------------------
def lp_pool2d(input: Tensor, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False) -> Tensor:
    """(sum over each window of x^p)^(1/p), computed as PyTorch does: from the window mean of x^p."""
    kh, kw = _pair_arg(kernel_size, "avg_pool2d", _KERNEL)
    mean = avg_pool2d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    # sign * relu(abs): a negative mean (possible for odd p) stays negative, as in PyTorch
    return (_sign(mean) * _relu(_abs(mean))).mul(kh * kw).pow(1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False) -> Tensor:
    """(sum over each window of x^p)^(1/p) along the last dim."""
    mean = avg_pool1d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    k = _ints(kernel_size)[0]
    return (_sign(mean) * _relu(_abs(mean))).mul(k).pow(1.0 / norm_type)


# ---- max unpooling --------------------------------------------------------------------------------------
def _unpool_size(input: Tensor, kernel, stride, pad, output_size, nd: int) -> tuple:
    """The default output size (in - 1) * stride - 2 * pad + kernel, or output_size after PyTorch's checks."""
    size = tuple(input.shape[-nd:])
    default = tuple((s - 1) * st - 2 * p + k for s, st, p, k in zip(size, stride, pad, kernel))
    if output_size is None:
        return default
    out = tuple(int(o) for o in output_size)
    if len(out) == nd + 2:
        out = out[2:]
    if len(out) != nd:
        raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} elements, but it has a "
                         f"length of '{len(out)}'")
    for d, (o, s) in enumerate(zip(out, default)):
        lo, hi = s - stride[d], s + stride[d]
        if not lo < o < hi:
            raise ValueError(f'invalid output_size "{out}" (dim {d} must be between {lo} and {hi})')
    return out


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """Put each value of `input` at its max_pool2d index in a zero (N, C, H_out, W_out) output."""
    kernel = _ints(kernel_size) * (2 if len(_ints(kernel_size)) == 1 else 1)
    stride = kernel if stride is None else _ints(stride) * (2 if len(_ints(stride)) == 1 else 1)
    pad = _ints(padding) * (2 if len(_ints(padding)) == 1 else 1)
    out = _unpool_size(input, kernel, stride, pad, output_size, 2)
    if input.dim() not in (3, 4):
        raise RuntimeError(f"Input to max_unpooling2d should be a 3d or 4d Tensor, but got a tensor with "
                           f"{input.dim()} dimensions.")
    if indices._data.dtype.kind != "i" or indices._data.dtype.itemsize != 8:
        from .._ops._util import type_word

        raise RuntimeError(f"elements in indices should be type int64 but got: {type_word(indices._data.dtype)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor ({list(input.shape)}) "
                           f"but got indices tensor with shape: {list(indices.shape)}")
    return P.max_unpool_nd(input, indices, out)


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    k = _ints(kernel_size)[0]
    s = k if stride is None else _ints(stride)[0]
    p = _ints(padding)[0]
    out = _unpool_size(input, (k,), (s,), (p,), output_size, 1)
    y = max_unpool2d(input.unsqueeze(-1), indices.unsqueeze(-1), (k, 1), (s, 1), (p, 0), out + (1,))
    return y.squeeze(-1)
