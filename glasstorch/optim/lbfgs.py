"""torch.optim.LBFGS: limited-memory BFGS over all parameters as one flat vector, with an optional
strong-Wolfe line search (minFunc's, as torch ports it).

The algorithm's scalars (directional derivatives, step lengths, curvature ratios) are the backend's
0-d values of the parameters' dtype wherever torch has them as 0-d tensors, not Python floats: in
float32 each of them is rounded to float32, and the iterates depend on it.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._tensor import Tensor, _make
from .optimizer import Optimizer, ParamsT, _as_float, _check_tensor_hparam, _eval_closure

__all__ = ["LBFGS"]

# the state entries that carry the method's arrays and scalars from one step() to the next
_ARRAY_KEYS = ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad", "al")


def _cubic_min(x1, f1, g1, x2, f2, g2, bounds=None):
    """Where the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2 has its minimum, clamped to
    `bounds` (default: the interval between x1 and x2); the middle of the bounds if it has none."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    # the losses are Python floats; where a step length is a 0-d tensor in torch, the division goes
    # through Tensor.__rtruediv__, which multiplies by the reciprocal: rounded twice, as here
    span = x1 - x2
    d1 = g1 + g2 - (3 * (f1 - f2) / span if type(span) in (int, float) else 3 * (f1 - f2) * (1 / span))
    disc = d1 ** 2 - g1 * g2
    if not disc >= 0:
        return (lo + hi) / 2.0
    d2 = np.sqrt(disc)  # (a ufunc: also right for a CuPy 0-d array, through __array_ufunc__)
    # measured from the farther point of the two
    if x1 <= x2:
        at = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        at = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(at, lo), hi)


class _Point:
    """A trial step length t of the line search with the loss f, gradient g and slope gtd = g . d there."""

    __slots__ = ("t", "f", "g", "gtd")

    def __init__(self, t, f, g, gtd) -> None:
        self.t, self.f, self.g, self.gtd = t, f, g, gtd


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, c1: float = 1e-4, c2: float = 0.9,
                  tolerance_change: float = 1e-9, max_ls: int = 25):
    """Find a step length t along d meeting the strong Wolfe conditions (sufficient decrease c1,
    curvature c2): first bracket an interval holding one, then shrink it by cubic interpolation.
    obj_func(x, t, d) -> (loss, flat gradient) at x + t d. Returns (loss, gradient, t, evaluations)."""
    d_norm = abs(d).max()
    start = _Point(0, f, g.copy(), gtd)
    f_new, g_new = obj_func(x, t, d)
    evals = 1
    new = _Point(t, f_new, g_new, g_new.dot(d))

    def sufficient_decrease(p: _Point) -> bool:
        return not p.f > f + c1 * p.t * gtd

    # bracketing: step forward (extrapolating) until the interval [prev, new] must contain a point
    prev = start
    bracket, done, ls_iter = None, False, 0
    while ls_iter < max_ls:
        if not sufficient_decrease(new) or (ls_iter > 1 and new.f >= prev.f):
            bracket = [prev, _Point(new.t, new.f, new.g.copy(), new.gtd)]
            break
        if abs(new.gtd) <= -c2 * gtd:  # the new point meets both conditions
            bracket, done = [new], True
            break
        if new.gtd >= 0:  # the slope turned: a minimum lies between prev and new
            bracket = [prev, _Point(new.t, new.f, new.g.copy(), new.gtd)]
            break
        t = _cubic_min(prev.t, prev.f, prev.gtd, new.t, new.f, new.gtd,
                       bounds=(new.t + 0.01 * (new.t - prev.t), new.t * 10))
        prev = _Point(new.t, new.f, new.g.copy(), new.gtd)
        f_new, g_new = obj_func(x, t, d)
        evals += 1
        new = _Point(t, f_new, g_new, g_new.dot(d))
        ls_iter += 1
    if ls_iter == max_ls:  # out of evaluations: settle for the better of the start and the last point
        bracket = [_Point(0, f, start.g, None), _Point(t, new.f, new.g, None)]

    # zoom: shrink the bracket around a point meeting the conditions
    insuf_progress = False
    low, high = (0, 1) if bracket[0].f <= bracket[-1].f else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1].t - bracket[0].t) * d_norm < tolerance_change:
            break
        t = _cubic_min(bracket[0].t, bracket[0].f, bracket[0].gtd, bracket[1].t, bracket[1].f, bracket[1].gtd)
        # a t too close to an end of the bracket (twice running, or outside it) is pulled in to 10% of its width
        t_max, t_min = max(bracket[0].t, bracket[1].t), min(bracket[0].t, bracket[1].t)
        margin = 0.1 * (t_max - t_min)
        if min(t_max - t, t - t_min) < margin:
            if insuf_progress or t >= t_max or t <= t_min:
                t = t_max - margin if abs(t - t_max) < abs(t - t_min) else t_min + margin
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(x, t, d)
        evals += 1
        ls_iter += 1
        new = _Point(t, f_new, g_new.copy(), g_new.dot(d))
        if not sufficient_decrease(new) or new.f >= bracket[low].f:
            bracket[high] = new  # the new point is the bracket's high end
            low, high = (0, 1) if bracket[0].f <= bracket[1].f else (1, 0)
            continue
        if abs(new.gtd) <= -c2 * gtd:
            done = True
        elif new.gtd * (bracket[high].t - bracket[low].t) >= 0:
            bracket[high] = bracket[low]  # keep the minimum between the two ends
        bracket[low] = new
    best = bracket[low]
    return best.f, best.g, best.t, evals


def _loss_value(loss) -> float:
    """The closure's loss as a Python float (without the warning float() gives a tensor that requires grad)."""
    return float(loss.detach()) if isinstance(loss, Tensor) else float(loss)


