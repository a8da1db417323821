"""glasstorch._compare (output comparison, running scripts) and glasstorch._compat (torch alias)."""
from __future__ import annotations

import sys
import textwrap
import types

import pytest
from hypothesis import given, strategies as st

import glasstorch
from glasstorch._compare import Difference, compare_outputs, run_and_capture, run_batch, tokenize
from glasstorch._compat import install_torch_alias, run_script, torch_alias, uninstall_torch_alias


# ---- tokenize ------------------------------------------------------------------------------------

def test_tokenize_splits_numbers_words_and_punctuation():
    toks = tokenize("loss=0.8963 tensor([1., -2.5e-05, nan, -inf]) torch.float32\n  x 42")
    assert [(t.kind, t.text) for t in toks] == [
        ("word", "loss"), ("punct", "="), ("num", "0.8963"),
        ("word", "tensor"), ("punct", "("), ("punct", "["), ("num", "1."), ("punct", ","),
        ("num", "-2.5e-05"), ("punct", ","), ("num", "nan"), ("punct", ","), ("num", "-inf"),
        ("punct", "]"), ("punct", ")"),
        ("word", "torch"), ("punct", "."), ("word", "float32"),
        ("word", "x"), ("num", "42"),
    ]
    assert (toks[-1].line, toks[-1].column) == (2, 5)


def test_tokenize_drops_memory_addresses():
    assert [t.text for t in tokenize("<SinBackward0 object at 0x7f46f14e3f70>")] == [
        "<", "SinBackward0", "object", "at", ">"]


def test_tokenize_keeps_words_that_start_like_inf_or_nan():
    assert [(t.kind, t.text) for t in tokenize("info nano inf")] == [
        ("word", "info"), ("word", "nano"), ("num", "inf")]


# ---- compare_outputs -----------------------------------------------------------------------------

def test_equal_within_tolerance():
    assert compare_outputs("MSE Loss: 0.8963\nstep 3", "MSE Loss: 0.89631\nstep 3") is None
    assert compare_outputs("tensor([2.6881e+43, inf])", "tensor([2.68812e+43, inf])") is None
    assert compare_outputs("x = 1e-07", "x = 1.5e-07") is None  # within atol=1e-6


def test_whitespace_and_line_breaks_are_ignored():
    assert compare_outputs("tensor([ 0.1000, -0.1000])", "tensor([0.1000,\n        -0.1000])") is None


def test_first_difference_reported_with_context():
    expected = "Step 0 loss=0.896250\nStep 1 loss=0.721839\nStep 2 loss=0.600000"
    actual = "Step 0 loss=0.896250\nStep 1 loss=0.725753\nStep 2 loss=0.7"
    diff = compare_outputs(expected, actual)
    assert isinstance(diff, Difference)
    assert (diff.line, diff.column, diff.expected, diff.actual) == (2, 13, "0.721839", "0.725753")
    assert diff.expected_line == "Step 1 loss=0.721839"
    assert diff.actual_line == "Step 1 loss=0.725753"
    assert (diff.actual_line_number, diff.actual_column) == (2, 13)
    assert diff.reason == "numbers differ"
    text = str(diff)
    assert "line 2" in text and "0.721839" in text and "0.725753" in text


def test_tolerance_is_relative_to_the_expected_value():
    assert compare_outputs("1000.0", "1000.05") is None  # 5e-5 relative
    assert compare_outputs("1000.00", "1000.20") is not None  # 2e-4 relative
    assert compare_outputs("1000.00", "1000.20", rtol=1e-3) is None
    assert compare_outputs("0.000000", "0.000010") is not None
    assert compare_outputs("0.000000", "0.000010", atol=1e-4) is None


def test_last_printed_digit_may_round_either_way():
    """0.89625 a hair above or below prints as 0.8963 or 0.8962: both stand for the same value."""
    assert compare_outputs("Loss: 0.8963", "Loss: 0.8962") is None
    assert compare_outputs("Loss: 0.8963", "Loss: 0.8961") is not None
    assert compare_outputs("tensor([2.6881e+43])", "tensor([2.6882e+43])", rtol=0) is None
    assert compare_outputs("tensor([2.6881e+43])", "tensor([2.6883e+43])", rtol=0) is not None
    assert compare_outputs("x = 3.", "x = 3.5", rtol=0, atol=0) is None  # '3.' is any value rounding to 3
    assert compare_outputs("x = 3.", "x = 4.6", rtol=0, atol=0) is not None


