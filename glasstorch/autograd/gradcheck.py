"""Numerical gradient checks: compare backward's Jacobian with central finite differences."""
from __future__ import annotations

from .grad_mode import no_grad


class GradcheckError(RuntimeError):
    """Raised by gradcheck when the analytical and numerical Jacobians differ."""


def _outputs(fn, inputs):
    out = fn(*inputs)
    return out if isinstance(out, (tuple, list)) else (out,)


def _numerical_jacobian(fn, inputs, i, eps):
    """J[k][j] = d out_k / d input_i[j] by central differences, as float64 arrays."""
    import numpy as np

    x = inputs[i]
    flat = x._data.reshape(-1)
    cols = []
    with no_grad():
        for j in range(flat.size):
            orig = flat[j].item()
            flat[j] = orig + eps
            plus = [o._data.astype(np.float64).reshape(-1).copy() for o in _outputs(fn, inputs)]
            flat[j] = orig - eps
            minus = [o._data.astype(np.float64).reshape(-1).copy() for o in _outputs(fn, inputs)]
            flat[j] = orig
            cols.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
    n_out = len(cols[0]) if cols else 0
    return [np.stack([c[k] for c in cols], axis=1) if cols else None for k in range(n_out)]


def _analytical_jacobian(fn, inputs, diff_idx):
    """J[k][i] (rows: output elements, cols: input elements) from one backward per output element."""
    import numpy as np

    from . import grad as _grad
    from .._ops.creation import zeros_like

    outs = [o for o in _outputs(fn, inputs)]
    diff_inputs = [inputs[i] for i in diff_idx]
    jac = []
    for o in outs:
        per_input = [np.zeros((o._data.size, inputs[i]._data.size)) for i in diff_idx]
        if o._requires_grad:
            for r in range(o._data.size):
                v = zeros_like(o)
                v._data.reshape(-1)[r] = 1
                gs = _grad((o,), diff_inputs, (v,), retain_graph=True, allow_unused=True)
                for c, g in enumerate(gs):
                    if g is not None:
                        per_input[c][r] = g._data.reshape(-1)
        jac.append(per_input)
    return jac


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, **_ignored) -> bool:
    """True when the gradients of `func` at `inputs` match finite differences (use float64 inputs)."""
    import numpy as np

    from .._tensor import Tensor

    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x._requires_grad]
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of the them "
                         "have requires_grad=True.")
    analytical = _analytical_jacobian(func, inputs, diff_idx)
    for c, i in enumerate(diff_idx):
        numerical = _numerical_jacobian(func, inputs, i, eps)
        for k, num in enumerate(numerical):
            ana = analytical[k][c]
            if num is None:
                continue
            if not np.allclose(ana, num, rtol=rtol, atol=atol):
                msg = (f"Jacobian mismatch for output {k} with respect to input {i},\n"
                       f"numerical:{num}\nanalytical:{ana}\n")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True, **_ignored) -> bool:
    """gradcheck of the gradient itself (second derivatives through create_graph=True)."""
    from . import grad as _grad
    from .._ops.creation import randn_like
    from .._tensor import Tensor

    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    diff = [x for x in inputs if isinstance(x, Tensor) and x._requires_grad]
    outs = _outputs(func, inputs)
    if grad_outputs is None:
        grad_outputs = [randn_like(o).double().to(o.dtype) for o in outs]

    def first_grads(*xs):
        ys = _outputs(func, xs)
        return _grad(ys, [x for x in xs if isinstance(x, Tensor) and x._requires_grad], grad_outputs,
                     create_graph=True, allow_unused=True)

    return gradcheck(first_grads, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)
