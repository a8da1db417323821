# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# "Solutions" / "Solution 1: Tensor Shapes".
# [added] import torch. Uses torch.randn but prints only shapes: deterministic output.
import torch  # [added]

A = torch.randn(3, 4)
B = torch.randn(4, 5)
C = torch.randn(3, 4)
v = torch.randn(4)

# a) A @ B → (3, 4) @ (4, 5) = (3, 5)
print(f"a) A @ B: {(A @ B).shape}")  # torch.Size([3, 5])

# b) A + C → (3, 4) + (3, 4) = (3, 4) — same shapes, element-wise
print(f"b) A + C: {(A + C).shape}")  # torch.Size([3, 4])

# c) A * C → (3, 4) * (3, 4) = (3, 4) — element-wise multiplication
print(f"c) A * C: {(A * C).shape}")  # torch.Size([3, 4])

# d) A + v → (3, 4) + (4,) = (3, 4) — v broadcast across rows
print(f"d) A + v: {(A + v).shape}")  # torch.Size([3, 4])

# e) A.reshape(6, 2) → 3*4 = 12 = 6*2 ✓
print(f"e) reshape(6, 2): {A.reshape(6, 2).shape}")  # torch.Size([6, 2])

# f) A.reshape(-1) → flattened to (12,)
print(f"f) reshape(-1): {A.reshape(-1).shape}")  # torch.Size([12])
