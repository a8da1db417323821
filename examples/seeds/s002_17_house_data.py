# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 5 "Your First Neural Network" / "Building It From Scratch (No PyTorch nn)".
# Code unchanged. No random numbers: deterministic output.
import torch

# ─── Training Data ───
# [size (hundreds of sq ft), bedrooms] → price ($1000s)
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

print(f"Input shape: {X.shape}")    # (5, 2) — 5 houses, 2 features each
print(f"Target shape: {y_true.shape}")  # (5, 1) — 5 prices
