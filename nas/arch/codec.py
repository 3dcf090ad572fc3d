"""The compact string form of an architecture, in the spirit of timm's block strings.

Segments are joined by ``-``; tokens inside a segment by ``_``::

    stem_k3_c16_hs_s2-ir_k3_e1_c16_re-ir_k3_e4_c24_re_s2-...-head_c960_f1280_hs-res224

``stem``/``ir``/``ds``/``id``/``head`` open a segment; ``k`` kernel, ``e`` expansion ratio
(expansion width = round(input width x ratio)), ``x`` expansion width in channels, ``c`` output
channels, ``s`` stride (1 when absent), ``se`` squeeze-and-excite, ``re``/``r6``/``hs`` ReLU,
ReLU6, h-swish, ``f`` the head's pre-classifier width, ``res`` the input resolution, ``cls`` the
class count of a network that fixes it (absent for every MobileNet). An identity block has only
its width and stride (``id_c64_s2``): it has no kernel, expansion, SE or activation to name.
The encoder writes ``e`` when the expansion is a whole multiple of the input width, ``x``
otherwise, so ``decode(encode(spec)) == spec`` for every spec. Decoding (text to spec) is
kept apart from building (spec to module), as timm does.
"""

from __future__ import annotations

import re

from nas.arch.spec import ArchSpec, BlockSpec, HeadSpec, StemSpec
from nas.errors import ArchParseError

ACT_TOKENS = {"re": "relu", "r6": "relu6", "hs": "hswish"}
TOKEN_OF_ACT = {name: token for token, name in ACT_TOKENS.items()}
_TOKEN = re.compile(r"^([a-z]+?)(\d+(?:\.\d+)?)?$")


def _fmt_ratio(value: float) -> str:
    return f"{value:g}"


def encode_stem(stem: StemSpec) -> str:
    parts = ["stem", f"k{stem.kernel}", f"c{stem.out}", TOKEN_OF_ACT[stem.act]]
    if stem.stride != 1:
        parts.append(f"s{stem.stride}")
    return "_".join(parts)


def encode_block(block: BlockSpec, in_channels: int) -> str:
    if block.kind == "id":
        return "_".join(["id", f"c{block.out}"] + ([f"s{block.stride}"] if block.stride != 1
                                                    else []))
    parts = [block.kind, f"k{block.kernel}"]
    if block.kind == "ir":
        whole = block.expand % in_channels == 0
        parts.append(f"e{block.expand // in_channels}" if whole else f"x{block.expand}")
    parts.append(f"c{block.out}")
    if block.se:
        parts.append("se")
    parts.append(TOKEN_OF_ACT[block.act])
    if block.stride != 1:
        parts.append(f"s{block.stride}")
    return "_".join(parts)


def encode_head(head: HeadSpec) -> str:
    parts = ["head"]
    if head.conv:
        parts.append(f"c{head.conv}")
    if head.features:
        parts.append(f"f{head.features}")
    parts.append(TOKEN_OF_ACT[head.act])
    return "_".join(parts)


def encode(spec: ArchSpec) -> str:
    segments = [encode_stem(spec.stem)]
    for in_channels, block in zip(spec.in_channels(), spec.blocks):
        segments.append(encode_block(block, in_channels))
    segments.append(encode_head(spec.head))
    segments.append(f"res{spec.resolution}")
    if spec.classes is not None:
        segments.append(f"cls{spec.classes}")
    return "-".join(segments)


def _parse_tokens(segment: str, numeric: dict[str, str], se_allowed: bool = False) -> dict:
    """Split a segment's tokens into {field: raw value}; ``numeric`` maps prefix to field."""
    fields: dict[str, str] = {}
    for token in segment.split("_")[1:]:
        if token in ACT_TOKENS:
            key, value = "act", ACT_TOKENS[token]
        elif token == "se" and se_allowed:
            key, value = "se", "1"
        else:
            match = _TOKEN.match(token)
            if not match or match.group(1) not in numeric or match.group(2) is None:
                raise ArchParseError(f"bad token {token!r} in {segment!r}")
            key, value = numeric[match.group(1)], match.group(2)
        if key in fields:
            raise ArchParseError(f"token {token!r} repeats a setting in {segment!r}")
        fields[key] = value
    return fields


