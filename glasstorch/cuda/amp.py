"""torch.cuda.amp: PyTorch's deprecated spellings of torch.amp's autocast('cuda') and GradScaler('cuda')."""
from __future__ import annotations

import warnings

from .. import _dtype
from ..amp import autocast_mode as _autocast_mode, grad_scaler as _grad_scaler


class autocast(_autocast_mode.autocast):
    """Deprecated: torch.amp.autocast('cuda', ...)."""

    def __init__(self, enabled: bool = True, dtype: _dtype.dtype = _dtype.float16, cache_enabled: bool = True):
        warnings.warn("`torch.cuda.amp.autocast(args...)` is deprecated. Please use "
                      "`torch.amp.autocast('cuda', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cuda", enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)


class GradScaler(_grad_scaler.GradScaler):
    """Deprecated: torch.amp.GradScaler('cuda', ...)."""

    def __init__(self, init_scale: float = 2.0**16, growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        warnings.warn("`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use "
                      "`torch.amp.GradScaler('cuda', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cuda", init_scale=init_scale, growth_factor=growth_factor, backoff_factor=backoff_factor,
                         growth_interval=growth_interval, enabled=enabled)
