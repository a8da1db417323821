# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# "Solutions" / "Solution 2: Gradient Computation".
# [added] import torch. No random numbers: deterministic output.
import torch  # [added]

x = torch.tensor(2.0, requires_grad=True)
y = torch.tensor(3.0, requires_grad=True)

f = x**2 * y + 3 * x * y**2 - 2 * x + 5
f.backward()

print(f"f(2, 3) = {f.item()}")
print(f"∂f/∂x = {x.grad.item()}")  # 2*2*3 + 3*9 - 2 = 12 + 27 - 2 = 37
print(f"∂f/∂y = {y.grad.item()}")  # 4 + 6*2*3 = 4 + 36 = 40

# Manual check:
# ∂f/∂x = 2xy + 3y² - 2 = 2(2)(3) + 3(9) - 2 = 12 + 27 - 2 = 37 ✓
# ∂f/∂y = x² + 6xy = 4 + 6(2)(3) = 4 + 36 = 40 ✓
