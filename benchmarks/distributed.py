"""Data-parallel benchmarks on 2 processes: glasstorch (MPI engine) against PyTorch's gloo.

    python -m benchmarks.distributed               # both, table on stdout
    python -m benchmarks.distributed --json FILE   # also the raw figures

1. all_reduce bandwidth: float32 tensors of 4 KiB to 64 MiB summed over the 2 ranks. Reported as
   algorithm bandwidth (bytes of the tensor / seconds per all_reduce; for 2 ranks this equals the bus
   bandwidth of nccl-tests) and latency.
2. DDP step overhead: one SGD step of a 784-1024-1024-10 MLP (1.9 M float32 parameters, 7.6 MB of
   gradients) on 64 images per rank, with and without DistributedDataParallel; the difference is
   what data parallelism costs per step (broadcast-free: buckets, hooks, the all-reduces and the wait).

glasstorch's ranks are started by `glasstorch launch` (mpirun), PyTorch's by torchrun; both with one
BLAS/OpenMP thread per process (torchrun's default with 2 processes), so the 2 ranks use the 2 cores.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

SIZES = [4 << 10, 64 << 10, 1 << 20, 16 << 20, 64 << 20]  # bytes


def _timeit(fn, barrier, min_seconds: float = 0.3, rounds: int = 3) -> float:
    """Seconds per call: the best of `rounds` rounds of enough calls to fill min_seconds."""
    fn()
    fn()
    barrier()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-6)
    reps = max(1, min(1000, int(min_seconds / one)))
    reps = _agree(reps)
    best = float("inf")
    for _ in range(rounds):
        barrier()
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def _agree(reps: int) -> int:
    """Every rank must make the same number of calls: rank 0's count, shared."""
    import torch  # the framework under test (glasstorch under glasstorch launch)
    import torch.distributed as dist

    t = torch.tensor([reps], dtype=torch.int64)
    dist.broadcast(t, src=0)
    return int(t.item())


def worker() -> None:
    import torch
    import torch.distributed as dist
    import torch.nn as nn
    from torch.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group("gloo")
    rank = dist.get_rank()
    result = {"framework": torch.__name__, "world_size": dist.get_world_size(), "all_reduce": {}, "ddp": {}}
    for size in SIZES:
        t = torch.ones(size // 4)
        seconds = _timeit(lambda: dist.all_reduce(t), dist.barrier)
        result["all_reduce"][size] = seconds

    torch.manual_seed(0)
    x, y = torch.randn(64, 784), torch.randint(0, 10, (64,))

    def model():
        return nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10))

    for name, net in (("local", model()), ("ddp", DDP(model()))):
        opt = torch.optim.SGD(net.parameters(), lr=0.01)

        def step():
            opt.zero_grad()
            nn.functional.cross_entropy(net(x), y).backward()
            opt.step()
        result["ddp"][name] = _timeit(step, dist.barrier, min_seconds=1.0)
    if rank == 0:
        with open(os.environ["BENCH_OUT"], "w") as f:
            json.dump(result, f)
    dist.destroy_process_group()


def _run(framework: str) -> dict:
    here = os.path.abspath(__file__)
    root = os.path.dirname(os.path.dirname(here))
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.json")
        env = dict(os.environ, BENCH_OUT=out, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   PYTHONPATH=root)
        if framework == "glasstorch":
            cmd = [sys.executable, "-m", "glasstorch", "launch", "--nproc-per-node", "2", here, "--worker"]
        else:
            cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--standalone", here,
                   "--worker"]
        subprocess.run(cmd, env=env, check=True, cwd=root)
        with open(out) as f:
            return json.load(f)


def _table(results: dict) -> str:
    g, t = results["glasstorch"], results["torch"]
    lines = ["all_reduce (float32, 2 processes)   glasstorch/MPI            PyTorch/gloo",
             "size          latency     bandwidth     latency     bandwidth"]
    for size in SIZES:
        sg, st = g["all_reduce"][str(size)], t["all_reduce"][str(size)]
        label = f"{size >> 20} MiB" if size >= 1 << 20 else f"{size >> 10} KiB"
        lines.append(f"{label:>8}  {sg * 1e6:9.1f} us {size / sg / 1e9:8.2f} GB/s  {st * 1e6:9.1f} us "
                     f"{size / st / 1e9:8.2f} GB/s")
    lines.append("")
    lines.append("SGD step, 784-1024-1024-10 MLP, 64 images/rank   glasstorch   PyTorch")
    for key, label in (("local", "without DDP"), ("ddp", "with DDP")):
        lines.append(f"  {label:<45}  {g['ddp'][key] * 1e3:8.2f} ms  {t['ddp'][key] * 1e3:8.2f} ms")
    og, ot = g["ddp"]["ddp"] - g["ddp"]["local"], t["ddp"]["ddp"] - t["ddp"]["local"]
    lines.append(f"  {'DDP overhead per step':<45}  {og * 1e3:8.2f} ms  {ot * 1e3:8.2f} ms")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--json", default=None, help="write the raw figures here")
    args = p.parse_args(argv)
    if args.worker:
        worker()
        return 0
    results = {name: _run(name) for name in ("glasstorch", "torch")}
    print(_table(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
