# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 5 "Your First Neural Network" / "Adding a Hidden Layer" (training the deeper model).
# Continues the data listing (s002_17) and HousePriceModelV2 (s002_25), copied below as [added]
# setup. Random initialization: the printed losses depend on the RNG.
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

# ---- [added] setup: the model (s002_25) ----
class HousePriceModelV2(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(2, 8)
        self.relu = nn.ReLU()
        self.layer2 = nn.Linear(8, 1)

    def forward(self, x):
        x = self.layer1(x)
        x = self.relu(x)
        x = self.layer2(x)
        return x

model_v2 = HousePriceModelV2()

# ---- the listing ----
# Train the deeper model
optimizer_v2 = optim.SGD(model_v2.parameters(), lr=0.0001)
criterion = nn.MSELoss()

for epoch in range(2000):
    predictions = model_v2(X)
    loss = criterion(predictions, y_true)

    optimizer_v2.zero_grad()
    loss.backward()
    optimizer_v2.step()

    if epoch % 500 == 0 or epoch == 1999:
        print(f"Epoch {epoch:4d} | Loss: {loss.item():.4f}")
