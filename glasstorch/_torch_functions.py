"""More of torch's top-level functions: the functional forms of Tensor methods (torch.fliplr(x) is
x.fliplr()), torch's activation and dropout aliases (torch.selu, torch.dropout(input, p, train)),
constants, and the top-level in-place functions (torch.relu_(x), torch.exp_(x), ...).

The math lives in glasstorch/_ops and nn/; this module only names it as torch does, and
glasstorch/__init__.py re-exports everything in __all__.
"""
from __future__ import annotations

import math

from ._memory_format import _TorchConstant
from ._tensor import Tensor
from ._ops import creation as _c, elementwise as _e, linalg as _l, pointwise as _p
from ._ops import products as _pr, reduction as _r, scans as _sc, shape as _s

__all__ = [
    "pi", "e", "inf", "nan", "newaxis", "layout", "strided", "sparse_coo", "sparse_csr", "sparse_csc", "sparse_bsr",
    "sparse_bsc", "jagged",
    "fliplr", "flipud", "ravel", "adjoint", "addr", "ger", "renorm", "rsub", "mvlgamma", "frexp", "nextafter",
    "isneginf", "isposinf", "isreal", "clamp_min", "clamp_max", "trapezoid", "trapz", "cumulative_trapezoid",
    "vander", "logspace", "asarray", "frombuffer", "empty_strided", "scalar_tensor",
    "diagonal_scatter", "select_scatter", "slice_scatter", "narrow_copy", "as_strided", "as_strided_scatter",
    "split_with_sizes", "nonzero_static", "qr", "triangular_solve", "cholesky_solve", "cholesky_inverse",
    "unravel_index",
    "hardshrink", "prelu", "selu", "selu_", "celu", "celu_", "threshold", "threshold_", "rrelu", "rrelu_",
    "dropout", "dropout_", "alpha_dropout", "alpha_dropout_", "feature_alpha_dropout", "feature_alpha_dropout_",
    "layer_norm", "group_norm", "batch_norm", "instance_norm", "rms_norm", "embedding", "pixel_shuffle",
    "pixel_unshuffle", "channel_shuffle", "constant_pad_nd", "kl_div", "binary_cross_entropy_with_logits",
    "cosine_embedding_loss", "margin_ranking_loss", "hinge_embedding_loss", "triplet_margin_loss", "poisson_nll_loss",
    "is_nonzero", "is_same_size", "is_signed", "is_neg", "is_conj", "resolve_conj", "resolve_neg", "typename",
]

# ---- constants -----------------------------------------------------------------------------------------
pi, e, inf, nan = math.pi, math.e, math.inf, math.nan
newaxis = None


class layout(_TorchConstant):  # noqa: N801  (PyTorch's class name)
    """How a tensor's elements are stored; every glasstorch tensor is dense and strided (torch.strided)."""

    __slots__ = ()


strided = layout("strided")
sparse_coo, sparse_csr, sparse_csc = layout("sparse_coo"), layout("sparse_csr"), layout("sparse_csc")
sparse_bsr, sparse_bsc, jagged = layout("sparse_bsr"), layout("sparse_bsc"), layout("jagged")

# ---- functional forms of Tensor methods ------------------------------------------------------------------
fliplr, flipud, ravel, adjoint = _s.fliplr, _s.flipud, _s.ravel, _s.adjoint
diagonal_scatter, select_scatter, slice_scatter, narrow_copy = (_s.diagonal_scatter, _s.select_scatter,
                                                                _s.slice_scatter, _s.narrow_copy)
addr, renorm, mvlgamma = _pr.addr, _r.renorm, _e.mvlgamma
frexp, nextafter, isneginf, isposinf, isreal = _e.frexp, _e.nextafter, _e.isneginf, _e.isposinf, _e.isreal
clamp_min, clamp_max = _p.clamp_min, _p.clamp_max
trapezoid, trapz, cumulative_trapezoid = _sc.trapezoid, _sc.trapz, _sc.cumulative_trapezoid
vander, logspace, asarray, frombuffer = _c.vander, _c.logspace, _c.asarray, _c.frombuffer
empty_strided = _c.empty_strided


def ger(input: Tensor, vec2: Tensor) -> Tensor:
    """The outer product of two vectors (the older name of torch.outer)."""
    return _l.outer(input, vec2)


def rsub(input: Tensor, other, *, alpha=1) -> Tensor:
    """other - alpha * input."""
    return _p.rsub(input, other) if alpha == 1 else _p.rsub(input * alpha, other)


def as_strided(input: Tensor, size, stride, storage_offset: int | None = None) -> Tensor:
    """A view of input's storage with the given sizes and strides (see Tensor.as_strided)."""
    return _s.as_strided(input, size, stride, storage_offset)


