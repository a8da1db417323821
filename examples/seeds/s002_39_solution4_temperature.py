# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# "Solutions" / "Solution 4: Temperature Converter".
# Code unchanged. torch.manual_seed(42) + nn.Linear's initialization: output depends on the RNG.
import torch
import torch.nn as nn
import torch.optim as optim

# F = 1.8 * C + 32
# Generate training data
torch.manual_seed(42)
C_train = torch.linspace(-40, 100, 50).reshape(-1, 1)
F_train = 1.8 * C_train + 32

# Simple linear model (this IS a linear relationship)
model = nn.Linear(1, 1)
criterion = nn.MSELoss()
optimizer = optim.SGD(model.parameters(), lr=0.0001)

# Train
for epoch in range(5000):
    pred = model(C_train)
    loss = criterion(pred, F_train)

    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

    if epoch % 1000 == 0:
        print(f"Epoch {epoch}: Loss = {loss.item():.6f}")

# Check learned parameters
w = model.weight.item()
b = model.bias.item()
print(f"\nLearned: F = {w:.4f} * C + {b:.4f}")
print(f"Actual:  F = 1.8000 * C + 32.0000")

# Test on unseen temperatures
test_temps = torch.tensor([[0.0], [100.0], [37.0], [-10.0]])
with torch.no_grad():
    predictions = model(test_temps)

print(f"\nTest predictions:")
for i, c in enumerate(test_temps):
    actual = 1.8 * c.item() + 32
    print(f"  {c.item():.0f}°C → predicted {predictions[i].item():.2f}°F "
          f"(actual: {actual:.1f}°F)")
