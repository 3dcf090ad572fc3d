"""The published MobileNets, exact to the papers and to torchvision's reference code.

* MobileNetV1: Howard et al. 2017, "MobileNets", Table 1 (width multiplier alpha,
  resolution multiplier rho through ``resolution``).
* MobileNetV2: Sandler et al. 2018, "MobileNetV2", Table 2 (t, c, n, s), ReLU6, head 1280
  kept at 1280 for width < 1 as torchvision does.
* MobileNetV3-Large/-Small: Howard et al. 2019, "Searching for MobileNetV3", Tables 1 and 2,
  with torchvision's width rounding; the minimalistic variants drop SE, h-swish and 5x5 kernels
  as in the released TF-slim models.

Each preset is a function ``(width=1.0, resolution=224) -> ArchSpec``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from nas.arch.channels import make_divisible
from nas.arch.codec import decode
from nas.arch.spec import ArchSpec, BlockSpec, HeadSpec, StemSpec
from nas.errors import ArchParseError

# MobileNetV1 depthwise-separable layers: (output channels, stride).
_V1_LAYERS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)]
_V1_LAYERS += [(512, 1)] * 5 + [(1024, 2), (1024, 1)]

# MobileNetV2 bottlenecks: (expansion t, output channels c, repeats n, first stride s).
_V2_STAGES = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1)]
_V2_STAGES += [(6, 160, 3, 2), (6, 320, 1, 1)]

# MobileNetV3 bnecks: (kernel, expansion channels, output channels, SE, activation, stride).
_V3_LARGE = [
    (3, 16, 16, False, "relu", 1),
    (3, 64, 24, False, "relu", 2),
    (3, 72, 24, False, "relu", 1),
    (5, 72, 40, True, "relu", 2),
    (5, 120, 40, True, "relu", 1),
    (5, 120, 40, True, "relu", 1),
    (3, 240, 80, False, "hswish", 2),
    (3, 200, 80, False, "hswish", 1),
    (3, 184, 80, False, "hswish", 1),
    (3, 184, 80, False, "hswish", 1),
    (3, 480, 112, True, "hswish", 1),
    (3, 672, 112, True, "hswish", 1),
    (5, 672, 160, True, "hswish", 2),
    (5, 960, 160, True, "hswish", 1),
    (5, 960, 160, True, "hswish", 1),
]
_V3_SMALL = [
    (3, 16, 16, True, "relu", 2),
    (3, 72, 24, False, "relu", 2),
    (3, 88, 24, False, "relu", 1),
    (5, 96, 40, True, "hswish", 2),
    (5, 240, 40, True, "hswish", 1),
    (5, 240, 40, True, "hswish", 1),
    (5, 120, 48, True, "hswish", 1),
    (5, 144, 48, True, "hswish", 1),
    (5, 288, 96, True, "hswish", 2),
    (5, 576, 96, True, "hswish", 1),
    (5, 576, 96, True, "hswish", 1),
]


def mobilenet_v1(width: float = 1.0, resolution: int = 224) -> ArchSpec:
    stem = StemSpec(out=make_divisible(32 * width), act="relu", kernel=3, stride=2)
    blocks, in_channels = [], stem.out
    for out, stride in _V1_LAYERS:
        out = make_divisible(out * width)
        blocks.append(BlockSpec("ds", 3, in_channels, out, act="relu", stride=stride))
        in_channels = out
    return ArchSpec(stem, tuple(blocks), HeadSpec(conv=0, features=0, act="relu"), resolution)


def mobilenet_v2(width: float = 1.0, resolution: int = 224) -> ArchSpec:
    stem = StemSpec(out=make_divisible(32 * width), act="relu6", kernel=3, stride=2)
    blocks, in_channels = [], stem.out
    for ratio, out, repeats, first_stride in _V2_STAGES:
        out = make_divisible(out * width)
        for index in range(repeats):
            stride = first_stride if index == 0 else 1
            expand = int(round(in_channels * ratio))
            blocks.append(BlockSpec("ir", 3, expand, out, act="relu6", stride=stride))
            in_channels = out
    head = HeadSpec(conv=make_divisible(1280 * max(1.0, width)), features=0, act="relu6")
    return ArchSpec(stem, tuple(blocks), head, resolution)


def _mobilenet_v3(table, last_features: int, width: float, resolution: int, minimal: bool):
    """Build a V3 spec; ``minimal``: 3x3 kernels, no SE, ReLU everywhere."""
    act_of = (lambda act: "relu") if minimal else (lambda act: act)
    stem = StemSpec(out=make_divisible(16 * width), act=act_of("hswish"), kernel=3, stride=2)
    blocks, in_channels = [], stem.out
    for kernel, expand, out, se, act, stride in table:
        block = BlockSpec(
            "ir",
            kernel=3 if minimal else kernel,
            expand=make_divisible(expand * width),
            out=make_divisible(out * width),
            se=se and not minimal,
            act=act_of(act),
            stride=stride,
        )
        blocks.append(block)
        in_channels = block.out
    head = HeadSpec(
        conv=6 * in_channels,
        features=make_divisible(last_features * width),
        act=act_of("hswish"),
    )
    return ArchSpec(stem, tuple(blocks), head, resolution)


def mobilenet_v3_large(width: float = 1.0, resolution: int = 224) -> ArchSpec:
    return _mobilenet_v3(_V3_LARGE, 1280, width, resolution, minimal=False)


def mobilenet_v3_small(width: float = 1.0, resolution: int = 224) -> ArchSpec:
    return _mobilenet_v3(_V3_SMALL, 1024, width, resolution, minimal=False)


def mobilenet_v3_large_minimal(width: float = 1.0, resolution: int = 224) -> ArchSpec:
    return _mobilenet_v3(_V3_LARGE, 1280, width, resolution, minimal=True)


def mobilenet_v3_small_minimal(width: float = 1.0, resolution: int = 224) -> ArchSpec:
    return _mobilenet_v3(_V3_SMALL, 1024, width, resolution, minimal=True)


PRESETS: dict[str, Callable[..., ArchSpec]] = {
    "mobilenet_v1": mobilenet_v1,
    "mobilenet_v2": mobilenet_v2,
    "mobilenet_v3_large": mobilenet_v3_large,
    "mobilenet_v3_small": mobilenet_v3_small,
    "mobilenet_v3_large_minimal": mobilenet_v3_large_minimal,
    "mobilenet_v3_small_minimal": mobilenet_v3_small_minimal,
}


def resolve_arch(text: str, width: float | None = None, resolution: int | None = None) -> ArchSpec:
    """A preset name or an architecture string (or a path to a JSON file) as an ArchSpec.

    ``width`` scales presets only (a decoded string is already concrete);
    ``resolution`` overrides the input resolution of either.
    """
    text = str(text).strip()
    if width is not None and width <= 0:
        raise ArchParseError(f"width must be positive, got {width}")
    if resolution is not None and resolution < 8:
        raise ArchParseError(f"resolution must be >= 8, got {resolution}")
    if text in PRESETS:
        return PRESETS[text](width=width or 1.0, resolution=resolution or 224)
    if text.endswith(".json"):
        spec = _load_json(text)
    elif text.startswith("stem"):
        spec = decode(text)
    else:
        names = ", ".join(PRESETS)
        raise ArchParseError(f"unknown preset {text!r}; presets: {names}; or an arch string")
    if width not in (None, 1.0):
        raise ArchParseError("width= scales presets only; an architecture string is concrete")
    if resolution is not None:
        spec = dataclasses.replace(spec, resolution=resolution)
    return spec


def _load_json(path: str) -> ArchSpec:
    import json
    from pathlib import Path

    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ArchParseError(f"architecture file not found: {path}") from None
    except json.JSONDecodeError as error:
        raise ArchParseError(f"{path} is not valid JSON: {error}") from None
    if isinstance(data, dict) and "arch" in data and isinstance(data["arch"], str):
        return decode(data["arch"])
    if not isinstance(data, dict):
        raise ArchParseError(f"{path} does not hold an architecture object")
    return ArchSpec.from_dict(data)
