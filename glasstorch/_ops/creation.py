"""Tensor creation (tensor, zeros, rand, arange, ...), conversion (`to`) and random fills."""
from __future__ import annotations

import builtins
import math
import numbers

import numpy as np

from .. import _dtype
from .._device import _DEFAULT, CPU, device as _device, tensor_device
from .._random import rng_of
from .deferred import begin_write, exported
from .._tensor import Tensor, _dtype_arg, _make
from ._util import Node, _GradMode, not_implemented, record, scalar_value
from ._util import fill_value as _fill_value


def _dev(device):
    return _DEFAULT[-1] if device is None else tensor_device(device)


def _finish(data, device, requires_grad: bool) -> Tensor:
    dev = _dev(device)
    if dev is not CPU:
        data = dev.backend.from_numpy(data)
    t = _make(data, dev)
    if requires_grad:
        t.requires_grad = True
    return t


def _sizes(size) -> tuple:
    if len(size) == 1 and not isinstance(size[0], numbers.Integral):
        size = size[0]
    try:
        out = tuple(int(s) for s in size)
    except TypeError:
        raise TypeError(f"size must be a sequence of ints, got {size!r}") from None
    for s in out:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: [{', '.join(map(str, out))}]")
    return out


def _float_dtype(dtype):
    d = _dtype_arg(dtype) or _dtype.get_default_dtype()
    return d


# ---- from data ------------------------------------------------------------------------------------
def _to_nested_numpy(data):
    """Replace tensors inside nested lists with arrays so NumPy can build one array."""
    if isinstance(data, Tensor):
        return data.device.backend.to_numpy(data._data)
    if isinstance(data, (list, tuple)):
        return [_to_nested_numpy(d) for d in data]
    return data


def _typed_leaves_dtype(data):
    """PyTorch's dtype for a nested list holding NumPy arrays or scalars or tensors: every element's dtype
    promoted together (a Python float counts as the default dtype, an int as int64); None when the list
    holds Python numbers only (NumPy's inference is then enough)."""
    found, result, stack = False, None, [data]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
            continue
        if isinstance(item, Tensor):
            d, found = item.dtype, True
        elif isinstance(item, (np.ndarray, np.generic)):
            d, found = _dtype.from_numpy_dtype(item.dtype), True
        else:
            d = _dtype.scalar_dtype(item)
        result = d if result is None else _dtype.promote_types(result, d)
    return result if found else None


