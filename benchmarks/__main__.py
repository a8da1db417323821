"""Run the benchmarks and print a table of glasstorch / PyTorch time ratios.

    python -m benchmarks                 # all, 5 alternating repetitions each
    python -m benchmarks --only mlp small --reps 7
    python -m benchmarks --write         # also rewrite benchmarks/RESULTS.md
    python -m benchmarks --device cuda   # glasstorch on CuPy vs PyTorch CUDA eager (RESULTS_CUDA.md)
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import time

import glasstorch  # noqa: F401  (before NumPy, as in a program that starts with `import glasstorch as torch`:
# it sets how long OpenBLAS's idle threads spin, which NumPy's OpenBLAS reads once, when it loads)
import numpy as np

from . import gpu, workloads as w


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


SETTLE = 0.5  # seconds of rest before each timed run (see _alternate)


def _alternate(runs: dict, reps: int) -> dict:
    """Seconds of every repetition per runner, the runners interleaved so machine noise hits all alike.

    Each timed run starts after SETTLE seconds of rest: right after a NumPy run, OpenBLAS's worker
    threads keep spinning on the second core for a while, and a PyTorch run started then loses that
    core to them (measured here: a PyTorch epoch 15-20% slower than from rest, which would flatter
    glasstorch). After the rest every run starts from the same quiet machine, as it would alone.
    """
    for fn in runs.values():  # warm-up: imports, caches, allocator
        fn()
    times = {k: [] for k in runs}
    for _ in range(reps):
        for k, fn in runs.items():
            time.sleep(SETTLE)
            times[k].append(_timed(fn))
    return times


def bench_mlp(torch, gt, reps):
    X, y = w.load_mnist_arrays()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    Xg, yg = gt.from_numpy(X), gt.from_numpy(y)
    return _alternate({"torch": lambda: w.mlp_epoch(torch, Xt, yt), "glasstorch": lambda: w.mlp_epoch(gt, Xg, yg),
                       "numpy": lambda: w.numpy_mlp_epoch(X, y)}, reps)


def bench_small(torch, gt, reps):
    return _alternate({"torch": lambda: w.small_ops(torch), "glasstorch": lambda: w.small_ops(gt)}, reps)


def bench_wide(torch, gt, reps):
    return _alternate({"torch": lambda: w.wide_mlp(torch), "glasstorch": lambda: w.wide_mlp(gt)}, reps)


def bench_scratch(torch, gt, reps):
    X, y = w.load_mnist_arrays()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    Xg, yg = gt.from_numpy(X), gt.from_numpy(y)
    return _alternate({"torch": lambda: w.scratch_epoch(torch, Xt, yt),
                       "glasstorch": lambda: w.scratch_epoch(gt, Xg, yg),
                       "numpy": lambda: w.numpy_scratch_epoch(X, y)}, reps)


def bench_memory(torch, gt, reps):
    out = {}
    for which in ("torch", "glasstorch", "numpy"):
        vals = []
        for _ in range(max(1, reps // 2)):
            r = subprocess.run([sys.executable, "-m", "benchmarks.memory", which], capture_output=True, text=True,
                               cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))), check=True)
            vals.append(float(r.stdout.strip().splitlines()[-1]))
        out[which] = vals
    return out


CNN_STEPS = 4  # training steps per timed run (one step is ~0.1 s: a few keep timer noise small)


def bench_cnn(torch, gt, reps):
    X, y = w.load_mnist_arrays()
    runs = {}
    for name, m in (("torch", torch), ("glasstorch", gt)):
        model = w.mnist_cnn(m)
        opt = m.optim.Adadelta(model.parameters(), lr=1.0)
        batches = w.cnn_batches(m, X, y, CNN_STEPS)
        runs[name] = (lambda m=m, model=model, opt=opt, b=batches: w.cnn_steps(m, model, opt, b))
    return _alternate(runs, reps)


def bench_lstm(torch, gt, reps):
    return _alternate({"torch": lambda: w.lstm_lm(torch), "glasstorch": lambda: w.lstm_lm(gt)}, reps)


BENCHES = {
    "mlp": ("1. MNIST MLP epoch (784-128-10, Adam, batch 64)", bench_mlp, "s", 0.7),
    "small": ("2. 200 elementwise ops on 16 elements, fwd+bwd (x20)", bench_small, "s", 0.85),
    "wide": ("3. 4096-wide 3-layer MLP, batch 512, 2 SGD steps", bench_wide, "s", 0.95),
    "scratch": ("4. seed 004 from scratch, one epoch", bench_scratch, "s", 0.8),
    "memory": ("5. peak RSS growth of benchmark 1", bench_memory, "MiB", 1.0),
    "cnn": (f"6. MNIST CNN training steps (2 conv, max pool, Adadelta, batch 64, x{CNN_STEPS})", bench_cnn, "s",
            1.5),
    "lstm": ("7. word-LM LSTM (emb 256, 2x256, seq 35, batch 20), 4 fwd+bwd chunks", bench_lstm, "s", 1.5),
}


NOTES_HEADING = "## Where the time goes"


def machine() -> str:
    import torch

    import glasstorch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, NumPy {np.__version__}, "
            f"PyTorch {torch.__version__}, glasstorch {glasstorch.__version__}, "
            f"{datetime.date.today().isoformat()}")


def _row_in_fresh_process(key: str, args) -> str:
    """One benchmark's table row, measured in a fresh interpreter. One benchmark's leftovers would change the
    next one's times: after the MNIST CNN benchmark, PyTorch's word-LM LSTM took 0.077 s instead of 0.104 s
    (its allocator's and thread pools' state), glasstorch's the same either way. A program runs alone."""
    command = [sys.executable, "-m", "benchmarks", "--device", args.device, "--only", key, "--reps", str(args.reps)]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run(command, cwd=root, capture_output=True, text=True)
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ") and not line.startswith("| benchmark")]
    if done.returncode != 0 or not rows:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"benchmarks: {key} failed in its own process (exit status {done.returncode})")
    return rows[-1]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                   help="where both frameworks run (cuda: the benchmarks of benchmarks/gpu.py)")
    p.add_argument("--only", nargs="*", choices=list(BENCHES) + [k for k in gpu.BENCHES if k not in BENCHES],
                   help="run only these benchmarks")
    p.add_argument("--reps", type=int, default=5, help="alternating repetitions (median is reported)")
    p.add_argument("--write", action="store_true", help="write the table into benchmarks/RESULTS.md")
    p.add_argument("--one-process", action="store_true",
                   help="run every benchmark in this process (by default each of several runs in a fresh one)")
    args = p.parse_args(argv)
    benches = BENCHES
    if args.device == "cuda":
        reason = gpu.no_gpu_reason()
        if reason is not None:
            print(f"benchmarks --device cuda: no GPU to run on: {reason}.", file=sys.stderr)
            return 2
        benches = {k: (title, lambda torch, gt, reps, runs=runs: _alternate(runs(torch, gt), reps), unit, target)
                   for k, (title, runs, unit, target) in gpu.BENCHES.items()}
    unknown = set(args.only or ()) - set(benches)
    if unknown:
        p.error(f"not a {args.device} benchmark: {', '.join(sorted(unknown))} (choose from {', '.join(benches)})")

    import torch

    import glasstorch as gt

    rows = []
    header = ("| benchmark | PyTorch | glasstorch | NumPy by hand | glasstorch / PyTorch | per-repetition range "
              "| target | glasstorch / NumPy |")
    rule = "|---|---|---|---|---|---|---|---|"
    print(header)
    print(rule)
    keys = args.only or list(benches)
    for key in keys:
        if len(keys) > 1 and not args.one_process:
            row = _row_in_fresh_process(key, args)
            print(row, flush=True)
            rows.append(row)
            continue
        title, fn, unit, target = benches[key]
        runs = fn(torch, gt, args.reps)
        r = {k: statistics.median(v) for k, v in runs.items()}
        ratio = r["glasstorch"] / r["torch"]
        # each repetition's own ratio (the two runs sat side by side): how much the machine moved
        paired = [g / t for g, t in zip(runs["glasstorch"], runs["torch"])]
        np_col = f"{r['numpy']:.3f} {unit}" if "numpy" in r else "-"
        np_ratio = f"{r['glasstorch'] / r['numpy']:.2f}" if "numpy" in r else "-"
        ok = "met" if ratio <= target else "MISSED"
        row = (f"| {title} | {r['torch']:.3f} {unit} | {r['glasstorch']:.3f} {unit} | {np_col} | "
               f"**{ratio:.2f}** | {min(paired):.2f}-{max(paired):.2f} | <= {target} ({ok}) | {np_ratio} |")
        print(row, flush=True)
        rows.append(row)
    if args.write:
        cuda = args.device == "cuda"
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS_CUDA.md" if cuda else "RESULTS.md")
        flag = (" --device cuda" if cuda else "") + (" --one-process" if args.one_process else "")
        where = "" if args.one_process else ", a fresh process for each benchmark"
        text = ("# Benchmark results" + (" on CUDA" if cuda else "") + "\n\n"
                f"Machine: {gpu.machine() if cuda else machine()}.\n\n"
                f"Command: `python -m benchmarks{flag} --reps {args.reps}` (median of alternating repetitions, "
                f"each after {SETTLE} s of rest, both frameworks in one process{where}; memory in separate "
                "fresh processes).\n\n"
                + header + "\n" + rule + "\n" + "\n".join(rows) + "\n")
        notes = ""
        if os.path.exists(path):  # keep the hand-written analysis below the table
            with open(path) as f:
                old = f.read()
            if NOTES_HEADING in old:
                notes = "\n" + old[old.index(NOTES_HEADING):]
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text + notes)
        os.replace(tmp, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
