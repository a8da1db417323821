"""Convolution (1-d, 2-d, any N-d) and transposed convolution, plus im2col / col2im (unfold / fold).

The whole family rests on two array routines:

- `im2col`: a strided *view* of the (padded) input holding every window, copied once into a
  matrix per sample, `cols` of shape (N, C * prod(kernel), prod(out)) (F.unfold's layout). A
  convolution is then a matrix product per sample, `weight (O, C*K) @ cols[n]`, whose result is
  already the sample's (O, *out) output: no transposes anywhere.
- `col2im`: the adjoint, adding window columns back into an image. It loops over the kernel taps
  (kh * kw of them, a handful), each a strided slice add over all positions at once.

On the CPU the batch is cut into chunks whose window matrices take about a megabyte, so that a
chunk's columns are written, multiplied and dropped while they are still in the core's cache: the
whole batch's matrix (42 MB for the MNIST net's second layer) would stream through main memory
three times (written, multiplied, kept for the backward pass) and cost more than the products. The
backward pass builds the columns again, chunk by chunk, for the weight gradient. NumPy's stacked
matmul runs the per-sample products in one call. A large batch is first split into one part per
core (backends/cpu_threads.py), each part running its own chunk loop with single-threaded BLAS: the
per-sample products are too small for BLAS's own threads to gain much, and this way the window
loops run on every core too. With the optional extra `fast` (numba), the 2-d
im2col / col2im loops and max pooling run compiled (`backends/cpu_conv.py`); the code here is the
reference they are tested against.

conv's gradient with respect to its input is a transposed convolution and vice versa, so both ops
share the same three routines: forward product, input gradient, weight gradient. Under
create_graph those are recorded as ops again, so convolutions have gradients of any order.
"""
from __future__ import annotations

import itertools
import math
import warnings

from ..backends import cpu, cpu_conv, cpu_threads
from ..amp.autocast_mode import autocast_op, user_stacklevel
from ._util import Node, Tensor, _GradMode, _make, not_implemented, record, type_word

__all__ = ["convolution", "conv_nd", "conv_transpose_nd", "unfold", "fold", "im2col", "col2im", "windows",
           "tuple_arg", "array_module", "linear_map"]


# ---- argument handling ---------------------------------------------------------------------------
def tuple_arg(value, n: int, name: str) -> tuple:
    """An int or a length-1/length-n sequence as an n-tuple of ints, as torch's conv expects."""
    if isinstance(value, int) or hasattr(value, "__index__") and not isinstance(value, (tuple, list)):
        return (int(value),) * n
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} values to match the "
                           f"convolution dimensions, but got {name}={list(value)}")
    return value


def _size(shape) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _by_x(values) -> str:
    return " x ".join(str(v) for v in values)


# ---- the two array routines ----------------------------------------------------------------------
def array_module(a):
    """The array namespace (NumPy or CuPy) of a backend array, as backends/__init__.py maps devices."""
    from ..backends import get

    return cpu.xp if isinstance(a, cpu.ndarray) else get("cuda").xp


_xp = array_module


def windows(a, kernel: tuple, stride: tuple, dilation: tuple, out: tuple, lead: tuple):
    """A strided view of `a` (*lead, *spatial) as (*lead_reordered, *kernel, *out), only ever read.

    `lead` lists which leading axes of `a` to put first, in that order (e.g. (0, 1) for N, C);
    then come the kernel taps, then the output positions. No data is copied.
    """
    nd = len(kernel)
    s = a.strides
    sp = s[len(s) - nd:]
    shape = tuple(a.shape[i] for i in lead) + tuple(kernel) + tuple(out)
    strides = (tuple(s[i] for i in lead) + tuple(st * d for st, d in zip(sp, dilation))
               + tuple(st * k for st, k in zip(sp, stride)))
    xp = _xp(a)
    return xp.lib.stride_tricks.as_strided(a, shape, strides)


