"""Compare what a script prints under PyTorch and under glasstorch.

Two pieces, both used by the `glasstorch compare` command and by tests/test_seeds.py:

- `compare_outputs(expected, actual)`: reads both texts as a stream of tokens (numbers, words,
  punctuation), compares numbers within a tolerance and everything else exactly, and reports the
  first place they disagree.
- `run_and_capture(path, argv, use_glasstorch)`: runs a script in a fresh interpreter, under real
  PyTorch or under glasstorch (through `glasstorch._compat`), so the two never share a process.
- `run_batch(paths, use_glasstorch)`: runs many scripts one after another in a single fresh
  interpreter (paying for `import torch` once), capturing each one's output separately.
"""
from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from dataclasses import dataclass

__all__ = ["Difference", "Token", "tokenize", "compare_outputs", "run_and_capture", "run_batch"]

# Order matters: an address must win over a number ("0x7f..." would otherwise read as 0 then a
# word), and a word must win over a number so that "float32" stays one token.
_TOKEN_RE = re.compile(
    r"""
    (?P<addr>\b0x[0-9a-fA-F]+\b)
  | (?P<num>[-+]?(?:
        (?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?   # 1.  1.5  .5  1.5e-05
      | \d+[eE][-+]?\d+                       # 1e-05
      | \d+                                   # 42
      | (?:nan|inf)\b                         # nan  inf  -inf
    ))
  | (?P<word>[^\W\d]\w*)
  | (?P<punct>\S)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    """One token of printed output: its kind ('num', 'word', 'punct'), text and position."""

    kind: str
    text: str
    line: int  # 1-based
    column: int  # 1-based


@dataclass(frozen=True)
class Difference:
    """The first place two outputs disagree; line/column are 1-based positions in each text."""

    line: int
    column: int
    expected: str
    actual: str
    expected_line: str
    actual_line: str
    actual_line_number: int
    actual_column: int
    reason: str

    def __str__(self) -> str:
        exp_caret = " " * (self.column - 1) + "^"
        act_caret = " " * (self.actual_column - 1) + "^"
        return (
            f"line {self.line}: {self.reason}: expected {self.expected!r}, got {self.actual!r}\n"
            f"  expected (line {self.line}): {self.expected_line}\n"
            f"  {' ' * (len(str(self.line)) + 18)}{exp_caret}\n"
            f"  actual   (line {self.actual_line_number}): {self.actual_line}\n"
            f"  {' ' * (len(str(self.actual_line_number)) + 18)}{act_caret}"
        )


def tokenize(text: str) -> list[Token]:
    """Splits printed output into number, word and punctuation tokens; whitespace and memory
    addresses (0x7f3a...) are dropped, since they differ between any two runs."""
    tokens = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        for m in _TOKEN_RE.finditer(line):
            kind = m.lastgroup
            if kind == "addr":
                continue
            tokens.append(Token(kind, m.group(), lineno, m.start() + 1))
    return tokens


def _is_int(text: str) -> bool:
    return text.lstrip("+-").isdigit()


def _numbers_differ(exp: str, act: str, rtol: float, atol: float) -> str | None:
    """Why two number tokens differ, or None when they agree.

    Integers (counts, shapes, labels) must match exactly, and an integer never matches a float:
    'tensor([1, 2])' against 'tensor([1., 2.])' is a dtype bug, not rounding.
    """
    if _is_int(exp) != _is_int(act):
        return "integer vs float"
    if _is_int(exp):
        return None if int(exp) == int(act) else "integers differ"
    e, a = float(exp), float(act)
    if math.isnan(e) or math.isnan(a):
        return None if math.isnan(e) and math.isnan(a) else "numbers differ"
    if math.isinf(e) or math.isinf(a):
        return None if e == a else "numbers differ"
    # A printed number stands for every value that rounds to it: two values a hair apart can print
    # one unit apart in the last digit (0.89625 +- 1e-8 prints as 0.8963 or 0.8962 with '.4f').
    rounding = (_last_digit_unit(exp) + _last_digit_unit(act)) / 2
    return None if abs(a - e) <= atol + rtol * abs(e) + rounding else "numbers differ"


def _last_digit_unit(text: str) -> float:
    """The value of one unit in the last printed digit of a float token: 0.01 for '1.25', 1e-04 * 1e+43
    for '2.6881e+43', 1.0 for '3.' (NumPy and PyTorch print whole floats with a bare point)."""
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exponent or 0) - decimals)


def compare_outputs(expected: str, actual: str, rtol: float = 1e-4, atol: float = 1e-6) -> Difference | None:
    """First difference between two printed outputs, or None when they agree.

    Numbers agree when |actual - expected| <= atol + rtol * |expected| + half a unit in the last printed
    digit of each (integers exactly); words and
    punctuation must be identical; whitespace, line breaks and memory addresses are ignored.
    """
    exp_lines, act_lines = expected.splitlines(), actual.splitlines()
    exp_toks, act_toks = tokenize(expected), tokenize(actual)
    for i in range(max(len(exp_toks), len(act_toks))):
        e = exp_toks[i] if i < len(exp_toks) else None
        a = act_toks[i] if i < len(act_toks) else None
        if e is None or a is None:
            reason = "actual output is longer" if e is None else "actual output ends early"
        elif e.kind == "num" and a.kind == "num":
            reason = _numbers_differ(e.text, a.text, rtol, atol)
        else:
            reason = None if e.text == a.text else "tokens differ"
        if reason is not None:
            return _difference(e, a, exp_lines, act_lines, reason)
    return None


def _difference(e: Token | None, a: Token | None, exp_lines: list[str], act_lines: list[str],
                reason: str) -> Difference:
    """Builds the report for one disagreement; a missing side points just past its text's end."""
    e_line, e_col = (e.line, e.column) if e else _end(exp_lines)
    a_line, a_col = (a.line, a.column) if a else _end(act_lines)
    return Difference(
        line=e_line,
        column=e_col,
        expected=e.text if e else "<end of output>",
        actual=a.text if a else "<end of output>",
        expected_line=exp_lines[e_line - 1] if exp_lines else "",
        actual_line=act_lines[a_line - 1] if act_lines else "",
        actual_line_number=a_line,
        actual_column=a_col,
        reason=reason,
    )


def _end(lines: list[str]) -> tuple[int, int]:
    """(line, column) just past the end of a text."""
    return (len(lines), len(lines[-1]) + 1) if lines else (1, 1)


# Runs in the child interpreter: `python -c _GLASSTORCH_BOOT script.py arg...`.
_GLASSTORCH_BOOT = (
    "import sys\n"
    "from glasstorch._compat import run_script\n"
    "run_script(sys.argv[1], sys.argv[2:], restore=False)\n"
)


def run_and_capture(path: str, argv: list[str] | tuple[str, ...] = (), use_glasstorch: bool = True,
                    timeout: float | None = 60.0, cwd: str | None = None,
                    env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Runs a script in a fresh interpreter and returns (returncode, stdout, stderr).

    use_glasstorch=True runs it with `torch` mapped to glasstorch; False runs it with plain Python
    (real PyTorch). A run past `timeout` seconds is killed and reported as returncode 124 (the
    exit status of coreutils' timeout) with a note at the end of stderr. `env` entries are added
    to the current environment.
    """
    path = os.path.abspath(path)
    if use_glasstorch:
        cmd = [sys.executable, "-c", _GLASSTORCH_BOOT, path, *argv]
    else:
        cmd = [sys.executable, path, *argv]
    child_env = _child_env(env, use_glasstorch)
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, cwd=cwd, env=child_env,
                              encoding="utf-8", errors="replace")
    except subprocess.TimeoutExpired as exc:
        out = _text(exc.stdout)
        err = _text(exc.stderr) + f"\n[run_and_capture] killed after {timeout} s\n"
        return 124, out, err
    return proc.returncode, proc.stdout, proc.stderr


# Runs in the child interpreter: `python -c _BATCH_BOOT job.json`. Each script gets its own
# sys.argv, sys.path[0] and captured stdout/stderr; an exception becomes exit status 1 with its
# traceback on the script's stderr, as it would for `python script.py`.
_BATCH_BOOT = r"""
import contextlib, io, json, os, runpy, signal, sys, traceback

job = json.load(open(sys.argv[1], encoding="utf-8"))
if job["glasstorch"]:
    from glasstorch._compat import install_torch_alias
    install_torch_alias()

class _ScriptTimeout(BaseException):
    pass

def _alarm(signum, frame):
    raise _ScriptTimeout()

limit = job["per_script_timeout"]
if limit and hasattr(signal, "setitimer"):
    signal.signal(signal.SIGALRM, _alarm)
results = {}
for path in job["paths"]:
    out, err = io.StringIO(), io.StringIO()
    old_argv, old_path = sys.argv[:], sys.path[:]
    sys.argv = [path]
    sys.path.insert(0, os.path.dirname(path))
    rc = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                if limit and hasattr(signal, "setitimer"):
                    signal.setitimer(signal.ITIMER_REAL, limit)
                runpy.run_path(path, run_name="__main__")
            except SystemExit as exc:
                code = exc.code
                rc = code if isinstance(code, int) else (0 if code is None else 1)
                if code is not None and not isinstance(code, int):
                    print(code, file=sys.stderr)
            except _ScriptTimeout:
                rc = 124
                print(f"[run_batch] killed after {limit} s", file=sys.stderr)
            except BaseException:
                rc = 1
                traceback.print_exc()
            finally:
                if limit and hasattr(signal, "setitimer"):
                    signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        sys.argv, sys.path[:] = old_argv, old_path
    results[path] = [rc, out.getvalue(), err.getvalue()]
with open(job["out"], "w", encoding="utf-8") as f:
    json.dump(results, f)
"""


def run_batch(paths: list[str], use_glasstorch: bool = True, timeout: float | None = 300.0,
              per_script_timeout: float | None = None, cwd: str | None = None,
              env: dict[str, str] | None = None) -> dict[str, tuple[int, str, str]]:
    """Runs scripts one after another in one fresh interpreter: {path: (returncode, stdout, stderr)}.

    Much cheaper than one run_and_capture per script when `import torch` dominates, at the price
    of isolation: the scripts share the process (RNG state included). A script past
    `per_script_timeout` seconds is interrupted and reported as returncode 124. If the whole
    interpreter dies or runs past `timeout`, every script without a result gets the child's
    returncode (124 for the timeout) and its stderr.
    """
    import json
    import tempfile

    paths = [os.path.abspath(p) for p in paths]
    with tempfile.TemporaryDirectory(prefix="glasstorch-batch-") as tmp:
        job_file, out_file = os.path.join(tmp, "job.json"), os.path.join(tmp, "results.json")
        with open(job_file, "w", encoding="utf-8") as f:
            json.dump({"paths": paths, "glasstorch": use_glasstorch, "out": out_file,
                       "per_script_timeout": per_script_timeout}, f)
        child_env = _child_env(env, use_glasstorch)
        try:
            proc = subprocess.run([sys.executable, "-c", _BATCH_BOOT, job_file], capture_output=True,
                                  timeout=timeout, cwd=cwd, env=child_env, encoding="utf-8",
                                  errors="replace")
            rc, err = proc.returncode, proc.stderr
        except subprocess.TimeoutExpired as exc:
            rc, err = 124, _text(exc.stderr) + f"\n[run_batch] killed after {timeout} s\n"
        results = {}
        if os.path.exists(out_file):
            with open(out_file, encoding="utf-8") as f:
                results = {p: tuple(r) for p, r in json.load(f).items()}
    failed = (rc if rc != 0 else 1, "", err or "[run_batch] the interpreter exited without results")
    return {p: results.get(p, failed) for p in paths}


def _child_env(env: dict[str, str] | None, use_glasstorch: bool) -> dict[str, str]:
    """The environment for a child interpreter: ours, plus `env`, UTF-8 output, and (for
    glasstorch) this copy of the package on PYTHONPATH, even when it is not installed."""
    child_env = dict(os.environ)
    child_env.update(env or {})
    child_env["PYTHONIOENCODING"] = "utf-8"  # the seed scripts print arrows and Greek letters
    if use_glasstorch:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        child_env["PYTHONPATH"] = os.pathsep.join(p for p in (root, child_env.get("PYTHONPATH")) if p)
    return child_env


def _text(data: bytes | str | None) -> str:
    """TimeoutExpired carries whatever the child wrote so far, as bytes or str."""
    if data is None:
        return ""
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data
