# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# "Solutions" / "Solution 5: Loss Function Comparison".
# Code unchanged. No random numbers: deterministic output.
import torch
import torch.nn as nn

predictions = torch.tensor([2.0, 8.0, 5.0, 10.0])
targets     = torch.tensor([3.0, 7.0, 5.0, 3.0])  # Last one is an outlier!

errors = predictions - targets
print(f"Errors: {errors.tolist()}")  # [-1.0, 1.0, 0.0, 7.0]

# MSE: squares the errors → outlier dominates
mse = nn.MSELoss()(predictions, targets)
print(f"MSE Loss: {mse.item():.2f}")
# = mean([1, 1, 0, 49]) = 51/4 = 12.75

# MAE: absolute values → outlier has proportional impact
mae = nn.L1Loss()(predictions, targets)
print(f"MAE Loss: {mae.item():.2f}")
# = mean([1, 1, 0, 7]) = 9/4 = 2.25

print(f"\nMSE/MAE ratio: {mse.item()/mae.item():.2f}")
print("MSE penalizes the outlier (error=7) MUCH more because 7²=49")
print("MAE treats it proportionally: error=7 contributes 7, not 49")
