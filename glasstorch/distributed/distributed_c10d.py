"""torch.distributed's process groups and collectives, on an existing communication engine.

    dist.init_process_group("gloo")          # under `glasstorch launch` or `mpirun`
    dist.all_reduce(t, op=dist.ReduceOp.SUM) # t now holds the sum over ranks
    work = dist.all_reduce(t, async_op=True); ...; work.wait()

Backends: 'mpi' is MPI through mpi4py on CPU tensors; 'gloo', the name CPU programs use with PyTorch,
is served by the same MPI engine (there is no Gloo here); 'nccl' is NCCL through CuPy on CUDA tensors.
The processes are always started by MPI's launcher (`glasstorch launch` calls mpirun), so MPI, not
the init_method, says who is who; 'env://', 'file://' and 'tcp://' are accepted and their rank and
world size checked against MPI's.

Every operation is started non-blocking and becomes a `Work`; a synchronous call is `Work.wait()` at
once. Waiting polls the engine and gives up after the group's timeout with `DistBackendError`, so a
rank that died or is stuck makes the others fail instead of hanging. `src`/`dst` are global ranks,
`group_src`/`group_dst` ranks within the group, as in PyTorch.
"""
from __future__ import annotations

import datetime
import enum
import os
import pickle
import time
from typing import Any

import numpy as np

from .._ops import deferred
from .._tensor import Tensor

__all__ = [
    "Backend", "DistBackendError", "DistError", "GroupMember", "ProcessGroup", "ReduceOp", "Work",
    "all_gather", "all_gather_into_tensor", "all_gather_object", "all_reduce", "barrier", "broadcast",
    "broadcast_object_list", "destroy_process_group", "gather", "get_backend", "get_global_rank",
    "get_group_rank", "get_process_group_ranks", "get_rank", "get_world_size", "group", "init_process_group",
    "irecv", "is_available", "is_gloo_available", "is_initialized", "is_mpi_available", "is_nccl_available",
    "isend", "new_group", "recv", "reduce", "reduce_scatter_tensor", "scatter", "send",
]

_NOT_INITIALIZED = "Default process group has not been initialized, please make sure to call init_process_group."
default_pg_timeout = datetime.timedelta(minutes=30)


class DistError(RuntimeError):
    """An error of the distributed package."""


class DistBackendError(DistError):
    """An error from the communication engine: a timeout, a peer that went away."""


class RedOpType(enum.Enum):
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7


class ReduceOp:
    """The reductions of all_reduce, reduce and reduce_scatter: ReduceOp.SUM, .AVG, .PRODUCT, .MIN, .MAX, ..."""

    RedOpType = RedOpType
    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR


class Backend(str):
    """A backend's name, lower-cased: Backend('GLOO') == 'gloo'."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    MPI = "mpi"
    NCCL = "nccl"
    backend_list = ["gloo", "mpi", "nccl"]

    def __new__(cls, name: str):
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, but got: {type(name)}")
        value = name.lower()
        if value not in cls.backend_list:
            raise AssertionError(f"Unknown backend type {name}")  # PyTorch's class and words
        return str.__new__(cls, value)


# ---- process groups ------------------------------------------------------------------------------
class ProcessGroup:
    """A set of ranks sharing one engine communicator. `ranks` are their global ranks, in group order."""

    def __init__(self, backend: str, engine, ranks: list[int], timeout: float, name: str = ""):
        self.backend = Backend(backend)
        self.engine = engine
        self.ranks = list(ranks)
        self.timeout = timeout
        self.group_name = name

    def rank(self) -> int:
        return self.engine.rank

    def size(self) -> int:
        return self.engine.size

    def name(self) -> str:
        return self.backend.upper()

    def __repr__(self) -> str:
        return f"<ProcessGroup {self.group_name or 'default'} backend={self.backend} ranks={self.ranks}>"


class GroupMember:
    """PyTorch's placeholders: WORLD is the default group, NON_GROUP_MEMBER what new_group gives outsiders."""

    WORLD: ProcessGroup | None = None
    NON_GROUP_MEMBER = -100


