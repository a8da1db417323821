"""Dirichlet(concentration): a distribution over the probability simplex (event_shape (K,))."""
from __future__ import annotations

import glasstorch as gt

from .._ops.sampling import standard_gamma
from .._tensor import Size, Tensor
from . import constraints
from .exp_family import ExponentialFamily
from .utils import _clamp_values_, finfo_eps, finfo_tiny

__all__ = ["Dirichlet"]


class Dirichlet(ExponentialFamily):
    """Draws are normalised Gamma(concentration_i, 1) draws; rsample's gradient flows through the
    normalisation and each gamma draw's implicit reparameterisation."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration: Tensor, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        batch_shape, event_shape = concentration.shape[:-1], concentration.shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = Size(batch_shape)
        new.concentration = self.concentration.expand(batch_shape + self.event_shape)
        super(Dirichlet, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=Size()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        gammas = _clamp_values_(standard_gamma(self.concentration.expand(shape)), finfo_tiny(self.concentration.dtype))
        x = gammas / gammas.sum(-1, keepdim=True)
        return _clamp_values_(x, finfo_tiny(x.dtype), 1 - finfo_eps(x.dtype))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return gt.xlogy(c - 1.0, value).sum(-1) + gt.lgamma(c.sum(-1)) - gt.lgamma(c).sum(-1)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self) -> Tensor:
        cm1 = (self.concentration - 1).clamp(min=0.0)
        mode = cm1 / cm1.sum(-1, keepdim=True)
        # where every concentration is below 1 the density peaks at a vertex: the largest component's
        k = self.concentration.shape[-1]
        vertex = gt.eye(k, dtype=mode.dtype, device=mode.device)[mode.argmax(-1)]
        all_below_one = (self.concentration < 1).all(-1, keepdim=True)
        return gt.where(all_below_one, vertex, mode)

    @property
    def variance(self) -> Tensor:
        c = self.concentration
        total = c.sum(-1, keepdim=True)
        return c * (total - c) / (total.pow(2) * (total + 1))

    def entropy(self) -> Tensor:
        c = self.concentration
        k = c.size(-1)
        total = c.sum(-1)
        return (gt.lgamma(c).sum(-1) - gt.lgamma(total) - (k - total) * gt.digamma(total)
                - ((c - 1.0) * gt.digamma(c)).sum(-1))
