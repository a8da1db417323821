"""torch.save / torch.load in PyTorch's own zip checkpoint format, read by a pickle VM that cannot run code.

A checkpoint is an uncompressed zip archive:

    archive/data.pkl          the object (a state dict, ...) pickled with protocol 2; every tensor is
                              REDUCE(torch._utils._rebuild_tensor_v2, (storage, offset, size, stride, ...))
                              and every storage is a persistent id ('storage', torch.FloatStorage, key,
                              location, numel) naming the record below
    archive/data/<key>        the raw bytes of one storage, 64-byte aligned in the file
    archive/byteorder         'little'
    archive/version           '3'

Real `torch.load(path, weights_only=True)` reads the files written here, and `load` reads files written
by `torch.save` (and by its legacy non-zip format). Loading never imports or calls anything named by the
file: `_Unpickler` interprets the pickle opcodes itself and resolves GLOBALs through a short allowlist of
stand-ins, refusing everything else with `pickle.UnpicklingError` before it could run.
"""
from __future__ import annotations

import _compat_pickle
import contextlib
import functools
import importlib
import io
import os
import pickle
import pickletools
import struct
import zipfile
import zlib
from collections import OrderedDict
from typing import IO, Any, Callable, Union

import numpy as np

import glasstorch  # the package is only read at call time, so importing it half-built is fine

from . import _dtype
from ._atomic import atomic_write
from ._device import CPU, device

__all__ = ["save", "load", "DEFAULT_PROTOCOL", "add_safe_globals", "get_safe_globals", "clear_safe_globals",
           "safe_globals"]

DEFAULT_PROTOCOL = 2
FileLike = Union[str, os.PathLike, IO[bytes]]
MapLocation = Union[None, str, device, dict, Callable]

_ALIGNMENT = 64  # torch aligns storage records so they can be memory-mapped
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C  # first pickle of a pre-1.6 (non-zip) checkpoint
_LEGACY_PROTOCOL = 1001
_ZIP_MAGIC = b"PK\x03\x04"

# torch's legacy storage class names, by glasstorch dtype name
_STORAGE_NAMES = {
    "float64": "DoubleStorage", "float32": "FloatStorage", "float16": "HalfStorage",
    "int64": "LongStorage", "int32": "IntStorage", "int16": "ShortStorage",
    "int8": "CharStorage", "uint8": "ByteStorage", "bool": "BoolStorage",
    "complex64": "ComplexFloatStorage", "complex128": "ComplexDoubleStorage",
    "bfloat16": "BFloat16Storage",  # its arrays need ml_dtypes; without it, loading one says so
}
# torch dtypes (and their storages) that glasstorch has no tensors for: refused with a precise message
_MISSING_DTYPES = {
    "complex32": "ComplexHalfStorage", "qint8": "QInt8Storage", "quint8": "QUInt8Storage",
    "qint32": "QInt32Storage", "quint4x2": "QUInt4x2Storage", "quint2x4": "QUInt2x4Storage",
    "uint16": None, "uint32": None, "uint64": None, "float8_e4m3fn": None, "float8_e5m2": None,
}


# ================================================================================================
# Saving
# ================================================================================================
class _GlobalName:
    """A global named by module and name, pickled as a GLOBAL opcode without importing it."""

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle's save_reduce insists that a reduce function be callable
        raise TypeError(f"{self.module}.{self.name} is only a name to pickle, not a function")


_GLOBAL_NAMES: dict[tuple[str, str], _GlobalName] = {}


def _global(module: str, name: str) -> _GlobalName:
    # One object per name, so the pickler's memo writes each GLOBAL once and BINGETs it after.
    key = (module, name)
    if key not in _GLOBAL_NAMES:
        _GLOBAL_NAMES[key] = _GlobalName(module, name)
    return _GLOBAL_NAMES[key]


class _StorageOut:
    """One tensor's data, written as record data/<key> and pickled as a persistent id."""

    __slots__ = ("key", "array", "location")

    def __init__(self, key: str, array: np.ndarray, location: str):
        self.key, self.array, self.location = key, array, location


class _DataOnly:
    """A tensor to pickle without its requires_grad flag (the data inside a Parameter)."""

    __slots__ = ("tensor",)

    def __init__(self, tensor):
        self.tensor = tensor


def _contiguous_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Row-major strides in elements, as torch computes them (size-0 dims count as 1)."""
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def _little_endian_numpy(t) -> np.ndarray:
    """A tensor's data as a C-contiguous little-endian NumPy array (no copy when it already is)."""
    a = t.device.backend.to_numpy(t._data)
    return a.astype(a.dtype.newbyteorder("<"), order="C", copy=False)


