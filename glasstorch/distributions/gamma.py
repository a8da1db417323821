"""Gamma(concentration, rate): density rate^a x^(a-1) exp(-rate x) / Gamma(a) on x > 0 (a = concentration)."""
from __future__ import annotations

from numbers import Number

import glasstorch as gt

from .._ops.sampling import standard_gamma
from .._tensor import Size, Tensor
from . import constraints
from .exp_family import ExponentialFamily
from .utils import _clamp_values_, broadcast_all, finfo_tiny

__all__ = ["Gamma"]


class Gamma(ExponentialFamily):
    """rsample is differentiable in both parameters: in rate through x = X / rate, in concentration
    by implicit reparameterisation of the Gamma(concentration, 1) draw X (see _ops/sampling.py)."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        scalar = isinstance(concentration, Number) and isinstance(rate, Number)
        super().__init__(Size() if scalar else self.concentration.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Gamma, _instance)
        batch_shape = Size(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        super(Gamma, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=Size()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        x = standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        return _clamp_values_(x, finfo_tiny(x.dtype))

    def log_prob(self, value: Tensor) -> Tensor:
        value = gt.as_tensor(value, dtype=self.rate.dtype, device=self.rate.device)
        if self._validate_args:
            self._validate_sample(value)
        a, b = self.concentration, self.rate
        return gt.xlogy(a, b) + gt.xlogy(a - 1, value) - b * value - gt.lgamma(a)

    def cdf(self, value: Tensor) -> Tensor:
        """P(concentration, rate * value), differentiable in value and rate (not in concentration, as in PyTorch)."""
        if self._validate_args:
            self._validate_sample(value)
        return gt.igamma(self.concentration, self.rate * value)

    def entropy(self) -> Tensor:
        a = self.concentration
        return a - gt.log(self.rate) + gt.lgamma(a) + (1.0 - a) * gt.digamma(a)
