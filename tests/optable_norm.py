"""Op-table rows for the layers of image programs that are not convolutions: group/instance/local response
(and RMS) normalisation, interpolation (F.interpolate and the Upsample modules), affine_grid/grid_sample,
pixel (un)shuffle, channel_shuffle and Softmax2d.

Inputs are (N, C, *spatial) with few elements, so that gradcheck and gradgradcheck (one forward per
input element) stay cheap. Interpolation rows mix scale factors that are whole numbers (upsampling
reads each input pixel several times, so its gradient must add them all), fractions above and below
1, and explicit sizes.

Float32 tolerances: bicubic and trilinear results sum 16 and 8 weighted taps whose weights PyTorch
and glasstorch compute in float32 in possibly different association (the compiler may fuse a
multiply-add where NumPy rounds twice); bicubic weights have negative lobes, so a sum of order 1
carries absolute rounding errors of a few 1e-6 in either library (measured on 7x7 inputs: up to
2.6e-6 between PyTorch's own float32 and float64 results, 3.3e-6 between the two libraries' float32
results). Those rows allow atol=1e-5 in float32; float64 stays at the default 1e-10.
"""
from __future__ import annotations

from _optable import Op, real, small


def coords(rng, shape):
    """Normalised sampling points, some beyond the image (-1 .. 1) to exercise the padding modes."""
    return rng.uniform(-1.3, 1.3, shape)


# ---- shapes ---------------------------------------------------------------------------------------
NCL = [((2, 3, 5),)]
NCHW = [((2, 3, 4, 5),)]
NCHW_SMALL = [((1, 2, 3, 4),)]
NCDHW = [((1, 2, 2, 3, 2),)]
RMS_NAMES = ("MulBackward0", "CloneBackward0")
TAPS32 = dict(tol32=dict(rtol=1e-5, atol=1e-5))  # see the module docstring


def _f(m):
    return m.nn.functional


def _interp(name, shapes, **kw):
    """A row for F.interpolate(x, **kw)."""
    nearest = kw.get("mode", "nearest").startswith("nearest")
    extra = {} if kw.get("mode") not in ("bicubic", "trilinear") else TAPS32
    return Op(name, lambda m, a: _f(m).interpolate(a, **kw), shapes, other_dtypes=nearest, **extra)


