"""Elementwise programs compiled to one loop: the kernels behind deferred no-grad arithmetic (see
glasstorch/_ops/deferred.py), part of the optional extra `fast` (numba).

A hand-written update such as

    m = 0.9 * m + 0.1 * g
    v = 0.999 * v + 0.001 * g ** 2
    p -= lr * (m / c1) / ((v / c2).sqrt() + eps)

is a dozen NumPy calls, each a pass over memory. As one loop it reads m, g, v and p once and writes
m, v and p once. A program arrives as steps in order (see `source`); it becomes the text of a Python
function with one statement per step, which numba compiles once per program shape. The constants
are arguments, so a loop whose constants change every step (the bias corrections above) compiles
once. Each step is one correctly rounded IEEE operation in the arrays' dtype, as NumPy's calls are,
so the results equal the NumPy calls' bit for bit (fastmath stays off: no fused multiply-adds).

The text is written to a file in the kernel cache folder (GLASSTORCH_KERNEL_CACHE, or
~/.cache/glasstorch/kernels) so that numba can cache the machine code beside it: a later process
loads it in milliseconds instead of compiling it again (~0.4 s).
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile

import numpy as np

from . import cpu_fused

# op -> the expression a step writes ({0}, {1}: its operands)
FORMS = {"add": "{0} + {1}", "sub": "{0} - {1}", "mul": "{0} * {1}", "div": "{0} / {1}", "neg": "-{0}",
         "sqrt": "np.sqrt({0})", "square": "{0} * {0}"}

_compiled: dict = {}  # source text -> compiled kernel


def available() -> bool:
    """Whether programs can be compiled (numba importable, GLASSTORCH_FUSED not 0)."""
    return cpu_fused.available()


def source(steps: list, n_inputs: int, outputs: list, n_consts: int) -> str:
    """The text of `kernel(x0.., y0.., c0..)`, looping over every element k of the 1-D arrays.

    steps: (op, operands), each operand ("x", i) input i, ("t", j) the value of step j, ("c", k)
    constant k. outputs: (step j, ("x", i) or ("y", i)), the step's value stored into input i (in
    place) or into a fresh array y_i."""
    fresh = sum(1 for _, (kind, _i) in outputs if kind == "y")
    params = [f"x{i}" for i in range(n_inputs)] + [f"y{i}" for i in range(fresh)] + [f"c{k}" for k in range(n_consts)]
    lines = [f"def kernel({', '.join(params)}):", "    for k in range(x0.size):"]
    lines += [f"        a{i} = x{i}[k]" for i in range(n_inputs)]  # every load first: in-place stores come after
    names = {"x": "a", "t": "t", "c": "c"}
    for j, (op, operands) in enumerate(steps):
        args = [f"{names[kind]}{i}" for kind, i in operands]
        lines.append(f"        t{j} = " + FORMS[op].format(*args))
    lines += [f"        {kind}{i}[k] = t{j}" for j, (kind, i) in outputs]
    return "\n".join(lines) + "\n"


def kernel(text: str):
    """The compiled kernel for a program's text (compiled on first use, then kept)."""
    k = _compiled.get(text)
    if k is None:
        with cpu_fused._COMPILE_LOCK:
            k = _compiled.get(text) or _compile(text)
            _compiled[text] = k
    return k


def _compile(text: str):
    numba = cpu_fused.load_numba()
    name = "glasstorch_kernel_" + hashlib.sha1(text.encode()).hexdigest()[:20]
    try:
        fn = _load_from_file(name, "import numpy as np\n\n\n" + text)
        return numba.njit(**cpu_fused.NUMBA_OPTIONS)(fn)
    except OSError:  # no writable cache folder: compile in memory, without numba's disk cache
        namespace = {"np": np}
        exec(compile(text, name, "exec"), namespace)
        return numba.njit(**dict(cpu_fused.NUMBA_OPTIONS, cache=False))(namespace["kernel"])


def _load_from_file(name: str, text: str):
    folder = os.environ.get("GLASSTORCH_KERNEL_CACHE") or os.path.join(os.path.expanduser("~"), ".cache",
                                                                      "glasstorch", "kernels")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name + ".py")
    if not _holds(path, text):  # written whole or not at all: another process may be reading it
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module  # numba's disk cache finds the function's globals by module name
    return module.kernel


def _holds(path: str, text: str) -> bool:
    try:
        with open(path) as f:
            return f.read() == text
    except FileNotFoundError:
        return False


def run(text: str, inputs: list, fresh: list, consts: list) -> None:
    """Run a program's kernel on 1-D C-contiguous arrays of one dtype; `consts` are cast to that dtype."""
    scalar = inputs[0].dtype.type
    kernel(text)(*inputs, *fresh, *[scalar(c) for c in consts])
