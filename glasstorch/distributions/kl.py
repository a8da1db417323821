"""kl_divergence(p, q) = E_p[log p(x) - log q(x)], dispatched on the pair of types (register_kl).

Lookup picks the most specific registered pair for (type(p), type(q)) along both classes' MROs,
as PyTorch does, and caches it per pair of types.
"""
from __future__ import annotations

import math
import warnings

import glasstorch as gt

from .._ops.triangular import solve_triangular
from .._tensor import Tensor
from ..nn import functional as F
from .bernoulli import Bernoulli
from .beta import Beta
from .categorical import Categorical
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .gamma import Gamma
from .independent import Independent
from .laplace import Laplace
from .multivariate_normal import MultivariateNormal, _batch_mahalanobis
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .transformed_distribution import TransformedDistribution
from .uniform import Uniform
from .utils import _sum_rightmost

__all__ = ["kl_divergence", "register_kl"]

_KL_REGISTRY: dict = {}  # (type_p, type_q) -> fn(p, q)
_KL_MEMOIZE: dict = {}  # (type(p), type(q)) -> the function the lookup chose


def register_kl(type_p, type_q):
    """Decorator: `@register_kl(Normal, Normal) def kl(p, q): ...` registers a KL implementation."""
    if not isinstance(type_p, type) and issubclass(type_p, Distribution):
        raise TypeError(f"Expected type_p to be a Distribution subclass but got {type_p}")
    if not isinstance(type_q, type) and issubclass(type_q, Distribution):
        raise TypeError(f"Expected type_q to be a Distribution subclass but got {type_q}")

    def decorator(fun):
        _KL_REGISTRY[type_p, type_q] = fun
        _KL_MEMOIZE.clear()  # a new entry can change what the lookup picks
        return fun

    return decorator


