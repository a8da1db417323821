"""The IDX file format of MNIST-like datasets: `read_idx` and `write_idx`.

An IDX file is a 4-byte magic number (0, 0, type code, number of dimensions), one big-endian
uint32 per dimension, then the elements in C order, big-endian. Distributed files are usually
gzip-compressed; the reader recognises gzip by its magic bytes, not by the file name.

Malformed files raise RuntimeError (as `torch.load` does for a corrupt file), naming the file
and what is wrong with it.
"""
from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from typing import Union

import numpy as np

from .._atomic import atomic_write

__all__ = ["read_idx", "write_idx", "encode_idx", "decode_idx", "gunzip_if_needed"]

PathOrBytes = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview]

GZIP_MAGIC = b"\x1f\x8b"

# IDX type code -> element dtype as stored (big-endian)
_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
# native-order dtype -> IDX type code, for the writer
_CODES: dict[np.dtype, int] = {dt.newbyteorder("="): code for code, dt in _DTYPES.items()}
_SUPPORTED = ", ".join(f"0x{code:02x} {dt.newbyteorder('=').name}" for code, dt in _DTYPES.items())


def gunzip_if_needed(raw: bytes, name: str) -> bytes:
    """`raw` decompressed if it starts with the gzip magic bytes, else `raw` itself."""
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError as e:  # the stream stops before gzip's end marker
        raise RuntimeError(f"{name}: truncated gzip data ({len(raw)} compressed bytes): {e}") from None
    except (OSError, zlib.error) as e:  # BadGzipFile is an OSError; bad CRC, bad deflate data
        raise RuntimeError(f"{name}: corrupt gzip data: {e}") from None


def decode_idx(buf: bytes | bytearray | memoryview, name: str = "<bytes>") -> np.ndarray:
    """Parse uncompressed IDX bytes into an array in native byte order.

    For one-byte types the result is a view of `buf` (read-only when `buf` is `bytes`).
    """
    size = len(buf)
    if size < 4:
        raise RuntimeError(f"{name}: not an IDX file: {size} bytes is shorter than the 4-byte magic number")
    zero0, zero1, code, ndim = bytes(buf[:4])
    if zero0 or zero1:
        raise RuntimeError(
            f"{name}: not an IDX file: magic number 0x{bytes(buf[:4]).hex()} does not start with two zero bytes"
        )
    if code not in _DTYPES:
        raise RuntimeError(f"{name}: unsupported IDX type code 0x{code:02x} (supported: {_SUPPORTED})")
    header = 4 + 4 * ndim
    if size < header:
        raise RuntimeError(
            f"{name}: truncated header: {ndim} dimensions need {header} header bytes, but the data has {size}"
        )
    shape = struct.unpack(f">{ndim}I", buf[4:header])
    dtype = _DTYPES[code]
    count = math.prod(shape)
    expected, actual = count * dtype.itemsize, size - header
    what = f"the header says shape {shape} of {dtype.newbyteorder('=').name}, {expected} data bytes"
    if actual < expected:
        raise RuntimeError(f"{name}: truncated data: {what}, but only {actual} follow")
    if actual > expected:
        raise RuntimeError(f"{name}: {actual - expected} unexpected bytes after the data ({what})")
    array = np.frombuffer(buf, dtype=dtype, count=count, offset=header).reshape(shape)
    if dtype.itemsize > 1:
        array = array.astype(dtype.newbyteorder("="))  # big-endian -> native order (a copy)
    return array


def read_idx(source: PathOrBytes) -> np.ndarray:
    """Read an IDX file (gzip-compressed or raw) from a path or from bytes; a new writable array."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        name, raw = "<bytes>", bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        with open(name, "rb") as f:
            raw = f.read()
    else:
        raise TypeError(f"read_idx(): expected a path or bytes, but got {type(source).__name__}")
    array = decode_idx(gunzip_if_needed(raw, name), name)
    return array if array.flags.writeable else array.copy()


def encode_idx(array) -> bytes:
    """The uncompressed IDX bytes of `array` (uint8, int8, int16, int32, float32 or float64)."""
    a = np.asarray(array.numpy() if hasattr(array, "numpy") and not isinstance(array, np.ndarray) else array)
    code = _CODES.get(a.dtype.newbyteorder("="))
    if code is None:
        raise TypeError(f"write_idx(): IDX files cannot hold dtype {a.dtype} (supported: {_SUPPORTED})")
    if a.ndim > 255 or any(d >= 2**32 for d in a.shape):
        raise ValueError(f"write_idx(): shape {a.shape} does not fit IDX (at most 255 dims, each < 2**32)")
    header = struct.pack(f">BBBB{a.ndim}I", 0, 0, code, a.ndim, *a.shape)
    return header + np.ascontiguousarray(a, dtype=_DTYPES[code]).tobytes()


def write_idx(path: str | os.PathLike, array, compress: bool | None = None) -> None:
    """Write `array` as an IDX file, atomically; gzip-compressed if `compress`, which defaults to
    whether `path` ends in ".gz"."""
    data = encode_idx(array)
    if compress is None:
        compress = os.fspath(path).endswith(".gz")
    if compress:
        data = gzip.compress(data, mtime=0)  # mtime=0: the same array always gives the same bytes
    with atomic_write(path) as f:
        f.write(data)