class _CheckpointPickler(pickle._Pickler):
    """Pickles objects the way torch.save does, naming torch's globals without importing torch.

    Tensors, parameters, dtypes, devices and sizes are written under torch's names, so real torch
    reads a file of plain containers; other objects (whole modules) are pickled by pickle's rules.
    """

    dispatch = dict(pickle._Pickler.dispatch)
    _AS_IS = {dict, list, tuple, str, int, float, bool, type(None), _GlobalName, _dtype.dtype}

    def __init__(self, file, protocol: int):
        super().__init__(file, protocol)
        self.storages: list[_StorageOut] = []
        try:
            from .nn import Parameter
        except ImportError:  # nn not importable: no Parameter can exist either
            Parameter = None
        self._parameter_type = Parameter

    def persistent_id(self, obj):
        if type(obj) is _StorageOut:
            storage_type = _global("torch", _STORAGE_NAMES[_dtype.from_numpy_dtype(obj.array.dtype).name])
            return ("storage", storage_type, obj.key, obj.location, obj.array.size)
        return None

    def reducer_override(self, obj):
        kind = type(obj)
        if kind in self._AS_IS:
            return NotImplemented  # pickle's own code, or the dispatch entries below
        if kind is OrderedDict:
            # __dict__ carries nn.Module.state_dict()'s `_metadata`; torch writes it with BUILD
            return (_global("collections", "OrderedDict"), (), vars(obj) or None, None, iter(obj.items()))
        if kind is _DataOnly:
            return self._reduce_tensor(obj.tensor, requires_grad=False)
        if self._parameter_type is not None and isinstance(obj, self._parameter_type):
            return (_global("torch._utils", "_rebuild_parameter"),
                    (_DataOnly(obj), bool(obj.requires_grad), OrderedDict()))
        if isinstance(obj, glasstorch.Tensor):
            return self._reduce_tensor(obj, requires_grad=bool(obj.requires_grad))
        if kind is device:
            return (_global("torch", "device"), (str(obj),))
        if kind is glasstorch.Size:
            return (_global("torch", "Size"), (tuple(obj),))
        # anything else (a whole Module, a user's object): pickle's own rules, as torch.save does;
        # loading it back needs weights_only=False or its classes in the safe-globals allow-list
        return NotImplemented

    def _reduce_tensor(self, t, requires_grad: bool):
        """torch's `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)` call."""
        storage = _StorageOut(str(len(self.storages)), _little_endian_numpy(t), str(t.device))
        self.storages.append(storage)
        shape = tuple(int(n) for n in t.shape)
        args = (storage, 0, shape, _contiguous_strides(shape), requires_grad, OrderedDict())
        return (_global("torch._utils", "_rebuild_tensor_v2"), args)

    def _save_global_name(self, obj: _GlobalName) -> None:
        # GLOBAL is valid in every protocol; torch.load accepts it for protocol 2 and up.
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("utf-8"))
        self.memoize(obj)

    def _save_dtype(self, obj: _dtype.dtype) -> None:
        self.save(_global("torch", obj.name))

    dispatch[_GlobalName] = _save_global_name
    dispatch[_dtype.dtype] = _save_dtype


def _write_record(zf: zipfile.ZipFile, name: str, data) -> None:
    """Store one uncompressed record whose data starts at a multiple of _ALIGNMENT in the file.

    The local header is followed by an extra field ('FB', torch's choice) sized to pad up to the
    boundary; zipfile appends 20 more extra bytes itself when the record needs zip64 sizes.
    """
    data = memoryview(data)
    info = zipfile.ZipInfo(name)  # fixed 1980 timestamp: the same object gives the same bytes
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = data.nbytes
    zip64 = data.nbytes * 1.05 > zipfile.ZIP64_LIMIT  # zipfile's own rule for this record
    start = zf.fp.tell() + 30 + len(name.encode("utf-8")) + 4 + (20 if zip64 else 0)
    pad = -start % _ALIGNMENT
    info.extra = struct.pack("<HH", 0x4246, pad) + b"Z" * pad
    with zf.open(info, "w", force_zip64=zip64) as out:
        out.write(data)


def _write_checkpoint(pickled: bytes, storages: list[_StorageOut], file: IO[bytes], byteorder: bool = True) -> None:
    """Write the zip archive, records in torch.save's order."""
    with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as zf:
        _write_record(zf, "archive/data.pkl", pickled)
        _write_record(zf, "archive/.format_version", b"1")
        _write_record(zf, "archive/.storage_alignment", str(_ALIGNMENT).encode())
        if byteorder:
            _write_record(zf, "archive/byteorder", b"little")
        for s in storages:
            _write_storage(zf, s)
        _write_record(zf, "archive/version", b"3\n")


def _write_storage(zf: zipfile.ZipFile, storage: _StorageOut) -> None:
    # a 1-byte view: memoryview.cast would reject empty shapes
    _write_record(zf, f"archive/data/{storage.key}", storage.array.reshape(-1).view(np.uint8))


def save(obj: Any, f: FileLike, pickle_module: Any = None, pickle_protocol: int = DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization: bool = True, _disable_byteorder_record: bool = False) -> None:
    """Save `obj` (tensors in dicts/lists/tuples, with numbers, strings, dtypes...) to a path or file.

    A path is replaced atomically: a failure part-way leaves the previous file as it was.
    """
    if pickle_module is not None and pickle_module is not pickle:
        raise ValueError("glasstorch.save always uses its own pickler; pickle_module is not supported")
    if not _use_new_zipfile_serialization:
        raise NotImplementedError("glasstorch.save writes only the zip checkpoint format")
    if not 2 <= pickle_protocol <= pickle.HIGHEST_PROTOCOL:
        raise ValueError(f"pickle_protocol must be between 2 and {pickle.HIGHEST_PROTOCOL}, got {pickle_protocol}")
    # Pickle first: an unsupported object fails before any file is touched.
    buf = io.BytesIO()
    pickler = _CheckpointPickler(buf, pickle_protocol)
    pickler.dump(obj)
    byteorder = not _disable_byteorder_record
    if isinstance(f, (str, os.PathLike)):
        with atomic_write(f) as out:
            _write_checkpoint(buf.getbuffer(), pickler.storages, out, byteorder)
    elif hasattr(f, "write"):
        _write_checkpoint(buf.getbuffer(), pickler.storages, f, byteorder)
    else:
        raise AttributeError(f"expected 'f' to be string, path, or a file-like object with a 'write' "
                             f"attribute, got {type(f).__name__}")


# ================================================================================================
# Loading: a pickle VM that only knows data opcodes and an allowlist of rebuild functions
# ================================================================================================
class _Rebuilder:
    """An allowlisted callable: the only kind of object REDUCE may call."""

    __slots__ = ("name", "fn")

    def __init__(self, name: str, fn: Callable):
        self.name, self.fn = name, fn

    def __call__(self, *args):
        return self.fn(*args)

    def __repr__(self) -> str:
        return f"<glasstorch.load stand-in for {self.name}>"


class _StorageType:
    """Stand-in for torch.FloatStorage & co.: only says which dtype a storage holds."""

    __slots__ = ("name", "dtype")

    def __init__(self, name: str, dtype: _dtype.dtype | None):
        self.name, self.dtype = name, dtype  # dtype None: a torch dtype glasstorch lacks


class _Storage:
    """A loaded storage: a 1-D NumPy array and the device its tensors go to."""

    __slots__ = ("array", "device")

    def __init__(self, array: np.ndarray, device: device):
        self.array, self.device = array, device