def _dispatch_kl(type_p, type_q):
    """The registered pair nearest to (type_p, type_q): fewest MRO steps for p first, then q; a
    different answer when q's distance is put first means the choice is ambiguous (warned)."""
    matches = [(sp, sq) for sp, sq in _KL_REGISTRY if issubclass(type_p, sp) and issubclass(type_q, sq)]
    if not matches:
        return NotImplemented
    p_mro, q_mro = type_p.__mro__, type_q.__mro__
    left = min(matches, key=lambda m: (p_mro.index(m[0]), q_mro.index(m[1])))
    right = min(matches, key=lambda m: (q_mro.index(m[1]), p_mro.index(m[0])))
    if _KL_REGISTRY[left] is not _KL_REGISTRY[right]:
        warnings.warn(f"Ambiguous kl_divergence({type_p.__name__}, {type_q.__name__}). "
                      f"Please register_kl({left[0].__name__}, {right[1].__name__})", RuntimeWarning, stacklevel=2)
    return _KL_REGISTRY[left]


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p || q), of shape batch_shape; NotImplementedError for a pair with no registered formula."""
    try:
        fun = _KL_MEMOIZE[type(p), type(q)]
    except KeyError:
        fun = _dispatch_kl(type(p), type(q))
        _KL_MEMOIZE[type(p), type(q)] = fun
    if fun is NotImplemented:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type {p.__class__.__name__} "
                                  f"and q type {q.__class__.__name__}")
    return fun(p, q)


def _infinite_where(mask: Tensor, x: Tensor) -> Tensor:
    return gt.where(mask, float("inf"), x)


def _zero_where(mask: Tensor, x: Tensor) -> Tensor:
    return gt.where(mask, 0.0, x)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    # p log(p/q) + (1-p) log((1-p)/(1-q)) through the logits: log p = -softplus(-logit), log(1-p) = -softplus(logit)
    t1 = p.probs * (F.softplus(-q.logits) - F.softplus(-p.logits))
    t1 = _zero_where(p.probs == 0, _infinite_where(q.probs == 0, t1))
    t2 = (1 - p.probs) * (F.softplus(q.logits) - F.softplus(p.logits))
    t2 = _zero_where(p.probs == 1, _infinite_where(q.probs == 1, t2))
    return t1 + t2


@register_kl(Beta, Beta)
def _kl_beta_beta(p, q):
    a1, b1, a2, b2 = p.concentration1, p.concentration0, q.concentration1, q.concentration0
    sum_p, sum_q = a1 + b1, a2 + b2
    log_beta_ratio = (gt.lgamma(a2) + gt.lgamma(b2) + gt.lgamma(sum_p)
                      - (gt.lgamma(a1) + gt.lgamma(b1) + gt.lgamma(sum_q)))  # log B(a2, b2) / B(a1, b1)
    return (log_beta_ratio + (a1 - a2) * gt.digamma(a1) + (b1 - b2) * gt.digamma(b1)
            + (sum_q - sum_p) * gt.digamma(sum_p))


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    t = p.probs * (p.logits - q.logits)
    t = _zero_where((p.probs == 0).expand_as(t), _infinite_where((q.probs == 0).expand_as(t), t))
    return t.sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehotcategorical_onehotcategorical(p, q):
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p, q):
    cp, cq = p.concentration, q.concentration
    sum_p, sum_q = cp.sum(-1), cq.sum(-1)
    t1 = gt.lgamma(sum_p) - gt.lgamma(sum_q)
    t2 = (gt.lgamma(cp) - gt.lgamma(cq)).sum(-1)
    t3 = ((cp - cq) * (gt.digamma(cp) - gt.digamma(sum_p).unsqueeze(-1))).sum(-1)
    return t1 - t2 + t3


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p, q):
    ratio = q.rate / p.rate
    return ratio - 1 - gt.log(ratio)


@register_kl(ExponentialFamily, ExponentialFamily)
def _kl_expfamily_expfamily(p, q):
    # PyTorch falls back to a Bregman divergence of the log-normaliser for two members of the same
    # family; every family here has its own closed form above, so only mismatched pairs land here.
    if type(p) is not type(q):
        raise NotImplementedError("The cross KL-divergence between different exponential families cannot "
                                  "                            be computed using Bregman divergences")
    raise NotImplementedError(f"No KL(p || q) is implemented for p type {p.__class__.__name__} "
                              f"and q type {q.__class__.__name__}")


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p, q):
    ap, bp, aq, bq = p.concentration, p.rate, q.concentration, q.rate
    return (aq * gt.log(bp / bq) + gt.lgamma(aq) - gt.lgamma(ap) + (ap - aq) * gt.digamma(ap)
            + (bq - bp) * (ap / bp))


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p, q):
    scale_ratio = p.scale / q.scale
    distance = gt.abs(p.loc - q.loc)
    return -gt.log(scale_ratio) + distance / q.scale + scale_ratio * gt.exp(-distance / p.scale) - 1


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_multivariatenormal_multivariatenormal(p, q):
    if p.event_shape != q.event_shape:
        raise ValueError("KL-divergence between two Multivariate Normals with" + " " * 26
                         + "different event shapes cannot be computed")  # (PyTorch's text, spaces included)
    lp, lq = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    half_log_det_ratio = lq.diagonal(dim1=-2, dim2=-1).log().sum(-1) - lp.diagonal(dim1=-2, dim2=-1).log().sum(-1)
    n = p.event_shape[0]
    batch = gt.broadcast_shapes(lq.shape[:-2], lp.shape[:-2])
    # tr(Sq^-1 Sp) = |Lq^-1 Lp|_F^2
    trace = solve_triangular(lq.expand(batch + (n, n)), lp.expand(batch + (n, n)), upper=False).pow(2).sum((-2, -1))
    mahalanobis = _batch_mahalanobis(lq, q.loc - p.loc)
    return half_log_det_ratio + 0.5 * (trace + mahalanobis - n)


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    var_ratio = (p.scale / q.scale).pow(2)
    t1 = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(TransformedDistribution, TransformedDistribution)
def _kl_transformed_transformed(p, q):
    # KL is invariant under the same bijection applied to both
    if p.transforms != q.transforms or p.event_shape != q.event_shape:
        raise NotImplementedError
    return kl_divergence(p.base_dist, q.base_dist)


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    result = ((q.high - q.low) / (p.high - p.low)).log()
    return _infinite_where((q.low > p.low) | (q.high < p.high), result)


# ---- pairs of different families -----------------------------------------------------------------
# Most are KL(p || q) = -H(p) + E_p[-log q(x)], the cross-entropy written with p's moments:
#   Exponential(r):   -log r + r E[x]
#   Normal(m, s):     log(s sqrt(2 pi)) + (E[x^2] - 2 m E[x] + m^2) / (2 s^2)
#   Gamma(a, b):      lgamma(a) - a log b - (a - 1) E[log x] + b E[x]
#   Uniform(lo, hi):  log(hi - lo) where p's support lies inside [lo, hi], else infinite.
# A q whose support misses part of p's (a Normal's mass below 0 for a Gamma q) gives +inf.
_EULER_GAMMA = 0.57721566490153286060


def _infinite_like(x: Tensor) -> Tensor:
    return gt.full_like(x, float("inf"))


def _x_log_x(x: Tensor) -> Tensor:
    return x * x.log()


def _normal_cross_entropy(q, mean: Tensor, second_moment: Tensor) -> Tensor:
    var = q.scale.pow(2)
    return 0.5 * gt.log(2 * math.pi * var) + (second_moment - 2 * q.loc * mean + q.loc.pow(2)) / (2 * var)


@register_kl(Normal, Beta)
@register_kl(Normal, Exponential)
@register_kl(Normal, Gamma)
@register_kl(Normal, Uniform)
@register_kl(Laplace, Beta)
@register_kl(Laplace, Exponential)
@register_kl(Laplace, Gamma)
@register_kl(Laplace, Uniform)
def _kl_real_line_to_bounded(p, q):
    return _infinite_like(p.loc)


@register_kl(Exponential, Beta)
@register_kl(Exponential, Uniform)
def _kl_exponential_infinity(p, q):
    return _infinite_like(p.rate)


@register_kl(Gamma, Beta)
@register_kl(Gamma, Uniform)
def _kl_gamma_infinity(p, q):
    return _infinite_like(p.concentration)


@register_kl(Beta, Exponential)
def _kl_beta_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * p.mean


@register_kl(Beta, Gamma)
def _kl_beta_gamma(p, q):
    a, b = p.concentration1, p.concentration0
    mean_log = gt.digamma(a) - gt.digamma(a + b)
    return (-p.entropy() + gt.lgamma(q.concentration) - q.concentration * q.rate.log()
            - (q.concentration - 1) * mean_log + q.rate * p.mean)


@register_kl(Beta, Normal)
def _kl_beta_normal(p, q):
    mean = p.mean
    second = mean * (1 - mean) / (p.concentration1 + p.concentration0 + 1) + mean.pow(2)
    return -p.entropy() + _normal_cross_entropy(q, mean, second)


@register_kl(Beta, Uniform)
def _kl_beta_uniform(p, q):
    result = -p.entropy() + (q.high - q.low).log()
    return _infinite_where((q.low > 0) | (q.high < 1), result)


@register_kl(Exponential, Gamma)
def _kl_exponential_gamma(p, q):
    # E[log x] = -euler_gamma - log rate under Exponential(rate)
    ratio = q.rate / p.rate
    return (-q.concentration * gt.log(ratio) + ratio + gt.lgamma(q.concentration)
            + q.concentration * _EULER_GAMMA - (1 + _EULER_GAMMA))


@register_kl(Exponential, Normal)
def _kl_exponential_normal(p, q):
    rate_sq = p.rate.pow(2)
    return (-(1 - p.rate.log()) + _normal_cross_entropy(q, p.rate.reciprocal(), 2 / rate_sq))


@register_kl(Gamma, Exponential)
def _kl_gamma_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * p.concentration / p.rate


@register_kl(Gamma, Normal)
def _kl_gamma_normal(p, q):
    a, b = p.concentration, p.rate
    second = (a.pow(2) + a) / b.pow(2)
    return -p.entropy() + _normal_cross_entropy(q, a / b, second)


@register_kl(Laplace, Normal)
def _kl_laplace_normal(p, q):
    second = p.loc.pow(2) + 2 * p.scale.pow(2)
    return -p.entropy() + _normal_cross_entropy(q, p.loc, second)


@register_kl(Normal, Laplace)
def _kl_normal_laplace(p, q):
    # E|x - q.loc| for x ~ Normal: the folded normal's mean
    d = p.loc - q.loc
    folded = (math.sqrt(2 / math.pi) * p.scale * gt.exp(-0.5 * (d / p.scale).pow(2))
              + d * gt.erf(d / (p.scale * math.sqrt(2))))
    return -p.entropy() + gt.log(2 * q.scale) + folded / q.scale


@register_kl(Uniform, Beta)
def _kl_uniform_beta(p, q):
    width = p.high - p.low
    mean_log = (_x_log_x(p.high) - _x_log_x(p.low)) / width - 1  # E[log x] under Uniform(lo, hi)
    mean_log1m = (_x_log_x(1 - p.low) - _x_log_x(1 - p.high)) / width - 1  # E[log(1 - x)]
    log_beta = gt.lgamma(q.concentration1) + gt.lgamma(q.concentration0) - gt.lgamma(
        q.concentration1 + q.concentration0)
    result = -width.log() + log_beta - (q.concentration1 - 1) * mean_log - (q.concentration0 - 1) * mean_log1m
    return _infinite_where((p.high > 1) | (p.low < 0), result)


@register_kl(Uniform, Exponential)
def _kl_uniform_exponential(p, q):
    result = q.rate * (p.high + p.low) / 2 - ((p.high - p.low) * q.rate).log()
    return _infinite_where(p.low < 0, result)


@register_kl(Uniform, Gamma)
def _kl_uniform_gamma(p, q):
    width = p.high - p.low
    mean_log = (_x_log_x(p.high) - _x_log_x(p.low)) / width - 1
    result = (-width.log() + gt.lgamma(q.concentration) - q.concentration * q.rate.log()
              - (q.concentration - 1) * mean_log + q.rate * (p.high + p.low) / 2)
    return _infinite_where(p.low < 0, result)


@register_kl(Uniform, Normal)
def _kl_uniform_normal(p, q):
    width = p.high - p.low
    mean = (p.high + p.low) / 2
    return -width.log() + _normal_cross_entropy(q, mean, width.pow(2) / 12 + mean.pow(2))


@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError
    return _sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)


