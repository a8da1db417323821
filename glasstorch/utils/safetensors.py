"""safetensors files: a JSON header and raw tensor bytes, so loading can never run code.

Layout, byte for byte what the reference `safetensors` library writes:

    8 bytes     N, the header length, unsigned little-endian
    N bytes     UTF-8 JSON: {"__metadata__": {str: str},
                             name: {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
                padded with spaces so the data starts at a multiple of 8
    the rest    little-endian tensor bytes, back to back; offsets count from the end of the header

Tensors are laid out largest dtype first (by the reference's dtype order), then by name, which keeps
every tensor aligned to its itemsize.
"""
from __future__ import annotations

import io
import json
import math
import os
import struct
from typing import IO

import numpy as np

import glasstorch

from .. import _device, _dtype
from .._atomic import atomic_write

__all__ = ["save", "save_file", "load", "load_file", "SafetensorError"]

_MAX_HEADER = 100_000_000  # the reference refuses larger headers, so a bad length cannot exhaust memory
_METADATA = "__metadata__"

# dtype code -> glasstorch dtype, listed in the reference's layout order (later = written first)
_DTYPES = {
    "BOOL": _dtype.bool, "U8": _dtype.uint8, "I8": _dtype.int8, "I16": _dtype.int16,
    "F16": _dtype.float16, "BF16": _dtype.bfloat16, "I32": _dtype.int32, "F32": _dtype.float32,
    "C64": _dtype.complex64, "F64": _dtype.float64, "I64": _dtype.int64,
}
_CODES = {d.name: code for code, d in _DTYPES.items()}
_LAYOUT_RANK = {code: rank for rank, code in enumerate(_DTYPES)}
# valid safetensors dtypes that glasstorch has no tensors for
_MISSING = {"F4", "F6_E2M3", "F6_E3M2", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ",
            "U16", "U32", "U64"}


class SafetensorError(Exception):
    """A malformed safetensors file or header (the reference library's exception name)."""


# ================================================================================================
# Writing
# ================================================================================================
def _check_tensors(tensors: dict) -> None:
    """The reference's checks: a dict of str -> dense, contiguous tensor, no two sharing memory."""
    if not isinstance(tensors, dict):
        raise ValueError(f"Expected a dict of [str, torch.Tensor] but received {type(tensors)}")
    for name, t in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"Key `{name!r}` is invalid, expected str but received {type(name)}")
        if name == _METADATA:
            raise ValueError(f"`{_METADATA}` is reserved for the metadata and cannot name a tensor")
        if not isinstance(t, glasstorch.Tensor):
            raise ValueError(f"Key `{name}` is invalid, expected torch.Tensor but received {type(t)}")
        if not t._data.flags.c_contiguous:
            raise ValueError(
                f"You are trying to save a non contiguous tensor: `{name}` which is not allowed. It either means "
                "you are trying to save tensors which are reference of each other in which case it's recommended "
                "to save only the full tensors, and reslice at load time, or simply call `.contiguous()` on your "
                "tensor to pack it before saving.")
    shared = _shared_memory(tensors)
    if shared:
        raise RuntimeError(
            f"Some tensors share memory, this will lead to duplicate memory on disk and potential differences "
            f"when loading them again: {shared}. Save clones of the shared tensors instead.")


def _shared_memory(tensors: dict) -> list[set[str]]:
    """Groups of names whose (non-empty) tensors overlap in memory, found by sorting byte ranges."""
    spans = []
    for name, t in tensors.items():
        if t._data.nbytes > 0:  # contiguous, so memory is [start, start + nbytes)
            start = t._data.__array_interface__["data"][0] if isinstance(t._data, np.ndarray) \
                else t._data.data.ptr  # CuPy
            spans.append((str(t.device), start, start + t._data.nbytes, name))
    spans.sort()
    groups: list[set[str]] = []
    last_device, last_end = None, -1
    for dev, start, end, name in spans:
        if dev == last_device and start < last_end:
            groups[-1].add(name)
            last_end = max(last_end, end)
        else:
            groups.append({name})
            last_device, last_end = dev, end
    return [g for g in groups if len(g) > 1]


