"""Everyday PyTorch programs (tests/programs/*.py) run unchanged under `glasstorch run` and print what
PyTorch prints.

Each program runs as `python PROGRAM.py` on real PyTorch and as `glasstorch run PROGRAM.py`; the two
outputs must have the same lines. Words, punctuation, integers, shapes, dtypes and reprs must be
identical (memory addresses are ignored); floats agree within TIGHT (below), except on the lines a
program's LOOSE rules name, whose values depend on something the two libraries legitimately do
differently (each rule says what).

The programs' printed numbers are made independent of the random stream where the program allows it
(glasstorch's generator is its own: torch.manual_seed(0) gives other numbers than PyTorch's): data from
NumPy's or Python's generators or closed formulas, weights from closed formulas. Where a program's
point is randomness (shuffled loaders, random_split, FakeData, dropout), its RNG-dependent lines are
LOOSE rules and everything else is still compared.

Programs that import torchvision are compared only where torchvision is installed (no wheel of it
loads with this PyTorch build); without it the glasstorch run is checked against the lines of
EXPECTED, which follow from torchvision's documented behaviour. Programs that log to TensorBoard
need the `tensorboard` package (the test extra has it) and are skipped without it.
"""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import pytest

from glasstorch._compare import Token, run_batch, tokenize

ROOT = Path(__file__).resolve().parent.parent
HAVE_TENSORBOARD = importlib.util.find_spec("tensorboard") is not None
PROGRAMS = Path(__file__).resolve().parent / "programs"
NAMES = sorted(p.stem for p in PROGRAMS.glob("*.py"))

# Floats everywhere else: the programs train in float32 for up to 3000 steps of (contracting) gradient
# descent, where BLAS and NumPy add sums in another order than PyTorch's kernels: each op differs by
# ~1e-7 relative, a 2000-term loss by ~sqrt(2000) * 6e-8 = 3e-6. The largest difference seen is 6e-5
# relative (LeNet's 1e-6-sized gradients); rtol 1e-4 leaves room for another CPU's summation order.
# atol 1e-6 covers values that are 0 on paper and rounding noise in practice (the Legendre fit's
# constant terms end at ~1e-9 on both). Half a unit in each number's last printed digit is added.
TIGHT = (1e-4, 1e-6)

# {program: [(regex of PyTorch's line, tolerance)]}: the glasstorch line must match the same regex;
# tolerance None compares nothing more (the values come from the random stream), (rtol, atol) compares
# the numbers with that tolerance (integers exactly).
LOOSE = {
    # RMSprop divides each step by the root of a running mean square, so the bias and x^2 coefficients,
    # whose gradients are rounding noise (sin is odd: their optimum is 0), take steps of ~lr = 1e-3 in
    # the direction of that noise, and the trajectory of the ill-conditioned fit (features up to pi^3)
    # is chaotic: float64 runs of the two libraries part at step ~150. It stays near the optimum: the
    # losses agree within 1% (seen: 0.2%), the coefficients within a few lr (seen: 1e-3).
    "lpwe_polynomial": [(r"^RMSprop \d+ ", (1e-2, 0.0)), (r"^RMSprop Result: ", (1e-2, 5e-3))],
    # FakeData's images and labels, the shuffled order and the initial weights are all random draws
    "blitz_cifar": [
        (r"^\[\d, +\d+\] loss: \d+\.\d{3}$", None),
        (r"^GroundTruth: ( \w+ *){4}$", None),
        (r"^Predicted: ( \w+ *){4}$", None),
        (r"^Accuracy of the network on the 40 test images: \d+ %$", None),
        (r"^40 \d+$", None),
        (r"^Accuracy for class: \w+ +is \d+\.\d %$", None),
    ],
    # random_split, the shuffled loader, dropout and the initial weights are random draws; early stopping
    # then ends at another epoch. What does not depend on them: the split sizes, the cosine schedule, and
    # that both fits reach the noise floor (test MSE < 0.2, about 0.03 on both).
    "tabular_regression": [
        (r"^epoch +\d+ val \d+\.\d{4} lr \d\.\d{5}$", None),
        (r"^early stop at epoch \d+$", None),
        (r"^best val \d\.\d{4} test \d\.\d{4} ok True$", None),
        # the linear model's test MSE is the noise floor plus the sin term it cannot fit: 0.038-0.039 on both
        (r"^linear model test ", (0.1, 0.0)),
        # least-squares weights recovered to ~0.02 by 12 epochs of SGD; one decimal is printed
        (r"^recovered weights ", (0.0, 0.1)),
    ],
}

