"""erf and erfc on any NumPy-like array module, from W. J. Cody's rational approximations
("Rational Chebyshev approximations for the error function", Math. Comp. 23, 1969): a few dozen
vectorised array operations instead of one Python call per element; erfc is computed directly in
the tails, so it keeps its relative accuracy where it is tiny (about 1e-13 relative in float64)."""
from __future__ import annotations

import math

_ERF_SPLIT = 0.46875  # below: erf(t) = t P(t^2) / Q(t^2); above: erfc(t) = exp(-t^2) R(t)
_ERF_P = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03,
          1.85777706184603153e-1)
_ERF_Q = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_ERFC_P = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01, 2.98635138197400131e02,
           8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03,
           2.15311535474403846e-8)
_ERFC_Q = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
           3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03)
_ERFC_TAIL_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
                6.58749161529837803e-4, 1.63153871373020978e-2)
_ERFC_TAIL_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
                2.33520497626869185e-3)
_INV_SQRT_PI = 1.0 / math.sqrt(math.pi)


def _rational(z, p: tuple, q: tuple):
    """P(z) / Q(z) for Cody's coefficient layout: p = (p1..pn, p0 leading), q = (q1..qn), Q monic."""
    num = p[-1] * z
    den = z + q[0]
    for c in p[:-2]:
        num += c
        num *= z
    for c in q[1:]:
        den *= z
        den += c
    num += p[-2]
    return num / den


def erfc(xp, t):
    """The complementary error function 1 - erf(t), elementwise (in t's dtype)."""
    a = xp.abs(t)
    small = xp.clip(t, -_ERF_SPLIT, _ERF_SPLIT)
    out = 1.0 - small * _rational(small * small, _ERF_P, _ERF_Q)
    top = float(a.max()) if a.size else 0.0
    if not top <= _ERF_SPLIT:  # (a NaN max also takes this branch, which propagates it)
        y = xp.minimum(a, 40.0)  # erfc(40) underflows; the cap keeps inf out of the formulas
        r = _rational(y, _ERFC_P, _ERFC_Q)
        if top > 4.0:
            far = xp.maximum(y, 4.0)
            w = 1.0 / (far * far)
            r = xp.where(y <= 4.0, r, (_INV_SQRT_PI - w * _rational(w, _ERFC_TAIL_P, _ERFC_TAIL_Q)) / far)
        tail = xp.exp(-y * y) * r  # erfc(|t|)
        out = xp.where(a <= _ERF_SPLIT, out, xp.where(t > 0, tail, 2.0 - tail))
    return out


def erf(xp, x):
    """The error function, elementwise (in x's dtype)."""
    small = xp.clip(x, -_ERF_SPLIT, _ERF_SPLIT)
    out = small * _rational(small * small, _ERF_P, _ERF_Q)
    a = xp.abs(x)
    if not (float(a.max()) if a.size else 0.0) <= _ERF_SPLIT:
        far = 1.0 - erfc(xp, a)  # erf(|x|) for |x| > split
        out = xp.where(a <= _ERF_SPLIT, out, xp.where(x < 0, -far, far))
    return out


# ---- the gamma function's logarithm and its derivatives (digamma, polygamma) ------------------------
# For z >= _SHIFT_TO the asymptotic (Stirling) series converge to double precision within the terms
# below; smaller arguments are first moved up with the recurrences Gamma(x + 1) = x Gamma(x),
# psi(x + 1) = psi(x) + 1/x and their derivatives (a few dozen vectorised steps at most), negative
# ones are reflected about 1/2. Everything runs in float64 and is cast back to the input's dtype.
_SHIFT_TO = 10.0
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798)  # B2, B4, ...


def _shift_up(xp, z, add_term):
    """Move every z below _SHIFT_TO up by whole steps; `add_term(acc, z, mask)` collects the correction."""
    acc = xp.zeros_like(z)
    finite = z[xp.isfinite(z)]  # (NaN and infinities pass through the steps unchanged)
    steps = int(math.ceil(_SHIFT_TO - float(finite.min()))) if finite.size else 0
    for _ in range(max(steps, 0)):
        low = z < _SHIFT_TO
        acc = add_term(acc, xp.where(low, z, 1.0), low)
        z = xp.where(low, z + 1.0, z)
    return z, acc


def _is_nonpositive_int(xp, x):
    return (x <= 0) & (x == xp.floor(x))


def _sin_pi(xp, x):
    """sin(pi x), exact at the integers (pi x itself is not)."""
    return xp.sin(math.pi * (x - 2.0 * xp.round(x / 2.0)))


