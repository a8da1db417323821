"""A test-only CUDA backend: NumPy underneath, but a separate device as far as the library can tell.

CI has no GPU, so CUDA code paths are exercised on this stand-in. Its arrays (`ndarray`, a wrapper
around a NumPy array) behave as CuPy's do where that catches bugs:

- no silent copy to host memory: `np.asarray(a)` raises CuPy's TypeError; `.get()`, `.item()`,
  `.tolist()`, `float(a)` and `bool(a)` are explicit copies and work;
- no mixing with host arrays: an op of a device array and a NumPy array raises TypeError;
- reductions and scalar indexing give 0-d device arrays, never NumPy scalars;
- `xp.indices` has no `sparse=` and `xp.errstate` does not exist (CuPy lacks both).

`xp` is NumPy's namespace with every function wrapped the same way (unwrap device arrays, refuse
host arrays, wrap the results), plus the few CuPy-only names the library uses (`asnumpy`,
`cuda.Device().synchronize()`, the default memory pool). Selected by `GLASSTORCH_FAKE_CUDA=1` or
`glasstorch.backends.use_fake_cuda()`; never used otherwise.
"""
from __future__ import annotations

import types
import weakref

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from . import _views, special

name = "cuda"
_IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a NumPy "
             "array explicitly.")
# CuPy's attributes are its own; these NumPy-only ones would hide host-memory assumptions
_HOST_ONLY = frozenset({"__array_interface__", "__array_struct__", "ctypes"})
# NumPy names CuPy lacks, which the library probes with hasattr (GPUs raise no floating-point warnings)
_NOT_IN_CUPY = frozenset({"errstate", "seterr", "geterr"})


class ndarray(NDArrayOperatorsMixin):
    """A device array: holds a NumPy array `_a` and refuses to be taken for one."""

    __slots__ = ("_a", "__weakref__")
    __hash__ = None

    def __init__(self, a: np.ndarray) -> None:
        self._a = a

    # ---- no implicit host copies -----------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError(_IMPLICIT)

    def get(self) -> np.ndarray:
        """An explicit copy in host memory (cupy.ndarray.get)."""
        return self._a.copy()

    # ---- NumPy dispatch: unwrap, refuse host arrays, wrap --------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.get("out")
        result = _call(getattr(ufunc, method), inputs, kwargs)
        if out is not None:  # in-place forms hand back the device arrays they wrote
            return out[0] if len(out) == 1 else out
        return result

    def __array_function__(self, func, types, args, kwargs):
        return _call(func, args, kwargs)

    # ---- attributes and methods of the array -----------------------------------------------
    def __getattr__(self, attr: str):
        if attr in _HOST_ONLY or attr.startswith("_"):
            raise AttributeError(f"'cupy.ndarray' object has no attribute '{attr}'")
        value = getattr(self._a, attr)
        if callable(value):
            return _Wrapped(value)
        return _wrap(value)

    @property
    def data(self):
        """The device pointer holder (CuPy's MemoryPointer has `.ptr`)."""
        return types.SimpleNamespace(ptr=self._a.__array_interface__["data"][0])

    @property
    def device(self):
        """The device it lives on (cupy.cuda.Device): there is one."""
        return _Device(0)

    @property
    def shape(self):
        return self._a.shape

    @shape.setter
    def shape(self, value):
        self._a.shape = value

    @property
    def dtype(self):
        return self._a.dtype

    @property
    def ndim(self):
        return self._a.ndim

    @property
    def size(self):
        return self._a.size

    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self):
        return (_wrap(row) for row in self._a)

    def __getitem__(self, index):
        return _wrap(self._a[_unwrap(index, host_ok=True)])

    def __setitem__(self, index, value) -> None:
        self._a[_unwrap(index, host_ok=True)] = _unwrap(value, host_ok=True)

    # explicit conversions of one element, which CuPy allows (each a device-to-host copy)
    def __bool__(self) -> bool:
        return bool(self._a)

    def __float__(self) -> float:
        return float(self._a)

    def __int__(self) -> int:
        return int(self._a)

    def __complex__(self) -> complex:
        return complex(self._a)

    def __copy__(self):
        return ndarray(self._a.copy())

    def __deepcopy__(self, memo):
        return ndarray(self._a.copy())

    def __reduce__(self):
        return (_from_host, (self._a,))

    def __repr__(self) -> str:
        return repr(self._a)

    def __str__(self) -> str:
        return str(self._a)


