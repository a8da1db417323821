# Seed 004 ("Build a neural-network training pipeline by hand"), "Data loading": shuffle and slice, all a DataLoader does.
# Split from one long line. [added] import torch and torch.randn / torch.randint stand-ins for
# load_mnist_images() / load_mnist_labels(), shaped as the text's simulated MNIST. Prints nothing.
import torch  # [added]


def load_mnist_images():  # [added] stand-in, as the text's full pipeline simulates MNIST
    return torch.randn(60000, 784)


def load_mnist_labels():  # [added] stand-in
    return torch.randint(0, 10, (60000,))


# ---- the listing ----
# Load all data into memory (MNIST is small enough)
X_train = load_mnist_images()  # [60000, 784] — all training images
y_train = load_mnist_labels()  # [60000] — all labels (0-9)

batch_size = 64
N = X_train.shape[0]  # 60000

# Shuffle and iterate in batches — that's ALL DataLoader does
perm = torch.randperm(N)  # random permutation of [0, 1, ..., 59999]
for i in range(0, N, batch_size):
    idx = perm[i : i + batch_size]  # indices for this batch
    x_batch = X_train[idx]          # [64, 784]
    y_batch = y_train[idx]          # [64]
    # ... forward, loss, backward, update ...
