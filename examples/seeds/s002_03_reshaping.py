# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 1 "What Is a Tensor?" / "Reshaping Tensors".
# [added] import torch. No random numbers: deterministic output.
import torch  # [added]

# Start with a flat vector of 12 numbers
flat = torch.arange(1, 13, dtype=torch.float32)
print(f"Flat: {flat}")
print(f"  Shape: {flat.shape}")  # torch.Size([12])

# Reshape to 3 rows × 4 columns
grid = flat.reshape(3, 4)
print(f"\nReshaped to (3, 4):\n{grid}")
print(f"  Shape: {grid.shape}")  # torch.Size([3, 4])

# Reshape to 2 × 2 × 3
cube = flat.reshape(2, 2, 3)
print(f"\nReshaped to (2, 2, 3):\n{cube}")
print(f"  Shape: {cube.shape}")  # torch.Size([2, 2, 3])

# Using -1 to let PyTorch figure out one dimension
auto = flat.reshape(4, -1)  # "Make it 4 rows, figure out the columns"
print(f"\nReshaped to (4, -1):\n{auto}")
print(f"  Shape: {auto.shape}")  # torch.Size([4, 3])
