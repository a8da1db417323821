# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 5 "Your First Neural Network" / "Using PyTorch nn.Module" (training loop).
# Continues the data listing (s002_17) and the nn.Module listing (s002_23), copied below as
# [added] setup. Random initialization: the printed numbers depend on the RNG.
import torch  # [added]
import torch.nn as nn  # [added]
import torch.optim as optim  # [added]

# ---- [added] setup: the training data (s002_17) ----
X = torch.tensor([
    [10.0, 3.0],   # 1000 sqft, 3 bedrooms → $200k
    [15.0, 4.0],   # 1500 sqft, 4 bedrooms → $300k
    [20.0, 5.0],   # 2000 sqft, 5 bedrooms → $400k
    [8.0,  2.0],   # 800 sqft, 2 bedrooms  → $150k
    [12.0, 3.0],   # 1200 sqft, 3 bedrooms → $250k
], dtype=torch.float32)

y_true = torch.tensor([
    [200.0],
    [300.0],
    [400.0],
    [150.0],
    [250.0],
], dtype=torch.float32)

# ---- [added] setup: model, loss and optimizer (s002_23) ----
class HousePriceModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, x):
        return self.linear(x)

model = HousePriceModel()
criterion = nn.MSELoss()
optimizer = optim.SGD(model.parameters(), lr=0.0001)

# ---- the listing ----
# Training loop with nn.Module
print("Epoch | Loss")
print("------|--------")

for epoch in range(1000):
    # Forward pass
    predictions = model(X)            # Calls model.forward(X)
    loss = criterion(predictions, y_true)

    # Backward pass
    optimizer.zero_grad()              # Clear old gradients
    loss.backward()                    # Compute new gradients
    optimizer.step()                   # Update weights

    if epoch % 100 == 0 or epoch == 999:
        print(f"  {epoch:4d} | {loss.item():.4f}")

# Final predictions
model.eval()  # Switch to evaluation mode
with torch.no_grad():
    final_preds = model(X)
    print(f"\nFinal predictions:")
    for i in range(len(y_true)):
        print(f"  House {i+1}: ${final_preds[i].item():.1f}k "
              f"(actual: ${y_true[i].item():.1f}k)")
