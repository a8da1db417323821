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