def _to_state(value, device):
    """What the state keeps for an array or backend scalar, or a list of them: Tensors (Python
    numbers and None unchanged), so the state dict saves and prints like torch's."""
    def one(v):
        if v is None or isinstance(v, Tensor) or (isinstance(v, (int, float)) and not isinstance(v, np.generic)):
            return v
        return _make(device.xp.asarray(v), device)

    return [one(v) for v in value] if isinstance(value, list) else one(value)


def _from_state(value):
    """The arrays behind state Tensors (lists element by element)."""
    def one(v):
        return v._data if isinstance(v, Tensor) else v

    return [one(v) for v in value] if isinstance(value, list) else one(value)


class LBFGS(Optimizer):
    """Implements L-BFGS (after minFunc). All parameters form one vector; there can be only one group.

    step(closure) runs up to max_iter iterations (at most max_eval closure calls): a direction from
    the last history_size curvature pairs (s, y), then a step of length lr along it (the first ever
    step is scaled to at most lr / sum|g|), or one found by a strong-Wolfe line search. It stops early
    when max|g| <= tolerance_grad, or when the step or the change in loss falls below tolerance_change.
    """

    def __init__(self, params: ParamsT, lr: float | Tensor = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        _check_tensor_hparam(lr, "lr")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")

    @property
    def _params(self) -> list:
        return self.param_groups[0]["params"]

    # ---- the parameters as one flat vector -----------------------------------------------------------
    def _gather_flat_grad(self):
        """All gradients, one after the other, in a new flat array (zeros for a parameter without one)."""
        xp = self._params[0].device.xp
        return xp.concatenate([p.grad._data.reshape(-1) if p.grad is not None
                               else xp.zeros(p._data.size, dtype=p._data.dtype) for p in self._params])

    def _add_grad(self, step_size, update) -> None:
        """p += step_size * (p's piece of the flat `update`), for every parameter."""
        offset = 0
        for p in self._params:
            n = p._data.size
            p._data += step_size * update[offset:offset + n].reshape(p._data.shape)
            p._vc[0] += 1
            offset += n

    def _clone_param(self) -> list:
        return [p._data.copy() for p in self._params]

    def _set_param(self, arrays: list) -> None:
        for p, a in zip(self._params, arrays, strict=True):
            p._data[...] = a
            p._vc[0] += 1

    def _directional_evaluate(self, closure: Callable, x: list, t, d):
        """(loss, flat gradient) at x + t d; the parameters are put back to x afterwards."""
        self._add_grad(t, d)
        loss = _loss_value(_eval_closure(closure))
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    # ---- the step ----------------------------------------------------------------------------------------
    def step(self, closure: Callable):
        """Up to max_iter L-BFGS iterations; `closure` (required) recomputes the loss and its gradients.
        Returns the loss of the closure's first call."""
        group = self.param_groups[0]
        lr = _as_float(group["lr"])
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]

        # LBFGS's state is global, but is kept as the first parameter's (as torch does)
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = _eval_closure(closure)
        loss = _loss_value(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if abs(flat_grad).max() <= tolerance_grad:  # already optimal
            return orig_loss

        d, t, old_dirs, old_stps, ro, H_diag, prev_flat_grad, al = (_from_state(state.get(k)) for k in _ARRAY_KEYS)
        prev_loss = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # the descent direction d = -H g, H the inverse Hessian estimate from the history
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro, H_diag = [], [], [], 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = y.dot(s)
                if ys > 1e-10:  # keep only pairs of positive curvature (H stays positive definite)
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y)  # the initial inverse Hessian's scale
                if al is None:  # (created here, so it sits where torch's sits in the state's order)
                    al = state["al"] = [None] * history_size
                d = self._two_loop(flat_grad, old_dirs, old_stps, ro, H_diag, al)

            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.copy()
            else:
                prev_flat_grad[...] = flat_grad
            prev_loss = loss

            # the step length: lr (the first ever step no longer than lr / sum|g|), or a line search's
            t = min(1.0, 1.0 / abs(flat_grad).sum()) * lr if state["n_iter"] == 1 else lr
            gtd = flat_grad.dot(d)  # the directional derivative
            if gtd > -tolerance_change:
                break

            ls_func_evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x_init = self._clone_param()

                def obj_func(x, t, d):
                    return self._directional_evaluate(closure, x, t, d)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(obj_func, x_init, t, d, loss, flat_grad, gtd,
                                                                  max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                opt_cond = False
                if n_iter != max_iter:  # (the last iteration's loss would go unused: not evaluated)
                    loss = _loss_value(_eval_closure(closure))
                    flat_grad = self._gather_flat_grad()
                    opt_cond = abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if abs(d * t).max() <= tolerance_change:  # the step has become too small
                break
            if abs(loss - prev_loss) < tolerance_change:  # the loss no longer changes
                break

        device = self._params[0].device
        for key, value in zip(_ARRAY_KEYS, (d, t, old_dirs, old_stps, ro, H_diag, prev_flat_grad, al)):
            if key != "al" or al is not None:
                state[key] = _to_state(value, device)
        state["prev_loss"] = prev_loss
        return orig_loss

    @staticmethod
    def _two_loop(flat_grad, old_dirs: list, old_stps: list, ro: list, H_diag, al: list):
        """-H g by the L-BFGS two-loop recursion over the stored pairs, in one buffer."""
        q = -flat_grad
        for i in range(len(old_dirs) - 1, -1, -1):
            al[i] = old_stps[i].dot(q) * ro[i]
            q += -al[i] * old_dirs[i]
        r = q * H_diag
        for i in range(len(old_dirs)):
            be_i = old_dirs[i].dot(r) * ro[i]
            r += (al[i] - be_i) * old_stps[i]
        return r
