"""Statistics: std_mean/var_mean, aminmax, nansum/nanmean, cov and corrcoef.

Most are composites of recorded reductions (std_mean is std and mean side by side, cov a centred
matrix product), so their gradients come from those ops; nansum has its own node.
"""
from __future__ import annotations

import warnings

from .. import _dtype
from ._util import Tensor, _GradMode, _make, numpy_name, record, type_word
from . import pointwise as P
from . import reduction as R
from .reduction import _ReturnTypes, _axes, _ReduceBackward


class aminmax_rt(_ReturnTypes):
    """torch.return_types.aminmax: (min, max)."""

    _name = "aminmax"
    __slots__ = ()

    @property
    def min(self):
        return self[0]

    @property
    def max(self):
        return self[1]

    def __repr__(self) -> str:
        return f"torch.return_types.aminmax(\nmin={self[0]!r},\nmax={self[1]!r})"


aminmax_rt.__name__ = aminmax_rt.__qualname__ = "aminmax"  # type(result).__name__, as in torch.return_types


def _std_var_dims(dim, unbiased, correction):
    if isinstance(dim, bool):  # std_mean(x, unbiased) positional form
        return None, dim, correction
    return dim, unbiased, correction


def std_mean(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, axis=None, keepdims=None):
    """(std, mean) over dim, from one call."""
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "std_mean", None)
    if keepdims is not None:
        keepdim = numpy_name(keepdim, keepdims, "std_mean", False, "keepdims")
    if x._data.dtype.kind != "f":
        raise RuntimeError("std_mean only support floating point and complex dtypes")
    dim, unbiased, correction = _std_var_dims(dim, unbiased, correction)
    return (R.std(x, dim, unbiased, keepdim, correction=correction), R.mean(x, dim, keepdim))


def var_mean(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, axis=None, keepdims=None):
    """(var, mean) over dim, from one call."""
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "var_mean", None)
    if keepdims is not None:
        keepdim = numpy_name(keepdim, keepdims, "var_mean", False, "keepdims")
    if x._data.dtype.kind != "f":
        raise RuntimeError("var_mean only support floating point and complex dtypes")
    dim, unbiased, correction = _std_var_dims(dim, unbiased, correction)
    return (R.var(x, dim, unbiased, keepdim, correction=correction), R.mean(x, dim, keepdim))


def aminmax(x: Tensor, *, dim: int | None = None, keepdim: bool = False):
    """(amin, amax) over dim (everything when dim is None)."""
    d = x._data
    if dim is None and d.size == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                           "identity.")
    if dim is not None and d.ndim > 0 and d.shape[dim] == 0:
        raise IndexError(f"aminmax: Expected reduction dim {dim % d.ndim} to have non-zero size.")
    if dim is None:
        lo, hi = R.amin(x, (), keepdim), R.amax(x, (), keepdim)
        if keepdim:  # over everything, keepdim keeps every dim as 1
            lo, hi = lo.reshape((1,) * d.ndim), hi.reshape((1,) * d.ndim)
        return aminmax_rt(lo, hi)
    return aminmax_rt(R.amin(x, dim, keepdim), R.amax(x, dim, keepdim))


# ---- NaN-ignoring reductions --------------------------------------------------------------------------
class NansumBackward0(_ReduceBackward):
    def backward(self, g):
        (x,) = self.saved_tensors
        return (P.where(P.isnan(x), 0.0, self.expand(g)),)


def nansum(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None) -> Tensor:
    """The sum with NaNs counted as 0."""
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "nansum", None)
    if keepdims is not None:
        keepdim = numpy_name(keepdim, keepdims, "nansum", False, "keepdims")
    axis, dims = _axes(x, dim if dim != () else None)
    d = x._data
    xp = x.device.xp
    acc = R._acc_dtype(x, dtype)
    clean = xp.where(xp.isnan(d), 0, d) if d.dtype.kind == "f" else d
    out = _make(xp.asarray(clean.sum(axis=axis, keepdims=keepdim, dtype=acc)), x.device)
    if _GradMode.enabled and x._requires_grad:
        record(out, NansumBackward0(x, (x,), dims, keepdim))
    return out


