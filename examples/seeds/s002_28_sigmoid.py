# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 6 "Activation Functions" / "Sigmoid".
# [added] import torch. No random numbers: deterministic output.
import torch  # [added]

x = torch.tensor([-5.0, -2.0, 0.0, 2.0, 5.0])
sigmoid_output = torch.sigmoid(x)

print(f"Input:   {x.tolist()}")
print(f"Sigmoid: {[f'{v:.4f}' for v in sigmoid_output.tolist()]}")
# Input:   [-5.0, -2.0, 0.0, 2.0, 5.0]
# Sigmoid: ['0.0067', '0.1192', '0.5000', '0.8808', '0.9933']
