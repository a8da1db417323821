"""`glasstorch trace SCRIPT [ARGS] --out FILE.html`: run a PyTorch script on glasstorch under a trace."""
from __future__ import annotations

import argparse
import os
import sys
import traceback


def add_arguments(p: argparse.ArgumentParser) -> None:
    _options(p)
    p.add_argument("script")
    p.add_argument("args", nargs=argparse.REMAINDER, help="the script's arguments (after `--`, passed as they are)")


def _options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="trace.html", help="the page to write (default trace.html)")
    p.add_argument("--max-ops", type=int, default=5000, help="stop recording after this many ops (default 5000)")
    p.add_argument("--only-lines", default=None, metavar="A-B", help="record only ops called from these script lines")
    p.add_argument("--max-values", type=int, default=64,
                   help="tensors up to this many elements are kept whole (default 64), larger ones summarised")


class _Bad(Exception):
    pass


class _Quiet(argparse.ArgumentParser):
    def error(self, message):
        raise _Bad(message)


def split_script_args(args) -> None:
    """Our options may also follow the script (`trace s.py --out f.html`): take them out of the
    script's arguments; everything after a `--` goes to the script untouched."""
    rest = list(args.args)
    tail = []
    if "--" in rest:
        i = rest.index("--")
        rest, tail = rest[:i], rest[i + 1:]
    p = _Quiet(add_help=False)
    _options(p)
    for action in p._actions:  # keep what was given before the script unless repeated after it
        action.default = getattr(args, action.dest)
    _, unknown = p.parse_known_args(rest, namespace=args)
    args.args = unknown + tail


def parse_lines(text: str | None) -> tuple[int, int] | None:
    """'12-30' -> (12, 30), '7' -> (7, 7); ValueError with the reason otherwise."""
    if text is None:
        return None
    a, _, b = text.partition("-")
    try:
        lo, hi = int(a), int(b or a)
    except ValueError:
        raise ValueError(f"--only-lines must look like A-B (line numbers), got {text!r}") from None
    if lo < 1 or hi < lo:
        raise ValueError(f"--only-lines needs 1 <= A <= B, got {text!r}")
    return lo, hi


def run(args, usage_error) -> int:
    """Run args.script under a trace and write the page; bad input raises `usage_error(message)`."""
    from .._compat import run_script
    from .trace import trace

    try:
        split_script_args(args)
    except _Bad as e:
        raise usage_error(str(e)) from None
    if not os.path.isfile(args.script):
        raise usage_error(f"script not found: {args.script}")
    if args.max_ops is not None and args.max_ops < 1:
        raise usage_error(f"--max-ops must be positive, got {args.max_ops}")
    if args.max_values < 0:
        raise usage_error(f"--max-values must be non-negative, got {args.max_values}")
    try:
        lines = parse_lines(args.only_lines)
    except ValueError as e:
        raise usage_error(str(e)) from None
    folder = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(folder):
        raise usage_error(f"output folder does not exist: {folder}")

    status, failure = 0, None
    t = trace(max_ops=args.max_ops, max_values=args.max_values, only_lines=lines, only_file=args.script)
    try:
        with t:
            run_script(args.script, args.args)
    except SystemExit as e:  # the script's own exit: keep its status, still write the page
        status = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except Exception:
        failure = traceback.format_exc()
        status = 1
    if failure:
        print(failure, file=sys.stderr, end="")
    t.to_html(args.out, title=f"glasstorch trace: {os.path.basename(args.script)}"
              + (" (the script stopped with an error)" if failure else ""))
    cut = " (truncated at --max-ops)" if t.truncated else ""
    print(f"glasstorch trace: {len(t.steps)} steps{cut} written to {args.out}", file=sys.stderr)
    return status
