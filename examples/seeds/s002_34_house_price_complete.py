# Seed 002 (Chapter 2 "Foundations — Tensors, Gradients, and Neural Networks"),
# section 8 "Putting It All Together — A Complete Example" (two-layer house-price network, Adam).
# Code unchanged. No seed is set: nn.Linear's initialization makes the output depend on the RNG.
import torch
import torch.nn as nn
import torch.optim as optim

# ─── Step 1: Prepare Data ───
# Features: [size (100s sqft), bedrooms, bathrooms, age (decades)]
X_train = torch.tensor([
    [10.0, 3.0, 2.0, 2.0],   # 1000sqft, 3bed, 2bath, 20yr old
    [15.0, 4.0, 2.5, 1.0],   # 1500sqft, 4bed, 2.5bath, 10yr old
    [20.0, 5.0, 3.0, 0.5],   # 2000sqft, 5bed, 3bath, 5yr old
    [8.0,  2.0, 1.0, 5.0],   # 800sqft, 2bed, 1bath, 50yr old
    [12.0, 3.0, 2.0, 3.0],   # 1200sqft, 3bed, 2bath, 30yr old
    [25.0, 6.0, 4.0, 0.0],   # 2500sqft, 6bed, 4bath, new
    [9.0,  2.0, 1.0, 4.0],   # 900sqft, 2bed, 1bath, 40yr old
    [18.0, 4.0, 3.0, 1.5],   # 1800sqft, 4bed, 3bath, 15yr old
], dtype=torch.float32)

y_train = torch.tensor([
    [200.0], [320.0], [450.0], [120.0],
    [240.0], [550.0], [140.0], [380.0]
], dtype=torch.float32)

print(f"Training data: {X_train.shape[0]} houses, {X_train.shape[1]} features")
print(f"Target shape: {y_train.shape}")

# ─── Step 2: Define Model ───
class HousePriceNet(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.layer1 = nn.Linear(input_size, hidden_size)
        self.activation = nn.ReLU()
        self.layer2 = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        # x shape: (batch_size, 4)
        x = self.layer1(x)       # → (batch_size, hidden_size)
        x = self.activation(x)   # → (batch_size, hidden_size)
        x = self.layer2(x)       # → (batch_size, 1)
        return x

model = HousePriceNet(input_size=4, hidden_size=16, output_size=1)

# Count parameters
num_params = sum(p.numel() for p in model.parameters())
print(f"\nModel architecture:\n{model}")
print(f"Total parameters: {num_params}")
# layer1: 4*16 weights + 16 biases = 80
# layer2: 16*1 weights + 1 bias = 17
# Total: 97

# ─── Step 3: Setup Training ───
criterion = nn.MSELoss()
optimizer = optim.Adam(model.parameters(), lr=0.01)  # Adam is usually better than SGD

# ─── Step 4: Training Loop ───
num_epochs = 2000
losses = []

print("\nTraining...")
print(f"{'Epoch':>6} | {'Loss':>10} | {'Avg Error ($k)':>14}")
print("-" * 36)

for epoch in range(num_epochs):
    # Forward pass
    predictions = model(X_train)
    loss = criterion(predictions, y_train)
    losses.append(loss.item())

    # Backward pass + update
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

    # Logging
    if epoch % 400 == 0 or epoch == num_epochs - 1:
        avg_error = torch.abs(predictions - y_train).mean().item()
        print(f"{epoch:6d} | {loss.item():10.2f} | ${avg_error:12.2f}k")

# ─── Step 5: Evaluate ───
model.eval()
with torch.no_grad():
    final_preds = model(X_train)

print(f"\n{'House':>5} | {'Predicted':>10} | {'Actual':>8} | {'Error':>8}")
print("-" * 42)
for i in range(len(y_train)):
    pred = final_preds[i].item()
    actual = y_train[i].item()
    error = abs(pred - actual)
    print(f"{i+1:5d} | ${pred:8.1f}k | ${actual:6.1f}k | ${error:6.1f}k")
