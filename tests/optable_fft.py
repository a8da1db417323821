"""Op-table rows for torch.fft (glasstorch/_ops/fft.py).

The table compares real tensors, so a complex result is seen through view_as_real (its grad_fn,
ViewAsRealBackward0, is torch's too) and a complex input is built from two real ones with
torch.complex: every row is then a real function of real inputs, differentiable in both libraries.
A length-n FFT sums n terms per bin; at these sizes (<= 9 points per dim) float32 results differ
from PyTorch's by about 1e-6 of the largest magnitude, within the table's float32 tolerance.

Rows with a complex input skip the special-values check: every output bin sums every input, and
where a NaN or an infinity (times a zero twiddle factor, or inf - inf) lands depends on how the FFT
algorithm splits the sums, which differs between NumPy's pocketfft and PyTorch's kernel. (Real
inputs do give PyTorch's NaNs and infinities, and those rows keep the check.)
"""
from _optable import Op

R = [((3, 4),), ((2, 3, 4),)]
RR = [((3, 4), (3, 4)), ((2, 3, 4), (2, 3, 4))]


def _c(m, y):
    return m.view_as_real(y.resolve_conj())  # (PyTorch's ihfft returns a lazily conjugated view)


def _complex_in(name, fn, **kw):
    return Op(name, fn, RR, special_values=False, **kw)


TABLE = [
    Op("fft_real", lambda m, a: _c(m, m.fft.fft(a, n=5)), R),
    _complex_in("fft_complex", lambda m, a, b: _c(m, m.fft.fft(m.complex(a, b), dim=0, norm="ortho"))),
    _complex_in("ifft_complex", lambda m, a, b: _c(m, m.fft.ifft(m.complex(a, b), n=3))),
    Op("rfft", lambda m, a: _c(m, m.fft.rfft(a, n=7, norm="forward")), R),
    _complex_in("irfft", lambda m, a, b: m.fft.irfft(m.complex(a, b), n=5)),
    _complex_in("irfft_even", lambda m, a, b: m.fft.irfft(m.complex(a, b), dim=0, norm="ortho")),
    _complex_in("hfft", lambda m, a, b: m.fft.hfft(m.complex(a, b), n=6)),
    Op("ihfft", lambda m, a: _c(m, m.fft.ihfft(a)), R),
    _complex_in("fft2", lambda m, a, b: _c(m, m.fft.fft2(m.complex(a, b), s=(4, 3)))),
    Op("rfftn", lambda m, a: _c(m, m.fft.rfftn(a, s=(2, 9), norm="ortho")), R),
    _complex_in("irfftn", lambda m, a, b: m.fft.irfftn(m.complex(a, b), s=(4, 7))),
    _complex_in("hfft2", lambda m, a, b: m.fft.hfft2(m.complex(a, b), norm="forward")),
    Op("ihfftn", lambda m, a: _c(m, m.fft.ihfftn(a, dim=(0, 1))), R),
    Op("fftshift", lambda m, a: m.fft.fftshift(a), R),
    Op("ifftshift", lambda m, a: m.fft.ifftshift(a, dim=-1), R),
]
