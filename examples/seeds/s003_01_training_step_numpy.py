# Seed 003 (Chapter 8 "Backpropagation in PyTorch"), section "Python: One Complete Training Step":
# listing "Complete Training Step — NumPy" (training_step_numpy.py).
# Code unchanged; pure NumPy (no torch). Fixed weights: deterministic output.
import numpy as np

# ── Network weights (same as Chapter 7) ──
W1 = np.array([[ 0.2, -0.5,  0.1],
               [-0.3,  0.4, -0.2],
               [ 0.1,  0.3,  0.5],
               [-0.4,  0.2, -0.1]])
b1 = np.array([0.1, -0.1, 0.0])
W2 = np.array([[ 0.3, -0.2,  0.4,  0.1],
               [-0.1,  0.5, -0.3,  0.2],
               [ 0.2, -0.4,  0.1, -0.5]])
b2 = np.array([0.0, 0.1, -0.1, 0.0])

x = np.array([1.0, 0.0, 1.0, 1.0])
target = np.array([1.0, 1.0, 0.0, 1.0])

# ── Step 1: Forward pass ──
z1 = np.round(x @ W1 + b1, 10)
h = np.maximum(0, z1)
y_hat = h @ W2 + b2
loss = np.mean((y_hat - target) ** 2)

# ── Step 2: Backward pass (7 gradient steps) ──
dL_dy = 0.5 * (y_hat - target)
dL_dW2 = np.outer(h, dL_dy)
dL_db2 = dL_dy.copy()
dL_dh = W2 @ dL_dy
relu_grad = (z1 > 0).astype(float)
dL_dz1 = dL_dh * relu_grad
dL_dW1 = np.outer(x, dL_dz1)
dL_db1 = dL_dz1.copy()

# ── Step 3: Update weights ──
eta = 0.1
W1_new = W1 - eta * dL_dW1
b1_new = b1 - eta * dL_db1
W2_new = W2 - eta * dL_dW2
b2_new = b2 - eta * dL_db2

# ── Step 4: Verify improvement ──
z1_v = np.round(x @ W1_new + b1_new, 10)
h_v = np.maximum(0, z1_v)
y_hat_new = h_v @ W2_new + b2_new
loss_new = np.mean((y_hat_new - target) ** 2)

print(f"Old loss:  {loss:.4f}")
print(f"New loss:  {loss_new:.4f}")
print(f"Improved:  {(1 - loss_new/loss)*100:.1f}%")
