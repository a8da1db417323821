"""torch.nn.parallel: DataParallel on glasstorch's one device."""
from .data_parallel import DataParallel, data_parallel  # noqa: F401
from .distributed import DistributedDataParallel  # noqa: F401  (glasstorch.distributed's engines)

__all__ = ["DataParallel", "data_parallel", "DistributedDataParallel"]
