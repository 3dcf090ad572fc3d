"""The published MobileNets, exact to the papers and to torchvision's reference code.

* MobileNetV1: Howard et al. 2017, "MobileNets", Table 1 (width multiplier alpha,
  resolution multiplier rho through ``resolution``).
* MobileNetV2: Sandler et al. 2018, "MobileNetV2", Table 2 (t, c, n, s), ReLU6, head 1280
  kept at 1280 for width < 1 as torchvision does.
* MobileNetV3-Large/-Small: Howard et al. 2019, "Searching for MobileNetV3", Tables 1 and 2,
  with torchvision's width rounding; the minimalistic variants drop SE, h-swish and 5x5 kernels
  as in the released TF-slim models.
* ``mobilenet_v3_large_tf`` / ``mobilenet_v3_small_tf``: the width rule of the released TF-slim
  checkpoints (tensorflow/models ``research/slim/nets/mobilenet/mobilenet_v3.py``), whose
  latencies the MobileNetV3 paper reports: expansion = the *rounded* scaled input width times the
  layer's factor (``expand_input_by_factor``), and the last layer kept at 1280/1024 for
  width < 1 (``finegrain_classification_mode``). Identical to the torchvision presets at
  width 1.0; at 0.75 they match the paper's Table 3 (155M/4.0M, 44M/2.0M) where torchvision's
  rule gives 140M/3.4M and 39M/1.7M.
* MnasNet-A1: Tan et al. 2019, "MnasNet", Figure 7(a); block list as released in
  tensorflow/tpu ``models/official/mnasnet/mnasnet_models.py`` (``mnasnet_a1``). ReLU throughout.
* MnasNet-small: the same file's ``mnasnet_small`` (stem 8, head 1280), the network the
  MobileNetV3 paper compares against (Howard et al. 2019, Table 3).
* ProxylessNAS mobile: Cai et al. 2019, "ProxylessNAS"; the released ``proxyless_mobile.config``
  of mit-han-lab/proxylessnas (20 MBConv blocks, its two zero ops dropped, ReLU6, head 1280).

MnasNet's squeeze-and-excite differs from the space's (MobileNetV3's): its squeeze width is a
quarter of the block's *input* width and its gate a sigmoid. Here every SE is MobileNetV3's
(a quarter of the expansion width rounded to 8, hard sigmoid): MACs barely change (+0.4% for
MnasNet-A1) but parameters grow (MnasNet-A1 5.14M instead of 3.89M, MnasNet-small 2.38M instead
of 2.03M); ``tests/arch/test_presets_pixel.py`` checks the counts with that difference taken
out. MnasNet-small's first block (8 to 8 channels, stride 1) gets a residual add here that the
release leaves out (its block string says 16 input channels); an add of 8x112x112 values.

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

# MnasNet / ProxylessNAS blocks: (kernel, expansion ratio, output channels, SE, stride).
_MNASNET_A1 = [(3, 1, 16, False, 1)]
_MNASNET_A1 += [(3, 6, 24, False, 2), (3, 6, 24, False, 1)]
_MNASNET_A1 += [(5, 3, 40, True, 2)] + [(5, 3, 40, True, 1)] * 2
_MNASNET_A1 += [(3, 6, 80, False, 2)] + [(3, 6, 80, False, 1)] * 3
_MNASNET_A1 += [(3, 6, 112, True, 1)] * 2
_MNASNET_A1 += [(5, 6, 160, True, 2)] + [(5, 6, 160, True, 1)] * 2
_MNASNET_A1 += [(3, 6, 320, False, 1)]
_MNASNET_SMALL = [(3, 1, 8, False, 1), (3, 3, 16, False, 2)]
_MNASNET_SMALL += [(3, 6, 16, False, 2), (3, 6, 16, False, 1)]
_MNASNET_SMALL += [(5, 6, 32, True, 2)] + [(5, 6, 32, True, 1)] * 3
_MNASNET_SMALL += [(3, 6, 32, True, 1)] * 3
_MNASNET_SMALL += [(5, 6, 88, True, 2)] + [(5, 6, 88, True, 1)] * 2
_MNASNET_SMALL += [(3, 6, 144, False, 1)]
_PROXYLESS_MOBILE = [(3, 1, 16, False, 1), (5, 3, 32, False, 2), (3, 3, 32, False, 1)]
_PROXYLESS_MOBILE += [(7, 3, 40, False, 2), (3, 3, 40, False, 1)] + [(5, 3, 40, False, 1)] * 2
_PROXYLESS_MOBILE += [(7, 6, 80, False, 2)] + [(5, 3, 80, False, 1)] * 3
_PROXYLESS_MOBILE += [(5, 6, 96, False, 1)] + [(5, 3, 96, False, 1)] * 3
_PROXYLESS_MOBILE += [(7, 6, 192, False, 2), (7, 6, 192, False, 1)] + [(7, 3, 192, False, 1)] * 2
_PROXYLESS_MOBILE += [(7, 6, 320, False, 1)]


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


def _mobilenet_v3_tf(table, last_features: int, width: float, resolution: int) -> ArchSpec:
    """TF-slim's width rule: expansion factor times the rounded input; last layer unscaled."""
    base = _mobilenet_v3(table, last_features, 1.0, resolution, minimal=False)
    stem = dataclasses.replace(base.stem, out=make_divisible(base.stem.out * width))
    blocks, in_channels, raw_in = [], stem.out, base.stem.out
    for block in base.blocks:
        out = make_divisible(block.out * width)
        expand = make_divisible(in_channels * block.expand / raw_in)
        blocks.append(dataclasses.replace(block, expand=expand, out=out))
        in_channels, raw_in = out, block.out
    head = HeadSpec(conv=make_divisible(base.head.conv * width),
                    features=make_divisible(last_features * max(1.0, width)), act="hswish")
    return ArchSpec(stem, tuple(blocks), head, resolution)


