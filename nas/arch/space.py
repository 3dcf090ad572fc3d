"""A block-wise search space of MobileNetV3-style networks (Howard et al. 2019, Sec. 5; MnasNet,
Tan et al. 2019, factorized hierarchical space).

Stages are fixed in stride; each stage chooses its depth and width, and each block in it its
kernel, expansion ratio, squeeze-and-excite and activation. The stem chooses width and activation,
the head its widths and activation. ``sample(trial)`` is Optuna define-by-run: the per-block
choices of a stage exist only up to its sampled depth. ``encode(spec)`` is the inverse, so a
network of the space (a reference, say) can be enqueued as trial parameters.

A stage may instead list ``ops``, whole block choices (``k3_e3``: a 3x3 inverted residual of
expansion 3; ``id``: the identity), as NAS-Bench-Macro (Su et al. 2021) and FBNet do; each block
then picks one op (``s{i}_b{j}_op``) and SE and activation as before. A stride-1 identity is a
no-op, so a network with one is the same network as the stage one block shorter: ``id`` is
offered only to a stage's first block, where it downsamples (a 1x1 conv + BN), and the stage's
depth choice stands for the rest. Each distinct network is then made by one set of decisions,
and ``size()`` counts it once (NAS-Bench-Macro's 6,561 keys are its 3,969 networks).
"""

from __future__ import annotations

import math
import random
import re
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


IDENTITY = "id"
_OP = re.compile(r"^k(\d+)_e(\d+(?:\.\d+)?)$")


def parse_op(op: str) -> tuple[str, int, float]:
    """``id`` -> ("id", 1, 1.0); ``k3_e6`` -> ("ir", 3, 6.0). NasError on anything else."""
    if op == IDENTITY:
        return "id", 1, 1.0
    match = _OP.match(str(op))
    if not match:
        raise NasError(f"search space: op {op!r} is neither 'id' nor k<kernel>_e<ratio>")
    return "ir", int(match.group(1)), float(match.group(2))


def op_rank(op: str) -> float:
    """Cost order of ops (identity first, then by expansion, then kernel) for the extremes."""
    kind, kernel, ratio = parse_op(op)
    return -1.0 if kind == "id" else ratio * 100 + kernel


@dataclass(frozen=True)
class StageChoices:
    """Choices of one stage. ``expand`` holds ratios of the block's input width; ``ops``, when
    given, replaces ``kernel`` x ``expand`` by a list of whole block choices (module docstring)."""

    stride: int
    depth: tuple[int, ...]
    width: tuple[int, ...]
    kernel: tuple[int, ...] = (3, 5, 7)
    expand: tuple[float, ...] = (3, 4, 6)
    se: tuple[bool, ...] = (False, True)
    act: tuple[str, ...] = ("relu", "hswish")
    ops: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("depth", "width", "kernel", "expand", "se", "act"):
            object.__setattr__(self, name, _tuple(getattr(self, name), name))
        object.__setattr__(self, "ops", _tuple(self.ops, "ops") if self.ops else ())
        if self.stride not in (1, 2):
            raise NasError(f"search space: stage stride must be 1 or 2, got {self.stride}")
        if min(self.depth) < 1:
            raise NasError(f"search space: stage depth must be >= 1, got {self.depth}")
        for op in self.ops:
            parse_op(op)
        if IDENTITY in self.ops and self.stride != 2:
            raise NasError("search space: op 'id' needs a stride-2 stage (a stride-1 identity "
                           "is a shorter depth, which the depth choice already offers)")
        if self.ops and not self.later_ops and max(self.depth) > 1:
            raise NasError("search space: a stage of only 'id' ops can have depth 1 only")

    @property
    def later_ops(self) -> tuple[str, ...]:
        """Ops of the blocks after the first: all but the identity."""
        return tuple(op for op in self.ops if op != IDENTITY)

    def block_decisions(self, first: bool) -> dict[str, tuple]:
        """Decision name -> options of one block; ``op`` replaces kernel and expand."""
        if self.ops:
            shape = {"op": self.ops if first else self.later_ops}
        else:
            shape = {"kernel": self.kernel, "expand": self.expand}
        return shape | {"se": self.se, "act": self.act}

    def block_options(self, first: bool) -> list[tuple[str, int, float, bool, str]]:
        """Every (kind, kernel, ratio, se, act) a block can take; an identity has no SE or act."""
        if self.ops:
            shapes = [parse_op(op) for op in (self.ops if first else self.later_ops)]
        else:
            shapes = [("ir", k, r) for k in self.kernel for r in self.expand]
        options = []
        for kind, kernel, ratio in shapes:
            if kind == "id":
                options.append((kind, kernel, ratio, False, "relu"))
            else:
                options.extend((kind, kernel, ratio, bool(se), act)
                               for se in self.se for act in self.act)
        return options

    def size(self) -> int:
        first, later = len(self.block_options(True)), len(self.block_options(False))
        return len(self.width) * sum(first * later ** (d - 1) for d in self.depth)


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
    stem_stride: int = 2
    classes: int | None = None  # fixed by a benchmark's space (its networks' classifier)

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
                stem_stride=int(stem.get("stride", 2)),
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

        stem = StemSpec(out=pick("stem_width", self.stem_width),
                        act=pick("stem_act", self.stem_act), stride=self.stem_stride)
        blocks, in_channels = [], stem.out
        for i, stage in enumerate(self.stages):
            depth, width = pick(f"s{i}_depth", stage.depth), pick(f"s{i}_width", stage.width)
            for j in range(depth):
                blocks.append(_build_block(stage, f"s{i}_b{j}_", pick, in_channels, width, j))
                in_channels = width
        head = HeadSpec(
            conv=pick("head_conv", self.head_conv),
            features=pick("head_features", self.head_features),
            act=pick("head_act", self.head_act),
        )
        return ArchSpec(stem, tuple(blocks), head, self.resolution, self.classes)

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

    def within(self, other: SearchSpace) -> bool:
        """Whether every network of this space is one of ``other``'s: the same stages, strides
        and resolution, and every choice offered here offered there (a supernet trained for a
        wider space scores this one)."""
        top = ("stem_width", "stem_act", "head_conv", "head_features", "head_act")
        fixed = ("resolution", "stem_stride", "classes")
        stage_choices = ("depth", "width", "kernel", "expand", "se", "act", "ops")
        if any(getattr(self, n) != getattr(other, n) for n in fixed) \
                or len(self.stages) != len(other.stages):
            return False
        if not all(set(getattr(self, n)) <= set(getattr(other, n)) for n in top):
            return False
        return all(mine.stride == theirs.stride
                   and all(set(getattr(mine, n)) <= set(getattr(theirs, n))
                           for n in stage_choices)
                   for mine, theirs in zip(self.stages, other.stages))

    def contains(self, spec: ArchSpec) -> bool:
        try:
            self.encode(spec)
        except NotInSpaceError:
            return False
        return True


