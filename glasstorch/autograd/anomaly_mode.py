"""Anomaly detection: remember where each node was created, and fail on NaN gradients.

While it is on, every new graph node keeps the user-code stack of the op that made it; a backward
node that returns NaN (or raises) is reported with that stack, as a UserWarning like PyTorch's.
"""
from __future__ import annotations

import warnings

from .grad_mode import _DecoratorContext
from .graph import _GradMode

_ENABLED_WARNING = ("Anomaly Detection has been enabled. This mode will increase the runtime and should only "
                    "be enabled for debugging.")


class detect_anomaly(_DecoratorContext):
    """Inside, a backward that produces NaN raises RuntimeError naming the node."""

    _bare_decorator = False

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        warnings.warn(_ENABLED_WARNING, UserWarning, stacklevel=2)

    def clone(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.__class__(self.check_nan)

    def __enter__(self) -> None:
        self.prev = (_GradMode.anomaly, _GradMode.check_nan)
        _GradMode.anomaly, _GradMode.check_nan = True, self.check_nan

    def __exit__(self, *exc) -> None:
        _GradMode.anomaly, _GradMode.check_nan = self.prev


class set_detect_anomaly:
    """Switch anomaly detection on or off now (and back on exit when used with `with`)."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = (_GradMode.anomaly, _GradMode.check_nan)
        _GradMode.anomaly, _GradMode.check_nan = bool(mode), check_nan

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        _GradMode.anomaly, _GradMode.check_nan = self.prev


def is_anomaly_enabled() -> bool:
    return _GradMode.anomaly


def is_anomaly_check_nan_enabled() -> bool:
    return _GradMode.check_nan
