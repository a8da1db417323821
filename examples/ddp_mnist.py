"""Data-parallel MNIST: DistributedDataParallel + DistributedSampler, written as a PyTorch program.

Every process holds a copy of the model and reads its own share of each batch; DDP averages the
gradients over the processes during backward, so the copies stay equal and together they take the
same steps as one process reading the whole batches. With --check, rank 0 retrains on the whole
batches in one process afterwards and compares the parameters.

    glasstorch launch --nproc-per-node 2 examples/ddp_mnist.py          # torchrun's flags
    mpirun -n 2 glasstorch run examples/ddp_mnist.py --check            # the same, started by MPI
    torchrun --nproc-per-node 2 examples/ddp_mnist.py                   # unchanged, on PyTorch

MNIST is read from $GLASSTORCH_DATA (or ./data). The run is small (4096 images, one epoch; --fast
1024) so it finishes in seconds.
"""
import argparse
import os

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler
from torchvision import datasets


def make_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10)).double()


def train(model, batches, lr):
    """SGD with momentum over `batches` (an iterable of (images, labels)); the mean loss."""
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    total, count = 0.0, 0
    for xb, yb in batches:
        loss = nn.functional.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total, count = total + loss.item() * len(yb), count + len(yb)
    return total / count


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--images", type=int, default=4096)
    p.add_argument("--batch-size", type=int, default=32, help="per process")
    p.add_argument("--fast", action="store_true", help="1024 images (also GLASSTORCH_FAST=1)")
    p.add_argument("--check", action="store_true", help="compare with one process on the whole batches")
    args = p.parse_args()
    n = 1024 if args.fast or os.environ.get("GLASSTORCH_FAST") == "1" else args.images

    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    mnist = datasets.MNIST(os.environ.get("GLASSTORCH_DATA", "data"), train=True, download=True)
    images = mnist.data[:n].double().div(255).unsqueeze(1)  # [n, 1, 28, 28] in [0, 1]
    data = TensorDataset(images, mnist.targets[:n])

    torch.manual_seed(rank)  # a different start on every rank: DDP broadcasts rank 0's weights
    model = DDP(make_model())
    start = {k: v.clone() for k, v in model.module.state_dict().items()}
    sampler = DistributedSampler(data, shuffle=True, seed=0)
    loader = DataLoader(data, batch_size=args.batch_size, sampler=sampler)
    sampler.set_epoch(0)
    local_loss = torch.tensor([train(model, loader, lr=0.05)], dtype=torch.float64)
    dist.all_reduce(local_loss, op=dist.ReduceOp.SUM)
    if rank == 0:
        print(f"{world} processes, {n} images, batch {args.batch_size} x {world}: "
              f"mean training loss {local_loss.item() / world:.4f}")

    if args.check and rank == 0:
        # The same steps in one process: batch k is the union of every rank's batch k.
        shares = [DistributedSampler(data, num_replicas=world, rank=r, shuffle=True, seed=0) for r in range(world)]
        loaders = [DataLoader(data, batch_size=args.batch_size, sampler=s) for s in shares]
        whole = ((torch.cat([xb for xb, _ in parts]), torch.cat([yb for _, yb in parts])) for parts in zip(*loaders))
        single = make_model()
        single.load_state_dict(start)
        train(single, whole, lr=0.05)
        diff = max((a - b).abs().max().item() for a, b in zip(model.module.parameters(), single.parameters()))
        if diff > 1e-10:
            raise SystemExit(f"DDP and one process differ by {diff:.3g}")
        print(f"same parameters as one process on the full batches (largest difference {diff:.1e})")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
