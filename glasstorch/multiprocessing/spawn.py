"""spawn / start_processes: run fn(rank, *args) in `nprocs` processes and surface the first failure.

A child that raises writes its traceback to a file of its own (a one-shot message: no queue that
could deadlock at exit) and exits with status 1; the parent, woken by the first process to end,
terminates the others and raises ProcessRaisedException with that traceback, or
ProcessExitedException when a child died without one (a signal, os._exit).
"""
from __future__ import annotations

import contextlib
import importlib.machinery
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import sys
import tempfile
import warnings
from typing import Iterator

__all__ = ["spawn", "start_processes", "ProcessContext", "ProcessException", "ProcessRaisedException",
           "ProcessExitedException"]


class ProcessException(Exception):
    def __init__(self, msg: str, error_index: int, error_pid: int):
        super().__init__(msg)
        self.msg, self.error_index, self.error_pid = msg, error_index, error_pid

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.error_pid)


class ProcessRaisedException(ProcessException):
    """A child raised: the message holds its traceback."""


class ProcessExitedException(ProcessException):
    """A child ended with a non-zero exit code or a signal, without a Python exception."""

    def __init__(self, msg: str, error_index: int, error_pid: int, exit_code: int, signal_name: str | None = None):
        super().__init__(msg, error_index, error_pid)
        self.exit_code, self.signal_name = exit_code, signal_name

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.error_pid, self.exit_code, self.signal_name)


def _wrap(fn, rank: int, args: tuple, error_file: str) -> None:
    """The child's entry point: fn(rank, *args), its traceback written to `error_file` if it raises."""
    try:
        fn(rank, *args)
    except KeyboardInterrupt:
        pass  # the parent terminated us
    except Exception:
        import traceback

        with open(error_file, "wb") as fh:
            pickle.dump(traceback.format_exc(), fh)
        sys.exit(1)


class ProcessContext:
    """The processes of one start_processes call (returned when join=False)."""

    def __init__(self, processes: list, error_files: list[str]):
        self.processes, self.error_files = processes, error_files
        self.sentinels = {p.sentinel: i for i, p in enumerate(processes)}

    def pids(self) -> list[int]:
        return [int(p.pid) for p in self.processes]

    def join(self, timeout: float | None = None, grace_period: float | None = None) -> bool:
        """Wait for processes to end; True once all have ended well. The first failure terminates the
        rest (after `grace_period` seconds, if given) and raises."""
        if not self.sentinels:
            return True
        failed = None
        for sentinel in multiprocessing.connection.wait(list(self.sentinels), timeout=timeout):
            index = self.sentinels.pop(sentinel)
            self.processes[index].join()
            if self.processes[index].exitcode != 0:
                failed = index
                break
        if failed is None:
            return not self.sentinels
        self._stop_all(grace_period)
        self._raise(failed)

    def _stop_all(self, grace_period: float | None) -> None:
        if grace_period is not None:
            for p in self.processes:
                p.join(grace_period)
        for p in self.processes:
            if p.is_alive():
                p.terminate()
        for p in self.processes:
            p.join(30 if grace_period is None else grace_period)
            if p.is_alive():
                p.kill()
                p.join()

    def _raise(self, index: int):
        process, error_file = self.processes[index], self.error_files[index]
        if not os.access(error_file, os.R_OK):
            code = process.exitcode
            if code < 0:
                try:
                    name = signal.Signals(-code).name
                except ValueError:
                    name = f"<Unknown signal {-code}>"
                raise ProcessExitedException(f"process {index:d} terminated with signal {name}", error_index=index,
                                             error_pid=process.pid, exit_code=code, signal_name=name)
            raise ProcessExitedException(f"process {index:d} terminated with exit code {code:d}", error_index=index,
                                         error_pid=process.pid, exit_code=code)
        with open(error_file, "rb") as fh:
            trace = pickle.load(fh)
        os.unlink(error_file)
        raise ProcessRaisedException(f"\n\n-- Process {index:d} terminated with the following error:\n{trace}",
                                     index, process.pid)


_CHILD_MAIN = "glasstorch.multiprocessing._child_main"  # named, never imported, by the parent
_SCRIPT_ENV = "GLASSTORCH_MP_MAIN"  # the script a child's _CHILD_MAIN runs


@contextlib.contextmanager
def _children_import_glasstorch(start_method: str) -> Iterator[None]:
    """Under `glasstorch run` (torch mapped to glasstorch, the script run as __main__ from its path), a
    spawned child would import the script again with the real torch. For the processes started in
    this block the script's main module names `_child_main` as its module instead, which a spawned
    child runs to map torch first (see there); the parent's module is restored on exit."""
    from .._compat import _AliasFinder

    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if (start_method == "fork" or path is None or getattr(main, "__spec__", None) is not None
            or not any(isinstance(f, _AliasFinder) for f in sys.meta_path)):
        yield
        return
    os.environ[_SCRIPT_ENV] = os.path.abspath(path)  # a spawned child gets the environment of its start
    main.__spec__ = importlib.machinery.ModuleSpec(_CHILD_MAIN, None)
    try:
        yield
    finally:
        main.__spec__ = None
        os.environ.pop(_SCRIPT_ENV, None)


def start_processes(fn, args: tuple = (), nprocs: int = 1, join: bool = True, daemon: bool = False,
                    start_method: str = "spawn") -> ProcessContext | None:
    """Start `nprocs` processes running fn(i, *args), i = 0..nprocs-1 (`fn` must be picklable: a
    module-level function). join=True waits for all (raising on the first failure) and returns None."""
    ctx = multiprocessing.get_context(start_method)
    processes, error_files = [], []
    with _children_import_glasstorch(start_method):
        for rank in range(nprocs):
            fd, error_file = tempfile.mkstemp(prefix="glasstorch-errorfile-", suffix=".pickle")
            os.close(fd)
            os.unlink(error_file)  # its appearing is the signal that the child raised
            process = ctx.Process(target=_wrap, args=(fn, rank, args, error_file), daemon=daemon)
            process.start()
            processes.append(process)
            error_files.append(error_file)
    context = ProcessContext(processes, error_files)
    if not join:
        return context
    while not context.join():
        pass
    return None


def spawn(fn, args: tuple = (), nprocs: int = 1, join: bool = True, daemon: bool = False,
          start_method: str = "spawn") -> ProcessContext | None:
    """start_processes with the 'spawn' start method (another start_method: a FutureWarning, still spawn)."""
    if start_method != "spawn":
        warnings.warn(f"This method only supports start_method=spawn (got: {start_method}).\n"
                      "To use a different start_method use:\n\t\t torch.multiprocessing.start_processes(...)",
                      FutureWarning, stacklevel=2)
    return start_processes(fn, args, nprocs, join, daemon, start_method="spawn")
