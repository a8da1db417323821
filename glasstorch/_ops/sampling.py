"""Random draws that are differentiable in their parameter.

standard_gamma(alpha) draws Gamma(alpha, 1) and records StandardGammaBackward0, whose gradient is
the implicit reparameterisation dx/dalpha = -(dP(alpha, x)/dalpha) / pdf(x; alpha): how the draw
moves when alpha does, with its quantile held fixed (kernel: backends/special.py). Gamma, Beta and
Dirichlet's rsample stand on it.
"""
from __future__ import annotations

import numpy as np

from .._random import rng_of
from ._util import Node, Tensor, _GradMode, _make, record


class StandardGammaBackward0(Node):
    """g * dx/dalpha; the factor itself is a constant of the graph (as in PyTorch, whose
    _standard_gamma_grad has no derivative)."""

    def __init__(self, alpha: Tensor, out: Tensor):
        from .pointwise import _saved_output

        super().__init__((alpha,), (alpha, _saved_output(out)))

    def backward(self, g):
        from ..backends import special

        alpha, x = self.saved_tensors
        xp = alpha.device.xp
        factor = special.standard_gamma_grad(xp, x._data, alpha._data)
        return (g * _make(factor, g.device),)


def standard_gamma(alpha: Tensor, generator=None) -> Tensor:
    """Gamma(alpha, 1) draws of alpha's shape and dtype, differentiable in alpha."""
    a = alpha.device.backend.to_numpy(alpha._data).astype(np.float64)
    draws = rng_of(generator).standard_gamma(a).astype(alpha._data.dtype)
    if alpha.device.type != "cpu":
        draws = alpha.device.backend.from_numpy(draws)
    out = _make(draws, alpha.device)
    if _GradMode.enabled and alpha._requires_grad:
        record(out, StandardGammaBackward0(alpha, out))
    return out