class group:  # noqa: N801  (torch.distributed.group.WORLD)
    WORLD: ProcessGroup | None = None


_default_pg: ProcessGroup | None = None
_groups: list[ProcessGroup] = []


def is_available() -> bool:
    """Whether an engine can be loaded: mpi4py (CPU) or CuPy's NCCL (CUDA)."""
    return is_mpi_available() or is_nccl_available()


def is_mpi_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("mpi4py") is not None


is_gloo_available = is_mpi_available  # 'gloo' is served by the MPI engine


def is_nccl_available() -> bool:
    from . import _nccl

    return _nccl.available()


def is_initialized() -> bool:
    return _default_pg is not None


def _seconds(timeout) -> float:
    if timeout is None:
        return default_pg_timeout.total_seconds()
    if isinstance(timeout, datetime.timedelta):
        return timeout.total_seconds()
    return float(timeout)


def _rendezvous_info(init_method: str, rank: int, world_size: int) -> tuple[int, int]:
    """(rank, world_size) as the init_method gives them (-1 where it gives none), PyTorch's errors."""
    scheme = init_method.split("://", 1)[0] + "://" if "://" in init_method else init_method
    if scheme == "env://":
        if rank == -1:
            if "RANK" in os.environ:
                rank = int(os.environ["RANK"])
            elif not _under_mpirun():
                raise ValueError("Error initializing torch.distributed using env:// rendezvous: "
                                 "environment variable RANK expected, but not set")
        if world_size == -1:
            if "WORLD_SIZE" in os.environ:
                world_size = int(os.environ["WORLD_SIZE"])
            elif not _under_mpirun():
                raise ValueError("Error initializing torch.distributed using env:// rendezvous: "
                                 "environment variable WORLD_SIZE expected, but not set")
        return rank, world_size
    if scheme in ("file://", "tcp://"):
        for name, value in (("rank", rank), ("world size", world_size)):
            if value == -1 and not _under_mpirun():
                raise ValueError(f"Error initializing torch.distributed using {scheme} rendezvous: "
                                 f"{name} parameter missing")
        return rank, world_size
    raise RuntimeError(f"No rendezvous handler for {scheme}")


def _under_mpirun() -> bool:
    from ._mpi import under_mpirun

    return under_mpirun()


def init_process_group(backend: str | None = None, init_method: str | None = None, timeout=None,
                       world_size: int = -1, rank: int = -1, store=None, group_name: str = "",
                       pg_options=None, device_id=None) -> None:
    """Join the default process group. The processes come from `glasstorch launch` or `mpirun`; the
    rank and world size the arguments or init_method give must agree with MPI's."""
    global _default_pg
    if _default_pg is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if backend is None:
        on_cuda = device_id is not None and "cuda" in str(device_id)
        backend = "nccl" if on_cuda else "gloo"
    backend = Backend(backend)
    rank, world_size = _rendezvous_info(init_method or "env://", rank, world_size)

    from ._mpi import MPIEngine, under_mpirun

    if not under_mpirun() and world_size not in (-1, 1):
        raise RuntimeError(f"init_process_group: world_size={world_size}, but this process was not started by "
                           f"an MPI launcher; start the {world_size} processes with `glasstorch launch "
                           f"--nproc-per-node {world_size} SCRIPT` or `mpirun -n {world_size} glasstorch run SCRIPT`")
    world = MPIEngine.world()
    for what, asked, actual in (("rank", rank, world.rank), ("world_size", world_size, world.size)):
        if asked not in (-1, actual):
            raise ValueError(f"init_process_group: {what}={asked}, but MPI started this process as "
                             f"{what} {actual}")
    engine = world
    if backend == "nccl":
        from ._nccl import NCCLEngine

        engine = NCCLEngine.create(world, device_id)
    _default_pg = ProcessGroup(backend, engine, list(range(world.size)), _seconds(timeout), group_name)
    _default_pg._bootstrap = world  # the MPI communicator under any engine: new_group splits it
    group.WORLD = GroupMember.WORLD = _default_pg
    _groups.append(_default_pg)
    if world.size > 1:
        _fail_fast()


