"""DistributedDataParallel: one model replica per process, gradients averaged over the processes.

    dist.init_process_group("gloo")
    model = DistributedDataParallel(model)      # rank 0's parameters and buffers now everywhere
    loss_fn(model(x_shard), y_shard).backward() # every .grad is now the mean over the ranks
    opt.step()                                  # so the replicas stay equal

How the gradients travel (PyTorch's Reducer, in Python): the parameters are packed, in reverse order
(roughly the order backward produces their gradients), into buckets of about `bucket_cap_mb` (the
first one 1 MiB, so communication starts early). A post-accumulate-grad hook on every parameter copies
its fresh .grad into its bucket's flat buffer; when a bucket is full it is divided by the world size
and a non-blocking all-reduce of it starts, while backward goes on computing the other gradients.
Buckets start strictly in order so every rank issues the same collectives in the same order. The
hook of the last parameter waits for the buckets and copies the averages back into the .grads.
"""
from __future__ import annotations

import contextlib

from ... import distributed as dist
from ..._ops import deferred
from ..._tensor import Tensor
from ..modules.module import Module

__all__ = ["DistributedDataParallel"]

_MB = 1024 * 1024
_FIRST_BUCKET_BYTES = 1 * _MB  # PyTorch's dist._DEFAULT_FIRST_BUCKET_BYTES
_DEFAULT_BUCKET_CAP_MB = 25


def _tensors_in(obj) -> list:
    """The tensors in (nested tuples, lists and dicts of) a module's output."""
    found, stack = [], [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, Tensor):
            found.append(o)
        elif isinstance(o, (tuple, list)):
            stack.extend(o)
        elif isinstance(o, dict):
            stack.extend(o.values())
    return found


