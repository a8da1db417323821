"""Op-table rows for the gamma-function family: lgamma, digamma, polygamma (glasstorch/backends/special.py)."""
import numpy as np
from _optable import AWAY_INT, UNARY, Op, pos


def wide(rng, shape):
    """Positive values over several decades, so both the shifted and the asymptotic branch run."""
    return np.asarray(rng.choice([0.05, 0.7, 3.0, 14.0, 60.0], shape) * rng.uniform(0.8, 1.25, shape))


TABLE = [
    Op("lgamma", lambda m, a: m.lgamma(a), UNARY, pos),
    Op("lgamma_wide", lambda m, a: a.lgamma(), UNARY, wide),
    Op("lgamma_negative", lambda m, a: m.lgamma(a), UNARY, AWAY_INT),
    Op("digamma", lambda m, a: m.digamma(a), UNARY, pos),
    Op("digamma_wide", lambda m, a: a.digamma(), UNARY, wide),
    Op("digamma_negative", lambda m, a: m.digamma(a), UNARY, AWAY_INT),
    Op("polygamma1", lambda m, a: m.polygamma(1, a), UNARY, pos),
    Op("polygamma1_negative", lambda m, a: m.polygamma(1, a), UNARY, AWAY_INT),
    Op("polygamma2", lambda m, a: a.polygamma(2), UNARY, wide),
    Op("polygamma3", lambda m, a: m.polygamma(3, a), UNARY, pos),
]

# igamma/igammac have no derivative in a (in PyTorch either): a is a constant of each row, so the
# rows differentiate in x only. a stays below 20, where PyTorch evaluates P(a, x) by its series and
# continued fraction to full precision (above, its asymptotic expansion is good to ~1e-9; the large-a
# regime is checked against mpmath in test_distributions.py).


def _shape_a(m, x, lo=0.3, hi=12.0):
    """Shape parameters spread over [lo, hi] across x's last dim (broadcast over the rest)."""
    n = x.shape[-1] if x.dim() else 1
    return m.linspace(lo, hi, n, dtype=x.dtype).reshape(x.shape[-1:] if x.dim() else ())


TABLE += [
    Op("igamma", lambda m, x: m.igamma(_shape_a(m, x), x), UNARY, wide),
    Op("igammac", lambda m, x: _shape_a(m, x, 0.5, 3.0).igammac(x), UNARY, pos),
    Op("special_gammainc", lambda m, x: m.special.gammainc(_shape_a(m, x), x), UNARY, wide),
    Op("special_gammaincc", lambda m, x: m.special.gammaincc(_shape_a(m, x), x), UNARY, wide),
]
