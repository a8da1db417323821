"""NumPy look-alikes of cupy.ElementwiseKernel and cupy.ReductionKernel, for the test-only fake CUDA device.

The fused CUDA kernels (`cuda_fused.py`) are written in a small subset of C so that the very same
kernel text can run here, on NumPy, vectorised over all elements at once:

    statements   `T name = expr;` (a local), `name = expr;` or `name op= expr;` (an output parameter)
    expressions  + - * / %, unary -, one comparison (==, !=, <, <=, >, >=; gives 0 or 1 as in C),
                 integer literals, calls of the functions in FUNCTIONS, `x[expr]` on a `raw` parameter,
                 and `i`, the element's index
    not allowed  float literals (a double literal would turn float arithmetic into double in C),
                 ternaries (`choose(c, a, b)` is c ? a : b), loops, && || !, writes through `raw` parameters

Arithmetic follows C's usual conversions (an int next to a float becomes that float, float32 stays
float32), integer / and % truncate toward zero, and floating errors are silent (a GPU does not warn),
so a kernel computes here what it computes on the GPU, up to the GPU's exp/log rounding (sqrt and
division are IEEE-rounded on both when the kernel is compiled with --fmad=false, as cuda_fused does).

`adapt(unwrap, wrap)` lets the fake device hand in its wrapped arrays: kernels see the NumPy array
inside (writes land in it) and wrap outputs they allocate. Kernels called with plain NumPy arrays
(tests/test_gpu.py runs the kernel text that way next to CuPy) take and return NumPy arrays.
"""
from __future__ import annotations

import ast
import re

import numpy as np

__all__ = ["ElementwiseKernel", "ReductionKernel", "adapt", "FUNCTIONS"]

_unwrap = _wrap = (lambda a: a)


def adapt(unwrap, wrap) -> None:
    """Set how a device array is seen as NumPy (unwrap, no copy) and how a NumPy result is handed back."""
    global _unwrap, _wrap
    _unwrap, _wrap = unwrap, wrap


def _host_args(args) -> tuple:
    """(the arguments as NumPy arrays and scalars, whether they came from the device). Device arguments go
    through the adapter, which refuses host arrays among them, as CuPy does."""
    if all(isinstance(a, (np.ndarray, np.generic, int, float)) for a in args):
        return list(args), False
    return [_unwrap(a) for a in args], True


# the functions a kernel may call, with their NumPy meaning; `nan_max` (torch.maximum: NaN wins, unlike
# C's fmax) and `choose` (C's c ? a : b) are defined by cuda_fused's preamble on the GPU
FUNCTIONS = {"sqrt": np.sqrt, "exp": np.exp, "log": np.log, "log1p": np.log1p, "expm1": np.expm1, "fabs": np.abs,
             "fmax": np.fmax, "fmin": np.fmin, "nan_max": np.maximum}
_CHOOSE = "choose"
_C_TYPES = {"float": np.float32, "double": np.float64, "int": np.int32, "ptrdiff_t": np.int64,
            "float32": np.float32, "float64": np.float64, "int32": np.int32, "int64": np.int64,
            "bool": np.bool_}
_STATEMENT = re.compile(r"^(?:(\w+)\s+)?(\w+)\s*(=|\+=|-=|\*=|/=)\s*(.+)$", re.S)
_BINOPS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply}
_COMPARE = {ast.Eq: np.equal, ast.NotEq: np.not_equal, ast.Lt: np.less, ast.LtE: np.less_equal,
            ast.Gt: np.greater, ast.GtE: np.greater_equal}


class KernelError(ValueError):
    """A kernel outside the C subset, or called with arguments CuPy would refuse."""


# ---- parameters ---------------------------------------------------------------------------------------
class _Param:
    __slots__ = ("name", "ctype", "raw")

    def __init__(self, text: str):
        words = text.split()
        self.raw = words[0] == "raw"
        if self.raw:
            words = words[1:]
        if len(words) != 2:
            raise KernelError(f"cannot read the parameter {text!r}")
        self.ctype, self.name = words


def _params(text: str) -> list:
    return [_Param(p) for p in text.split(",") if p.strip()]


def _bind_types(params: list, values: list) -> dict:
    """Type placeholder (e.g. 'T') -> NumPy dtype, from the arrays bound to it (CuPy: all must agree)."""
    types = {}
    for p, v in zip(params, values):
        if p.ctype in _C_TYPES or not isinstance(v, np.ndarray):
            continue
        if types.setdefault(p.ctype, v.dtype) != v.dtype:
            raise TypeError(f"Type is mismatched. {p.name} {v.dtype} {types[p.ctype]}")
    return types


def _dtype_of(ctype: str, types: dict):
    if ctype in _C_TYPES:
        return np.dtype(_C_TYPES[ctype])
    if ctype not in types:
        raise KernelError(f"cannot tell the type {ctype}: no array argument has it")
    return types[ctype]


def _as_arg(p: _Param, v, types: dict):
    """An argument as CuPy passes it: arrays as they are, scalars cast to their parameter's type."""
    if isinstance(v, np.ndarray):
        return v
    return _dtype_of(p.ctype, types).type(v)


