"""Fused CUDA kernels (CuPy ElementwiseKernel / ReductionKernel): one launch where NumPy-style code makes many.

On a GPU each array call is a kernel launch that costs ~15-30 us of host time whatever its size, so an
optimizer step written as a dozen array calls per parameter is bound by launches, not by memory. Here
each optimizer update is ONE kernel per parameter (torch's `_single_tensor_*` arithmetic, operation by
operation and in its order, in the parameter's own precision, as `cpu_fused.py` does for the CPU);
cross-entropy is three launches forward (row max, sum of exponentials, per-row losses) before the
reduction and one backward, with no host synchronisation at all (no `.item()`, no data-dependent
shapes: ignored targets weigh 0, out-of-range targets give NaN losses where torch's CUDA kernel fails a
device-side assertion); nll_loss, mse_loss and ReLU's gradient are one launch each way.

The kernel bodies keep to the small C subset that `fake_kernels.py` can also run with NumPy (see its
docstring), so the test-only fake CUDA device executes exactly this text and tests check it against
the reference code and torch without a GPU. Kernels are compiled with --fmad=false: no multiply-add
contraction, so sqrt/division kernels give the same bits on the GPU as on the fake device.

`Fused(xp)` binds the kernels to an array module (CuPy, or the fake device's namespace); the kernels are
built on first use and cached. Each public method updates arrays in place and returns True, or does
nothing and returns False when it cannot take the arrays (another array type, not float32/float64,
shapes that differ, an array module without kernels, or GLASSTORCH_FUSED=0), so the caller runs its
reference code instead.
"""
from __future__ import annotations

import os

import numpy as np

ENABLED = os.environ.get("GLASSTORCH_FUSED", "1") != "0"  # tests flip this to compare both paths
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_OPTIONS = ("--fmad=false",)
# torch.maximum (NaN wins), which C's fmax is not, and C's ternary as a function; fake_kernels maps
# them to np.maximum and np.where
_PREAMBLE = """
template <typename T> __device__ T nan_max(T a, T b) { return (a != a || b != b) ? a + b : (a > b ? a : b); }
template <typename T> __device__ T choose(int c, T a, T b) { return c ? a : b; }
"""


# ---- kernel texts: torch's element arithmetic, one statement per torch op -----------------------------------
# Flags that torch tests outside the element loop (maximize, weight decay, nesterov, ...) choose the text
# here, in Python, so each variant is its own small kernel without branches.

def _grad(maximize: bool, l2: bool) -> str:
    text = "T gi = -g;" if maximize else "T gi = g;"
    if l2:
        text += " gi = gi + l2 * p;"  # grad.add(param, alpha=weight_decay)
    return text


def _lerp(target: str, end: str, small_weight: bool, w: str, omw: str) -> str:
    """target.lerp_(end, w) in torch's two forms (exact at w = 1)."""
    if small_weight:
        return f"{target} = {target} + {w} * ({end} - {target});"
    return f"{target} = {end} - ({end} - {target}) * {omw};"


def _sgd_text(maximize: bool, l2: bool, momentum: bool, nesterov: bool) -> str:
    text = _grad(maximize, l2)
    if momentum:
        text += " buf = buf * momentum + keep * gi;"  # buf.mul_(momentum).add_(grad, alpha=1 - dampening)
        text += " gi = gi + momentum * buf;" if nesterov else " gi = buf;"
    return text + " p = p + neg_lr * gi;"  # param.add_(grad, alpha=-lr)


def _adam_text(maximize: bool, l2: bool, decay: bool, small_w1: bool, amsgrad: bool) -> str:
    text = _grad(maximize, l2)
    if decay:
        text += " p = p * decay;"  # AdamW: param.mul_(1 - lr * weight_decay)
    text += " " + _lerp("m", "gi", small_w1, "w1", "omw1")  # exp_avg.lerp_(grad, 1 - beta1)
    text += " v = v * b2 + omb2 * gi * gi;"  # exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    if amsgrad:
        text += " vmax = nan_max(vmax, v); T vd = vmax;"  # torch.maximum(max_exp_avg_sqs, exp_avg_sq)
    else:
        text += " T vd = v;"
    text += " T denom = sqrt(vd) / bc2_sqrt + eps;"  # (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
    return text + " p = p + neg_step * m / denom;"  # param.addcdiv_(exp_avg, denom, value=-step_size)


