"""MACs and parameters of an architecture, counted by fvcore, part by part, with a cache.

What is counted:

* ``macs``: multiply-accumulates of convolutions and linear layers, SE's 1x1 convs included,
  with batch norm folded into the conv (it costs nothing at inference). This is the convention of
  the MobileNet papers and torchvision's "GFLOPS" (V3-Large 217-219M, V2 300M).
* ``elementwise``: one op per output element of the work fvcore calls unsupported or skips:
  batch norm when not folded, activations (ReLU, ReLU6, h-swish, hard sigmoid), the SE scaling
  multiply, residual adds and average pooling. Reported apart so MACs stay comparable with the
  literature while the extra work of h-swish and SE stays visible.
* ``params``: every trainable parameter (BN's affine weights included), as torchvision counts.

A network is cut into parts (stem, each block, head conv, pool, features, classifier); each part
is traced once per shape and cached, so scoring a sampled candidate is a few dict look-ups.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass
from functools import cache

import torch
from torch import nn

with warnings.catch_warnings():  # fvcore's import scripts a loss with deprecated torch.jit
    warnings.simplefilter("ignore")
    from fvcore.nn import FlopCountAnalysis

from nas.arch.spec import ArchSpec, BlockSpec
from nas.model.blocks import ConvBNAct, activation
from nas.model.build import adapted_strides, build_block

MAC_OPERATORS = ("conv", "linear")
ELEMENTWISE_OPS = (
    "aten::relu_", "aten::relu", "aten::hardtanh_", "aten::hardtanh", "aten::hardswish_",
    "aten::hardswish", "aten::hardsigmoid_", "aten::hardsigmoid", "aten::mul", "aten::add",
    "aten::add_", "aten::batch_norm", "aten::adaptive_avg_pool2d",
)

logging.getLogger("fvcore").setLevel(logging.ERROR)


@dataclass(frozen=True)
class Cost:
    macs: int
    params: int
    elementwise: int

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            self.macs + other.macs,
            self.params + other.params,
            self.elementwise + other.elementwise,
        )


@dataclass(frozen=True)
class LayerCost:
    """One row of ``describe``: a part of the network with its input shape and cost."""

    name: str
    operator: str
    input_shape: tuple[int, int, int]
    expand: int | None
    out: int
    se: bool
    act: str
    stride: int
    cost: Cost


def _count_output_elements(inputs, outputs) -> int:
    return math.prod(outputs[0].type().sizes())


def _measure(module: nn.Module, input_shape: tuple[int, ...]) -> Cost:
    module.eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis = FlopCountAnalysis(module, torch.zeros(1, *input_shape))
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        analysis.tracer_warnings("none")
        for op in ELEMENTWISE_OPS:
            analysis.set_op_handle(op, _count_output_elements)
        by_operator = analysis.by_operator()
    macs = sum(by_operator.get(op, 0) for op in MAC_OPERATORS)
    elementwise = sum(v for k, v in by_operator.items() if k not in MAC_OPERATORS)
    params = sum(p.numel() for p in module.parameters())
    return Cost(int(macs), int(params), int(elementwise))


@cache
def stem_cost(stem, in_channels: int, size: int, stride: int) -> Cost:
    return _measure(ConvBNAct(in_channels, stem.out, stem.kernel, stride, act=stem.act),
                    (in_channels, size, size))


@cache
def block_cost(block: BlockSpec, in_channels: int, size: int, stride: int) -> Cost:
    return _measure(build_block(block, in_channels, stride), (in_channels, size, size))


@cache
def head_conv_cost(in_channels: int, out: int, act: str, size: int) -> Cost:
    return _measure(ConvBNAct(in_channels, out, 1, act=act), (in_channels, size, size))


@cache
def pool_cost(channels: int, size: int) -> Cost:
    return _measure(nn.AdaptiveAvgPool2d(1), (channels, size, size))


@cache
def linear_cost(in_features: int, out_features: int, act: str | None) -> Cost:
    layers = [nn.Linear(in_features, out_features)] + ([activation(act)] if act else [])
    return _measure(nn.Sequential(*layers), (in_features,))


def layer_costs(spec: ArchSpec, num_classes: int = 1000, resolution: int | None = None,
                in_channels: int = 3) -> list[LayerCost]:
    """Per-part cost of ``spec`` at ``resolution`` (default: the spec's own) and ``num_classes``
    (a spec that fixes its class count, a benchmark's network, is costed at its own)."""
    resolution = resolution or spec.resolution
    num_classes = spec.num_classes(num_classes)
    strides = adapted_strides(spec, resolution)
    stem, head = spec.stem, spec.head
    size = resolution
    rows = [LayerCost("stem", f"conv2d {stem.kernel}x{stem.kernel}", (in_channels, size, size),
                      None, stem.out, False, stem.act, strides[0],
                      stem_cost(stem, in_channels, size, strides[0]))]
    size = math.ceil(size / strides[0])
    for index, (block, in_ch, stride) in enumerate(
        zip(spec.blocks, spec.in_channels(), strides[1:])
    ):
        operator = f"{block.kind} {block.kernel}x{block.kernel}" if block.kind != "id" \
            else "identity"
        rows.append(LayerCost(f"blocks.{index}", operator, (in_ch, size, size), block.expand,
                              block.out, block.se, block.act, stride,
                              block_cost(block, in_ch, size, stride)))
        size = math.ceil(size / stride)
    channels = spec.blocks[-1].out
    if head.conv:
        rows.append(LayerCost("head", "conv2d 1x1", (channels, size, size), None, head.conv,
                              False, head.act, 1, head_conv_cost(channels, head.conv, head.act,
                                                                  size)))
        channels = head.conv
    rows.append(LayerCost("pool", "avgpool", (channels, size, size), None, channels, False, "-",
                          1, pool_cost(channels, size)))
    if head.features:
        rows.append(LayerCost("features", "linear", (channels, 1, 1), None, head.features, False,
                              head.act, 1, linear_cost(channels, head.features, head.act)))
        channels = head.features
    rows.append(LayerCost("classifier", "linear", (channels, 1, 1), None, num_classes, False, "-",
                          1, linear_cost(channels, num_classes, None)))
    return rows


def arch_cost(spec: ArchSpec, num_classes: int = 1000, resolution: int | None = None) -> Cost:
    """Total cost at the deployment setting: by default the spec's resolution and 1000 classes,
    or the spec's own class count when it fixes one."""
    total = Cost(0, 0, 0)
    for row in layer_costs(spec, num_classes, resolution):
        total = total + row.cost
    return total