def _infer_array(data, dtype=None) -> np.ndarray:
    """An array for `data` with PyTorch's dtype inference (Python floats -> default dtype).

    With `dtype` given, Python numbers convert straight to it (0.3 as float64 stays exact)."""
    if isinstance(data, (np.ndarray, np.generic)):
        arr = np.asarray(data)
    else:
        try:
            arr = np.array(_to_nested_numpy(data))
        except ValueError:
            raise ValueError(f"expected sequence of equal lengths at every dimension, got {data!r:.80}") from None
        if dtype is not None and arr.dtype.kind in "fiubc":
            return arr
        typed = _typed_leaves_dtype(data)
        if typed is not None:  # arrays or tensors inside the list: their dtypes count, as in PyTorch
            return arr.astype(typed.np)
        if arr.dtype == np.float64:
            arr = arr.astype(_dtype.get_default_dtype().np)
        elif arr.dtype == np.complex128:  # Python complex numbers: the default complex dtype
            arr = arr.astype(_dtype.get_default_dtype().to_complex().np)
        elif arr.dtype.kind in "iu" and arr.dtype.itemsize == 8:
            arr = arr.astype(np.int64)
    if arr.dtype.kind not in "fiubc" and arr.dtype not in _dtype._FROM_NP:
        raise TypeError(f"Could not infer dtype of {type(data).__name__}")
    return arr


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of `data` (a number, nested list, array or tensor)."""
    dtype = _dtype_arg(dtype)
    if isinstance(data, Tensor):
        arr = data.device.backend.to_numpy(data._data)
        if device is None:
            device = data.device
    else:
        arr = _infer_array(data, dtype)
        if arr.dtype.kind == "c" and dtype is not None and not dtype.is_complex:
            raise TypeError("must be real number, not complex")  # Python complex numbers into a real dtype
    arr = arr.astype(dtype.np) if dtype is not None else arr.copy()
    _dtype.from_numpy_dtype(arr.dtype)  # refuse dtypes glasstorch has no tensor for
    return _finish(arr, device, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like tensor(), but shares memory with a NumPy array or tensor when no conversion is needed."""
    dtype = _dtype_arg(dtype)
    if isinstance(data, Tensor):
        return data if dtype is None and device is None else data.to(device=device, dtype=dtype)
    if isinstance(data, np.ndarray) and (dtype is None or dtype.np == data.dtype) and _dev(device) is CPU:
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(a: np.ndarray) -> Tensor:
    """A tensor sharing memory with the NumPy array `a`."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(a).__name__})")
    _dtype.from_numpy_dtype(a.dtype)
    if not a.dtype.isnative:
        raise ValueError("given numpy array has byte order different from the native byte order. "
                         "Conversion between byte orders is currently not supported.")
    t = _make(a, CPU)
    exported(t)  # the caller's array: NumPy code may write it behind glasstorch's back
    return t


def scalar_like(value, like: Tensor) -> Tensor:
    """A 0-dim tensor for a Python number used next to `like` (its dtype per PyTorch's promotion)."""
    value = scalar_value(value)
    rt = _dtype.result_type(like, value)
    return _make(like.device.xp.asarray(value, dtype=rt.np), like.device)


# ---- filled -----------------------------------------------------------------------------------------
def zeros(*size, dtype=None, device=None, requires_grad: bool = False, out=None) -> Tensor:
    try:
        size = _sizes(size)
    except RuntimeError:  # PyTorch words zeros' check its own way
        raise RuntimeError("zeros: Dimension size must be non-negative.") from None
    return _finish(np.zeros(size, dtype=_float_dtype(dtype).np), device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False, out=None) -> Tensor:
    return _finish(np.ones(_sizes(size), dtype=_float_dtype(dtype).np), device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False, memory_format=None) -> Tensor:
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    fill_value = scalar_value(fill_value.item() if isinstance(fill_value, Tensor) else fill_value)
    d = _dtype_arg(dtype) or _dtype.scalar_dtype(fill_value)
    return _finish(np.full(_sizes((size,)), _fill_value(fill_value, d.np), dtype=d.np), device, requires_grad)


def _like(x: Tensor, dtype, device):
    return (_dtype_arg(dtype) or x.dtype), (x.device if device is None else device)


def zeros_like(x: Tensor, *, dtype=None, device=None, requires_grad: bool = False, memory_format=None) -> Tensor:
    d, dev = _like(x, dtype, device)
    return zeros(x.shape, dtype=d, device=dev, requires_grad=requires_grad)


def ones_like(x: Tensor, *, dtype=None, device=None, requires_grad: bool = False, memory_format=None) -> Tensor:
    d, dev = _like(x, dtype, device)
    return ones(x.shape, dtype=d, device=dev, requires_grad=requires_grad)


def empty_like(x: Tensor, *, dtype=None, device=None, requires_grad: bool = False, memory_format=None) -> Tensor:
    return zeros_like(x, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(x: Tensor, fill_value, *, dtype=None, device=None, requires_grad: bool = False, memory_format=None) -> Tensor:
    d, dev = _like(x, dtype, device)
    return full(x.shape, fill_value, dtype=d, device=dev, requires_grad=requires_grad)


def eye(n: int, m: int | None = None, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is not None and m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    return _finish(np.eye(n, n if m is None else m, dtype=_float_dtype(dtype).np), device, requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Values from start (inclusive) to end (exclusive) in steps of `step`."""
    if end is None:
        start, end = 0, start
    start, end, step = (scalar_value(v.item() if isinstance(v, Tensor) else v) for v in (start, end, step))
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0 and end != start:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    d = _dtype_arg(dtype)
    if d is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        d = _dtype.get_default_dtype() if is_float else _dtype.int64
    if d is _dtype.int64 and all(type(v) is int for v in (start, end, step)):
        return _finish(np.arange(start, end, step, dtype=np.int64), device, requires_grad)
    n = builtins.max(math.ceil((end - start) / step), 0)
    data = (start + np.arange(n, dtype=np.float64 if d.is_floating_point or not all(
        isinstance(v, int) for v in (start, end, step)) else np.int64) * step).astype(d.np)
    return _finish(data, device, requires_grad)


def linspace(start, end, steps: int, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    d = _float_dtype(dtype)
    work = d.np if d.is_floating_point else np.dtype(np.float64)
    i = np.arange(steps, dtype=work)
    if steps > 1:
        step = (work.type(end) - work.type(start)) / work.type(steps - 1)
        half = steps // 2
        data = np.where(i < half, work.type(start) + i * step, work.type(end) - (steps - 1 - i) * step)
    else:
        data = np.full(steps, start, dtype=work)
    return _finish(data.astype(d.np), device, requires_grad)


# ---- random ------------------------------------------------------------------------------------------
def _random_float(draw, size, dtype, kernel: str):
    d = _float_dtype(dtype)
    if not d.is_floating_point:
        raise not_implemented(kernel, d.np)
    work = d.np if d.np in (np.float32, np.float64) else np.float32
    return draw(size, work).astype(d.np, copy=False)


def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    rng = rng_of(generator)
    data = _random_float(lambda s, t: rng.random(s, dtype=t), _sizes(size), dtype, "check_uniform_bounds")
    return _finish(data, device, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    rng = rng_of(generator)
    data = _random_float(lambda s, t: rng.standard_normal(s, dtype=t), _sizes(size), dtype, "normal_kernel_cpu")
    return _finish(data, device, requires_grad)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """randint(high, size) or randint(low, high, size): integers in [low, high)."""
    if size is None:
        low, high, size = 0, low, high
    if high is None or size is None:
        raise TypeError("randint() missing required argument 'size'")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    d = _dtype_arg(dtype) or _dtype.int64
    data = rng_of(generator).integers(low, high, size=_sizes((size,)), dtype=np.int64).astype(d.np)
    return _finish(data, device, requires_grad)


def randperm(n: int, *, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    d = _dtype_arg(dtype) or _dtype.int64
    _sizes((n,))
    data = rng_of(generator).permutation(int(n)).astype(d.np)
    return _finish(data, device, requires_grad)


def rand_like(x: Tensor, *, generator=None, dtype=None, device=None, requires_grad: bool = False,
              memory_format=None) -> Tensor:
    d, dev = _like(x, dtype, device)
    return rand(x.shape, generator=generator, dtype=d, device=dev, requires_grad=requires_grad)


def randn_like(x: Tensor, *, generator=None, dtype=None, device=None, requires_grad: bool = False,
               memory_format=None) -> Tensor:
    d, dev = _like(x, dtype, device)
    return randn(x.shape, generator=generator, dtype=d, device=dev, requires_grad=requires_grad)


def randint_like(x: Tensor, low, high=None, *, generator=None, dtype=None, device=None,
                 requires_grad: bool = False, memory_format=None) -> Tensor:
    d, dev = _like(x, dtype, device)
    if high is None:  # randint_like(x, high)
        low, high = 0, low
    return randint(low, high, x.shape, generator=generator, dtype=d, device=dev, requires_grad=requires_grad)


def multinomial(probs: Tensor, num_samples: int, replacement: bool = False, *, generator=None) -> Tensor:
    rng = rng_of(generator)
    p = probs.detach().cpu().numpy().astype(np.float64)
    rows = p.reshape(-1, p.shape[-1])
    out = np.stack([rng.choice(r.size, num_samples, replace=replacement, p=r / r.sum()) for r in rows])
    return _finish(out.reshape(p.shape[:-1] + (num_samples,)).astype(np.int64), probs.device, False)


def _fill_random(x: Tensor, data) -> Tensor:
    begin_write(x)
    x._data[...] = x.device.backend.from_numpy(np.asarray(data)) if x.device is not CPU else data
    x._vc[0] += 1
    return x


def _draw_affine(x: Tensor, draw, scale, shift) -> Tensor:
    """x <- draw() * scale + shift, drawn straight into x's array when it can take it (no temporaries:
    initialising a large layer is otherwise dominated by them)."""
    begin_write(x)
    d = x._data
    if x.device is CPU and d.dtype in (np.float32, np.float64) and d.flags.c_contiguous:
        draw(d.shape, d.dtype, d)
        d *= scale
        d += shift
        x._vc[0] += 1
        return x
    return _fill_random(x, draw(d.shape, np.float64, None) * scale + shift)


def normal_(x: Tensor, mean=0.0, std=1.0, generator=None) -> Tensor:
    rng = rng_of(generator)
    return _draw_affine(x, lambda shape, dtype, out: rng.standard_normal(shape, dtype=dtype, out=out), std, mean)


def uniform_(x: Tensor, a=0.0, b=1.0, generator=None) -> Tensor:
    rng = rng_of(generator)
    return _draw_affine(x, lambda shape, dtype, out: rng.random(shape, dtype=dtype, out=out), b - a, a)


def bernoulli_(x: Tensor, p=0.5, generator=None) -> Tensor:
    rng = rng_of(generator)
    p = p.detach().cpu().numpy() if isinstance(p, Tensor) else p
    return _fill_random(x, rng.random(x._data.shape) < p)


def bernoulli(p: Tensor, *, generator=None) -> Tensor:
    return bernoulli_(zeros_like(p), p, generator)


def exponential_(x: Tensor, lambd=1.0, generator=None) -> Tensor:
    return _fill_random(x, rng_of(generator).exponential(1.0 / lambd, x._data.shape))


def geometric_(x: Tensor, p: float, generator=None) -> Tensor:
    """Trials up to the first success (1, 2, ...), success probability p."""
    return _fill_random(x, rng_of(generator).geometric(p, x._data.shape))


def log_normal_(x: Tensor, mean: float = 1.0, std: float = 2.0, generator=None) -> Tensor:
    """exp of a normal(mean, std) draw."""
    return _fill_random(x, rng_of(generator).lognormal(mean, std, x._data.shape))


def cauchy_(x: Tensor, median: float = 0.0, sigma: float = 1.0, generator=None) -> Tensor:
    return _fill_random(x, median + sigma * rng_of(generator).standard_cauchy(x._data.shape))


def poisson(rates: Tensor, generator=None) -> Tensor:
    """A Poisson draw for every rate, in the rates' dtype (not differentiable, as in PyTorch)."""
    lam = rates.detach().cpu().numpy()
    return _finish(rng_of(generator).poisson(lam).astype(lam.dtype), rates.device, False)


def random_(x: Tensor, *args, generator=None) -> Tensor:
    low, high = (0, args[0]) if len(args) == 1 else (args if args else (0, 2 ** 24))
    return _fill_random(x, rng_of(generator).integers(low, high, x._data.shape))


def normal(mean, std, size=None, *, generator=None, dtype=None, device=None) -> Tensor:
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        like = mean if isinstance(mean, Tensor) else std
        noise = randn(like.shape, generator=generator, dtype=like.dtype)
        return (noise * std + mean).detach()
    return normal_(empty(_sizes((size,)), dtype=dtype, device=device), mean, std, generator)


# ---- conversion -------------------------------------------------------------------------------------
class ToCopyBackward0(Node):
    def __init__(self, x):
        super().__init__((x,), ())
        self.dtype, self.device = x.dtype, x.device

    def backward(self, g):
        return (to(g, self.device, self.dtype),)


def _parse_to(x: Tensor, args, kwargs):
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    for a in args:
        if isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif isinstance(a, _dtype.dtype) or a in (float, int, builtins.bool):
            dtype = _dtype_arg(a)
        elif isinstance(a, (str, _device)) or isinstance(a, int):
            device = a if not isinstance(a, int) or isinstance(a, builtins.bool) else f"cuda:{a}"
        elif isinstance(a, builtins.bool):
            pass
        elif a is not None:
            raise TypeError(f"to() received an invalid combination of arguments - got ({type(a).__name__})")
    return _dtype_arg(dtype), (None if device is None else tensor_device(device)), copy


def _complex_to_real(data, dtype):
    """The real parts, with PyTorch's warning (in place of NumPy's ComplexWarning)."""
    import warnings

    warnings.warn("Casting complex values to real discards the imaginary part", UserWarning, stacklevel=4)
    return data.real.astype(dtype.np)


def to(x: Tensor, *args, **kwargs) -> Tensor:
    """Convert to another dtype and/or device; returns `x` itself when nothing changes."""
    dtype, device, copy = _parse_to(x, args, dict(kwargs))
    same_dtype = dtype is None or dtype.np == x._data.dtype
    same_device = device is None or device is x.device
    if same_dtype and same_device and not copy:
        return x
    data = x._data
    if not same_device:
        data = device.backend.from_numpy(x.device.backend.to_numpy(data))
    if not same_dtype and data.dtype.kind == "c" and not dtype.is_complex:
        data = _complex_to_real(data, dtype)
    elif not same_dtype:
        data = data.astype(dtype.np)
    elif copy and data is x._data:
        data = data.copy()
    out = _make(data, x.device if same_device else device)
    if _GradMode.enabled and x._requires_grad and (dtype is None or dtype.is_floating_point):
        record(out, ToCopyBackward0(x))
    return out


# ---- more creation: logspace, vander, asarray, frombuffer, empty_strided ----------------------------------
def logspace(start, end, steps: int, base: float = 10.0, *, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """base ** linspace(start, end, steps), in the default float dtype (or dtype)."""
    d = _float_dtype(dtype)
    exponents = linspace(start, end, steps, dtype=d if d.is_floating_point else _dtype.float64)._data
    data = np.power(exponents.dtype.type(base), exponents)
    return _finish(data.astype(d.np), device, requires_grad)


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix of a 1-D x: columns x**(N-1), ..., x, 1 (or the reverse when increasing)."""
    from .shape import cat, flip
    from .scans import cumprod

    if x._data.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x._data.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    if x._data.dtype.kind in "biu":
        x = x.to(_dtype.int64)  # integer and bool inputs give int64 powers, as in PyTorch
    columns = [ones(x._data.shape[0], 1, dtype=x.dtype, device=x.device)]
    if n > 1:
        columns.append(x.unsqueeze(1).expand(x._data.shape[0], n - 1))
    out = cumprod(cat(columns, 1), 1)[:, :n]
    return out if increasing else flip(out, (1,))


def asarray(obj, *, dtype=None, device=None, copy: bool | None = None, requires_grad: bool = False) -> Tensor:
    """A tensor from a tensor, NumPy array, buffer or (nested) sequence, sharing memory when it can.

    copy=None shares when no conversion is needed; copy=False insists on sharing (ValueError if it
    cannot); copy=True always copies."""
    dtype = _dtype_arg(dtype)
    if isinstance(obj, Tensor):
        same = (dtype is None or dtype is obj.dtype) and (device is None or tensor_device(device) == obj.device)
        if same and not copy:
            return obj
        if copy is False:
            raise ValueError(f"can't alias tensor with dtype '{_type_word(obj.dtype)}' into dtype "
                             f"'{_type_word(dtype or obj.dtype)}'.")
        out = obj.detach().to(device=device, dtype=dtype, copy=True)
    elif isinstance(obj, np.ndarray) or hasattr(obj, "__array_interface__"):
        arr = np.asarray(obj)
        shares = (dtype is None or dtype.np == arr.dtype) and _dev(device) is CPU
        if copy is False and not shares:
            raise ValueError(f"can't alias tensor with dtype '{_type_word(_dtype.from_numpy_dtype(arr.dtype))}' "
                             f"into dtype '{_type_word(dtype)}'.")
        if shares and not copy:
            out = from_numpy(arr)
        else:
            out = _finish(arr.astype(dtype.np if dtype is not None else arr.dtype, copy=True), device, False)
    else:
        if copy is False:
            raise ValueError("can't alias a Python sequence or number: a new tensor has to be made (use copy=None)")
        out = tensor(obj, dtype=dtype, device=device)
    if requires_grad:
        out.requires_grad_(True)
    return out


def _type_word(d) -> str:
    from ._util import type_word

    return type_word(d.np)


def frombuffer(buffer, *, dtype, count: int = -1, offset: int = 0, requires_grad: bool = False) -> Tensor:
    """A 1-D tensor over the bytes of a Python buffer (bytes, bytearray, memoryview, array.array), sharing them."""
    d = _dtype_arg(dtype)
    total = memoryview(buffer).nbytes
    item = d.np.itemsize
    if count < 0:
        if (total - offset) % item:
            raise ValueError(f"buffer length ({total - offset} bytes) after offset ({offset} bytes) must be a multiple "
                             f"of element size ({item})")
        count = (total - offset) // item
    elif offset + count * item > total:
        raise ValueError(f"requested buffer length ({count} * {item} bytes) after offset ({offset} bytes) must not be "
                         f"greater than actual buffer length ({total} bytes)")
    data = np.frombuffer(buffer, dtype=d.np, count=count, offset=offset)
    if not data.flags.writeable:  # bytes are read-only; PyTorch warns and shares them anyway
        import warnings

        warnings.warn("The given buffer is not writable, and PyTorch does not support non-writable tensors. This "
                      "means you can write to the underlying (supposedly non-writable) buffer using the tensor. You "
                      "may want to copy the buffer to protect its data or make it writable before converting it to "
                      "a tensor. This type of warning will be suppressed for the rest of this program.",
                      UserWarning, stacklevel=2)
    return _finish(data, "cpu", requires_grad)  # always on the CPU, whatever the default device


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor (zeros here) of the given size whose strides are `stride`."""
    from .shape import as_strided

    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    reach = sum((n - 1) * s for n, s in zip(size, stride)) + 1 if all(size) else 0
    storage = zeros(reach, dtype=dtype, device=device)
    out = as_strided(storage, size, stride, 0)
    out._base = None  # a tensor of its own, not a view of a temporary
    out._vc = [0]
    if requires_grad:
        out.requires_grad_(True)
    return out
