# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 5 "Your First Neural Network" / "The Forward Pass".
# Continues the data (s002_17) and weights (s002_18) listings, copied below as [added] setup.
# torch.manual_seed(42) + torch.randn: the printed predictions depend on the RNG.
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

# ---- the listing ----
# Forward pass: predictions = X @ w + b
# X shape: (5, 2)
# w shape: (2, 1)
# X @ w shape: (5, 1) — matrix multiplication
# b shape: (1,) — broadcast to (5, 1)
# predictions shape: (5, 1)

predictions = X @ w + b
print(f"\nPredictions shape: {predictions.shape}")
print(f"Predictions:\n{predictions.data}")
print(f"True values:\n{y_true}")
