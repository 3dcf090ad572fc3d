"""The one-hot encoding of an architecture of a search space (Once-for-All's predictor input,
Cai et al. 2020, section 3.3).

Each decision of the space that has more than one option (stem width and activation, each
stage's depth and width, each block slot's kernel, expansion, SE and activation or op, the
head's widths and activation) is one group of slots, one slot per option; an architecture sets
the slot of the option it took in each group it uses, and leaves all-zero the groups of block
slots beyond its stage's depth (as OFA encodes a skipped layer). Names follow
``SearchSpace.build``'s decisions, so the encoding reads ``space.encode(spec)``'s parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nas.arch import ArchSpec, SearchSpace


@dataclass(frozen=True)
class Decision:
    name: str
    options: tuple


def space_decisions(space: SearchSpace) -> list[Decision]:
    """Every multi-option decision of ``space``, in ``SearchSpace.build``'s order, block slots
    up to each stage's largest depth."""
    decisions: list[Decision] = []

    def add(name: str, options) -> None:
        if len(options) > 1:
            decisions.append(Decision(name, tuple(options)))

    add("stem_width", space.stem_width)
    add("stem_act", space.stem_act)
    for i, stage in enumerate(space.stages):
        add(f"s{i}_depth", stage.depth)
        add(f"s{i}_width", stage.width)
        for j in range(max(stage.depth)):
            for key, options in stage.block_decisions(first=j == 0).items():
                add(f"s{i}_b{j}_{key}", options)
    add("head_conv", space.head_conv)
    add("head_features", space.head_features)
    add("head_act", space.head_act)
    return decisions


class ArchEncoder:
    """``encode(spec)``: the one-hot vector (float32) of an architecture of ``space``;
    NotInSpaceError (one line) for an architecture outside it."""

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self.decisions = space_decisions(space)
        self.offsets: dict[str, int] = {}
        width = 0
        for decision in self.decisions:
            self.offsets[decision.name] = width
            width += len(decision.options)
        self.width = width
        self._index = {d.name: {option: k for k, option in enumerate(d.options)}
                       for d in self.decisions}

    def encode(self, spec: ArchSpec) -> np.ndarray:
        vector = np.zeros(self.width, dtype=np.float32)
        for name, value in self.space.encode(spec).items():
            vector[self.offsets[name] + self._index[name][value]] = 1.0
        return vector

    def encode_many(self, specs) -> np.ndarray:
        return np.stack([self.encode(spec) for spec in specs]) if specs else \
            np.zeros((0, self.width), dtype=np.float32)