def _layout(tensors: dict) -> list[tuple[str, str, np.ndarray]]:
    """(name, dtype code, little-endian bytes-ready array) in the order the reference writes them."""
    entries = []
    for name, t in tensors.items():
        a = t.device.backend.to_numpy(t._data)
        a = a.astype(a.dtype.newbyteorder("<"), order="C", copy=False)  # keeps 0-d arrays 0-d
        entries.append((name, _CODES[t.dtype.name], a))
    entries.sort(key=lambda e: (-_LAYOUT_RANK[e[1]], e[0]))
    return entries


def _header(entries: list[tuple[str, str, np.ndarray]], metadata: dict[str, str] | None) -> bytes:
    """The length prefix and the space-padded JSON header."""
    header: dict = {}
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise TypeError(f"argument 'metadata': '{type(metadata).__name__}' object is not a dict")
        for key, value in metadata.items():
            for item in (key, value):
                if not isinstance(item, str):
                    raise TypeError(f"argument 'metadata': '{type(item).__name__}' object is not an instance of 'str'")
        header[_METADATA] = metadata
    offset = 0
    for name, code, array in entries:
        header[name] = {"dtype": code, "shape": list(array.shape), "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text


def _prepare(tensors: dict, metadata: dict[str, str] | None) -> tuple[bytes, list[np.ndarray]]:
    """Check everything, then return the header bytes and the arrays to write after it, in order."""
    _check_tensors(tensors)
    entries = _layout(tensors)
    return _header(entries, metadata), [array for _, _, array in entries]


def _write(header: bytes, arrays: list[np.ndarray], out: IO[bytes]) -> None:
    out.write(header)
    for array in arrays:
        out.write(array.reshape(-1).view(np.uint8))  # a 1-byte view: memoryview.cast rejects empty shapes


def save(tensors: dict, metadata: dict[str, str] | None = None) -> bytes:
    """The safetensors bytes of a dict of contiguous tensors."""
    out = io.BytesIO()
    _write(*_prepare(tensors, metadata), out)
    return out.getvalue()


def save_file(tensors: dict, filename: str | os.PathLike, metadata: dict[str, str] | None = None) -> None:
    """Write tensors to `filename` atomically (a failure leaves any previous file untouched)."""
    header, arrays = _prepare(tensors, metadata)  # bad input fails before a temp file exists
    with atomic_write(filename) as out:
        _write(header, arrays, out)


# ================================================================================================
# Reading
# ================================================================================================
def _header_length(prefix: bytes, total: int) -> int:
    """N from the first 8 bytes, checked against the reference's limits and the file size."""
    if len(prefix) < 8:
        raise SafetensorError("Error while deserializing: header too small")
    n = struct.unpack("<Q", prefix[:8])[0]
    if n > _MAX_HEADER:
        raise SafetensorError(f"Error while deserializing: header too large ({n} bytes)")
    if 8 + n > total:
        raise SafetensorError(f"Error while deserializing: invalid header length {n} for a file of {total} bytes "
                              "(the file is truncated)")
    return n


Entry = tuple[str, _dtype.dtype, tuple, int, int]  # name, dtype, shape, begin, end


def _parse_header(text: bytes, data_size: int) -> tuple[dict[str, str] | None, list[Entry]]:
    """Metadata and (name, dtype, shape, begin, end) per tensor, in file order, after full validation.

    As in the reference, the offsets must tile [0, data_size) exactly: sorted by begin, each tensor
    starts where the previous one ended and its byte count matches its dtype and shape.
    """
    if not text.startswith(b"{"):
        raise SafetensorError("Error while deserializing: invalid header start (expected a JSON object)")
    try:
        header = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorError(f"Error while deserializing: invalid JSON in header: {e}") from None
    if not isinstance(header, dict):
        raise SafetensorError(f"Error while deserializing: header must be a JSON object, got {type(header).__name__}")
    metadata = header.pop(_METADATA, None)
    if metadata is not None and not (isinstance(metadata, dict)
                                     and all(isinstance(v, str) for v in metadata.values())):
        raise SafetensorError("Error while deserializing: __metadata__ must map strings to strings")
    entries = [_parse_entry(name, info) for name, info in header.items()]
    entries.sort(key=lambda e: (e[3], e[4]))
    position = 0
    for name, d, shape, begin, end in entries:
        if begin != position or end < begin:
            raise SafetensorError(f"Error while deserializing: invalid offset for tensor `{name}` "
                                  f"(data_offsets [{begin}, {end}], expected to start at {position})")
        if end - begin != math.prod(shape) * d.itemsize:
            raise SafetensorError(f"Error while deserializing: invalid shape, data type, or offset for tensor "
                                  f"`{name}`: shape {list(shape)} of {_CODES[d.name]} needs "
                                  f"{math.prod(shape) * d.itemsize} bytes, offsets give {end - begin}")
        position = end
    if position != data_size:
        raise SafetensorError(f"Error while deserializing: incomplete metadata, file not fully covered "
                              f"(tensors cover {position} bytes, the file holds {data_size})")
    return metadata, entries


def _parse_entry(name: str, info) -> Entry:
    if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= info.keys():
        raise SafetensorError(f"Error while deserializing: tensor `{name}` needs dtype, shape and data_offsets")
    code, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if code in _MISSING:
        raise TypeError(f"tensor `{name}` has safetensors dtype {code}, which glasstorch does not support")
    if code not in _DTYPES:
        raise SafetensorError(f"Error while deserializing: unknown dtype {code!r} for tensor `{name}`; expected "
                              f"one of {', '.join(_DTYPES)}")
    if not _naturals(shape) or not _naturals(offsets) or len(offsets) != 2:
        raise SafetensorError(f"Error while deserializing: tensor `{name}` has invalid shape {shape!r} or "
                              f"data_offsets {offsets!r} (expected lists of non-negative integers)")
    return name, _DTYPES[code], tuple(shape), offsets[0], offsets[1]


def _naturals(x) -> bool:
    return isinstance(x, list) and all(type(n) is int and n >= 0 for n in x)


def _tensor(array: np.ndarray, shape: tuple) -> glasstorch.Tensor:
    """A tensor from a writable little-endian array (byte-swapped on big-endian machines)."""
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    return glasstorch.from_numpy(array.reshape(shape))


def load(data: bytes) -> dict[str, glasstorch.Tensor]:
    """Tensors from safetensors bytes, in file order, each owning its memory."""
    data = memoryview(data).cast("B")
    n = _header_length(data[:8], len(data))
    _, entries = _parse_header(bytes(data[8:8 + n]), len(data) - 8 - n)
    start = 8 + n
    return {name: _tensor(np.frombuffer(data[start + begin:start + end], dtype=d.np.newbyteorder("<")).copy(), shape)
            for name, d, shape, begin, end in entries}


def load_file(filename: str | os.PathLike, device: str | int = "cpu") -> dict[str, glasstorch.Tensor]:
    """Tensors from a safetensors file, on `device` (an int means that CUDA device)."""
    target = _device.device(f"cuda:{device}" if isinstance(device, int) else device)
    with open(filename, "rb") as f:
        total = os.fstat(f.fileno()).st_size
        n = _header_length(f.read(8), total)
        _, entries = _parse_header(f.read(n), total - 8 - n)
        tensors = {}
        for name, d, shape, begin, end in entries:
            array = np.empty(math.prod(shape), dtype=d.np.newbyteorder("<"))
            f.seek(8 + n + begin)
            if f.readinto(array.view(np.uint8)) != end - begin:  # the file shrank while we read it
                raise SafetensorError(f"Error while deserializing: file truncated inside tensor `{name}`")
            t = _tensor(array, shape)
            tensors[name] = t if target.type == "cpu" else t.to(target)
    return tensors
