"""The benchmark command runs and prints its table (speed itself is never asserted in tests)."""
import re

from benchmarks.__main__ import main


def test_benchmark_table_prints_ratio_and_range(capsys):
    assert main(["--only", "small", "--reps", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("| benchmark | PyTorch | glasstorch |")
    row = lines[2]
    assert row.startswith("| 2. 200 elementwise ops")
    ratio = float(re.search(r"\*\*([0-9.]+)\*\*", row).group(1))
    low, high = map(float, re.search(r"\| ([0-9.]+)-([0-9.]+) \|", row).groups())
    assert ratio > 0 and 0 < low <= high


def test_several_benchmarks_each_run_in_a_fresh_process(capsys, monkeypatch):
    import benchmarks.__main__ as harness

    started = []
    fresh = harness._row_in_fresh_process
    monkeypatch.setattr(harness, "_row_in_fresh_process", lambda key, args: started.append(key) or fresh(key, args))
    assert main(["--only", "small", "small", "--reps", "1"]) == 0
    rows = capsys.readouterr().out.strip().splitlines()[2:]
    assert started == ["small", "small"] and len(rows) == 2
    assert all(row.startswith("| 2. 200 elementwise ops") and "**" in row for row in rows)


def test_cuda_benchmarks_without_a_gpu_exit_with_one_error_line(capsys, monkeypatch):
    """`--device cuda` on a machine without a GPU: exit status 2 and one line saying why, no table."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["--device", "cuda", "--only", "mlp"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("benchmarks --device cuda: no GPU to run on: PyTorch sees no")


def test_cuda_benchmark_names_are_checked_per_device(capsys):
    import pytest

    with pytest.raises(SystemExit) as exc:
        main(["--only", "matmul"])  # a CUDA benchmark asked for on the CPU
    assert exc.value.code == 2
    assert "not a cpu benchmark: matmul" in capsys.readouterr().err
