"""Compiled window loops for 2-d convolution and max pooling on the CPU: the optional extra `fast` (numba).

The NumPy routines in `_ops/conv.py` and `_ops/pooling.py` are the readable reference. Their costly
part is not arithmetic but memory: im2col copies a strided 6-d view whose innermost run is one output
row (24 floats for the MNIST net), col2im and max pooling make one whole-array pass per kernel tap,
and pooling keeps a temporary mask per tap. Here each routine is one loop nest, compiled by numba,
that reads and writes every element once; for large arrays it is split over the cores by rows of the
result, so that no two threads write the same element.

Every kernel computes exactly what its reference computes, in the same order per element (col2im adds
the taps of a pixel in tap order; pooling compares the taps in PyTorch's order with its NaN rule), so
the two paths give the same bits; tests compare them. Without numba, or with the environment variable
GLASSTORCH_FUSED=0, every function here returns None and the caller runs its NumPy code.

Only C-contiguous float32/float64 NumPy arrays are taken; anything else (CuPy, half precision, integer
images, strided views) is left to the reference.
"""
from __future__ import annotations

import os

import numpy as np

from . import cpu_fused, cpu_threads

ENABLED = os.environ.get("GLASSTORCH_FUSED", "1") != "0"  # tests flip this to compare both paths
# From this many elements a loop runs on all cores (as in cpu_fused.py). The convolutions call these
# loops per batch chunk of ~2 MB (_ops/conv.py), which stay below it: measured on the 2-core VMs, the
# parallel loops gained nothing there (BLAS already keeps both cores busy), and serial loops are safe
# to call from several Python threads at once, which numba's workqueue pool is not. Max pooling from
# SPLIT_MIN elements up instead runs the serial loop on parts of the planes in cpu_threads' helpers.
PARALLEL_MIN = 1 << 22

prange = range  # replaced by numba.prange before the kernels are compiled (numba reads globals then)
_kernels = None  # name -> compiled function, filled by _compile(); False when numba is unavailable


# ---- the loops (plain Python; numba compiles them) --------------------------------------------------

def _valid_range(j: int, d: int, pad: int, stride: int, size: int, n_out: int):
    """The output positions [lo, hi) whose tap j reads inside the input: 0 <= o*stride + j*d - pad < size."""
    first = pad - j * d  # o * stride must reach this
    lo = 0 if first <= 0 else (first + stride - 1) // stride
    last = size - 1 + pad - j * d  # and not pass this
    hi = 0 if last < 0 else last // stride + 1
    return min(lo, n_out), min(max(hi, lo), n_out)


def _im2col(x, cols, kh, kw, sh, sw, dh, dw, ph, pw, oh_n, ow_n):
    """x (N, C, H, W) -> cols (N, C*kh*kw, oh_n*ow_n), zeros where a window reaches into the padding."""
    n_n, c_n, h_n, w_n = x.shape
    taps = kh * kw
    rows = c_n * taps
    for r in prange(n_n * rows):
        n, c, i, j = r // rows, (r % rows) // taps, (r // kw) % kh, r % kw
        row = cols[n, r % rows]
        lo, hi = _valid_range(j, dw, pw, sw, w_n, ow_n)
        for oh in range(oh_n):
            base = oh * ow_n
            h = oh * sh + i * dh - ph
            if h < 0 or h >= h_n:  # a row of padding
                for ow in range(ow_n):
                    row[base + ow] = 0
                continue
            for ow in range(lo):
                row[base + ow] = 0
            if sw == 1:  # a contiguous run: the compiler turns it into a block copy
                src = x[n, c, h, lo + j * dw - pw:hi + j * dw - pw]
                dst = row[base + lo:base + hi]
                for k in range(hi - lo):
                    dst[k] = src[k]
            else:
                for ow in range(lo, hi):
                    row[base + ow] = x[n, c, h, ow * sw + j * dw - pw]
            for ow in range(hi, ow_n):
                row[base + ow] = 0


