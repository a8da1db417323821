# Seed 001 (Chapter 7 "Building Forward Pass in PyTorch"), section "PyTorch Implementation":
# listing "Forward Pass — PyTorch nn.Module" (forward_pytorch.py).
# Code unchanged. Fixed weights: deterministic output.
import torch
import torch.nn as nn
import torch.nn.functional as F

# ── Define the network ──
class DiagonalFlipNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(4, 3)
        self.layer2 = nn.Linear(3, 4)

    def forward(self, x):
        h = F.relu(self.layer1(x))
        y_hat = self.layer2(h)
        return y_hat

# ── Create model & load our weights ──
model = DiagonalFlipNet()

with torch.no_grad():
    model.layer1.weight.copy_(torch.tensor([
        [ 0.2, -0.3,  0.1, -0.4],
        [-0.5,  0.4,  0.3,  0.2],
        [ 0.1, -0.2,  0.5, -0.1],
    ]))
    model.layer1.bias.copy_(
        torch.tensor([0.1, -0.1, 0.0]))
    model.layer2.weight.copy_(torch.tensor([
        [ 0.3, -0.1,  0.2],
        [-0.2,  0.5, -0.4],
        [ 0.4, -0.3,  0.1],
        [ 0.1,  0.2, -0.5],
    ]))
    model.layer2.bias.copy_(
        torch.tensor([0.0, 0.1, -0.1, 0.0]))

# ── Forward pass ──
x = torch.tensor([1.0, 0.0, 1.0, 1.0])
y_hat = model(x)
target = torch.tensor([1.0, 1.0, 0.0, 1.0])
loss = torch.mean((y_hat - target) ** 2)

print(f"Prediction: {y_hat.tolist()}")
print(f"Target:     {target.tolist()}")
print(f"MSE Loss:   {loss.item():.4f}")
print(f"Parameters: {sum(p.numel() for p in model.parameters())}")