def _tensor_from_storage(storage, offset, size, stride):
    """A tensor viewing storage.array at `offset` with `size` and `stride` (in elements), bounds-checked."""
    if type(storage) is not _Storage:
        raise pickle.UnpicklingError(f"expected a storage to rebuild a tensor from, got {type(storage).__name__}")
    if not (_is_index_tuple(size) and _is_index_tuple(stride) and len(size) == len(stride)
            and type(offset) is int and offset >= 0):
        raise RuntimeError(f"invalid tensor layout in checkpoint: storage_offset={offset!r}, "
                           f"size={size!r}, stride={stride!r}")
    data = storage.array
    size, stride = tuple(size), tuple(stride)
    if 0 in size:
        array = np.empty(size, dtype=data.dtype)
    else:
        needed = offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
        if needed > data.size:
            raise RuntimeError(
                f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and itemsize "
                f"{data.itemsize} requiring a storage size of {needed * data.itemsize} are out of bounds for "
                f"storage of size {data.size * data.itemsize}")
        # a view, like torch's: tensors saved as views of one storage share memory again
        array = np.lib.stride_tricks.as_strided(
            data[offset:], shape=size, strides=tuple(s * data.itemsize for s in stride))
    t = glasstorch.from_numpy(array)
    return t if storage.device == CPU else t.to(storage.device)


def _is_index_tuple(x) -> bool:
    return isinstance(x, tuple) and all(type(n) is int and n >= 0 for n in x)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None):
    t = _tensor_from_storage(storage, storage_offset, size, stride)
    if requires_grad:
        t.requires_grad_(True)
    return t  # backward hooks and metadata are not restored (torch.save warns about hooks itself)


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _tensor_from_storage(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad, backward_hooks):
    from .nn import Parameter

    if not isinstance(data, glasstorch.Tensor) or type(requires_grad) is not bool:
        raise pickle.UnpicklingError("invalid arguments to torch._utils._rebuild_parameter")
    return Parameter(data, requires_grad)


def _encode_bytes(text, encoding):
    # protocol-2 pickles write bytes as _codecs.encode(text, 'latin1'); allow nothing else
    if type(text) is not str or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("_codecs.encode is only allowed as encode(str, 'latin1')")
    return text.encode("latin1")


def _make_set(items=()):
    if type(items) not in (list, tuple):
        raise pickle.UnpicklingError("builtins.set is only allowed on a list of items")
    return set(items)


def _make_ordered_dict(items=()):
    if type(items) not in (list, tuple):
        raise pickle.UnpicklingError("collections.OrderedDict is only allowed on a list of pairs")
    return OrderedDict(items)


def _make_size(dims):
    if not _is_index_tuple(dims):
        raise pickle.UnpicklingError(f"torch.Size needs a tuple of non-negative ints, got {dims!r}")
    return glasstorch.Size(dims)


def _allowed_globals() -> dict[str, Any]:
    """'module.name' -> the stand-in a GLOBAL of that name pushes. Nothing else can be named."""
    table: dict[str, Any] = {
        "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
        "torch._utils._rebuild_tensor": _rebuild_tensor,
        "torch._utils._rebuild_parameter": _rebuild_parameter,
        "torch.device": device,
        "torch.Size": _make_size,
        "collections.OrderedDict": _make_ordered_dict,
        "builtins.set": _make_set,
        "_codecs.encode": _encode_bytes,
    }
    table = {name: _Rebuilder(name, fn) for name, fn in table.items()}
    for d in _dtype.ALL + (_dtype.bfloat16,):
        table[f"torch.{d.name}"] = d
        table[f"torch.{_STORAGE_NAMES[d.name]}"] = _StorageType(_STORAGE_NAMES[d.name], d)
    for name in filter(None, _MISSING_DTYPES.values()):
        table[f"torch.{name}"] = _StorageType(name, None)
    return table


_ALLOWED_GLOBALS = _allowed_globals()


# ================================================================================================
# The user's allow-list: torch.serialization.add_safe_globals & co.
# ================================================================================================
_marked_safe_globals: set = set()  # classes/functions, or (object, "module.name") pairs


def add_safe_globals(safe_globals: list) -> None:
    """Allow these classes/functions in `load(weights_only=True)`: only add what you trust.

    An entry is the object, named by its `__module__` and `__qualname__`, or an (object, "module.name")
    pair for one pickled under another name.
    """
    global _marked_safe_globals
    _marked_safe_globals = _marked_safe_globals | set(safe_globals)


def get_safe_globals() -> list:
    """The classes/functions (and pairs) added by `add_safe_globals` or an active `safe_globals`."""
    return list(_marked_safe_globals)


def clear_safe_globals() -> None:
    """Forget every class/function added by `add_safe_globals`."""
    global _marked_safe_globals
    _marked_safe_globals = set()


class safe_globals:
    """Context manager: `with safe_globals([Net]): load(f)` allows Net only inside the block."""

    def __init__(self, safe_globals: list):
        self.safe_globals = safe_globals

    def __enter__(self) -> None:
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc) -> None:
        global _marked_safe_globals
        _marked_safe_globals = _marked_safe_globals - set(self.safe_globals)


def _user_allowed_globals() -> dict[str, Any]:
    """'module.name' -> object for the current allow-list; entries are checked here, as torch does."""
    table = {}
    for entry in _marked_safe_globals:
        if isinstance(entry, tuple):
            if len(entry) != 2:
                raise ValueError("Expected tuple of length 2 (global, str of callable full path), but got "
                                 f"tuple of length: {len(entry)}")
            if type(entry[1]) is not str:
                raise TypeError("Expected second item in tuple to be str of callable full path, but got: "
                                f"{type(entry[1])}")
            obj, name = entry
        else:
            obj, name = entry, f"{entry.__module__}.{entry.__qualname__}"
        table[name] = obj
    return table


def _python3_name(module: str, name: str) -> tuple[str, str]:
    """A protocol-2 pickle's Python 2 name (__builtin__.set) as Python 3's (builtins.set), like fix_imports."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


def _glasstorch_module(module: str) -> str:
    """A module named in a torch checkpoint as glasstorch's: torch.nn.modules.linear -> glasstorch.nn.modules.linear."""
    for torch_name, ours in (("torchvision", "glasstorch.vision"), ("torch", "glasstorch")):
        if module == torch_name or module.startswith(torch_name + "."):
            return ours + module[len(torch_name):]
    return module


