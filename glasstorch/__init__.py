"""glasstorch: a deep-learning framework you can read, with PyTorch's API.

    import glasstorch as torch
"""
from __future__ import annotations

__version__ = "0.1.0"

from . import _cpu_process  # noqa: F401  (first: OpenBLAS's thread spin must be set before NumPy loads it)

import warnings as _warnings

# PyTorch computes 1/0 = inf and log(0) = -inf silently; NumPy warns. Silence those warnings where
# glasstorch's own code runs the arithmetic (a user's direct NumPy calls keep theirs).
_warnings.filterwarnings("ignore", message=r".*encountered in", category=RuntimeWarning,
                         module=r"glasstorch(\.|$)")

from ._dtype import (  # noqa: F401
    bool, dtype, float16, float32, float64, get_default_dtype, int8, int16, int32, int64,
    promote_types, set_default_dtype, uint8, bfloat16, complex64, complex128,
)
from ._dtype import result_type as _result_type
from ._device import device, get_default_device, set_default_device  # noqa: F401
from ._random import (  # noqa: F401
    Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state,
)
from ._tensor import Size, Tensor  # noqa: F401
from ._legacy import (  # noqa: F401
    BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor, LongTensor, ShortTensor,
)
from ._tensor_str import set_printoptions  # noqa: F401
from ._finfo import finfo, iinfo  # noqa: F401
from ._ops import creation as _c, indexing as _i, linalg as _l, pointwise as _p, reduction as _r, shape as _s
from . import autograd  # noqa: F401
from .autograd.grad_mode import (  # noqa: F401
    enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad, set_grad_enabled,
)
from .autograd.anomaly_mode import is_anomaly_check_nan_enabled, is_anomaly_enabled  # noqa: F401

# PyTorch's dtype aliases
half, float, double = float16, float32, float64  # noqa: A001
short, int, long = int16, int32, int64  # noqa: A001
cfloat, cdouble = complex64, complex128

# ---- creation --------------------------------------------------------------------------------------
tensor, as_tensor, from_numpy = _c.tensor, _c.as_tensor, _c.from_numpy
zeros, ones, empty, full, eye = _c.zeros, _c.ones, _c.empty, _c.full, _c.eye
zeros_like, ones_like, empty_like, full_like = _c.zeros_like, _c.ones_like, _c.empty_like, _c.full_like
arange, linspace = _c.arange, _c.linspace
rand, randn, randint, randperm = _c.rand, _c.randn, _c.randint, _c.randperm
rand_like, randn_like, randint_like = _c.rand_like, _c.randn_like, _c.randint_like
normal, bernoulli, multinomial = _c.normal, _c.bernoulli, _c.multinomial
poisson = _c.poisson

# ---- math ------------------------------------------------------------------------------------------
add, sub, subtract, mul, multiply = _p.add, _p.sub, _p.sub, _p.mul, _p.mul
div = divide = true_divide = _p.div
floor_divide, remainder, fmod, pow = _p.floor_divide, _p.remainder, _p.fmod, _p.pow
neg = negative = _p.neg
abs = absolute = _p.abs  # noqa: A001
sign, exp, expm1, log, log2, log10, log1p = _p.sign, _p.exp, _p.expm1, _p.log, _p.log2, _p.log10, _p.log1p
sqrt, rsqrt, square, reciprocal = _p.sqrt, _p.rsqrt, _p.square, _p.reciprocal
sin, cos, tan, tanh, sigmoid, relu, erf = _p.sin, _p.cos, _p.tan, _p.tanh, _p.sigmoid, _p.relu, _p.erf
lgamma, digamma, polygamma = _p.lgamma, _p.digamma, _p.polygamma
igamma, igammac = _p.igamma, _p.igammac
floor, ceil, trunc, round = _p.floor, _p.ceil, _p.trunc, _p.round  # noqa: A001
clamp = clip = _p.clamp
maximum, minimum, lerp, addcmul, addcdiv = _p.maximum, _p.minimum, _p.lerp, _p.addcmul, _p.addcdiv
where = _p.where
eq, ne, lt, le, gt, ge = _p.eq, _p.ne, _p.lt, _p.le, _p.gt, _p.ge
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
logical_not, logical_and, logical_or, logical_xor = _p.logical_not, _p.logical_and, _p.logical_or, _p.logical_xor
bitwise_and, bitwise_or, bitwise_xor, bitwise_not = _p.bitwise_and, _p.bitwise_or, _p.bitwise_xor, _p.bitwise_not
isnan, isinf, isfinite, isclose, allclose, equal = _p.isnan, _p.isinf, _p.isfinite, _p.isclose, _p.allclose, _p.equal
matmul, mm, bmm, dot, mv, outer = _l.matmul, _l.mm, _l.bmm, _l.dot, _l.mv, _l.outer
from ._ops.einsum import einsum  # noqa: E402,F401
from ._compile import compile  # noqa: E402,F401,A001