def _leaves_reached(outputs) -> set:
    """ids of the leaf tensors the graph of `outputs` leads to (an iterative walk over grad_fns)."""
    seen, leaves = set(), set()
    stack = [t.grad_fn for t in outputs if t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        variable = getattr(node, "variable", None)
        if variable is not None:
            leaves.add(id(variable))
        stack.extend(nxt for nxt, _ in node.next_functions)
    return leaves


class _Bucket:
    """Some parameters' gradients in one flat tensor, all-reduced together."""

    def __init__(self, params: list, indices: list[int]):
        self.params = params
        self.indices = indices
        total = sum(p.numel() for p in params)
        self.flat = params[0].new_zeros(total)
        self.slots, offset = [], 0
        for p in params:  # the views of the flat array that hold each parameter's gradient
            self.slots.append(self.flat._data[offset:offset + p.numel()].reshape(p._data.shape))
            offset += p.numel()
        self.pending = len(params)
        self.ready = [False] * len(params)
        self.work = None


class DistributedDataParallel(Module):
    """Data parallelism over the ranks of `process_group` (the default group when None); see the module
    docstring. The wrapped model is `.module`, so state_dict keys carry the `module.` prefix."""

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, init_sync: bool = True, process_group=None,
                 bucket_cap_mb: float | None = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False, **unsupported) -> None:
        super().__init__()
        for key, value in unsupported.items():
            if value not in (None, False):
                raise ValueError(f"DistributedDataParallel: {key}={value!r} is not supported by glasstorch")
        params = list(dict.fromkeys(p for p in module.parameters() if p.requires_grad))  # shared ones once
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        if device_ids is not None and len(device_ids) > 1:
            raise ValueError("device_ids can only be None or contain a single element.")
        self.module = module
        self.process_group = process_group if process_group is not None else dist.group.WORLD
        if self.process_group is None:
            raise ValueError(dist.distributed_c10d._NOT_INITIALIZED)
        self.device_ids = device_ids
        self.output_device = output_device
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.bucket_bytes_cap = int((bucket_cap_mb or _DEFAULT_BUCKET_CAP_MB) * _MB)
        first_cap = _FIRST_BUCKET_BYTES if bucket_cap_mb is None else self.bucket_bytes_cap
        self._params = params
        if init_sync:
            self._broadcast_from_rank0(list(module.parameters()) + list(module.buffers()))
        self._buckets, self._bucket_of = self._assign_buckets(params, first_cap)
        self._hook_handles = [p.register_post_accumulate_grad_hook(self._grad_ready) for p in params]
        self._syncing = False  # whether the current backward all-reduces (set by forward)
        self._started = False  # whether a hook of the current backward has run
        self._next_bucket = 0
        self._locally_used = None

    # ---- setup ---------------------------------------------------------------------------------------
    def _assign_buckets(self, params: list, first_cap: int):
        """Buckets of parameters in reverse order, one dtype and device each, closed once they reach the cap."""
        buckets, current, current_idx, size, cap = [], [], [], 0, first_cap
        for i in reversed(range(len(params))):
            p = params[i]
            if current and (p.dtype != current[0].dtype or p.device != current[0].device):
                buckets.append(_Bucket(current, current_idx))
                current, current_idx, size = [], [], 0
            current.append(p)
            current_idx.append(i)
            size += p.numel() * p.element_size()
            if size >= cap:
                buckets.append(_Bucket(current, current_idx))
                current, current_idx, size, cap = [], [], 0, self.bucket_bytes_cap
        if current:
            buckets.append(_Bucket(current, current_idx))
        bucket_of = {}
        for b, bucket in enumerate(buckets):
            for k, i in enumerate(bucket.indices):
                bucket_of[i] = (b, k)
        return buckets, {id(p): bucket_of[i] for i, p in enumerate(params)}

    def _broadcast_from_rank0(self, tensors: list) -> None:
        """Every tensor <- the group's first rank's, one broadcast per dtype."""
        src = dist.get_global_rank(self.process_group, 0)
        by_dtype: dict = {}
        for t in tensors:
            by_dtype.setdefault((t.dtype, t.device), []).append(t)
        for group in by_dtype.values():
            flat = group[0].new_empty(sum(t.numel() for t in group))
            offset = 0
            for t in group:
                flat._data[offset:offset + t.numel()] = t._data.reshape(-1)
                offset += t.numel()
            dist.broadcast(flat, src=src, group=self.process_group)
            offset = 0
            for t in group:
                deferred.before_write(t)
                t._data[...] = flat._data[offset:offset + t.numel()].reshape(t._data.shape)
                t._vc[0] += 1
                offset += t.numel()

    # ---- forward: prepare the coming backward --------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        from ...autograd.grad_mode import is_grad_enabled

        if self._started:
            self._abandon()
        if self.require_forward_param_sync and self.broadcast_buffers:
            buffers = list(self.module.buffers())
            if buffers and self.process_group.size() > 1:
                self._broadcast_from_rank0(buffers)
        output = self.module(*inputs, **kwargs)
        self._syncing = is_grad_enabled() and self.require_backward_grad_sync
        if self._syncing:
            self._prepare_for_backward(output)
        return output

    def _abandon(self) -> None:
        """The previous backward did not produce every gradient: PyTorch's error, naming the parameters."""
        missing = [i for b in self._buckets for k, i in enumerate(b.indices) if not b.ready[k]]
        self._started = False
        raise RuntimeError(
            "Expected to have finished reduction in the prior iteration before starting a new one. This error "
            "indicates that your module has parameters that were not used in producing loss. You can enable "
            "unused parameter detection by passing the keyword argument `find_unused_parameters=True` to "
            "`torch.nn.parallel.DistributedDataParallel`, and by making sure all `forward` function outputs "
            "participate in calculating loss.\nParameter indices which did not receive grad for rank "
            f"{dist.get_rank()}: {' '.join(map(str, sorted(missing)))}")

    def _prepare_for_backward(self, output) -> None:
        for bucket in self._buckets:
            bucket.pending = len(bucket.params)
            bucket.ready = [False] * len(bucket.params)
            bucket.work = None
        self._next_bucket = 0
        self._locally_used = None
        if self.find_unused_parameters:
            reached = _leaves_reached(_tensors_in(output))
            self._locally_used = [id(p) in reached for p in self._params]
            for p, used in zip(self._params, self._locally_used):
                if not used:  # no gradient will come: it counts as a zero one, ready now
                    self._mark_ready(p, zero=True)

    # ---- backward: the hooks ---------------------------------------------------------------------
    def _grad_ready(self, p: Tensor) -> None:
        if not self._syncing or id(p) not in self._bucket_of:  # not ours: a deepcopy of a parameter keeps its hooks
            return
        self._started = True
        self._mark_ready(p)
        for bucket in self._buckets[:self._next_bucket]:  # let the engine move the started buckets along
            if bucket.work is not None:
                bucket.work.is_completed()

    def _mark_ready(self, p: Tensor, zero: bool = False) -> None:
        b, k = self._bucket_of[id(p)]
        bucket = self._buckets[b]
        if bucket.ready[k]:
            raise RuntimeError(f"Expected to mark a variable ready only once. Parameter index "
                               f"{bucket.indices[k]} received a gradient twice in one iteration (reentrant "
                               f"backward, or a shared parameter used twice with retain_graph?)")
        bucket.ready[k] = True
        if zero:
            bucket.slots[k][...] = 0
        else:
            bucket.slots[k][...] = p.grad._data
        bucket.pending -= 1
        while self._next_bucket < len(self._buckets) and self._buckets[self._next_bucket].pending == 0:
            self._launch(self._buckets[self._next_bucket])
            self._next_bucket += 1
        if self._next_bucket == len(self._buckets):
            self._finalize()

    def _launch(self, bucket: _Bucket) -> None:
        bucket.flat._data /= self.process_group.size()
        bucket.work = dist.all_reduce(bucket.flat, group=self.process_group, async_op=True)

    def _finalize(self) -> None:
        """Wait for every bucket and hand the averages to the parameters' .grad."""
        globally_used = None
        if self._locally_used is not None:  # a gradient nobody produced stays None, as in PyTorch
            used = self._params[0].new_tensor([float(u) for u in self._locally_used])
            dist.all_reduce(used, op=dist.ReduceOp.MAX, group=self.process_group)
            globally_used = {id(p): bool(u) for p, u in zip(self._params, used.tolist())}
        for bucket in self._buckets:
            bucket.work.wait()
            for p, slot in zip(bucket.params, bucket.slots):
                if p.grad is None:
                    if globally_used is not None and not globally_used[id(p)]:
                        continue
                    p.grad = p.new_zeros(p.shape)
                deferred.before_write(p.grad)
                p.grad._data[...] = slot
                p.grad._vc[0] += 1
        self._syncing = self._started = False

    # ---- no_sync ---------------------------------------------------------------------------------
    @contextlib.contextmanager
    def no_sync(self):
        """Backward passes inside accumulate gradients locally; the first synced one averages the sum."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old
