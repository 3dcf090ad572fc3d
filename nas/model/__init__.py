"""PyTorch modules built from architecture specs."""

from nas.model.blocks import ConvBNAct, DepthwiseSeparable, InvertedResidual, SqueezeExcite
from nas.model.build import MobileNet, adapted_strides, build_block, build_model

__all__ = [
    "ConvBNAct",
    "DepthwiseSeparable",
    "InvertedResidual",
    "MobileNet",
    "SqueezeExcite",
    "adapted_strides",
    "build_block",
    "build_model",
]
