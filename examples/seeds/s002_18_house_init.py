# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 5 "Your First Neural Network" / "Building It From Scratch" (initializing the weights).
# [added] import torch (the listing continues the data listing, s002_17, but uses none of it).
# torch.manual_seed(42) + torch.randn: the printed weights depend on the RNG.
import torch  # [added]

# Initialize weights randomly
torch.manual_seed(42)  # For reproducibility

# Layer: 2 inputs → 1 output
# Weight matrix: (2, 1) — one weight per input feature
# Bias: (1,) — one bias for the output
w = torch.randn(2, 1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)

print(f"Initial weights:\n{w}")
print(f"Initial bias: {b}")
print(f"Weight shape: {w.shape}")  # (2, 1)
print(f"Bias shape: {b.shape}")    # (1,)