# Lines the glasstorch run of a torchvision program must print when torchvision is not installed.
EXPECTED = {
    "blitz_cifar": [
        "160 40 10",  # 160 images in batches of 4, 40 test images
        "torch.Size([4, 3, 32, 32]) torch.float32 torch.Size([4]) torch.int64",
        "True True",  # Normalize((0.5,) * 3, (0.5,) * 3) maps ToTensor's [0, 1] onto [-1, 1]
        "Tensor torch.Size([3, 32, 32]) int",  # FakeData's targets are Python ints
        "torch.Size([3, 36, 138])",  # make_grid: 4 images in one row, 2 pixels of padding around each
        "(3, 36, 138) float32 True True",
        "torch.Size([3, 11, 11]) torch.float32 0.0 1.0",  # 3 images of 4x4, 2 a row, padding 1; normalized
        "torch.Size([3, 8, 20]) tensor([0.5000, 0.5000, 0.5000]) True",  # 1-channel images become RGB
        "Finished Training",
        "<All keys matched successfully>",
        "same outputs after reload: True",
    ],
}


# One BLAS thread: the CI machine's 2 cores are shared, and results do not depend on it.
THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"}


def _needs_torchvision(name: str) -> bool:
    return re.search(r"^\s*(import|from) torchvision\b", (PROGRAMS / f"{name}.py").read_text(), re.M) is not None


def _needs_tensorboard(name: str) -> bool:
    return "torch.utils.tensorboard" in (PROGRAMS / f"{name}.py").read_text()


def _has_torchvision() -> bool:
    try:
        return importlib.util.find_spec("torchvision") is not None and __import__("torchvision") is not None
    except Exception:  # installed but built for another PyTorch: it fails on import
        return False


@lru_cache(maxsize=None)
def outputs(tmp: str) -> dict[tuple[str, str], tuple[int, str, str]]:
    """{(program, 'torch' | 'glasstorch'): (returncode, stdout, stderr)} for every program.

    Each library runs all its programs in one interpreter (run_batch: `import torch` is paid once, and
    each program runs as `glasstorch run` runs it, through glasstorch._compat's torch alias); the two
    interpreters run side by side. test_glasstorch_run_command checks the command itself.
    """
    have_torch = importlib.util.find_spec("torch") is not None
    have_vision = _has_torchvision()
    runnable = [n for n in NAMES if HAVE_TENSORBOARD or not _needs_tensorboard(n)]
    on_torch = [n for n in runnable if have_torch and (have_vision or not _needs_torchvision(n))]
    with ThreadPoolExecutor(max_workers=2) as pool:
        # (a working folder per interpreter, so nothing one library's run writes there meets the other's)
        jobs = {lib: pool.submit(run_batch, [str(PROGRAMS / f"{n}.py") for n in names], lib == "glasstorch",
                                 timeout=600, per_script_timeout=60, cwd=_folder(tmp, lib), env=THREADS)
                for lib, names in (("glasstorch", runnable), ("torch", on_torch))}
        results = {lib: job.result() for lib, job in jobs.items()}
    return {(Path(path).stem, lib): result for lib, by_path in results.items() for path, result in by_path.items()}


