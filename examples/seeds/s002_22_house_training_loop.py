# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 5 "Your First Neural Network" / "Training Loop" (1000 epochs, by hand).
# Uses the training data of s002_17, copied below as [added] setup.
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

# ---- the listing ----
# Full training loop
torch.manual_seed(42)
w = torch.randn(2, 1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
learning_rate = 0.0001
num_epochs = 1000

print("Epoch | Loss")
print("------|--------")

for epoch in range(num_epochs):
    # Forward pass
    predictions = X @ w + b
    loss = ((predictions - y_true) ** 2).mean()

    # Backward pass
    loss.backward()

    # Update weights
    with torch.no_grad():
        w -= learning_rate * w.grad
        b -= learning_rate * b.grad

    # Clear gradients
    w.grad.zero_()
    b.grad.zero_()

    # Print every 100 epochs
    if epoch % 100 == 0 or epoch == num_epochs - 1:
        print(f"  {epoch:4d} | {loss.item():.4f}")

print(f"\nFinal weights: {w.data.flatten().tolist()}")
print(f"Final bias: {b.item():.4f}")

# Test predictions
final_predictions = X @ w + b
print(f"\nPredictions vs True values:")
for i in range(len(y_true)):
    print(f"  House {i+1}: predicted ${final_predictions[i].item():.1f}k, "
          f"actual ${y_true[i].item():.1f}k")
