"""PyTorch modules built from architecture specs."""

from nas.model.blocks import ConvBNAct, DepthwiseSeparable, InvertedResidual, SqueezeExcite
from nas.model.build import MobileNet, adapted_strides, build_block, build_model
from nas.model.fold import fold_batch_norm

__all__ = [
    "ConvBNAct",
    "DepthwiseSeparable",
    "InvertedResidual",
    "MobileNet",
    "SqueezeExcite",
    "adapted_strides",
    "build_block",
    "build_model",
    "fold_batch_norm",
]
