"""Op-table rows for convolution, pooling, non-constant padding and unfold/fold (tests/test_ops.py runs them).

Tolerances: a convolution output is a sum of C_in/groups * prod(kernel) products (up to 36 here),
and BLAS adds them in another order than PyTorch's kernel. In float32 each sum is then off by a few
ulps of its largest partial sum (~1e-6 for unit-normal inputs), so an output that cancels to near
zero needs an absolute tolerance above the default 1e-6: CONV32 allows 2e-5 absolute, still far
below a wrong tap or a misplaced window (errors of order 1). Pooling and padding copy, compare or
add in PyTorch's own order and keep the default tolerances.

Under create_graph every backward here is recorded again (convolution's as convolutions, the
linear maps of pooling, padding, unfold and fold with their adjoints), so every row is also
gradgradchecked.
"""
from __future__ import annotations

from _optable import Op, pos, real

CONV32 = dict(rtol=1e-4, atol=2e-5)


def _conv(name, fn, shapes, **kw):
    return Op(name, fn, shapes, real, tol32=CONV32, **kw)


def _pool(name, fn, shapes, domain=real, **kw):
    return Op(name, fn, shapes, domain, **kw)


def _unpool(m, x):
    out, idx = m.nn.functional.max_pool2d(x, 2, return_indices=True)
    return m.nn.functional.max_unpool2d(out, idx, 2, output_size=(x.shape[-2], x.shape[-1]))


def _unpool_overlap(m, x):
    out, idx = m.nn.functional.max_pool2d(x, 3, stride=2, padding=1, return_indices=True)
    return m.nn.functional.max_unpool2d(out, idx, 3, stride=2, padding=1, output_size=x.shape[-2:])


