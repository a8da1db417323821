"""A process killed in the middle of a write leaves the previous file intact (glasstorch._atomic).

The writer is a real child process killed with SIGKILL, which no `finally` or `atexit` can catch:
only writing to a temp file and renaming it over the old one keeps the old file whole.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import glasstorch
from glasstorch._atomic import atomic_write
from glasstorch.utils.safetensors import load_file, save_file

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

# The child writes 64 MiB, which takes long enough (tens of milliseconds with the fsync) for the
# parent to see the temp file appear and kill the child before the rename.
CHILD = """
import sys
import numpy as np
import glasstorch
from glasstorch.utils.safetensors import save_file

path, how = sys.argv[1], sys.argv[2]
big = {"w": glasstorch.from_numpy(np.ones((16, 1024, 1024), dtype=np.float32))}
print("ready", flush=True)
sys.stdin.readline()
if how == "save":
    glasstorch.save(big, path)
else:
    save_file(big, path)
print("finished", flush=True)
"""

ROOT = Path(__file__).resolve().parent.parent


def _temp_files(folder: Path, name: str) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(f".{name}.") and p.name.endswith(".tmp")]


def _kill_mid_write(path: Path, how: str) -> list[Path]:
    """Start a child that overwrites `path`, SIGKILL it once its temp file has bytes; the temp files left."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), how], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout.readline().strip() == "ready"
        child.stdin.write("go\n")
        child.stdin.flush()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            temps = _temp_files(path.parent, path.name)
            if temps and temps[0].stat().st_size > 0:
                break
            assert child.poll() is None, "the child finished before it could be killed"
            time.sleep(0.0005)
        else:
            pytest.fail("the child never started writing")
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return _temp_files(path.parent, path.name)


def test_sigkill_during_save_leaves_the_previous_checkpoint(tmp_path):
    path = tmp_path / "model.pt"
    old = {"w": glasstorch.arange(6.0).reshape(2, 3), "step": 7}
    glasstorch.save(old, path)
    before = path.read_bytes()
    left = _kill_mid_write(path, "save")
    assert left, "the child was killed after the rename, so nothing was tested"
    assert path.read_bytes() == before
    back = glasstorch.load(path)
    assert back["step"] == 7 and back["w"].tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    glasstorch.save({"w": glasstorch.ones(2)}, path)  # a stale temp file does not get in the way
    assert glasstorch.load(path)["w"].tolist() == [1.0, 1.0]


def test_sigkill_during_safetensors_write_leaves_the_previous_file(tmp_path):
    path = tmp_path / "model.safetensors"
    save_file({"w": glasstorch.full((3,), 2.5)}, path)
    before = path.read_bytes()
    assert _kill_mid_write(path, "safetensors")
    assert path.read_bytes() == before
    assert load_file(path)["w"].tolist() == [2.5, 2.5, 2.5]


def test_an_exception_while_writing_leaves_the_old_file_and_no_temp(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("old\n")
    with pytest.raises(ZeroDivisionError):
        with atomic_write(path, "w") as f:
            f.write("half")
            1 / 0  # noqa: B018
    assert path.read_text() == "old\n"
    assert not _temp_files(tmp_path, "metrics.csv")
    with atomic_write(path, "w") as f:
        f.write("new\n")
    assert path.read_text() == "new\n"


def test_atomic_write_checks_its_arguments(tmp_path):
    with pytest.raises(RuntimeError, match="Parent directory .* does not exist"):
        with atomic_write(tmp_path / "missing" / "x.pt"):
            pass
    with pytest.raises(ValueError, match="mode must be"):
        with atomic_write(tmp_path / "x", "a"):
            pass


def test_written_file_gets_ordinary_permissions(tmp_path):
    path = tmp_path / "x.bin"
    with atomic_write(path) as f:
        f.write(np.arange(3, dtype=np.uint8).tobytes())
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert path.read_bytes() == b"\x00\x01\x02"