TABLE = [
    # ---- group_norm ----------------------------------------------------------------------------------
    Op("group_norm", lambda m, x, w, b: _f(m).group_norm(x, 2, w, b),
       [((3, 4, 5, 2), (4,), (4,)), ((2, 6, 4), (6,), (6,))], other_dtypes=False),
    Op("group_norm_no_affine", lambda m, x: _f(m).group_norm(x, 3, eps=1e-3), [((2, 6, 4),), ((3, 6),)]),
    Op("group_norm_one_group", lambda m, x, w: _f(m).group_norm(x, 1, w), [((2, 4, 3),  (4,))], other_dtypes=False),
    Op("group_norm_per_channel", lambda m, x: _f(m).group_norm(x, 4), [((2, 4, 3, 2),)]),
    # ---- instance_norm (PyTorch's is batch_norm on a (1, N*C, ...) view: its grad_fn is the view's) -----
    Op("instance_norm", lambda m, x: _f(m).instance_norm(x), [((2, 3, 4, 5),), ((3, 2, 6),)]),
    Op("instance_norm_affine", lambda m, x, w, b: _f(m).instance_norm(x, weight=w, bias=b, eps=1e-3),
       [((2, 3, 5), (3,), (3,))], other_dtypes=False),
    Op("instance_norm_running_stats",
       lambda m, x: _f(m).instance_norm(x, m.zeros(3, dtype=x.dtype), m.ones(3, dtype=x.dtype), momentum=0.3),
       [((2, 3, 4),)], other_dtypes=False),
    Op("instance_norm_eval_stats",
       lambda m, x: _f(m).instance_norm(x, m.linspace(-1, 1, 3, dtype=x.dtype), m.linspace(0.5, 2, 3, dtype=x.dtype),
                                        use_input_stats=False),
       [((2, 3, 4),)], other_dtypes=False),
    # ---- rms_norm (composed of recorded ops in PyTorch too: its grad_fn is the last MulBackward0, or on a
    # non-contiguous input the CloneBackward0 of PyTorch's internal .contiguous()) -------------------------
    Op("rms_norm", lambda m, x, w: _f(m).rms_norm(x, (4,), w), [((2, 3, 4), (4,)), ((4,), (4,))], other_dtypes=False,
       grad_fn=RMS_NAMES),
    Op("rms_norm_eps", lambda m, x: _f(m).rms_norm(x, [3, 4], eps=1e-2), [((2, 3, 4),)], grad_fn=RMS_NAMES),
    Op("rms_norm_module", lambda m, x: m.nn.RMSNorm((2, 3), eps=1e-3, elementwise_affine=False)(x), [((4, 2, 3),)],
       other_dtypes=False, grad_fn=RMS_NAMES),
    # ---- local_response_norm (floats only: on half and integer inputs PyTorch's result follows which
    # dtypes its avg_pool kernels happen to support) -------------------------------------------------------
    Op("local_response_norm", lambda m, x: _f(m).local_response_norm(x, 3, alpha=0.1, beta=0.75, k=1.5), NCHW,
       other_dtypes=False),
    Op("local_response_norm_3d", lambda m, x: _f(m).local_response_norm(x, 2, alpha=0.5), NCL, other_dtypes=False),
    # (PyTorch's 5d path calls .view, which refuses non-contiguous inputs; glasstorch's accepts them)
    Op("local_response_norm_5d", lambda m, x: _f(m).local_response_norm(x, 4, alpha=0.3, beta=0.5), NCDHW,
       other_dtypes=False, noncontig=False),
    Op("local_response_norm_module", lambda m, x: m.nn.LocalResponseNorm(2, alpha=1.0)(x), NCHW,
       other_dtypes=False),
    # ---- pixel (un)shuffle, Softmax2d ---------------------------------------------------------------
    Op("pixel_shuffle", lambda m, x: _f(m).pixel_shuffle(x, 2), [((2, 8, 3, 2),), ((4, 2, 3),), ((2, 1, 8, 2, 2),)]),
    Op("pixel_unshuffle", lambda m, x: _f(m).pixel_unshuffle(x, 2), [((2, 2, 4, 6),), ((1, 2, 2),)]),
    Op("pixel_shuffle_modules", lambda m, x: m.nn.PixelUnshuffle(3)(m.nn.PixelShuffle(3)(x) * 2), [((1, 9, 2, 2),)]),
    Op("channel_shuffle", lambda m, x: _f(m).channel_shuffle(x, 3), [((2, 6, 3, 2),), ((1, 6, 4),)]),
    Op("channel_shuffle_module", lambda m, x: m.nn.ChannelShuffle(2)(x * 2), [((2, 4, 3),)]),
    Op("softmax2d", lambda m, x: m.nn.Softmax2d()(x), [((2, 3, 4, 2),), ((3, 2, 2),)]),
    # ---- interpolate: nearest ----------------------------------------------------------------------
    _interp("interp_nearest_1d", NCL, scale_factor=2),
    _interp("interp_nearest_1d_size", NCL, size=7),
    _interp("interp_nearest_1d_down", NCL, size=3),
    _interp("interp_nearest_2d", NCHW_SMALL, scale_factor=(2, 1.5)),
    _interp("interp_nearest_2d_down", NCHW, size=(3, 2)),
    _interp("interp_nearest_3d", NCDHW, scale_factor=2),
    _interp("interp_nearest_exact_1d", NCL, size=7),
    _interp("interp_nearest_exact_2d", NCHW_SMALL, scale_factor=1.7),
    _interp("interp_nearest_exact_2d_down", NCHW, scale_factor=0.6),
    _interp("interp_nearest_exact_3d", NCDHW, size=(3, 5, 1)),
    # ---- interpolate: linear, bilinear, trilinear ------------------------------------------------------
    _interp("interp_linear", NCL, scale_factor=2.5, mode="linear"),
    _interp("interp_linear_align", NCL, size=8, mode="linear", align_corners=True),
    _interp("interp_linear_down", NCL, size=2, mode="linear"),
    _interp("interp_bilinear", NCHW_SMALL, scale_factor=2, mode="bilinear"),
    _interp("interp_bilinear_align", NCHW_SMALL, size=(5, 7), mode="bilinear", align_corners=True),
    _interp("interp_bilinear_down", NCHW, scale_factor=0.6, mode="bilinear"),
    _interp("interp_bilinear_recompute", NCHW_SMALL, scale_factor=1.7, mode="bilinear", recompute_scale_factor=True),
    _interp("interp_bilinear_one_axis", NCHW_SMALL, size=(3, 6), mode="bilinear"),
    _interp("interp_trilinear", NCDHW, scale_factor=2, mode="trilinear"),
    _interp("interp_trilinear_align", NCDHW, size=(3, 4, 3), mode="trilinear", align_corners=True),
    # ---- interpolate: bicubic ----------------------------------------------------------------------
    _interp("interp_bicubic", NCHW_SMALL, scale_factor=2, mode="bicubic"),
    _interp("interp_bicubic_align", NCHW_SMALL, size=(5, 7), mode="bicubic", align_corners=True),
    _interp("interp_bicubic_down", NCHW, scale_factor=0.5, mode="bicubic"),
    _interp("interp_bicubic_fraction", NCHW_SMALL, scale_factor=(1.3, 2.6), mode="bicubic"),
    # ---- interpolate: antialiased bilinear and bicubic (the filter widens when shrinking) ------------------
    _interp("interp_bilinear_antialias", NCHW, size=(2, 3), mode="bilinear", antialias=True),
    _interp("interp_bilinear_antialias_up", NCHW_SMALL, scale_factor=(1.5, 0.6), mode="bilinear", antialias=True),
    _interp("interp_bicubic_antialias", NCHW, scale_factor=0.45, mode="bicubic", antialias=True),
    _interp("interp_bicubic_antialias_align", NCHW, size=(3, 2), mode="bicubic", antialias=True,
            align_corners=True),
    # ---- interpolate: area (adaptive average pooling, from _ops/pooling.py, whose backward does not yet
    # record a graph of its own: no gradgradcheck until it does) ------------------------------------------
    Op("interp_area", lambda m, a: _f(m).interpolate(a, size=(3, 2), mode="area"), NCHW, other_dtypes=False,
       gradgrad=False),
    Op("interp_area_1d_scale", lambda m, a: _f(m).interpolate(a, scale_factor=0.7, mode="area"), NCL,
       other_dtypes=False, gradgrad=False),
    # ---- affine_grid and grid_sample (glasstorch's grid_sample is composed of recorded ops: its grad_fn
    # is the last sum's AddBackward0, where PyTorch has one GridSampler2DBackward0) ---------------------------
    Op("affine_grid", lambda m, t: _f(m).affine_grid(t, (2, 3, 4, 5), align_corners=False), [((2, 2, 3),)],
       other_dtypes=False),
    Op("affine_grid_3d_align", lambda m, t: _f(m).affine_grid(t, (1, 2, 2, 3, 4), align_corners=True),
       [((1, 3, 4),)], other_dtypes=False),
    *[Op(f"grid_sample_{mode}_{pad}{'_align' if corners else ''}",
         lambda m, x, g, mode=mode, pad=pad, corners=corners: _f(m).grid_sample(x, g, mode, pad, corners),
         [((2, 2, 3, 4), (2, 2, 3, 2))], (real, coords), grad_fn=("AddBackward0",), other_dtypes=False)
      for mode, pad, corners in [("bilinear", "zeros", False), ("bilinear", "border", True),
                                 ("bilinear", "reflection", False), ("bilinear", "reflection", True),
                                 ("nearest", "zeros", True), ("nearest", "reflection", False)]],
    Op("grid_sample_affine",
       lambda m, x, t: _f(m).grid_sample(x, _f(m).affine_grid(t, (1, 2, 3, 4), False), align_corners=False),
       [((1, 2, 4, 5), (1, 2, 3))], (real, small), grad_fn=("AddBackward0",), other_dtypes=False),
    # ---- the Upsample modules ---------------------------------------------------------------------------
    Op("upsample_module", lambda m, x: m.nn.Upsample(scale_factor=2, mode="bilinear")(x), NCHW_SMALL,
       other_dtypes=False),
    Op("upsampling_nearest2d", lambda m, x: m.nn.UpsamplingNearest2d(size=(5, 6))(x), NCHW_SMALL),
    Op("upsampling_bilinear2d", lambda m, x: m.nn.UpsamplingBilinear2d(scale_factor=1.5)(x), NCHW_SMALL,
       other_dtypes=False),
]