def lgamma(xp, x):
    """log|Gamma(x)|, elementwise; +inf at 0 and the negative integers, as PyTorch."""
    d = x.astype(xp.float64)
    neg = d < 0.5
    z = xp.where(neg, 1.0 - d, d)  # reflection: lgamma(x) = log(pi / |sin(pi x)|) - lgamma(1 - x)
    z, log_prod = _shift_up(xp, z, lambda acc, v, low: acc + xp.log(v))
    series = xp.zeros_like(z)
    inv2 = 1.0 / (z * z)
    for k in range(len(_BERNOULLI), 0, -1):  # Horner in 1/z^2 of sum B2k / (2k (2k-1) z^(2k-1))
        series = series * inv2 + _BERNOULLI[k - 1] / (2 * k * (2 * k - 1))
    out = (z - 0.5) * xp.log(z) - z + 0.5 * math.log(2 * math.pi) + series / z - log_prod
    if bool(neg.any()):
        refl = math.log(math.pi) - xp.log(xp.abs(_sin_pi(xp, d))) - out
        out = xp.where(neg, refl, out)
        out = xp.where(_is_nonpositive_int(xp, d), xp.inf, out)
    out = xp.where(xp.isinf(d), xp.inf, out)
    return out.astype(x.dtype)


def digamma(xp, x):
    """psi(x) = d/dx log Gamma(x), elementwise; -inf at 0 and NaN at the negative integers, as PyTorch."""
    d = x.astype(xp.float64)
    neg = d < 0.5
    z = xp.where(neg, 1.0 - d, d)  # reflection: psi(x) = psi(1 - x) - pi / tan(pi x)
    z, recip = _shift_up(xp, z, lambda acc, v, low: acc + xp.where(low, 1.0 / v, 0.0))
    series = xp.zeros_like(z)
    inv2 = 1.0 / (z * z)
    for k in range(len(_BERNOULLI), 0, -1):  # sum B2k / (2k z^2k)
        series = (series + _BERNOULLI[k - 1] / (2 * k)) * inv2
    out = xp.log(z) - 0.5 / z - series - recip
    if bool(neg.any()):
        s = _sin_pi(xp, d)
        cos = xp.cos(math.pi * (d - 2.0 * xp.round(d / 2.0)))
        out = xp.where(neg, out - math.pi * cos / s, out)
        pole = xp.where(d == 0, xp.where(xp.signbit(d), xp.inf, -xp.inf), xp.nan)  # PyTorch's: +-inf at +-0
        out = xp.where(_is_nonpositive_int(xp, d), pole, out)
    return out.astype(x.dtype)


def trigamma(xp, x):
    """psi'(x), elementwise, by PyTorch's formula and in the input's precision, so results agree
    with it to rounding: reflect x < 1/2, take exactly six recurrence steps, then the asymptotic
    series to the 1/z^7 term. (That truncation leaves a relative error up to ~5e-10 below x ~ 3,
    PyTorch's as well; at the negative integers the reflection's sin(pi x) is a rounding residue,
    so the "pole" is a huge finite number, again as in PyTorch. Half precision runs in float32.)"""
    d = x.astype(xp.float32) if x.dtype == xp.float16 else x
    neg = d < 0.5
    z = xp.where(neg, 1.0 - d, d)
    acc = xp.zeros_like(z)
    for _ in range(6):
        acc = acc + 1.0 / (z * z)
        z = z + 1.0
    ixx = 1.0 / (z * z)
    acc = acc + (1.0 + 1.0 / (2.0 * z) + ixx * (1.0 / 6.0 - ixx * (1.0 / 30.0 - ixx * (1.0 / 42.0)))) / z
    s = xp.sin(math.pi * d)
    return xp.where(neg, math.pi ** 2 / (s * s) - acc, acc).astype(x.dtype)


def polygamma(xp, n: int, x):
    """The n-th derivative of digamma (n >= 1), elementwise; n = 1 is `trigamma`. Higher orders
    reach negative x by the recurrence alone (as many steps as the most negative input needs)."""
    if n == 1:
        return trigamma(xp, x)
    d = x.astype(xp.float64)
    fact_n = math.factorial(n)
    # psi^(n)(x) = psi^(n)(x + 1) - (-1)^n n!/x^(n+1): collect the n!/x^(n+1) of every step taken
    z, corr = _shift_up(xp, d, lambda acc, v, low: acc + xp.where(low, fact_n / v ** (n + 1), 0.0))
    # psi^(n)(z) ~ (-1)^(n+1) [(n-1)!/z^n + n!/(2 z^(n+1)) + sum_k B2k (2k+n-1)!/(2k)! / z^(2k+n)]
    total = math.factorial(n - 1) / z ** n + fact_n / (2.0 * z ** (n + 1))
    for k, b in enumerate(_BERNOULLI, start=1):
        total = total + b * (math.factorial(2 * k + n - 1) / math.factorial(2 * k)) / z ** (2 * k + n)
    out = (-1.0) ** (n + 1) * (total + corr)
    pole = xp.inf if n % 2 == 1 else -xp.inf
    out = xp.where(_is_nonpositive_int(xp, d) | (d == -xp.inf), pole, out)  # the poles, and PyTorch's -inf
    out = xp.where(d == xp.inf, xp.nan, out)  # (PyTorch's value at +inf)
    return out.astype(x.dtype)