def _rmsprop_text(maximize: bool, l2: bool, centered: bool, small_w: bool, momentum: bool) -> str:
    text = _grad(maximize, l2)
    text += " sq = sq * alpha + oma * gi * gi; T s = sq;"  # square_avg.mul_(alpha).addcmul_(grad, grad, 1 - alpha)
    if centered:
        text += " " + _lerp("gavg", "gi", small_w, "oma", "alpha_t")  # grad_avg.lerp_(grad, 1 - alpha)
        text += " s = s + -gavg * gavg;"  # square_avg.addcmul(grad_avg, grad_avg, value=-1)
    text += " T avg = sqrt(s) + eps;"
    if momentum:  # buf.mul_(momentum).addcdiv_(grad, avg); param.add_(buf, alpha=-lr)
        return text + " buf = buf * momentum + gi / avg; p = p + neg_lr * buf;"
    return text + " p = p + neg_lr * gi / avg;"  # param.addcdiv_(grad, avg, value=-lr)


def _adagrad_text(maximize: bool, l2: bool) -> str:
    return (_grad(maximize, l2) + " total = total + gi * gi;"  # state_sum.addcmul_(grad, grad, value=1)
            " p = p + neg_clr * gi / (sqrt(total) + eps);")  # param.addcdiv_(grad, std, value=-clr)


def _adadelta_text(maximize: bool, l2: bool) -> str:
    return (_grad(maximize, l2)
            + " sq = sq * rho + omr * gi * gi;"  # square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
            " T sd = sqrt(sq + eps);"  # std = square_avg.add(eps).sqrt_()
            " T delta = sqrt(acc + eps) / sd * gi;"  # acc_delta.add(eps).sqrt_().div_(std).mul_(grad)
            " acc = acc * rho + omr * delta * delta;"  # acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
            " p = p + neg_lr * delta;")  # param.add_(delta, alpha=-lr)


def _adamax_text(maximize: bool, l2: bool, small_w1: bool) -> str:
    return (_grad(maximize, l2) + " " + _lerp("m", "gi", small_w1, "w1", "omw1")  # exp_avg.lerp_(grad, 1 - beta1)
            + " ei = nan_max(ei * b2, fabs(gi) + eps);"  # torch.maximum(exp_inf.mul_(beta2), grad.abs().add_(eps))
            " p = p + neg_clr * m / ei;")  # param.addcdiv_(exp_avg, exp_inf, value=-clr)


def _nadam_text(maximize: bool, l2: bool, decay: bool, small_w1: bool) -> str:
    text = _grad(maximize, l2) + (" p = p * decay;" if decay else "")  # param.mul_(1 - lr * weight_decay)
    text += " " + _lerp("m", "gi", small_w1, "w1", "omw1")  # exp_avg.lerp_(grad, 1 - beta1)
    text += " v = v * b2 + omb2 * gi * gi;"  # exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    text += " T denom = sqrt(v / bc2) + eps;"  # exp_avg_sq.div(bias_correction2).sqrt().add_(eps)
    # param.addcdiv_(grad, denom, value=c_grad); param.addcdiv_(exp_avg, denom, value=c_avg)
    return text + " p = p + c_grad * gi / denom; p = p + c_avg * m / denom;"


def _radam_text(maximize: bool, l2: bool, decay: bool, small_w1: bool, rectified: bool) -> str:
    text = _grad(maximize, l2) + (" p = p * decay;" if decay else "")  # param.mul_(1 - lr * weight_decay)
    text += " " + _lerp("m", "gi", small_w1, "w1", "omw1")  # exp_avg.lerp_(grad, 1 - beta1)
    text += " v = v * b2 + omb2 * gi * gi;"  # exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    text += " T update = m / bc1 * lr;"  # bias_corrected_exp_avg * lr
    if rectified:  # * (bias_correction2 ** 0.5 / exp_avg_sq.sqrt().add_(eps)) * rect
        text += " update = update * (bc2_sqrt / (sqrt(v) + eps)) * rect;"
    return text + " p = p - update;"  # param.add_(update, alpha=-1.0)


