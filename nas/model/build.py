"""``build_model``: an ``nn.Module`` for an ArchSpec, a class count and an input resolution."""

from __future__ import annotations

import math

import torch
from torch import nn

from nas.arch.spec import ArchSpec, BlockSpec
from nas.model.blocks import (
    ConvBNAct,
    DepthwiseSeparable,
    IdentityBlock,
    InvertedResidual,
    activation,
)

MIN_FEATURE_SIZE = 4


def adapted_strides(spec: ArchSpec, resolution: int) -> list[int]:
    """Strides of [stem, block 0, block 1, ...] for an input of ``resolution``.

    A network designed for 224x224 downsamples 32x; on a 28x28 or 32x32 proxy dataset that
    leaves a 1x1 map. The earliest stride-2 layers (stem first) become stride 1 until the last
    feature map is at least MIN_FEATURE_SIZE wide. Every block choice (kernel, widths, SE,
    activation, residual) is kept, so the proxy network trains the same decisions.
    """
    strides = [spec.stem.stride] + [block.stride for block in spec.blocks]
    for index, stride in enumerate(strides):
        if _final_size(resolution, strides) >= MIN_FEATURE_SIZE:
            break
        if stride == 2:
            strides[index] = 1
    return strides


def _final_size(resolution: int, strides: list[int]) -> int:
    size = resolution
    for stride in strides:
        size = math.ceil(size / stride)
    return size


def build_block(block: BlockSpec, in_channels: int, stride: int) -> nn.Module:
    if block.kind == "id":
        return IdentityBlock(in_channels, block.out, stride)
    if block.kind == "ds":
        return DepthwiseSeparable(in_channels, block.out, block.kernel, stride, block.act, block.se)
    return InvertedResidual(
        in_channels,
        block.expand,
        block.out,
        block.kernel,
        stride,
        block.act,
        block.se,
        residual=block.has_residual(in_channels),
    )


class MobileNet(nn.Module):
    """stem -> blocks -> head conv -> pool -> [features] -> dropout -> classifier."""

    def __init__(self, spec: ArchSpec, num_classes: int | None = None,
                 resolution: int | None = None, dropout: float = 0.0,
                 in_channels: int = 3) -> None:
        super().__init__()
        num_classes = num_classes or spec.num_classes()
        self.spec = spec
        self.resolution = resolution or spec.resolution
        strides = adapted_strides(spec, self.resolution)
        stem = spec.stem
        self.stem = ConvBNAct(in_channels, stem.out, stem.kernel, strides[0], act=stem.act)
        self.blocks = nn.Sequential(
            *(
                build_block(block, in_ch, stride)
                for block, in_ch, stride in zip(spec.blocks, spec.in_channels(), strides[1:])
            )
        )
        last = spec.blocks[-1].out
        head = spec.head
        self.head = ConvBNAct(last, head.conv, 1, act=head.act) if head.conv else nn.Identity()
        self.pool = nn.AdaptiveAvgPool2d(1)
        pooled = head.conv or last
        self.features = (
            nn.Sequential(nn.Linear(pooled, head.features), activation(head.act))
            if head.features
            else nn.Identity()
        )
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.classifier = nn.Linear(spec.feature_channels, num_classes)
        _init_weights(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(self.pool(self.forward_features(x)), 1)
        return self.classifier(self.dropout(self.features(x)))


def _init_weights(model: nn.Module) -> None:
    """torchvision's MobileNet initialisation: Kaiming fan-out convs, small normal linears."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0, 0.01)
            nn.init.zeros_(module.bias)


def build_model(spec: ArchSpec, num_classes: int | None = None, resolution: int | None = None,
                dropout: float = 0.0, in_channels: int = 3) -> MobileNet:
    """The network of ``spec`` for ``num_classes`` at ``resolution`` (defaults: the spec's own,
    1000 classes when the spec fixes none). A dataset's class count, when given, wins."""
    return MobileNet(spec, num_classes, resolution, dropout, in_channels)
