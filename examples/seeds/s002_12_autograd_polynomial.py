# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 3 "What Is a Gradient?" / "PyTorch Autograd" (f(x) = 3x³ + 2x² - 5x + 7).
# [added] import torch. No random numbers: deterministic output.
import torch  # [added]

x = torch.tensor(2.0, requires_grad=True)

f = 3 * x**3 + 2 * x**2 - 5 * x + 7
print(f"f(2) = {f.item()}")  # 3*8 + 2*4 - 10 + 7 = 24 + 8 - 10 + 7 = 29

f.backward()
print(f"f'(2) = {x.grad.item()}")  # 9*4 + 4*2 - 5 = 36 + 8 - 5 = 39
