"""Printing tensors character-for-character like PyTorch's ``repr``.

The rules (learned from PyTorch 2.13's behaviour):

* One formatter decides a single notation and column width for *all* elements, so
  columns line up.  Floats use one of three notations, picked from the nonzero finite
  values only: "int mode" (every value is a whole number: ``1.``), fixed (``1.5000``)
  or scientific (``1.5000e+10``).  Scientific wins when max/min > 1000, max > 1e8 or
  min < 1e-4, unless ``sci_mode`` forces it.
* A tensor with more than ``threshold`` elements is summarised: every dimension longer
  than ``2 * edgeitems`` shows only its first and last ``edgeitems`` entries around ``...``.
* Rows wrap to ``linewidth``; continuation lines are indented under the opening ``[``.
* Suffixes (device, size, dtype, grad_fn/requires_grad) follow the closing bracket and
  move to a new line when they would overflow ``linewidth``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
from typing import Any, Iterator

import numpy as np

__all__ = ["PRINT_OPTS", "format_tensor", "set_printoptions", "get_printoptions", "printoptions"]


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrintOptions()

_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Change how tensors print; same arguments and semantics as ``torch.set_printoptions``.

    ``profile`` ('default', 'short', 'full') is applied first, explicit options override it.
    Like PyTorch, ``sci_mode`` is reset to automatic (None) by any call that omits it, and an
    unknown profile name is ignored (programs written for PyTorch must keep running).
    """
    if profile in _PROFILES:
        for name, value in _PROFILES[profile].items():
            setattr(PRINT_OPTS, name, value)
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current options, as keyword arguments for ``set_printoptions``."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs: Any) -> Iterator[None]:
    """Context manager: ``set_printoptions(**kwargs)`` inside the block, restored after."""
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)


# ---- element formatting -------------------------------------------------------------------------


class _Formatter:
    """Formats single elements so that every element of one tensor gets the same width.

    Built from the elements that will actually be shown (the summary, for big tensors).
    """

    def __init__(self, shown: np.ndarray):
        self.is_float = shown.dtype.kind == "f"
        self.int_mode = True  # floats only: all shown values are whole numbers
        self.sci_mode = False
        self.width = 1
        if not self.is_float:
            # ints and bools print as Python does (`-3`, `False`); the widest is an extreme
            if shown.size:
                extremes = (shown.min().item(), shown.max().item())
                self.width = max(len(str(v)) for v in extremes)
            return

        # float16/float32 -> float64 is exact, and Python floats are what get printed
        values = shown.ravel().astype(np.float64)
        values = values[np.isfinite(values) & (values != 0)]
        if values.size == 0:
            return  # only zeros/nan/inf: int mode, width 1, sci_mode option ignored (as PyTorch)
        magnitudes = np.abs(values)
        smallest, largest = float(magnitudes.min()), float(magnitudes.max())
        self.int_mode = bool(np.all(values == np.ceil(values)))
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
        else:
            self.sci_mode = PRINT_OPTS.sci_mode
        # the widest nonzero finite value sets the width; zeros/nan/inf never widen it
        self.width = max(len(self._bare(v)) for v in values.tolist())

    def _bare(self, value: float) -> str:
        """`value` in this formatter's notation, without padding."""
        precision = PRINT_OPTS.precision
        if self.sci_mode:
            return f"{value:.{precision}e}"
        if self.int_mode:
            text = f"{value:.0f}"
            # the trailing dot marks a float; nan/inf need no marker
            return text if math.isinf(value) or math.isnan(value) else text + "."
        return f"{value:.{precision}f}"

    def format(self, value) -> str:
        """One element (Python float/int/bool), right-aligned to the common width."""
        text = self._bare(value) if self.is_float else str(value)
        return text.rjust(self.width)


class _ComplexFormatter:
    """Complex elements: the real parts and the imaginary parts each get a float formatter of their
    own (notation and width), as in PyTorch; `1.5000-2.0000j`."""

    def __init__(self, shown: np.ndarray):
        self.real, self.imag = _Formatter(shown.real), _Formatter(shown.imag)
        self.width = self.real.width + self.imag.width + 1  # the line budget counts both, and the sign

    def format(self, value) -> str:
        real = self.real.format(value.real)
        imag = (self.imag.format(value.imag) + "j").lstrip()
        return real + imag if imag[0] in "+-" else real + "+" + imag


def _edges(a: np.ndarray) -> np.ndarray:
    """The elements a summarised print shows: first/last `edgeitems` along each long axis."""
    edge = PRINT_OPTS.edgeitems
    for axis, size in enumerate(a.shape):
        if size > 2 * edge:
            keep = np.r_[0:edge, size - edge : size]
            a = np.take(a, keep, axis=axis)
    return a


