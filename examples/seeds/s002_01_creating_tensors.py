# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 1 "What Is a Tensor?" / "Creating Tensors in PyTorch".
# Code unchanged. No random numbers: deterministic output (the text prints it).
import torch

# Scalar (rank 0) — a single number
scalar = torch.tensor(42.0)
print(f"Scalar: {scalar}")
print(f"  Shape: {scalar.shape}")      # torch.Size([])
print(f"  Dimensions: {scalar.ndim}")  # 0
print()

# Vector (rank 1) — a list of numbers
vector = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
print(f"Vector: {vector}")
print(f"  Shape: {vector.shape}")      # torch.Size([5])
print(f"  Dimensions: {vector.ndim}")  # 1
print()

# Matrix (rank 2) — a grid of numbers
matrix = torch.tensor([
    [1.0, 2.0, 3.0],
    [4.0, 5.0, 6.0]
])
print(f"Matrix:\n{matrix}")
print(f"  Shape: {matrix.shape}")      # torch.Size([2, 3])
print(f"  Dimensions: {matrix.ndim}")  # 2
print()

# 3D Tensor (rank 3) — a cube of numbers
tensor_3d = torch.tensor([
    [[1, 2], [3, 4], [5, 6]],
    [[7, 8], [9, 10], [11, 12]]
])
print(f"3D Tensor:\n{tensor_3d}")
print(f"  Shape: {tensor_3d.shape}")      # torch.Size([2, 3, 2])
print(f"  Dimensions: {tensor_3d.ndim}")  # 3
