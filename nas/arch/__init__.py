"""Architectures as pure data (no torch): specs, their string and JSON forms, presets, spaces."""

from nas.arch.channels import make_divisible
from nas.arch.codec import decode, encode
from nas.arch.presets import PRESETS, resolve_arch
from nas.arch.space import SearchSpace, StageChoices, expansion_width
from nas.arch.spec import ArchSpec, BlockSpec, HeadSpec, StemSpec

__all__ = [
    "ArchSpec",
    "BlockSpec",
    "HeadSpec",
    "PRESETS",
    "SearchSpace",
    "StageChoices",
    "StemSpec",
    "decode",
    "encode",
    "expansion_width",
    "make_divisible",
    "resolve_arch",
]
