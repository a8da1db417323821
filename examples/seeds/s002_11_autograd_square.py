# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 3 "What Is a Gradient?" / "PyTorch Autograd — Automatic Gradient Computation".
# Code unchanged. No random numbers: deterministic output (the text prints it).
import torch

# Create a tensor and tell PyTorch to track gradients
x = torch.tensor(3.0, requires_grad=True)
print(f"x = {x}")

# Define a function: f(x) = x²
f = x ** 2
print(f"f(x) = x² = {f}")

# Compute the gradient (derivative) of f with respect to x
f.backward()

# The gradient is stored in x.grad
print(f"df/dx at x=3: {x.grad}")  # Should be 2*3 = 6.0
