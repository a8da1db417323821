"""torch.fft against PyTorch, live: every transform's values, dtypes and shapes (all norms, n/s padding
and trimming, several dims), gradients (torch's conjugate-Wirtinger convention), gradcheck and
gradgradcheck, the helpers (fftfreq, fftshift), out= and errors.

Tolerances: a length-n FFT adds n products along each transformed dim; pocketfft (NumPy) and PyTorch's
FFT split the sums differently, and the rounding error of either is about eps * log2(n) * ||x|| per
bin (eps = 6e-8 in float32, 1.1e-16 in float64). The signals here have at most 16 points per dim and
entries of size ~1, so results are compared with an absolute tolerance of 1e-5 (float32) or 1e-10
(float64) times the result's largest magnitude: one to three orders of magnitude above that bound,
and far below any real mistake (a wrong scale, bin or sign changes values by O(1) of that magnitude).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import glasstorch
from _compare import assert_same_error

TOL = {"float32": 1e-5, "complex64": 1e-5, "float64": 1e-10, "complex128": 1e-10}
NORMS = (None, "backward", "forward", "ortho")
ONE_D = ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft")
N_D = ("fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2", "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn")
REAL_ONLY = ("rfft", "ihfft", "rfft2", "ihfft2", "rfftn", "ihfftn")


def _array(shape, dtype: str, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if dtype.startswith("complex"):
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def _close(ours, theirs, what: str, tol: float | None = None) -> None:
    """Same dtype and shape; values within the FFT tolerance (see the module docstring)."""
    assert str(ours.dtype).replace("torch.", "") == str(theirs.dtype).replace("torch.", ""), \
        f"{what}: dtype {ours.dtype} != torch {theirs.dtype}"
    assert tuple(ours.shape) == tuple(theirs.shape), f"{what}: shape {tuple(ours.shape)} != {tuple(theirs.shape)}"
    expected, actual = theirs.detach().resolve_conj().numpy(), ours.detach().numpy()
    if expected.dtype.kind not in "fc":
        np.testing.assert_array_equal(actual, expected, err_msg=what)
        return
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    tol = TOL[expected.dtype.name] if tol is None else tol
    np.testing.assert_allclose(actual, expected, rtol=0, atol=tol * scale, err_msg=what, equal_nan=True)


def _both(fn_name: str, a: np.ndarray, **kw):
    """(ours, torch's) result of torch.fft.<fn_name>(tensor of a, **kw)."""
    ours = getattr(glasstorch.fft, fn_name)(glasstorch.from_numpy(a.copy()), **kw)
    theirs = getattr(torch.fft, fn_name)(torch.from_numpy(a.copy()), **kw)
    return ours, theirs


def _input_dtypes(fn_name: str):
    return ("float32", "float64") if fn_name in REAL_ONLY else ("float32", "float64", "complex64", "complex128")


# ---- forward -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn_name", ONE_D)
def test_one_dim_forward(fn_name):
    # n: the default, zero-padding (11 > 6 or 8 points: also odd lengths) and trimming; dims 0, 1 and -1
    shape = (5, 6)
    for dtype in _input_dtypes(fn_name):
        a = _array(shape, dtype, seed=1)
        for norm in NORMS:
            for n in (None, 11, 4, 1 if fn_name not in ("irfft", "hfft") else 2):
                for dim in (0, 1, -1):
                    ours, theirs = _both(fn_name, a, n=n, dim=dim, norm=norm)
                    _close(ours, theirs, f"{fn_name}({dtype}, n={n}, dim={dim}, norm={norm})")


@pytest.mark.parametrize("fn_name", N_D)
def test_n_dim_forward(fn_name):
    shape = (3, 4, 5)
    two = fn_name.endswith("2")
    cases = [dict(), dict(s=(6, 7)), dict(s=(2, 3)), dict(s=(-1, 8)), dict(dim=(0, 2)),
             dict(s=(4, 6), dim=(2, 0)), dict(dim=(-1,)), dict(dim=1)]
    if not two:
        cases += [dict(s=(2, 6, 3)), dict(dim=(2, 0, 1)), dict(s=(5,))]
    for dtype in _input_dtypes(fn_name):
        a = _array(shape, dtype, seed=2)
        for norm in NORMS:
            for kw in cases:
                ours, theirs = _both(fn_name, a, norm=norm, **kw)
                _close(ours, theirs, f"{fn_name}({dtype}, {kw}, norm={norm})")


@pytest.mark.parametrize("fn_name", ONE_D + N_D)
def test_integer_and_bool_inputs_take_the_default_float_dtype(fn_name):
    a = np.arange(12).reshape(3, 4) % 5
    for arr in (a, a > 2):
        ours, theirs = _both(fn_name, arr)
        _close(ours, theirs, f"{fn_name}({arr.dtype})")
    glasstorch.set_default_dtype(glasstorch.float64)
    torch.set_default_dtype(torch.float64)
    try:
        ours, theirs = _both(fn_name, a)
        _close(ours, theirs, f"{fn_name}(int64) with float64 default")
    finally:
        glasstorch.set_default_dtype(glasstorch.float32)
        torch.set_default_dtype(torch.float32)


def test_non_contiguous_and_batched_inputs():
    a = _array((4, 6, 8), "complex128", seed=3)
    for fn_name in ("fft", "ifft", "irfft", "hfft"):
        ours = getattr(glasstorch.fft, fn_name)(glasstorch.from_numpy(a).transpose(0, 2), dim=1)
        theirs = getattr(torch.fft, fn_name)(torch.from_numpy(a).transpose(0, 2), dim=1)
        _close(ours, theirs, fn_name)
    r = _array((4, 6, 8), "float32", seed=3)
    ours = glasstorch.fft.rfft2(glasstorch.from_numpy(r)[:, ::2, 1:])
    theirs = torch.fft.rfft2(torch.from_numpy(r)[:, ::2, 1:])
    _close(ours, theirs, "rfft2 of a strided view")


def test_zero_dim_and_empty_dim_list():
    for fn_name in ("fftn", "ifftn"):
        ours, theirs = _both(fn_name, np.array(2.5))
        _close(ours, theirs, f"{fn_name} of a 0-d tensor")
        ours, theirs = _both(fn_name, _array((2, 3), "float64"), dim=())
        _close(ours, theirs, f"{fn_name} with dim=()")


def test_round_trips():
    x = glasstorch.from_numpy(_array((4, 10), "float64", seed=4))
    for norm in NORMS:
        F = glasstorch.fft
        assert np.allclose(F.irfft(F.rfft(x, norm=norm), n=10, norm=norm).numpy(), x.numpy(), atol=1e-12)
        assert np.allclose(F.ifftn(F.fftn(x, norm=norm), norm=norm).real.numpy(), x.numpy(), atol=1e-12)
        assert np.allclose(F.hfft(F.ihfft(x, norm=norm), n=10, norm=norm).numpy(), x.numpy(), atol=1e-12)


# ---- backward ------------------------------------------------------------------------------------------
def _loss(m, y, w):
    """A real loss that weighs every real and imaginary part differently (so every bin's gradient is
    seen), plus |y|^2 (a nonlinear one)."""
    if y.dtype.is_complex:
        wr, wi = w
        return (m.real(y) * wr).sum() + (m.imag(y) * wi).sum() + (y.abs() ** 2).sum()
    return (y * w[0]).sum() + (y ** 2).sum()


def _grads(m, fn_name, re, im, kw, complex_input):
    re_t = m.from_numpy(re.copy()).requires_grad_(True)
    leaves = [re_t]
    x = re_t
    if complex_input:
        im_t = m.from_numpy(im.copy()).requires_grad_(True)
        leaves.append(im_t)
        x = m.complex(re_t, im_t)
    y = getattr(m.fft, fn_name)(x, **kw)
    rng = np.random.default_rng(7)
    w = [m.from_numpy(rng.standard_normal(tuple(y.shape))) for _ in range(2)]
    _loss(m, y, w).backward()
    name = y.grad_fn.name().replace("torch::autograd::", "")
    return y, [t.grad for t in leaves], name


@pytest.mark.parametrize("fn_name", ONE_D + N_D)
def test_backward_matches_torch(fn_name):
    shape = (4, 6)
    re, im = _array(shape, "float64", seed=5), _array(shape, "float64", seed=6)
    if fn_name in ONE_D:
        cases = [dict(n=n, dim=d) for n in (None, 9, 3) for d in (0, -1)]
    else:
        cases = [dict(), dict(s=(5, 9)), dict(s=(3, 3)), dict(s=(2, 7), dim=(1, 0))]
    for complex_input in ((False,) if fn_name in REAL_ONLY else (False, True)):
        for norm in NORMS:
            for kw in cases:
                kw = dict(kw, norm=norm)
                y, grads, name = _grads(glasstorch, fn_name, re, im, kw, complex_input)
                ty, tgrads, tname = _grads(torch, fn_name, re, im, kw, complex_input)
                what = f"{fn_name}(complex={complex_input}, {kw})"
                _close(y, ty, what)
                assert name == tname, f"{what}: grad_fn {name} != torch {tname}"
                for i, (g, tg) in enumerate(zip(grads, tgrads)):
                    _close(g, tg, f"{what}: gradient {i}")


def test_float32_backward_keeps_float32():
    x = glasstorch.from_numpy(_array((3, 8), "float32")).requires_grad_(True)
    tx = torch.from_numpy(_array((3, 8), "float32")).requires_grad_(True)
    for m, t in ((glasstorch, x), (torch, tx)):
        (m.fft.rfft(t, norm="ortho").abs() ** 2).sum().backward()
    _close(x.grad, tx.grad, "rfft float32 gradient")


def _real_view(m, fn_name, kw, complex_input):
    """fft as a function of real tensors to real tensors, for gradcheck."""
    def f(re, im=None):
        x = m.complex(re, im) if complex_input else re
        y = getattr(m.fft, fn_name)(x, **kw)
        return m.view_as_real(y) if y.dtype.is_complex else y
    return f


@pytest.mark.parametrize("fn_name,kw", [
    ("fft", dict(n=5)), ("ifft", dict(n=3, norm="ortho")), ("rfft", dict(n=7)), ("irfft", dict(n=5)),
    ("irfft", dict(n=6, norm="forward")), ("hfft", dict(n=7)), ("ihfft", dict(n=6)),
    ("fft2", dict(s=(3, 5))), ("rfftn", dict(s=(3, 4))), ("irfft2", dict(s=(2, 4))),
    ("hfftn", dict(s=(3, 5), norm="ortho")), ("ihfft2", dict()), ("ifftn", dict(dim=(0,)))])
def test_gradcheck_and_gradgradcheck(fn_name, kw):
    rng = np.random.default_rng(8)
    complex_input = fn_name not in REAL_ONLY
    args = [glasstorch.from_numpy(rng.standard_normal((3, 4))).requires_grad_(True)
            for _ in range(2 if complex_input else 1)]
    f = _real_view(glasstorch, fn_name, kw, complex_input)
    assert glasstorch.autograd.gradcheck(f, args)
    assert glasstorch.autograd.gradgradcheck(f, args)


def test_second_derivative_matches_torch():
    # d/dx of <grad_x(L), v>: the gradient of a gradient goes back through the adjoint transform
    # (recorded) and the forward one again (and through abs's complex gradient, x / |x|)
    a, v = _array((6,), "float64", seed=9), _array((6,), "float64", seed=10)
    out = []
    for m in (glasstorch, torch):
        x = m.from_numpy(a.copy()).requires_grad_(True)
        y = m.fft.rfft(x, n=8, norm="ortho")
        (g,) = m.autograd.grad((m.view_as_real(y) ** 3).sum() + (y.abs() ** 3).sum(), x, create_graph=True)
        (g * m.from_numpy(v)).sum().backward()
        out.append(x.grad)
    _close(out[0], out[1], "second derivative")


def _spectral(m, x, k, v, w):
    """Real signals through complex products and quotients of their spectra, conj, view_as_complex,
    a real tensor times a complex number, a real plus a complex tensor: every rule of the complex
    gradient convention glasstorch implements (conjugated factors, real parts for real operands)."""
    fx, fk = m.fft.rfft(x), m.fft.rfft(k, n=x.shape[-1])
    conv = m.fft.irfft(fx * fk / (fk.conj() + 3), n=x.shape[-1])  # an FFT convolution (of sorts)
    z = m.view_as_complex(v) * (2 - 1j) + x[:3] * 0.5j + w
    return (conv * w.sum()).sum() + (z.abs() ** 2).sum() + (m.fft.fft(z) * fx[:3]).imag.sum()


def test_complex_products_and_quotients_match_torch():
    rng = np.random.default_rng(12)
    arrays = [rng.standard_normal(s) for s in ((8,), (5,), (3, 2), (3,))]
    grads = []
    for m in (glasstorch, torch):
        leaves = [m.from_numpy(a.copy()).requires_grad_(True) for a in arrays]
        loss = _spectral(m, *leaves)
        (first,) = m.autograd.grad(loss, leaves[0], create_graph=True)
        (first * m.from_numpy(np.linspace(-1, 1, 8))).sum().backward()
        grads.append([first] + [t.grad for t in leaves])
    for i, (ours, theirs) in enumerate(zip(*grads)):
        _close(ours, theirs, f"gradient {i}")
    args = [glasstorch.from_numpy(a).requires_grad_(True) for a in arrays]
    assert glasstorch.autograd.gradcheck(lambda *t: _spectral(glasstorch, *t), args)


def test_complex_building_blocks_record_torch_grad_fns():
    a = _array((3, 2), "float64")
    for m in (glasstorch, torch):
        re = m.from_numpy(a[:, 0].copy()).requires_grad_(True)
        z = m.view_as_complex(m.from_numpy(a.copy()).requires_grad_(True))
        names = [t.grad_fn.name().replace("torch::autograd::", "")
                 for t in (z, m.view_as_real(z), z.real, z.imag, z.conj(), m.complex(re, re))]
        assert names == ["ViewAsComplexBackward0", "ViewAsRealBackward0", "SelectBackward0", "SelectBackward0",
                         "ConjBackward0", "ComplexBackward0"]


def test_fake_cuda_device_gives_the_cpu_results(fake_cuda):
    # the test backend refuses what CuPy refuses (NumPy arrays mixed in, errstate): every path of the
    # transforms and their adjoints runs on the device's own array module; same NumPy FFT, same bits
    rng = np.random.default_rng(11)
    re_a, im_a = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    for fn_name, kw, complex_input in [("fft", dict(n=5), False), ("rfft2", dict(s=(3, 5)), False),
                                       ("irfftn", dict(s=(3, 5)), True), ("hfft", dict(n=7), True),
                                       ("ihfft", {}, False), ("ifft2", {}, True)]:
        results = []
        for device in ("cpu", "cuda"):
            re = glasstorch.from_numpy(re_a).to(device).requires_grad_(True)
            im = glasstorch.from_numpy(im_a).to(device).requires_grad_(True)
            y = getattr(glasstorch.fft, fn_name)(glasstorch.complex(re, im) if complex_input else re, **kw)
            assert y.device.type == device
            (glasstorch.view_as_real(y) ** 2 if y.dtype.is_complex else y ** 3).sum().backward()
            results.append([t.detach().cpu().numpy() for t in (y, re.grad) + ((im.grad,) if complex_input else ())])
        for ours, cpu in zip(results[1], results[0]):
            np.testing.assert_array_equal(ours, cpu, err_msg=fn_name)
    freqs = glasstorch.fft.fftshift(glasstorch.fft.fftfreq(5, device="cuda"))
    assert freqs.device.type == "cuda"
    _close(freqs.cpu(), torch.fft.fftshift(torch.fft.fftfreq(5)), "fftfreq on cuda")


def test_torch_fft_under_the_torch_alias():
    from glasstorch._compat import torch_alias

    with torch_alias():
        import torch as aliased
        import torch.fft
        from torch.fft import rfft

        assert aliased.fft is glasstorch.fft and torch.fft is glasstorch.fft and rfft is glasstorch.fft.rfft


def test_complex_leaf_is_still_refused():
    z = glasstorch.from_numpy(_array((4,), "complex128")).requires_grad_(True)
    with pytest.raises(NotImplementedError, match="complex leaf"):
        glasstorch.fft.fft(z).abs().sum().backward()


# ---- helpers -------------------------------------------------------------------------------------------
def test_fftfreq_and_rfftfreq():
    for fn_name in ("fftfreq", "rfftfreq"):
        for n in (0, 1, 2, 5, 8, 11):
            for d in (1.0, 0.5, 0.1, 3):
                for dtype in (None, "float32", "float64"):
                    kw = dict(d=d) if dtype is None else dict(d=d, dtype=getattr(torch, dtype))
                    theirs = getattr(torch.fft, fn_name)(n, **kw)
                    if dtype is not None:
                        kw["dtype"] = getattr(glasstorch, dtype)
                    ours = getattr(glasstorch.fft, fn_name)(n, **kw)
                    # each value is k * (1 / (n d)) rounded once, in the tensor's dtype, on both
                    _close(ours, theirs, f"{fn_name}({n}, {kw})")
    ours = glasstorch.fft.fftfreq(4, requires_grad=True)
    assert ours.requires_grad and ours.is_leaf
    out = glasstorch.empty(0, dtype=glasstorch.float64)
    assert glasstorch.fft.rfftfreq(6, 2.0, out=out) is out
    _close(out, torch.fft.rfftfreq(6, 2.0, dtype=torch.float64), "rfftfreq(out=)")


def test_fftshift_and_ifftshift():
    for shape in ((7,), (4, 5), (2, 3, 6)):
        a = np.arange(int(np.prod(shape))).reshape(shape)
        dims = [None, 0, -1, (0, -1)] if len(shape) > 1 else [None, 0, (0,)]
        for fn_name in ("fftshift", "ifftshift"):
            for dim in dims:
                ours, theirs = _both(fn_name, a, dim=dim)
                _close(ours, theirs, f"{fn_name}({shape}, dim={dim})")
    x = glasstorch.from_numpy(_array((5,), "float64")).requires_grad_(True)
    glasstorch.fft.ifftshift(glasstorch.fft.fftshift(x)).sum().backward()
    assert np.array_equal(x.grad.numpy(), np.ones(5))


def test_out():
    a = _array((3, 8), "float32")
    for fn_name, out_dtype in (("fft", "complex64"), ("rfft", "complex128"), ("irfft", "float32")):
        arr = a.astype("complex64") if fn_name == "irfft" else a
        ours_out = glasstorch.empty(0, dtype=getattr(glasstorch, out_dtype))
        theirs_out = torch.empty(0, dtype=getattr(torch, out_dtype))
        ours = getattr(glasstorch.fft, fn_name)(glasstorch.from_numpy(arr), out=ours_out)
        theirs = getattr(torch.fft, fn_name)(torch.from_numpy(arr), out=theirs_out)
        assert ours is ours_out
        # computed in float32 by both, then stored in out's dtype: float32's tolerance
        _close(ours, theirs, f"{fn_name}(out={out_dtype})", tol=TOL["float32"])
    assert_same_error(lambda m, x: m.fft.fft(x, out=m.empty(0)), [a])
    assert_same_error(lambda m, x: m.fft.irfft(x, out=m.empty(0, dtype=m.complex64)), [a])


# ---- errors --------------------------------------------------------------------------------------------
ERRORS = [
    ("fft n=0", lambda m, x, z: m.fft.fft(x, n=0)),
    ("fft n=-1", lambda m, x, z: m.fft.fft(x, n=-1)),
    ("fft dim out of range", lambda m, x, z: m.fft.fft(x, dim=2)),
    ("fft dim negative out of range", lambda m, x, z: m.fft.fft(x, dim=-3)),
    ("bad norm", lambda m, x, z: m.fft.fft(x, norm="bad")),
    ("rfft n=0", lambda m, x, z: m.fft.rfft(x, n=0)),
    ("rfft complex", lambda m, x, z: m.fft.rfft(z)),
    ("ihfft complex", lambda m, x, z: m.fft.ihfft(z)),
    ("rfft2 complex", lambda m, x, z: m.fft.rfft2(z)),
    ("ihfftn complex", lambda m, x, z: m.fft.ihfftn(z)),
    ("irfft n=0", lambda m, x, z: m.fft.irfft(z, n=0)),
    ("irfft one bin", lambda m, x, z: m.fft.irfft(z[:, :1])),
    ("hfft n=0", lambda m, x, z: m.fft.hfft(z, n=0)),
    ("ihfft n=0", lambda m, x, z: m.fft.ihfft(x, n=0)),
    ("fft2 repeated dims", lambda m, x, z: m.fft.fft2(x, dim=(0, 0))),
    ("fftn s and dim lengths", lambda m, x, z: m.fft.fftn(x, s=(3,), dim=(0, 1))),
    ("fftn s=0", lambda m, x, z: m.fft.fftn(x, s=(0, 3))),
    ("fftn s too long", lambda m, x, z: m.fft.fftn(x, s=(3, 3, 3))),
    ("rfftn s=0", lambda m, x, z: m.fft.rfftn(x, s=(2, 0))),
    ("irfftn s=0", lambda m, x, z: m.fft.irfftn(z, s=(2, 0))),
    ("irfftn one bin", lambda m, x, z: m.fft.irfftn(z[:, :1])),
    ("rfftn no dims", lambda m, x, z: m.fft.rfftn(x, dim=())),
    ("irfftn no dims", lambda m, x, z: m.fft.irfftn(z, dim=())),
    ("fft of a 0-d tensor", lambda m, x, z: m.fft.fft(x.sum())),
    ("fft2 of a 1-d tensor", lambda m, x, z: m.fft.fft2(x[0])),
    ("fft of an empty tensor", lambda m, x, z: m.fft.fft(x[:, :0])),
    ("fft half", lambda m, x, z: m.fft.fft(x.half())),
    ("rfft half", lambda m, x, z: m.fft.rfft(x.half())),
    ("fftfreq negative", lambda m, x, z: m.fft.fftfreq(-1)),
    ("fftshift dim out of range", lambda m, x, z: m.fft.fftshift(x, dim=5)),
    ("fftshift of a 0-d tensor", lambda m, x, z: m.fft.fftshift(x.sum())),
    ("n not an int", lambda m, x, z: m.fft.fft(x, n=3.0)),
    ("norm not a string", lambda m, x, z: m.fft.fftn(x, norm=3)),
    ("hfftn no dims", lambda m, x, z: m.fft.hfftn(z, dim=())),
    ("ihfft2 no dims", lambda m, x, z: m.fft.ihfft2(x, dim=())),
    ("out= with autograd (r2c)", lambda m, x, z: m.fft.fft(x.requires_grad_(), out=m.empty(0, dtype=m.complex64))),
    ("out= with autograd (c2c)", lambda m, x, z: m.fft.fftn(x.requires_grad_(), out=m.empty(0, dtype=m.complex64))),
    ("out= with autograd (c2r)", lambda m, x, z: m.fft.irfft(m.complex(x, x).requires_grad_(), out=m.empty(0))),
]


@pytest.mark.parametrize("what,fn", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(what, fn):
    arrays = [_array((4, 6), "float32"), _array((4, 6), "complex64")]
    assert_same_error(fn, arrays)