class _Wrapped:
    """A NumPy callable (function, ufunc, bound method) that takes and returns device arrays."""

    __slots__ = ("_f",)

    def __init__(self, f) -> None:
        self._f = f

    def __call__(self, *args, **kwargs):
        return _call(self._f, args, kwargs)

    def __getattr__(self, attr: str):  # ufunc methods: xp.add.at, xp.maximum.reduce, ...
        value = getattr(self._f, attr)
        return _Wrapped(value) if callable(value) else value


def _unwrap(obj, host_ok: bool = False):
    """NumPy arrays in place of device arrays, through lists, tuples and dicts; host arrays refused."""
    kind = type(obj)
    if kind is ndarray:
        return obj._a
    if kind is tuple or kind is list:
        return kind(_unwrap(o, host_ok) for o in obj)
    if kind is dict:
        return {k: _unwrap(v, host_ok) for k, v in obj.items()}
    if isinstance(obj, np.ndarray) and not host_ok:
        raise TypeError(f"Unsupported type {np.ndarray}")
    return obj


def _wrap(obj):
    """Device arrays in place of NumPy arrays and scalars (CuPy returns 0-d arrays, never scalars)."""
    if isinstance(obj, np.ndarray):
        _count(obj)
        return ndarray(obj)
    if isinstance(obj, np.generic):
        return _wrap(np.asarray(obj))
    if isinstance(obj, tuple):  # namedtuples too (linalg results)
        items = [_wrap(o) for o in obj]
        return type(obj)(*items) if hasattr(obj, "_fields") else tuple(items)
    if isinstance(obj, list):
        return [_wrap(o) for o in obj]
    return obj


def _call(f, args, kwargs):
    return _wrap(f(*_unwrap(args), **_unwrap(kwargs)))


def _from_host(a) -> ndarray:
    """A host-to-device copy of array-like data (NumPy arrays, nested lists, scalars)."""
    return _wrap(np.array(_unwrap(a, host_ok=True)))


# ---- memory accounting: bytes held by live device buffers ------------------------------------
_memory = {"allocated": 0, "peak": 0}
_owners: weakref.WeakValueDictionary = weakref.WeakValueDictionary()  # id -> counted buffer owner


def _release(nbytes: int) -> None:
    _memory["allocated"] -= nbytes


def _count(a: np.ndarray) -> None:
    """Count a newly wrapped buffer once (views are counted through their owner)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    if a.base is not None or _owners.get(id(a)) is a:  # counted, or memory NumPy does not own
        return
    _owners[id(a)] = a
    _memory["allocated"] += a.nbytes
    _memory["peak"] = max(_memory["peak"], _memory["allocated"])
    weakref.finalize(a, _release, a.nbytes)


def memory_allocated() -> int:
    """Bytes held by live device arrays now."""
    return _memory["allocated"]


def max_memory_allocated() -> int:
    """The peak of memory_allocated() since the start or the last reset_peak_memory_stats()."""
    return _memory["peak"]


def reset_peak_memory_stats() -> None:
    _memory["peak"] = _memory["allocated"]


# ---- the array namespace ----------------------------------------------------------------------
class _Namespace:
    """NumPy's namespace (or a submodule) with its callables wrapped for device arrays."""

    def __init__(self, module, extra: dict | None = None) -> None:
        self._module = module
        self.__dict__.update(extra or {})

    def __getattr__(self, attr: str):
        if attr in _NOT_IN_CUPY:
            raise AttributeError(f"module 'cupy' has no attribute '{attr}'")
        value = getattr(self._module, attr)
        if isinstance(value, types.ModuleType):
            value = _Namespace(value)
        elif isinstance(value, type):  # dtypes (xp.float32), exceptions: as CuPy, NumPy's own
            pass
        elif callable(value):
            value = _Wrapped(value)
        self.__dict__[attr] = value  # resolve each name once
        return value


