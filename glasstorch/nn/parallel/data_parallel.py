"""DataParallel: a module wrapper that, in PyTorch, splits each batch over several GPUs.

glasstorch drives one device, so the wrapper runs the module there: on the CPU (no CUDA) it calls the
module directly, as PyTorch does without GPUs; with CUDA it keeps the module on cuda:0 and moves the
inputs there. Either way the module is `.module`, so state_dict keys carry the `module.` prefix.
"""
from __future__ import annotations

from ... import cuda as _cuda
from ..._device import device as _device
from ..._tensor import Tensor
from ..modules.module import Module

__all__ = ["DataParallel", "data_parallel"]


def _device_index(d) -> int:
    if isinstance(d, _device):
        return 0 if d.index is None else d.index
    if isinstance(d, str):
        return _device_index(_device(d))
    return int(d)


def _to_device(obj, device: _device):
    """Tensors in (nested tuples, lists and dicts of) inputs, moved to device."""
    if isinstance(obj, Tensor):
        return obj.to(device)
    if isinstance(obj, (tuple, list)):
        return type(obj)(_to_device(o, device) for o in obj)
    if isinstance(obj, dict):
        return {k: _to_device(v, device) for k, v in obj.items()}
    return obj


class DataParallel(Module):
    """Run `module` on the one device glasstorch drives (see the module docstring)."""

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0) -> None:
        super().__init__()
        if not _cuda.is_available():
            self.module = module
            self.device_ids = []
            return
        if device_ids is None:
            device_ids = list(range(_cuda.device_count()))
        if output_device is None:
            output_device = device_ids[0]
        self.dim = dim
        self.module = module
        self.device_ids = [_device_index(d) for d in device_ids]
        self.output_device = _device_index(output_device)
        self.src_device_obj = _device("cuda", self.device_ids[0])
        self.module.to(self.src_device_obj)

    def forward(self, *inputs, **kwargs):
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        for t in list(self.module.parameters()) + list(self.module.buffers()):
            if t.device != self.src_device_obj:
                raise RuntimeError(f"module must have its parameters and buffers on device {self.src_device_obj} "
                                   f"(device_ids[0]) but found one of them on device: {t.device}")
        return self.module(*_to_device(inputs, self.src_device_obj), **_to_device(kwargs, self.src_device_obj))


def data_parallel(module: Module, inputs, device_ids=None, output_device=None, dim: int = 0, module_kwargs=None):
    """The functional form: module(*inputs, **module_kwargs) on the CUDA device (without one, PyTorch's
    error: unlike the DataParallel module, the function does not fall back to the CPU)."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    module_kwargs = module_kwargs or {}
    if not _cuda.is_available():
        raise RuntimeError("device type could not be determined")
    target = _device("cuda", _device_index(device_ids[0]) if device_ids else 0)
    return module(*_to_device(inputs, target), **_to_device(module_kwargs, target))
