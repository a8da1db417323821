"""Fused, compiled optimizer updates and forward/backward chains for CPU (NumPy) arrays: the optional
extra `fast` (numba).

An optimizer step written with NumPy calls makes a dozen memory-bound passes over each parameter
(Adam: lerp, square, scale, sqrt, divide, add, ...), each on one core. Here each update is one loop
over the elements, compiled by numba, that reads every array once and writes it once, split over
the CPU cores for large parameters. The element arithmetic is PyTorch's, operation by operation and
in PyTorch's order (its `_single_tensor_*` CPU path), in the parameter's own precision, so results
match torch as closely as the NumPy reference path does (torch's vectorised kernels fuse a few
multiply-adds, which neither path can reproduce exactly).

This is the only module that imports numba, and only on first use. Without numba, or with the
environment variable GLASSTORCH_FUSED=0, every function here returns False and the optimizers run
their NumPy code (the readable reference, tested to give the same numbers).

Each optimizer function updates arrays in place and returns True, or does nothing and returns False
when it cannot take the arrays (not NumPy, not float32/float64, not contiguous, mixed dtypes).

The chains of a training step's forward and backward (ReLU's and clamp's gradient, dropout's mask
and product, cross-entropy's softmax and its gradient) are here too: each returns its result, or None
when it cannot take the arrays, and the caller then runs its NumPy code. Selections (ReLU, clamp,
dropout) give the reference's numbers bit for bit; cross-entropy's sums and exp round differently
(a few ulps).
"""
from __future__ import annotations

import math
import os
import threading

import numpy as np

ENABLED = os.environ.get("GLASSTORCH_FUSED", "1") != "0"  # tests flip this to compare both paths
# From this many elements (16 MiB of float32) a kernel runs on all cores. Measured on the shared 2-core
# VMs: waking a second thread costs more than it saves below that, and worse, OpenMP's pool keeps
# spinning after the loop and takes the core that OpenBLAS needs for the next matrix product (the
# MNIST MLP's median step went from 0.5 ms to 10+ ms with W1's 100k elements updated in parallel).
PARALLEL_MIN = 1 << 22
_CHUNK = 1 << 14  # elements per parallel work item: 64 KiB of float32 per array, an L2-cache-friendly piece
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

prange = range  # replaced by numba.prange before the kernels are compiled (numba reads globals then)
_kernels = None  # name -> compiled function, filled by _compile(); False when numba is unavailable


# ---- the element loops (plain Python; numba compiles them) -----------------------------------------
# All scalars arrive already cast to the arrays' dtype, so a float32 update stays in float32 like
# torch's. Flags are loop-invariant, so the compiler takes the branches out of the loop.

def _adam_moments(p, g, m, v, i, maximize, l2, decay, w1, omw1, b2, omb2):
    """The part Adam, AdamW, NAdam and RAdam share, for element i: the gradient (maximize, L2 decay), the
    parameter (AdamW's decoupled decay), and both moments updated in m and v. Returns (gradient, parameter)."""
    gi = -g[i] if maximize else g[i]
    pi = p[i]
    if l2 != 0:
        gi = gi + l2 * pi  # grad.add(param, alpha=weight_decay)
    if decay != 1:
        pi = pi * decay  # AdamW: param.mul_(1 - lr * weight_decay)
    mi = m[i]
    if w1 < 0.5:  # exp_avg.lerp_(grad, 1 - beta1), in torch's two forms
        mi = mi + w1 * (gi - mi)
    else:
        mi = gi - (gi - mi) * omw1
    m[i] = mi
    v[i] = v[i] * b2 + omb2 * gi * gi  # exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    return gi, pi


def _adam_span(p, g, m, v, vmax, start, stop, maximize, amsgrad, l2, decay, w1, omw1, b2, omb2, bc2_sqrt, eps,
               neg_step):
    """Adam/AdamW on elements [start, stop): torch's _single_tensor_adam, one element at a time."""
    p, g, m, v, vmax = p[start:stop], g[start:stop], m[start:stop], v[start:stop], vmax[start:stop]
    for i in range(p.size):  # (over slices from 0, not range(start, stop): that form vectorises)
        gi, pi = _adam_moments(p, g, m, v, i, maximize, l2, decay, w1, omw1, b2, omb2)
        mi, vi = m[i], v[i]
        if amsgrad:
            vi = max(vmax[i], vi) if vi == vi else vi  # torch.maximum (NaN wins)
            vmax[i] = vi
        denom = np.sqrt(vi) / bc2_sqrt + eps  # (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
        p[i] = pi + neg_step * mi / denom  # param.addcdiv_(exp_avg, denom, value=-step_size)


