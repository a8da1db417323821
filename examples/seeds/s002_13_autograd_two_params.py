# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 3 "What Is a Gradient?" / "PyTorch Autograd" (two parameters).
# [added] import torch. No random numbers: deterministic output.
import torch  # [added]

# Two parameters
w = torch.tensor(2.0, requires_grad=True)
b = torch.tensor(1.0, requires_grad=True)

# A simple function of both
# f(w, b) = 3w² + 2wb + b²
f = 3 * w**2 + 2 * w * b + b**2

f.backward()

# Partial derivatives:
# ∂f/∂w = 6w + 2b = 6*2 + 2*1 = 14
# ∂f/∂b = 2w + 2b = 2*2 + 2*1 = 6
print(f"∂f/∂w = {w.grad.item()}")  # 14.0
print(f"∂f/∂b = {b.grad.item()}")  # 6.0