def _int(fields: dict[str, str], key: str, segment: str, default: int | None = None) -> int:
    if key not in fields:
        if default is None:
            raise ArchParseError(f"{segment!r} is missing its {key} token")
        return default
    value = float(fields[key])
    if not value.is_integer():
        raise ArchParseError(f"{key} must be a whole number in {segment!r}")
    return int(value)


def _require_act(fields: dict[str, str], segment: str) -> str:
    if "act" not in fields:
        raise ArchParseError(f"{segment!r} is missing its activation (re, r6 or hs)")
    return fields["act"]


def decode_stem(segment: str) -> StemSpec:
    fields = _parse_tokens(segment, {"k": "kernel", "c": "out", "s": "stride"})
    return StemSpec(
        out=_int(fields, "out", segment),
        act=_require_act(fields, segment),
        kernel=_int(fields, "kernel", segment, 3),
        stride=_int(fields, "stride", segment, 1),
    )


def decode_identity(segment: str, in_channels: int) -> BlockSpec:
    fields = _parse_tokens(segment, {"c": "out", "s": "stride"})
    return BlockSpec(kind="id", kernel=1, expand=in_channels, out=_int(fields, "out", segment),
                     stride=_int(fields, "stride", segment, 1))


def decode_block(segment: str, in_channels: int) -> BlockSpec:
    kind = segment.split("_")[0]
    if kind == "id":
        return decode_identity(segment, in_channels)
    numeric = {"k": "kernel", "c": "out", "s": "stride"}
    if kind == "ir":
        numeric |= {"e": "ratio", "x": "expand"}
    fields = _parse_tokens(segment, numeric, se_allowed=True)
    if kind == "ir":
        if ("ratio" in fields) == ("expand" in fields):
            raise ArchParseError(f"{segment!r} needs exactly one of e<ratio> or x<channels>")
        expand = (
            round(in_channels * float(fields["ratio"]))
            if "ratio" in fields
            else _int(fields, "expand", segment)
        )
    else:
        expand = in_channels
    return BlockSpec(
        kind=kind,
        kernel=_int(fields, "kernel", segment),
        expand=expand,
        out=_int(fields, "out", segment),
        se="se" in fields,
        act=_require_act(fields, segment),
        stride=_int(fields, "stride", segment, 1),
    )


def decode_head(segment: str) -> HeadSpec:
    fields = _parse_tokens(segment, {"c": "conv", "f": "features"})
    return HeadSpec(
        conv=_int(fields, "conv", segment, 0),
        features=_int(fields, "features", segment, 0),
        act=_require_act(fields, segment),
    )


def decode(text: str) -> ArchSpec:
    """Parse an architecture string; raise ``ArchParseError`` naming the bad part."""
    segments = [s for s in text.strip().split("-") if s]
    if not segments or not segments[0].startswith("stem"):
        raise ArchParseError(f"an architecture string starts with a stem segment, got {text!r}")
    stem = _decode_segment(decode_stem, segments[0])
    resolution, classes, head, blocks = None, None, None, []
    in_channels = stem.out
    for segment in segments[1:]:
        kind = segment.split("_")[0]
        if kind in ("ir", "ds", "id"):
            if head is not None or resolution is not None:
                raise ArchParseError(f"block {segment!r} comes after the head or resolution")
            block = _decode_segment(decode_block, segment, in_channels)
            blocks.append(block)
            in_channels = block.out
        elif kind == "head" and head is None and resolution is None:
            head = _decode_segment(decode_head, segment)
        elif re.fullmatch(r"res\d+", segment) and resolution is None:
            resolution = int(segment[3:])
        elif re.fullmatch(r"cls\d+", segment) and resolution is not None and classes is None:
            classes = int(segment[3:])
        else:
            raise ArchParseError(f"unexpected segment {segment!r} (expected ir_, ds_, id_, then "
                                 "one head_, one res<N> and an optional cls<N>)")
    head = head or HeadSpec()
    resolution = resolution or 224
    try:
        return ArchSpec(stem=stem, blocks=tuple(blocks), head=head, resolution=resolution,
                        classes=classes)
    except ArchParseError as error:
        raise ArchParseError(f"{error} (in {text!r})") from None


def _decode_segment(decoder, segment: str, *args):
    try:
        return decoder(segment, *args)
    except ArchParseError as error:
        if repr(segment) in str(error):
            raise
        raise ArchParseError(f"{error} (in segment {segment!r})") from None
