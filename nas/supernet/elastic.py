"""Elastic versions of ``nas/model``'s blocks: one set of weights, many widths and kernels.

Each module holds the weights of its largest configuration and computes a smaller one from
slices of them, as Once-for-All (Cai et al. 2020) and BigNAS (Yu et al. 2020) do:

* widths (expansion, stage width, stem, head): the *leading* channels of every tensor, which is
  what ``nas.netadapt.inherit`` also keeps, so a residual chain's channels stay aligned;
* kernel: the centre of the largest kernel (OFA adds a learned kernel transform on top; not
  here until it is shown to help);
* SE: on or off per block, its squeeze width following the active expansion as
  ``nas.model.blocks.se_width`` does;
* activation: relu / relu6 / hswish chosen per layer (no weights, so nothing to slice).

Input widths are read from the incoming tensor; output widths, kernel, stride and activation
are set by ``Supernet.set_active``. Submodule names are those of ``nas/model/blocks.py``
(``expand.conv``, ``depthwise.bn``, ``se.reduce``, ...), so a built network's tensors map onto
the supernet's by name (``Supernet.subnet``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nas.model.blocks import se_width

ACTIVATIONS = {"relu": F.relu, "relu6": F.relu6, "hswish": F.hardswish}


def centre(weight: torch.Tensor, kernel: int) -> torch.Tensor:
    """The central ``kernel`` x ``kernel`` window of a conv weight's spatial dimensions."""
    offset = (weight.shape[-1] - kernel) // 2
    return weight[..., offset:offset + kernel, offset:offset + kernel]


class ElasticBatchNorm2d(nn.BatchNorm2d):
    """Batch norm over the leading channels of its largest width: the statistics and affine
    parameters of a narrower input are slices (views) of the full ones, so training updates the
    shared running averages in place. Same momentum rule as ``nn.BatchNorm2d``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels = x.shape[1]
        if channels == self.num_features:
            return super().forward(x)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            factor = 1.0 / float(self.num_batches_tracked) if self.momentum is None \
                else self.momentum
        return F.batch_norm(x, self.running_mean[:channels], self.running_var[:channels],
                            self.weight[:channels], self.bias[:channels], self.training, factor,
                            self.eps)


class ElasticConvBNAct(nn.Module):
    """``ConvBNAct`` at its largest (``in_max`` -> ``out_max``, ``kernel_max``); active output
    width, kernel, stride and activation are attributes. A depthwise layer's width is its
    input's."""

    def __init__(self, in_max: int, out_max: int, kernel_max: int, *, depthwise: bool = False,
                 act: str | None = "relu") -> None:
        super().__init__()
        groups = out_max if depthwise else 1
        self.conv = nn.Conv2d(in_max, out_max, kernel_max, 1, kernel_max // 2, groups=groups,
                              bias=False)
        self.bn = ElasticBatchNorm2d(out_max)
        self.depthwise = depthwise
        self.out = out_max
        self.kernel = kernel_max
        self.stride = 1
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels = x.shape[1]
        weight = centre(self.conv.weight, self.kernel)
        if self.depthwise:
            weight, groups = weight[:channels], channels
        else:
            weight, groups = weight[:self.out, :channels], 1
        x = self.bn(F.conv2d(x, weight, None, self.stride, self.kernel // 2, 1, groups))
        return ACTIVATIONS[self.act](x) if self.act else x


class ElasticSqueezeExcite(nn.Module):
    """``SqueezeExcite`` at its largest width; a narrower input uses the leading
    ``se_width(channels)`` squeeze channels."""

    def __init__(self, channels_max: int) -> None:
        super().__init__()
        squeezed = se_width(channels_max)
        self.reduce = nn.Conv2d(channels_max, squeezed, 1)
        self.expand = nn.Conv2d(squeezed, channels_max, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels = x.shape[1]
        squeezed = se_width(channels)
        scale = F.adaptive_avg_pool2d(x, 1)
        scale = F.relu(F.conv2d(scale, self.reduce.weight[:squeezed, :channels],
                                self.reduce.bias[:squeezed]))
        scale = F.conv2d(scale, self.expand.weight[:channels, :squeezed],
                         self.expand.bias[:channels])
        return x * F.hardsigmoid(scale)


class ElasticInvertedResidual(nn.Module):
    """``InvertedResidual`` at its largest. Active: ``expand_width``, ``kernel``, ``se``,
    ``act``, ``stride``, ``out``. As in ``build_model``, there is no expansion conv when the
    expansion width equals the input width, and a residual when the stride is 1 and the input
    and output widths agree."""

    def __init__(self, in_max: int, expand_max: int, out_max: int, kernel_max: int, *,
                 needs_expand: bool, has_se: bool) -> None:
        super().__init__()
        self.expand = ElasticConvBNAct(in_max, expand_max, 1) if needs_expand else None
        self.depthwise = ElasticConvBNAct(expand_max, expand_max, kernel_max, depthwise=True)
        self.se = ElasticSqueezeExcite(expand_max) if has_se else None
        self.project = ElasticConvBNAct(expand_max, out_max, 1, act=None)
        self.expand_width = expand_max
        self.use_se = has_se

    def set_active(self, *, expand: int, out: int, kernel: int, se: bool, act: str,
                   stride: int) -> None:
        if self.expand is not None:
            self.expand.out, self.expand.act = expand, act
        self.expand_width = expand
        self.depthwise.kernel, self.depthwise.stride, self.depthwise.act = kernel, stride, act
        self.use_se = se
        self.project.out = out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels = x.shape[1]
        out = x if self.expand_width == channels else self.expand(x)
        out = self.depthwise(out)
        if self.use_se:
            out = self.se(out)
        out = self.project(out)
        residual = self.depthwise.stride == 1 and channels == self.project.out
        return x + out if residual else out
