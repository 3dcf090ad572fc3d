"""A fixed, cheap, synthetic surrogate of accuracy, for tests only (``evaluator=surrogate``).

NOT a model of real accuracy and never used for a real search: made-up numbers that let a whole
search run in seconds so that the search machinery (samplers, storage, resumption, failures,
reports, workers) can be tested on any space. Strategies are compared on real accuracies with
``evaluator=tabular`` (NAS-Bench-Macro, ``benchmarks/strategies_nas_bench_macro.py``).

The "accuracy" of a network is a deterministic function of its architecture:

    acc = clip(base + capacity * log2(MACs / 10M) + sum of per-decision weights, 0.05, 0.99)

Each per-block decision (kernel, expansion, SE, activation, indexed by stage and block) gets a
weight drawn once from N(0, weight_std) by a generator seeded with ``(seed, decision)``, so the
surface is rugged but fixed: equal architectures score equally in every process.

Test aids: ``seconds`` sleeps that long per call (so a test can kill a process mid-trial) and
``fail_share`` makes that share of architectures (chosen by a hash of the string) fail as a
training run with a NaN loss would.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from dataclasses import dataclass

from nas.arch import ArchSpec
from nas.cost import arch_cost
from nas.errors import NasError


@dataclass(frozen=True)
class SurrogateResult:
    """Same fields as ``nas.evaluate.EvalResult``."""

    val_accuracy: float
    train_seconds: float
    epochs: int


class CandidateFailure(RuntimeError):
    """A candidate's training broke (NaN loss and the like): the trial fails, the search goes on."""


def _unit_hash(text: str) -> float:
    """A number in [0, 1) fixed by ``text``, the same in every process."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2**64


@dataclass(frozen=True, kw_only=True)
class SurrogateEvaluator:
    seed: int = 0
    base: float = 0.80
    capacity: float = 0.03
    weight_std: float = 0.006
    seconds: float = 0.0
    fail_share: float = 0.0

    def __post_init__(self) -> None:
        if self.seconds < 0 or not 0 <= self.fail_share <= 1 or self.weight_std < 0:
            raise NasError("surrogate: seconds >= 0, 0 <= fail_share <= 1, weight_std >= 0")

    def _weight(self, decision: str) -> float:
        return random.Random(f"{self.seed}:{decision}").gauss(0.0, self.weight_std)

    def accuracy(self, spec: ArchSpec) -> float:
        total = self.base + self.capacity * math.log2(arch_cost(spec).macs / 10e6)
        total += self._weight(f"stem:{spec.stem.out}:{spec.stem.act}")
        for index, block in enumerate(spec.blocks):
            for name in ("kernel", "expand", "se", "act"):
                total += self._weight(f"b{index}:{name}={getattr(block, name)}")
        return min(max(total, 0.05), 0.99)

    def evaluate(self, spec: ArchSpec, trial=None) -> SurrogateResult:
        start = time.perf_counter()
        if self.seconds:
            time.sleep(self.seconds)
        if _unit_hash(f"{self.seed}:{spec}") < self.fail_share:
            raise CandidateFailure("loss became NaN (surrogate failure injection)")
        accuracy = self.accuracy(spec)
        return SurrogateResult(accuracy, time.perf_counter() - start, 1)
