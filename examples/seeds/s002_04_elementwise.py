# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 2 "Tensor Operations" / "Element-wise Operations".
# [added] import torch. No random numbers: deterministic output.
import torch  # [added]

a = torch.tensor([1.0, 2.0, 3.0])
b = torch.tensor([4.0, 5.0, 6.0])

# Addition: each element adds to its partner
c = a + b
print(f"a + b = {c}")  # tensor([5., 7., 9.])

# Subtraction
print(f"a - b = {a - b}")  # tensor([-3., -3., -3.])

# Element-wise multiplication (NOT matrix multiplication!)
print(f"a * b = {a * b}")  # tensor([4., 10., 18.])

# Element-wise division
print(f"a / b = {a / b}")  # tensor([0.2500, 0.4000, 0.5000])

# Squaring each element
print(f"a ** 2 = {a ** 2}")  # tensor([1., 4., 9.])
