"""torch.distributed: process groups, collectives and point-to-point messages between processes.

Engines: MPI through mpi4py for CPU tensors (backends 'mpi' and 'gloo': the name PyTorch's CPU programs
use is served by the same MPI engine), NCCL through CuPy for CUDA tensors ('nccl'). Start the
processes with `glasstorch launch --nproc-per-node N script.py` (torchrun's flags and environment
variables) or `mpirun -n N glasstorch run script.py`. See distributed_c10d for the details.
"""
from .distributed_c10d import (  # noqa: F401
    Backend, DistBackendError, DistError, GroupMember, ProcessGroup, ReduceOp, Work, all_gather,
    all_gather_into_tensor, all_gather_object, all_reduce, barrier, broadcast, broadcast_object_list,
    destroy_process_group, gather, get_backend, get_global_rank, get_group_rank, get_process_group_ranks,
    get_rank, get_world_size, group, init_process_group, irecv, is_available, is_gloo_available,
    is_initialized, is_mpi_available, is_nccl_available, isend, new_group, recv, reduce, reduce_scatter_tensor,
    scatter, send,
)
from .distributed_c10d import __all__  # noqa: F401
