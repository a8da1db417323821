"""torch.multiprocessing: the standard library's multiprocessing, plus spawn and the sharing settings.

Everything in `multiprocessing` is re-exported (Process, Queue, Pool, get_context, set_start_method,
...). Tensors sent between processes are pickled (their arrays copied): glasstorch has no shared-memory
tensor storage, so the sharing strategy is a setting that is recorded and reported but changes
nothing about how a tensor travels.

Under `glasstorch run`, the children that `spawn`/`start_processes` start import the script with
torch mapped to glasstorch (spawn.py::_children_import_glasstorch); a Process started directly with the
'spawn' method would import the real torch there.
"""
from __future__ import annotations

import multiprocessing
import sys
from multiprocessing import *  # noqa: F401,F403

from .spawn import (  # noqa: F401
    ProcessContext, ProcessException, ProcessExitedException, ProcessRaisedException, spawn, start_processes,
)

__all__ = ["set_sharing_strategy", "get_sharing_strategy", "get_all_sharing_strategies", "spawn",
           "start_processes", "ProcessContext", "ProcessException", "ProcessExitedException",
           "ProcessRaisedException", *multiprocessing.__all__]

# PyTorch's choices: macOS has only file_system; Linux defaults to file_descriptor.
if sys.platform == "darwin":
    _all_sharing_strategies = {"file_system"}
    _sharing_strategy = "file_system"
else:
    _all_sharing_strategies = {"file_descriptor", "file_system"}
    _sharing_strategy = "file_descriptor"


def set_sharing_strategy(new_strategy: str) -> None:
    """Record the strategy for sharing CPU tensors (see the module docstring: tensors are copied)."""
    global _sharing_strategy
    assert new_strategy in _all_sharing_strategies, (
        f"invalid sharing strategy '{new_strategy}', expected one of {_all_sharing_strategies}")
    _sharing_strategy = new_strategy


def get_sharing_strategy() -> str:
    return _sharing_strategy


def get_all_sharing_strategies() -> set[str]:
    return _all_sharing_strategies
