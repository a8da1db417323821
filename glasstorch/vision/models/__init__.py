"""torchvision.models: ResNet and VGG with torchvision's architecture and state_dict keys
(random initialisation only: pretrained weights cannot be downloaded here)."""
from ._api import PretrainedWeightsUnavailable, Weights, WeightsEnum
from .resnet import (BasicBlock, Bottleneck, ResNet, ResNet18_Weights, ResNet34_Weights, ResNet50_Weights,
                     resnet18, resnet34, resnet50)
from .vgg import (VGG, VGG11_BN_Weights, VGG11_Weights, VGG13_Weights, VGG16_Weights, VGG19_Weights, vgg11,
                  vgg11_bn, vgg13, vgg16, vgg19)

__all__ = ["ResNet", "BasicBlock", "Bottleneck", "resnet18", "resnet34", "resnet50", "ResNet18_Weights",
           "ResNet34_Weights", "ResNet50_Weights", "VGG", "vgg11", "vgg11_bn", "vgg13", "vgg16", "vgg19",
           "VGG11_Weights", "VGG11_BN_Weights", "VGG13_Weights", "VGG16_Weights", "VGG19_Weights",
           "WeightsEnum", "Weights", "PretrainedWeightsUnavailable"]
