# Seed 004 ("Build a neural-network training pipeline by hand"), "Data loading": a batch generator and the batch count.
# Split from one long line; [added] import torch and the batch size / sample count the comment
# refers to (64, 60000). Prints nothing.
import torch  # [added]

N, batch_size = 60000, 64  # [added] the values the listing's comments use

# ---- the listing ----
# Complete epoch iteration with proper handling
def get_batches(X, y, batch_size):
    """Yields (x_batch, y_batch) tuples for one epoch."""
    N = X.shape[0]
    perm = torch.randperm(N)
    for i in range(0, N, batch_size):
        idx = perm[i : i + batch_size]
        yield X[idx], y[idx]
    # Last batch may have < batch_size samples — that's fine
    # e.g., 60000 / 64 = 937.5 → 937 full batches + 1 batch of 32

# Number of batches per epoch:
n_batches = (N + batch_size - 1) // batch_size  # = 938
