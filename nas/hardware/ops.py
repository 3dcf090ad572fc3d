"""The module behind an ``OpKey``: the very layers ``build_model`` makes for that part."""

from __future__ import annotations

import torch
from torch import nn

from nas.arch.spec import BlockSpec
from nas.hardware.keys import OpKey
from nas.model.blocks import ConvBNAct, activation
from nas.model.build import _init_weights, build_block


class Head(nn.Module):
    """MobileNet's tail as ``MobileNet.forward`` runs it: [1x1 conv], pool, [features], fc."""

    def __init__(self, in_ch: int, conv: int, features: int, act: str, classes: int) -> None:
        super().__init__()
        self.head = ConvBNAct(in_ch, conv, 1, act=act) if conv else nn.Identity()
        self.pool = nn.AdaptiveAvgPool2d(1)
        pooled = conv or in_ch
        self.features = (nn.Sequential(nn.Linear(pooled, features), activation(act))
                         if features else nn.Identity())
        self.classifier = nn.Linear(features or pooled, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(torch.flatten(self.pool(self.head(x)), 1)))


def _stem(key: OpKey) -> nn.Module:
    return ConvBNAct(key.in_ch, key.out, key.kernel, key.stride, act=key.act)


def _block(key: OpKey) -> nn.Module:
    block = BlockSpec(key.op, kernel=key.kernel, expand=key.expand or key.in_ch, out=key.out,
                      se=key.se, act=key.act, stride=key.stride)
    return build_block(block, key.in_ch, key.stride)


def _head(key: OpKey) -> nn.Module:
    return Head(key.in_ch, key.out, key.features, key.act, key.classes)


BUILDERS = {"stem": _stem, "ir": _block, "ds": _block, "id": _block, "head": _head}


def build_op(key: OpKey) -> nn.Module:
    """The part of ``key`` in eval mode, initialised as a whole network is."""
    module = BUILDERS[key.op](key)
    _init_weights(module)
    return module.eval()


def input_shape(key: OpKey, batch: int) -> tuple[int, int, int, int]:
    return (batch, key.in_ch, key.resolution, key.resolution)