# ---- reductions ------------------------------------------------------------------------------------
sum, mean, prod = _r.sum, _r.mean, _r.prod  # noqa: A001
max, min, amax, amin, argmax, argmin = _r.max, _r.min, _r.amax, _r.amin, _r.argmax, _r.argmin  # noqa: A001
var, std, norm, logsumexp, cumsum = _r.var, _r.std, _r.norm, _r.logsumexp, _r.cumsum
all, any, count_nonzero = _r.all, _r.any, _r.count_nonzero  # noqa: A001
softmax, log_softmax, sort, topk = _r.softmax, _r.log_softmax, _r.sort, _r.topk


# ---- searching and sorting (glasstorch/_ops/sorting.py) ----------------------------------------------
from ._ops import sorting as _so  # noqa: E402

argsort, msort, argwhere = _so.argsort, _so.msort, _so.argwhere
unique, unique_consecutive = _so.unique, _so.unique_consecutive
kthvalue, median, nanmedian, mode, quantile, nanquantile = (_so.kthvalue, _so.median, _so.nanmedian, _so.mode,
                                                            _so.quantile, _so.nanquantile)
searchsorted, bucketize = _so.searchsorted, _so.bucketize
bincount, histc, histogram = _so.bincount, _so.histc, _so.histogram


# ---- shape and indexing ----------------------------------------------------------------------------
cat, concat, concatenate, stack = _s.cat, _s.cat, _s.cat, _s.stack
reshape, flatten, unflatten, squeeze, unsqueeze = _s.reshape, _s.flatten, _s.unflatten, _s.squeeze, _s.unsqueeze
transpose = swapaxes = swapdims = _s.transpose
permute, movedim, t, chunk, split, unbind, narrow = _s.permute, _s.movedim, _s.t, _s.chunk, _s.split, _s.unbind, _s.narrow
select = _s.select
flip, tril, triu, clone = _s.flip, _s.tril, _s.triu, _s.clone
gather, scatter_add, index_select, masked_fill, nonzero = _i.gather, _i.scatter_add, _i.index_select, _i.masked_fill, _i.nonzero
scatter, scatter_reduce, index_add, index_copy, index_fill, index_reduce = (_i.scatter, _i.scatter_reduce, _i.index_add,
                                                                           _i.index_copy, _i.index_fill, _i.index_reduce)
index_put, masked_select, masked_scatter = _i.index_put_tensors, _i.masked_select, _i.masked_scatter
take, take_along_dim, put = _i.take, _i.take_along_dim, _i.put
roll, rot90, tile, repeat_interleave, tensor_split = _s.roll, _s.rot90, _s.tile, _s.repeat_interleave, _s.tensor_split
hsplit, vsplit, dsplit, hstack, vstack, dstack = _s.hsplit, _s.vsplit, _s.dsplit, _s.hstack, _s.vstack, _s.dstack
column_stack, row_stack = _s.column_stack, _s.row_stack
atleast_1d, atleast_2d, atleast_3d = _s.atleast_1d, _s.atleast_2d, _s.atleast_3d
meshgrid, cartesian_prod, combinations, triu_indices, tril_indices = (_s.meshgrid, _s.cartesian_prod, _s.combinations,
                                                                      _s.triu_indices, _s.tril_indices)
diag, diagonal, diag_embed, diagflat, block_diag = _s.diag, _s.diagonal, _s.diag_embed, _s.diagflat, _s.block_diag
broadcast_tensors, moveaxis = _s.broadcast_tensors, _s.moveaxis


def broadcast_to(input: Tensor, size) -> Tensor:
    return _s.expand(input, size)


def numel(input: Tensor) -> int:
    return input.numel()


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    return input.dtype.is_floating_point


def is_inference(input: Tensor) -> bool:
    return input.is_inference()


def result_type(a, b) -> dtype:
    return _result_type(a, b)


def can_cast(from_: dtype, to: dtype) -> bool:
    return from_.category <= to.category


def detach(input: Tensor) -> Tensor:
    return input.detach()


def broadcast_shapes(*shapes) -> Size:
    import numpy as _np

    return Size(_np.broadcast_shapes(*shapes))


from . import cuda  # noqa: E402,F401
from . import amp, cpu  # noqa: E402,F401  torch.amp (autocast, GradScaler) and torch.cpu(.amp)
from .amp import autocast  # noqa: E402,F401
from .amp.autocast_mode import (  # noqa: E402,F401
    clear_autocast_cache, get_autocast_cpu_dtype, get_autocast_dtype, get_autocast_gpu_dtype,
    is_autocast_cache_enabled, is_autocast_cpu_enabled, is_autocast_enabled, set_autocast_cache_enabled,
    set_autocast_dtype, set_autocast_enabled,
)
from . import accelerator, backends  # noqa: E402,F401
from .serialization import load, save  # noqa: E402,F401
from . import nn, optim, utils  # noqa: E402,F401
from .nn.functional import cosine_similarity, pairwise_distance  # noqa: E402,F401  (torch has both at the top)
from ._ops.conv import convolution  # noqa: E402,F401
from .nn._conv import (  # noqa: E402,F401  torch.conv2d & co.: the functional forms
    adaptive_avg_pool1d, avg_pool1d, conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d,
    max_pool1d, max_pool1d_with_indices, max_pool2d,
)
from .nn._conv import adaptive_max_pool1d_with_indices as adaptive_max_pool1d  # noqa: E402,F401  (values, indices)
from .utils import data as _data  # noqa: E402,F401
from . import distributions  # noqa: E402,F401
from . import viz  # noqa: E402,F401  glasstorch.viz: traces, graph pictures, model summaries
from . import onnx  # noqa: E402,F401  torch.onnx.export (needs the optional `onnx` package, imported lazily)

