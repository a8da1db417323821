"""`glasstorch launch`: torchrun's command line, the processes started by Open MPI's mpirun.

    glasstorch launch --nproc-per-node 2 train.py --epochs 3
    mpirun -n 2 glasstorch run train.py --epochs 3         # the same, started by hand

mpirun starts N copies of this module's worker (`python -m glasstorch.distributed.run --worker ...`).
Each worker sets torchrun's environment variables (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE,
MASTER_ADDR, MASTER_PORT, ...) from MPI's, then runs the script with `torch` mapped to glasstorch.

Faults: a worker whose script fails leaves its exit code in a status folder and leaves at once,
without MPI_Finalize (which would wait for ranks that are waiting for it); mpirun then stops the
other ranks (their SIGTERM is recorded as such), and the launcher names the rank that failed first.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

__all__ = ["add_arguments", "launch", "mpirun_command", "run_as_rank", "under_mpirun"]

_TERMINATED = 143  # 128 + SIGTERM: this rank was stopped by mpirun because another failed


def under_mpirun() -> bool:
    from ._mpi import under_mpirun as check

    return check()


def mpirun_command(n: int) -> list[str]:
    """mpirun for N local processes: allowed as root, more processes than cores, loopback and shared memory."""
    mpirun = shutil.which("mpirun")
    if mpirun is None:
        raise FileNotFoundError("glasstorch launch needs Open MPI's mpirun (Debian: apt-get install openmpi-bin "
                                "libopenmpi-dev; then pip install mpi4py)")
    cmd = [mpirun, "-n", str(n), "--oversubscribe", "--bind-to", "none",
           "--mca", "btl", "self,vader,tcp", "--mca", "btl_tcp_if_include", "lo"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.insert(1, "--allow-run-as-root")
    return cmd


# ---- the worker: one rank -----------------------------------------------------------------------------
def _export_rank_env() -> None:
    """torchrun's environment variables, from the MPI launcher's, where the launcher did not set them."""
    env = os.environ
    rank = env.get("OMPI_COMM_WORLD_RANK", env.get("PMI_RANK", "0"))
    size = env.get("OMPI_COMM_WORLD_SIZE", env.get("PMI_SIZE", "1"))
    local_rank = env.get("OMPI_COMM_WORLD_LOCAL_RANK", env.get("MPI_LOCALRANKID", rank))
    local_size = env.get("OMPI_COMM_WORLD_LOCAL_SIZE", env.get("MPI_LOCALNRANKS", size))
    for key, value in (("RANK", rank), ("WORLD_SIZE", size), ("LOCAL_RANK", local_rank),
                       ("LOCAL_WORLD_SIZE", local_size), ("GROUP_RANK", "0"), ("ROLE_RANK", rank),
                       ("ROLE_WORLD_SIZE", size), ("ROLE_NAME", "default"), ("MASTER_ADDR", "127.0.0.1"),
                       ("MASTER_PORT", "29500"), ("TORCHELASTIC_RESTART_COUNT", "0"),
                       ("TORCHELASTIC_MAX_RESTARTS", "0")):
        env.setdefault(key, value)


def _record(status_dir: str | None, code: int) -> None:
    if status_dir:
        path = os.path.join(status_dir, f"rank{os.environ['RANK']}")
        with open(path + ".tmp", "w") as f:
            f.write(f"{code} {time.time_ns()}\n")
        os.replace(path + ".tmp", path)


def run_as_rank(target: str, argv: list[str], module: bool = False, status_dir: str | None = None) -> int:
    """Run a script (or module) as this rank. A failure ends the process at once with its exit code,
    skipping MPI_Finalize, so the launcher can stop the other ranks instead of everyone waiting."""
    from .._compat import install_torch_alias, run_script

    _export_rank_env()

    def stopped(signum, frame):
        _record(status_dir, _TERMINATED)
        os._exit(_TERMINATED)
    signal.signal(signal.SIGTERM, stopped)
    code = 0
    try:
        if module:
            import runpy

            install_torch_alias()
            sys.argv = [target, *argv]
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            run_script(target, argv, restore=False)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if e.code is not None and not isinstance(e.code, int):
            print(e.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 - any failure of the script is this rank's failure
        traceback.print_exc()
        code = 1
    _record(status_dir, code)
    if code != 0:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return 0


# ---- the launcher ---------------------------------------------------------------------------------------
def add_arguments(p: argparse.ArgumentParser) -> None:
    """torchrun's flags that mean something on one machine."""
    p.add_argument("--nproc-per-node", "--nproc_per_node", default="1",
                   help="processes to start: a number, 'cpu' (one per core) or 'auto' (default 1)")
    p.add_argument("--nnodes", default="1", help="must be 1 (or 1:1): one machine")
    p.add_argument("--node-rank", "--node_rank", type=int, default=0)
    p.add_argument("--master-addr", "--master_addr", default="127.0.0.1")
    p.add_argument("--master-port", "--master_port", type=int, default=None)
    p.add_argument("--standalone", action="store_true", help="pick a free MASTER_PORT")
    p.add_argument("--max-restarts", "--max_restarts", type=int, default=0)
    p.add_argument("--rdzv-backend", "--rdzv_backend", default="static", help="accepted and ignored")
    p.add_argument("--rdzv-endpoint", "--rdzv_endpoint", default="", help="accepted and ignored")
    p.add_argument("--rdzv-id", "--rdzv_id", default="none", help="accepted and ignored")
    p.add_argument("-m", "--module", action="store_true", help="run SCRIPT as a module (python -m)")
    p.add_argument("script", metavar="SCRIPT")
    p.add_argument("args", nargs=argparse.REMAINDER)


