"""torch.autocast: run chosen ops in lower precision inside a region.

One mechanism: ops that autocast affects carry the `autocast_op("<torch op name>")` decorator. When
no autocast region is open, the decorator's wrapper costs one thread-local flag test. Inside a
region it looks the op up in the per-device tables below (PyTorch 2.13's lists, which differ
between CPU and CUDA), casts the floating-point tensor arguments as the op's policy says, and
runs the op with autocast suspended, so the op's own internal calls are not cast again (PyTorch
excludes the autocast dispatch key the same way).

Policies (PyTorch's `CastPolicy`):
    lower  -- cast to the region's dtype (matmuls, linear, convolutions)
    fp32   -- cast to float32 (losses, reductions that lose precision, exp/log on CUDA ...)
    fp32_opt_dtype -- float32 unless the call passes a dtype itself (softmax, sum, cumsum on CUDA)
    promote -- cast to the widest floating dtype among the arguments (cat, stack, addcmul ...)
float64 tensors, integer tensors and tensors of another device type are never cast.
"""
from __future__ import annotations

import functools
import os
import sys
import threading
import warnings

from .. import _dtype

LOWER, FP32, FP32_OPT_DTYPE, PROMOTE = "lower", "fp32", "fp32_opt_dtype", "promote"

# ---- PyTorch 2.13's op lists (aten/src/ATen/autocast_mode.h and .cpp), by glasstorch hook name ---------
_LOWER_COMMON = ("conv1d", "conv2d", "conv3d", "convolution", "conv_transpose1d", "conv_transpose2d",
                 "conv_transpose3d", "prelu", "addmm", "matmul", "einsum", "mm", "linalg_vecdot", "linear",
                 "addbmm", "baddbmm", "bmm", "chain_matmul", "linalg_multi_dot", "lstm_cell", "gru_cell",
                 "rnn_tanh_cell", "rnn_relu_cell", "scaled_dot_product_attention")
_FP32_LOSSES = ("poisson_nll_loss", "cosine_embedding_loss", "nll_loss", "hinge_embedding_loss", "kl_div",
                "l1_loss", "smooth_l1_loss", "huber_loss", "mse_loss", "margin_ranking_loss",
                "multilabel_margin_loss", "soft_margin_loss", "triplet_margin_loss", "multi_margin_loss",
                "binary_cross_entropy_with_logits", "cross_entropy")

_CPU = {
    **dict.fromkeys(_LOWER_COMMON, LOWER),
    **dict.fromkeys(_FP32_LOSSES, FP32),
    **dict.fromkeys(("binary_cross_entropy", "ctc_loss", "cdist", "trace", "inverse", "linalg_inv", "pinverse",
                     "quantile", "nanquantile", "grid_sample", "prod", "polar", "stft", "cholesky",
                     "reflection_pad"), FP32),
    **dict.fromkeys(("cat", "stack", "index_copy"), PROMOTE),
    # whole-sequence RNN layers (see _ops/rnn.py::layer_op): `lstm` (padded input) is listed; rnn_tanh and
    # rnn_relu decompose into linear, so all their results come out in the region's dtype too
    **dict.fromkeys(("lstm", "rnn_tanh", "rnn_relu"), LOWER),
}

_CUDA = {
    **dict.fromkeys(_LOWER_COMMON + ("addmv", "addr", "mv"), LOWER),
    **dict.fromkeys(_FP32_LOSSES, FP32),
    **dict.fromkeys(("acos", "asin", "cosh", "erfinv", "exp", "expm1", "log", "log10", "log2", "log1p",
                     "reciprocal", "rsqrt", "sinh", "tan", "pow", "softplus", "layer_norm", "group_norm",
                     "norm", "cosine_similarity", "dist", "pdist", "cdist", "renorm", "logsumexp",
                     "interpolate"), FP32),
    **dict.fromkeys(("prod", "softmax", "log_softmax", "cumprod", "cumsum", "linalg_vector_norm",
                     "linalg_matrix_norm", "sum"), FP32_OPT_DTYPE),
    **dict.fromkeys(("addcdiv", "addcmul", "atan2", "bilinear", "cross", "dot", "vdot", "grid_sample",
                     "index_put", "tensordot", "scatter_add"), PROMOTE),
}
# binary_cross_entropy is unsafe to autocast on CUDA: PyTorch raises instead of casting
_CUDA_REFUSED = {"binary_cross_entropy"}