def _asarray(a, dtype=None, order=None, *, copy=None):
    """xp.asarray: device arrays pass through (cast if asked); host data is copied to the device."""
    if type(a) is ndarray:
        return _wrap(np.asarray(a._a, dtype=dtype, order=order, copy=copy))
    return _wrap(np.array(_unwrap(a, host_ok=True), dtype=dtype, order=order or "K"))


def _array(a, dtype=None, copy=True, order="K", ndmin=0):
    """xp.array: a device array's copy (unless copy=False), or host data copied to the device."""
    if type(a) is ndarray:
        return _wrap(np.array(a._a, dtype=dtype, copy=copy, order=order, ndmin=ndmin))
    return _wrap(np.array(_unwrap(a, host_ok=True), dtype=dtype, order=order, ndmin=ndmin))


def _indices(dimensions, dtype=int):
    """cupy.indices: no `sparse=` argument."""
    return _wrap(np.indices(dimensions, dtype=dtype))


def _asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
    return a.get() if type(a) is ndarray else np.asarray(a, order=order)


class _Device:
    """cupy.cuda.Device(): work is synchronous here, so synchronize() has nothing to wait for."""

    def __init__(self, device=0) -> None:
        self.id = int(device)

    def synchronize(self) -> None:
        pass

    def use(self) -> None:
        pass


class _MemoryPool:
    """cupy.get_default_memory_pool(): the counts of live device arrays."""

    def used_bytes(self) -> int:
        return memory_allocated()

    def total_bytes(self) -> int:
        return memory_allocated()

    def free_all_blocks(self) -> None:
        pass


_POOL = _MemoryPool()
_PROPERTIES = {"name": b"glasstorch fake CUDA device", "totalGlobalMem": 16 * 1024 ** 3, "major": 8, "minor": 0,
               "multiProcessorCount": 1}
_runtime = types.SimpleNamespace(getDeviceCount=lambda: 1, getDeviceProperties=lambda device=0: dict(_PROPERTIES))
_cuda = types.SimpleNamespace(Device=_Device, runtime=_runtime)


class _DeviceNamespace(_Namespace):
    """The top-level `xp`: NumPy's names, plus CuPy's kernel classes run by fake_kernels.py."""

    def __getattr__(self, attr: str):
        if attr in ("ElementwiseKernel", "ReductionKernel"):
            from . import fake_kernels

            fake_kernels.adapt(_unwrap, _wrap)
            self.__dict__[attr] = getattr(fake_kernels, attr)
            return self.__dict__[attr]
        return super().__getattr__(attr)


xp = _DeviceNamespace(np, {"ndarray": ndarray, "asarray": _asarray, "array": _array, "indices": _indices,
                           "asnumpy": _asnumpy, "cuda": _cuda, "get_default_memory_pool": lambda: _POOL})


# ---- the backend module interface (as backends/cuda.py) --------------------------------------
def is_available() -> bool:
    return True


def device_count() -> int:
    return 1


def require() -> None:
    pass


def erf(a):
    return special.erf(xp, a)


def erfc(a):
    return special.erfc(xp, a)


def scatter_add(target, index, values):
    xp.add.at(target, index, values)
    return target


def view_positions(view, base):
    """For each element of `view` (a view into `base`), its index in base.reshape(-1)."""
    return _views.view_positions(xp, view, base, view.data.ptr - base.data.ptr)


def to_numpy(a) -> np.ndarray:
    """Device to host: a copy, as cupy.asnumpy makes."""
    return _asnumpy(a)


def from_numpy(a) -> ndarray:
    """Host to device: a copy, as cupy.asarray makes."""
    return _from_host(a)


def is_array(a) -> bool:
    return type(a) is ndarray
