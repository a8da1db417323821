# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 2 "Tensor Operations" / "Element-wise Operations" (matrices).
# [added] import torch. No random numbers: deterministic output.
import torch  # [added]

# Works with matrices too
A = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
B = torch.tensor([[5.0, 6.0], [7.0, 8.0]])

print(f"A:\n{A}")
print(f"B:\n{B}")
print(f"A + B:\n{A + B}")
# tensor([[ 6.,  8.],
#         [10., 12.]])
