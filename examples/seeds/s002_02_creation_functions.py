# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 1 "What Is a Tensor?" / "Reading Tensor Shapes".
# [added] import torch (the listing continues the previous one). Uses torch.randn, but prints
# only shapes: deterministic output.
import torch  # [added]

# Useful ways to create tensors
zeros = torch.zeros(3, 4)       # 3×4 matrix of zeros
ones = torch.ones(2, 5)         # 2×5 matrix of ones
random = torch.randn(3, 3)     # 3×3 matrix of random numbers (normal distribution)
sequence = torch.arange(0, 10)  # [0, 1, 2, ..., 9]

print(f"Zeros shape: {zeros.shape}")       # torch.Size([3, 4])
print(f"Ones shape: {ones.shape}")         # torch.Size([2, 5])
print(f"Random shape: {random.shape}")     # torch.Size([3, 3])
print(f"Sequence shape: {sequence.shape}") # torch.Size([10])