def _build_block(stage: StageChoices, prefix: str, pick, in_channels: int, width: int,
                 index: int) -> BlockSpec:
    stride = stage.stride if index == 0 else 1
    decisions = stage.block_decisions(first=index == 0)
    if "op" in decisions:
        kind, kernel, ratio = parse_op(pick(prefix + "op", decisions["op"]))
    else:
        kind = "ir"
        ratio = pick(prefix + "expand", stage.expand)
        kernel = pick(prefix + "kernel", stage.kernel)
    if kind == "id":
        return BlockSpec("id", kernel=1, expand=in_channels, out=width, stride=stride)
    return BlockSpec("ir", kernel=kernel, expand=expansion_width(in_channels, ratio), out=width,
                     se=bool(pick(prefix + "se", stage.se)), act=pick(prefix + "act", stage.act),
                     stride=stride)


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
        if spec.classes != space.classes:
            raise NotInSpaceError(f"classes {spec.classes} != {space.classes}")
        if (spec.stem.kernel, spec.stem.stride) != (3, space.stem_stride):
            raise NotInSpaceError(f"the space's stem is a 3x3 stride-{space.stem_stride} conv")
        _record(params, "stem_width", spec.stem.out, space.stem_width, "stem width")
        _record(params, "stem_act", spec.stem.act, space.stem_act, "stem activation")
        _record(params, "head_conv", spec.head.conv, space.head_conv, "head conv")
        _record(params, "head_features", spec.head.features, space.head_features, "head features")
        _record(params, "head_act", spec.head.act, space.head_act, "head activation")
    except NotInSpaceError as error:
        raise NotInSpaceError(f"{spec} is not in space {space.name!r}: {error}") from None


def _match_block(stage: StageChoices, block: BlockSpec, in_channels: int, first: bool) -> dict:
    """Per-block decisions of ``block`` in ``stage``; raises NotInSpaceError."""
    stride = stage.stride if first else 1
    if block.stride != stride:
        raise NotInSpaceError(f"stride {block.stride} where the stage has {stride}")
    decisions: dict = {}
    if stage.ops:
        ops = stage.block_decisions(first)["op"]
        _record(decisions, "op", _op_of(block, in_channels, ops), ops, "op")
        if block.kind == "id":
            return decisions
    elif block.kind != "ir":
        raise NotInSpaceError(f"block kind {block.kind!r} is not searched")
    else:
        ratios = [r for r in stage.expand if expansion_width(in_channels, r) == block.expand]
        if not ratios:
            raise NotInSpaceError(f"expansion {block.expand} from {in_channels} fits no ratio")
        _record(decisions, "kernel", block.kernel, stage.kernel, "kernel")
        _record(decisions, "expand", ratios[0], stage.expand, "expansion")
    _record(decisions, "se", block.se, stage.se, "SE")
    _record(decisions, "act", block.act, stage.act, "activation")
    return decisions


def _op_of(block: BlockSpec, in_channels: int, ops: Sequence[str]) -> str:
    """The op among ``ops`` that makes ``block`` (NotInSpaceError when none does)."""
    for op in ops:
        kind, kernel, ratio = parse_op(op)
        if kind == block.kind == "id":
            return op
        if kind == block.kind and kernel == block.kernel and \
                expansion_width(in_channels, ratio) == block.expand:
            return op
    shown = "id" if block.kind == "id" else f"{block.kind} k{block.kernel} x{block.expand}"
    raise NotInSpaceError(f"block {shown} from {in_channels} is none of the ops {tuple(ops)}")


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