def _weights_only_error(message: str) -> pickle.UnpicklingError:
    """torch.load's refusal text around the reason the restricted unpickler gave."""
    return pickle.UnpicklingError(
        "Weights only load failed. This file can still be loaded, to do so you have two options, "
        "\x1b[1mdo those steps only if you trust the source of the checkpoint\x1b[0m. \n"
        "\t(1) In PyTorch 2.6, we changed the default value of the `weights_only` argument in `torch.load` "
        "from `False` to `True`. Re-running `torch.load` with `weights_only` set to `False` will likely "
        "succeed, but it can result in arbitrary code execution. Do it only if you got the file from a "
        "trusted source.\n"
        "\t(2) Alternatively, to load with `weights_only=True` please check the recommended steps in the "
        "following error message.\n"
        f"\tWeightsUnpickler error: {message}\n\n"
        "Check the documentation of torch.load to learn more about types accepted by default with "
        "weights_only https://pytorch.org/docs/stable/generated/torch.load.html.")

_OPS: dict[int, tuple[Callable, tuple]] = {}


def _op(opcode: bytes, *args):
    """Register an _Unpickler method as the handler of `opcode`, called with `args`."""
    def register(fn):
        _OPS[opcode[0]] = (fn, args)
        return fn
    return register


class _CallbackError(Exception):
    """Carries an error raised by a stand-in or persistent_load out of the opcode loop."""

    def __init__(self, error: Exception):
        self.error = error


