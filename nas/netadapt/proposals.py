"""NetAdapt's proposals: which widths of a network can shrink, and by how much.

NetAdapt (Yang et al. 2018, "NetAdapt: Platform-Aware Neural Network Adaptation for Mobile
Applications") shrinks a trained network one layer at a time until it meets a latency budget.
MobileNetV3 (Howard et al. 2019, Sec. 4.2) restricts the moves to two kinds:

* ``expansion``: shrink the expansion width of one inverted-residual block;
* ``bottleneck``: shrink the output width shared by every block of a *residual chain*: the
  layer that sets a width (the stem, or a block that changes width or stride) and the stride-1,
  same-width blocks after it whose outputs are added to it. A residual add forces the whole chain
  to keep one width, so it shrinks as one.

Each proposal cuts predicted latency by at least ``delta`` (the paper: 1% of the seed's latency),
choosing the largest multiple of ``width_step`` (8) that does so. A proposal never changes the
network's structure: a block keeps its expansion conv (or lack of one) and its residual, so every
layer of the new network has a counterpart whose leading filters it can inherit.

Pure functions of ``ArchSpec``; no torch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from nas.arch.spec import ArchSpec

LatencyFn = Callable[[ArchSpec], float]
WIDTH_STEP = 8


@dataclass(frozen=True)
class Chain:
    """Layers that share one output width: the stem (if ``stem``) and ``blocks``."""

    blocks: tuple[int, ...]
    width: int
    stem: bool = False

    @property
    def name(self) -> str:
        if not self.blocks:
            return "stem"
        first, last = self.blocks[0], self.blocks[-1]
        span = f"blocks {first}" if first == last else f"blocks {first}-{last}"
        return f"stem+{span}" if self.stem else span


@dataclass(frozen=True)
class Proposal:
    """One candidate move: ``spec`` is the network after it, ``latency_ms`` its latency."""

    kind: str  # "expansion" or "bottleneck"
    layer: str  # "blocks.3" or "blocks 6-9"
    old_width: int
    new_width: int
    spec: ArchSpec
    latency_ms: float

    @property
    def description(self) -> str:
        return f"{self.kind} {self.layer}: {self.old_width}->{self.new_width}"


def chains(spec: ArchSpec) -> list[Chain]:
    """The residual chains of ``spec``, in order; every output width belongs to exactly one."""
    groups: list[list[int]] = [[]]
    starts_at_stem = [True]
    for index, (block, in_channels) in enumerate(zip(spec.blocks, spec.in_channels())):
        if block.has_residual(in_channels):
            groups[-1].append(index)
        else:
            groups.append([index])
            starts_at_stem.append(False)
    widths = [spec.stem.out] + [spec.blocks[group[0]].out for group in groups[1:]]
    return [Chain(tuple(g), w, stem=s) for g, w, s in zip(groups, widths, starts_at_stem)]


def _structure(spec: ArchSpec) -> list[tuple[bool, bool]]:
    """Per block: (has an expansion conv, has a residual). Proposals must keep this."""
    pairs = zip(spec.blocks, spec.in_channels())
    return [(block.has_expansion(c), block.has_residual(c)) for block, c in pairs]


def with_chain_width(spec: ArchSpec, chain: Chain, width: int) -> ArchSpec | None:
    """``spec`` with ``chain`` at ``width``; None if that would change the structure.

    A block without an expansion conv (its depthwise width is its input width, V3's first block)
    follows its new input width.
    """
    old_inputs = spec.in_channels()
    members = set(chain.blocks)
    stem = dataclasses.replace(spec.stem, out=width) if chain.stem else spec.stem
    blocks, in_channels = [], stem.out
    for index, (block, old_in) in enumerate(zip(spec.blocks, old_inputs)):
        expand = in_channels if block.expand == old_in else block.expand
        out = width if index in members else block.out
        blocks.append(dataclasses.replace(block, expand=expand, out=out))
        in_channels = out
    new = dataclasses.replace(spec, stem=stem, blocks=tuple(blocks))
    return new if _structure(new) == _structure(spec) else None


def with_expansion(spec: ArchSpec, index: int, width: int) -> ArchSpec | None:
    """``spec`` with block ``index`` expanding to ``width``; None if the structure changes."""
    blocks = list(spec.blocks)
    blocks[index] = dataclasses.replace(blocks[index], expand=width)
    new = dataclasses.replace(spec, blocks=tuple(blocks))
    return new if _structure(new) == _structure(spec) else None


def _smaller_widths(width: int, step: int = WIDTH_STEP) -> range:
    """Multiples of ``step`` below ``width``, largest first."""
    return range((width - 1) // step * step, step - 1, -step)


def _moves(spec: ArchSpec) -> Iterator[tuple[str, str, int, Callable[[int], ArchSpec | None]]]:
    """Every shrinkable width of ``spec``: (kind, layer name, width, width -> new spec)."""
    for index, (block, in_channels) in enumerate(zip(spec.blocks, spec.in_channels())):
        if block.has_expansion(in_channels):
            yield ("expansion", f"blocks.{index}", block.expand,
                   lambda w, i=index: with_expansion(spec, i, w))
    for chain in chains(spec):
        yield ("bottleneck", chain.name, chain.width,
               lambda w, c=chain: with_chain_width(spec, c, w))


def proposals(spec: ArchSpec, latency: LatencyFn, delta_ms: float,
              step: int = WIDTH_STEP) -> list[Proposal]:
    """One proposal per shrinkable width: its largest multiple of ``step`` that cuts latency by
    at least ``delta_ms``; widths that cannot are left out."""
    if delta_ms <= 0:
        raise ValueError(f"delta_ms must be positive, got {delta_ms}")
    current = latency(spec)
    found = []
    for kind, layer, width, shrink in _moves(spec):
        for new_width in _smaller_widths(width, step):
            new = shrink(new_width)
            if new is None:
                continue
            new_latency = latency(new)
            if current - new_latency >= delta_ms:
                found.append(Proposal(kind, layer, width, new_width, new, new_latency))
                break
    return found


def smallest(spec: ArchSpec, latency: LatencyFn, step: int = WIDTH_STEP) -> ArchSpec:
    """The fastest network of a simple floor of what NetAdapt can reach from ``spec``: every
    shrinkable width at its smallest structure-keeping multiple of ``step``, bottlenecks then
    expansions or the other way round (the order matters: an expansion may not shrink to its
    input width). Used to reject targets that no sequence of proposals can meet."""
    floors = [_shrink_all(spec, order, step) for order in
              (("bottleneck", "expansion"), ("expansion", "bottleneck"))]
    return min(floors, key=latency)


def _shrink_all(spec: ArchSpec, kinds: tuple[str, ...], step: int) -> ArchSpec:
    for kind in kinds:
        index = 0
        while True:
            # Moves are rebuilt after each change: their closures hold the spec they came from.
            moves = [move for move in _moves(spec) if move[0] == kind]
            if index >= len(moves):
                break
            _, _, width, shrink = moves[index]
            for new_width in reversed(_smaller_widths(width, step)):
                new = shrink(new_width)
                if new is not None:
                    spec = new
                    break
            index += 1
    return spec
