"""torch.select / Tensor.select: a view without the selected dim (SelectBackward0)."""
from _optable import ONE, R3, Op

TABLE = [
    Op("select", lambda m, a: m.select(a, 1, -1), ONE),
    Op("select_method", lambda m, a: a.select(-2, 1), R3),
]
