"""Peak memory of benchmark 1 in a fresh process: `python -m benchmarks.memory torch|glasstorch|numpy`.

Prints the growth of the peak resident set size (MiB) during one MNIST epoch, measured from just
before the epoch (after imports and data loading), so the frameworks' import sizes cancel out.
"""
from __future__ import annotations

import sys


def _status(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])  # kB
    raise KeyError(key)


def main(which: str) -> None:
    from .workloads import load_mnist_arrays, mlp_epoch, numpy_mlp_epoch

    X, y = load_mnist_arrays()
    if which == "numpy":
        run = lambda: numpy_mlp_epoch(X, y)  # noqa: E731
    else:
        m = __import__(which)
        if which == "glasstorch":
            # The compiled-kernel library (numba, optional) is loaded at the first optimizer step; it is
            # part of glasstorch's import cost like PyTorch's own libraries, so load it before the
            # baseline. benchmarks/RESULTS.md states its size (about 120 MiB once per process).
            from glasstorch.backends import cpu_fused

            cpu_fused.available()
        Xt, yt = m.from_numpy(X), m.from_numpy(y)
        run = lambda: mlp_epoch(m, Xt, yt)  # noqa: E731
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak-RSS high-water mark
    before = _status("VmRSS")
    run()
    peak = _status("VmHWM")
    print(f"{(peak - before) / 1024:.1f}")


if __name__ == "__main__":
    main(sys.argv[1])
