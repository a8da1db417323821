"""One rank of tests/test_distributed.py's 2-process run: every collective, then DDP training.

Started as `glasstorch launch --nproc-per-node 2 tests/_distributed_child.py OUT` (so `torch` is
glasstorch here); each rank writes what it saw to OUT.rank<r>.json, which the test checks against
NumPy arithmetic and against PyTorch training on the full batches.
"""
import json
import sys

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

report = {}


def put(key, value):
    report[key] = value.tolist() if isinstance(value, torch.Tensor) else value


def error_of(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the test compares class and message
        return [type(e).__name__, str(e)]
    return None


put("before_init", error_of(lambda: dist.get_rank()))
dist.init_process_group("gloo", init_method="env://")
rank, size = dist.get_rank(), dist.get_world_size()
put("rank", rank)
put("size", size)
put("backend", dist.get_backend())
put("initialized", dist.is_initialized())


def x_of(r, dtype=torch.float64):
    """Rank r's input: distinct values on every rank, negative ones too (for MIN/MAX)."""
    return (torch.arange(6, dtype=torch.float64).reshape(2, 3) - 2.5 * r).mul(r + 1.5).to(dtype)


# ---- all_reduce: every op, three dtypes, async and on a non-contiguous view ----
for dtype in (torch.float64, torch.float32, torch.int64, torch.float16):
    for op in ("SUM", "AVG", "MAX", "MIN", "PRODUCT"):
        if dtype == torch.int64 and op == "AVG":
            continue
        t = x_of(rank, dtype) if dtype != torch.int64 else torch.arange(6).reshape(2, 3) * (rank + 2) - 3
        dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
        put(f"all_reduce_{op}_{str(dtype)}", t)
        put(f"all_reduce_{op}_{str(dtype)}_dtype", str(t.dtype))
for op in ("MAX", "MIN"):  # booleans reduce logically: MAX is any, MIN is all
    b = torch.tensor([True, False, rank == 1])
    dist.all_reduce(b, op=getattr(dist.ReduceOp, op))
    put(f"all_reduce_bool_{op}", b)
t = x_of(rank)
work = dist.all_reduce(t, async_op=True)
put("async_wait", work.wait())
put("async_completed", work.is_completed())
put("async_result", t)
base = torch.zeros(3, 4, dtype=torch.float64)
view = base[:, ::2]
view.copy_(torch.full((3, 2), float(rank + 1), dtype=torch.float64))
dist.all_reduce(view)
put("noncontig_base", base)

# ---- broadcast, reduce ----
t = x_of(rank)
dist.broadcast(t, src=1)
put("broadcast", t)
t = x_of(rank)
dist.reduce(t, dst=1, op=dist.ReduceOp.SUM)
put("reduce", t)

# ---- gathers and scatters ----
out = [torch.zeros(2, 3, dtype=torch.float64) for _ in range(size)]
dist.all_gather(out, x_of(rank))
put("all_gather", [o.tolist() for o in out])
cat = torch.zeros(4, 3, dtype=torch.float64)
dist.all_gather_into_tensor(cat, x_of(rank))
put("all_gather_into_tensor", cat)
stacked = torch.zeros(2, 2, 3, dtype=torch.float64)
dist.all_gather_into_tensor(stacked, x_of(rank))
put("all_gather_into_tensor_stacked", stacked)
gl = [torch.zeros(2, 3, dtype=torch.float64) for _ in range(size)] if rank == 0 else None
dist.gather(x_of(rank), gl, dst=0)
put("gather", [g.tolist() for g in gl] if gl else None)
t = torch.zeros(2, 3, dtype=torch.float64)
dist.scatter(t, [x_of(10), x_of(20)] if rank == 1 else None, src=1)
put("scatter", t)
big = torch.arange(8, dtype=torch.float64).reshape(4, 2) * (rank + 1)
for op in ("SUM", "AVG", "MAX"):
    t = torch.zeros(2, 2, dtype=torch.float64)
    dist.reduce_scatter_tensor(t, big, op=getattr(dist.ReduceOp, op))
    put(f"reduce_scatter_{op}", t)

# ---- point to point ----
if rank == 0:
    dist.send(torch.tensor([1.5, 2.5], dtype=torch.float64), dst=1)
    w = dist.isend(torch.arange(3), dst=1, tag=7)
    w.wait()
    put("p2p", None)
else:
    t = torch.zeros(2, dtype=torch.float64)
    sender = dist.recv(t)
    u = torch.zeros(3, dtype=torch.int64)
    w = dist.irecv(u, src=0, tag=7)
    put("p2p", [sender, t.tolist(), w.wait(), w.is_completed(), u.tolist()])
dist.barrier()
put("barrier_async", dist.barrier(async_op=True).wait())

# ---- groups ----
g1 = dist.new_group([1])
put("group1", [dist.get_rank(g1), dist.get_world_size(g1), g1 == dist.GroupMember.NON_GROUP_MEMBER])
if rank == 1:
    t = torch.ones(2)
    dist.all_reduce(t, group=g1)
    put("group1_all_reduce", t)
g01 = dist.new_group([0, 1])
t = torch.full((2,), float(rank + 1))
dist.all_reduce(t, group=g01, op=dist.ReduceOp.MAX)
put("group01_all_reduce", t)

# ---- Python objects ----
objs = [{"from": rank}, [rank] * 3, "x" * (rank + 1)]
dist.broadcast_object_list(objs, src=1)
put("broadcast_object_list", objs)
gathered = [None] * size
dist.all_gather_object(gathered, {"rank": rank, "payload": list(range(rank * 5))})
put("all_gather_object", gathered)

# ---- errors ----
put("err_all_gather_len", error_of(lambda: dist.all_gather([torch.zeros(2, 3)], torch.zeros(2, 3))))
put("err_into_tensor", error_of(lambda: dist.all_gather_into_tensor(torch.zeros(3), torch.zeros(2))))
put("err_bad_src", error_of(lambda: dist.broadcast(torch.zeros(2), src=5)))
put("err_twice", error_of(lambda: dist.init_process_group("gloo")))
put("err_nccl", error_of(lambda: dist.new_group(backend="nccl")))

# ---- DDP with a DistributedSampler: SGD with momentum, two epochs ----
torch.manual_seed(100 + rank)  # different initial weights per rank: DDP must broadcast rank 0's
rng = np.random.default_rng(0)
X = torch.tensor(rng.standard_normal((40, 4)))
Y = torch.tensor(rng.standard_normal((40, 3)))
model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).double()
ddp = DDP(model, bucket_cap_mb=0.0001)  # tiny buckets: several all-reduces in flight during backward
put("ddp_init", [p.tolist() for p in ddp.module.parameters()])
put("ddp_buckets", len(ddp._buckets))
put("ddp_keys", list(ddp.state_dict().keys()))
opt = torch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
ds = TensorDataset(torch.arange(40), X, Y)
sampler = DistributedSampler(ds, shuffle=True, seed=3)
loader = DataLoader(ds, batch_size=5, sampler=sampler)
steps = []
for epoch in range(2):
    sampler.set_epoch(epoch)
    for idx, xb, yb in loader:
        loss = ((ddp(xb) - yb) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        steps.append(idx.tolist())
put("ddp_steps", steps)
put("ddp_final", [p.tolist() for p in ddp.module.parameters()])

# ---- no_sync: two local backward passes, then one synced; grads = mean over ranks of the sums ----
ddp2 = DDP(nn.Linear(4, 2).double())
a, b = X[rank * 10:rank * 10 + 5], X[rank * 10 + 5:rank * 10 + 10]
with ddp2.no_sync():
    ddp2(a).sum().backward()
put("no_sync_local", [p.grad.tolist() for p in ddp2.parameters()])
ddp2(b).sum().backward()
put("no_sync_synced", [p.grad.tolist() for p in ddp2.parameters()])
put("no_sync_init", [p.tolist() for p in ddp2.parameters()])


# ---- find_unused_parameters: rank 0 never uses `extra`; rank 1 does ----
class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Linear(4, 2)
        self.extra = nn.Linear(4, 2)
        self.never = nn.Linear(4, 2)

    def forward(self, x, use_extra):
        y = self.main(x)
        return y + self.extra(x) if use_extra else y


ddp3 = DDP(Branchy().double(), find_unused_parameters=True)
ddp3(X[:3] * (rank + 1), rank == 1).sum().backward()
put("unused_grads", {n: (None if p.grad is None else p.grad.tolist()) for n, p in ddp3.module.named_parameters()})
put("unused_init", {n: p.tolist() for n, p in ddp3.module.named_parameters()})

ddp4 = DDP(Branchy().double())  # without find_unused_parameters: PyTorch's error at the next forward
ddp4(X[:3], False).sum().backward()
put("unused_error", error_of(lambda: ddp4(X[:3], False)))

dist.destroy_process_group()
put("after_destroy", dist.is_initialized())
with open(f"{sys.argv[1]}.rank{rank}.json", "w") as f:
    json.dump(report, f)
