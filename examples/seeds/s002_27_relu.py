# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 6 "Activation Functions" / "ReLU (Rectified Linear Unit)".
# Code unchanged. No random numbers: deterministic output.
import torch
import torch.nn.functional as F

x = torch.tensor([-3.0, -1.0, 0.0, 1.0, 3.0, 5.0])
relu_output = F.relu(x)

print(f"Input:  {x.tolist()}")
print(f"ReLU:   {relu_output.tolist()}")
# Input:  [-3.0, -1.0, 0.0, 1.0, 3.0, 5.0]
# ReLU:   [0.0, 0.0, 0.0, 1.0, 3.0, 5.0]
