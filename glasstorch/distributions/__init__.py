"""Probability distributions with PyTorch's API (torch.distributions): log densities, entropies,
moments and KL divergences built from glasstorch ops, so gradients reach the parameters;
`rsample` draws reparameterised samples where the family allows it.

    import glasstorch as torch
    d = torch.distributions.Normal(loc, scale)
    loss = -d.log_prob(x).mean()
"""
from . import constraints, transforms
from .bernoulli import Bernoulli
from .beta import Beta
from .categorical import Categorical
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .gamma import Gamma
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .log_normal import LogNormal
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .transformed_distribution import TransformedDistribution
from .transforms import (AffineTransform, ComposeTransform, ExpTransform, SigmoidTransform, TanhTransform,
                         Transform)
from .uniform import Uniform

__all__ = [
    "AffineTransform", "Bernoulli", "Beta", "Categorical", "ComposeTransform", "Dirichlet", "Distribution",
    "ExpTransform", "Exponential", "ExponentialFamily", "Gamma", "Independent", "Laplace", "LogNormal",
    "MultivariateNormal", "Normal", "OneHotCategorical", "OneHotCategoricalStraightThrough", "SigmoidTransform",
    "TanhTransform", "Transform", "TransformedDistribution", "Uniform", "constraints", "kl_divergence", "register_kl",
    "transforms",
]