def qr(input: Tensor, some: bool = True):
    """(Q, R) of input (torch.return_types.qr); some=False gives the complete factorization."""
    from ._ops.linalg_decomp import qr_legacy

    return qr_legacy(input, some)


def unravel_index(indices, shape):
    """The coordinates, one tensor per dim of shape, of flat indices into a tensor of that shape (row-major)."""
    from ._ops.creation import as_tensor

    idx = indices if isinstance(indices, Tensor) else as_tensor(indices)
    if idx.dtype.is_floating_point or idx.dtype.is_complex or idx.dtype.name == "bool":
        raise TypeError("expected 'indices' to be integer dtype, but got " + str(idx.dtype))
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if any(s < 0 for s in shape):
        raise ValueError("'shape' cannot have negative values, but got " + str(shape))
    flat = idx.long()
    flat = _p.where(flat < 0, flat + math.prod(shape), flat)  # negative indices count from the end
    out = []
    for size in reversed(shape[1:]):
        out.append(_p.remainder(flat, size))
        flat = _p.floor_divide(flat, size)
    return (flat,) + tuple(reversed(out)) if shape else ()


def as_strided_scatter(input: Tensor, src: Tensor, size, stride, storage_offset: int | None = None) -> Tensor:
    return _s.as_strided_scatter(input, src, size, stride, storage_offset)


def triangular_solve(b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False, unitriangular: bool = False):
    from ._ops.triangular import triangular_solve as solve

    return solve(b, A, upper, transpose, unitriangular)


def cholesky_solve(b: Tensor, u: Tensor, upper: bool = False) -> Tensor:
    from ._ops.triangular import cholesky_solve as solve

    return solve(b, u, upper)


def cholesky_inverse(A: Tensor, upper: bool = False) -> Tensor:
    from ._ops.triangular import cholesky_inverse_of

    return cholesky_inverse_of(A, upper)


def nonzero_static(input: Tensor, *, size: int, fill_value: int = -1) -> Tensor:
    from ._ops.indexing import nonzero_static as nz

    return nz(input, size, fill_value)


