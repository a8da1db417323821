"""Atomic file writes: a reader sees the old file or the complete new one, never half of one.

Every file glasstorch writes (checkpoints, safetensors, cached datasets, the CLI's run files) goes
through `atomic_write`, so a crash or a SIGKILL part-way through leaves the previous file intact.
"""
from __future__ import annotations

import contextlib
import os
from typing import IO, Iterator


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a file (`mode` 'wb' or 'w') that replaces `path` only once the block finishes without error.

    Writes go to a temp file in the same folder (so os.replace is a rename, which is atomic), fsync'ed
    before the rename; on any exception it is deleted and the old file, if any, is left untouched.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write: mode must be 'wb' or 'w', got {mode!r}")
    path = os.path.realpath(os.fspath(path))  # write through symlinks, like open() would
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise RuntimeError(f"Parent directory {folder} does not exist.")
    tmp, fd = _create_temp(folder, os.path.basename(path))
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"newline": "", "encoding": "utf-8"})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())  # the bytes must be on disk before the rename makes them visible
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def _create_temp(folder: str, base: str) -> tuple[str, int]:
    # os.open with mode 0o666 lets the umask decide permissions, as open(path, 'wb') would
    # (tempfile.mkstemp would leave the final file readable by its owner only).
    for _ in range(100):
        tmp = os.path.join(folder, f".{base}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        try:
            return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file in {folder}")


def _fsync_folder(folder: str) -> None:
    # Makes the rename itself durable; not possible (nor needed) on Windows.
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
