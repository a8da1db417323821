"""Numerical gradient checks: compare backward's Jacobian with central finite differences.

Both Jacobians are float64 arrays with one row per output element and one column per input
element. Use float64 inputs: in float32 the finite differences are too noisy to compare.
"""
from __future__ import annotations

import warnings

import numpy as np

from .grad_mode import enable_grad


class GradcheckError(RuntimeError):
    """Raised by gradcheck when the analytical and numerical Jacobians differ."""


def _as_tuple(x) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _tensor_outputs(fn, inputs) -> list:
    """fn(*inputs) as a list of tensors (non-tensor outputs dropped)."""
    from .._tensor import Tensor

    return [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor)]


def _numerical_jacobians(fn, inputs, i: int, eps: float) -> list:
    """[J_k for each output k], J_k[:, j] = (f_k(x_i + eps e_j) - f_k(x_i - eps e_j)) / 2 eps."""
    from .._ops.creation import from_numpy

    x = inputs[i]
    base = np.array(x.detach().cpu().numpy(), copy=True)  # contiguous, so flat indexing reaches every element
    flat = base.reshape(-1)

    def evaluate():
        xi = from_numpy(base.copy()).to(x.device).requires_grad_(x.requires_grad)
        args = inputs[:i] + (xi,) + inputs[i + 1:]
        with enable_grad():  # fn may itself call autograd.grad (gradgradcheck)
            return [o.detach().cpu().numpy().astype(np.float64).reshape(-1) for o in _tensor_outputs(fn, args)]

    columns = []
    for j in range(flat.size):
        orig = flat[j].item()
        flat[j] = orig + eps
        plus = evaluate()
        flat[j] = orig - eps
        minus = evaluate()
        flat[j] = orig
        columns.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
    n_out = len(_tensor_outputs(fn, inputs)) if not columns else len(columns[0])
    return [np.stack([c[k] for c in columns], axis=1) if columns else np.zeros((0, 0)) for k in range(n_out)]


def _analytical_jacobians(outputs, inputs, diff_idx) -> list:
    """J[k][c]: d output_k / d inputs[diff_idx[c]], one backward pass per output element."""
    from . import grad as _grad
    from .._ops.creation import zeros_like

    diff_inputs = [inputs[i] for i in diff_idx]
    jac = []
    for o in outputs:
        per_input = [np.zeros((o.numel(), inputs[i].numel())) for i in diff_idx]
        if o.requires_grad:
            for r in range(o.numel()):
                v = zeros_like(o)
                v._data.reshape(-1)[r] = 1
                gs = _grad((o,), diff_inputs, (v,), retain_graph=True, allow_unused=True)
                for c, g in enumerate(gs):
                    if g is not None:
                        per_input[c][r] = g.detach().cpu().numpy().astype(np.float64).reshape(-1)
        jac.append(per_input)
    return jac


def _repr64(a: np.ndarray) -> str:
    from .._ops.creation import from_numpy

    return repr(from_numpy(np.ascontiguousarray(a, dtype=np.float64)))


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, **_ignored) -> bool:
    """True when backward's Jacobian of `func` at `inputs` matches finite differences.

    A mismatch raises GradcheckError (or returns False with raise_exception=False).
    """
    from .._tensor import Tensor

    inputs = _as_tuple(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of them "
                         "have requires_grad=True.")
    for i in diff_idx:
        if inputs[i].dtype.name != "float64":
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point or complex. "
                          "This check will likely fail if all the inputs are not of double precision floating "
                          "point or complex. ", UserWarning, stacklevel=2)
    with enable_grad():
        outputs = _tensor_outputs(func, inputs)
    analytical = _analytical_jacobians(outputs, inputs, diff_idx)
    for c, i in enumerate(diff_idx):
        for k, num in enumerate(_numerical_jacobians(func, inputs, i, eps)):
            ana = analytical[k][c]
            if not np.allclose(ana, num, rtol=rtol, atol=atol):
                if not raise_exception:
                    return False
                raise GradcheckError(f"Jacobian mismatch for output {k} with respect to input {i},\n"
                                     f"numerical:{_repr64(num)}\nanalytical:{_repr64(ana)}\n")
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True, **_ignored) -> bool:
    """gradcheck of the vector-Jacobian product itself: checks second derivatives (create_graph).

    The grad_outputs (random float64 when not given) are checked as inputs too, as in PyTorch.
    """
    from . import grad as _grad
    from .._ops.creation import randn, zeros_like
    from .._tensor import Tensor

    inputs = _as_tuple(inputs)
    n = len(inputs)
    with enable_grad():
        outputs = _tensor_outputs(func, inputs)
    if grad_outputs is None:
        grad_outputs = [randn(tuple(o.shape), dtype=o.dtype, device=o.device, requires_grad=o.dtype.is_floating_point)
                        for o in outputs]
    grad_outputs = _as_tuple(grad_outputs)

    def vjp(*args):
        xs, vs = args[:n], args[n:]
        diff = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        ys = _tensor_outputs(func, xs)
        kept = [(y, v) for y, v in zip(ys, vs) if y.requires_grad]
        grads = _grad([y for y, _ in kept], diff, [v for _, v in kept], create_graph=True, allow_unused=True)
        return tuple(zeros_like(x) if g is None else g for g, x in zip(grads, diff))

    return gradcheck(vjp, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)
