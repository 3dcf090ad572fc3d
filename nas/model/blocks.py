"""The building blocks of MobileNetV1-V3, with fixed submodule names.

Names are part of the interface: latency tables, weight inheritance (NetAdapt) and checkpoints
address layers as ``blocks.3.expand.conv``, ``blocks.3.depthwise.bn``, ``blocks.3.se.reduce``...
"""

from __future__ import annotations

import torch
from torch import nn

from nas.arch.channels import make_divisible

ACTIVATION_MODULES = {"relu": nn.ReLU, "relu6": nn.ReLU6, "hswish": nn.Hardswish}


def activation(name: str) -> nn.Module:
    return ACTIVATION_MODULES[name](inplace=True)


class ConvBNAct(nn.Module):
    """kxk convolution (no bias), batch norm, optional activation."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int = 1, groups: int = 1,
                 act: str | None = "relu") -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel, stride, kernel // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(out_ch)
        self.act = activation(act) if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


def se_width(channels: int) -> int:
    """MobileNetV3's squeeze width: a quarter of the expansion, rounded to a multiple of 8."""
    return make_divisible(channels // 4, 8)


class SqueezeExcite(nn.Module):
    """Squeeze-and-excite with ReLU inside and a hard-sigmoid gate (MobileNetV3)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        squeezed = se_width(channels)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = nn.Conv2d(channels, squeezed, 1)
        self.act = nn.ReLU(inplace=True)
        self.expand = nn.Conv2d(squeezed, channels, 1)
        self.gate = nn.Hardsigmoid(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.gate(self.expand(self.act(self.reduce(self.pool(x)))))
        return x * scale


class InvertedResidual(nn.Module):
    """MobileNetV2/V3 block: [1x1 expand] -> kxk depthwise -> [SE] -> linear 1x1 project."""

    def __init__(self, in_ch: int, expand: int, out_ch: int, kernel: int, stride: int,
                 act: str, se: bool, residual: bool) -> None:
        super().__init__()
        self.expand = ConvBNAct(in_ch, expand, 1, act=act) if expand != in_ch else nn.Identity()
        self.depthwise = ConvBNAct(expand, expand, kernel, stride, groups=expand, act=act)
        self.se = SqueezeExcite(expand) if se else nn.Identity()
        self.project = ConvBNAct(expand, out_ch, 1, act=None)
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.project(self.se(self.depthwise(self.expand(x))))
        return x + out if self.residual else out


class DepthwiseSeparable(nn.Module):
    """MobileNetV1 block: kxk depthwise, BN, act, [SE], 1x1 pointwise, BN, act. No residual."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int, act: str,
                 se: bool) -> None:
        super().__init__()
        self.depthwise = ConvBNAct(in_ch, in_ch, kernel, stride, groups=in_ch, act=act)
        self.se = SqueezeExcite(in_ch) if se else nn.Identity()
        self.pointwise = ConvBNAct(in_ch, out_ch, 1, act=act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.se(self.depthwise(x)))


class IdentityBlock(nn.Module):
    """Skip choice: nothing at stride 1 and equal widths, else 1x1 conv (stride) + BN, no act.

    The downsampling form is NAS-Bench-Macro's (Su et al. 2021, ``train/model.py``), so our
    params and MACs of its networks match the benchmark's records.
    """

    def __init__(self, in_ch: int, out_ch: int, stride: int) -> None:
        super().__init__()
        noop = stride == 1 and in_ch == out_ch
        self.downsample = nn.Identity() if noop else ConvBNAct(in_ch, out_ch, 1, stride, act=None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x)