def standard_gamma_grad(xp, x, alpha):
    """dx/dalpha for a Gamma(alpha, 1) draw x held at a fixed quantile (implicit reparameterisation):
    dx/dalpha = -(dP/dalpha) / pdf, P the regularised lower incomplete gamma function.

    With P = sum_n x^(alpha+n) e^-x / Gamma(alpha+n+1), the ratio to the pdf needs no special function
    but digamma once: dx/dalpha = (x/alpha) sum_n r_n (psi(alpha+n+1) - log x), r_0 = 1,
    r_(n+1) = r_n x / (alpha+n+1), psi stepping by 1/(alpha+n+1). The terms peak near n = x - alpha and
    then fall off like exp(-n^2 / 2 alpha); the loop runs until every element's terms are negligible.
    (PyTorch's own gradient is a piecewise approximation, good to about 1e-4 relative; this series
    is exact to rounding except far in the upper tail, x >> alpha, where its terms start to cancel.)"""
    x = x.astype(xp.float64)
    a = alpha.astype(xp.float64)
    log_x = xp.log(x)
    psi = digamma(xp, a + 1.0)
    r = xp.ones_like(x)
    total = psi - log_x
    n = 0
    while True:
        n += 1
        r = r * x / (a + n)
        psi = psi + 1.0 / (a + n)
        term = r * (psi - log_x)
        total = total + term
        # past the peak (n > x - alpha) and below rounding: done (NaN inputs count as done)
        busy = (n <= x - a + 1.0) | (xp.abs(term) > 1e-17 * xp.abs(total))
        if not bool(busy.any()) or n > 100000:
            break
    return (x / a * total).astype(alpha.dtype)


def gammainc(xp, a, x, upper: bool = False):
    """The regularised lower incomplete gamma function P(a, x) = gamma(a, x) / Gamma(a), elementwise
    (upper=True: Q(a, x) = 1 - P(a, x)): P's power series where x < a + 1, else Legendre's continued
    fraction for Q (modified Lentz), each run until every element has converged; the other of the
    pair is 1 minus it, taken where it is the larger one, so neither loses its small values."""
    a, x = xp.broadcast_arrays(a.astype(xp.float64), x.astype(xp.float64))
    log_front = a * xp.log(xp.where(x > 0, x, 1.0)) - x - lgamma(xp, a)  # log(x^a e^-x / Gamma(a))
    use_series = x < a + 1.0
    # series: P = x^a e^-x / Gamma(a + 1) * sum_n x^n / ((a + 1) ... (a + n))
    xs, as_ = xp.where(use_series, x, 0.0), xp.where(use_series, a, 1.0)
    term = xp.ones_like(xs)
    total = xp.ones_like(xs)
    for n in range(1, 100000):
        term = term * xs / (as_ + n)
        total = total + term
        if not bool((term > 1e-17 * total).any()):
            break
    series = xp.exp(log_front) / as_ * total  # Gamma(a + 1) = a Gamma(a)
    # continued fraction: Q = x^a e^-x / Gamma(a) * 1 / (x + 1 - a - 1 (1 - a) / (x + 3 - a - ...))
    xc, ac = xp.where(use_series, a + 2.0, x), xp.where(use_series, 1.0, a)
    tiny = 1e-300
    b = xc + 1.0 - ac
    c = xp.full_like(xc, 1.0 / tiny)
    d = 1.0 / b
    h = d
    for i in range(1, 100000):
        an = -i * (i - ac)
        b = b + 2.0
        d = an * d + b
        d = xp.where(xp.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = xp.where(xp.abs(c) < tiny, tiny, c)
        d = 1.0 / d
        delta = d * c
        h = h * delta
        if not bool((xp.abs(delta - 1.0) > 1e-15).any()):
            break
    fraction = xp.exp(log_front) * h  # Q
    if upper:
        out = xp.where(use_series, 1.0 - series, fraction)
        out = xp.where(x == 0, 1.0, xp.where(xp.isinf(x) & (x > 0), 0.0, out))
    else:
        out = xp.where(use_series, series, 1.0 - fraction)
        out = xp.where(x == 0, 0.0, xp.where(xp.isinf(x) & (x > 0), 1.0, out))
    # PyTorch's limits: P(0, x > 0) = 1, P(inf, x) = 0 (both NaN at x = 0 or x = inf respectively)
    at_zero = xp.where(x == 0, xp.nan, 0.0 if upper else 1.0)
    at_inf = xp.where(xp.isinf(x), xp.nan, 1.0 if upper else 0.0)
    out = xp.where(a == 0, at_zero, xp.where(xp.isinf(a), at_inf, out))
    return xp.where(xp.isnan(a) | xp.isnan(x) | (a < 0) | (x < 0), xp.nan, out)