class LaunchError(ValueError):
    """Bad launcher input (the CLI reports it as one `glasstorch: error:` line, exit 2)."""


def _nproc(value: str) -> int:
    if value in ("cpu", "auto"):
        return os.cpu_count() or 1
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise LaunchError(f"--nproc-per-node must be a positive number, 'cpu' or 'auto' (got {value!r})")
    return n


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _first_failure(status_dir: str, n: int) -> tuple[int, str] | None:
    """(rank, what happened) of the rank that failed first, from the workers' status files."""
    failed, silent = [], []
    for rank in range(n):
        path = os.path.join(status_dir, f"rank{rank}")
        if not os.path.exists(path):
            silent.append(rank)  # killed without a word (SIGKILL, a crash in native code)
            continue
        code, when = (int(x) for x in open(path).read().split())
        if code not in (0, _TERMINATED):
            failed.append((when, rank, code))
    if failed:
        _, rank, code = min(failed)
        return rank, f"exit code {code}"
    if silent:
        return silent[0], "killed by a signal or crashed before reporting"
    return None


def launch(args) -> int:
    """Start the processes through mpirun; 0 when every rank succeeded."""
    if args.nnodes not in ("1", "1:1"):
        raise LaunchError(f"--nnodes {args.nnodes}: glasstorch launch runs on one machine (use 1)")
    if args.node_rank != 0:
        raise LaunchError(f"--node-rank {args.node_rank}: glasstorch launch runs on one machine (use 0)")
    if args.max_restarts != 0:
        raise LaunchError("--max-restarts: restarting failed workers is not supported (use 0)")
    n = _nproc(args.nproc_per_node)
    if not args.module and not os.path.isfile(args.script):
        raise LaunchError(f"script not found: {args.script}")
    try:
        cmd = mpirun_command(n)
    except FileNotFoundError as e:
        raise LaunchError(str(e)) from None
    port = args.master_port if args.master_port is not None else (_free_port() if args.standalone else 29500)
    env = dict(os.environ, MASTER_ADDR=args.master_addr, MASTER_PORT=str(port))
    for key in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE"):  # the workers set their own
        env.pop(key, None)
    with tempfile.TemporaryDirectory(prefix="glasstorch-launch-") as status_dir:
        worker = [sys.executable, "-m", "glasstorch.distributed.run", "--worker", status_dir]
        worker += ["-m"] if args.module else []
        cmd += [*worker, args.script, *args.args]
        rc = subprocess.call(cmd, env=env)
        if rc == 0:
            return 0
        failure = _first_failure(status_dir, n)
    if failure is None:
        print(f"glasstorch launch: mpirun exited with status {rc} although no rank reported a failure",
              file=sys.stderr)
    else:
        rank, what = failure
        print(f"glasstorch launch: rank {rank} (local_rank {rank}) failed: {what}; "
              f"the other ranks were stopped", file=sys.stderr)
    return 1


def _worker_main(argv: list[str]) -> int:
    status_dir, rest = argv[0], argv[1:]
    module = bool(rest) and rest[0] == "-m"
    if module:
        rest = rest[1:]
    return run_as_rank(rest[0], rest[1:], module=module, status_dir=status_dir)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        sys.exit(_worker_main(sys.argv[2:]))
    print("usage: glasstorch launch --nproc-per-node N SCRIPT [ARGS]", file=sys.stderr)
    sys.exit(2)
