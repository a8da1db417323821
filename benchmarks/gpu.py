"""The CUDA benchmarks (`python -m benchmarks --device cuda`): glasstorch on CuPy against PyTorch CUDA eager.

Each workload takes the framework module `m` (torch or glasstorch) and runs the very same code on
device 'cuda'. GPU work is asynchronous, so every timed run ends with `m.cuda.synchronize()`: the time
is the work done, not the time to queue it. Data and models are moved to the GPU once, outside the
timings, as a training program would.
"""
from __future__ import annotations

import os

import numpy as np

from . import workloads as w

DEVICE = "cuda"


def no_gpu_reason() -> str | None:
    """Why the CUDA benchmarks cannot run here (None when they can): both frameworks need a real GPU."""
    import torch

    if not torch.cuda.is_available():
        return "PyTorch sees no CUDA GPU (torch.cuda.is_available() is False)"
    from glasstorch import backends

    module = backends.cuda_module()
    if module.__name__.endswith("fake_cuda"):
        return "glasstorch's 'cuda' is the test-only fake device (unset GLASSTORCH_FAKE_CUDA)"
    if not module.is_available():
        return "glasstorch finds no GPU through CuPy (pip install cupy-cuda12x)"
    return None


def mnist_or_synthetic():
    """MNIST's training arrays, or random arrays of the same shapes when the files are not here (the
    timings depend on the shapes only)."""
    try:
        return w.load_mnist_arrays()
    except FileNotFoundError:
        rng = np.random.default_rng(0)
        return rng.random((60000, 784), dtype=np.float32), rng.integers(0, 10, 60000)


def synced(m, fn):
    """fn, then wait for the GPU: one timed run."""
    def run():
        out = fn()
        m.cuda.synchronize()
        return out
    return run


# ---- the workloads ------------------------------------------------------------------------------------------
def mlp_epoch(m, X, y, sizes: tuple, batch_size: int, seed: int = 0) -> float:
    """One epoch of an MLP (sizes: 784, hidden..., 10; ReLU between) with Adam, all on the GPU."""
    nn, F = m.nn, m.nn.functional
    m.manual_seed(seed)
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    model = nn.Sequential(*layers[:-1]).to(DEVICE)
    opt = m.optim.Adam(model.parameters(), lr=1e-3)
    n = X.shape[0]
    perm = m.randperm(n, device=DEVICE)
    loss = None
    for i in range(0, n, batch_size):
        idx = perm[i:i + batch_size]
        loss = F.cross_entropy(model(X[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss  # no .item(): the caller's synchronize waits for the work


def matmul_listing(m, repeats: int = 1000):
    """Seed 004's GPU timing listing: 1000 products (64, 784) @ (784, 128) on the GPU."""
    x = m.randn(64, 784, device=DEVICE)
    W = m.randn(784, 128, device=DEVICE)
    m.cuda.synchronize()
    out = None
    for _ in range(repeats):
        out = x @ W
    return out


def small_ops(m, repeats: int = 20):
    """w.small_ops on the GPU: 200 elementwise ops on 16 elements, forward + backward."""
    m.manual_seed(0)
    x = m.randn(16, device=DEVICE, requires_grad=True)
    for _ in range(repeats):
        y = x
        for _ in range(50):
            y = (y * 1.01 + 0.1).tanh() - 0.05
        y.sum().backward()
    return x.grad


def wide_mlp(m, steps: int = 10, width: int = 4096, batch: int = 512):
    """w.wide_mlp on the GPU: a 4096-wide 3-layer MLP at batch 512, SGD steps."""
    nn, F = m.nn, m.nn.functional
    m.manual_seed(0)
    model = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                          nn.Linear(width, 10)).to(DEVICE)
    opt = m.optim.SGD(model.parameters(), lr=0.01)
    x = m.randn(batch, width, device=DEVICE)
    t = m.randint(0, 10, (batch,), device=DEVICE)
    loss = None
    for _ in range(steps):
        loss = F.cross_entropy(model(x), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss


# ---- the benchmarks: {"torch": runner, "glasstorch": runner} each --------------------------------------------------
def _on_gpu(torch, gt):
    X, y = mnist_or_synthetic()
    return {"torch": (torch.from_numpy(X).to(DEVICE), torch.from_numpy(y).to(DEVICE)),
            "glasstorch": (gt.from_numpy(X).to(DEVICE), gt.from_numpy(y).to(DEVICE))}


def runs_mlp(torch, gt):
    data = _on_gpu(torch, gt)
    return {k: synced(m, lambda m=m, d=data[k]: mlp_epoch(m, *d, (784, 128, 10), 64))
            for k, m in (("torch", torch), ("glasstorch", gt))}


def runs_mlp1024(torch, gt):
    data = _on_gpu(torch, gt)
    return {k: synced(m, lambda m=m, d=data[k]: mlp_epoch(m, *d, (784, 1024, 1024, 10), 512))
            for k, m in (("torch", torch), ("glasstorch", gt))}


def runs_wide(torch, gt):
    return {k: synced(m, lambda m=m: wide_mlp(m)) for k, m in (("torch", torch), ("glasstorch", gt))}


def runs_small(torch, gt):
    return {k: synced(m, lambda m=m: small_ops(m)) for k, m in (("torch", torch), ("glasstorch", gt))}


def runs_matmul(torch, gt):
    return {k: synced(m, lambda m=m: matmul_listing(m)) for k, m in (("torch", torch), ("glasstorch", gt))}


# key: (title, runs, unit, target from issue #14)
BENCHES = {
    "mlp": ("1. MNIST MLP epoch on cuda (784-128-10, Adam, batch 64)", runs_mlp, "s", 0.9),
    "mlp1024": ("2. MNIST MLP epoch on cuda (784-1024-1024-10, Adam, batch 512)", runs_mlp1024, "s", 1.05),
    "wide": ("3. 4096-wide 3-layer MLP on cuda, batch 512, 10 SGD steps", runs_wide, "s", 1.05),
    "small": ("4. 200 elementwise ops on 16 elements on cuda, fwd+bwd (x20)", runs_small, "s", 1.2),
    "matmul": ("5. seed 004's GPU listing: 1000 matmuls (64x784 @ 784x128) on cuda", runs_matmul, "s", 1.2),
}


def machine() -> str:
    import torch

    import glasstorch

    props = torch.cuda.get_device_properties(0)
    cupy = "?"
    try:
        import cupy as cp

        cupy = cp.__version__
    except ImportError:  # pragma: no cover - checked by no_gpu_reason
        pass
    return (f"{props.name} ({props.total_memory // 2 ** 30} GiB), {os.cpu_count()} CPU cores, "
            f"PyTorch {torch.__version__} (CUDA {torch.version.cuda}), CuPy {cupy}, NumPy {np.__version__}, "
            f"glasstorch {glasstorch.__version__}")
