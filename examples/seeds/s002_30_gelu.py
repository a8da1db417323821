# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 6 "Activation Functions" / "GELU — A Preview".
# [added] imports. No random numbers: deterministic output.
import torch  # [added]
import torch.nn.functional as F  # [added]

x = torch.tensor([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])
print(f"Input: {x.tolist()}")
print(f"ReLU:  {F.relu(x).tolist()}")
print(f"GELU:  {[f'{v:.3f}' for v in F.gelu(x).tolist()]}")
# Notice GELU allows small negative values through, unlike ReLU
