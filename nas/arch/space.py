"""A block-wise search space of MobileNetV3-style networks (Howard et al. 2019, Sec. 5; MnasNet,
Tan et al. 2019, factorized hierarchical space).

Stages are fixed in stride; each stage chooses its depth and width, and each block in it its
kernel, expansion ratio, squeeze-and-excite and activation. The stem chooses width and activation,
the head its widths and activation. ``sample(trial)`` is Optuna define-by-run: the per-block
choices of a stage exist only up to its sampled depth. ``encode(spec)`` is the inverse, so a
network of the space (a reference, say) can be enqueued as trial parameters.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from nas.arch.channels import make_divisible
from nas.arch.spec import ArchSpec, BlockSpec, HeadSpec, StemSpec
from nas.errors import NasError, NotInSpaceError

# A chooser picks one of ``options`` for the named decision; Optuna's trial or a seeded RNG.
Chooser = Callable[[str, Sequence], object]


def _tuple(values, name: str) -> tuple:
    values = tuple(values) if isinstance(values, (list, tuple)) else (values,)
    if not values:
        raise NasError(f"search space: {name} needs at least one option")
    if len(set(values)) != len(values):
        raise NasError(f"search space: {name} lists an option twice: {values}")
    return values


@dataclass(frozen=True)
class StageChoices:
    """Choices of one stage. ``expand`` holds ratios of the block's input width."""

    stride: int
    depth: tuple[int, ...]
    width: tuple[int, ...]
    kernel: tuple[int, ...] = (3, 5, 7)
    expand: tuple[float, ...] = (3, 4, 6)
    se: tuple[bool, ...] = (False, True)
    act: tuple[str, ...] = ("relu", "hswish")

    def __post_init__(self) -> None:
        for name in ("depth", "width", "kernel", "expand", "se", "act"):
            object.__setattr__(self, name, _tuple(getattr(self, name), name))
        if self.stride not in (1, 2):
            raise NasError(f"search space: stage stride must be 1 or 2, got {self.stride}")
        if min(self.depth) < 1:
            raise NasError(f"search space: stage depth must be >= 1, got {self.depth}")

    @property
    def block_choices(self) -> int:
        return len(self.kernel) * len(self.expand) * len(self.se) * len(self.act)

    def size(self) -> int:
        return len(self.width) * sum(self.block_choices**d for d in self.depth)


@dataclass(frozen=True)
class SearchSpace:
    stages: tuple[StageChoices, ...]
    stem_width: tuple[int, ...] = (16,)
    stem_act: tuple[str, ...] = ("hswish",)
    head_conv: tuple[int, ...] = (960,)
    head_features: tuple[int, ...] = (1280,)
    head_act: tuple[str, ...] = ("hswish",)
    resolution: int = 224
    name: str = "space"
    references: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for name in ("stem_width", "stem_act", "head_conv", "head_features", "head_act"):
            object.__setattr__(self, name, _tuple(getattr(self, name), name))
        object.__setattr__(self, "stages", tuple(self.stages))
        object.__setattr__(self, "references", tuple(self.references))
        if not self.stages:
            raise NasError("search space: needs at least one stage")
        # A stride-1 stage that may take its predecessor's width could also be read as a
        # deeper predecessor: one network, two decision sets, and size() would overcount.
        previous = self.stem_width
        for index, stage in enumerate(self.stages):
            shared = set(previous) & set(stage.width)
            if stage.stride == 1 and index > 0 and shared:
                raise NasError(f"search space: stage {index} has stride 1 and may keep the "
                               f"previous stage's width {sorted(shared)}: ambiguous depth")
            previous = stage.width

    @classmethod
    def from_config(cls, config: Mapping) -> SearchSpace:
        """Build from a plain mapping (``conf/space/*.yaml`` after OmegaConf.to_container)."""
        config = dict(config)
        config.pop("_target_", None)
        stem, head = dict(config.pop("stem", {})), dict(config.pop("head", {}))
        stages = [StageChoices(**dict(stage)) for stage in config.pop("stages", [])]
        try:
            return cls(
                stages=tuple(stages),
                stem_width=stem.get("width", (16,)),
                stem_act=stem.get("act", ("hswish",)),
                head_conv=head.get("conv", (960,)),
                head_features=head.get("features", (1280,)),
                head_act=head.get("act", ("hswish",)),
                **config,
            )
        except TypeError as error:
            raise NasError(f"search space config: {error}") from None

    def size(self) -> int:
        """Number of distinct architectures the space holds."""
        top = len(self.stem_width) * len(self.stem_act)
        top *= len(self.head_conv) * len(self.head_features) * len(self.head_act)
        return top * math.prod(stage.size() for stage in self.stages)

    # --- sampling -------------------------------------------------------------------------
    def build(self, choose: Chooser) -> ArchSpec:
        """Make every decision through ``choose``; single-option decisions are not asked."""

        def pick(name: str, options: Sequence):
            return options[0] if len(options) == 1 else choose(name, list(options))

        stem = StemSpec(
            out=pick("stem_width", self.stem_width), act=pick("stem_act", self.stem_act)
        )
        blocks, in_channels = [], stem.out
        for i, stage in enumerate(self.stages):
            depth, width = pick(f"s{i}_depth", stage.depth), pick(f"s{i}_width", stage.width)
            for j in range(depth):
                prefix = f"s{i}_b{j}_"
                ratio = pick(prefix + "expand", stage.expand)
                block = BlockSpec(
                    "ir",
                    kernel=pick(prefix + "kernel", stage.kernel),
                    expand=expansion_width(in_channels, ratio),
                    out=width,
                    se=bool(pick(prefix + "se", stage.se)),
                    act=pick(prefix + "act", stage.act),
                    stride=stage.stride if j == 0 else 1,
                )
                blocks.append(block)
                in_channels = width
        head = HeadSpec(
            conv=pick("head_conv", self.head_conv),
            features=pick("head_features", self.head_features),
            act=pick("head_act", self.head_act),
        )
        return ArchSpec(stem, tuple(blocks), head, self.resolution)

    def sample(self, trial) -> ArchSpec:
        """Optuna define-by-run sampling."""
        return self.build(trial.suggest_categorical)

    def sample_random(self, rng: random.Random) -> ArchSpec:
        """Uniform choice at every decision, from a seeded ``random.Random``."""
        return self.build(lambda name, options: rng.choice(options))

    # --- encoding -------------------------------------------------------------------------
    def encode(self, spec: ArchSpec) -> dict:
        """The decisions that make ``spec``, as Optuna trial params; NotInSpaceError if none do."""
        params: dict = {}
        _match_top(self, spec, params)
        failure = _match_stages(self, spec.blocks, 0, spec.stem.out, params)
        if failure:
            raise NotInSpaceError(f"{spec} is not in space {self.name!r}: {failure}")
        return params

    def contains(self, spec: ArchSpec) -> bool:
        try:
            self.encode(spec)
        except NotInSpaceError:
            return False
        return True


