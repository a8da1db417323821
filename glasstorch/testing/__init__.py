"""torch.testing: assert_close, make_tensor and the deprecated assert_allclose.

    from glasstorch.testing import assert_close
    assert_close(model(x), expected)                  # dtype-aware default tolerances
"""
from __future__ import annotations

import warnings
from typing import Any

from ._comparison import assert_close, default_tolerances
from ._creation import make_tensor

__all__ = ["assert_close", "make_tensor", "assert_allclose"]


def assert_allclose(actual: Any, expected: Any, rtol: float | None = None, atol: float | None = None,
                    equal_nan: bool = True, msg: str = "") -> None:
    """Deprecated since torch 1.12: assert_close with dtype checks off, NaNs equal and looser defaults
    (float16: 1e-3, 1e-3; float32: 1e-4, 1e-5; float64: 1e-5, 1e-8)."""
    from .. import _dtype as D
    from .._ops.creation import tensor
    from .._tensor import Tensor

    warnings.warn("`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a future "
                  "release. Please use `torch.testing.assert_close()` instead. You can find detailed upgrade "
                  "instructions in https://github.com/pytorch/pytorch/issues/61844.", FutureWarning, stacklevel=2)
    if not isinstance(actual, Tensor):
        actual = tensor(actual)
    if not isinstance(expected, Tensor):
        expected = tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        rtol, atol = default_tolerances(actual, expected, dtype_precisions={
            D.float16: (1e-3, 1e-3), D.float32: (1e-4, 1e-5), D.float64: (1e-5, 1e-8)})
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True,
                 check_dtype=False, check_stride=False, msg=msg or None)
