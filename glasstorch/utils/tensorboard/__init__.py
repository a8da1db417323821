"""torch.utils.tensorboard: SummaryWriter, writing TensorBoard event files (needs the `tensorboard` package,
as PyTorch's does: without it, importing this module raises ModuleNotFoundError: No module named 'tensorboard')."""
import tensorboard  # noqa: F401  (the optional extra `tensorboard`; PyTorch's module fails the same way without it)

from .writer import FileWriter, SummaryWriter  # noqa: E402
from tensorboard.summary.writer.record_writer import RecordWriter  # noqa: E402

__all__ = ["FileWriter", "RecordWriter", "SummaryWriter"]