def _col2im(cols, img, kh, kw, sh, sw, dh, dw, ph, pw, oh_n, ow_n):
    """The adjoint of _im2col: img (N, C, H, W), zero on entry, gets every column added back, each
    pixel's contributions in tap order as the reference adds them."""
    n_n, c_n, h_n, w_n = img.shape
    for p in prange(n_n * c_n):
        n, c = p // c_n, p % c_n
        plane = img[n, c]
        for i in range(kh):
            for j in range(kw):
                row = cols[n, (c * kh + i) * kw + j]
                lo, hi = _valid_range(j, dw, pw, sw, w_n, ow_n)
                for oh in range(oh_n):
                    h = oh * sh + i * dh - ph
                    if h < 0 or h >= h_n:
                        continue
                    base = oh * ow_n
                    if sw == 1:  # contiguous runs on both sides: the compiler vectorises the adds
                        dst = plane[h, lo + j * dw - pw:hi + j * dw - pw]
                        src = row[base + lo:base + hi]
                        for k in range(hi - lo):
                            dst[k] += src[k]
                    else:
                        for ow in range(lo, hi):
                            plane[h, ow * sw + j * dw - pw] += row[base + ow]


def _max_pool(x, best, arg, kh, kw, sh, sw, dh, dw, ph, pw, lowest):
    """x (P, H, W) -> best, arg (P, OH, OW): each window's maximum and its tap, taps visited row by
    row; a later tap wins if strictly greater or NaN (PyTorch's rule; padding reads as `lowest`)."""
    p_n, h_n, w_n = x.shape
    oh_n, ow_n = best.shape[1], best.shape[2]
    for p in prange(p_n):
        for oh in range(oh_n):
            for ow in range(ow_n):
                b = lowest
                a = 0
                t = 0
                for i in range(kh):
                    h = oh * sh + i * dh - ph
                    for j in range(kw):
                        w = ow * sw + j * dw - pw
                        v = x[p, h, w] if 0 <= h < h_n and 0 <= w < w_n else lowest
                        if t == 0 or v > b or v != v:
                            b = v
                            a = t
                        t += 1
                best[p, oh, ow] = b
                arg[p, oh, ow] = a