def _fail_fast() -> None:
    """An uncaught exception ends this rank at once: a normal exit would run MPI_Finalize, which waits
    for the other ranks, while they wait (until their timeout) for this one in a collective."""
    import sys

    previous = sys.excepthook
    if getattr(previous, "_glasstorch_fail_fast", False):
        return

    def hook(kind, value, tb):
        previous(kind, value, tb)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)
    hook._glasstorch_fail_fast = True
    sys.excepthook = hook


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Leave `group`, or every group (the default one included) when None. MPI itself stays up: it
    cannot be started twice in a process, and a later init_process_group reuses it."""
    global _default_pg
    if _default_pg is None:
        raise AssertionError("Process group cannot be None")
    doomed = list(_groups) if group is None or group is _default_pg else [group]
    for pg in doomed:
        if pg in _groups:
            _groups.remove(pg)
            pg.engine.free()
            boot = getattr(pg, "_bootstrap", None)
            if boot is not None and boot is not pg.engine:
                boot.free()
    if group is None or group is _default_pg:
        _default_pg = None
        globals()["group"].WORLD = GroupMember.WORLD = None


def _pg(grp) -> ProcessGroup | None:
    """The group an operation runs on (None for a rank outside it); PyTorch's error before init."""
    if _default_pg is None:
        raise ValueError(_NOT_INITIALIZED)
    if grp is None:
        return _default_pg
    if isinstance(grp, int) and grp == GroupMember.NON_GROUP_MEMBER:
        return None
    return grp


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization: bool = False,
              group_desc=None, device_id=None, sort_ranks: bool = True):
    """A group of some ranks of the default group; every rank of the default group must call it.
    Ranks outside get GroupMember.NON_GROUP_MEMBER."""
    world = _pg(None)
    members = list(range(world.size())) if ranks is None else [int(r) for r in ranks]
    for r in members:
        if not 0 <= r < world.size():
            raise ValueError(f"new_group: rank {r} is not in the default group of {world.size()} ranks")
    if sort_ranks:
        members = sorted(members)
    me = world._bootstrap.rank
    comm = world._bootstrap.split(me in members)  # collective over the default group
    if comm is None:
        return GroupMember.NON_GROUP_MEMBER
    engine = comm
    backend = Backend(backend) if backend is not None else world.backend
    if backend == "nccl":
        from ._nccl import NCCLEngine

        engine = NCCLEngine.create(comm, device_id)
    pg = ProcessGroup(backend, engine, members, _seconds(timeout) if timeout is not None else world.timeout,
                      group_desc or f"group{len(_groups)}")
    pg._bootstrap = comm
    _groups.append(pg)
    return pg


def get_rank(group: ProcessGroup | None = None) -> int:
    pg = _pg(group)
    return -1 if pg is None else pg.rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    pg = _pg(group)
    return -1 if pg is None else pg.size()


def get_backend(group: ProcessGroup | None = None) -> str:
    pg = _pg(group)
    if pg is None:
        raise ValueError("Invalid process group specified")
    return pg.backend


def get_process_group_ranks(group: ProcessGroup | None) -> list[int]:
    return list(_pg(group).ranks)


def get_global_rank(group: ProcessGroup, group_rank: int) -> int:
    return _pg(group).ranks[group_rank]


def get_group_rank(group: ProcessGroup, global_rank: int) -> int:
    pg = _pg(group)
    if global_rank not in pg.ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {pg}")
    return pg.ranks.index(global_rank)


