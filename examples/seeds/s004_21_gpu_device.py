# Seed 004 ("Build a neural-network training pipeline by hand"), "GPU": choosing the device.
# Split from one long line. [added] import torch and torch.randn / torch.randint stand-ins for
# X_train / y_train. Runs on the CPU when no GPU is present. Prints nothing.
import torch  # [added]

X_train = torch.randn(60000, 784)         # [added] stand-in, as in the full pipeline
y_train = torch.randint(0, 10, (60000,))  # [added]

# ---- the listing ----
device = 'cuda' if torch.cuda.is_available() else 'cpu'

# Move parameters to GPU
W1 = torch.randn(784, 128, device=device, requires_grad=True)
b1 = torch.zeros(128, device=device, requires_grad=True)
W2 = torch.randn(128, 10, device=device, requires_grad=True)
b2 = torch.zeros(10, device=device, requires_grad=True)

# Move data to GPU
X_train = X_train.to(device)
y_train = y_train.to(device)

# Training loop: ZERO code changes needed!
# x @ W1 + b1 now runs on GPU cores instead of CPU cores
# loss.backward() now computes gradients on GPU
# W1 -= lr * W1.grad now updates weights on GPU