def im2col(x, kernel, stride, dilation, pad_lo, pad_hi, out, into=None):
    """(N, C, *S) -> cols (N, C * prod(kernel), prod(out)): every sample's windows as columns, in a new
    array or written into `into` (the chunk loops below reuse one buffer, which stays in cache)."""
    if len(kernel) == 2:  # the compiled loop (optional extra `fast`), when it takes x
        cols = cpu_conv.im2col(x, kernel, stride, dilation, pad_lo, out, into)
        if cols is not None:
            return cols
    xp = _xp(x)
    n, c = x.shape[:2]
    if any(pad_lo) or any(pad_hi):  # zero-pad in one copy
        sp = tuple(s + lo + hi for s, lo, hi in zip(x.shape[2:], pad_lo, pad_hi))
        buf = xp.zeros((n, c) + sp, dtype=x.dtype)
        buf[(slice(None), slice(None)) + tuple(slice(lo, lo + s) for lo, s in zip(pad_lo, x.shape[2:]))] = x
        x = buf
    view = windows(x, kernel, stride, dilation, out, (0, 1))  # (N, C, *kernel, *out)
    if into is None:
        return view.copy().reshape(n, c * math.prod(kernel), math.prod(out))
    into.reshape(view.shape)[...] = view
    return into


def col2im(cols, size: tuple, kernel, stride, dilation, pad_lo, out, into=None):
    """The adjoint of im2col: cols (N, C * prod(kernel), prod(out)) -> image (N, C, *size), a new array
    or written into `into`.

    Each kernel tap adds its columns into a strided slice of a padded buffer (N, C, *padded),
    which is then cropped to `size`.
    """
    if len(kernel) == 2:  # the compiled loop (optional extra `fast`), when it takes cols
        img = cpu_conv.col2im(cols, size, kernel, stride, dilation, pad_lo, out, into)
        if img is not None:
            return img
    xp = _xp(cols)
    n = cols.shape[0]
    c = cols.shape[1] // math.prod(kernel)
    cols = cols.reshape((n, c) + tuple(kernel) + tuple(out))
    # the padded extent each tap reaches, so that every slice below is in bounds
    reach = tuple(max(lo + s, d * (k - 1) + st * (o - 1) + 1)
                  for lo, s, k, st, d, o in zip(pad_lo, size, kernel, stride, dilation, out))
    buf = xp.zeros((n, c) + reach, dtype=cols.dtype)
    every = (slice(None), slice(None))
    for tap in itertools.product(*(range(k) for k in kernel)):
        dst = tuple(slice(t * d, t * d + st * (o - 1) + 1, st) for t, d, st, o in zip(tap, dilation, stride, out))
        buf[every + dst] += cols[every + tap]
    img = buf[every + tuple(slice(lo, lo + s) for lo, s in zip(pad_lo, size))]
    if into is not None:
        into[...] = img
        return into
    return img if img.shape == buf.shape else xp.ascontiguousarray(img)


# ---- linear maps of a gradient, differentiable again ---------------------------------------------------
class LinearMapBackward(Node):
    """Records `fn(g)` for a linear array map fn (a pooling or padding gradient, say): the gradient of
    a linear map is its adjoint, applied the same way, so gradients of any order keep working."""

    def __init__(self, g, fn, adjoint):
        super().__init__((g,), ())
        self.fn, self.adjoint = fn, adjoint

    def backward(self, gg):
        return (linear_map(gg, self.adjoint, self.fn),)


def linear_map(t: Tensor, fn, adjoint) -> Tensor:
    """fn(t) on the arrays; recorded (with `adjoint` as its gradient) when a graph is being built."""
    out = _make(fn(t._data), t.device)
    if _GradMode.enabled and t._requires_grad:
        record(out, LinearMapBackward(t, fn, adjoint))
    return out


# ---- the three products ----------------------------------------------------------------------------
CHUNK_BYTES = 1 << 21  # window-matrix bytes per batch chunk on the CPU: about one core's L2 cache
SPLIT_BYTES = 1 << 20  # from this many window-matrix bytes per batch (MNIST conv1: 1.5 MB), split over the cores