def _group_rank(pg: ProcessGroup, rank: int | None, group_rank: int | None, what: str) -> int:
    """The peer's rank within `pg`, from a global rank (src/dst) or a group rank (group_src/group_dst)."""
    if rank is not None and group_rank is not None:
        raise ValueError(f"Can not specify both {what} and group_{what}")
    if group_rank is not None:
        if not 0 <= group_rank < pg.size():
            raise ValueError(f"group_{what}={group_rank} is out of range for a group of {pg.size()} ranks")
        return group_rank
    rank = 0 if rank is None else int(rank)
    if rank not in pg.ranks:
        raise ValueError(f"Global rank {rank} is not part of group {pg}")
    return pg.ranks.index(rank)


# ---- work: one started operation ---------------------------------------------------------------------
class Work:
    """A started operation: wait() blocks until it is done (or the group's timeout passes),
    is_completed() asks without blocking."""

    def __init__(self, pg: ProcessGroup, request, what: str, finish=None, result=()):
        self._pg = pg
        self._request = request
        self._what = what
        self._finish = finish
        self._result = list(result)
        self._done = False

    def _complete(self) -> None:
        if not self._done:
            self._done = True
            if self._finish is not None:
                self._finish()

    def is_completed(self) -> bool:
        if not self._done and self._request.test():
            self._complete()
        return self._done

    def is_success(self) -> bool:
        return self.is_completed()

    def wait(self, timeout=None) -> bool:
        if not self._done:
            seconds = self._pg.timeout if timeout is None else _seconds(timeout)
            _poll(self._request, seconds, self._what, self._pg)
            self._complete()
        return True

    def result(self) -> list:
        self.wait()
        return self._result

    def _source_rank(self) -> int:
        self.wait()
        return self._pg.ranks[self._request.source]

    def exception(self):
        return None


def _poll(request, seconds: float, what: str, pg: ProcessGroup) -> None:
    """Drive `request` until it completes: a tight loop for the first 200 ms (an engine only makes
    progress when asked; each turn yields the core, which matters when there are more processes
    than cores), then sleeps growing to 1 ms so a long wait leaves the core to others."""
    if request.test():
        return
    start = time.monotonic()
    spin_until, deadline, delay = start + 0.2, start + seconds, 2e-5
    while not request.test():
        now = time.monotonic()
        if now > deadline:
            raise DistBackendError(
                f"[rank {pg.ranks[pg.rank()]}] {what} timed out after {seconds:g} s waiting for the other ranks of "
                f"{pg} (a rank died, is stuck, or called a different collective)")
        if now > spin_until:
            time.sleep(delay)
            delay = min(2 * delay, 1e-3)
        else:
            _yield()


_yield = getattr(os, "sched_yield", lambda: None)


def _start(pg: ProcessGroup, request, what: str, finish, async_op: bool, result=()):
    work = Work(pg, request, what, finish, result)
    if async_op:
        return work
    work.wait()
    return None


def _check(tensor, name: str = "tensor") -> None:
    """Every collective checks its tensors first; deferred results are computed then, as the transport
    may write the arrays it is given."""
    deferred.flush()
    if not isinstance(tensor, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type torch.Tensor\n"
                        f"             but got {type(tensor)} instead.")


def _write(tensor: Tensor, buf) -> None:
    """The result in `buf` is now `tensor`'s value (the engine may have written its array directly)."""
    if buf is not tensor._data:
        tensor._data[...] = tensor.device.xp.asarray(buf.reshape(tensor._data.shape))
    tensor._vc[0] += 1


def _reduction(op) -> tuple[str, bool]:
    """(engine op name, whether to divide by the group size afterwards: AVG is SUM / size)."""
    if isinstance(op, ReduceOp):
        op = op.SUM
    if not isinstance(op, RedOpType):
        raise TypeError(f"op must be a ReduceOp, got {op!r}")
    if op is RedOpType.AVG:
        return "sum", True
    return op.name.lower(), False


