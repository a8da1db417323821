# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 7 "Loss Functions" / "MSE (Mean Squared Error) — For Regression".
# Code unchanged. No random numbers: deterministic output.
import torch
import torch.nn as nn

# Predictions vs true values
predictions = torch.tensor([2.5, 0.0, 2.1, 7.8])
targets     = torch.tensor([3.0, -0.5, 2.0, 8.0])

# Manual MSE calculation
errors = predictions - targets
print(f"Errors: {errors.tolist()}")               # [-0.5, 0.5, 0.1, -0.2]
print(f"Squared: {(errors**2).tolist()}")          # [0.25, 0.25, 0.01, 0.04]
print(f"Mean: {(errors**2).mean().item():.4f}")    # 0.1375

# PyTorch's built-in MSE
criterion = nn.MSELoss()
loss = criterion(predictions, targets)
print(f"nn.MSELoss: {loss.item():.4f}")            # 0.1375 — same!
