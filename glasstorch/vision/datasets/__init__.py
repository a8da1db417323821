"""torchvision.datasets: MNIST, FashionMNIST, KMNIST, CIFAR10/100, FakeData, ImageFolder, DatasetFolder."""
from .cifar import CIFAR10, CIFAR100
from .fakedata import FakeData
from .folder import DatasetFolder, ImageFolder
from .mnist import KMNIST, MNIST, FashionMNIST
from .vision import StandardTransform, VisionDataset

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "CIFAR10", "CIFAR100", "FakeData", "DatasetFolder", "ImageFolder",
           "VisionDataset", "StandardTransform"]
