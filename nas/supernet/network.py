"""``Supernet``: every network of a block-wise ``SearchSpace`` in one set of shared weights.

Weight sharing in the manner of Once-for-All (Cai et al. 2020) and BigNAS (Yu et al. 2020):
the supernet is the space's largest network built from elastic blocks (``elastic.py``); a
candidate is a configuration of it. Elastic depth runs the first k blocks of a stage; widths,
kernels, SE and activations are as ``elastic.py`` says. ``set_active(spec)`` configures the
forward pass for a candidate; ``subnet(spec)`` returns the candidate as an ordinary
``build_model`` network carrying the inherited slices of the weights and BN statistics, so
cost, latency, training, export and NetAdapt see a plain network.

The supernet is built for the proxy dataset (its input channels, classes and resolution) with
the strides ``build_model`` adapts for small inputs, taken from ``adapted_strides`` per
candidate. Spaces of whole-block ops (NAS-Bench-Macro) are not supported yet.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nas.arch import ArchSpec, SearchSpace, expansion_width
from nas.errors import NasError
from nas.model import adapted_strides, build_model
from nas.model.build import _init_weights
from nas.supernet.elastic import ACTIVATIONS, ElasticConvBNAct, ElasticInvertedResidual


class UnsupportedSpaceError(NasError):
    """A space the supernet cannot hold (whole-block ops, say)."""


def _block_plan(space: SearchSpace) -> list[dict]:
    """Per block of the largest network: stage, index in stage, largest widths, kernel, SE."""
    plan, previous = [], tuple(space.stem_width)
    for stage_index, stage in enumerate(space.stages):
        for j in range(max(stage.depth)):
            inputs = previous if j == 0 else stage.width
            widths = [expansion_width(i, r) for i in inputs for r in stage.expand]
            plan.append({"stage": stage_index, "index": j, "in_max": max(inputs),
                         "expand_max": max(widths), "out_max": max(stage.width),
                         "kernel_max": max(stage.kernel), "has_se": True in stage.se,
                         "needs_expand": any(expansion_width(i, r) != i
                                             for i in inputs for r in stage.expand)})
        previous = tuple(stage.width)
    return plan


class Supernet(nn.Module):
    """The largest network of ``space`` made elastic, for ``num_classes`` classes of
    ``in_channels``-channel images at ``resolution``."""

    def __init__(self, space: SearchSpace, *, num_classes: int, resolution: int,
                 in_channels: int = 3) -> None:
        super().__init__()
        if any(stage.ops for stage in space.stages):
            raise UnsupportedSpaceError(f"a supernet of space {space.name!r} (whole-block ops, "
                                        "NAS-Bench-Macro style) is not supported yet; give a "
                                        "block-wise space such as mobilenet_v3_small")
        self.space, self.num_classes = space, num_classes
        self.resolution, self.in_channels = resolution, in_channels
        self.stem = ElasticConvBNAct(in_channels, max(space.stem_width), 3)
        self.plan = _block_plan(space)
        self.blocks = nn.ModuleList(
            ElasticInvertedResidual(p["in_max"], p["expand_max"], p["out_max"], p["kernel_max"],
                                    needs_expand=p["needs_expand"], has_se=p["has_se"])
            for p in self.plan)
        last = max(space.stages[-1].width)
        conv, features = max(space.head_conv), max(space.head_features)
        self.head = ElasticConvBNAct(last, conv, 1) if conv else None
        self.features = nn.Sequential(nn.Linear(conv or last, features)) if features else None
        self.classifier = nn.Linear(max(features, conv, last), num_classes)
        _init_weights(self)
        self.active: ArchSpec | None = None
        self._active_blocks: list[int] = []
        self.set_active(self.largest())

    # --- the space's corners --------------------------------------------------------------
    def largest(self) -> ArchSpec:
        from nas.yardstick.selection import CORNERS, corner

        return corner(self.space, CORNERS["largest"])

    def smallest(self) -> ArchSpec:
        from nas.yardstick.selection import CORNERS, corner

        return corner(self.space, CORNERS["smallest"])

    # --- configuration --------------------------------------------------------------------
    def set_active(self, spec: ArchSpec) -> None:
        """Configure the forward pass as ``spec``; NotInSpaceError (one line) when the space
        cannot express it."""
        params = self.space.encode(spec)
        strides = adapted_strides(spec, self.resolution)
        self.stem.out, self.stem.act, self.stem.stride = spec.stem.out, spec.stem.act, strides[0]
        first = [i for i, p in enumerate(self.plan) if p["index"] == 0]
        active, position = [], 0
        for stage_index, stage in enumerate(self.space.stages):
            depth = params.get(f"s{stage_index}_depth", stage.depth[0])
            for j in range(depth):
                block, flat = spec.blocks[position], first[stage_index] + j
                self.blocks[flat].set_active(expand=block.expand, out=block.out,
                                             kernel=block.kernel, se=block.se, act=block.act,
                                             stride=strides[1 + position])
                active.append(flat)
                position += 1
        if self.head is not None:
            self.head.out, self.head.act = spec.head.conv, spec.head.act
        self.active, self._active_blocks = spec, active

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spec = self.active
        x = self.stem(x)
        for flat in self._active_blocks:
            x = self.blocks[flat](x)
        if spec.head.conv:
            x = self.head(x)
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        if spec.head.features:
            linear = self.features[0]
            x = ACTIVATIONS[spec.head.act](F.linear(x, linear.weight[:spec.head.features,
                                                                     :x.shape[1]],
                                                    linear.bias[:spec.head.features]))
        return F.linear(x, self.classifier.weight[:, :x.shape[1]], self.classifier.bias)

    # --- extraction -----------------------------------------------------------------------
    def subnet(self, spec: ArchSpec) -> nn.Module:
        """``spec`` as a ``build_model`` network with the inherited weights and BN buffers
        (on the supernet's device, in its train/eval mode)."""
        self.set_active(spec)
        reference = next(self.parameters())
        model = build_model(spec, self.num_classes, resolution=self.resolution,
                            in_channels=self.in_channels).to(reference.device)
        source = self.state_dict()
        with torch.no_grad():
            for name, target in model.state_dict().items():
                target.copy_(_inherit(source[self._source_name(name)], target.shape))
        return model.train(self.training)

    def _source_name(self, name: str) -> str:
        """A built network's tensor name -> the supernet's (``blocks.<n>`` counts active
        blocks there, all blocks here)."""
        if not name.startswith("blocks."):
            return name
        _, index, rest = name.split(".", 2)
        return f"blocks.{self._active_blocks[int(index)]}.{rest}"


def _inherit(source: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """Leading channels along the first two dimensions, the centre along spatial ones."""
    index = []
    for dim, (have, want) in enumerate(zip(source.shape, shape)):
        if want > have:
            raise NasError(f"cannot inherit a {tuple(shape)} tensor from {tuple(source.shape)}")
        start = (have - want) // 2 if dim >= 2 else 0
        index.append(slice(start, start + want))
    return source[tuple(index)]
