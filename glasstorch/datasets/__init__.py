"""Datasets in torchvision's style: MNIST and Fashion-MNIST, and the IDX file format they use.

    from glasstorch.datasets import MNIST
    train = MNIST(train=True, download=True)   # files cached under $GLASSTORCH_DATA or ~/.cache
    image, label = train[0]                    # float32 [1, 28, 28] in [0, 1], 5
    images, targets = train.tensors()          # the whole split: [60000, 1, 28, 28], [60000]
"""
from .idx import read_idx, write_idx
from .mnist import KMNIST, MNIST, FashionMNIST, default_root

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "default_root", "read_idx", "write_idx"]