_POLICIES = {"cpu": _CPU, "cuda": _CUDA}
_DEFAULT_DTYPE = {"cpu": _dtype.bfloat16, "cuda": _dtype.float16}
# device types PyTorch accepts for autocast that glasstorch has no backend for
_OTHER_TORCH_TYPES = ("xpu", "hpu", "mtia", "maia", "xla", "ipu", "mps", "privateuseone")


class _State(threading.local):
    """Autocast state, per thread as in PyTorch."""

    def __init__(self) -> None:
        self.enabled = {"cpu": False, "cuda": False}
        self.dtype = dict(_DEFAULT_DTYPE)
        self.cache_enabled = True
        self.nesting = 0
        self.cache: dict = {}  # id(leaf weight) -> (weight, its cast), for one outermost region
        self.suspended = False  # inside a hooked op or a backward pass: casts are off
        self.active = False  # some device type is enabled and nothing suspends it: the hooks' one test

    def refresh(self) -> None:
        self.active = (self.enabled["cpu"] or self.enabled["cuda"]) and not self.suspended


def suspend() -> bool:
    """Turns casting off (inside an op, during backward); returns the previous setting for resume()."""
    previous, _state.suspended, _state.active = _state.suspended, True, False
    return previous


def resume(previous: bool) -> None:
    _state.suspended = previous
    _state.refresh()


_state = _State()


# ---- the hook -----------------------------------------------------------------------------------
def autocast_op(name: str):
    """Decorator for an op that autocast may cast: `name` is its key in the policy tables.

    The wrapper adds frames (one; two inside a region), so a wrapped op that warns passes
    `stacklevel=user_stacklevel()`: a fixed stacklevel would point here instead of at the caller."""

    def wrap(fn):
        @functools.wraps(fn)
        def op(*args, **kwargs):
            if not _state.active:
                return fn(*args, **kwargs)
            return _run_cast(name, fn, args, kwargs)

        # the wrapper's frame carries the op's name, so tracebacks and glasstorch.viz traces read `mm`, not `op`
        op.__code__ = op.__code__.replace(co_name=fn.__name__)
        return op

    return wrap


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def user_stacklevel() -> int:
    """The stacklevel that makes `warnings.warn(..., stacklevel=user_stacklevel())` point at the first frame
    outside glasstorch: the user's line, where PyTorch's warnings from its compiled ops point too."""
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


def _first_tensor(args):
    from .._tensor import Tensor

    for a in args:
        if isinstance(a, Tensor):
            return a
        if isinstance(a, (list, tuple)):
            for t in a:
                if isinstance(t, Tensor):
                    return t
    return None


def _run_cast(name: str, fn, args: tuple, kwargs: dict):
    first = _first_tensor(args)
    if first is None:
        first = _first_tensor(kwargs.values())
    device_type = first.device.type if first is not None else None
    if not _state.enabled.get(device_type):  # e.g. a CPU op inside a CUDA region
        return fn(*args, **kwargs)
    if device_type == "cuda" and name in _CUDA_REFUSED:
        raise RuntimeError(
            "torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast.\n"
            "Many models use a sigmoid layer right before the binary cross entropy layer.\n"
            "In this case, combine the two layers using torch.nn.functional.binary_cross_entropy_with_logits\n"
            "or torch.nn.BCEWithLogitsLoss.  binary_cross_entropy_with_logits and BCEWithLogits are\n"
            "safe to autocast.")
    to = _target_dtype(_POLICIES[device_type].get(name), device_type, args, kwargs)
    if to is not None:
        args = tuple(_cast(a, to, device_type) for a in args)
        kwargs = {k: _cast(v, to, device_type) for k, v in kwargs.items()}
    # the op runs with autocast suspended: it is one kernel in PyTorch (listed or not), whose
    # internal calls are below the autocast layer
    previous = suspend()
    try:
        return fn(*args, **kwargs)
    finally:
        resume(previous)