# ---- expressions ----------------------------------------------------------------------------------------
def _c_type(a, b):
    """C's usual arithmetic conversions for two operands: a float wins (the wider float if both are)."""
    da, db = np.result_type(a), np.result_type(b)
    fa, fb = da.kind == "f", db.kind == "f"
    if fa and fb or not (fa or fb):
        return np.promote_types(da, db)
    return da if fa else db


def _truncdiv(a, b):
    q = np.floor_divide(a, b)
    return q + ((q < 0) & (q * b != a))  # C rounds toward zero, NumPy toward -inf


class _Evaluator:
    """Evaluates one expression of the C subset on NumPy arrays (names bound in `env`)."""

    def __init__(self, env: dict, raw: set):
        self.env, self.raw = env, raw

    def __call__(self, text: str):
        return self.visit(ast.parse(text.strip(), mode="eval").body)

    def visit(self, node):
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            raise KernelError(f"not in the kernel subset: {ast.unparse(node)}")
        return method(node)

    def visit_Constant(self, node):
        if type(node.value) is not int:
            raise KernelError(f"only integer literals (a float literal would be double in C): {node.value!r}")
        return np.int32(node.value)

    def visit_Name(self, node):
        if node.id not in self.env:
            raise KernelError(f"unknown name {node.id}")
        if node.id in self.raw:
            raise KernelError(f"raw parameter {node.id} used without an index")
        return self.env[node.id]

    def visit_Subscript(self, node):
        name = node.value.id if isinstance(node.value, ast.Name) else None
        if name not in self.raw:
            raise KernelError(f"only raw parameters can be indexed: {ast.unparse(node)}")
        index = self.visit(node.slice)
        if np.result_type(index).kind not in "iu":
            raise KernelError(f"index of {name} is not an integer")
        return self.env[name].reshape(-1)[index]  # CuPy's raw x[k]: k-th element in C order

    def visit_UnaryOp(self, node):
        v = self.visit(node.operand)
        if isinstance(node.op, ast.USub):
            return np.negative(v)
        if isinstance(node.op, ast.UAdd):
            return v
        raise KernelError(f"not in the kernel subset: {ast.unparse(node)}")

    def visit_BinOp(self, node):
        a, b = self.visit(node.left), self.visit(node.right)
        t = _c_type(a, b)
        a, b = np.asarray(a).astype(t, copy=False), np.asarray(b).astype(t, copy=False)
        op = type(node.op)
        if op in _BINOPS:
            return _BINOPS[op](a, b)
        if op is ast.Div:
            return np.divide(a, b) if t.kind == "f" else _truncdiv(a, b)
        if op is ast.Mod and t.kind != "f":
            return a - _truncdiv(a, b) * b
        raise KernelError(f"not in the kernel subset: {ast.unparse(node)}")

    def visit_Compare(self, node):
        if len(node.ops) != 1:
            raise KernelError(f"chained comparisons are not C: {ast.unparse(node)}")
        a, b = self.visit(node.left), self.visit(node.comparators[0])
        return _COMPARE[type(node.ops[0])](a, b).astype(np.int32)  # C: a comparison is an int

    def visit_Call(self, node):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS and name != _CHOOSE or node.keywords:
            raise KernelError(f"unknown function in kernel: {ast.unparse(node.func)}")
        args = [self.visit(a) for a in node.args]
        if name == _CHOOSE:  # choose(c, a, b): a and b of one type, as the preamble's template needs
            c, a, b = args
            if np.result_type(a) != np.result_type(b):
                raise KernelError(f"choose() of {np.result_type(a)} and {np.result_type(b)}: give both one type")
            return np.where(np.asarray(c) != 0, a, b)
        if any(np.result_type(a).kind != "f" for a in args):
            raise KernelError(f"{name}() of an integer is ambiguous in CUDA C++: cast to a float first")
        if len(args) == 2:
            t = _c_type(*args)
            args = [np.asarray(a).astype(t, copy=False) for a in args]
        return FUNCTIONS[name](*args)


def _statements(operation: str) -> list:
    """The kernel text as (declared type or None, name, operator, expression) tuples."""
    out = []
    for text in operation.split(";"):
        text = " ".join(text.split())
        if not text:
            continue
        m = _STATEMENT.match(text)
        if m is None or "?" in text or "&&" in text or "||" in text:
            raise KernelError(f"not in the kernel subset: {text!r}")
        out.append(m.groups())
    return out


def _run_statements(statements: list, env: dict, outputs: dict, raw: set, types: dict) -> None:
    """Execute the statements for all elements at once: locals go into env, outputs are written in place."""
    evaluate = _Evaluator(env, raw)
    locals_ = {}  # declared locals and their types
    for ctype, name, op, expr in statements:
        value = evaluate(expr if op == "=" else f"{name} {op[0]} ({expr})")
        if ctype is not None:  # a local, converted to its declared type as C does
            if name in env:
                raise KernelError(f"{name} is declared twice")
            locals_[name] = _dtype_of(ctype, types)
        if name in locals_:
            env[name] = np.asarray(value).astype(locals_[name], copy=False)
            continue
        if name not in outputs:
            raise KernelError(f"{name} is not an output parameter or a declared local (inputs are const)")
        out = outputs[name]
        out[...] = value
        env[name] = out


