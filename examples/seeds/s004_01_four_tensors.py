# Seed 004 ("Build a neural-network training pipeline by hand"), "Tensors": the network's four tensors.
# The listing was one long line; split into Python, code otherwise unchanged.
# torch.randn weights; prints nothing: deterministic (empty) output.
import torch

# Initialize weights with random values (Gaussian, mean=0, std=1)
# requires_grad=True tells PyTorch: "track derivatives for these"
W1 = torch.randn(784, 128, requires_grad=True) # [784, 128]
b1 = torch.zeros(128, requires_grad=True)      # [128]
W2 = torch.randn(128, 10, requires_grad=True)  # [128, 10]
b2 = torch.zeros(10, requires_grad=True)       # [10]