class _Unpickler:
    """Interprets pickle opcodes over a bytes buffer, building only data and allowlisted stand-ins.

    Unlike pickle.Unpickler, nothing is ever imported by name: GLOBAL resolves through
    `_ALLOWED_GLOBALS` and the user's allow-list (`add_safe_globals`), REDUCE calls only `_Rebuilder`s
    and allow-listed functions or classes, NEWOBJ creates only instances of allow-listed classes, BUILD
    only sets OrderedDict attributes or the state of allow-listed classes' instances; INST, OBJ and
    EXT* are not implemented.
    """

    def __init__(self, buf, pos: int = 0, persistent_load: Callable | None = None):
        self.buf = memoryview(buf).cast("B")
        self.pos = pos
        self.persistent_load = persistent_load
        self.stack: list = []
        self.metastack: list[list] = []
        self.memo: dict[int, Any] = {}

    @functools.cached_property
    def user_globals(self) -> dict[str, Any]:
        """The allow-list, read when first needed and then fixed: code it admits cannot widen it mid-load."""
        return self.call(_user_allowed_globals)  # a malformed entry's own error, as torch raises it

    @functools.cached_property
    def user_objects(self) -> set[int]:
        return {id(obj) for obj in self.user_globals.values()}

    def load(self) -> Any:
        """Run until STOP and return the unpickled object; `self.pos` is then just past STOP."""
        while True:
            start = self.pos
            code = self.read(1)[0]
            if code not in _OPS and code != pickle.STOP[0]:
                raise pickle.UnpicklingError(
                    f"Unsupported operand {code}: pickle opcode {_opname(code)} at byte {start}; "
                    "glasstorch.load with weights_only=True reads only tensors, dtypes, devices, plain "
                    "containers and allow-listed classes")
            try:
                if code == pickle.STOP[0]:
                    return self.stack.pop()
                handler, args = _OPS[code]
                handler(self, *args)
            except _CallbackError as e:
                raise e.error from None  # a rebuild function's or map_location's own error, unchanged
            except (IndexError, KeyError, TypeError, ValueError, struct.error) as e:
                # stack underflow, unknown memo index, unhashable key...: a damaged stream
                raise pickle.UnpicklingError(
                    f"corrupt pickle data: opcode {_opname(code)} at byte {start} failed ({type(e).__name__}: {e})"
                ) from None

    # ---- reading the byte stream ------------------------------------------------------------
    def read(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.buf):
            raise pickle.UnpicklingError("pickle data was truncated")
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str):
        return struct.unpack(fmt, self.read(struct.calcsize(fmt)))[0]

    def readline(self) -> str:
        end = bytes(self.buf[self.pos:self.pos + 1024]).find(b"\n")
        if end < 0:
            raise pickle.UnpicklingError("pickle data was truncated (unterminated GLOBAL name)")
        return bytes(self.read(end + 1)[:-1]).decode("utf-8")

    # ---- stack helpers ----------------------------------------------------------------------
    def push(self, value) -> None:
        self.stack.append(value)

    def pop_mark(self) -> list:
        items = self.stack
        self.stack = self.metastack.pop()
        return items

    @staticmethod
    def call(fn: Callable, *args):
        """Run a stand-in or persistent_load, keeping its errors apart from those of a damaged stream."""
        try:
            return fn(*args)
        except Exception as e:
            raise _CallbackError(e) from e

    def target(self, kind: type):
        """The container on top of the stack that APPEND/SETITEM/ADDITEMS add to."""
        target = self.stack[-1]
        if not isinstance(target, kind):
            raise pickle.UnpicklingError(f"can only add items to a {kind.__name__}, got {type(target).__name__}")
        return target

    # ---- framing and control ----------------------------------------------------------------
    @_op(pickle.PROTO)
    def _proto(self):
        proto = self.read(1)[0]
        if proto > pickle.HIGHEST_PROTOCOL:
            raise pickle.UnpicklingError(f"unsupported pickle protocol: {proto}")

    @_op(pickle.FRAME)
    def _frame(self):
        self.read(8)  # frames only group the bytes that follow; the whole pickle is in memory anyway

    @_op(pickle.MARK)
    def _mark(self):
        self.metastack.append(self.stack)
        self.stack = []

    @_op(pickle.POP)
    def _pop(self):
        self.stack.pop()

    @_op(pickle.POP_MARK)
    def _pop_mark(self):
        self.pop_mark()

    @_op(pickle.DUP)
    def _dup(self):
        self.push(self.stack[-1])

    # ---- memo ---------------------------------------------------------------------------------
    @_op(pickle.BINPUT, "<B")
    @_op(pickle.LONG_BINPUT, "<I")
    def _put(self, index_format):
        self.memo[self.unpack(index_format)] = self.stack[-1]

    @_op(pickle.MEMOIZE)
    def _memoize(self):
        self.memo[len(self.memo)] = self.stack[-1]

    @_op(pickle.BINGET, "<B")
    @_op(pickle.LONG_BINGET, "<I")
    def _get(self, index_format):
        self.push(self.memo[self.unpack(index_format)])

    # ---- scalars ------------------------------------------------------------------------------
    @_op(pickle.NONE, None)
    @_op(pickle.NEWTRUE, True)
    @_op(pickle.NEWFALSE, False)
    @_op(pickle.EMPTY_TUPLE, ())
    def _constant(self, value):
        self.push(value)

    @_op(pickle.BININT, "<i")
    @_op(pickle.BININT1, "<B")
    @_op(pickle.BININT2, "<H")
    @_op(pickle.BINFLOAT, ">d")
    def _number(self, number_format):
        self.push(self.unpack(number_format))

    @_op(pickle.LONG1, "<B")
    @_op(pickle.LONG4, "<i")
    def _long(self, length_format):
        self.push(int.from_bytes(self.read(self.unpack(length_format)), "little", signed=True))

    @_op(pickle.SHORT_BINUNICODE, "<B")
    @_op(pickle.BINUNICODE, "<I")
    @_op(pickle.BINUNICODE8, "<Q")
    def _unicode(self, length_format):
        self.push(str(self.read(self.unpack(length_format)), "utf-8", "surrogatepass"))

    @_op(pickle.SHORT_BINSTRING, "<B")
    @_op(pickle.BINSTRING, "<i")
    def _py2_string(self, length_format):
        # a Python 2 str from an old checkpoint; torch.load decodes these as utf-8 by default
        self.push(str(self.read(self.unpack(length_format)), "utf-8"))

    @_op(pickle.SHORT_BINBYTES, "<B")
    @_op(pickle.BINBYTES, "<I")
    @_op(pickle.BINBYTES8, "<Q")
    def _bytes(self, length_format):
        self.push(bytes(self.read(self.unpack(length_format))))

    # ---- containers ---------------------------------------------------------------------------
    @_op(pickle.TUPLE1, 1)
    @_op(pickle.TUPLE2, 2)
    @_op(pickle.TUPLE3, 3)
    def _tuple_n(self, n):
        if len(self.stack) < n:
            raise IndexError("stack underflow")
        items = tuple(self.stack[-n:])
        del self.stack[-n:]
        self.push(items)

    @_op(pickle.TUPLE)
    def _tuple(self):
        self.push(tuple(self.pop_mark()))

    @_op(pickle.EMPTY_LIST)
    def _empty_list(self):
        self.push([])

    @_op(pickle.LIST)
    def _list(self):
        self.push(self.pop_mark())

    @_op(pickle.APPEND)
    def _append(self):
        item = self.stack.pop()
        self.target(list).append(item)

    @_op(pickle.APPENDS)
    def _appends(self):
        items = self.pop_mark()
        self.target(list).extend(items)

    @_op(pickle.EMPTY_DICT)
    def _empty_dict(self):
        self.push({})

    @_op(pickle.DICT)
    def _dict(self):
        items = self.pop_mark()
        self.push(dict(zip(items[::2], items[1::2])))

    @_op(pickle.SETITEM)
    def _setitem(self):
        value, key = self.stack.pop(), self.stack.pop()
        self.target(dict)[key] = value

    @_op(pickle.SETITEMS)
    def _setitems(self):
        items = self.pop_mark()
        self.target(dict).update(zip(items[::2], items[1::2]))

    @_op(pickle.EMPTY_SET)
    def _empty_set(self):
        self.push(set())

    @_op(pickle.ADDITEMS)
    def _additems(self):
        items = self.pop_mark()
        self.target(set).update(items)

    @_op(pickle.FROZENSET)
    def _frozenset(self):
        self.push(frozenset(self.pop_mark()))

    # ---- the only opcodes that could reach code: all restricted -------------------------------
    @_op(pickle.GLOBAL)
    def _global(self):
        module = self.readline()
        self.push(_find_global(module, self.readline(), self.user_globals))

    @_op(pickle.STACK_GLOBAL)
    def _stack_global(self):
        name, module = self.stack.pop(), self.stack.pop()
        if type(name) is not str or type(module) is not str:
            raise pickle.UnpicklingError("STACK_GLOBAL requires str module and name")
        self.push(_find_global(module, name, self.user_globals))

    @_op(pickle.REDUCE)
    def _reduce(self):
        args = self.stack.pop()
        func = self.stack[-1]
        if type(func) is not _Rebuilder and id(func) not in self.user_objects:
            raise pickle.UnpicklingError(f"REDUCE of a non-allowlisted callable {func!r}")
        if type(args) is not tuple:
            raise pickle.UnpicklingError(f"REDUCE arguments must be a tuple, got {type(args).__name__}")
        self.stack[-1] = self.call(func, *args)

    @_op(pickle.BUILD)
    def _build(self):
        # torch uses BUILD only to restore OrderedDict attributes such as state_dict()._metadata
        state = self.stack.pop()
        inst = self.stack[-1]
        if type(inst) is not OrderedDict and id(type(inst)) in self.user_objects:
            self.call(_set_state, inst, state)
            return
        if type(inst) is not OrderedDict or type(state) is not dict:
            raise pickle.UnpicklingError(
                f"Can only BUILD an OrderedDict from a dict or an instance of a class allowlisted via "
                f"`add_safe_globals`, got {type(inst).__name__}")
        for key in state:
            if type(key) is not str or hasattr(OrderedDict, key):
                raise pickle.UnpicklingError(f"refusing to set OrderedDict attribute {key!r}")
        inst.__dict__.update(state)

    @_op(pickle.NEWOBJ)
    def _newobj(self):
        args = self.stack.pop()
        self._new(self.stack.pop(), args, {})

    @_op(pickle.NEWOBJ_EX)
    def _newobj_ex(self):
        kwargs, args = self.stack.pop(), self.stack.pop()
        self._new(self.stack.pop(), args, kwargs)

    def _new(self, cls, args, kwargs) -> None:
        """cls.__new__(cls, *args, **kwargs), for allow-listed classes only (no __init__ runs)."""
        if not isinstance(cls, type) or id(cls) not in self.user_objects:
            raise pickle.UnpicklingError(
                f"Can only create new object for classes allowlisted via `add_safe_globals` but got {cls!r}")
        if type(args) is not tuple or type(kwargs) is not dict:
            raise pickle.UnpicklingError("NEWOBJ arguments must be a tuple and a dict")
        self.push(self.call(cls.__new__, cls, *args, **kwargs))

    @_op(pickle.BINPERSID)
    def _binpersid(self):
        pid = self.stack.pop()
        if self.persistent_load is None or type(pid) is not tuple or not pid or pid[0] not in ("storage", b"storage"):
            raise pickle.UnpicklingError(f"only storages may be persistent ids, got {pid!r}")
        self.push(self.call(self.persistent_load, pid))