def nanmean(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None) -> Tensor:
    """The mean of the non-NaN elements (NaN where there are none)."""
    if axis is not None:  # NumPy's name, as torch accepts it
        dim = numpy_name(dim, axis, "nanmean", None)
    if keepdims is not None:
        keepdim = numpy_name(keepdim, keepdims, "nanmean", False, "keepdims")
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got "
                           f"{type_word(x._data.dtype)}")
    count = R.sum(P.logical_not(P.isnan(x)), dim, keepdim)
    return nansum(x, dim, keepdim, dtype=dtype) / count


# ---- covariance and correlation -----------------------------------------------------------------------
def _check_weights(w: Tensor | None, name: str, n: int, integral: bool) -> None:
    if w is None:
        return
    if w._data.ndim > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got {name} with "
                           f"{w._data.ndim} dimensions")
    if w._data.size != n:
        raise RuntimeError(f"cov(): expected {name} to have the same numel as there are observations in the input "
                           f"but got {w._data.size} != {n}")
    kind = w._data.dtype.kind
    if integral and kind not in "iu":
        raise RuntimeError(f"cov(): expected {name} to have integral dtype but got {name} with "
                           f"{type_word(w._data.dtype)} dtype")
    if not integral and kind != "f":
        raise RuntimeError(f"cov(): expected {name} to have floating point dtype but got {name} with "
                           f"{type_word(w._data.dtype)} dtype")
    if bool((w._data < 0).any()):
        raise RuntimeError(f"cov(): {name} cannot be negative")


def cov(x: Tensor, *, correction: int = 1, fweights: Tensor | None = None, aweights: Tensor | None = None) -> Tensor:
    """The covariance matrix of the variables in x's rows (observations in its columns)."""
    if x._data.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with "
                           f"{x._data.ndim} dimensions")
    if x._data.dtype.kind == "b":
        raise RuntimeError("cov(): bool dtype is not supported for input")
    if x._data.ndim < 2:
        x = x.reshape(1, -1)
    if not x.dtype.is_floating_point:
        x = x.to(_dtype.get_default_dtype())
    n = x._data.shape[1]
    _check_weights(fweights, "fweights", n, True)
    _check_weights(aweights, "aweights", n, False)
    w = None
    if fweights is not None:
        w = fweights
    if aweights is not None:
        w = aweights if w is None else w * aweights
    if w is None:
        w_sum = float(n)
        avg = R.mean(x, 1)
        norm = w_sum - correction
    else:
        w = w.to(x.dtype)
        w_sum = R.sum(w)
        avg = R.sum(x * w, 1) / w_sum
        if aweights is None:
            norm = w_sum - correction
        else:
            norm = w_sum - correction * R.sum(w * aweights) / w_sum
    norm_value = float(norm) if isinstance(norm, float) else norm.item()
    if norm_value <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
                      "observations.", UserWarning, stacklevel=2)
        norm = 0.0 if isinstance(norm, float) else norm * 0
    xm = x - avg.unsqueeze(1)
    from .linalg import matmul

    weighted = xm if w is None else xm * w
    c = matmul(weighted, xm.t())
    return (c / norm).squeeze()  # a zero norm factor gives +-inf (NaN for 0), as in PyTorch


def corrcoef(x: Tensor) -> Tensor:
    """Pearson correlation coefficients of the rows of x, clipped to [-1, 1]."""
    c = cov(x)
    if c._data.ndim == 0:
        return c / c
    d = c.diagonal()
    stddev = P.sqrt(d)
    c = c / stddev.unsqueeze(1)
    c = c / stddev.unsqueeze(0)
    return P.clamp(c, -1, 1)
