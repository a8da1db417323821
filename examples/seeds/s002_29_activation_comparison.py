# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 6 "Activation Functions" / "Comparison in a Network".
# [added] imports. torch.randn and nn.Linear's initialization: output depends on the RNG.
import torch  # [added]
import torch.nn as nn  # [added]
import torch.nn.functional as F  # [added]

# Same network, different activation functions
x = torch.randn(5, 3)  # 5 samples, 3 features

linear = nn.Linear(3, 4)
output_raw = linear(x)

print(f"Raw output (no activation):\n{output_raw.data}\n")
print(f"After ReLU:\n{F.relu(output_raw).data}\n")
print(f"After Sigmoid:\n{torch.sigmoid(output_raw).data}")