def _find_global(module: str, name: str, user_globals: dict[str, Any]):
    """The stand-in or allow-listed object for GLOBAL module.name; everything else is refused, unimported."""
    module, name = _python3_name(module, name)
    full = f"{module}.{name}"
    if full in _ALLOWED_GLOBALS:
        return _ALLOWED_GLOBALS[full]
    if module == "torch" and name in _MISSING_DTYPES:
        raise RuntimeError(f"glasstorch.load: the checkpoint uses torch.{name}, which glasstorch does not support")
    for candidate in (full, f"{_glasstorch_module(module)}.{name}"):  # torch's classes are glasstorch's
        if candidate in user_globals:
            return user_globals[candidate]
    raise pickle.UnpicklingError(
        f"Unsupported global: GLOBAL {full} was not an allowed global by default. Please use "
        f"`torch.serialization.add_safe_globals([{full}])` or the `torch.serialization.safe_globals([{full}])` "
        "context manager to allowlist this global if you trust this class/function.")


def _set_state(inst, state) -> None:
    """BUILD on an allow-listed class's instance: its __setstate__, else pickle's own rule."""
    if hasattr(inst, "__setstate__"):
        inst.__setstate__(state)
        return
    slotstate = None
    if isinstance(state, tuple) and len(state) == 2:
        state, slotstate = state
    if state:
        inst.__dict__.update(state)
    for key, value in (slotstate or {}).items():
        setattr(inst, key, value)


class _TrustedUnpickler(pickle.Unpickler):
    """weights_only=False: pickle's own unpickler, which CAN run code the file names (as in torch).

    Storages come from persistent_load as in the restricted path; torch's rebuild functions map to
    glasstorch's stand-ins and any other torch.X / torchvision.X class to glasstorch's.
    """

    def __init__(self, data: bytes, storages: Callable):
        super().__init__(io.BytesIO(data))
        self._storages = storages

    def persistent_load(self, pid):
        return self._storages(pid)

    def find_class(self, module: str, name: str):
        py3_module, py3_name = _python3_name(module, name)
        full = f"{py3_module}.{py3_name}"
        if full in _ALLOWED_GLOBALS:
            return _ALLOWED_GLOBALS[full]
        ours = _glasstorch_module(py3_module)
        if ours == py3_module:
            return super().find_class(module, name)
        try:
            return super().find_class(ours, py3_name)
        except (ImportError, AttributeError):
            # glasstorch files a class in another module than torch (torch.nn.modules.sparse.Embedding)
            package = "glasstorch.nn" if ours.startswith("glasstorch.nn.") else ours.rpartition(".")[0]
            found = getattr(importlib.import_module(package), py3_name, None)
            if found is None:
                raise AttributeError(f"glasstorch has no counterpart of {full}") from None
            return found


def _opname(code: int) -> str:
    op = pickletools.code2op.get(chr(code))
    return op.name if op is not None else repr(bytes([code]))


# ================================================================================================
# Loading: devices, storages, and the two container formats
# ================================================================================================
def _storage_dtype(storage_type) -> _dtype.dtype:
    if type(storage_type) is not _StorageType:
        raise pickle.UnpicklingError(f"persistent id names {storage_type!r}, not a storage type")
    if storage_type.dtype is None:
        raise RuntimeError(f"glasstorch.load: the checkpoint holds a torch.{storage_type.name}, "
                           "whose dtype glasstorch does not support")
    return storage_type.dtype


def _read_array(raw: np.ndarray, d: _dtype.dtype, little_endian: bool) -> np.ndarray:
    """A uint8 buffer as a native-endian array of dtype d."""
    arr = raw.view(d.np.newbyteorder("<" if little_endian else ">"))
    return arr if arr.dtype.isnative else arr.astype(d.np)


class _Placer:
    """Applies torch.load's map_location: decides the device of each storage."""

    def __init__(self, map_location: MapLocation):
        if map_location is not None and not isinstance(map_location, (str, device, dict)) \
                and not callable(map_location):
            raise TypeError(f"map_location should be a str, device, dict or callable, "
                            f"got {type(map_location).__name__}")
        self.map_location = map_location

    def place(self, array: np.ndarray, location: str) -> _Storage:
        m = self.map_location
        if isinstance(m, dict):
            location, m = m.get(location, location), None
        if callable(m):
            result = m(array, location)
            if result is not None:
                return self._from_callable(result)
            m = None
        return _Storage(array, self._device(location if m is None else m))

    @staticmethod
    def _from_callable(result) -> _Storage:
        """The storage a map_location callable returned: a NumPy array (cpu) or a CuPy one (cuda)."""
        from .backends import cuda_module

        cuda = cuda_module()
        if isinstance(result, np.ndarray):
            return _Storage(result, CPU)
        if cuda.is_array(result):
            return _Storage(cuda.to_numpy(result), device("cuda", result.device.id))
        raise TypeError(f"map_location callable must return the storage array it was given or None, "
                        f"got {type(result).__name__}")

    @staticmethod
    def _device(where) -> device:
        dev = device(str(where)) if not isinstance(where, device) else where
        if dev.type == "cuda":
            from .backends import cuda_module

            if not cuda_module().is_available():
                raise RuntimeError(
                    "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. "
                    "If you are running on a CPU-only machine, please use torch.load with "
                    "map_location=torch.device('cpu') to map your storages to the CPU.")
        return dev