def _divide(buf, size: int) -> None:
    if buf.dtype.kind in "fc":
        buf /= size
    else:  # integer AVG: the floor of the mean (there is no fractional integer)
        buf //= size


# ---- collectives -----------------------------------------------------------------------------------------
def all_reduce(tensor: Tensor, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """tensor <- the reduction (op) of `tensor` over the ranks of the group, on every rank."""
    pg = _pg(group)
    if pg is None:
        return None
    _check(tensor)
    name, avg = _reduction(op)
    buf = pg.engine.buffer(tensor._data)
    request = pg.engine.allreduce(buf, name)

    def finish():
        if avg:
            _divide(buf, pg.size())
        _write(tensor, buf)
    return _start(pg, request, "all_reduce", finish, async_op, [tensor])


def broadcast(tensor: Tensor, src: int | None = None, group=None, async_op: bool = False,
              group_src: int | None = None):
    """tensor <- src's tensor, on every rank."""
    pg = _pg(group)
    if pg is None:
        return None
    _check(tensor)
    root = _group_rank(pg, src, group_src, "src")
    buf = pg.engine.buffer(tensor._data)
    request = pg.engine.broadcast(buf, root)
    return _start(pg, request, "broadcast", lambda: _write(tensor, buf), async_op, [tensor])


def reduce(tensor: Tensor, dst: int | None = None, op=ReduceOp.SUM, group=None, async_op: bool = False,
           group_dst: int | None = None):
    """dst's tensor <- the reduction of `tensor` over the ranks; the others' tensors are left alone."""
    pg = _pg(group)
    if pg is None:
        return None
    _check(tensor)
    root = _group_rank(pg, dst, group_dst, "dst")
    name, avg = _reduction(op)
    buf = pg.engine.buffer(tensor._data)
    request = pg.engine.reduce(buf, root, name)

    def finish():
        if pg.rank() == root:
            if avg:
                _divide(buf, pg.size())
            _write(tensor, buf)
    return _start(pg, request, "reduce", finish, async_op, [tensor])


def _stacked(pg: ProcessGroup, tensor: Tensor):
    """An empty engine buffer holding one `tensor`-shaped slot per rank: (size, *tensor.shape)."""
    buf = pg.engine.buffer(tensor._data)
    return pg.engine.empty((pg.size(), *buf.shape), buf.dtype)


def _check_list(tensors, pg: ProcessGroup, what: str, like: Tensor) -> None:
    if len(tensors) != pg.size():
        raise ValueError(f"{what}: the list has {len(tensors)} tensors but the group has {pg.size()} ranks")
    for t in tensors:
        _check(t, what)
        if tuple(t.shape) != tuple(like.shape):
            raise ValueError(f"{what}: every tensor must have the input's shape {tuple(like.shape)}, "
                             f"got {tuple(t.shape)}")


def all_gather(tensor_list: list, tensor: Tensor, group=None, async_op: bool = False):
    """tensor_list[i] <- rank i's tensor, on every rank."""
    pg = _pg(group)
    if pg is None:
        return None
    _check(tensor)
    _check_list(tensor_list, pg, "all_gather", tensor)
    send = pg.engine.buffer(tensor._data)
    recv = _stacked(pg, tensor)
    request = pg.engine.allgather(send, recv)

    def finish():
        for i, t in enumerate(tensor_list):
            _write(t, recv[i])
    return _start(pg, request, "all_gather", finish, async_op, tensor_list)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group=None, async_op: bool = False):
    """output <- the ranks' inputs, concatenated along dim 0 (or stacked: output (size, *input.shape))."""
    pg = _pg(group)
    if pg is None:
        return None
    _check(output_tensor, "output_tensor")
    _check(input_tensor, "input_tensor")
    if output_tensor.numel() != pg.size() * input_tensor.numel():
        raise ValueError(f"all_gather_into_tensor: output tensor size must be equal to world_size times input "
                         f"tensor size: output {tuple(output_tensor.shape)}, input {tuple(input_tensor.shape)}, "
                         f"world_size {pg.size()}")
    send = pg.engine.buffer(input_tensor._data)
    recv = pg.engine.buffer(output_tensor._data)
    request = pg.engine.allgather(send, recv)
    return _start(pg, request, "all_gather_into_tensor", lambda: _write(output_tensor, recv), async_op,
                  [output_tensor])