def _rprop_text(maximize: bool) -> str:
    return (("T gi = -g;" if maximize else "T gi = g;") + " T zero = 0; T one = 1; T prod = gi * prev;"
            # the step size's factor from sign(grad * prev): etaplus, etaminus or 1 (torch's sign(nan) is 0)
            " T f = choose(prod > zero, etaplus, choose(prod < zero, etaminus, one));"
            " T st = step * f; step = choose(st < smin, smin, choose(st > smax, smax, st));"  # .clamp_ (nan stays)
            " gi = choose(f == etaminus, zero, gi);"  # grad[sign.eq(etaminus)] = 0
            " T sg = choose(gi > zero, one, choose(gi < zero, -one, zero));"  # grad.sign()
            " p = p + -one * sg * step; prev = gi;")  # param.addcmul_(grad.sign(), step_size, value=-1)


def _asgd_text(maximize: bool, l2: bool, averaging: bool) -> str:
    text = _grad(maximize, l2) + " p = p * decay; p = p + neg_eta * gi;"  # mul_(1 - lambd * eta); add_(grad, -eta)
    return text + (" ax = ax + (p - ax) * mu;" if averaging else " ax = p;")  # ax.add_(param.sub(ax).mul_(mu))


# cross-entropy with class-index targets, rows of x (N, C): -log_softmax(x)[t] = log(sum exp(x - max)) - (x[t] - max)
_TARGETS = (
    "int valid = t != ignore;"  # ignored targets weigh 0 (and read class 0)
    " ptrdiff_t k = t * valid;"
    " int bad = (k < 0) + (k >= C);"  # out of range: torch's CUDA kernel asserts; here the loss is NaN
    " k = k * (1 - bad);"
    " T nan_if_bad = bad; nan_if_bad = sqrt(-nan_if_bad);"  # sqrt(-1) = NaN; sqrt(-0) = -0 adds nothing
    " T zero = 0; w = valid;"
)
_CE_ROWS = _TARGETS + " loss = choose(valid, log(s) - (x[i * C + k] - m), zero) + nan_if_bad;"
# nll_loss: -x[n, target[n]]
_NLL_ROWS = _TARGETS + " loss = choose(valid, -x[i * C + k], zero) + nan_if_bad;"
# with class weights cw (C,): a row weighs cw[target] (0 where ignored) and its loss is multiplied by it,
# after the difference as the reference does (losses *= weight)
_WEIGHTED = " w *= cw[k];"
_CE_ROWS_WEIGHTED = (_TARGETS + _WEIGHTED
                     + " loss = choose(valid, (log(s) - (x[i * C + k] - m)) * w, zero) + nan_if_bad;")
_NLL_ROWS_WEIGHTED = _TARGETS + _WEIGHTED + " loss = choose(valid, -x[i * C + k] * w, zero) + nan_if_bad;"
# d loss / dx = (softmax - onehot) * g * w / denom, the reference's order: p = e / s; p[t] -= 1; p *= scale.
# denom (a count of rows or a sum of class weights, or 1) is 0 when no target counts: then torch's gradient
# is 0, not 0 * inf, and the reference divides by 1 instead (a sum of weights may lie between 0 and 1)
_NONZERO_DENOM = " T one = 1; T zero = 0; T d = choose(denom == zero, one, denom);"
_CE_GRAD = ("T hit = i % C == t;" + _NONZERO_DENOM + " T sc = g / d * w;"
            " gx = (exp(x - m) / s - hit) * sc;")
# nll_loss: -g * w / denom at each target, +0.0 elsewhere (as torch's zeros with a scatter)
_NLL_GRAD = _NONZERO_DENOM + " T sc = g / d * w; gx = choose(i % C == t, -sc, zero);"


# mse_loss: (x - t)^2 per element, and its gradient 2 (x - t) g / n (scale = 2 / n or 2), the reference's order
_SQUARED_ERROR = "T d = x - t; y = d * d;"
_MSE_GRAD = "T gs = g * scale; gx = (x - t) * gs;"


# ReLU's gradient, torch's threshold_backward: where(out <= 0, +0.0, g) (not g * mask, which gives -0.0 and nan)
_RELU_GRAD = "T zero = 0; gx = choose(r <= zero, zero, g);"


