# Seed 003 (Chapter 8 "Backpropagation in PyTorch"), section "PyTorch: The Same Loop, Simplified":
# listing "Training Loop (200 Steps) — PyTorch" (training_loop_pytorch.py).
# Code unchanged. Fixed weights: deterministic output.
import torch
import torch.nn as nn
import torch.nn.functional as F

class DiagonalFlipNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(4, 3)
        self.layer2 = nn.Linear(3, 4)

    def forward(self, x):
        return self.layer2(F.relu(self.layer1(x)))

# ── Load same weights ──
model = DiagonalFlipNet()
with torch.no_grad():
    model.layer1.weight.copy_(torch.tensor([
        [ 0.2, -0.3,  0.1, -0.4],
        [-0.5,  0.4,  0.3,  0.2],
        [ 0.1, -0.2,  0.5, -0.1]]))
    model.layer1.bias.copy_(
        torch.tensor([0.1, -0.1, 0.0]))
    model.layer2.weight.copy_(torch.tensor([
        [ 0.3, -0.1,  0.2],
        [-0.2,  0.5, -0.4],
        [ 0.4, -0.3,  0.1],
        [ 0.1,  0.2, -0.5]]))
    model.layer2.bias.copy_(
        torch.tensor([0.0, 0.1, -0.1, 0.0]))

x = torch.tensor([1.0, 0.0, 1.0, 1.0])
target = torch.tensor([1.0, 1.0, 0.0, 1.0])
optimizer = torch.optim.SGD(
    model.parameters(), lr=0.1)

for step in range(201):
    y_hat = model(x)
    loss = torch.mean((y_hat - target) ** 2)

    if step in [0, 1, 5, 10, 25, 50, 100, 200]:
        pred = [round(v, 3) for v in y_hat.tolist()]
        print(f"Step {step:<4} loss={loss.item():.6f}  "
              f"pred={pred}")

    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