def _target_dtype(policy, device_type: str, args: tuple, kwargs: dict):
    """The dtype the op's floating arguments are cast to, or None to leave them alone."""
    if policy is None:
        return None
    if policy == LOWER:
        return _state.dtype[device_type]
    if policy == PROMOTE:
        return _widest(args, kwargs, device_type)
    if policy == FP32_OPT_DTYPE and (kwargs.get("dtype") is not None or any(isinstance(a, _dtype.dtype) for a in args)):
        return None  # the caller chose the output dtype: PyTorch respects it
    return _dtype.float32


def _eligible(t, device_type: str) -> bool:
    d = t.dtype
    return d.is_floating_point and d is not _dtype.float64 and t.device.type == device_type


def _widest(args, kwargs, device_type: str):
    """PyTorch's `promote_type`: float32 if any eligible argument is float32, else the region's dtype."""
    from .._tensor import Tensor

    for a in (*args, *kwargs.values()):
        for t in (a if isinstance(a, (list, tuple)) else (a,)):
            if isinstance(t, Tensor) and _eligible(t, device_type) and t.dtype is _dtype.float32:
                return _dtype.float32
    return _state.dtype[device_type]


def _cast(a, to, device_type: str):
    """`a` cast to `to` if it is a floating, non-float64 tensor of the autocast device (lists too)."""
    from .._tensor import Tensor

    if isinstance(a, Tensor):
        if a.dtype is to or not _eligible(a, device_type):
            return a
        if _cacheable(a, to, device_type):
            hit = _state.cache.get(id(a))
            if hit is not None and hit[0] is a:
                return hit[1]
            cast = a.to(to)
            _state.cache[id(a)] = (a, cast)
            return cast
        return a.to(to)
    if isinstance(a, (list, tuple)) and any(isinstance(t, Tensor) for t in a):
        return type(a)(_cast(t, to, device_type) for t in a)
    return a


def _cacheable(a, to, device_type: str) -> bool:
    """PyTorch caches the low-precision copies of float32 leaf weights within a region."""
    from ..autograd.graph import _GradMode

    return (_state.cache_enabled and to is _state.dtype[device_type] and a.dtype is _dtype.float32
            and a.requires_grad and a.grad_fn is None and _GradMode.enabled)


# ---- state functions (torch.is_autocast_enabled & co.) ---------------------------------------------
def _check_type(device_type: str) -> str:
    if device_type not in _POLICIES:
        raise RuntimeError(f"Expected one of cpu, cuda device type at start of device string: {device_type}")
    return device_type


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast supports `device_type` ('cpu' and 'cuda' here)."""
    return device_type in _POLICIES


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether autocast is on for `device_type` (no argument: CUDA, as in PyTorch)."""
    return _state.enabled[_check_type("cuda" if device_type is None else device_type)]


def set_autocast_enabled(device_type, enabled: bool | None = None) -> None:
    if enabled is None:  # the deprecated one-argument form sets CUDA's flag
        device_type, enabled = "cuda", device_type
    _state.enabled[_check_type(device_type)] = bool(enabled)
    _state.refresh()


def get_autocast_dtype(device_type: str) -> _dtype.dtype:
    """The dtype lower-precision ops run in: float16 on CUDA, bfloat16 on CPU unless a region chose another."""
    return _state.dtype[_check_type(device_type)]


def set_autocast_dtype(device_type: str, dtype: _dtype.dtype) -> None:
    _state.dtype[_check_type(device_type)] = dtype


def is_autocast_cpu_enabled() -> bool:
    return _state.enabled["cpu"]


def get_autocast_cpu_dtype() -> _dtype.dtype:
    return _state.dtype["cpu"]


def get_autocast_gpu_dtype() -> _dtype.dtype:
    return _state.dtype["cuda"]


def is_autocast_cache_enabled() -> bool:
    return _state.cache_enabled


def set_autocast_cache_enabled(enabled: bool) -> None:
    _state.cache_enabled = bool(enabled)


def clear_autocast_cache() -> None:
    _state.cache.clear()


def autocast_increment_nesting() -> int:
    _state.nesting += 1
    return _state.nesting


def autocast_decrement_nesting() -> int:
    _state.nesting -= 1
    return _state.nesting