def _folder(parent: str, name: str) -> str:
    path = os.path.join(parent, name)
    os.makedirs(path, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return outputs(str(tmp_path_factory.mktemp("programs")))


def _numbers_agree(e: Token, a: Token, rtol: float, atol: float) -> bool:
    """Integers exactly; floats within atol + rtol * |e| + half a unit in the last printed digit of each."""
    if e.text.lstrip("+-").isdigit() or a.text.lstrip("+-").isdigit():
        return e.text == a.text
    ev, av = float(e.text), float(a.text)
    if ev != ev or av != av or abs(ev) == float("inf") or abs(av) == float("inf"):
        return (ev != ev and av != av) or ev == av
    unit = sum(10.0 ** (int(t.lower().partition("e")[2] or 0) - len(t.lower().partition("e")[0].partition(".")[2]))
               for t in (e.text, a.text)) / 2
    return abs(av - ev) <= atol + rtol * abs(ev) + unit


def line_difference(expected: str, actual: str, rules) -> str | None:
    """Why glasstorch's line `actual` differs from PyTorch's `expected`, or None when they agree."""
    tol = TIGHT
    for pattern, rule_tol in rules:
        if re.search(pattern, expected):
            if not re.search(pattern, actual):
                return f"does not match {pattern!r}"
            if rule_tol is None:
                return None
            tol = rule_tol
            break
    e_toks, a_toks = tokenize(expected), tokenize(actual)
    if len(e_toks) != len(a_toks):
        return "different number of tokens"
    for e, a in zip(e_toks, a_toks):
        if e.kind == a.kind == "num":
            if not _numbers_agree(e, a, *tol):
                return f"numbers differ: {e.text} vs {a.text}"
        elif e.text != a.text:
            return f"tokens differ: {e.text!r} vs {a.text!r}"
    return None


def test_every_program_is_tested():
    """A program is a file of tests/programs; its LOOSE rules and EXPECTED lines must name real programs."""
    assert len(NAMES) >= 8
    assert set(LOOSE) <= set(NAMES) and set(EXPECTED) <= set(NAMES)
    assert {n for n in NAMES if _needs_torchvision(n)} == set(EXPECTED)
    for name in NAMES:
        assert len((PROGRAMS / f"{name}.py").read_text().splitlines()) < 120, name


@pytest.mark.parametrize("name", NAMES)
def test_program_runs_under_glasstorch(runs, name):
    if not HAVE_TENSORBOARD and _needs_tensorboard(name):
        pytest.skip("needs tensorboard (the `tensorboard` extra)")
    rc, out, err = runs[(name, "glasstorch")]
    assert rc == 0, err
    assert err == "", err  # no warnings either: PyTorch prints none for these programs
    for line in EXPECTED.get(name, []):
        assert line in out.splitlines(), (line, out)


@pytest.mark.parametrize("name", NAMES)
def test_program_prints_what_pytorch_prints(runs, name):
    if (name, "torch") not in runs:
        pytest.skip("needs PyTorch" + (" and torchvision" if _needs_torchvision(name) else "")
                    + (" and tensorboard" if _needs_tensorboard(name) else ""))
    rc_t, theirs, err_t = runs[(name, "torch")]
    assert rc_t == 0, err_t
    rc_g, ours, err_g = runs[(name, "glasstorch")]
    assert rc_g == 0, err_g
    problems = output_differences(theirs, ours, LOOSE.get(name, []))
    assert not problems, "\n".join(problems)


def output_differences(theirs: str, ours: str, rules) -> list[str]:
    """Every disagreement between PyTorch's output and glasstorch's, line by line.

    Lines matching a rule without tolerance are set aside first (how many there are may depend on
    the random stream too: early stopping, say): glasstorch must print lines of the same kinds.
    """
    free = [pattern for pattern, tol in rules if tol is None]

    def set_aside(text: str) -> tuple[list[str], set[str]]:
        kept, kinds = [], set()
        for line in text.splitlines():
            kind = next((p for p in free if re.search(p, line)), None)
            (kinds.add(kind) if kind else kept.append(line))
        return kept, kinds

    (t_lines, t_kinds), (g_lines, g_kinds) = set_aside(theirs), set_aside(ours)
    problems = [f"lines of kind {k!r}: PyTorch printed some, glasstorch none" for k in sorted(t_kinds - g_kinds)]
    problems += [f"lines of kind {k!r}: glasstorch printed some, PyTorch none" for k in sorted(g_kinds - t_kinds)]
    if len(t_lines) != len(g_lines):
        return problems + [f"{len(t_lines)} lines against {len(g_lines)}:\n{theirs}\n---\n{ours}"]
    problems += [f"line: {why}\n  torch:      {t}\n  glasstorch: {g}"
                 for t, g in zip(t_lines, g_lines) if (why := line_difference(t, g, rules)) is not None]
    return problems


def test_glasstorch_run_command(runs, tmp_path):
    """`glasstorch run PROGRAM.py` (the command, in a fresh interpreter) prints what the batch run printed."""
    env = dict(os.environ, PYTHONIOENCODING="utf-8", **THREADS)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    proc = subprocess.run([sys.executable, "-m", "glasstorch", "run", str(PROGRAMS / "blitz_tensors_autograd.py")],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    _, batch_out, _ = runs[("blitz_tensors_autograd", "glasstorch")]
    strip = lambda text: re.sub(r"0x[0-9a-f]+", "0x", text)  # noqa: E731  (addresses differ per process)
    assert strip(proc.stdout) == strip(batch_out)


def test_line_comparison_catches_differences():
    """The comparison itself: a changed integer, word or float fails; rounding noise and addresses do not."""
    assert line_difference("loss 0.123456 at 0x7f12", "loss 0.1234561 at 0x7f99", []) is None
    assert line_difference("tensor([1, 2])", "tensor([1., 2.])", []) is not None  # a dtype bug
    assert line_difference("epoch 3 loss 0.5", "epoch 4 loss 0.5", []) is not None
    assert line_difference("loss 0.5000", "loss 0.5010", []) is not None
    assert line_difference("AddmmBackward0", "ReluBackward0", []) is not None
    rule = [(r"^loss: \d\.\d+$", None)]
    assert line_difference("loss: 0.52", "loss: 0.91", rule) is None
    assert line_difference("loss: 0.52", "loss: nan", rule) is not None
    assert line_difference("RMSprop 99 341.76", "RMSprop 99 341.79", [(r"^RMSprop", (1e-3, 0.0))]) is None
    assert line_difference("RMSprop 99 341.76", "RMSprop 98 341.76", [(r"^RMSprop", (1e-3, 0.0))]) is not None
    # whole outputs: free lines may differ in number, but not vanish; other lines still count
    rules = [(r"^epoch \d+ loss", None)]
    assert output_differences("epoch 1 loss 3\nepoch 2 loss 2\ndone 7\n", "epoch 1 loss 5\ndone 7\n", rules) == []
    assert output_differences("epoch 1 loss 3\ndone 7\n", "done 7\n", rules) != []
    assert output_differences("epoch 1 loss 3\ndone 7\n", "epoch 1 loss 3\ndone 8\n", rules) != []
    assert output_differences("a 1\nb 2\n", "a 1\n", []) != []