def _chunks(start: int, stop: int, per_sample: int, xp) -> list:
    """Slices of the samples start..stop whose window matrices take about CHUNK_BYTES each (per_sample
    bytes per sample); all of them at once off the CPU, where one large product beats many small ones."""
    if xp is not cpu.xp:
        return [slice(start, stop)] if stop > start else []
    step = max(1, CHUNK_BYTES // max(per_sample, 1))
    return [slice(i, min(i + step, stop)) for i in range(start, stop, step)]


def _on_cores(fn, n: int, per_sample: int, xp) -> list:
    """[fn(start, stop)] over parts of a batch of n: one part per core for a large batch on the CPU
    (backends/cpu_threads.py: each part's products run single-threaded BLAS, its window loops run
    alongside), else one part. Returns the parts' results in batch order."""
    if xp is not cpu.xp or n * per_sample < SPLIT_BYTES:
        return [fn(0, n)]
    return cpu_threads.run(fn, cpu_threads.split(n))


def _grouped(a, groups: int):
    """(nb, G * k, L) -> (nb, G, k, L): a batch of matrices split into their groups (a view)."""
    return a.reshape(a.shape[0], groups, a.shape[1] // groups, a.shape[2])


def _chunk_buffer(parts: list, shape: tuple, dtype, xp):
    """One buffer (nb, *shape) for the first (largest) chunk, reused by every chunk of the loop, so that
    the same cache lines are written each time."""
    return xp.empty(((parts[0].stop - parts[0].start if parts else 0),) + tuple(shape), dtype=dtype)


def _product_into(dst, a, b) -> None:
    """dst[...] = a @ b (stacked), written in place where NumPy can (same float dtype), cast otherwise
    (NumPy's bfloat16 product is float32)."""
    xp = _xp(dst)
    if xp is cpu.xp and dst.dtype == a.dtype == b.dtype and dst.dtype.kind == "f":
        xp.matmul(a, b, out=dst)
    else:
        dst[...] = xp.matmul(a, b)


def _conv_forward(x, w, geo, bias=None):
    """conv of x (N, C, *S) with w (O, C/g, *K), plus bias (O,) if given: y (N, O, *out)."""
    xp = _xp(x)
    stride, dilation, lo, hi, out, groups = geo
    n, o = x.shape[0], w.shape[0]
    kernel, positions = tuple(w.shape[2:]), math.prod(out)
    y = xp.empty((n, o, positions), dtype=x.dtype)
    wm = w.reshape(groups, o // groups, -1)  # (G, O/G, C/G*K)
    ck = x.shape[1] * math.prod(kernel)
    per_sample = ck * positions * x.itemsize

    def fill(start, stop):  # y[start:stop], chunk by chunk
        parts = _chunks(start, stop, per_sample, xp)
        buf = _chunk_buffer(parts, (ck, positions), x.dtype, xp)
        for part in parts:
            cols = im2col(x[part], kernel, stride, dilation, lo, hi, out, buf[:part.stop - part.start])
            dst = y[part]
            _product_into(_grouped(dst, groups), wm, _grouped(cols, groups))
            if bias is not None:  # while the chunk is in cache
                dst += bias.reshape(o, 1)

    _on_cores(fill, n, per_sample, xp)
    return y.reshape((n, o) + tuple(out))


def _conv_input_grad(g, w, geo, size):
    """The adjoint of conv in its input: g (N, O, *out) -> (N, C, *size), w (O, C/g, *K)."""
    xp = _xp(g)
    stride, dilation, lo, hi, out, groups = geo
    n, o = g.shape[:2]
    kernel, positions = tuple(w.shape[2:]), math.prod(out)
    c = w.shape[1] * groups
    gx = xp.empty((n, c) + tuple(size), dtype=w.dtype)
    wt = w.reshape(groups, o // groups, -1).swapaxes(1, 2)  # (G, C/G*K, O/G)
    gf = g.reshape(n, o, positions)
    ck = c * math.prod(kernel)
    per_sample = ck * positions * w.itemsize

    def fill(start, stop):  # gx[start:stop], chunk by chunk
        parts = _chunks(start, stop, per_sample, xp)
        buf = _chunk_buffer(parts, (groups, ck // groups, positions), w.dtype, xp)
        for part in parts:
            cols = buf[:part.stop - part.start]  # (nb, G, C/G*K, L)
            _product_into(cols, wt, _grouped(gf[part], groups))
            col2im(cols.reshape(cols.shape[0], -1, positions), size, kernel, stride, dilation, lo, out, gx[part])

    _on_cores(fill, n, per_sample, xp)
    return gx


def _conv_weight_grad(image, g, w_shape, geo):
    """The weight gradient (O, C/g, *K): g (N, O, *out) times the windows of image (N, C, *S), summed
    over the batch and the positions."""
    xp = _xp(image)
    stride, dilation, lo, hi, out, groups = geo
    n, o = g.shape[:2]
    kernel, positions = tuple(w_shape[2:]), math.prod(out)
    gf = g.reshape(n, o, positions)
    # summed as its transpose (G, C/G*K, O/G): one (C/G*K, L) @ (L, O/G) product per sample and group,
    # which OpenBLAS runs ~20% faster than the (O/G, L) @ (L, C/G*K) one (it packs the wide operand as is)
    # (summed in the products' dtype: NumPy's bfloat16 product is float32)
    ck = image.shape[1] * math.prod(kernel)
    per_sample = ck * positions * image.itemsize

    def total(start, stop):  # the samples start..stop's sum, chunk by chunk (None for none)
        parts = _chunks(start, stop, per_sample, xp)
        buf = _chunk_buffer(parts, (ck, positions), image.dtype, xp)
        gw_t = None
        for part in parts:
            cols = im2col(image[part], kernel, stride, dilation, lo, hi, out, buf[:part.stop - part.start])
            term = xp.matmul(_grouped(cols, groups), _grouped(gf[part], groups).swapaxes(2, 3)).sum(0)
            gw_t = term if gw_t is None else gw_t.__iadd__(term)
        return gw_t

    sums = [t for t in _on_cores(total, n, per_sample, xp) if t is not None]
    if not sums:  # an empty batch
        gw_t = xp.zeros((groups, math.prod(w_shape[1:]), o // groups), dtype=image.dtype)
    else:  # the parts' sums added in batch order
        gw_t = sums[0]
        for t in sums[1:]:
            gw_t += t
    return xp.ascontiguousarray(gw_t.swapaxes(1, 2)).astype(image.dtype, copy=False).reshape(w_shape)


# ---- the graph node ------------------------------------------------------------------------------------
class ConvolutionBackward0(Node):
    """Gradients of a convolution or transposed convolution.

    For conv, x is the image: its gradient is the transposed conv of g, the weight's pairs g with
    x's windows. For a transposed conv the roles swap: its input gradient is a conv of g, its
    weight gradient pairs x with g's windows. The products run on the arrays; under create_graph
    the same products are recorded (`_graph_backward`), so gradients of gradients work too.
    """

    def __init__(self, x, w, b, geo, transposed):
        super().__init__((x, w, b), (x, w))
        self.geo = geo
        self.transposed = transposed
        self.x_shape = x._data.shape

    def backward(self, g):
        x, w = self.saved_tensors
        nf = self.next_functions
        need_x, need_w, need_b = (nf[i][0] is not None for i in range(3))
        gd, xd, wd = g._data, x._data, w._data
        if _GradMode.enabled and gd.dtype == xd.dtype == wd.dtype and xd.itemsize > 2:
            return self._graph_backward(g, x, w, need_x, need_w, need_b)
        half = xd.dtype.kind == "f" and xd.itemsize == 2  # float16: work in float32, as the forward did
        if half:
            xd, wd = xd.astype("float32"), wd.astype("float32")
        if gd.dtype != xd.dtype:
            gd = gd.astype(xd.dtype)
        geo = self.geo
        gx = gw = gb = None
        if not self.transposed:
            if need_x:
                gx = _conv_input_grad(gd, wd, geo, self.x_shape[2:])
            if need_w:
                gw = _conv_weight_grad(xd, gd, wd.shape, geo)
        else:  # y = convT(x): x plays the conv's output, y its input
            if need_x:
                gx = _conv_forward(gd, wd, geo)
            if need_w:
                gw = _conv_weight_grad(gd, xd, wd.shape, geo)
        if need_b:  # each sample's rows summed (contiguous), then the samples
            gb = gd.reshape(gd.shape[0], gd.shape[1], -1).sum(-1).sum(0)
        if half:
            gx, gw, gb = (a.astype("float16") if a is not None else None for a in (gx, gw, gb))
        dev = g.device
        return (_make(gx, dev) if gx is not None else None, _make(gw, dev) if gw is not None else None,
                _make(gb, dev) if gb is not None else None)

    def _graph_backward(self, g, x, w, need_x, need_w, need_b):
        """The same gradients as recorded ops (create_graph=True)."""
        geo = self.geo
        gx = gw = gb = None
        if not self.transposed:
            if need_x:
                gx = _conv_transpose_op(g, w, geo, self.x_shape[2:])
            if need_w:
                gw = _weight_grad_op(x, g, geo, tuple(w.shape))
        else:
            if need_x:
                gx = _conv_op(g, w, geo)
            if need_w:
                gw = _weight_grad_op(g, x, geo, tuple(w.shape))
        if need_b:
            gb = g.sum((0,) + tuple(range(2, g.dim())))
        return gx, gw, gb


def _conv_op(x: Tensor, w: Tensor, geo) -> Tensor:
    """conv of x by w with a resolved geometry, recorded (no bias)."""
    out = _make(_conv_forward(x._data, w._data, geo), x.device)
    if _GradMode.enabled and (x._requires_grad or w._requires_grad):
        record(out, ConvolutionBackward0(x, w, None, geo, False))
    return out


def _conv_transpose_op(x: Tensor, w: Tensor, geo, size) -> Tensor:
    """The transposed conv of x by w with a resolved geometry and output size, recorded (no bias)."""
    out = _make(_conv_input_grad(x._data, w._data, geo, size), x.device)
    if _GradMode.enabled and (x._requires_grad or w._requires_grad):
        record(out, ConvolutionBackward0(x, w, None, geo, True))
    return out


class ConvolutionBackwardBackward0(Node):
    """The weight gradient as a function of the image and the output gradient (bilinear in both):
    its own gradients are a transposed conv (for the image) and a conv (for the output gradient)."""

    def __init__(self, image, gout, geo):
        super().__init__((image, gout), (image, gout))
        self.geo = geo

    def backward(self, gw):
        image, gout = self.saved_tensors
        nf = self.next_functions
        g_image = _conv_transpose_op(gout, gw, self.geo, tuple(image.shape[2:])) if nf[0][0] is not None else None
        g_gout = _conv_op(image, gw, self.geo) if nf[1][0] is not None else None
        return g_image, g_gout


def _weight_grad_op(image: Tensor, gout: Tensor, geo, w_shape) -> Tensor:
    """sum over the batch and positions of gout times image windows: (O, C/groups, *K), recorded."""
    out = _make(_conv_weight_grad(image._data, gout._data, w_shape, geo), image.device)
    if _GradMode.enabled and (image._requires_grad or gout._requires_grad):
        record(out, ConvolutionBackwardBackward0(image, gout, geo))
    return out


# ---- checks --------------------------------------------------------------------------------------
def _check_dtypes(x: Tensor, w: Tensor, b, kernel_name: str):
    xd, wd = x._data, w._data
    if xd.dtype != wd.dtype:
        raise RuntimeError(f"expected scalar type {type_word(xd.dtype)} but found {type_word(wd.dtype)}")
    if b is not None and b._data.dtype != xd.dtype:
        raise RuntimeError(f"expected scalar type {type_word(xd.dtype)} but found {type_word(b._data.dtype)}")
    if xd.dtype.kind == "b":
        raise not_implemented(kernel_name, xd.dtype)
    if x.device != w.device or (b is not None and b.device != x.device):
        raise RuntimeError("Expected all tensors to be on the same device, but found at least two devices, "
                           f"{x.device} and {w.device if w.device != x.device else b.device}!")


def _check_params(nd, stride, padding, dilation, groups):
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got {list(dilation)}")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")


def _check_shapes(x, w, b, groups, transposed):
    sx, sw = tuple(x.shape), tuple(w.shape)
    if len(sx) != len(sw):
        raise RuntimeError(f"Expected {len(sw)}-dimensional input for {len(sw)}-dimensional weight {_size(sw)}, "
                           f"but got {len(sx)}-dimensional input of size {_size(sx)} instead")
    if not transposed and sw[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                           f"but got weight of size [{_size(sw)}] instead")
    if not transposed and sx[1] != sw[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {_size(sw)}, expected input{_size(sx)} to have "
                           f"{sw[1] * groups} channels, but got {sx[1]} channels instead")
    if transposed and sx[1] != sw[0]:
        raise RuntimeError(f"Given transposed=1, weight of size {_size(sw)}, expected input{_size(sx)} to have "
                           f"{sw[0]} channels, but got {sx[1]} channels instead")
    out_ch = sw[1] * groups if transposed else sw[0]
    if b is not None and (b.dim() != 1 or b.shape[0] != out_ch):
        what = f"Given transposed=1, weight of size {_size(sw)}, expected bias to be 1-dimensional with " \
               f"{out_ch} elements" if transposed else \
               f"Given weight of size {_size(sw)}, expected bias to be 1-dimensional with {out_ch} elements"
        raise RuntimeError(f"{what}, but got bias of size {_size(tuple(b.shape))} instead")


def _same_padding(kernel, dilation):
    """padding='same': the total pad d*(k-1), the extra one (if odd) on the high side, as torch does."""
    total = tuple(d * (k - 1) for k, d in zip(kernel, dilation))
    lo = tuple(t // 2 for t in total)
    return lo, tuple(t - l for t, l in zip(total, lo))


# ---- the ops -------------------------------------------------------------------------------------------
@autocast_op("convolution")
def convolution(x: Tensor, w: Tensor, b: Tensor | None, stride, padding, dilation, transposed: bool,
                output_padding, groups: int) -> Tensor:
    """torch.convolution on batched input (N, C, *S); `padding` may be 'same' or 'valid' (not transposed)."""
    nd = w.dim() - 2
    if nd < 1:
        raise RuntimeError(f"weight should have at least three dimensions, but got {w.dim()} dimensions")
    stride = tuple_arg(stride, nd, "stride")
    dilation = tuple_arg(dilation, nd, "dilation")
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        if padding == "same" and any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        lo = hi = (0,) * nd
        if padding == "same":
            lo, hi = _same_padding(tuple(w.shape[2:]), dilation)
            if lo != hi:
                warnings.warn("Using padding='same' with even kernel lengths and odd dilation may require a "
                              "zero-padded copy of the input be created", stacklevel=user_stacklevel())
    else:
        lo = hi = tuple_arg(padding, nd, "padding")
    output_padding = tuple_arg(output_padding, nd, "output_padding")
    _check_params(nd, stride, lo, dilation, groups)
    _check_shapes(x, w, b, groups, transposed)
    _check_dtypes(x, w, b, "slow_conv2d_cpu")
    kind = x._data.dtype
    if kind.kind in "iu" and kind.itemsize < 8:  # PyTorch's CPU kernels for ints other than int64 are few
        if transposed:
            raise not_implemented("slow_conv_transpose2d_out_cpu", kind)
        if any(d != 1 for d in dilation):
            raise not_implemented("slow_conv_dilated<>", kind)
    kernel = tuple(w.shape[2:])
    size = tuple(x.shape[2:])
    eff = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    xd, wd = x._data, w._data
    half = xd.dtype.kind == "f" and xd.itemsize == 2  # float16: compute in float32, as torch accumulates
    bd = None if b is None else b._data.astype("float32") if half else b._data
    if half:
        xd, wd = xd.astype("float32"), wd.astype("float32")
    if not transposed:
        padded = tuple(s + a + c for s, a, c in zip(size, lo, hi))
        if any(p < e for p, e in zip(padded, eff)):
            raise RuntimeError(f"Calculated padded input size per channel: ({_by_x(padded)}). Kernel size: "
                               f"({_by_x(eff)}). Kernel size can't be greater than actual input size")
        out = tuple((p - e) // s + 1 for p, e, s in zip(padded, eff, stride))
        geo = (stride, dilation, lo, hi, out, groups)
        y = _conv_forward(xd, wd, geo, bd)  # (the bias added chunk by chunk)
    else:
        if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
            raise RuntimeError(_output_padding_message(output_padding, stride, dilation))
        out = tuple((s - 1) * st - 2 * p + e + op for s, st, p, e, op in zip(size, stride, lo, eff, output_padding))
        if any(o <= 0 for o in out):
            raise RuntimeError(f"Given input size per channel: ({_by_x(size)}). Calculated output size per channel: "
                               f"({_by_x(out)}). Output size is too small")
        # the conv whose input gradient this is maps (N, Cout, *out) to (N, Cin, *size)
        hi = tuple(p + op for p, op in zip(lo, output_padding))
        geo = (stride, dilation, lo, hi, size, groups)
        y = _conv_input_grad(xd, wd, geo, out)
        if bd is not None:
            y += bd.reshape((wd.shape[1] * groups,) + (1,) * nd)
    if half:
        y = y.astype(x._data.dtype)
    result = _make(y, x.device)
    if _GradMode.enabled and (x._requires_grad or w._requires_grad or (b is not None and b._requires_grad)):
        record(result, ConvolutionBackward0(x, w, b, geo, transposed))
    return result


def _output_padding_message(op, stride, dilation) -> str:
    if len(op) == 1:  # PyTorch runs 1-d as 2-d with a height of one
        op, stride, dilation = (0,) + op, (1,) + stride, (1,) + dilation
    names = ("depth", "height", "width")[-len(op):]
    parts = ([f"output_padding_{n}: {v}" for n, v in zip(names, op)]
             + [f"stride_{n}: {v}" for n, v in zip(names, stride)]
             + [f"dilation_{n}: {v}" for n, v in zip(names, dilation)])
    return "output padding must be smaller than either stride or dilation, but got " + " ".join(parts)


def _batched(x: Tensor, nd: int, name: str):
    """(x with a batch dim, whether one was added): conv accepts unbatched (C, *S) input."""
    if x.dim() == nd + 2:
        return x, False
    if x.dim() == nd + 1:
        return x.unsqueeze(0), True
    raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but got input of "
                       f"size: {_size(tuple(x.shape))}")


def _spread(value, nd: int):
    return (int(value),) * nd if isinstance(value, int) or hasattr(value, "__index__") else value


def conv_nd(nd: int, name: str, input: Tensor, weight: Tensor, bias=None, stride=1, padding=0, dilation=1,
            groups: int = 1) -> Tensor:
    """F.conv1d / conv2d / conv3d: input (N, C_in, *S) or (C_in, *S), weight (C_out, C_in/groups, *K)."""
    x, added = _batched(input, nd, name)
    # conv{nd}d spreads a single int over its nd dims before the weight's rank is checked
    stride, dilation = _spread(stride, nd), _spread(dilation, nd)
    padding = padding if isinstance(padding, str) else _spread(padding, nd)
    y = convolution(x, weight, bias, stride, padding, dilation, False, 0, groups)
    return y.squeeze(0) if added else y


def conv_transpose_nd(nd: int, name: str, input: Tensor, weight: Tensor, bias=None, stride=1, padding=0,
                      output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """F.conv_transpose1d / 2d: input (N, C_in, *S), weight (C_in, C_out/groups, *K)."""
    if isinstance(padding, str):
        raise TypeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    x, added = _batched(input, nd, name)
    y = convolution(x, weight, bias, stride, padding, dilation, True, output_padding, groups)
    return y.squeeze(0) if added else y


# ---- unfold / fold ---------------------------------------------------------------------------------------
class Im2ColBackward0(Node):
    """unfold's gradient is fold (col2im) of the gradient; recorded as fold under create_graph."""

    def __init__(self, x, geo, size):
        super().__init__((x,), ())
        self.geo, self.size = geo, size

    def backward(self, g):
        kernel, stride, dilation, pad, out = self.geo
        if _GradMode.enabled:
            return (fold(g, self.size, kernel, dilation, pad, stride),)
        gd = g._data
        added = gd.ndim == 2
        if added:
            gd = gd[None]
        gx = col2im(gd, self.size, kernel, stride, dilation, pad, out)
        return (_make(gx[0] if added else gx, g.device),)


class Col2ImBackward0(Node):
    """fold's gradient is unfold (im2col) of the gradient; recorded as unfold under create_graph."""

    def __init__(self, x, geo, size):
        super().__init__((x,), ())
        self.geo, self.size = geo, size

    def backward(self, g):
        kernel, stride, dilation, pad, out = self.geo
        if _GradMode.enabled:
            return (unfold(g, kernel, dilation, pad, stride),)
        gd = g._data
        added = gd.ndim == 3
        gx = im2col(gd[None] if added else gd, kernel, stride, dilation, pad, pad, out)
        return (_make(gx[0] if added else gx, g.device),)


def _fold_params(kernel_size, dilation, padding, stride):
    return (tuple_arg(kernel_size, 2, "kernel_size"), tuple_arg(dilation, 2, "dilation"),
            tuple_arg(padding, 2, "padding"), tuple_arg(stride, 2, "stride"))


def _check_fold_params(kernel, dilation, padding, stride):
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: {kernel[0]} "
                           f"kernel_width: {kernel[1]}")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got dilation_height: {dilation[0]} "
                           f"dilation_width: {dilation[1]}")
    if any(p < 0 for p in padding):
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {padding[0]} "
                           f"pad_width: {padding[1]}")
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: {stride[0]} "
                           f"stride_width: {stride[1]}")


def _blocks(size, kernel, dilation, padding, stride) -> tuple:
    """How many sliding blocks fit along each spatial dim."""
    return tuple((s + 2 * p - d * (k - 1) - 1) // st + 1
                 for s, p, d, k, st in zip(size, padding, dilation, kernel, stride))


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """F.unfold: (N, C, H, W) or (C, H, W) -> (N, C*kh*kw, L), the sliding blocks as columns."""
    kernel, dilation, padding, stride = _fold_params(kernel_size, dilation, padding, stride)
    if input.dim() < 3:  # PyTorch reads the size of dim 2 first
        d = max(input.dim(), 1)
        raise IndexError(f"Dimension out of range (expected to be in range of [{-d}, {d - 1}], but got 2)")
    if input.dim() != 4 and input.dim() != 3:
        raise NotImplementedError(f"Input Error: Only 3D or 4D input Tensors are supported (got {input.dim()}D)")
    _check_fold_params(kernel, dilation, padding, stride)
    added = input.dim() == 3  # unbatched: computed with a batch of one, still one Im2Col node
    xd = input._data[None] if added else input._data
    size = tuple(xd.shape[2:])
    out = _blocks(size, kernel, dilation, padding, stride)
    if any(o < 1 for o in out):
        raise RuntimeError(f"Given input with spatial size {size}, kernel_size={kernel}, dilation={dilation}, "
                           f"padding={padding}, calculated shape of the array of sliding blocks as {out}, but its "
                           "components must be at least one.")
    yd = im2col(xd, kernel, stride, dilation, padding, padding, out)
    if xd.dtype.kind in "iu":
        raise not_implemented("im2col_out_cpu", xd.dtype)
    y = _make(yd[0] if added else yd, input.device)
    if _GradMode.enabled and input._requires_grad:
        record(y, Im2ColBackward0(input, (kernel, stride, dilation, padding, out), size))
    return y


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """F.fold: (N, C*kh*kw, L) or (C*kh*kw, L) -> (N, C, *output_size), summing overlapping blocks."""
    size = tuple_arg(output_size, 2, "output_size")
    kernel, dilation, padding, stride = _fold_params(kernel_size, dilation, padding, stride)
    if input.dim() not in (2, 3):
        raise NotImplementedError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported "
                                  f"(got {input.dim()}D)")
    _check_fold_params(kernel, dilation, padding, stride)
    added = input.dim() == 2
    xd = input._data[None] if added else input._data
    n, ck, length = xd.shape
    kk = kernel[0] * kernel[1]
    if ck % kk:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={ck} and kernel_size={kernel}.")
    out = _blocks(size, kernel, dilation, padding, stride)
    if out[0] * out[1] != length:
        raise RuntimeError(f"Given output_size={size}, kernel_size={kernel}, dilation={dilation}, padding={padding}, "
                           f"stride={stride}, expected size of input's dimension 2 to match the calculated number of "
                           f"sliding blocks {out[0]} * {out[1]} = {out[0] * out[1]}, but got input.size(2)={length}.")
    if xd.dtype.kind in "iu":
        raise not_implemented("col2im_out_cpu", xd.dtype)
    yd = col2im(xd, size, kernel, stride, dilation, padding, out)
    y = _make(yd[0] if added else yd, input.device)
    if _GradMode.enabled and input._requires_grad:
        record(y, Col2ImBackward0(input, (kernel, stride, dilation, padding, out), size))
    return y