class _ZipStorages:
    """persistent_load for zip checkpoints: reads record <prefix>data/<key> once per key."""

    def __init__(self, zf: zipfile.ZipFile, prefix: str, placer: _Placer, mapped: np.ndarray | None):
        self.zf, self.prefix, self.placer, self.mapped = zf, prefix, placer, mapped
        self.little_endian = self._byteorder() == "little"
        self.loaded: dict[str, _Storage] = {}

    def _byteorder(self) -> str:
        try:
            order = self.zf.read(self.prefix + "byteorder").decode("ascii")
        except KeyError:  # written before torch 1.12: always little-endian in practice
            return "little"
        if order not in ("little", "big"):
            raise RuntimeError(f"glasstorch.load: unknown byteorder record {order!r}")
        return order

    def __call__(self, pid: tuple) -> _Storage:
        if len(pid) != 5:
            raise pickle.UnpicklingError(f"invalid storage persistent id {pid!r}")
        _, storage_type, key, location, numel = pid
        d = _storage_dtype(storage_type)
        if type(key) is not str or type(location) is not str or type(numel) is not int or numel < 0:
            raise pickle.UnpicklingError(f"invalid storage persistent id {pid!r}")
        if key not in self.loaded:
            raw = self._record(f"{self.prefix}data/{key}", numel * d.itemsize)
            self.loaded[key] = self.placer.place(_read_array(raw, d, self.little_endian), location)
        storage = self.loaded[key]
        if storage.array.dtype != d.np:
            raise RuntimeError(f"glasstorch.load: storage {key} is used with two dtypes")
        return storage

    def _record(self, name: str, nbytes: int) -> np.ndarray:
        """The bytes of one record as a writable uint8 array (copy-on-write mapped with mmap=True)."""
        try:
            info = self.zf.getinfo(name)
        except KeyError:
            raise RuntimeError(f"glasstorch.load: the checkpoint has no record {name} "
                               "(the file is truncated or corrupt)") from None
        if info.file_size != nbytes:
            raise RuntimeError(f"glasstorch.load: record {name} holds {info.file_size} bytes, expected {nbytes} "
                               "(the file is truncated or corrupt)")
        if self.mapped is not None:
            start = _data_offset(self.zf, info)
            if info.compress_type != zipfile.ZIP_STORED or start + nbytes > self.mapped.size:
                raise RuntimeError(f"glasstorch.load(mmap=True): record {name} is compressed or truncated")
            return self.mapped[start:start + nbytes]
        raw = np.empty(nbytes, dtype=np.uint8)
        with self.zf.open(info) as f:  # reading to the end checks the record's CRC-32
            got = f.readinto(memoryview(raw))
        if got != nbytes:
            raise RuntimeError(f"glasstorch.load: record {name} is truncated")
        return raw


