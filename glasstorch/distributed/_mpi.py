"""The MPI engine (backends 'mpi' and 'gloo'): collectives on NumPy arrays through mpi4py.

Every operation is started non-blocking (MPI-3 `Iallreduce`, `Ibcast`, ...) and handed back as a
request; `distributed_c10d.Work` polls it, so a wait can give up after the process group's timeout
instead of hanging on a rank that died or is stuck. Arrays passed here are C-contiguous and of a
dtype MPI knows (the caller converts float16 to float32 and copies views).

mpi4py is imported on first use: importing it initialises MPI, which only a distributed program wants.
"""
from __future__ import annotations

import os

import numpy as np

__all__ = ["MPIEngine", "mpi_world", "under_mpirun"]


def under_mpirun() -> bool:
    """Whether this process was started by an MPI launcher (Open MPI's mpirun, or MPICH/Hydra's)."""
    return "OMPI_COMM_WORLD_SIZE" in os.environ or "PMI_SIZE" in os.environ


def mpi_world():
    """mpi4py's MPI module with MPI initialised (ImportError when mpi4py or its library is missing)."""
    # Open MPI's non-blocking all-reduce picks recursive doubling for 2 ranks, which moves the whole
    # tensor each way; the ring (reduce-scatter + all-gather) was 2-3x faster from 1 MiB up here
    # (benchmarks/distributed.py). Read by MPI_Init; a value the user set wins.
    os.environ.setdefault("OMPI_MCA_coll_libnbc_iallreduce_algorithm", "1")
    try:
        from mpi4py import MPI
    except (ImportError, RuntimeError) as e:  # RuntimeError: mpi4py present but libmpi not found
        raise ImportError(f"the 'mpi' backend needs mpi4py over an MPI library (pip install mpi4py; on Debian "
                          f"apt-get install openmpi-bin libopenmpi-dev): {e}") from None
    return MPI


class _Requests:
    """Several MPI requests that complete together (one collective may need more than one)."""

    __slots__ = ("reqs", "done", "source", "_status")

    def __init__(self, reqs, status=None):
        self.reqs = list(reqs)
        self.done = False
        self.source = None
        self._status = status

    def test(self) -> bool:
        if not self.done:
            from mpi4py import MPI

            if self._status is not None:  # a receive: remember who sent it
                self.done = self.reqs[0].Test(self._status)
                if self.done:
                    self.source = self._status.Get_source()
            else:
                self.done = MPI.Request.Testall(self.reqs)
        return self.done


class MPIEngine:
    """One communicator; `rank`/`size` are the ranks within it."""

    def __init__(self, comm):
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()

    @classmethod
    def world(cls) -> "MPIEngine":
        MPI = mpi_world()
        return cls(MPI.COMM_WORLD.Dup())  # our own communicator: the program's MPI traffic cannot mix with ours

    def split(self, member: bool) -> "MPIEngine | None":
        """The sub-communicator of the members (collective over this one; None for non-members)."""
        from mpi4py import MPI

        comm = self.comm.Split(0 if member else MPI.UNDEFINED, self.rank)
        return MPIEngine(comm) if member else None

    def free(self) -> None:
        from mpi4py import MPI

        if self.comm != MPI.COMM_NULL and not MPI.Is_finalized():
            self.comm.Free()

    @staticmethod
    def buffer(arr) -> np.ndarray:
        """A C-contiguous host array MPI can reduce: `arr` itself when it already is one. CUDA arrays
        are staged through the host; float16, which MPI lacks, travels (and is summed) as float32."""
        if not isinstance(arr, np.ndarray):
            arr = arr.get()
        if arr.dtype == np.float16:
            return arr.astype(np.float32)
        return np.ascontiguousarray(arr)

    @staticmethod
    def empty(shape, dtype) -> np.ndarray:
        return np.empty(shape, dtype)

    @staticmethod
    def _op(name: str, dtype=None):
        from mpi4py import MPI

        if dtype == np.bool_:  # MPI reduces booleans only logically: SUM/MAX are OR, PRODUCT/MIN are AND
            return {"sum": MPI.LOR, "max": MPI.LOR, "bor": MPI.LOR, "product": MPI.LAND, "min": MPI.LAND,
                    "band": MPI.LAND, "bxor": MPI.LXOR}[name]
        return {"sum": MPI.SUM, "product": MPI.PROD, "max": MPI.MAX, "min": MPI.MIN,
                "band": MPI.BAND, "bor": MPI.BOR, "bxor": MPI.BXOR}[name]

    # ---- collectives: each returns a request with .test() -----------------------------------------
    def allreduce(self, buf: np.ndarray, op: str):
        from mpi4py import MPI

        return _Requests([self.comm.Iallreduce(MPI.IN_PLACE, buf, self._op(op, buf.dtype))])

    def broadcast(self, buf: np.ndarray, root: int):
        return _Requests([self.comm.Ibcast(buf, root)])

    def reduce(self, buf: np.ndarray, root: int, op: str):
        from mpi4py import MPI

        send = MPI.IN_PLACE if self.rank == root else buf
        recv = buf if self.rank == root else None
        return _Requests([self.comm.Ireduce(send, recv, self._op(op, buf.dtype), root)])

    def allgather(self, send: np.ndarray, recv: np.ndarray):
        return _Requests([self.comm.Iallgather(send, recv)])

    def gather(self, send: np.ndarray, recv: np.ndarray | None, root: int):
        return _Requests([self.comm.Igather(send, recv, root)])

    def scatter(self, send: np.ndarray | None, recv: np.ndarray, root: int):
        return _Requests([self.comm.Iscatter(send, recv, root)])

    def reduce_scatter(self, send: np.ndarray, recv: np.ndarray, op: str):
        return _Requests([self.comm.Ireduce_scatter_block(send, recv, self._op(op, send.dtype))])

    def barrier(self):
        return _Requests([self.comm.Ibarrier()])

    def send(self, buf: np.ndarray, dst: int, tag: int):
        return _Requests([self.comm.Isend(buf, dst, tag)])

    def recv(self, buf: np.ndarray, src: int | None, tag: int):
        from mpi4py import MPI

        status = MPI.Status()
        req = self.comm.Irecv(buf, MPI.ANY_SOURCE if src is None else src, tag)
        return _Requests([req], status)