def test_addresses_are_ignored():
    assert compare_outputs("d.grad_fn = <SinBackward0 object at 0x7f46f14e3f70>",
                           "d.grad_fn = <SinBackward0 object at 0x7fd0e6dd6b30>") is None


def test_differing_word():
    diff = compare_outputs("print\nTrue\nTrue", "print\nTrue\nFalse")
    assert (diff.line, diff.expected, diff.actual, diff.reason) == (3, "True", "False", "tokens differ")


def test_number_against_word():
    diff = compare_outputs("loss 0.5", "loss nan?")
    assert diff is not None and diff.expected == "0.5" and diff.actual == "nan"
    diff = compare_outputs("grad None", "grad 0.0")
    assert (diff.expected, diff.actual) == ("None", "0.0")


def test_integers_must_match_exactly_and_never_match_floats():
    assert compare_outputs("torch.Size([16, 4])", "torch.Size([16, 4])") is None
    assert compare_outputs("Parameters: 31", "Parameters: 32").reason == "integers differ"
    # an int64 result where PyTorch has float32 is a dtype bug, not rounding
    assert compare_outputs("tensor([1., 2.])", "tensor([1, 2])").reason == "integer vs float"


def test_nan_and_inf():
    assert compare_outputs("nan inf -inf", "nan inf -inf") is None
    assert compare_outputs("inf", "-inf") is not None
    assert compare_outputs("nan", "0.0") is not None
    assert compare_outputs("1.0", "nan") is not None


def test_one_output_longer_than_the_other():
    diff = compare_outputs("a 1\nb 2", "a 1")
    assert (diff.expected, diff.actual, diff.reason) == ("b", "<end of output>", "actual output ends early")
    assert diff.line == 2 and diff.actual_line == "a 1"
    diff = compare_outputs("", "extra")
    assert (diff.expected, diff.actual, diff.reason) == ("<end of output>", "extra", "actual output is longer")
    assert compare_outputs("", "\n  \n") is None


@given(st.text())
def test_any_text_equals_itself(text):
    assert compare_outputs(text, text) is None


@given(st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).filter(lambda v: abs(v) > 1e-3),
                min_size=1, max_size=8))
def test_tiny_relative_changes_pass_and_large_ones_fail(values):
    expected = "tensor([" + ", ".join(f"{v:.6e}" for v in values) + "])"
    close = "tensor([" + ", ".join(f"{v * (1 + 1e-6):.6e}" for v in values) + "])"
    far = "tensor([" + ", ".join(f"{v * (1 + 1e-2):.6e}" for v in values) + "])"
    assert compare_outputs(expected, close) is None
    assert compare_outputs(expected, far) is not None


# ---- torch_alias ---------------------------------------------------------------------------------

def _torch_entries() -> dict:
    return {k: v for k, v in sys.modules.items() if k == "torch" or k.startswith("torch.")}


def test_torch_alias_maps_torch_and_restores_sys_modules():
    before = _torch_entries()
    meta_before = list(sys.meta_path)
    with torch_alias() as torch:
        import torch as t
        import torch.nn as nn
        import torch.utils.data as data

        assert torch is glasstorch and t is glasstorch
        assert nn is glasstorch.nn and sys.modules["torch.nn"] is glasstorch.nn
        assert data is glasstorch.utils.data
        assert sys.modules["torch.autograd"] is glasstorch.autograd
        assert sys.modules["torch.cuda"] is glasstorch.cuda
        assert sys.modules["torch.optim"] is glasstorch.optim
    assert _torch_entries() == before
    assert sys.meta_path == meta_before


def test_torch_alias_hides_and_brings_back_a_torch_already_imported(monkeypatch):
    fake, fake_nn = types.ModuleType("torch"), types.ModuleType("torch.nn")
    monkeypatch.setitem(sys.modules, "torch", fake)
    monkeypatch.setitem(sys.modules, "torch.nn", fake_nn)
    with torch_alias():
        import torch
        import torch.nn

        assert torch is glasstorch and torch.nn is glasstorch.nn
    assert sys.modules["torch"] is fake and sys.modules["torch.nn"] is fake_nn


def test_torch_alias_restores_after_an_exception():
    before = _torch_entries()
    with pytest.raises(ZeroDivisionError):
        with torch_alias():
            import torch  # noqa: F401

            1 / 0
    assert _torch_entries() == before


