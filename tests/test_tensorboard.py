"""torch.utils.tensorboard.SummaryWriter (glasstorch/utils/tensorboard): the event files glasstorch writes
hold the records PyTorch's writer writes, read back with TensorBoard's own loader."""
from __future__ import annotations

import glob
import os

import numpy as np
import pytest

pytest.importorskip("tensorboard")
torch = pytest.importorskip("torch")

import glasstorch  # noqa: E402
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader  # noqa: E402


def records(folder: str) -> dict:
    """{run folder relative to `folder`: [(step, tag, value), ...]} from every event file below it (wall times,
    which differ between any two runs, are left out; the file-version record is kept)."""
    runs = {}
    for path in sorted(glob.glob(os.path.join(folder, "**", "events.out.tfevents.*"), recursive=True)):
        run = os.path.relpath(os.path.dirname(path), folder)
        for event in EventFileLoader(path).Load():
            event.ClearField("wall_time")
            runs.setdefault(run, []).append(event.SerializeToString())
    return runs


def log(lib, folder: str) -> None:
    from importlib import import_module

    tb = import_module(f"{lib.__name__}.utils.tensorboard")
    with tb.SummaryWriter(folder) as writer:
        for step in range(3):
            writer.add_scalar("loss/train", 1.0 / (step + 1), step)
            writer.add_scalar("acc", lib.tensor(0.25 * step), step, new_style=True)
            writer.add_scalar("lr", np.float64(0.1) * step, global_step=step, double_precision=True, new_style=True)
            writer.add_scalars("run/metrics", {"a": step, "b": lib.tensor([2.0 * step])}, step)
        writer.add_text("notes", "glasstorch and PyTorch", 7)
        assert writer.get_logdir() == folder


def test_summary_writer_writes_pytorchs_records(tmp_path):
    log(torch, str(tmp_path / "torch"))
    log(glasstorch, str(tmp_path / "glasstorch"))
    theirs, ours = records(str(tmp_path / "torch")), records(str(tmp_path / "glasstorch"))
    assert sorted(ours) == sorted(theirs) == [".", "run_metrics_a", "run_metrics_b"]
    for run in theirs:
        assert ours[run] == theirs[run], run
    assert len(theirs["."]) == 1 + 3 * 3 + 1  # the file version, 9 scalars, the text


def test_summary_writer_default_folder_purge_step_and_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from glasstorch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(comment="_lr0.1", purge_step=5)
    writer.add_scalar("x", 1.0, 6)
    writer.close()
    writer.close()  # a second close does nothing
    (run,) = os.listdir(tmp_path / "runs")
    assert run.endswith("_lr0.1") and glob.glob(str(tmp_path / "runs" / run / "events.out.tfevents.*"))
    with pytest.raises(AssertionError, match="Tensor should contain one element"):
        SummaryWriter(str(tmp_path / "bad")).add_scalar("x", glasstorch.ones(2))