# ---- layout -------------------------------------------------------------------------------------


def _scalars(a: np.ndarray) -> list:
    """Python scalars of `a` (1-D): floats go through float64, which is exact, as PyTorch does."""
    return (a.astype(np.float64) if a.dtype.kind == "f" else a).tolist()  # (complex64 -> Python complex is exact)


def _vector_str(row: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    """A 1-D array as `[a, b, ...]`, wrapped to the line width."""
    edge = PRINT_OPTS.edgeitems
    if summarize and not edge:
        items = ["..."]
    elif summarize and len(row) > 2 * edge:
        head, tail = _scalars(row[:edge]), _scalars(row[-edge:])
        items = [fmt.format(v) for v in head] + [" ..."] + [fmt.format(v) for v in tail]
    else:
        items = [fmt.format(v) for v in _scalars(row)]

    # the line budget uses the common width (+ ", "), even if nan/inf/-0 are wider
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / (fmt.width + 2)))
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    """`a` as bracketed text; `indent` is the column of its opening `[`."""
    if a.ndim == 0:
        return fmt.format(_scalars(a.reshape(1))[0])
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, fmt)

    edge = PRINT_OPTS.edgeitems
    n = len(a)
    if summarize and n > 2 * edge:
        rows = [*range(edge), None, *range(n - edge, n)]  # None marks the "..." line
    else:
        rows = range(n)
    parts = ["..." if i is None else _nested_str(a[i], indent + 1, summarize, fmt) for i in rows]
    # the higher the rank, the more blank lines between blocks (ndim - 2 of them)
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _body_str(a: np.ndarray, indent: int) -> str:
    """The bracketed values of a non-empty array, as PyTorch lays them out."""
    summarize = a.size > PRINT_OPTS.threshold
    shown = _edges(a) if summarize else a
    fmt = _ComplexFormatter(shown) if a.dtype.kind == "c" else _Formatter(shown)
    return _nested_str(a, indent, summarize, fmt)


def _add_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    """Append `, suffix` items and the closing `)`, starting a new line when one would overflow."""
    # PyTorch's estimate of the last line's length is 2 too long; kept so lines wrap identically
    last_line_len = len(text) - text.rfind("\n") + 1
    pieces = [text]
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            pieces.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            pieces.append(", " + suffix)
            last_line_len += len(suffix) + 2
    pieces.append(")")
    return "".join(pieces)


def _device_suffix(device: str | None) -> list[str]:
    if device is None or device == "cpu":
        return []
    if ":" not in device:
        device += ":0"  # a tensor always lives on an indexed device
    return [f"device='{device}'"]


def format_tensor(
    a: np.ndarray,
    *,
    dtype_name: str,
    default_float: str = "float32",
    device: str | None = None,
    grad_fn: str | None = None,
    requires_grad: bool = False,
    prefix: str = "tensor(",
) -> str:
    """``repr`` of a PyTorch tensor holding `a` (any shape), e.g. ``tensor([1., 2.])``.

    dtype_name: the tensor's dtype ('float32', 'int64', ...), printed as ``dtype=torch.<name>``
    unless it is the default float dtype (`default_float`), int64 or bool.
    device: printed as ``device='cuda:0'`` unless None or 'cpu'.
    grad_fn: node class name (``MulBackward0``); otherwise `requires_grad` prints
    ``requires_grad=True``.
    prefix: text before the values; continuation lines align under its last line.
    """
    a = np.asarray(a)
    if dtype_name == "bfloat16":
        a = a.astype(np.float32)  # exact; bfloat16 prints by the float rules
    if a.dtype.kind not in "biufc":
        raise TypeError(f"format_tensor: cannot print an array of dtype {a.dtype}")

    # a multi-line prefix ("Parameter containing:\ntensor(") only shifts its last line
    head, newline, prefix = prefix.rpartition("\n")
    head += newline
    indent = len(prefix)

    suffixes = _device_suffix(device)
    default_complex = {"float32": "complex64", "float64": "complex128", "float16": "complex32"}.get(default_float)
    dtype_suffix = f"dtype=torch.{dtype_name}"
    if a.size == 0:
        # no elements to show the kind of number, so anything but the default float says so
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if dtype_name != default_float:
            suffixes.append(dtype_suffix)
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(a.shape)}")
        if dtype_name not in (default_float, default_complex, "int64", "bool"):
            suffixes.append(dtype_suffix)
        body = _body_str(a, indent)

    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")

    return head + _add_suffixes(prefix + body, suffixes, indent)
