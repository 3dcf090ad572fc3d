"""Latency table keys: one entry per network part at its input shape.

A network is cut into parts that are timed alone: the stem, each block (a whole inverted residual
or depthwise-separable block, not its single convs), and the head (last 1x1 conv, pooling,
pre-classifier layer and classifier). Whole blocks predict better than single ops: a sum of
separately timed ops missed whole networks by ~13% on this CPU, a sum of whole blocks by 3-5%
(DESIGN.md), because the time between ops (memory traffic of the expanded tensor, fusion by
ONNX Runtime) belongs to the block. This is the block-level lookup table of ProxylessNAS
(Cai et al. 2019) and FBNet (Wu et al. 2019); nn-Meter (Zhang et al. 2021) splits into fused
kernels for the same reason.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from nas.arch.space import SearchSpace, expansion_width
from nas.arch.spec import ACTIVATIONS, KERNELS, ArchSpec, StemSpec
from nas.errors import NasError

OPS = ("stem", "ir", "ds", "id", "head")


@dataclass(frozen=True, kw_only=True)
class OpKey:
    """Every shape that decides a part's cost. Fields that do not apply to ``op`` stay 0/False.

    ``resolution`` is the part's input height (= width); ``expand`` the expansion width of an
    ``ir`` block (equal to ``in_ch`` when it has no expansion conv); ``features`` and
    ``classes`` describe the head's pre-classifier layer and classifier.
    """

    op: str
    resolution: int
    in_ch: int
    out: int
    expand: int = 0
    kernel: int = 1
    stride: int = 1
    se: bool = False
    act: str = "relu"
    features: int = 0
    classes: int = 0

    def __post_init__(self) -> None:
        checks = [
            (self.op in OPS, f"op must be one of {OPS}, got {self.op!r}"),
            (self.resolution >= 1, f"resolution must be >= 1, got {self.resolution}"),
            (self.in_ch >= 1, f"in_ch must be >= 1, got {self.in_ch}"),
            (self.out >= 0, f"out must be >= 0, got {self.out}"),
            (self.kernel in KERNELS, f"kernel must be one of {KERNELS}, got {self.kernel}"),
            (self.stride in (1, 2), f"stride must be 1 or 2, got {self.stride}"),
            (self.act in ACTIVATIONS, f"act must be one of {ACTIVATIONS}, got {self.act!r}"),
            (self.op != "ir" or self.expand >= 1, "an ir block needs its expansion width"),
            (self.op != "head" or self.classes >= 1, "a head needs its class count"),
        ]
        for ok, message in checks:
            if not ok:
                raise NasError(f"bad op key: {message}")

    @property
    def residual(self) -> bool:
        return self.op == "ir" and self.stride == 1 and self.in_ch == self.out

    @property
    def out_resolution(self) -> int:
        return math.ceil(self.resolution / self.stride)

    def to_row(self) -> dict:
        return asdict(self)

    @classmethod
    def from_row(cls, row) -> OpKey:
        """From a table row (a dict or pandas Series with at least the key's fields)."""
        values = {}
        for f in fields(cls):
            value = row[f.name]
            values[f.name] = _parse_bool(value) if f.type == "bool" else _CASTS[f.type](value)
        return cls(**values)


_CASTS = {"str": str, "int": int}


def _parse_bool(value) -> bool:
    if isinstance(value, str):
        if value not in ("True", "False"):
            raise NasError(f"bad op key: expected True or False, got {value!r}")
        return value == "True"
    return bool(value)


KEY_FIELDS = tuple(f.name for f in fields(OpKey))


def stem_key(stem: StemSpec, resolution: int, stride: int) -> OpKey:
    return OpKey(op="stem", resolution=resolution, in_ch=3, out=stem.out, kernel=stem.kernel,
                 stride=stride, act=stem.act)


def arch_keys(spec: ArchSpec, num_classes: int = 1000) -> tuple[OpKey, ...]:
    """The parts of ``spec`` at its own resolution, in network order, its head at
    ``num_classes`` unless the spec fixes its own class count (a benchmark's network)."""
    num_classes = spec.num_classes(num_classes)
    from nas.model.build import adapted_strides  # torch import only where strides adapt

    strides = adapted_strides(spec, spec.resolution)
    size = spec.resolution
    keys = [stem_key(spec.stem, size, strides[0])]
    size = keys[0].out_resolution
    for block, in_ch, stride in zip(spec.blocks, spec.in_channels(), strides[1:]):
        key = OpKey(op=block.kind, resolution=size, in_ch=in_ch, out=block.out,
                    expand=block.expand, kernel=block.kernel, stride=stride, se=block.se,
                    act=block.act)
        keys.append(key)
        size = key.out_resolution
    head = spec.head
    keys.append(OpKey(op="head", resolution=size, in_ch=spec.blocks[-1].out, out=head.conv,
                      act=head.act, features=head.features, classes=num_classes))
    return tuple(keys)


def space_keys(space: SearchSpace, num_classes: int = 1000) -> list[OpKey]:
    """Every part any network of ``space`` can contain, each once, in network order.

    Follows the space stage by stage with the set of widths that can enter it: a stage's first
    block meets every width of the previous stage (or stem) and its own stride; later blocks
    keep the stage width at stride 1. Depth choices only decide whether later blocks exist.
    """
    keys: dict[OpKey, None] = {}
    size = space.resolution
    for width in space.stem_width:
        for act in space.stem_act:
            key = stem_key(StemSpec(out=width, act=act, stride=space.stem_stride), size,
                           space.stem_stride)
            keys[key] = None
    size = math.ceil(size / space.stem_stride)
    in_widths = space.stem_width
    for stage in space.stages:
        out_size = math.ceil(size / stage.stride)
        for width in stage.width:
            settings = [(w, size, stage.stride, True) for w in in_widths]
            if max(stage.depth) > 1:
                settings.append((width, out_size, 1, False))
            for in_ch, at, stride, first in settings:
                for kind, kernel, ratio, se, act in stage.block_options(first):
                    expand = in_ch if kind == "id" else expansion_width(in_ch, ratio)
                    keys[OpKey(op=kind, resolution=at, in_ch=in_ch, out=width, expand=expand,
                               kernel=kernel, stride=stride, se=se, act=act)] = None
        size, in_widths = out_size, stage.width
    classes = space.classes or num_classes
    for width in in_widths:
        for conv in space.head_conv:
            for features in space.head_features:
                for act in space.head_act:
                    keys[OpKey(op="head", resolution=size, in_ch=width, out=conv, act=act,
                               features=features, classes=classes)] = None
    return list(keys)