# ---- the two kernel kinds -----------------------------------------------------------------------------------
class ElementwiseKernel:
    """cupy.ElementwiseKernel(in_params, out_params, operation, name, ...) run with NumPy."""

    def __init__(self, in_params: str, out_params: str, operation: str, name: str = "kernel", reduce_dims=True,
                 preamble: str = "", no_return: bool = False, return_tuple: bool = False, options=(), **kwargs):
        self.in_params, self.out_params = _params(in_params), _params(out_params)
        self.statements = _statements(operation)
        self.name, self.operation, self.preamble, self.options = name, operation, preamble, tuple(options)
        if any(p.raw for p in self.out_params):
            raise KernelError("writes through raw output parameters are not supported on the fake device")

    def __call__(self, *args, size=None):
        n_in, n_out = len(self.in_params), len(self.out_params)
        if len(args) not in (n_in, n_in + n_out):
            raise TypeError(f"Wrong number of arguments for {self.name!r}. expected {n_in} or {n_in + n_out}, "
                            f"got {len(args)}")
        params = self.in_params + self.out_params
        given, on_device = _host_args(args)
        types = _bind_types(params, given)
        values = [_as_arg(p, v, types) for p, v in zip(params, given)]
        # the inputs' broadcast shape (as CuPy: given outputs must have it, not widen it); with scalar
        # inputs only, the outputs' shape or `size`
        in_shapes = [v.shape for p, v in zip(self.in_params, values) if not p.raw and v.ndim]
        out_shapes = [v.shape for p, v in zip(self.out_params, values[n_in:]) if not p.raw]
        shape = np.broadcast_shapes(*(in_shapes or out_shapes))
        if size is not None:
            shape = (size,)
        allocated = len(args) == n_in
        if allocated:
            values += [np.empty(shape, _dtype_of(p.ctype, types)) for p in self.out_params]
        env = {"i": np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)}
        for p, v in zip(self.in_params, values):
            env[p.name] = v if p.raw else np.broadcast_to(v, shape)
        outputs = {}
        for p, v in zip(self.out_params, values[n_in:]):
            if v.shape != shape:
                raise ValueError(f"Out shape is mismatched: {p.name} {v.shape} for {shape}")
            outputs[p.name] = env[p.name] = v
        raw = {p.name for p in params if p.raw}
        with np.errstate(all="ignore"):
            _run_statements(self.statements, env, outputs, raw, types)
        result = [_wrap(v) if on_device else v for v in values[n_in:]] if allocated else list(args[n_in:])
        return result[0] if n_out == 1 else tuple(result)


_REDUCERS = {"a + b": np.sum, "max(a, b)": np.max, "min(a, b)": np.min}


class ReductionKernel:
    """cupy.ReductionKernel(in_params, out_params, map_expr, reduce_expr, post_map_expr, identity, name)
    run with NumPy; reduce_expr must be one of 'a + b', 'max(a, b)', 'min(a, b)'."""

    def __init__(self, in_params: str, out_params: str, map_expr: str, reduce_expr: str, post_map_expr: str,
                 identity, name: str = "reduce_kernel", reduce_type=None, reduce_dims=True, preamble: str = "",
                 options=(), **kwargs):
        self.in_params, self.out_params = _params(in_params), _params(out_params)
        if len(self.out_params) != 1:
            raise KernelError("one output parameter is supported on the fake device")
        key = " ".join(reduce_expr.replace(",", ", ").split())
        if key not in _REDUCERS:
            raise KernelError(f"reduction {reduce_expr!r} is not supported on the fake device")
        self.map_expr, self.reduce = map_expr, _REDUCERS[key]
        self.post = _statements(post_map_expr)
        self.name, self.post_map_expr, self.preamble, self.options = name, post_map_expr, preamble, tuple(options)

    def __call__(self, *args, axis=None, keepdims: bool = False):
        params = self.in_params
        given, on_device = _host_args(args[:len(params)])
        types = _bind_types(params + self.out_params, given)
        values = [_as_arg(p, v, types) for p, v in zip(params, given)]
        shape = np.broadcast_shapes(*(v.shape for v in values if v.ndim))
        env = {p.name: np.broadcast_to(v, shape) for p, v in zip(params, values)}
        out_dtype = _dtype_of(self.out_params[0].ctype, types)
        with np.errstate(all="ignore"):
            mapped = np.asarray(_Evaluator(env, set())(self.map_expr)).astype(out_dtype, copy=False)
            a = self.reduce(np.broadcast_to(mapped, shape), axis=axis, keepdims=keepdims)
            name = self.out_params[0].name
            out = np.empty(np.shape(a), out_dtype)
            _run_statements(self.post, {"a": np.asarray(a)}, {name: out}, set(), types)
        return _wrap(out) if on_device else out