def gather(tensor: Tensor, gather_list: list | None = None, dst: int | None = None, group=None,
           async_op: bool = False, group_dst: int | None = None):
    """dst's gather_list[i] <- rank i's tensor."""
    pg = _pg(group)
    if pg is None:
        return None
    _check(tensor)
    root = _group_rank(pg, dst, group_dst, "dst")
    if pg.rank() == root:
        if gather_list is None:
            raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
        _check_list(gather_list, pg, "gather", tensor)
        recv = _stacked(pg, tensor)
    else:
        if gather_list:
            raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
        recv = None
    send = pg.engine.buffer(tensor._data)
    request = pg.engine.gather(send, recv, root)

    def finish():
        for i, t in enumerate(gather_list if recv is not None else ()):
            _write(t, recv[i])
    return _start(pg, request, "gather", finish, async_op, gather_list or [])


def scatter(tensor: Tensor, scatter_list: list | None = None, src: int | None = None, group=None,
            async_op: bool = False, group_src: int | None = None):
    """tensor <- src's scatter_list[rank]."""
    pg = _pg(group)
    if pg is None:
        return None
    _check(tensor)
    root = _group_rank(pg, src, group_src, "src")
    if pg.rank() == root:
        if scatter_list is None:
            raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
        _check_list(scatter_list, pg, "scatter", tensor)
        send = _stacked(pg, tensor)
        for i, t in enumerate(scatter_list):
            send[i] = pg.engine.buffer(t._data).reshape(send.shape[1:])
    else:
        if scatter_list:
            raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
        send = None
    recv = pg.engine.buffer(tensor._data)
    request = pg.engine.scatter(send, recv, root)
    return _start(pg, request, "scatter", lambda: _write(tensor, recv), async_op, [tensor])


def reduce_scatter_tensor(output: Tensor, input: Tensor, op=ReduceOp.SUM, group=None,  # noqa: A002
                          async_op: bool = False):
    """output <- rank's chunk (along dim 0) of the reduction of the ranks' inputs."""
    pg = _pg(group)
    if pg is None:
        return None
    _check(output, "output")
    _check(input, "input")
    if input.numel() != pg.size() * output.numel():
        raise ValueError(f"reduce_scatter_tensor: input tensor size must be equal to world_size times output "
                         f"tensor size: input {tuple(input.shape)}, output {tuple(output.shape)}, "
                         f"world_size {pg.size()}")
    name, avg = _reduction(op)
    send = pg.engine.buffer(input._data)
    recv = pg.engine.buffer(output._data)
    request = pg.engine.reduce_scatter(send, recv, name)

    def finish():
        if avg:
            _divide(recv, pg.size())
        _write(output, recv)
    return _start(pg, request, "reduce_scatter_tensor", finish, async_op, [output])


def barrier(group=None, async_op: bool = False, device_ids=None, timeout=None):
    """Return once every rank of the group has called barrier."""
    pg = _pg(group)
    if pg is None:
        return None
    work = Work(pg, pg.engine.barrier(), "barrier")
    if async_op:
        return work
    work.wait(timeout)
    return None


# ---- point to point ------------------------------------------------------------------------------------
def isend(tensor: Tensor, dst: int | None = None, group=None, tag: int = 0, group_dst: int | None = None):
    """Start sending `tensor` to dst; the Work completes once the buffer may be reused."""
    pg = _pg(group)
    if pg is None:
        return None
    _check(tensor)
    peer = _group_rank(pg, dst, group_dst, "dst")
    if peer == pg.rank():
        raise ValueError("Invalid destination rank: should not be the same as rank of the current process.")
    buf = pg.engine.buffer(tensor._data)
    return Work(pg, pg.engine.send(buf, peer, tag), "send", result=[tensor])


