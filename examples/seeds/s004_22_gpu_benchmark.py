# Seed 004 ("Build a neural-network training pipeline by hand"), "GPU": CPU vs GPU matmul benchmark.
# Split from one long line; [added] import torch. NEEDS CUDA (device='cuda' unconditionally):
# tests/test_seeds.py skips it on machines without a GPU. Prints timings (never comparable).
import torch  # [added]

# Benchmarking CPU vs GPU
import time

# CPU timing
x_cpu = torch.randn(64, 784)
W_cpu = torch.randn(784, 128)
start = time.time()
for _ in range(1000):
    _ = x_cpu @ W_cpu
cpu_time = time.time() - start  # ~0.15 seconds

# GPU timing
x_gpu = torch.randn(64, 784, device='cuda')
W_gpu = torch.randn(784, 128, device='cuda')
torch.cuda.synchronize()
start = time.time()
for _ in range(1000):
    _ = x_gpu @ W_gpu
torch.cuda.synchronize()  # MUST sync before timing (GPU is async!)
gpu_time = time.time() - start  # ~0.003 seconds

print(f"CPU: {cpu_time:.3f}s | GPU: {gpu_time:.3f}s | Speedup: {cpu_time/gpu_time:.0f}x")
# CPU: 0.150s | GPU: 0.003s | Speedup: 50x
