"""Fused, compiled optimizer updates for CPU (NumPy) arrays: the optional extra `fast` (numba).

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

Each public function updates arrays in place and returns True, or does nothing and returns False
when it cannot take the arrays (not NumPy, not float32/float64, not contiguous, mixed dtypes).
"""
from __future__ import annotations

import os

import numpy as np

ENABLED = os.environ.get("GLASSTORCH_FUSED", "1") != "0"  # tests flip this to compare both paths
# From this many elements (16 MiB of float32) a kernel runs on all cores. Measured on the shared 2-core
# VMs: waking a second thread costs more than it saves below that, and worse, OpenMP's pool keeps
# spinning after the loop and takes the core that OpenBLAS needs for the next matrix product (the
# MNIST MLP's median step went from 0.5 ms to 10+ ms with W1's 100k elements updated in parallel).
PARALLEL_MIN = 1 << 22
_CHUNK = 1 << 14  # elements per parallel work item: 64 KiB of float32 per array, an L2-cache-friendly piece

prange = range  # replaced by numba.prange before the kernels are compiled (numba reads globals then)
_kernels = None  # name -> compiled function, filled by _compile(); False when numba is unavailable


# ---- the element loops (plain Python; numba compiles them) -----------------------------------------
# All scalars arrive already cast to the arrays' dtype, so a float32 update stays in float32 like
# torch's. Flags are loop-invariant, so the compiler takes the branches out of the loop.

def _adam_span(p, g, m, v, vmax, start, stop, maximize, amsgrad, l2, decay, w1, omw1, b2, omb2, bc2_sqrt, eps,
               neg_step):
    """Adam/AdamW on elements [start, stop): torch's _single_tensor_adam, one element at a time."""
    p, g, m, v, vmax = p[start:stop], g[start:stop], m[start:stop], v[start:stop], vmax[start:stop]
    for i in range(p.size):  # (over slices from 0, not range(start, stop): that form vectorises)
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
        vi = v[i] * b2 + omb2 * gi * gi  # exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        v[i] = vi
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


# ---- compilation ---------------------------------------------------------------------------------

def _compile():
    """Compile the kernels on first use (cached on disk by numba across processes); False if numba
    is missing."""
    global _kernels, prange
    try:
        import numba
    except ImportError:
        _kernels = False
        return _kernels
    prange = numba.prange
    if "NUMBA_THREADING_LAYER" not in os.environ:
        # a pool whose idle threads sleep instead of spinning, so they leave the cores to BLAS
        numba.config.THREADING_LAYER = "workqueue"
    # error_model="numpy": x / 0 gives inf like NumPy instead of raising, which also lets the loops
    # vectorise; fastmath stays off so no reassociation or contraction changes the rounding.
    opts = dict(cache=True, fastmath=False, error_model="numpy", nogil=True)
    kernels = {}
    loops = (("adam", _adam_span, _adam_chunks), ("sgd", _sgd_span, _sgd_chunks),
             ("rmsprop", _rmsprop_span, _rmsprop_chunks), ("adagrad", _adagrad_span, _adagrad_chunks))
    for name, span, chunks in loops:
        serial = numba.njit(**opts)(span)
        # the parallel driver calls the compiled span, so both share one element loop
        globals()[span.__name__] = serial
        kernels[name] = serial
        kernels[name + "_par"] = numba.njit(parallel=True, **opts)(chunks)
    _kernels = kernels
    return _kernels


def available() -> bool:
    """Whether fused kernels are in use: numba importable and GLASSTORCH_FUSED is not 0."""
    if not ENABLED:
        return False
    return bool(_kernels if _kernels is not None else _compile())


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
