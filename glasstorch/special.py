"""torch.special: the error-function, gamma, Bessel and normal-distribution families, and friends."""
from __future__ import annotations

from ._ops import elementwise as _e, pointwise as _p, reduction as _r

erf, erfc, erfinv = _p.erf, _e.erfc, _e.erfinv
expit, logit = _p.sigmoid, _e.logit
gammaln, digamma, psi, polygamma = _p.lgamma, _p.digamma, _p.digamma, _p.polygamma
gammainc, gammaincc = _p.igamma, _p.igammac
i0, i0e, i1, i1e = _e.i0, _e.special_i0e, _e.special_i1, _e.special_i1e
ndtr, log_ndtr, entr, exp2 = _e.ndtr, _e.log_ndtr, _e.entr, _e.exp2
xlogy, xlog1py, sinc = _e.xlogy, _e.xlog1py, _e.sinc
expm1, log1p = _p.expm1, _p.log1p
logsumexp = _r.logsumexp


def softmax(input, dim: int, *, dtype=None):
    return _r.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim: int, *, dtype=None):
    return _r.log_softmax(input, dim, dtype=dtype)


def round(input, *, decimals: int = 0):  # noqa: A001
    """torch.special.round: round() by its `decimals` overload (whose node is RoundBackward1)."""
    if input._data.dtype.kind != "f":
        from ._ops._util import not_implemented

        raise not_implemented("round_vml_cpu", input._data.dtype)
    out = _p.round(input, decimals=decimals)
    if out.grad_fn is not None and not decimals:
        out.grad_fn = _p.RoundBackward1((input,), ())
    return out