def _data_offset(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    """Where a record's data starts: after its local header, whose extra field may differ from the central one."""
    zf.fp.seek(info.header_offset)
    header = zf.fp.read(30)
    if len(header) != 30 or header[:4] != _ZIP_MAGIC:
        raise RuntimeError(f"glasstorch.load: bad local header for record {info.filename}")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    return info.header_offset + 30 + name_len + extra_len


def _archive_prefix(names: list[str]) -> str:
    """The folder holding data.pkl ('archive/' for glasstorch, the file's stem for torch.save)."""
    for name in names:
        folder, _, base = name.rpartition("/")
        if base == "data.pkl" and "/" not in folder:
            if f"{folder}/constants.pkl" in names:
                raise RuntimeError("glasstorch.load: this is a TorchScript archive (torch.jit.save), "
                                   "not a torch.save checkpoint")
            return folder + "/" if folder else ""
    raise RuntimeError("glasstorch.load: the zip file has no data.pkl record; it is not a torch.save checkpoint")


def _load_zip(file: IO[bytes], placer: _Placer, mapped: np.ndarray | None, weights_only: bool = True) -> Any:
    try:
        with zipfile.ZipFile(file) as zf:
            prefix = _archive_prefix(zf.namelist())
            storages = _ZipStorages(zf, prefix, placer, mapped)
            data = zf.read(prefix + "data.pkl")
            if not weights_only:
                return _TrustedUnpickler(data, storages).load()
            return _Unpickler(data, persistent_load=storages).load()
    except (zipfile.BadZipFile, EOFError, zlib.error) as e:
        raise RuntimeError(f"glasstorch.load failed reading zip archive: {e}. The checkpoint file is "
                           "truncated or corrupted.") from None


class _LegacyStorages:
    """persistent_load for the pre-1.6 format, whose storage bytes follow the object pickle.

    Pass 1 (`register`) allocates one empty array per storage; after the bytes are read into them,
    pass 2 (`__call__`) hands out the filled, placed storages.
    """

    def __init__(self, placer: _Placer, file_size: int):
        self.placer, self.file_size = placer, file_size
        self.roots: dict[str, tuple[np.ndarray, str]] = {}
        self.placed: dict[str, _Storage] = {}

    def register(self, pid: tuple) -> _Storage:
        key, view = self._parse(pid)
        return _Storage(self.roots[key][0][view], CPU)

    def __call__(self, pid: tuple) -> _Storage:
        key, view = self._parse(pid)
        if key not in self.placed:
            self.placed[key] = self.placer.place(*self.roots[key])
        storage = self.placed[key]
        return storage if view == slice(None) else _Storage(storage.array[view], storage.device)

    def _parse(self, pid: tuple) -> tuple[str, slice]:
        if len(pid) != 6:
            raise pickle.UnpicklingError(f"invalid legacy storage persistent id {pid!r}")
        _, storage_type, key, location, numel, view_metadata = pid
        d = _storage_dtype(storage_type)
        if type(key) is not str or type(location) is not str or type(numel) is not int or numel < 0:
            raise pickle.UnpicklingError(f"invalid storage persistent id {pid!r}")
        if key not in self.roots:
            if numel * d.itemsize > self.file_size:  # refuse before allocating, not after
                raise RuntimeError(f"glasstorch.load: storage {key!r} claims {numel} elements, "
                                   "more than the file holds")
            self.roots[key] = (np.empty(numel, dtype=d.np), location)
        elif self.roots[key][0].dtype != d.np:
            raise RuntimeError(f"glasstorch.load: storage {key} is used with two dtypes")
        if view_metadata is None:
            return key, slice(None)
        # (view_key, offset, size): a storage view, from checkpoints older than torch 1.0
        _, offset, size = view_metadata
        return key, slice(offset, offset + size)

    def read_data(self, buf: memoryview, pos: int, keys: list, little_endian: bool) -> None:
        """Fill the registered arrays: each is an int64 element count, then the raw bytes."""
        for key in keys:
            if key not in self.roots:
                raise RuntimeError(f"glasstorch.load: storage {key!r} is listed but never used")
            array = self.roots[key][0]
            if pos + 8 > len(buf):
                raise RuntimeError("glasstorch.load: legacy checkpoint is truncated")
            numel = struct.unpack("<q" if little_endian else ">q", buf[pos:pos + 8])[0]
            nbytes = array.nbytes
            if numel != array.size or pos + 8 + nbytes > len(buf):
                raise RuntimeError(f"glasstorch.load: storage {key!r} is truncated or corrupt")
            raw = np.frombuffer(buf, dtype=np.uint8, count=nbytes, offset=pos + 8)
            array[...] = _read_array(raw, _dtype.from_numpy_dtype(array.dtype), little_endian)
            pos += 8 + nbytes


def _load_legacy(buf: bytes, placer: _Placer) -> Any:
    """The pre-1.6 format: pickles of magic, protocol, sys_info, the object, storage keys; then data."""
    if buf[:1] != pickle.PROTO:
        raise pickle.UnpicklingError(f"invalid load key, {buf[:1]!r}: the file is neither a zip checkpoint "
                                     "nor a legacy PyTorch checkpoint")
    head = _Unpickler(buf)
    magic = head.load()
    if magic != _LEGACY_MAGIC:  # a pickle, but not one torch.save wrote
        raise RuntimeError("Invalid magic number; corrupt file?")
    protocol = _Unpickler(buf, head.pos)
    if protocol.load() != _LEGACY_PROTOCOL:
        raise RuntimeError("Invalid protocol version in legacy checkpoint")
    info = _Unpickler(buf, protocol.pos)
    sys_info = info.load()
    little_endian = sys_info.get("little_endian", True) if isinstance(sys_info, dict) else True

    storages = _LegacyStorages(placer, len(buf))
    first = _Unpickler(buf, info.pos, persistent_load=storages.register)
    first.load()  # pass 1: learn the storages; its tensors are dropped
    keys_pickle = _Unpickler(buf, first.pos)
    keys = keys_pickle.load()
    if type(keys) is not list or not all(type(k) is str for k in keys):
        raise pickle.UnpicklingError("glasstorch.load: legacy checkpoint has a corrupt storage key list")
    storages.read_data(memoryview(buf), keys_pickle.pos, keys, little_endian)
    return _Unpickler(buf, info.pos, persistent_load=storages).load()


def load(f: FileLike, map_location: MapLocation = None, pickle_module: Any = None, *,
         weights_only: bool | None = None, mmap: bool | None = None, **pickle_load_args) -> Any:
    """Load an object saved by `glasstorch.save` or `torch.save`.

    weights_only (the default, None meaning True as in PyTorch 2.13) runs no code from the file: only
    tensors, dtypes, devices, plain containers and classes in the allow-list (`add_safe_globals`,
    `safe_globals`) are rebuilt, anything else is a pickle.UnpicklingError with torch's text.
    `weights_only=False` unpickles arbitrary objects (whole modules): only for files you trust.
    `map_location` (str, device, {saved: new} dict, or callable(storage, location)) picks devices;
    `mmap=True` maps storages copy-on-write from the file instead of reading them.
    """
    weights_only = True if weights_only is None else bool(weights_only)
    if pickle_module is not None and (weights_only or pickle_module is not pickle):
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    try:
        return _load(f, map_location, weights_only, mmap)
    except pickle.UnpicklingError as e:
        if not weights_only:
            raise
        raise _weights_only_error(str(e)) from None


def _load(f: FileLike, map_location: MapLocation, weights_only: bool, mmap: bool | None) -> Any:
    placer = _Placer(map_location)
    with _open_for_reading(f) as file:
        start = file.read(4)
        file.seek(-len(start), os.SEEK_CUR)
        if not start:
            raise EOFError(f"glasstorch.load: {_describe(f)} is empty")
        if start == _ZIP_MAGIC:
            mapped = _map_file(f, file) if mmap else None
            return _load_zip(file, placer, mapped, weights_only)
        if mmap:
            raise RuntimeError("mmap can only be used with files saved with "
                               "`torch.save(_use_new_zipfile_serialization=True)`")
        if _looks_like_tar(file):
            raise RuntimeError("glasstorch.load cannot read the tar checkpoint format of PyTorch < 0.4")
        return _load_legacy(file.read(), placer)


@contextlib.contextmanager
def _open_for_reading(f: FileLike):
    """A seekable binary file for a path or file object (unseekable streams are read into memory)."""
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as file:
            yield file
        return
    if not hasattr(f, "read"):
        raise AttributeError(f"expected 'f' to be string, path, or a file-like object with a 'read' "
                             f"attribute, got {type(f).__name__}")
    seekable = getattr(f, "seekable", lambda: False)()
    yield f if seekable else io.BytesIO(f.read())


def _map_file(f: FileLike, file: IO[bytes]) -> np.ndarray:
    if not isinstance(f, (str, os.PathLike)):
        raise ValueError("f must be a file path in order to use the mmap argument")
    # mode 'c': copy-on-write, like torch's default MAP_PRIVATE; writes never reach the file
    return np.memmap(file, dtype=np.uint8, mode="c")


def _looks_like_tar(file: IO[bytes]) -> bool:
    pos = file.tell()
    file.seek(257, os.SEEK_CUR)
    magic = file.read(5)
    file.seek(pos)
    return magic == b"ustar"


def _describe(f: FileLike) -> str:
    return repr(os.fspath(f)) if isinstance(f, (str, os.PathLike)) else "the file"
