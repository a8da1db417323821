# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 5 "Your First Neural Network" / "Backward Pass and Weight Update".
# Continues s002_17..s002_20, copied below as [added] setup.
# torch.manual_seed(42) + torch.randn: the printed numbers depend on the RNG.
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

# ---- [added] setup: the loss (s002_20) ----
errors = predictions - y_true
squared_errors = errors ** 2
loss = squared_errors.mean()

# ---- the listing ----
# Backward pass: compute gradients
loss.backward()

print(f"\nGradients:")
print(f"  dL/dw = {w.grad.data}")
print(f"  dL/db = {b.grad.data}")

# Update weights: move in the opposite direction of the gradient
learning_rate = 0.0001  # Small steps — house prices are large numbers

with torch.no_grad():
    w -= learning_rate * w.grad
    b -= learning_rate * b.grad

# Clear gradients for next iteration
w.grad.zero_()
b.grad.zero_()

# Check new predictions
new_predictions = X @ w + b
new_loss = ((new_predictions - y_true) ** 2).mean()
print(f"\nLoss before: {loss.item():.2f}")
print(f"Loss after:  {new_loss.item():.2f}")
print(f"Improvement: {loss.item() - new_loss.item():.2f}")