def expansion_width(in_channels: int, ratio: float) -> int:
    """Expansion width for a ratio: exact for ratio 1 (no expansion conv), else rounded to 8."""
    return in_channels if ratio == 1 else make_divisible(in_channels * ratio)


def _record(params: dict, name: str, value, options: Sequence, what: str) -> None:
    if value not in options:
        raise NotInSpaceError(f"{what} {value!r} is not among {tuple(options)}")
    if len(options) > 1:
        params[name] = value


def _match_top(space: SearchSpace, spec: ArchSpec, params: dict) -> None:
    try:
        if spec.resolution != space.resolution:
            raise NotInSpaceError(f"resolution {spec.resolution} != {space.resolution}")
        if (spec.stem.kernel, spec.stem.stride) != (3, 2):
            raise NotInSpaceError("the space's stem is a 3x3 stride-2 conv")
        _record(params, "stem_width", spec.stem.out, space.stem_width, "stem width")
        _record(params, "stem_act", spec.stem.act, space.stem_act, "stem activation")
        _record(params, "head_conv", spec.head.conv, space.head_conv, "head conv")
        _record(params, "head_features", spec.head.features, space.head_features, "head features")
        _record(params, "head_act", spec.head.act, space.head_act, "head activation")
    except NotInSpaceError as error:
        raise NotInSpaceError(f"{spec} is not in space {space.name!r}: {error}") from None


def _match_block(stage: StageChoices, block: BlockSpec, in_channels: int, first: bool) -> dict:
    """Per-block decisions of ``block`` in ``stage``; raises NotInSpaceError."""
    if block.kind != "ir":
        raise NotInSpaceError(f"block kind {block.kind!r} is not searched")
    stride = stage.stride if first else 1
    if block.stride != stride:
        raise NotInSpaceError(f"stride {block.stride} where the stage has {stride}")
    ratios = [r for r in stage.expand if expansion_width(in_channels, r) == block.expand]
    if not ratios:
        raise NotInSpaceError(f"expansion {block.expand} from {in_channels} fits no ratio")
    decisions: dict = {}
    _record(decisions, "kernel", block.kernel, stage.kernel, "kernel")
    _record(decisions, "expand", ratios[0], stage.expand, "expansion")
    _record(decisions, "se", block.se, stage.se, "SE")
    _record(decisions, "act", block.act, stage.act, "activation")
    return decisions


def _match_stages(space, blocks, stage_index: int, in_channels: int, params: dict) -> str:
    """Depth-first match of ``blocks`` to stages from ``stage_index``; '' on success."""
    if stage_index == len(space.stages):
        return "" if not blocks else f"{len(blocks)} blocks left over after the last stage"
    stage = space.stages[stage_index]
    failure = f"stage {stage_index} matches no depth in {stage.depth}"
    for depth in stage.depth:
        if depth > len(blocks):
            continue
        trial_params = dict(params)
        try:
            _record(trial_params, f"s{stage_index}_depth", depth, stage.depth, "depth")
            width = blocks[0].out
            _record(trial_params, f"s{stage_index}_width", width, stage.width, "width")
            channels = in_channels
            for j, block in enumerate(blocks[:depth]):
                if block.out != width:
                    raise NotInSpaceError(f"block {j} width {block.out} != stage width {width}")
                for key, value in _match_block(stage, block, channels, j == 0).items():
                    trial_params[f"s{stage_index}_b{j}_{key}"] = value
                channels = width
        except NotInSpaceError as error:
            failure = f"stage {stage_index}: {error}"
            continue
        rest = _match_stages(space, blocks[depth:], stage_index + 1, width, trial_params)
        if not rest:
            params.clear()
            params.update(trial_params)
            return ""
        failure = rest
    return failure