# ---- more math, linear algebra and statistics (glasstorch/_ops/elementwise.py, products.py, scans.py,
# statistics.py, linalg_decomp.py), torch.linalg and torch.special ---------------------------------------
from . import linalg, special  # noqa: E402,F401
from . import fft  # noqa: E402,F401  torch.fft (glasstorch/_ops/fft.py)
from ._ops import elementwise as _e, linalg_decomp as _ld, products as _pr, scans as _sc, statistics as _st  # noqa: E402
from ._ops.complex import (  # noqa: E402,F401
    angle, complex, conj, imag, is_complex, polar, real, view_as_complex, view_as_real,
)
conj_physical = conj
asin, acos, atan, sinh, cosh, asinh, acosh, atanh = _e.asin, _e.acos, _e.atan, _e.sinh, _e.cosh, _e.asinh, _e.acosh, _e.atanh
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
atan2 = arctan2 = _e.atan2
hypot, copysign, logaddexp, logaddexp2, xlogy, heaviside = (_e.hypot, _e.copysign, _e.logaddexp, _e.logaddexp2,
                                                            _e.xlogy, _e.heaviside)
frac, fix, deg2rad, rad2deg, sinc, logit = _e.frac, _p.trunc, _e.deg2rad, _e.rad2deg, _e.sinc, _e.logit
erfc, erfinv, i0, nan_to_num, isin, signbit, positive = (_e.erfc, _e.erfinv, _e.i0, _e.nan_to_num, _e.isin,
                                                         _e.signbit, _e.positive)
bitwise_left_shift, bitwise_right_shift = _e.bitwise_left_shift, _e.bitwise_right_shift
exp2, ldexp, fmax, fmin, float_power, sgn, gcd, lcm = (_e.exp2, _e.ldexp, _e.fmax, _e.fmin, _e.float_power, _e.sgn,
                                                       _e.gcd, _e.lcm)
cumprod, cummax, cummin, logcumsumexp, diff = _sc.cumprod, _sc.cummax, _sc.cummin, _sc.logcumsumexp, _sc.diff
trace, inner, kron, cross, tensordot, vdot = _pr.trace, _pr.inner, _pr.kron, _pr.cross, _pr.tensordot, _pr.vdot
addmm, addmv, addbmm, baddbmm, chain_matmul = _pr.addmm, _pr.addmv, _pr.addbmm, _pr.baddbmm, _pr.chain_matmul
cdist, dist = _pr.cdist, _pr.dist
det, logdet, slogdet, inverse, pinverse, matrix_power = (_ld.det, _ld.logdet, _ld.slogdet, _ld.linalg_inv,
                                                         _ld.pinverse, _ld.matrix_power)
cholesky, svd = _ld.torch_cholesky, _ld.svd_legacy
std_mean, var_mean, aminmax, nansum, nanmean = _st.std_mean, _st.var_mean, _st.aminmax, _st.nansum, _st.nanmean
cov, corrcoef = _st.cov, _st.corrcoef

# ---- out=: the everyday top-level functions also write into a given tensor (glasstorch/_ops/out.py) ---------
from ._ops.out import with_out as _with_out  # noqa: E402

for _name in ("add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "pow", "neg", "abs",
              "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "clamp", "clip", "maximum", "minimum",
              "floor", "ceil", "round", "remainder", "fmod", "matmul", "mm", "bmm", "mv", "dot", "addmm",
              "cat", "concat", "concatenate", "stack", "sum", "mean", "prod", "cumsum"):
    globals()[_name] = _with_out(globals()[_name], exported_as=_name)
for _name in ("zeros", "ones", "full", "arange", "linspace", "eye"):  # these take out's dtype
    globals()[_name] = _with_out(globals()[_name], dtype_from_out=True, exported_as=_name)
del _name

# ---- process-wide settings: threads, deterministic algorithms, float32 matmul precision (glasstorch/_settings.py)
from ._settings import *  # noqa: E402,F401,F403
from ._memory_format import *  # noqa: E402,F401,F403  (torch.channels_last & co.: accepted, no layout change)
from . import func  # noqa: E402,F401  (torch.func.functional_call)

# ---- more top-level functions: functional forms of Tensor methods, activation/dropout aliases, constants and
# the in-place functions (torch.relu_(x), ...) (glasstorch/_torch_functions.py) -------------------------------
from ._torch_functions import *  # noqa: E402,F401,F403

# ---- the smaller namespaces: torch.testing, jit, random, version, profiler, multiprocessing, hub ---------------
from . import hub, jit, multiprocessing, profiler, random, testing, version  # noqa: E402,F401
from .autograd import profiler as _autograd_profiler  # noqa: E402,F401  (torch.autograd.profiler, the older API)