# ---- the context manager ------------------------------------------------------------------------
class autocast:
    """`with torch.autocast(device_type, dtype=None, enabled=True, cache_enabled=None):` or as a decorator.

    Inside, the ops in PyTorch's lists for `device_type` run in `dtype` (float16 on CUDA, bfloat16 on
    CPU by default) or in float32; regions nest, and `enabled=False` turns autocast off inside one.
    """

    def __init__(self, device_type: str, dtype: _dtype.dtype | None = None, enabled: bool = True,
                 cache_enabled: bool | None = None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if device_type in _OTHER_TORCH_TYPES:
            raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
        self.device = device_type
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None else cache_enabled
        if enabled:
            enabled = self._check_enabled()
        self._enabled = enabled

    def _check_enabled(self) -> bool:
        """PyTorch's refusals: CUDA missing, bfloat16 on a GPU without it, CPU dtypes other than 16-bit."""
        if self.device == "cuda":
            from .. import cuda

            if not cuda.is_available():
                warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.", stacklevel=3)
                return False
            if self.fast_dtype is _dtype.bfloat16 and not cuda.is_bf16_supported():
                raise RuntimeError("Current CUDA Device does not support bfloat16. Please switch dtype to float16.")
            return True
        if self.fast_dtype not in (_dtype.bfloat16, _dtype.float16):
            warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling autocast.\n"
                          "CPU Autocast only supports dtypes of torch.bfloat16, torch.float16 currently.",
                          stacklevel=3)
            return False
        return True

    def __enter__(self):
        self.prev_cache_enabled = is_autocast_cache_enabled()
        self.prev = is_autocast_enabled(self.device)
        self.prev_fastdtype = get_autocast_dtype(self.device)
        # a region opened during backward (custom_bwd) casts again
        self.prev_suspended, _state.suspended = _state.suspended, False
        set_autocast_enabled(self.device, self._enabled)
        set_autocast_dtype(self.device, self.fast_dtype)
        autocast_increment_nesting()
        set_autocast_cache_enabled(self._cache_enabled)
        return self

    def __exit__(self, exc_type, exc_val, exc_tb) -> bool:
        if autocast_decrement_nesting() == 0:
            clear_autocast_cache()
        set_autocast_enabled(self.device, self.prev)
        set_autocast_dtype(self.device, self.prev_fastdtype)
        set_autocast_cache_enabled(self.prev_cache_enabled)
        resume(self.prev_suspended)
        return False

    def __call__(self, func):
        if not callable(func):
            raise TypeError(
                f"autocast()(func) requires a callable, but got {type(func).__name__}. "
                f"Did you mean to use autocast as a context manager? For example:\n"
                f"    with torch.autocast(device_type=...):\n"
                f"        output = model(input)")

        @functools.wraps(func)
        def decorated(*args, **kwargs):
            with self:
                return func(*args, **kwargs)

        return decorated


# ---- custom autograd Functions under autocast -------------------------------------------------------
def _cast_inputs(value, device_type: str, dtype):
    """Floating, non-float64 tensors of `device_type` in `value` (nested containers too) cast to dtype."""
    from .._tensor import Tensor

    if isinstance(value, Tensor):
        return value.to(dtype) if _eligible(value, device_type) else value
    if isinstance(value, dict):
        return {_cast_inputs(k, device_type, dtype): _cast_inputs(v, device_type, dtype) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_inputs(v, device_type, dtype) for v in value)
    return value


def custom_fwd(fwd=None, *, device_type: str, cast_inputs: _dtype.dtype | None = None):
    """Decorates an autograd.Function's forward: with cast_inputs, inside an autocast region the forward
    runs with autocast off on inputs cast to that dtype; custom_bwd then runs backward in the same state."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        ctx = args[0]
        ctx._dtype = get_autocast_dtype(device_type)
        if cast_inputs is None or not is_autocast_enabled(device_type):
            ctx._fwd_used_autocast = cast_inputs is None and is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        ctx._fwd_used_autocast = False
        with autocast(device_type=device_type, enabled=False):
            return fwd(*_cast_inputs(args, device_type, cast_inputs), **_cast_inputs(kwargs, device_type, cast_inputs))

    return decorate_fwd


def custom_bwd(bwd=None, *, device_type: str):
    """Decorates an autograd.Function's backward: it runs with the autocast state its forward saw."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        ctx = args[0]
        with autocast(device_type=device_type, enabled=ctx._fwd_used_autocast, dtype=ctx._dtype):
            return bwd(*args, **kwargs)

    return decorate_bwd
