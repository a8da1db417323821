"""The NCCL engine (backend 'nccl'): collectives on CUDA tensors through CuPy's `cupy.cuda.nccl`.

The processes are started by MPI's launcher, so the MPI communicator of the same ranks hands rank
0's NCCL id to the others (PyTorch does this through its TCP store). Each operation is enqueued on
the device's current stream and followed by an event; the request is done when the event is, so
`Work.wait()` polls it with the group's timeout like the MPI engine's requests.

gather and scatter are grouped sends and receives (NCCL has no such collectives); a barrier is an
all-reduce of one element. Receiving from any source is not possible with NCCL.
"""
from __future__ import annotations

__all__ = ["NCCLEngine", "available"]


def available() -> bool:
    try:
        from cupy.cuda import nccl  # noqa: F401
    except Exception:  # noqa: BLE001 - no CuPy, no CUDA driver, or CuPy built without NCCL
        return False
    return True


class _Event:
    """Done when the device has run everything enqueued before it on the stream."""

    __slots__ = ("event", "source")

    def __init__(self, stream):
        import cupy

        self.event = cupy.cuda.Event(block=False, disable_timing=True)
        self.event.record(stream)
        self.source = None

    def test(self) -> bool:
        return self.event.done


class NCCLEngine:
    """One NCCL communicator over the ranks of an MPI engine `boot`, on this process's current device."""

    def __init__(self, comm, rank: int, size: int):
        self.comm = comm
        self.rank = rank
        self.size = size

    @classmethod
    def create(cls, boot, device_id=None) -> "NCCLEngine":
        if not available():
            raise RuntimeError("the 'nccl' backend needs CuPy with NCCL (pip install cupy-cuda12x) and a CUDA device")
        import cupy
        import numpy as np
        from cupy.cuda import nccl

        if device_id is not None:
            index = device_id if isinstance(device_id, int) else (getattr(device_id, "index", None) or 0)
            cupy.cuda.Device(index).use()
        uid = np.zeros(128, dtype=np.int8)  # NCCL_UNIQUE_ID_BYTES
        if boot.rank == 0:
            uid[:] = np.array(nccl.get_unique_id(), dtype=np.int8)
        req = boot.broadcast(uid, 0)
        while not req.test():
            pass
        comm = nccl.NcclCommunicator(boot.size, tuple(int(b) for b in uid), boot.rank)
        return cls(comm, boot.rank, boot.size)

    def free(self) -> None:
        self.comm.destroy()

    # ---- arrays --------------------------------------------------------------------------------------
    @staticmethod
    def buffer(arr):
        import cupy

        if not isinstance(arr, cupy.ndarray):
            raise ValueError("the 'nccl' backend works on CUDA tensors; move the tensor with .cuda() "
                             "(or use the 'gloo' backend for CPU tensors)")
        return cupy.ascontiguousarray(arr)

    @staticmethod
    def empty(shape, dtype):
        import cupy

        return cupy.empty(shape, dtype)

    @staticmethod
    def _dtype(arr) -> int:
        from cupy.cuda import nccl

        table = {"float16": nccl.NCCL_FLOAT16, "float32": nccl.NCCL_FLOAT32, "float64": nccl.NCCL_FLOAT64,
                 "int8": nccl.NCCL_INT8, "uint8": nccl.NCCL_UINT8, "bool": nccl.NCCL_UINT8,
                 "int32": nccl.NCCL_INT32, "int64": nccl.NCCL_INT64}
        if arr.dtype.name not in table:
            raise TypeError(f"the 'nccl' backend cannot reduce {arr.dtype.name} tensors")
        return table[arr.dtype.name]

    @staticmethod
    def _op(name: str) -> int:
        from cupy.cuda import nccl

        ops = {"sum": nccl.NCCL_SUM, "product": nccl.NCCL_PROD, "max": nccl.NCCL_MAX, "min": nccl.NCCL_MIN}
        if name not in ops:
            raise ValueError(f"the 'nccl' backend has no {name.upper()} reduction")
        return ops[name]

    @staticmethod
    def _stream():
        import cupy

        return cupy.cuda.get_current_stream()

    def _done(self) -> _Event:
        return _Event(self._stream())

    # ---- collectives ---------------------------------------------------------------------------------
    def allreduce(self, buf, op: str):
        s = self._stream()
        self.comm.allReduce(buf.data.ptr, buf.data.ptr, buf.size, self._dtype(buf), self._op(op), s.ptr)
        return self._done()

    def broadcast(self, buf, root: int):
        s = self._stream()
        self.comm.broadcast(buf.data.ptr, buf.data.ptr, buf.size, self._dtype(buf), root, s.ptr)
        return self._done()

    def reduce(self, buf, root: int, op: str):
        s = self._stream()
        self.comm.reduce(buf.data.ptr, buf.data.ptr, buf.size, self._dtype(buf), self._op(op), root, s.ptr)
        return self._done()

    def allgather(self, send, recv):
        s = self._stream()
        self.comm.allGather(send.data.ptr, recv.data.ptr, send.size, self._dtype(send), s.ptr)
        return self._done()

    def reduce_scatter(self, send, recv, op: str):
        s = self._stream()
        self.comm.reduceScatter(send.data.ptr, recv.data.ptr, recv.size, self._dtype(recv), self._op(op), s.ptr)
        return self._done()

    def gather(self, send, recv, root: int):
        from cupy.cuda import nccl

        s, dt = self._stream(), self._dtype(send)
        nccl.groupStart()
        if self.rank == root:
            for peer in range(self.size):
                if peer == root:
                    recv[peer] = send.reshape(recv.shape[1:])
                else:
                    self.comm.recv(recv[peer].data.ptr, send.size, dt, peer, s.ptr)
        else:
            self.comm.send(send.data.ptr, send.size, dt, root, s.ptr)
        nccl.groupEnd()
        return self._done()

    def scatter(self, send, recv, root: int):
        from cupy.cuda import nccl

        s, dt = self._stream(), self._dtype(recv)
        nccl.groupStart()
        if self.rank == root:
            for peer in range(self.size):
                if peer == root:
                    recv[...] = send[peer].reshape(recv.shape)
                else:
                    self.comm.send(send[peer].data.ptr, recv.size, dt, peer, s.ptr)
        else:
            self.comm.recv(recv.data.ptr, recv.size, dt, root, s.ptr)
        nccl.groupEnd()
        return self._done()

    def barrier(self):
        import cupy

        return self.allreduce(cupy.zeros(1, dtype=cupy.float32), "sum")

    def send(self, buf, dst: int, tag: int):
        self.comm.send(buf.data.ptr, buf.size, self._dtype(buf), dst, self._stream().ptr)
        return self._done()

    def recv(self, buf, src: int | None, tag: int):
        if src is None:
            raise ValueError("the 'nccl' backend cannot receive from any source: give src")
        self.comm.recv(buf.data.ptr, buf.size, self._dtype(buf), src, self._stream().ptr)
        req = self._done()
        req.source = src
        return req