def test_torch_alias_finds_submodules_on_demand():
    """Submodules not entered up front (private ones) come through the finder, as the same object."""
    import glasstorch._ops.pointwise as pointwise

    spec = pointwise.__spec__
    with torch_alias():
        sys.modules.pop("torch._ops.pointwise", None)
        import torch._ops.pointwise as aliased

        assert aliased is pointwise
        assert pointwise.__spec__ is spec  # glasstorch keeps its own module spec
        with pytest.raises(ModuleNotFoundError, match="No module named 'torch.no_such_module'"):
            import torch.no_such_module  # noqa: F401


def test_install_torch_alias_until_uninstalled():
    before = _torch_entries()
    try:
        install_torch_alias()
        install_torch_alias()  # idempotent
        import torch

        assert torch is glasstorch
        assert sum(type(f).__name__ == "_AliasFinder" for f in sys.meta_path) == 1
    finally:
        uninstall_torch_alias()
        sys.modules.update(before)
    assert not any(type(f).__name__ == "_AliasFinder" for f in sys.meta_path)
    assert _torch_entries() == before


# ---- run_script / run_and_capture / run_batch ------------------------------------------------------

def _write(tmp_path, name, code):
    path = tmp_path / name
    path.write_text(textwrap.dedent(code), encoding="utf-8")
    return path


def test_run_script_runs_as_main_with_argv(tmp_path):
    path = _write(tmp_path, "prog.py", """
        import sys
        import torch
        NAME, ARGV, MAIN = torch.__name__, sys.argv[:], __name__
    """)
    argv_before, torch_before = sys.argv[:], _torch_entries()
    result = run_script(str(path), ["--epochs", "2"])
    assert (result["NAME"], result["MAIN"]) == ("glasstorch", "__main__")
    assert result["ARGV"] == [str(path), "--epochs", "2"]
    assert sys.argv == argv_before and _torch_entries() == torch_before


def test_run_and_capture_under_glasstorch(tmp_path):
    path = _write(tmp_path, "prog.py", """
        import sys
        import torch
        import torch.nn as nn
        print(torch.__name__, nn.__name__, sys.argv[1:])
        print(torch.tensor([1.0, 2.0]) * 2)
        print("→ warn", file=sys.stderr)
        sys.exit(3)
    """)
    rc, out, err = run_and_capture(str(path), ["a", "b"], use_glasstorch=True, timeout=60)
    assert rc == 3
    assert out.splitlines() == ["glasstorch glasstorch.nn ['a', 'b']", "tensor([2., 4.])"]
    assert "→ warn" in err


def test_run_and_capture_plain_python_and_errors(tmp_path):
    path = _write(tmp_path, "prog.py", """
        import sys
        print("torch" in sys.modules, sys.argv[1:])
        raise ValueError("boom")
    """)
    rc, out, err = run_and_capture(str(path), ["x"], use_glasstorch=False, timeout=60)
    assert rc == 1 and out == "False ['x']\n"
    assert "ValueError: boom" in err


def test_run_and_capture_timeout(tmp_path):
    path = _write(tmp_path, "slow.py", """
        import time
        print("started", flush=True)
        time.sleep(30)
    """)
    rc, out, err = run_and_capture(str(path), [], use_glasstorch=False, timeout=1)
    assert rc == 124 and "killed after 1 s" in err


def test_run_batch_isolates_each_scripts_output(tmp_path):
    ok = _write(tmp_path, "ok.py", "import sys, torch\nprint(torch.__name__, sys.argv[0].endswith('ok.py'))\n")
    exits = _write(tmp_path, "exits.py", "import sys\nprint('before')\nsys.exit(2)\n")
    raises = _write(tmp_path, "raises.py", "import sys\nprint('oops', file=sys.stderr)\n1 / 0\n")
    slow = _write(tmp_path, "slow.py", "import time\ntime.sleep(30)\n")
    results = run_batch([str(ok), str(exits), str(raises), str(slow)], use_glasstorch=True, timeout=60,
                        per_script_timeout=1)
    assert results[str(ok)] == (0, "glasstorch True\n", "")
    assert results[str(exits)] == (2, "before\n", "")
    rc, out, err = results[str(raises)]
    assert rc == 1 and out == "" and "oops" in err and "ZeroDivisionError" in err
    assert results[str(slow)][0] == 124


def test_run_batch_reports_a_dead_interpreter_for_every_script(tmp_path):
    dies = _write(tmp_path, "dies.py", "import os\nos._exit(7)\n")
    never = _write(tmp_path, "never.py", "print('unreachable')\n")
    results = run_batch([str(dies), str(never)], use_glasstorch=False, timeout=60)
    assert results[str(dies)][0] == 7 and results[str(never)][0] == 7
