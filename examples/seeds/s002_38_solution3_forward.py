# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# "Solutions" / "Solution 3: Manual Forward Pass".
# Code unchanged. Fixed weights copied into the nn.Sequential: deterministic output.
import torch
import torch.nn.functional as F

# Input
x = torch.tensor([[2.0, 3.0]])

# Layer 1
W1 = torch.tensor([[0.5, -0.3], [0.2, 0.8]])
b1 = torch.tensor([0.1, -0.1])

# Step 1: Linear transform
z1 = x @ W1.T + b1
# [2.0, 3.0] @ [[0.5, 0.2], [-0.3, 0.8]] + [0.1, -0.1]
# = [2*0.5 + 3*(-0.3), 2*0.2 + 3*0.8] + [0.1, -0.1]
# = [1.0 - 0.9, 0.4 + 2.4] + [0.1, -0.1]
# = [0.1, 2.8] + [0.1, -0.1]
# = [0.2, 2.7]
print(f"After Layer 1 (linear): {z1.data}")

# Step 2: ReLU
a1 = F.relu(z1)
# [max(0, 0.2), max(0, 2.7)] = [0.2, 2.7]
print(f"After ReLU: {a1.data}")

# Layer 2
W2 = torch.tensor([[0.4], [0.6]])
b2 = torch.tensor([0.0])

# Step 3: Linear transform
z2 = a1 @ W2 + b2
# = [0.2*0.4 + 2.7*0.6] + 0.0
# = [0.08 + 1.62]
# = [1.70]
print(f"Output: {z2.data}")

# Verify with nn.Module
model = torch.nn.Sequential(
    torch.nn.Linear(2, 2),
    torch.nn.ReLU(),
    torch.nn.Linear(2, 1)
)
# Set weights manually
with torch.no_grad():
    model[0].weight.copy_(W1)
    model[0].bias.copy_(b1)
    model[2].weight.copy_(W2.T)
    model[2].bias.copy_(b2)

output = model(x)
print(f"nn.Module output: {output.data}")  # Should match: 1.70