def split_with_sizes(input: Tensor, split_sizes, dim: int = 0):
    return _s.split(input, list(split_sizes), dim)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A 0-dim tensor holding the number s (default float dtype unless dtype is given)."""
    from ._dtype import get_default_dtype

    return _c.full((), s, dtype=dtype or get_default_dtype(), device=device, requires_grad=requires_grad)


# ---- activations and dropout under torch's names (nn/functional.py does the work) ------------------------
def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    from .nn import functional as F

    return F.hardshrink(input, lambd)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    from .nn import functional as F

    return F.prelu(input, weight)


def selu(input: Tensor) -> Tensor:
    from .nn import functional as F

    return F.selu(input)


def selu_(input: Tensor) -> Tensor:
    from .nn import functional as F

    return F.selu_(input)


def celu(input: Tensor, alpha: float = 1.0) -> Tensor:
    from .nn import functional as F

    return F.celu(input, alpha)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    from .nn import functional as F

    return F.celu_(input, alpha)


def threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    from .nn import functional as F

    return F.threshold(input, threshold, value)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    from .nn import functional as F

    return F.threshold_(input, threshold, value)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          generator=None) -> Tensor:
    from .nn import functional as F

    return F.rrelu(input, lower, upper, training)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
           generator=None) -> Tensor:
    from .nn import functional as F

    return F.rrelu_(input, lower, upper, training)


def dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """torch.dropout(input, p, train): F.dropout with positional `train`."""
    from .nn import functional as F

    return F.dropout(input, p, train)


def dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    from .nn import functional as F

    return F.dropout(input, p, train, inplace=True)


def alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    from .nn import functional as F

    return F.alpha_dropout(input, p, train)


def alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    from .nn import functional as F

    return F.alpha_dropout(input, p, train, inplace=True)


def feature_alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    from .nn import functional as F

    return F.feature_alpha_dropout(input, p, train)


def feature_alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    from .nn import functional as F

    return F.feature_alpha_dropout(input, p, train, inplace=True)


# ---- nn functions under torch's own (ATen) signatures: torch.layer_norm(input, shape, weight, bias, eps, cudnn) ---
_REDUCTIONS = ("none", "mean", "sum")  # PyTorch's Reduction enum: None = 0, Mean = 1, Sum = 2


def _reduction(r) -> str:
    return _REDUCTIONS[r] if isinstance(r, int) else r


def layer_norm(input: Tensor, normalized_shape, weight=None, bias=None, eps: float = 1e-5,
               cudnn_enable: bool = True) -> Tensor:
    from .nn import functional as F

    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input: Tensor, num_groups: int, weight=None, bias=None, eps: float = 1e-5,
               cudnn_enabled: bool = True) -> Tensor:
    from .nn import functional as F

    return F.group_norm(input, num_groups, weight, bias, eps)


def batch_norm(input: Tensor, weight, bias, running_mean, running_var, training: bool, momentum: float, eps: float,
               cudnn_enabled: bool = True) -> Tensor:
    from .nn import functional as F

    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input: Tensor, weight, bias, running_mean, running_var, use_input_stats: bool, momentum: float,
                  eps: float, cudnn_enabled: bool = True) -> Tensor:
    from .nn import functional as F

    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def rms_norm(input: Tensor, normalized_shape, weight=None, eps=None) -> Tensor:
    from .nn import functional as F

    return F.rms_norm(input, normalized_shape, weight, eps)


def embedding(weight: Tensor, indices: Tensor, padding_idx: int = -1, scale_grad_by_freq: bool = False,
              sparse: bool = False) -> Tensor:
    """torch.embedding: the weight comes first, and padding_idx=-1 means none."""
    from .nn import functional as F

    return F.embedding(indices, weight, None if padding_idx == -1 else padding_idx,
                       scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    from .nn import functional as F

    return F.pixel_shuffle(input, upscale_factor)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    from .nn import functional as F

    return F.pixel_unshuffle(input, downscale_factor)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    from .nn import functional as F

    return F.channel_shuffle(input, groups)


def constant_pad_nd(input: Tensor, pad, value=0) -> Tensor:
    from .nn import functional as F

    return F.pad(input, list(pad), "constant", value)


def kl_div(input: Tensor, target: Tensor, reduction=1, *, log_target: bool = False) -> Tensor:
    from .nn import functional as F

    return F.kl_div(input, target, reduction=_reduction(reduction), log_target=log_target)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight=None, pos_weight=None,
                                     reduction=1) -> Tensor:
    from .nn import functional as F

    return F.binary_cross_entropy_with_logits(input, target, weight, reduction=_reduction(reduction),
                                              pos_weight=pos_weight)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          reduction=1) -> Tensor:
    from .nn import functional as F

    return F.cosine_embedding_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, reduction=1) -> Tensor:
    from .nn import functional as F

    return F.margin_ranking_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, reduction=1) -> Tensor:
    from .nn import functional as F

    return F.hinge_embedding_loss(input, target, margin, reduction=_reduction(reduction))


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, reduction=1) -> Tensor:
    from .nn import functional as F

    return F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap, reduction=_reduction(reduction))


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool, full: bool, eps: float, reduction) -> Tensor:
    from .nn import functional as F

    return F.poisson_nll_loss(input, target, log_input, full, eps=eps, reduction=_reduction(reduction))


# ---- predicates ------------------------------------------------------------------------------------------
def is_nonzero(input: Tensor) -> bool:
    return input.is_nonzero()


def is_same_size(input: Tensor, other: Tensor) -> bool:
    return input.is_same_size(other)


def is_signed(input: Tensor) -> bool:
    return input.is_signed()


def is_neg(input: Tensor) -> bool:
    return input.is_neg()


def is_conj(input: Tensor) -> bool:
    return input.is_conj()


def resolve_conj(input: Tensor) -> Tensor:
    return input.resolve_conj()


def resolve_neg(input: Tensor) -> Tensor:
    return input  # negation is never lazy here


def typename(obj) -> str:
    """The type's name: 'torch.FloatTensor' for a tensor, else module.qualname ('int' for builtins), with
    glasstorch's modules named as torch's (a program prints the same)."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        name = obj.__qualname__
    elif hasattr(obj, "__name__"):
        name = obj.__name__
    else:
        module, name = obj.__class__.__module__ or "", obj.__class__.__qualname__
    if module in ("", "builtins"):
        return name
    if module == "glasstorch" or module.startswith("glasstorch."):
        module = "torch" + module[len("glasstorch"):]
    return f"{module}.{name}"


# ---- top-level in-place functions: torch.relu_(x) is x.relu_() ---------------------------------------------
def _inplace_function(name: str):
    def fn(input: Tensor, *args, **kwargs) -> Tensor:
        return getattr(input, name)(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"torch.{name}(input, ...): input.{name}(...)."
    return fn


_INPLACE = ("abs_", "acos_", "acosh_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_", "arctanh_", "asin_",
            "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_", "clamp_min_", "clip_", "conj_physical_",
            "cos_", "cosh_", "deg2rad_", "detach_", "erf_", "erfc_", "exp2_", "exp_", "expm1_", "fill_", "fix_",
            "floor_", "frac_", "gcd_", "i0_", "index_put_", "lcm_", "ldexp_", "log10_", "log1p_", "log2_", "log_",
            "logit_", "nan_to_num_", "neg_", "negative_", "rad2deg_", "reciprocal_", "relu_", "resize_as_", "round_",
            "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_", "xlogy_",
            "zero_", "addmv_")
for _name in _INPLACE:
    globals()[_name] = _inplace_function(_name)
__all__ += list(_INPLACE)
del _name
