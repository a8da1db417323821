"""ExponentialFamily: the marker base class of the exponential-family distributions."""
from __future__ import annotations

from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """Distributions with density h(x) exp(<t(x), theta> - F(theta)) (Normal, Bernoulli, Gamma, ...).

    Kept as in PyTorch so isinstance checks and the KL registry's fallback read the same; every
    family here has a closed-form entropy and KL, so the Bregman-divergence machinery is not needed.
    """