def irecv(tensor: Tensor, src: int | None = None, group=None, tag: int = 0, group_src: int | None = None):
    """Start receiving into `tensor` from src (any rank when None)."""
    pg = _pg(group)
    if pg is None:
        return None
    _check(tensor)
    peer = None if src is None and group_src is None else _group_rank(pg, src, group_src, "src")
    if peer == pg.rank():
        raise ValueError("Invalid source rank: should not be the same as rank of the current process.")
    buf = pg.engine.buffer(tensor._data)
    return Work(pg, pg.engine.recv(buf, peer, tag), "recv", lambda: _write(tensor, buf), [tensor])


def send(tensor: Tensor, dst: int | None = None, group=None, tag: int = 0, group_dst: int | None = None) -> None:
    work = isend(tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


def recv(tensor: Tensor, src: int | None = None, group=None, tag: int = 0, group_src: int | None = None) -> int:
    """Receive into `tensor`; returns the sender's global rank (-1 outside the group)."""
    work = irecv(tensor, src, group, tag, group_src)
    return -1 if work is None else work._source_rank()


# ---- Python objects ------------------------------------------------------------------------------------
def _bytes_engine(pg: ProcessGroup):
    """Objects travel as host bytes: through MPI even when the tensors' engine is NCCL."""
    return getattr(pg, "_bootstrap", None) or pg.engine


def _wait(pg: ProcessGroup, request, what: str) -> None:
    _poll(request, pg.timeout, what, pg)


def broadcast_object_list(object_list: list, src: int | None = None, group=None, device=None,
                          group_src: int | None = None) -> None:
    """object_list[i] <- src's object_list[i] (pickled), on every rank."""
    pg = _pg(group)
    if pg is None:
        return None
    root = _group_rank(pg, src, group_src, "src")
    eng = _bytes_engine(pg)
    if pg.rank() == root:
        blobs = [pickle.dumps(o) for o in object_list]
        sizes = np.array([len(b) for b in blobs], dtype=np.int64)
    else:
        sizes = np.zeros(len(object_list), dtype=np.int64)
    _wait(pg, eng.broadcast(sizes, root), "broadcast_object_list")
    data = (np.frombuffer(b"".join(blobs), dtype=np.uint8).copy() if pg.rank() == root
            else np.empty(int(sizes.sum()), dtype=np.uint8))
    _wait(pg, eng.broadcast(data, root), "broadcast_object_list")
    if pg.rank() != root:
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        for i in range(len(object_list)):
            object_list[i] = pickle.loads(data[offsets[i]:offsets[i + 1]].tobytes())
    return None


def all_gather_object(object_list: list, obj: Any, group=None) -> None:
    """object_list[i] <- rank i's obj (pickled), on every rank."""
    pg = _pg(group)
    if pg is None:
        return None
    if len(object_list) != pg.size():
        raise ValueError(f"all_gather_object: object_list has {len(object_list)} entries but the group has "
                         f"{pg.size()} ranks")
    eng = _bytes_engine(pg)
    blob = np.frombuffer(pickle.dumps(obj), dtype=np.uint8)
    sizes = np.empty(pg.size(), dtype=np.int64)
    _wait(pg, eng.allgather(np.array([blob.size], dtype=np.int64), sizes), "all_gather_object")
    longest = int(sizes.max())
    padded = np.zeros(longest, dtype=np.uint8)
    padded[:blob.size] = blob
    everything = np.empty((pg.size(), longest), dtype=np.uint8)
    _wait(pg, eng.allgather(padded, everything), "all_gather_object")
    for i in range(pg.size()):
        object_list[i] = pickle.loads(everything[i, :sizes[i]].tobytes())
    return None