def mobilenet_v3_large(width: float = 1.0, resolution: int = 224) -> ArchSpec:
    return _mobilenet_v3(_V3_LARGE, 1280, width, resolution, minimal=False)


def mobilenet_v3_small(width: float = 1.0, resolution: int = 224) -> ArchSpec:
    return _mobilenet_v3(_V3_SMALL, 1024, width, resolution, minimal=False)


def mobilenet_v3_large_tf(width: float = 1.0, resolution: int = 224) -> ArchSpec:
    return _mobilenet_v3_tf(_V3_LARGE, 1280, width, resolution)


def mobilenet_v3_small_tf(width: float = 1.0, resolution: int = 224) -> ArchSpec:
    return _mobilenet_v3_tf(_V3_SMALL, 1024, width, resolution)


def mobilenet_v3_large_minimal(width: float = 1.0, resolution: int = 224) -> ArchSpec:
    return _mobilenet_v3(_V3_LARGE, 1280, width, resolution, minimal=True)


def mobilenet_v3_small_minimal(width: float = 1.0, resolution: int = 224) -> ArchSpec:
    return _mobilenet_v3(_V3_SMALL, 1024, width, resolution, minimal=True)


def _mbconv_net(table, stem: int, act: str, width: float, resolution: int) -> ArchSpec:
    """MnasNet/ProxylessNAS-style network: expansion ratios of the block input, head 1280."""
    stem_spec = StemSpec(out=make_divisible(stem * width), act=act, kernel=3, stride=2)
    blocks, in_channels = [], stem_spec.out
    for kernel, ratio, out, se, stride in table:
        out = make_divisible(out * width)
        blocks.append(BlockSpec("ir", kernel, in_channels * ratio, out, se, act, stride))
        in_channels = out
    head = HeadSpec(conv=make_divisible(1280 * max(1.0, width)), features=0, act=act)
    return ArchSpec(stem_spec, tuple(blocks), head, resolution)


def mnasnet_a1(width: float = 1.0, resolution: int = 224) -> ArchSpec:
    return _mbconv_net(_MNASNET_A1, 32, "relu", width, resolution)


def mnasnet_small(width: float = 1.0, resolution: int = 224) -> ArchSpec:
    return _mbconv_net(_MNASNET_SMALL, 8, "relu", width, resolution)


def proxylessnas_mobile(width: float = 1.0, resolution: int = 224) -> ArchSpec:
    return _mbconv_net(_PROXYLESS_MOBILE, 32, "relu6", width, resolution)


PRESETS: dict[str, Callable[..., ArchSpec]] = {
    "mobilenet_v1": mobilenet_v1,
    "mobilenet_v2": mobilenet_v2,
    "mobilenet_v3_large": mobilenet_v3_large,
    "mobilenet_v3_small": mobilenet_v3_small,
    "mobilenet_v3_large_minimal": mobilenet_v3_large_minimal,
    "mobilenet_v3_small_minimal": mobilenet_v3_small_minimal,
    "mobilenet_v3_large_tf": mobilenet_v3_large_tf,
    "mobilenet_v3_small_tf": mobilenet_v3_small_tf,
    "mnasnet_a1": mnasnet_a1,
    "mnasnet_small": mnasnet_small,
    "proxylessnas_mobile": proxylessnas_mobile,
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
