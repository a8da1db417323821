"""torch.amp: automatic mixed precision (autocast regions and loss scaling)."""
from .autocast_mode import autocast, autocast_op, custom_bwd, custom_fwd, is_autocast_available  # noqa: F401
from .grad_scaler import GradScaler  # noqa: F401

__all__ = ["autocast", "custom_bwd", "custom_fwd", "GradScaler", "is_autocast_available"]
