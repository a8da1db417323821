# Seed 003 (Chapter 8 "Backpropagation in PyTorch"), section "PyTorch: Autograd Does It in Three Lines":
# listing "Complete Training Step — PyTorch" (training_step_pytorch.py).
# Code unchanged. Fixed weights: deterministic output.
import torch
import torch.nn as nn
import torch.nn.functional as F

# ── Same network, same weights ──
class DiagonalFlipNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(4, 3)
        self.layer2 = nn.Linear(3, 4)

    def forward(self, x):
        h = F.relu(self.layer1(x))
        return self.layer2(h)

model = DiagonalFlipNet()

# Load our exact weights
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

# ── Forward pass + loss ──
x = torch.tensor([1.0, 0.0, 1.0, 1.0])
target = torch.tensor([1.0, 1.0, 0.0, 1.0])
y_hat = model(x)
loss = torch.mean((y_hat - target) ** 2)

# ── Backprop: ONE LINE replaces 7 steps ──
loss.backward()

# ── Verify: gradients match hand calculations ──
print("dL/db2:", model.layer2.bias.grad)
print("dL/db1:", model.layer1.bias.grad)

# ── One training step ──
optimizer = torch.optim.SGD(
    model.parameters(), lr=0.1)
optimizer.step()
optimizer.zero_grad()

y_hat_new = model(x)
loss_new = torch.mean((y_hat_new - target) ** 2)
print(f"Loss: {loss.item():.4f} -> {loss_new.item():.4f}")