class Fused:
    """The fused kernels for one array module (CuPy, or the fake device's NumPy stand-in)."""

    def __init__(self, xp) -> None:
        self.xp = xp
        self._kernels: dict = {}

    def available(self) -> bool:
        """Whether fused kernels are in use: the array module builds kernels and GLASSTORCH_FUSED is not 0."""
        return ENABLED and self.xp is not None and hasattr(self.xp, "ElementwiseKernel")

    # ---- building and caching ---------------------------------------------------------------------------------
    def _elementwise(self, key: tuple, in_params: str, out_params: str, body: str):
        kernel = self._kernels.get(key)
        if kernel is None:
            kernel = self._kernels[key] = self.xp.ElementwiseKernel(
                in_params, out_params, body, "glasstorch_" + key[0], preamble=_PREAMBLE, options=_OPTIONS)
        return kernel

    def _reduction(self, key: tuple, in_params: str, out_param: str, map_expr: str, post: str):
        kernel = self._kernels.get(key)
        if kernel is None:
            kernel = self._kernels[key] = self.xp.ReductionKernel(
                in_params, out_param, map_expr, "a + b", post, "0", "glasstorch_" + key[0], options=_OPTIONS)
        return kernel

    def _takes(self, param, *arrays) -> bool:
        """Whether the fused path can update `param` with `arrays`: our array type, float32/64, one
        dtype and shape (strides may differ: a kernel reads through them)."""
        if not self.available() or type(param) is not self.xp.ndarray or param.dtype not in _FLOATS:
            return False
        return all(type(a) is self.xp.ndarray and a.dtype == param.dtype and a.shape == param.shape
                   for a in arrays)

    # ---- optimizers -------------------------------------------------------------------------------------------
    def sgd_(self, param, grad, buf, lr: float, *, momentum: float = 0.0, dampening: float = 0.0,
             nesterov: bool = False, maximize: bool = False, weight_decay: float = 0.0) -> bool:
        """One SGD step of `param` in place; with momentum, `buf` (the existing momentum buffer) too."""
        has_momentum = momentum != 0
        if not self._takes(param, grad, *([buf] if has_momentum else [])):
            return False
        key = ("sgd", maximize, weight_decay != 0, has_momentum, nesterov)
        s = param.dtype.type
        ins = "T g, T l2, T momentum, T keep, T neg_lr"
        if has_momentum:
            k = self._elementwise(key, ins, "T p, T buf", _sgd_text(*key[1:]))
            k(grad, s(weight_decay), s(momentum), s(1 - dampening), s(-lr), param, buf)
        else:
            k = self._elementwise(key, ins, "T p", _sgd_text(*key[1:]))
            k(grad, s(weight_decay), s(momentum), s(1 - dampening), s(-lr), param)
        return True

    def adam_(self, param, grad, moments: list, t: float, lr: float, beta1: float, beta2: float, eps: float, *,
              maximize: bool = False, l2: float = 0.0, decay: float = 1.0) -> bool:
        """One Adam/AdamW step of `param` in place with its moments [exp_avg, exp_avg_sq(, max_exp_avg_sq)],
        step number t; l2: Adam's weight decay, decay: AdamW's factor (1 - lr * weight_decay)."""
        if not self._takes(param, grad, *moments):
            return False
        s = param.dtype.type
        w1 = s(1 - beta1)  # torch turns lerp's weight into the tensor's precision, then forms 1 - w there
        amsgrad = len(moments) == 3
        key = ("adam", maximize, l2 != 0, decay != 1, bool(w1 < 0.5), amsgrad)
        outs = "T p, T m, T v" + (", T vmax" if amsgrad else "")
        k = self._elementwise(key, "T g, T l2, T decay, T w1, T omw1, T b2, T omb2, T bc2_sqrt, T eps, T neg_step",
                              outs, _adam_text(*key[1:]))
        k(grad, s(l2), s(decay), w1, s(1) - w1, s(beta2), s(1 - beta2), s((1 - beta2 ** t) ** 0.5), s(eps),
          s(-(lr / (1 - beta1 ** t))), param, *moments)
        return True

    def adam_change_(self, out, grad, moments: list, t: float, lr: float, beta1: float, beta2: float,
                     eps: float) -> bool:
        """Like adam_ with the parameter's change written into `out` (which is zeroed first)."""
        if not self._takes(out, grad, *moments):
            return False
        out.fill(0)
        return self.adam_(out, grad, moments, t, lr, beta1, beta2, eps)

    def rmsprop_(self, param, grad, square_avg, grad_avg, momentum_buffer, lr: float, alpha: float, eps: float, *,
                 weight_decay: float = 0.0, momentum: float = 0.0, maximize: bool = False) -> bool:
        """One RMSprop step of `param` in place, its state too (grad_avg: None unless centered;
        momentum_buffer: None unless momentum > 0)."""
        centered, has_momentum = grad_avg is not None, momentum > 0
        state = [square_avg] + ([grad_avg] if centered else []) + ([momentum_buffer] if has_momentum else [])
        if not self._takes(param, grad, *state):
            return False
        s = param.dtype.type
        oma = s(1 - alpha)  # lerp's weight 1 - alpha in the tensor's precision, and 1 - weight from it
        key = ("rmsprop", maximize, weight_decay != 0, centered, bool(oma < 0.5), has_momentum)
        outs = "T p, T sq" + (", T gavg" if centered else "") + (", T buf" if has_momentum else "")
        k = self._elementwise(key, "T g, T l2, T alpha, T oma, T alpha_t, T momentum, T eps, T neg_lr", outs,
                              _rmsprop_text(*key[1:]))
        k(grad, s(weight_decay), s(alpha), oma, s(1) - oma, s(momentum), s(eps), s(-lr), param, *state)
        return True

    def adagrad_(self, param, grad, state_sum, clr: float, eps: float, *, weight_decay: float = 0.0,
                 maximize: bool = False) -> bool:
        """One Adagrad step of `param` in place with the decayed learning rate clr, `state_sum` too."""
        if not self._takes(param, grad, state_sum):
            return False
        s = param.dtype.type
        key = ("adagrad", maximize, weight_decay != 0)
        k = self._elementwise(key, "T g, T l2, T eps, T neg_clr", "T p, T total", _adagrad_text(*key[1:]))
        k(grad, s(weight_decay), s(eps), s(-clr), param, state_sum)
        return True

    def adadelta_(self, param, grad, square_avg, acc_delta, lr: float, rho: float, eps: float, *,
                  weight_decay: float = 0.0, maximize: bool = False) -> bool:
        """One Adadelta step of `param` in place, square_avg and acc_delta too."""
        if not self._takes(param, grad, square_avg, acc_delta):
            return False
        s = param.dtype.type
        key = ("adadelta", maximize, weight_decay != 0)
        k = self._elementwise(key, "T g, T l2, T rho, T omr, T eps, T neg_lr", "T p, T sq, T acc",
                              _adadelta_text(*key[1:]))
        k(grad, s(weight_decay), s(rho), s(1 - rho), s(eps), s(-lr), param, square_avg, acc_delta)
        return True

    def adamax_(self, param, grad, exp_avg, exp_inf, t: float, lr: float, beta1: float, beta2: float, eps: float, *,
                weight_decay: float = 0.0, maximize: bool = False) -> bool:
        """One Adamax step of `param` in place (step number t), exp_avg and exp_inf too."""
        if not self._takes(param, grad, exp_avg, exp_inf):
            return False
        s = param.dtype.type
        w1 = s(1 - beta1)
        key = ("adamax", maximize, weight_decay != 0, bool(w1 < 0.5))
        k = self._elementwise(key, "T g, T l2, T w1, T omw1, T b2, T eps, T neg_clr", "T p, T m, T ei",
                              _adamax_text(*key[1:]))
        k(grad, s(weight_decay), w1, s(1) - w1, s(beta2), s(eps), s(-(lr / (1 - beta1 ** t))), param, exp_avg,
          exp_inf)
        return True

    def nadam_(self, param, grad, exp_avg, exp_avg_sq, t: float, lr: float, beta1: float, beta2: float, eps: float,
               c_grad: float, c_avg: float, *, l2: float = 0.0, decay: float = 1.0, maximize: bool = False) -> bool:
        """One NAdam step of `param` in place (step number t), its moments too; c_grad and c_avg are the
        step's two addcdiv factors (from mu, mu_next and mu_product, computed by the caller as torch
        does); l2: weight decay into the gradient, decay: the decoupled factor (1 - lr * weight_decay)."""
        if not self._takes(param, grad, exp_avg, exp_avg_sq):
            return False
        s = param.dtype.type
        w1 = s(1 - beta1)
        key = ("nadam", maximize, l2 != 0, decay != 1, bool(w1 < 0.5))
        k = self._elementwise(key, "T g, T l2, T decay, T w1, T omw1, T b2, T omb2, T bc2, T eps, T c_grad, T c_avg",
                              "T p, T m, T v", _nadam_text(*key[1:]))
        k(grad, s(l2), s(decay), w1, s(1) - w1, s(beta2), s(1 - beta2), s(1 - beta2 ** t), s(eps), s(c_grad),
          s(c_avg), param, exp_avg, exp_avg_sq)
        return True

    def radam_(self, param, grad, exp_avg, exp_avg_sq, t: float, lr: float, beta1: float, beta2: float, eps: float,
               rect: float | None, *, l2: float = 0.0, decay: float = 1.0, maximize: bool = False) -> bool:
        """One RAdam step of `param` in place (step number t), its moments too; rect: the step's
        rectification factor, None while the variance is not tractable (torch's rho_t <= 5)."""
        if not self._takes(param, grad, exp_avg, exp_avg_sq):
            return False
        s = param.dtype.type
        w1 = s(1 - beta1)
        key = ("radam", maximize, l2 != 0, decay != 1, bool(w1 < 0.5), rect is not None)
        k = self._elementwise(key, "T g, T l2, T decay, T w1, T omw1, T b2, T omb2, T bc1, T lr, T bc2_sqrt, T eps, "
                              "T rect", "T p, T m, T v", _radam_text(*key[1:]))
        k(grad, s(l2), s(decay), w1, s(1) - w1, s(beta2), s(1 - beta2), s(1 - beta1 ** t), s(lr),
          s((1 - beta2 ** t) ** 0.5), s(eps), s(0 if rect is None else rect), param, exp_avg, exp_avg_sq)
        return True

    def rprop_(self, param, grad, prev, step_size, etaminus: float, etaplus: float, step_size_min: float,
               step_size_max: float, *, maximize: bool = False) -> bool:
        """One Rprop step of `param` in place, prev and step_size too (torch's masks as selects)."""
        if not self._takes(param, grad, prev, step_size):
            return False
        s = param.dtype.type
        k = self._elementwise(("rprop", maximize), "T g, T etaminus, T etaplus, T smin, T smax", "T p, T prev, T step",
                              _rprop_text(maximize))
        k(grad, s(etaminus), s(etaplus), s(step_size_min), s(step_size_max), param, prev, step_size)
        return True

    def asgd_(self, param, grad, ax, eta: float, mu: float, lambd: float, *, weight_decay: float = 0.0,
              maximize: bool = False) -> bool:
        """One ASGD step of `param` in place with this step's eta and mu (the caller keeps and updates
        them, as torch keeps them in 0-d tensors), the average `ax` too."""
        if not self._takes(param, grad, ax):
            return False
        s = param.dtype.type
        key = ("asgd", maximize, weight_decay != 0, mu != 1)
        k = self._elementwise(key, "T g, T l2, T decay, T neg_eta, T mu", "T p, T ax", _asgd_text(*key[1:]))
        k(grad, s(weight_decay), s(1 - lambd * eta), s(-eta), s(mu), param, ax)
        return True

    # ---- activations ---------------------------------------------------------------------------------------------
    def relu_grad(self, grad, result):
        """ReLU's input gradient from the output gradient and ReLU's output, in one launch (a new array);
        None when the fused path cannot take the arrays."""
        if not self._takes(grad, result):
            return None
        return self._elementwise(("relu_grad",), "T g, T r", "T gx", _RELU_GRAD)(grad, result)

    # ---- mean squared error ---------------------------------------------------------------------------------------
    def squared_error(self, x, t, reduction: str):
        """(x - t)^2 of same-shaped arrays in one launch: per element (reduction 'none') or summed (a 0-d
        array); None when the fused path cannot take the arrays."""
        if not self._takes(x, t) or x.size == 0:
            return None
        if reduction == "none":
            return self._elementwise(("squared_error",), "T x, T t", "T y", _SQUARED_ERROR)(x, t)
        return self._reduction(("sum_squared_error",), "T x, T t", "T y", "(x - t) * (x - t)", "y = a")(x, t)

    def mse_grad(self, x, t, g, scale: float):
        """d mse / d x = (x - t) * (g * scale) in one launch (g: 0-d, or x's shape for reduction 'none')."""
        k = self._elementwise(("mse_grad",), "T x, T t, T g, T scale", "T gx", _MSE_GRAD)
        return k(x, t, g, x.dtype.type(scale))

    # ---- cross-entropy ------------------------------------------------------------------------------------------
    def _takes_rows(self, x, target, weight) -> bool:
        """Whether the loss kernels take x (N, C) float32/64, int64 targets (N,) and class weights (C,) of
        x's dtype (or None)."""
        xp = self.xp
        if (not self.available() or type(x) is not xp.ndarray or x.dtype not in _FLOATS or x.ndim != 2
                or type(target) is not xp.ndarray or target.dtype != np.int64 or target.shape != x.shape[:1]):
            return False
        return weight is None or (type(weight) is xp.ndarray and weight.dtype == x.dtype
                                  and weight.shape == x.shape[1:])

    def cross_entropy_rows(self, x, target, ignore_index: int, weight=None):
        """Per-row pieces of cross-entropy for x (N, C) and int64 class targets (N,), in four launches:
        (losses (N,), row weights w (N,): 0 where ignored, else weight[target] or 1, m = row max (N, 1),
        s = sum exp(x - m) (N,)). None when the fused path cannot take the arrays."""
        xp = self.xp
        if not self._takes_rows(x, target, weight):
            return None
        m = x.max(axis=1, keepdims=True)
        # (m broadcast as a view by hand: not every CuPy version broadcasts a reduction's inputs)
        s = self._reduction(("sum_exp",), "T x, T m", "T y", "exp(x - m)", "y = a")(x, xp.broadcast_to(m, x.shape),
                                                                                      axis=1)
        if weight is not None:
            rows = self._elementwise(("ce_rows_weighted",), "raw T x, T m, T s, I t, raw T cw, int64 C, int64 ignore",
                                     "T loss, T w", _CE_ROWS_WEIGHTED)
            loss, w = rows(x, m[:, 0], s, target, weight, x.shape[1], ignore_index)
            return loss, w, m, s
        rows = self._elementwise(("ce_rows",), "raw T x, T m, T s, I t, int64 C, int64 ignore", "T loss, T w",
                                 _CE_ROWS)
        loss, w = rows(x, m[:, 0], s, target, x.shape[1], ignore_index)
        return loss, w, m, s

    def nll_rows(self, x, target, ignore_index: int, weight=None):
        """Per-row pieces of nll_loss for log-probabilities x (N, C) and int64 class targets (N,), in one
        launch: (losses (N,), row weights w (N,): 0 where ignored, else weight[target] or 1); None when
        the fused path cannot take the arrays."""
        if not self._takes_rows(x, target, weight):
            return None
        if weight is not None:
            rows = self._elementwise(("nll_rows_weighted",), "raw T x, I t, raw T cw, int64 C, int64 ignore",
                                     "T loss, T w", _NLL_ROWS_WEIGHTED)
            return rows(x, target, weight, x.shape[1], ignore_index)
        rows = self._elementwise(("nll_rows",), "raw T x, I t, int64 C, int64 ignore", "T loss, T w", _NLL_ROWS)
        return rows(x, target, x.shape[1], ignore_index)

    def nll_grad(self, shape: tuple, target, w, g, denom):
        """d nll_loss / d x for x of `shape` (N, C) in one launch: -g / denom * w at each row's target."""
        k = self._elementwise(("nll_grad",), "I t, T w, T g, T denom, int64 C", "T gx", _NLL_GRAD)
        col = (slice(None), None)
        g = g[col] if g.ndim == 1 else g
        # the targets spread over the rows (a view): the kernel's shape is its inputs' broadcast shape
        return k(self.xp.broadcast_to(target[col], shape), w[col], g, denom, shape[1])

    def cross_entropy_grad(self, x, target, m, s, w, g, denom):
        """d loss / d x (N, C) in one launch: (softmax(x) - onehot(target)) * g / denom * w, from the
        forward's m (N, 1) and s (N,); g and denom are 0-d (mean, sum) or g is (N,) (reduction 'none')."""
        k = self._elementwise(("ce_grad",), "T x, T m, T s, I t, T w, T g, T denom, int64 C", "T gx", _CE_GRAD)
        col = (slice(None), None)
        g = g[col] if g.ndim == 1 else g
        return k(x, m, s[col], target[col], w[col], g, denom, x.shape[1])
