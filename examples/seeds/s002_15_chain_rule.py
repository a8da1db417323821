# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 4 "Backpropagation" / "A Computation Graph Example" ("Let's verify with PyTorch").
# [added] import torch. No random numbers: deterministic output (the text prints it).
import torch  # [added]

x = torch.tensor(2.0)
w = torch.tensor(3.0, requires_grad=True)
b = torch.tensor(1.0, requires_grad=True)

# Forward pass
y = w * x       # y = 6
z = y + b       # z = 7
L = z ** 2      # L = 49

print(f"Forward pass: y={y.item()}, z={z.item()}, L={L.item()}")

# Backward pass
L.backward()

print(f"dL/dw = {w.grad.item()}")  # 28.0
print(f"dL/db = {b.grad.item()}")  # 14.0

# Manual verification:
# dL/db = dL/dz × dz/db = 14 × 1 = 14 ✓
# dL/dw = dL/dz × dz/dy × dy/dw = 14 × 1 × 2 = 28 ✓
