# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 5 "Your First Neural Network" / "Using PyTorch nn.Module (The Real Way)".
# Code unchanged. nn.Linear's random initialization: the printed values depend on the RNG.
import torch
import torch.nn as nn
import torch.optim as optim

# Define the model as a class
class HousePriceModel(nn.Module):
    def __init__(self):
        super().__init__()
        # nn.Linear handles weights + bias automatically
        # Input: 2 features, Output: 1 prediction
        self.linear = nn.Linear(2, 1)

    def forward(self, x):
        return self.linear(x)

# Create model, loss function, and optimizer
model = HousePriceModel()
criterion = nn.MSELoss()                 # Mean Squared Error
optimizer = optim.SGD(model.parameters(), lr=0.0001)  # Stochastic Gradient Descent

# Print model architecture
print(model)
print(f"\nModel parameters:")
for name, param in model.named_parameters():
    print(f"  {name}: shape={param.shape}, values={param.data}")
