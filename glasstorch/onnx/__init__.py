"""torch.onnx: export a traced glasstorch model to an ONNX file (needs the optional `onnx` package).

The route: run the model once with every parameter and floating input recording autograd (twice when
dynamic_axes names input axes, see _trace.py), then walk the recorded grad_fn graph (iteratively) and
translate each node into ONNX nodes (_symbolic.py; recurrent layers and attention in _symbolic_seq.py).
"""
from __future__ import annotations

import os

from .._atomic import atomic_write

__all__ = ["export", "is_in_onnx_export", "OnnxExporterError"]

_EXPORTING = False


class OnnxExporterError(RuntimeError):
    """Raised when a model cannot be exported (an op with no translation, an untraceable input); a
    RuntimeError, as PyTorch's."""


def is_in_onnx_export() -> bool:
    """True while `export` is tracing a model."""
    return _EXPORTING


def export(model, args=(), f=None, *, kwargs=None, export_params: bool = True, verbose: bool = False,
           input_names=None, output_names=None, opset_version: int | None = None,
           dynamic_axes=None, keep_initializers_as_inputs: bool = False, dynamo: bool = False,
           do_constant_folding: bool = True, training=None, **_ignored):
    """Trace `model(*args)` and write it to `f` (a path or a binary file object) as an ONNX model.

    Tensors in nested tuples/lists of args (an LSTM's (h0, c0)) and of the outputs are graph inputs/outputs
    in order. input_names/output_names name the graph's inputs/outputs; dynamic_axes maps such a name to
    {axis: symbol} (or a list of axes) to make those dimensions symbolic. Returns None."""
    global _EXPORTING
    try:
        from ._trace import build_model  # imports `onnx` lazily: it is an optional extra
    except ImportError as e:
        raise ModuleNotFoundError("torch.onnx.export needs the `onnx` package: pip install onnx "
                                  "(or glasstorch[onnx])") from e

    if f is None:
        raise ValueError("torch.onnx.export: the output file `f` must be given")
    if not isinstance(args, tuple):
        args = (args,)
    _EXPORTING = True
    try:
        proto = build_model(model, args, kwargs or {}, input_names, output_names, dynamic_axes,
                            opset_version, export_params)
    finally:
        _EXPORTING = False
    if verbose:
        import onnx
        print(onnx.helper.printable_graph(proto.graph))
    data = proto.SerializeToString()
    if isinstance(f, (str, os.PathLike)):
        with atomic_write(f, "wb") as fh:
            fh.write(data)
    else:
        f.write(data)