def _adam_chunks(p, g, m, v, vmax, maximize, amsgrad, l2, decay, w1, omw1, b2, omb2, bc2_sqrt, eps, neg_step):
    n = p.size
    for c in prange((n + _CHUNK - 1) // _CHUNK):
        _adam_span(p, g, m, v, vmax, c * _CHUNK, min(n, (c + 1) * _CHUNK), maximize, amsgrad, l2, decay, w1,
                   omw1, b2, omb2, bc2_sqrt, eps, neg_step)


def _sgd_span(p, g, buf, start, stop, maximize, l2, momentum, keep, nesterov, neg_lr):
    """SGD with momentum on elements [start, stop): torch's _single_tensor_sgd with an existing buffer
    (momentum == 0: plain SGD, `buf` unused)."""
    p, g, buf = p[start:stop], g[start:stop], buf[start:stop]
    for i in range(p.size):
        gi = -g[i] if maximize else g[i]
        if l2 != 0:
            gi = gi + l2 * p[i]  # grad.add(param, alpha=weight_decay)
        if momentum != 0:
            bi = buf[i] * momentum + keep * gi  # buf.mul_(momentum).add_(grad, alpha=1 - dampening)
            buf[i] = bi
            gi = gi + momentum * bi if nesterov else bi  # grad.add(buf, alpha=momentum) or buf
        p[i] = p[i] + neg_lr * gi  # param.add_(grad, alpha=-lr)


def _sgd_chunks(p, g, buf, maximize, l2, momentum, keep, nesterov, neg_lr):
    n = p.size
    for c in prange((n + _CHUNK - 1) // _CHUNK):
        _sgd_span(p, g, buf, c * _CHUNK, min(n, (c + 1) * _CHUNK), maximize, l2, momentum, keep, nesterov,
                  neg_lr)


def _rmsprop_span(p, g, sq, gavg, buf, start, stop, maximize, l2, alpha, oma, centered, w, omw, momentum, eps,
                  neg_lr):
    """RMSprop on elements [start, stop): torch's _single_tensor_rmsprop (gavg used when centered, buf
    when momentum > 0)."""
    p, g, sq, gavg, buf = p[start:stop], g[start:stop], sq[start:stop], gavg[start:stop], buf[start:stop]
    for i in range(p.size):
        gi = -g[i] if maximize else g[i]
        if l2 != 0:
            gi = gi + l2 * p[i]  # grad.add(param, alpha=weight_decay)
        si = sq[i] * alpha + oma * gi * gi  # square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        sq[i] = si
        if centered:
            ai = gavg[i]
            if w < 0.5:  # grad_avg.lerp_(grad, 1 - alpha)
                ai = ai + w * (gi - ai)
            else:
                ai = gi - (gi - ai) * omw
            gavg[i] = ai
            si = si + -ai * ai  # square_avg.addcmul(grad_avg, grad_avg, value=-1)
        avg = np.sqrt(si) + eps
        if momentum > 0:
            bi = buf[i] * momentum + gi / avg  # buf.mul_(momentum).addcdiv_(grad, avg)
            buf[i] = bi
            p[i] = p[i] + neg_lr * bi  # param.add_(buf, alpha=-lr)
        else:
            p[i] = p[i] + neg_lr * gi / avg  # param.addcdiv_(grad, avg, value=-lr)


def _rmsprop_chunks(p, g, sq, gavg, buf, maximize, l2, alpha, oma, centered, w, omw, momentum, eps, neg_lr):
    n = p.size
    for c in prange((n + _CHUNK - 1) // _CHUNK):
        _rmsprop_span(p, g, sq, gavg, buf, c * _CHUNK, min(n, (c + 1) * _CHUNK), maximize, l2, alpha, oma, centered,
                      w, omw, momentum, eps, neg_lr)


def _adagrad_span(p, g, total, start, stop, maximize, l2, eps, neg_clr):
    """Adagrad on elements [start, stop): torch's _single_tensor_adagrad (dense gradients)."""
    p, g, total = p[start:stop], g[start:stop], total[start:stop]
    for i in range(p.size):
        gi = -g[i] if maximize else g[i]
        if l2 != 0:
            gi = gi + l2 * p[i]  # grad.add(param, alpha=weight_decay)
        ti = total[i] + gi * gi  # state_sum.addcmul_(grad, grad, value=1)
        total[i] = ti
        p[i] = p[i] + neg_clr * gi / (np.sqrt(ti) + eps)  # param.addcdiv_(grad, std, value=-clr)


def _adagrad_chunks(p, g, total, maximize, l2, eps, neg_clr):
    n = p.size
    for c in prange((n + _CHUNK - 1) // _CHUNK):
        _adagrad_span(p, g, total, c * _CHUNK, min(n, (c + 1) * _CHUNK), maximize, l2, eps, neg_clr)


def _adadelta_span(p, g, sq, acc, start, stop, maximize, l2, rho, omr, eps, neg_lr):
    """Adadelta on elements [start, stop): torch's _single_tensor_adadelta."""
    p, g, sq, acc = p[start:stop], g[start:stop], sq[start:stop], acc[start:stop]
    for i in range(p.size):
        gi = -g[i] if maximize else g[i]
        if l2 != 0:
            gi = gi + l2 * p[i]  # grad.add(param, alpha=weight_decay)
        si = sq[i] * rho + omr * gi * gi  # square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
        sq[i] = si
        delta = np.sqrt(acc[i] + eps) / np.sqrt(si + eps) * gi  # acc_delta.add(eps).sqrt_().div_(std).mul_(grad)
        acc[i] = acc[i] * rho + omr * delta * delta  # acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        p[i] = p[i] + neg_lr * delta  # param.add_(delta, alpha=-lr)


def _adadelta_chunks(p, g, sq, acc, maximize, l2, rho, omr, eps, neg_lr):
    n = p.size
    for c in prange((n + _CHUNK - 1) // _CHUNK):
        _adadelta_span(p, g, sq, acc, c * _CHUNK, min(n, (c + 1) * _CHUNK), maximize, l2, rho, omr, eps, neg_lr)


def _adamax_span(p, g, m, ei, start, stop, maximize, l2, w1, omw1, b2, eps, neg_clr):
    """Adamax on elements [start, stop): torch's _single_tensor_adamax."""
    p, g, m, ei = p[start:stop], g[start:stop], m[start:stop], ei[start:stop]
    for i in range(p.size):
        gi = -g[i] if maximize else g[i]
        if l2 != 0:
            gi = gi + l2 * p[i]  # grad.add(param, alpha=weight_decay)
        mi = m[i]
        if w1 < 0.5:  # exp_avg.lerp_(grad, 1 - beta1)
            mi = mi + w1 * (gi - mi)
        else:
            mi = gi - (gi - mi) * omw1
        m[i] = mi
        a, b = ei[i] * b2, np.abs(gi) + eps  # torch.maximum(exp_inf.mul_(beta2), grad.abs().add_(eps))
        e = a if a != a or a > b else b  # (NaN wins)
        e = b if b != b else e
        ei[i] = e
        p[i] = p[i] + neg_clr * mi / e  # param.addcdiv_(exp_avg, exp_inf, value=-clr)


def _adamax_chunks(p, g, m, ei, maximize, l2, w1, omw1, b2, eps, neg_clr):
    n = p.size
    for c in prange((n + _CHUNK - 1) // _CHUNK):
        _adamax_span(p, g, m, ei, c * _CHUNK, min(n, (c + 1) * _CHUNK), maximize, l2, w1, omw1, b2, eps, neg_clr)


def _nadam_span(p, g, m, v, start, stop, maximize, l2, decay, w1, omw1, b2, omb2, bc2, eps, c_grad, c_avg):
    """NAdam on elements [start, stop): torch's _single_tensor_nadam, with the step's two addcdiv factors."""
    p, g, m, v = p[start:stop], g[start:stop], m[start:stop], v[start:stop]
    for i in range(p.size):
        gi, pi = _adam_moments(p, g, m, v, i, maximize, l2, decay, w1, omw1, b2, omb2)
        mi, vi = m[i], v[i]
        denom = np.sqrt(vi / bc2) + eps  # exp_avg_sq.div(bias_correction2).sqrt().add_(eps)
        pi = pi + c_grad * gi / denom  # param.addcdiv_(grad, denom, value=c_grad)
        p[i] = pi + c_avg * mi / denom  # param.addcdiv_(exp_avg, denom, value=c_avg)


def _nadam_chunks(p, g, m, v, maximize, l2, decay, w1, omw1, b2, omb2, bc2, eps, c_grad, c_avg):
    n = p.size
    for c in prange((n + _CHUNK - 1) // _CHUNK):
        _nadam_span(p, g, m, v, c * _CHUNK, min(n, (c + 1) * _CHUNK), maximize, l2, decay, w1, omw1, b2, omb2, bc2,
                    eps, c_grad, c_avg)


def _radam_span(p, g, m, v, start, stop, maximize, l2, decay, w1, omw1, b2, omb2, bc1, lr, bc2_sqrt, eps,
                rectified, rect):
    """RAdam on elements [start, stop): torch's _single_tensor_radam (rectified: rho_t > 5)."""
    p, g, m, v = p[start:stop], g[start:stop], m[start:stop], v[start:stop]
    for i in range(p.size):
        gi, pi = _adam_moments(p, g, m, v, i, maximize, l2, decay, w1, omw1, b2, omb2)
        mi, vi = m[i], v[i]
        update = mi / bc1 * lr  # bias_corrected_exp_avg * lr
        if rectified:  # * (bias_correction2 ** 0.5 / exp_avg_sq.sqrt().add_(eps)) * rect
            update = update * (bc2_sqrt / (np.sqrt(vi) + eps)) * rect
        p[i] = pi - update  # param.add_(update, alpha=-1.0)


def _radam_chunks(p, g, m, v, maximize, l2, decay, w1, omw1, b2, omb2, bc1, lr, bc2_sqrt, eps, rectified, rect):
    n = p.size
    for c in prange((n + _CHUNK - 1) // _CHUNK):
        _radam_span(p, g, m, v, c * _CHUNK, min(n, (c + 1) * _CHUNK), maximize, l2, decay, w1, omw1, b2, omb2, bc1,
                    lr, bc2_sqrt, eps, rectified, rect)


# ---- elementwise chains of the forward and backward passes ---------------------------------------
# The NumPy code of each (pointwise.py's ReLU, _losses.py's cross-entropy, functional.py's dropout) is
# the reference; these do the same arithmetic in one pass, without the temporaries between the steps.

def _relu_grad_span(g, out, r, start, stop):
    """ReLU's gradient on elements [start, stop): +0 where out <= 0, else g (also where g is inf or nan,
    so not g * mask, which gives -0 and nan there)."""
    g, out, r = g[start:stop], out[start:stop], r[start:stop]
    for i in range(r.size):
        r[i] = 0 if out[i] <= 0 else g[i]


def _relu_grad_chunks(g, out, r):
    n = r.size
    for c in prange((n + _CHUNK - 1) // _CHUNK):
        _relu_grad_span(g, out, r, c * _CHUNK, min(n, (c + 1) * _CHUNK))


def _clamp_grad_span(g, x, r, start, stop, lo, hi):
    """clamp's gradient on elements [start, stop): g where lo <= x <= hi, else +0 (nan x: +0)."""
    g, x, r = g[start:stop], x[start:stop], r[start:stop]
    for i in range(r.size):
        r[i] = g[i] if x[i] >= lo and x[i] <= hi else 0


def _clamp_grad_chunks(g, x, r, lo, hi):
    n = r.size
    for c in prange((n + _CHUNK - 1) // _CHUNK):
        _clamp_grad_span(g, x, r, c * _CHUNK, min(n, (c + 1) * _CHUNK), lo, hi)


def _dropout_span(x, u, out, start, stop, p, scale, zero):
    """Dropout on elements [start, stop): the uniform draws u become the mask in place (scale where
    u >= p, else 0: the reference's (u >= p).astype(dtype) * scale) and out = x * mask."""
    x, u, out = x[start:stop], u[start:stop], out[start:stop]
    for i in range(out.size):
        mi = scale if u[i] >= p else zero
        u[i] = mi
        out[i] = x[i] * mi


def _dropout_chunks(x, u, out, p, scale, zero):
    n = out.size
    for c in prange((n + _CHUNK - 1) // _CHUNK):
        _dropout_span(x, u, out, c * _CHUNK, min(n, (c + 1) * _CHUNK), p, scale, zero)


def _ce_rows(x, t, ignore, zero, loss, w, m, s):
    """Cross-entropy of each row of x (N, C) at its class t (N,), one pass over the row for its max and
    one for sum(exp(x - max)): loss = (log(s) - (x[t] - m)) * w with w = 0 for ignored targets (which
    read class 0), m and s kept for the backward. Returns the first row whose target is out of range,
    or -1."""
    n, c = x.shape
    for i in range(n):
        row = x[i]
        mi = row[0]
        for j in range(1, c):
            if row[j] > mi or row[j] != row[j]:  # NaN wins, as in the reference's max
                mi = row[j]
        si = zero  # (of x's dtype, so a float32 sum stays float32 as in the reference)
        for j in range(c):
            si += np.exp(row[j] - mi)
        ti = t[i]
        wi = ti != ignore
        if wi and (ti < 0 or ti >= c):
            return i
        k = ti if wi else 0
        m[i] = mi
        s[i] = si
        w[i] = wi
        loss[i] = (np.log(si) - (row[k] - mi)) * w[i]
    return -1


def _ce_grad(x, t, m, s, w, g, denom, one, gx):
    """d loss / d x (N, C): (softmax(x) - onehot(t)) * (g / denom * w), the reference's order (softmax
    e / s, minus 1 at the target, times the scale); g has one entry per row or one for all."""
    n, c = x.shape
    for i in range(n):
        gi = g[i] if g.size == n else g[0]
        sc = gi / denom * w[i]
        for j in range(c):
            p = np.exp(x[i, j] - m[i]) / s[i]
            if j == t[i]:
                p -= one  # (a typed 1: float32 - 1 would be computed in float64)
            gx[i, j] = p * sc


# ---- compilation ---------------------------------------------------------------------------------

# How every compiled CPU kernel is built (here, cpu_conv.py, cpu_rnn.py): cached on disk across
# processes; error_model="numpy": x / 0 gives inf like NumPy instead of raising, which also lets the
# loops vectorise; fastmath off, so no reassociation or contraction changes the rounding; nogil, so
# kernels can run beside BLAS in other threads.
NUMBA_OPTIONS = dict(cache=True, fastmath=False, error_model="numpy", nogil=True)


# One lock for building every module's kernels: the first convolution of a split batch asks from several
# helper threads at once (backends/cpu_threads.py), and a build wraps module-level loops that numba must
# wrap only once.
_COMPILE_LOCK = threading.RLock()


def compile_once(build, built):
    """build() (a module's _compile) under the one lock, unless built() finds that another thread has
    done it meanwhile; returns the module's kernels (False without numba)."""
    with _COMPILE_LOCK:
        done = built()
        return done if done is not None else build()


def load_numba():
    """numba, set up for glasstorch's kernels, or None when it is not installed."""
    try:
        import numba
    except ImportError:
        return None
    if "NUMBA_THREADING_LAYER" not in os.environ:
        # a pool whose idle threads sleep instead of spinning, so they leave the cores to BLAS
        numba.config.THREADING_LAYER = "workqueue"
    return numba


def _compile():
    """Compile the kernels on first use (cached on disk by numba across processes); False if numba
    is missing."""
    global _kernels, prange
    numba = load_numba()
    if numba is None:
        _kernels = False
        return _kernels
    prange = numba.prange
    opts = NUMBA_OPTIONS
    kernels = {}
    globals()["_adam_moments"] = numba.njit(**opts)(_adam_moments)  # called from the spans, compiled first
    loops = (("adam", _adam_span, _adam_chunks), ("sgd", _sgd_span, _sgd_chunks),
             ("rmsprop", _rmsprop_span, _rmsprop_chunks), ("adagrad", _adagrad_span, _adagrad_chunks),
             ("adadelta", _adadelta_span, _adadelta_chunks), ("adamax", _adamax_span, _adamax_chunks),
             ("nadam", _nadam_span, _nadam_chunks), ("radam", _radam_span, _radam_chunks),
             ("relu_grad", _relu_grad_span, _relu_grad_chunks), ("clamp_grad", _clamp_grad_span, _clamp_grad_chunks),
             ("dropout", _dropout_span, _dropout_chunks))
    for name, span, chunks in loops:
        serial = numba.njit(**opts)(span)
        # the parallel driver calls the compiled span, so both share one element loop
        globals()[span.__name__] = serial
        kernels[name] = serial
        kernels[name + "_par"] = numba.njit(parallel=True, **opts)(chunks)
    kernels["ce_rows"] = numba.njit(**opts)(_ce_rows)  # (rows of a few classes: serial)
    kernels["ce_grad"] = numba.njit(**opts)(_ce_grad)
    _kernels = kernels
    return _kernels


def available() -> bool:
    """Whether fused kernels are in use: numba importable and GLASSTORCH_FUSED is not 0."""
    if not ENABLED:
        return False
    return bool(_kernels if _kernels is not None else compile_once(_compile, lambda: _kernels))


def _flat(arrays, dtype):
    """The arrays as 1-D views (no copies), or None if any is not a writeable C-contiguous NumPy array
    of dtype (a read-only one is left to NumPy, which raises torch's error for it)."""
    out = []
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype != dtype or not (a.flags.c_contiguous and a.flags.writeable):
            return None
        out.append(a.reshape(-1))
    return out


def _run(name: str, flat: list, *args) -> None:
    if flat[0].size >= PARALLEL_MIN:
        _kernels[name + "_par"](*flat, *args)
    else:
        _kernels[name](*flat, 0, flat[0].size, *args)


# ---- the hooks the optimizers call -----------------------------------------------------------------

def adam_(param, grad, moments: list, t: float, lr: float, beta1: float, beta2: float, eps: float, *,
          maximize: bool = False, l2: float = 0.0, decay: float = 1.0) -> bool:
    """One Adam step of `param` in place, with its moments [exp_avg, exp_avg_sq] (or [...,
    max_exp_avg_sq] with amsgrad) updated in place; step number t. l2: Adam's weight decay (added
    to the gradient); decay: AdamW's factor on the parameter (1 - lr * weight_decay). All arrays have
    param's shape. Returns False (touching nothing) when the fused path cannot take them."""
    if not available():
        return False
    dtype = param.dtype
    if dtype not in (np.float32, np.float64) or grad.shape != param.shape:
        return False
    flat = _flat([param, np.ascontiguousarray(grad), *moments], dtype)
    if flat is None:
        return False
    amsgrad = len(moments) == 3
    p, g, m, v = flat[:4]
    s = dtype.type
    w1 = s(1 - beta1)  # torch turns lerp's weight into the tensor's precision, then forms 1 - weight there
    bc2_sqrt = (1 - beta2 ** t) ** 0.5
    neg_step = -(lr / (1 - beta1 ** t))
    _run("adam", [p, g, m, v, flat[4] if amsgrad else v], maximize, amsgrad, s(l2), s(decay), w1, s(1) - w1,
         s(beta2), s(1 - beta2), s(bc2_sqrt), s(eps), s(neg_step))
    return True


def adam_change_(out, grad, moments: list, t: float, lr: float, beta1: float, beta2: float, eps: float) -> bool:
    """Like adam_ with the parameter's change written into `out` instead of added to a parameter
    (0 + change is exact, so adding `out` to the parameter afterwards gives the same numbers)."""
    if not available() or type(out) is not np.ndarray:
        return False
    out.fill(0)
    return adam_(out, grad, moments, t, lr, beta1, beta2, eps)


def sgd_(param, grad, buf, lr: float, *, momentum: float = 0.0, dampening: float = 0.0, nesterov: bool = False,
         maximize: bool = False, weight_decay: float = 0.0) -> bool:
    """One SGD step of `param` in place; with momentum, `buf` (the existing momentum buffer) is
    updated in place too. Returns False (touching nothing) when the fused path cannot take them."""
    if not available():
        return False
    dtype = param.dtype
    if dtype not in (np.float32, np.float64) or grad.shape != param.shape:
        return False
    arrays = [param, np.ascontiguousarray(grad)] + ([buf] if momentum != 0 else [])
    flat = _flat(arrays, dtype)
    if flat is None:
        return False
    if momentum == 0:
        flat.append(flat[1])  # an unused stand-in for the buffer
    s = dtype.type
    _run("sgd", flat, maximize, s(weight_decay), s(momentum), s(1 - dampening), nesterov, s(-lr))
    return True


def rmsprop_(param, grad, square_avg, grad_avg, momentum_buffer, lr: float, alpha: float, eps: float, *,
             weight_decay: float = 0.0, momentum: float = 0.0, maximize: bool = False) -> bool:
    """One RMSprop step of `param` in place, its state updated in place (grad_avg: None unless
    centered; momentum_buffer: None unless momentum > 0). Returns False (touching nothing) when the
    fused path cannot take them."""
    if not available():
        return False
    dtype = param.dtype
    if dtype not in (np.float32, np.float64) or grad.shape != param.shape:
        return False
    centered = grad_avg is not None
    arrays = [param, np.ascontiguousarray(grad), square_avg]
    arrays += [grad_avg if centered else square_avg, momentum_buffer if momentum > 0 else square_avg]
    flat = _flat(arrays, dtype)
    if flat is None:
        return False
    s = dtype.type
    w = s(1 - alpha)
    _run("rmsprop", flat, maximize, s(weight_decay), s(alpha), s(1 - alpha), centered, w, s(1) - w, s(momentum),
         s(eps), s(-lr))
    return True


def adagrad_(param, grad, state_sum, clr: float, eps: float, *, weight_decay: float = 0.0,
             maximize: bool = False) -> bool:
    """One Adagrad step of `param` in place with the decayed learning rate clr, `state_sum` updated in
    place. Returns False (touching nothing) when the fused path cannot take them."""
    if not available():
        return False
    dtype = param.dtype
    if dtype not in (np.float32, np.float64) or grad.shape != param.shape:
        return False
    flat = _flat([param, np.ascontiguousarray(grad), state_sum], dtype)
    if flat is None:
        return False
    s = dtype.type
    _run("adagrad", flat, maximize, s(weight_decay), s(eps), s(-clr))
    return True


def _moments_update(name: str, param, grad, state: list, *args) -> bool:
    """Run optimizer kernel `name` on param, grad and its state arrays (each of param's shape) in place,
    with the scalar arguments `args` (numbers are cast to param's dtype, flags kept); False (touching
    nothing) when the fused path cannot take the arrays."""
    if not available():
        return False
    dtype = param.dtype
    if dtype not in _FLOATS or grad.shape != param.shape:
        return False
    flat = _flat([param, np.ascontiguousarray(grad), *state], dtype)
    if flat is None:
        return False
    s = dtype.type
    _run(name, flat, *(a if type(a) is bool else s(a) for a in args))
    return True


def _lerp_weights(beta1: float, dtype) -> tuple:
    """(w1, 1 - w1) for exp_avg.lerp_(grad, 1 - beta1): torch turns the weight into the tensor's
    precision, then forms 1 - weight there."""
    w1 = dtype.type(1 - beta1)
    return w1, dtype.type(1) - w1


def adadelta_(param, grad, square_avg, acc_delta, lr: float, rho: float, eps: float, *, weight_decay: float = 0.0,
              maximize: bool = False) -> bool:
    """One Adadelta step of `param` in place, square_avg and acc_delta too."""
    return _moments_update("adadelta", param, grad, [square_avg, acc_delta], bool(maximize), weight_decay, rho,
                           1 - rho, eps, -lr)


def adamax_(param, grad, exp_avg, exp_inf, t: float, lr: float, beta1: float, beta2: float, eps: float, *,
            weight_decay: float = 0.0, maximize: bool = False) -> bool:
    """One Adamax step of `param` in place (step number t), exp_avg and exp_inf too."""
    w1, omw1 = _lerp_weights(beta1, param.dtype)
    return _moments_update("adamax", param, grad, [exp_avg, exp_inf], bool(maximize), weight_decay, w1, omw1, beta2,
                           eps, -(lr / (1 - beta1 ** t)))


def nadam_(param, grad, exp_avg, exp_avg_sq, t: float, lr: float, beta1: float, beta2: float, eps: float,
           c_grad: float, c_avg: float, *, l2: float = 0.0, decay: float = 1.0, maximize: bool = False) -> bool:
    """One NAdam step of `param` in place (step number t), its moments too; c_grad and c_avg are the
    step's two addcdiv factors (from mu, mu_next and mu_product, computed by the caller as torch does);
    l2: weight decay into the gradient, decay: the decoupled factor (1 - lr * weight_decay)."""
    w1, omw1 = _lerp_weights(beta1, param.dtype)
    return _moments_update("nadam", param, grad, [exp_avg, exp_avg_sq], bool(maximize), l2, decay, w1, omw1, beta2,
                           1 - beta2, 1 - beta2 ** t, eps, c_grad, c_avg)


def radam_(param, grad, exp_avg, exp_avg_sq, t: float, lr: float, beta1: float, beta2: float, eps: float,
           rect: float | None, *, l2: float = 0.0, decay: float = 1.0, maximize: bool = False) -> bool:
    """One RAdam step of `param` in place (step number t), its moments too; rect: the step's rectification
    factor, None while the variance is not tractable (torch's rho_t <= 5)."""
    w1, omw1 = _lerp_weights(beta1, param.dtype)
    return _moments_update("radam", param, grad, [exp_avg, exp_avg_sq], bool(maximize), l2, decay, w1, omw1, beta2,
                           1 - beta2, 1 - beta1 ** t, lr, (1 - beta2 ** t) ** 0.5, eps, rect is not None,
                           0 if rect is None else rect)


# ---- the hooks of the forward and backward chains ---------------------------------------------------


def _takes_pair(grad, x) -> bool:
    """Whether the kernels can take a gradient and a saved array: both C-contiguous NumPy arrays of one
    float32/float64 dtype and one shape, and the kernels are available."""
    if not available() or type(grad) is not np.ndarray or grad.dtype not in _FLOATS or grad.shape != x.shape:
        return False
    if type(x) is not np.ndarray or x.dtype != grad.dtype:
        return False
    return grad.flags.c_contiguous and x.flags.c_contiguous


def relu_grad(grad, result):
    """ReLU's input gradient in one pass: where(result <= 0, +0, grad), as a new array; None when the
    fused path cannot take the arrays (not NumPy, not float32/float64, not both C-contiguous of one
    dtype and shape)."""
    if not _takes_pair(grad, result):
        return None
    out = np.empty_like(grad)
    _run("relu_grad", [grad.reshape(-1), result.reshape(-1), out.reshape(-1)])
    return out


def clamp_grad(grad, x, lo, hi):
    """clamp's input gradient in one pass: grad where lo <= x <= hi (a None bound: no bound), else +0, as
    a new array; None when the fused path cannot take the arrays (as relu_grad)."""
    if not _takes_pair(grad, x):
        return None
    s = x.dtype.type
    # the bounds rounded to x's precision, as the reference's `x >= lo` compares (NumPy keeps a Python
    # float weak), handed over as Python floats (numba takes those faster than NumPy scalars); comparing
    # float32 values with them in float64 gives the float32 comparison's answers
    lo = -math.inf if lo is None else float(s(lo))
    hi = math.inf if hi is None else float(s(hi))
    out = np.empty_like(grad)
    _run("clamp_grad", [grad.reshape(-1), x.reshape(-1), out.reshape(-1)], lo, hi)
    return out


def dropout_(x, u, p: float, scale: float):
    """Dropout in one pass: `u` (uniform draws in [0, 1), x's shape and dtype) is turned into the mask
    in place (scale where u >= p, else 0) and x * mask is returned as a new array. None (u untouched)
    when the fused path cannot take the arrays."""
    if not available() or type(x) is not np.ndarray or x.dtype not in _FLOATS or not x.flags.c_contiguous:
        return None
    if type(u) is not np.ndarray or u.dtype != x.dtype or u.shape != x.shape or not u.flags.c_contiguous:
        return None
    out = np.empty_like(x)
    s = x.dtype.type
    # p in the draws' precision, as the reference's `u >= p` compares (NumPy keeps a Python float weak)
    _run("dropout", [x.reshape(-1), u.reshape(-1), out.reshape(-1)], s(p), s(scale), s(0))
    return out


def cross_entropy_rows(x, target, ignore_index: int):
    """Per-row pieces of cross-entropy for scores x (N, C) and int64 class targets (N,), in one pass:
    (losses (N,), row weights w (N,): 0 where ignored, row max m (N,), s = sum exp(x - m) (N,)), as
    `cuda_fused.Fused.cross_entropy_rows` gives them. None when the fused path cannot take the arrays,
    or when a target is out of range (the reference raises PyTorch's error for it)."""
    if not available() or type(x) is not np.ndarray or x.dtype not in _FLOATS or x.ndim != 2:
        return None
    if type(target) is not np.ndarray or target.dtype != np.int64 or target.shape != x.shape[:1]:
        return None
    if not x.flags.c_contiguous or x.shape[1] == 0:
        return None
    n = x.shape[0]
    loss, w, m, s = (np.empty(n, x.dtype) for _ in range(4))
    if _kernels["ce_rows"](x, np.ascontiguousarray(target), ignore_index, x.dtype.type(0), loss, w, m, s) >= 0:
        return None
    if not w.any():  # every target ignored: the reference's mean of nothing (nan without a warning)
        return None
    return loss, w, m, s


def cross_entropy_grad(x, target, m, s, w, g, denom):
    """d loss / d x (N, C) in one pass: (softmax(x) - onehot(target)) * g / denom * w, from the pieces
    of cross_entropy_rows; g is 0-d (mean, sum) or (N,) (reduction 'none'). When every target is
    ignored the mean divides by 0; PyTorch's gradient is then 0, which dividing by 1 gives (w is 0)."""
    s_ = x.dtype.type
    g = np.ascontiguousarray(g, dtype=x.dtype).reshape(-1)
    gx = np.empty_like(x)
    _kernels["ce_grad"](x, np.ascontiguousarray(target), m, s, w, g, s_(max(denom, 1)), s_(1), gx)
    return gx