def _max_pool_backward(g, arg, gx, kh, kw, sh, sw, dh, dw, ph, pw, disjoint):
    """g, arg (P, OH, OW) -> gx (P, H, W), zero on entry: each gradient added at its window's pick.
    Overlapping windows meet at a pixel; the reference adds them tap by tap, i.e. the window further
    down and right first, so positions are walked backwards to add in that same order."""
    p_n, oh_n, ow_n = g.shape
    h_n, w_n = gx.shape[1], gx.shape[2]
    for p in prange(p_n):
        for oh in range(oh_n - 1, -1, -1):
            for ow in range(ow_n - 1, -1, -1):
                t = arg[p, oh, ow]
                h = oh * sh + (t // kw) * dh - ph
                w = ow * sw + (t % kw) * dw - pw
                if 0 <= h < h_n and 0 <= w < w_n:
                    if disjoint:  # (the reference assigns, which keeps a -0.0)
                        gx[p, h, w] = g[p, oh, ow]
                    else:
                        gx[p, h, w] += g[p, oh, ow]


# ---- compilation ---------------------------------------------------------------------------------

def _compile():
    """Compile the kernels on first use (cached on disk by numba across processes); False if numba
    is missing."""
    global _kernels, prange
    numba = cpu_fused.load_numba()
    if numba is None:
        _kernels = False
        return _kernels
    prange = numba.prange
    opts = cpu_fused.NUMBA_OPTIONS  # (fastmath off: the loops add and compare exactly as the NumPy reference)
    globals()["_valid_range"] = numba.njit(**opts)(_valid_range)  # called from the kernels, compiled first
    kernels = {}
    for name, fn in (("im2col", _im2col), ("col2im", _col2im), ("max_pool", _max_pool),
                     ("max_pool_backward", _max_pool_backward)):
        kernels[name] = numba.njit(**opts)(fn)  # (prange is range in the serial build)
        kernels[name + "_par"] = numba.njit(parallel=True, **opts)(fn)
    _kernels = kernels
    return _kernels


def available() -> bool:
    """Whether compiled kernels are in use: numba importable and GLASSTORCH_FUSED is not 0."""
    if not ENABLED:
        return False
    return bool(_kernels if _kernels is not None else cpu_fused.compile_once(_compile, lambda: _kernels))


def _takes(*arrays) -> bool:
    """All C-contiguous NumPy arrays of one float dtype (float32/float64)."""
    dtype = arrays[0].dtype
    return all(type(a) is np.ndarray and a.dtype == dtype and a.flags.c_contiguous for a in arrays) and \
        dtype in (np.float32, np.float64)


def _kernel(name: str, size: int):
    return _kernels[name + "_par" if size >= PARALLEL_MIN else name]


SPLIT_MIN = 1 << 20  # from this many input elements, pooling's planes are split over the cores


def _over_planes(name: str, size: int, planes: int, *arrays_then_args):
    """Run kernel `name` on (P, ...) arrays: for a large input, contiguous ranges of the P planes go to
    the cores (backends/cpu_threads.py, the serial kernel in each); each plane is computed exactly as in
    one call, so the bits do not depend on the split. `arrays_then_args`: the kernel's three plane
    arrays, then its scalar arguments."""
    arrays, args = arrays_then_args[:3], arrays_then_args[3:]
    if size < SPLIT_MIN or size >= PARALLEL_MIN:
        _kernel(name, size)(*arrays, *args)
        return
    kernel = _kernels[name]

    def part(start, stop):
        kernel(*(a[start:stop] for a in arrays), *args)

    cpu_threads.run(part, cpu_threads.split(planes))


# ---- the entry points the ops call ---------------------------------------------------------------

def im2col(x, kernel, stride, dilation, pad, out, into=None):
    """x (N, C, H, W) -> cols (N, C*kh*kw, OH*OW), as `_ops/conv.py::im2col` lays them out, new or in
    `into`; None when the compiled path cannot take x (or into)."""
    if x.ndim != 4 or len(kernel) != 2 or not available() or not _takes(x, *(() if into is None else (into,))):
        return None
    n, c = x.shape[:2]
    shape = (n, c * kernel[0] * kernel[1], out[0] * out[1])
    cols = np.empty(shape, dtype=x.dtype) if into is None else into.reshape(shape)
    _kernel("im2col", cols.size)(x, cols, *kernel, *stride, *dilation, *pad, *out)
    return cols


def col2im(cols, size, kernel, stride, dilation, pad, out, into=None):
    """cols (N, C*kh*kw, OH*OW) -> image (N, C, H, W), the adjoint of im2col, new or in `into`; None
    when the compiled path cannot take cols (or into)."""
    if cols.ndim != 3 or len(size) != 2 or not available() or not _takes(cols, *(() if into is None else (into,))):
        return None
    n, ck = cols.shape[:2]
    shape = (n, ck // (kernel[0] * kernel[1])) + tuple(size)
    if into is None:
        img = np.zeros(shape, dtype=cols.dtype)
    else:
        img = into.reshape(shape)
        img.fill(0)
    _kernel("col2im", cols.size)(cols, img, *kernel, *stride, *dilation, *pad, *out)
    return img


def max_pool(x, kernel, stride, pad, dilation, out):
    """(best, arg) of 2-d max pooling over the last two dims of x (arg: int8 tap index per output,
    as `_ops/pooling.py` keeps it); None when the compiled path cannot take x."""
    if x.ndim < 3 or len(kernel) != 2 or kernel[0] * kernel[1] >= 128 or not available() or not _takes(x):
        return None
    lead = x.shape[:-2]
    planes = x.reshape((-1,) + x.shape[-2:])
    best = np.empty((planes.shape[0],) + tuple(out), dtype=x.dtype)
    arg = np.empty(best.shape, dtype=np.int8)
    _over_planes("max_pool", x.size, planes.shape[0], planes, best, arg, *kernel, *stride, *dilation, *pad,
                 x.dtype.type(-np.inf))
    return best.reshape(lead + tuple(out)), arg.reshape(lead + tuple(out))


def max_pool_backward(g, arg, kernel, stride, pad, dilation, x_shape):
    """The gradient of max_pool: g (..., OH, OW) at the picked taps `arg` of a zero x_shape array;
    None when the compiled path cannot take g."""
    if type(g) is not np.ndarray or g.ndim < 3 or arg.dtype != np.int8 or not available():
        return None  # (a CUDA array must not reach np.ascontiguousarray: it would be copied to the host)
    g = np.ascontiguousarray(g)
    if not _takes(g):
        return None
    gx = np.zeros(x_shape, dtype=g.dtype)
    disjoint = all(st >= d * (k - 1) + 1 for k, st, d in zip(kernel, stride, dilation))
    planes = gx.reshape((-1,) + gx.shape[-2:])
    _over_planes("max_pool_backward", gx.size, planes.shape[0], g.reshape((-1,) + g.shape[-2:]),
                 np.ascontiguousarray(arg).reshape((-1,) + arg.shape[-2:]), planes, *kernel, *stride, *dilation,
                 *pad, disjoint)
    return gx
