"""More special functions on any NumPy-like array module (NumPy, CuPy): erfinv, the modified Bessel
functions I0 and I1 (and their scaled forms), and the log of the normal distribution function.

Everything is computed in float64 from vectorised array operations and cast back to the input's
dtype by the caller. erf/erfc come from backends/special.py (Cody's rational approximations).
"""
from __future__ import annotations

import math

from . import special

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

# M. Giles, "Approximating the erfinv function" (GPU Computing Gems, 2011), single-precision
# version: a start within ~1e-6 relative in float32's range (w = -log(1 - x^2) < 16), which one Halley
# step (cubic convergence) takes to double precision.
_GILES_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                  -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
               -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)
_GILES_RANGE = 16.0


def _horner(coefs, w):
    p = coefs[0]
    for c in coefs[1:]:
        p = p * w + c
    return p


def _halley_erf(xp, y, a):
    """One Halley step on erf(y) = a. Above 1/2 the residual is taken as (1 - a) - erfc(y), which
    keeps its relative accuracy where erf(y) - a would cancel; each element evaluates one of the two."""
    near = a > 0.5
    f = xp.empty_like(y)
    f[near] = (1.0 - a[near]) - special.erfc(xp, y[near])
    f[~near] = special.erf(xp, y[~near]) - a[~near]
    u = f / (_TWO_OVER_SQRT_PI * xp.exp(-y * y))
    return y - u / (1.0 + y * u)


def _erfcinv_far(xp, q):
    """The y > 0 with erfc(y) = q for tiny q: Newton's method on log erfc(y) = log q (nearly a
    parabola there, so it converges from the asymptotic start y^2 = -log(q sqrt(pi) y))."""
    lq = xp.log(q)
    y = xp.sqrt(-lq)
    y = xp.sqrt(-lq - xp.log(y * math.sqrt(math.pi)))
    for _ in range(4):
        c = special.erfc(xp, y)
        y = y + (xp.log(c) - lq) * c / (_TWO_OVER_SQRT_PI * xp.exp(-y * y))
    return y


def erfinv(xp, x):
    """The inverse of erf on [-1, 1]: +-inf at +-1, NaN outside."""
    a = xp.abs(x.astype(xp.float64))
    inside = a < 1.0
    a_in = xp.where(inside, a, 0.5)  # keep log() and the steps finite outside (-1, 1)
    w = -xp.log((1.0 - a_in) * (1.0 + a_in))
    y = a_in * xp.where(w < 5.0, _horner(_GILES_CENTRAL, w - 2.5),
                        _horner(_GILES_TAIL, xp.sqrt(xp.maximum(w, 5.0)) - 3.0))
    y = _halley_erf(xp, y, a_in)
    far = w > _GILES_RANGE
    if bool(far.any()):
        y[far] = _erfcinv_far(xp, 1.0 - a_in[far])
    out = xp.where(inside, y, xp.where(a == 1.0, xp.inf, xp.nan))
    return xp.where(x < 0, -out, out)


# ---- modified Bessel functions of the first kind ------------------------------------------------
# Up to |x| = 20 the power series sum (x/2)^(2k+nu) / (k! (k+nu)!) (positive terms; 10 + 2.2 max|x|
# of them reach double precision: the k-th shrinks like (x/2)^2k / k!^2); above it the asymptotic
# expansion e^x / sqrt(2 pi x) sum (-1)^k a_k(nu) / x^k, whose terms shrink by at least k / 40 each
# step there, so 30 of them do too. Each element runs one of the two.
_SERIES_TO = 20.0


def _bessel_series(xp, x, nu: int):
    q = x * x / 4.0
    term = (x / 2.0) ** nu / math.factorial(nu)
    total = term
    top = float(x.max()) if x.size else 0.0
    for k in range(1, 10 + int(2.2 * top)):
        term = term * q / (k * (k + nu))
        total = total + term
    return total


def _bessel_asymptotic_scaled(xp, x, nu: int):
    """e^-x I_nu(x) for large positive x."""
    mu = 4.0 * nu * nu
    term = xp.ones_like(x)
    total = term
    for k in range(1, 30):
        term = term * -(mu - (2 * k - 1) ** 2) / (k * 8.0 * x)
        total = total + term
    return total / xp.sqrt(2.0 * math.pi * x)


def _bessel_scaled(xp, x, nu: int):
    """e^-|x| I_nu(|x|), and |x| (in float64)."""
    a = xp.abs(x.astype(xp.float64))
    out = xp.empty_like(a)
    near = a <= _SERIES_TO
    small = a[near]
    out[near] = _bessel_series(xp, small, nu) * xp.exp(-small)
    far = ~near  # (NaN too: it stays NaN)
    out[far] = _bessel_asymptotic_scaled(xp, a[far], nu)
    return out, a


def i0e(xp, x):
    return _bessel_scaled(xp, x, 0)[0]


def i0(xp, x):
    s, a = _bessel_scaled(xp, x, 0)
    return s * xp.exp(a)


def i1e(xp, x):
    s, _ = _bessel_scaled(xp, x, 1)
    return xp.where(x < 0, -s, s)  # I1 is odd


def i1(xp, x):
    s, a = _bessel_scaled(xp, x, 1)
    s = s * xp.exp(a)
    return xp.where(x < 0, -s, s)


# ---- the standard normal distribution -----------------------------------------------------------
_SQRT_HALF = math.sqrt(0.5)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def log_ndtr(xp, x):
    """log P(Z <= x) for a standard normal Z, each element by one of three formulas: far in the lower
    tail (x < -20, where erfc soon underflows) the asymptotic series log(phi(x) / -x (1 - 1/x^2 +
    3/x^4 - ...)), whose terms shrink by (2k - 1) / 400 at least; up to 0, log(erfc(-x / sqrt 2) / 2);
    above 0, log1p of minus the upper tail, which keeps log(1 - tiny) exact."""
    d = x.astype(xp.float64)
    out = xp.empty_like(d)
    low, high = d < -20.0, d > 0
    mid = ~(low | high)  # (NaN too: it stays NaN)
    out[mid] = xp.log(0.5 * special.erfc(xp, -d[mid] * _SQRT_HALF))
    out[high] = xp.log1p(-0.5 * special.erfc(xp, d[high] * _SQRT_HALF))
    far = d[low]
    inv2 = 1.0 / (far * far)
    term = xp.ones_like(far)
    series = term
    for k in range(1, 13):
        term = term * -(2 * k - 1) * inv2
        series = series + term
    out[low] = -0.5 * far * far - xp.log(-far) - _LOG_SQRT_2PI + xp.log(series)
    return out
