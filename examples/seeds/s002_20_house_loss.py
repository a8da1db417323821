# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 5 "Your First Neural Network" / "Loss Calculation".
# Continues s002_17..s002_19, copied below as [added] setup.
# torch.manual_seed(42) + torch.randn: the printed loss depends on the RNG.
import torch  # [added]

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

# ---- [added] setup: the weights (s002_18) ----
torch.manual_seed(42)
w = torch.randn(2, 1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)

# ---- [added] setup: the forward pass (s002_19) ----
predictions = X @ w + b

# ---- the listing ----
# Calculate loss (Mean Squared Error)
errors = predictions - y_true       # Shape: (5, 1)
squared_errors = errors ** 2        # Shape: (5, 1)
loss = squared_errors.mean()        # Shape: scalar

print(f"\nErrors:\n{errors.data}")
print(f"Squared errors:\n{squared_errors.data}")
print(f"Loss (MSE): {loss.item():.2f}")
