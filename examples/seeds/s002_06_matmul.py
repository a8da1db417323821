# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 2 "Tensor Operations" / "Matrix Multiplication — The Most Important Operation".
# [added] import torch. No random numbers: deterministic output.
import torch  # [added]

# A is 2×3 (2 rows, 3 columns)
A = torch.tensor([
    [1.0, 2.0, 3.0],
    [4.0, 5.0, 6.0]
])

# B is 3×2 (3 rows, 2 columns)
B = torch.tensor([
    [7.0,  8.0],
    [9.0,  10.0],
    [11.0, 12.0]
])

print(f"A shape: {A.shape}")  # torch.Size([2, 3])
print(f"B shape: {B.shape}")  # torch.Size([3, 2])

# Matrix multiplication: A (2×3) @ B (3×2) = C (2×2)
C = A @ B  # The @ operator does matrix multiplication
print(f"\nA @ B:\n{C}")
print(f"Result shape: {C.shape}")  # torch.Size([2, 2])
