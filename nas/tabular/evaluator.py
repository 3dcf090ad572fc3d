"""``evaluator=tabular``: a candidate's accuracy looked up in NAS-Bench-Macro (Su et al. 2021).

The benchmark trained every network of ``space=nas_bench_macro`` stand-alone on CIFAR-10 for 50
epochs with three seeds. ``noise=mean`` returns the mean of the three (a noise-free signal);
``noise=seed`` returns one seed's accuracy, the seed drawn from the search's seed and the
architecture, so a search faces the seed-to-seed noise of real training (mean std 0.15 points)
while a resumed or parallel run sees the same value for the same network.

``check_space`` runs before the search starts: it refuses a space holding any network the table
lacks (another space, a kernel the benchmark never trained), so no trial fails mid-run.
``true_fronts`` gives the benchmark's exact Pareto fronts, against which a search's report
measures what it found.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass

from nas.arch import ArchSpec, SearchSpace
from nas.errors import NasError
from nas.tabular.macro import SPACE_NAME, Record, networks

NOISE = ("mean", "seed")
ENUMERATE_LIMIT = 100_000  # larger spaces cannot fit in a 3,969-network table anyway


class TabularError(NasError):
    """A search that asks the table for a network it does not hold."""


@dataclass(frozen=True)
class TabularResult:
    """Same fields as ``nas.evaluate.EvalResult``; ``train_seconds`` is the lookup's time."""

    val_accuracy: float
    train_seconds: float
    epochs: int


def all_specs(space: SearchSpace) -> Iterator[ArchSpec]:
    """Every network of ``space``, each once: a depth-first walk over its decisions."""
    pending: list[list[int]] = [[]]
    while pending:
        prefix = pending.pop()
        counts: list[int] = []

        def choose(name: str, options: list, prefix=prefix, counts=counts):
            index = len(counts)
            counts.append(len(options))
            return options[prefix[index] if index < len(prefix) else 0]

        yield space.build(choose)
        for position in range(len(prefix), len(counts)):
            for option in range(1, counts[position]):
                pending.append(prefix + [0] * (position - len(prefix)) + [option])


def check_space(space: SearchSpace) -> None:
    """Refuse (one line) a space with a network the table does not hold."""
    size = space.size()
    if size > ENUMERATE_LIMIT:
        raise TabularError(f"evaluator=tabular holds NAS-Bench-Macro's 3,969 networks only: give "
                           f"space={SPACE_NAME} (space {space.name!r} has {size:.3g} networks)")
    table = networks()
    for spec in all_specs(space):
        if str(spec) not in table:
            raise TabularError(f"evaluator=tabular: space {space.name!r} holds {spec}, which "
                               f"NAS-Bench-Macro never trained; give space={SPACE_NAME}")


@dataclass(frozen=True, kw_only=True)
class TabularEvaluator:
    noise: str = "mean"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.noise not in NOISE:
            raise NasError(f"evaluator.noise must be one of {NOISE}, got {self.noise!r}")

    def record(self, spec: ArchSpec) -> Record:
        record = networks().get(str(spec))
        if record is None:
            raise TabularError(f"NAS-Bench-Macro holds no network {spec}")
        return record

    def accuracy(self, spec: ArchSpec) -> float:
        """Percent: the seeds' mean, or the seed drawn for (search seed, architecture)."""
        record = self.record(spec)
        if self.noise == "mean":
            return record.mean
        return record.seeds[random.Random(f"{self.seed}:{spec}").randrange(len(record.seeds))]

    def evaluate(self, spec: ArchSpec, trial=None) -> TabularResult:
        start = time.perf_counter()
        accuracy = self.accuracy(spec) / 100
        return TabularResult(accuracy, time.perf_counter() - start, 50)


# --- the benchmark's true fronts --------------------------------------------------------------
def true_points(space: SearchSpace, hardware=None) -> list[dict]:
    """Every network of the table with its mean accuracy (a share), MACs, params, latency."""
    from nas.cost import arch_cost

    check_space(space)
    points = []
    for spec in all_specs(space):
        cost = arch_cost(spec)
        points.append({"arch": str(spec), "accuracy": networks()[str(spec)].mean / 100,
                       "macs": cost.macs, "params": cost.params,
                       "latency_ms": hardware.predict_ms(spec) if hardware is not None else None})
    return points


def front_of(points: list[dict], cost: str) -> list[dict]:
    """Non-dominated points (accuracy up, ``cost`` down), cheapest first."""
    ordered = sorted(points, key=lambda p: (p[cost], -p["accuracy"]))
    front, best = [], -math.inf
    for point in ordered:
        if point["accuracy"] > best:
            front.append(point)
            best = point["accuracy"]
    return front


def true_fronts(space: SearchSpace, hardware=None) -> dict[str, list[dict]]:
    """The true front per cost the study measures (MACs; latency with a hardware profile)."""
    points = true_points(space, hardware)
    costs = ["macs"] + (["latency_ms"] if hardware is not None else [])
    return {cost: [{"arch": p["arch"], "accuracy": p["accuracy"], cost: p[cost]}
                   for p in front_of(points, cost)] for cost in costs}
