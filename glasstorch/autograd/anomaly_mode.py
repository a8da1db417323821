"""Anomaly detection: remember where each node was created, and fail on NaN gradients."""
from __future__ import annotations

from .graph import _GradMode


class detect_anomaly:
    """Inside, a backward that produces NaN raises RuntimeError naming the forward op and its stack."""

    def __init__(self, check_nan: bool = True) -> None:
        self.prev = _GradMode.anomaly
        self.check_nan = check_nan

    def __enter__(self):
        _GradMode.anomaly = True

    def __exit__(self, *exc):
        _GradMode.anomaly = self.prev


class set_detect_anomaly:
    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = _GradMode.anomaly
        _GradMode.anomaly = bool(mode)

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        _GradMode.anomaly = self.prev


def is_anomaly_enabled() -> bool:
    return _GradMode.anomaly
