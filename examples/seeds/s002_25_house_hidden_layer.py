# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 5 "Your First Neural Network" / "Adding a Hidden Layer".
# [added] imports (the listing continues the nn.Module listing). Random initialization, but it
# prints only the architecture and the parameter count: deterministic output.
import torch  # [added]
import torch.nn as nn  # [added]

class HousePriceModelV2(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(2, 8)    # 2 inputs → 8 hidden neurons
        self.relu = nn.ReLU()             # Activation function
        self.layer2 = nn.Linear(8, 1)    # 8 hidden → 1 output

    def forward(self, x):
        x = self.layer1(x)   # Shape: (batch, 2) → (batch, 8)
        x = self.relu(x)     # Shape: (batch, 8) — same shape, values changed
        x = self.layer2(x)   # Shape: (batch, 8) → (batch, 1)
        return x

model_v2 = HousePriceModelV2()
print(model_v2)

# Count parameters
total_params = sum(p.numel() for p in model_v2.parameters())
print(f"\nTotal parameters: {total_params}")
# layer1: 2*8 weights + 8 biases = 24
# layer2: 8*1 weights + 1 bias = 9
# Total: 33 parameters
