# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 2 "Tensor Operations" / "Matrix Multiplication" (simulating a layer).
# [added] import torch. Uses torch.randn but prints only shapes: deterministic output.
import torch  # [added]

# Simulating a neural network layer:
batch_size = 4
input_features = 3
output_features = 5

# Random input data: 4 samples, each with 3 features
inputs = torch.randn(batch_size, input_features)
print(f"Input shape: {inputs.shape}")  # torch.Size([4, 3])

# Weight matrix: transforms 3 features → 5 features
weights = torch.randn(input_features, output_features)
print(f"Weights shape: {weights.shape}")  # torch.Size([3, 5])

# Forward pass = matrix multiplication
output = inputs @ weights
print(f"Output shape: {output.shape}")  # torch.Size([4, 5])
# 4 samples in, 4 samples out. Each now has 5 features instead of 3.
