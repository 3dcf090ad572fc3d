"""Which networks a ground truth trains: the space's references, its corners, and random
networks stratified by MACs so that the table spans the space's whole range of cost.

Corners push every decision of one kind to an end (shallowest and narrowest, deepest and
widest, largest kernels, SE and h-swish everywhere or nowhere): a signal that cannot order the
extremes of a space cannot order its middle. The random networks are drawn from a seeded pool
and picked at evenly spaced MAC quantiles, then ordered so that any prefix of the list spans the
range (a ground truth cut short by its time budget is still a spread of the space).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from nas.arch import PRESETS, ArchSpec, SearchSpace
from nas.cost import arch_cost

# decision kind -> "min" / "max", or the option to take (SE, activation)
CORNERS: dict[str, dict] = {
    "smallest": {"depth": "min", "width": "min", "expand": "min", "kernel": "min",
                 "se": False, "act": "relu"},
    "largest": {"depth": "max", "width": "max", "expand": "max", "kernel": "max",
                "se": True, "act": "hswish"},
    "shallow_wide": {"depth": "min", "width": "max", "expand": "max", "kernel": "min",
                     "se": False, "act": "relu"},
    "deep_narrow": {"depth": "max", "width": "min", "expand": "min", "kernel": "min",
                    "se": False, "act": "relu"},
    "largest_plain": {"depth": "max", "width": "max", "expand": "max", "kernel": "max",
                      "se": False, "act": "relu"},
    "smallest_se_hswish": {"depth": "min", "width": "min", "expand": "min", "kernel": "min",
                           "se": True, "act": "hswish"},
    "smallest_k7": {"depth": "min", "width": "min", "expand": "min", "kernel": "max",
                    "se": False, "act": "relu"},
}


@dataclass(frozen=True)
class Candidate:
    name: str  # reference name, corner name, or random-<k>
    role: str  # reference | corner | random
    spec: ArchSpec
    macs: int
    params: int


def _decision_kind(name: str) -> str:
    """``s2_b1_kernel`` -> ``kernel``; ``stem_width`` -> ``width``; ``s3_depth`` -> ``depth``."""
    return name.rsplit("_", 1)[-1]


def corner(space: SearchSpace, profile: dict) -> ArchSpec:
    def choose(name: str, options: Sequence):
        rule = profile.get(_decision_kind(name), "min")
        if rule == "min":
            return min(options)
        if rule == "max":
            return max(options)
        return rule if rule in options else options[0]

    return space.build(choose)


def _van_der_corput(n: int) -> list[int]:
    """0..n-1 in an order whose every prefix is spread over the range (bit-reversed)."""
    bits = max(1, (n - 1).bit_length())
    keys = sorted(range(2 ** bits), key=lambda i: int(format(i, f"0{bits}b")[::-1], 2))
    return [k for k in keys if k < n]


def _candidate(name: str, role: str, spec: ArchSpec) -> Candidate:
    cost = arch_cost(spec)
    return Candidate(name=name, role=role, spec=spec, macs=cost.macs, params=cost.params)


def select_networks(space: SearchSpace, count: int, *, seed: int = 0, pool: int = 600
                    ) -> list[Candidate]:
    """``count`` distinct networks of ``space``: references, corners, then MAC-stratified random."""
    chosen: list[Candidate] = []
    seen: set[str] = set()

    def add(name: str, role: str, spec: ArchSpec) -> None:
        if str(spec) not in seen and len(chosen) < count:
            seen.add(str(spec))
            chosen.append(_candidate(name, role, spec))

    for name in space.references:
        if name in PRESETS:
            spec = PRESETS[name](resolution=space.resolution)
            if space.contains(spec):
                add(name, "reference", spec)
    for name, profile in CORNERS.items():
        add(name, "corner", corner(space, profile))
    rng = random.Random(seed)
    drawn = {str(s): s for s in (space.sample_random(rng) for _ in range(pool))}
    pool_specs = [s for key, s in drawn.items() if key not in seen]
    wanted = count - len(chosen)
    if wanted <= 0:
        return chosen
    by_macs = sorted((arch_cost(s).macs, str(s), s) for s in pool_specs)
    picks: list[ArchSpec] = []
    for k in range(wanted):
        target = (k + 0.5) / wanted * (len(by_macs) - 1)
        index = min(range(len(by_macs)), key=lambda i: abs(i - target))
        picks.append(by_macs.pop(index)[2])
    for k in _van_der_corput(len(picks)):
        add(f"random-{k:02d}", "random", picks[k])
    return chosen