TABLE = [
    # ---- convolution ---------------------------------------------------------------------------
    _conv("conv1d", lambda m, x, w, b: m.nn.functional.conv1d(x, w, b), [((2, 3, 7), (4, 3, 3), (4,))]),
    _conv("conv1d_stride_pad_dilation", lambda m, x, w: m.nn.functional.conv1d(x, w, stride=2, padding=2, dilation=2),
          [((2, 3, 9), (4, 3, 3))]),
    _conv("conv1d_groups_same", lambda m, x, w, b: m.nn.functional.conv1d(x, w, b, padding="same", groups=2),
          [((2, 4, 7), (6, 2, 4), (6,))]),
    _conv("conv1d_valid_unbatched", lambda m, x, w: m.nn.functional.conv1d(x, w, padding="valid"),
          [((3, 7), (2, 3, 3))]),
    _conv("conv2d", lambda m, x, w, b: m.nn.functional.conv2d(x, w, b), [((2, 3, 6, 5), (4, 3, 3, 2), (4,))]),
    _conv("conv2d_stride_pad", lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, stride=(2, 1), padding=(1, 2)),
          [((2, 3, 7, 6), (4, 3, 3, 3), (4,))]),
    _conv("conv2d_dilation", lambda m, x, w: m.nn.functional.conv2d(x, w, padding=1, dilation=(2, 1)),
          [((2, 2, 7, 6), (3, 2, 3, 2))]),
    _conv("conv2d_groups", lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, stride=2, groups=2),
          [((2, 4, 7, 7), (6, 2, 3, 3), (6,))]),
    _conv("conv2d_depthwise", lambda m, x, w: m.nn.functional.conv2d(x, w, padding=1, groups=3),
          [((2, 3, 5, 5), (3, 1, 3, 3))]),
    _conv("conv2d_same_even_kernel", lambda m, x, w: m.nn.functional.conv2d(x, w, padding="same", dilation=(1, 2)),
          [((2, 3, 6, 7), (2, 3, 4, 3))]),
    _conv("conv2d_unbatched", lambda m, x, w: m.nn.functional.conv2d(x, w, stride=2), [((3, 6, 5), (2, 3, 2, 2))]),
    _conv("conv_transpose1d", lambda m, x, w, b: m.nn.functional.conv_transpose1d(x, w, b, stride=2, padding=1,
                                                                                  output_padding=1),
          [((2, 4, 5), (4, 3, 3), (3,))]),
    _conv("conv_transpose1d_groups_dilation",
          lambda m, x, w: m.nn.functional.conv_transpose1d(x, w, stride=3, output_padding=2, groups=2, dilation=2),
          [((2, 4, 5), (4, 2, 3))]),
    _conv("conv_transpose2d", lambda m, x, w, b: m.nn.functional.conv_transpose2d(x, w, b, stride=2, padding=1,
                                                                                  output_padding=1),
          [((2, 4, 4, 3), (4, 3, 3, 2), (3,))]),
    _conv("conv_transpose2d_groups", lambda m, x, w, b: m.nn.functional.conv_transpose2d(
        x, w, b, stride=(1, 2), padding=(0, 1), groups=2, dilation=(2, 1)), [((2, 4, 4, 3), (4, 1, 3, 3), (2,))]),
    _conv("conv_transpose2d_unbatched", lambda m, x, w: m.nn.functional.conv_transpose2d(x, w, stride=2),
          [((2, 3, 3), (2, 3, 2, 2))]),
    # ---- max pooling ---------------------------------------------------------------------------
    _pool("max_pool1d", lambda m, x: m.nn.functional.max_pool1d(x, 3, stride=2, padding=1), [((2, 3, 9),)]),
    _pool("max_pool1d_ceil_dilation_indices",
          lambda m, x: m.nn.functional.max_pool1d(x, 2, stride=2, dilation=2, ceil_mode=True, return_indices=True),
          [((2, 3, 8),)]),
    _pool("max_pool2d", lambda m, x: m.nn.functional.max_pool2d(x, 2), [((2, 3, 7, 6),), ((3, 4, 4),)]),
    _pool("max_pool2d_options_indices", lambda m, x: m.nn.functional.max_pool2d(
        x, (3, 2), stride=(2, 1), padding=1, dilation=(1, 2), ceil_mode=True, return_indices=True),
        [((2, 3, 8, 7),)]),
    _pool("max_pool2d_ceil_last_window", lambda m, x: m.nn.functional.max_pool2d(x, 3, stride=2, padding=1,
                                                                                 ceil_mode=True),
          [((1, 2, 6, 5),)]),
    # ---- average pooling -------------------------------------------------------------------------------
    _pool("avg_pool1d", lambda m, x: m.nn.functional.avg_pool1d(x, 3, stride=2, padding=1, ceil_mode=True,
                                                                count_include_pad=False), [((2, 3, 8),)]),
    _pool("avg_pool2d", lambda m, x: m.nn.functional.avg_pool2d(x, 2), [((2, 3, 7, 6),)]),
    _pool("avg_pool2d_options", lambda m, x: m.nn.functional.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True,
                                                                        count_include_pad=False), [((2, 3, 6, 7),)]),
    _pool("avg_pool2d_count_pad_ceil", lambda m, x: m.nn.functional.avg_pool2d(x, 3, stride=2, padding=1,
                                                                               ceil_mode=True), [((2, 3, 6, 7),)]),
    _pool("avg_pool2d_divisor", lambda m, x: m.nn.functional.avg_pool2d(x, (2, 3), padding=(1, 0),
                                                                        divisor_override=4), [((2, 3, 6, 7),)]),
    # ---- adaptive pooling ------------------------------------------------------------------------------
    _pool("adaptive_avg_pool1d", lambda m, x: m.nn.functional.adaptive_avg_pool1d(x, 3), [((2, 3, 7),)]),
    _pool("adaptive_avg_pool2d", lambda m, x: m.nn.functional.adaptive_avg_pool2d(x, (3, 4)),
          [((2, 3, 7, 6),), ((3, 5, 5),)]),
    _pool("adaptive_avg_pool2d_up_none", lambda m, x: m.nn.functional.adaptive_avg_pool2d(x, (9, None)),
          [((2, 3, 7, 6),)]),
    _pool("adaptive_avg_pool2d_1x1", lambda m, x: m.nn.functional.adaptive_avg_pool2d(x, 1), [((2, 3, 5, 4),)]),
    _pool("adaptive_max_pool2d", lambda m, x: m.nn.functional.adaptive_max_pool2d(x, (3, 4), return_indices=True),
          [((2, 3, 7, 6),)]),
    _pool("adaptive_max_pool2d_up", lambda m, x: m.nn.functional.adaptive_max_pool2d(x, (9, 4)), [((2, 3, 7, 6),)]),
    # ---- power-average pooling and unpooling -----------------------------------------------------------
    _pool("lp_pool2d", lambda m, x: m.nn.functional.lp_pool2d(x, 2, 2), [((2, 3, 6, 6),)]),
    _pool("lp_pool2d_stride_ceil", lambda m, x: m.nn.functional.lp_pool2d(x, 3.0, (3, 2), stride=2, ceil_mode=True),
          [((2, 3, 7, 6),)], pos),
    _pool("lp_pool1d", lambda m, x: m.nn.functional.lp_pool1d(x, 2, 3, stride=2), [((2, 3, 9),)], pos),
    _pool("max_unpool2d", _unpool, [((2, 3, 6, 6),)]),
    # overlapping windows may pick one element twice: unpool then writes it once but its backward
    # reads it twice (as in PyTorch), so the composite has no consistent derivative to gradcheck
    _pool("max_unpool2d_overlap", _unpool_overlap, [((1, 2, 7, 7),)], gradcheck=False),
    # ---- non-constant padding ------------------------------------------------------------------------
    _pool("pad_reflect1d", lambda m, x: m.nn.functional.pad(x, (2, 3), mode="reflect"), [((2, 3, 6),), ((3, 5),)]),
    _pool("pad_reflect2d", lambda m, x: m.nn.functional.pad(x, (1, 2, 3, 0), mode="reflect"), [((2, 3, 5, 6),)]),
    _pool("pad_reflect_negative", lambda m, x: m.nn.functional.pad(x, (-1, 2, 0, -1), mode="reflect"),
          [((2, 3, 5, 6),)]),
    _pool("pad_reflect3d", lambda m, x: m.nn.functional.pad(x, (1, 1, 2, 0, 1, 2), mode="reflect"),
          [((1, 2, 3, 4, 5),)]),
    _pool("pad_replicate1d", lambda m, x: m.nn.functional.pad(x, (7, 1), mode="replicate"), [((2, 3, 4),)]),
    _pool("pad_replicate2d", lambda m, x: m.nn.functional.pad(x, (1, 5, 2, -1), mode="replicate"),
          [((2, 3, 4, 3),), ((3, 4, 3),)]),
    _pool("pad_replicate3d", lambda m, x: m.nn.functional.pad(x, (2, 0, 1, 1, 0, 3), mode="replicate"),
          [((2, 3, 2, 3),)]),
    _pool("pad_circular1d", lambda m, x: m.nn.functional.pad(x, (2, 3), mode="circular"), [((2, 3, 4),)]),
    _pool("pad_circular2d", lambda m, x: m.nn.functional.pad(x, (1, 2, 3, -1), mode="circular"), [((2, 3, 4, 5),)]),
    _pool("pad_circular3d", lambda m, x: m.nn.functional.pad(x, (1, 1, 2, 0, 1, 2), mode="circular"),
          [((1, 2, 3, 4, 5),)]),
    # ---- unfold / fold -----------------------------------------------------------------------------
    Op("unfold", lambda m, x: m.nn.functional.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
       [((2, 3, 6, 7),), ((3, 5, 5),)]),
    Op("fold", lambda m, x: m.nn.functional.fold(x, (5, 6), 2), [((2, 12, 20),), ((12, 20),)]),
    Op("fold_stride_pad_dilation", lambda m, x: m.nn.functional.fold(x, (6, 7), (2, 3), dilation=(2, 1),
                                                                     padding=1, stride=2),
       [((2, 6, 12),)]),
]
