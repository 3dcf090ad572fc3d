"""NAS-Bench-Macro (Su et al., "Prioritized Architecture Sampling with Monte-Carlo Tree Search",
CVPR 2021): the benchmark's records and its keys as the project's architectures.

A key has one digit per searchable layer (stages of 2, 3 and 3 layers): 0 Identity, 1 MB3_K3,
2 MB6_K5. In ``space=nas_bench_macro`` a stride-1 Identity is a shorter stage, so a key maps to
the spec of its stage's first layer followed by its non-identity layers in order; keys that differ
only in where stride-1 Identities sit (1-0-2, 1-2-0) give one spec and, in the benchmark, one
record. ``canonical_key`` is the key of a spec with those Identities moved to the stage's end.
The records ship in ``data/`` (no network access, nothing read from ../shared).
"""

from __future__ import annotations

import csv
import gzip
import itertools
import statistics
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from nas.arch import ArchSpec, SearchSpace
from nas.errors import NasError

DATA = Path(__file__).resolve().parent / "data"
TABLE_CSV = DATA / "nas_bench_macro_cifar10.csv.gz"
SPACE_NAME = "nas_bench_macro"
STAGE_LAYERS = (2, 3, 3)
DIGIT_OPS = ("id", "k3_e3", "k5_e6")  # the benchmark's candidate_OP order
SOURCE = ("NAS-Bench-Macro (Su et al., CVPR 2021; github.com/xiusu/NAS-Bench-Macro, "
          "Apache-2.0), CIFAR-10 test accuracy, 3 seeds")
BUDGET = "50 epochs, SGD lr 0.1 cosine, batch 256 (NAS-Bench-Macro)"


@dataclass(frozen=True)
class Record:
    """One network's benchmark record; accuracies in percent."""

    key: str
    seeds: tuple[float, float, float]
    params: int
    flops: int

    @property
    def mean(self) -> float:
        return statistics.fmean(self.seeds)

    @property
    def sample_std(self) -> float:
        return statistics.stdev(self.seeds)


@cache
def records() -> dict[str, Record]:
    """Every one of the benchmark's 6,561 keys, read once from the shipped table."""
    try:
        with gzip.open(TABLE_CSV, "rt", newline="") as handle:
            rows = list(csv.DictReader(handle))
        table = {row["key"]: Record(row["key"], tuple(float(row[f"acc_{i}"]) for i in range(3)),
                                    int(row["params"]), int(row["flops"])) for row in rows}
    except (OSError, KeyError, ValueError) as error:
        raise NasError(f"the shipped NAS-Bench-Macro table {TABLE_CSV} is unusable: {error}") \
            from None
    if len(table) != 3 ** sum(STAGE_LAYERS):
        raise NasError(f"the shipped NAS-Bench-Macro table has {len(table)} keys, not 6561")
    return table


@cache
def macro_space() -> SearchSpace:
    """``conf/space/nas_bench_macro.yaml``, the space the benchmark's networks live in."""
    from nas.cli import load_space

    return load_space(SPACE_NAME)


def _stages(key: str) -> list[str]:
    if len(key) != sum(STAGE_LAYERS) or set(key) - set("012"):
        raise NasError(f"a NAS-Bench-Macro key is 8 digits of 0, 1, 2; got {key!r}")
    bounds = list(itertools.accumulate(STAGE_LAYERS, initial=0))
    return [key[a:b] for a, b in zip(bounds, bounds[1:])]


def key_params(key: str) -> dict:
    """The space's decisions (Optuna params, single-option ones left out) that make ``key``."""
    params: dict = {}
    for index, digits in enumerate(_stages(key)):
        ops = [DIGIT_OPS[int(digits[0])]] + [DIGIT_OPS[int(d)] for d in digits[1:] if d != "0"]
        params[f"s{index}_depth"] = len(ops)
        for block, op in enumerate(ops):
            params[f"s{index}_b{block}_op"] = op
    return params


def key_to_spec(key: str) -> ArchSpec:
    params = key_params(key)
    return macro_space().build(lambda name, options: params[name])


def canonical(key: str) -> str:
    """``key`` with each stage's stride-1 Identities moved to its end (same network)."""
    return "".join(d[0] + "".join(c for c in d[1:] if c != "0").ljust(len(d) - 1, "0")
                   for d in _stages(key))


def canonical_key(spec: ArchSpec) -> str:
    """The benchmark key of ``spec`` with stride-1 Identities last in their stage."""
    params = macro_space().encode(spec)  # NotInSpaceError (a NasError) when it is not there
    digits = []
    for index, layers in enumerate(STAGE_LAYERS):
        depth = params[f"s{index}_depth"]
        ops = [params[f"s{index}_b{block}_op"] for block in range(depth)]
        digits.append("".join(str(DIGIT_OPS.index(op)) for op in ops).ljust(layers, "0"))
    return "".join(digits)


@cache
def networks() -> dict[str, Record]:
    """Arch string -> record for each of the 3,969 distinct networks (canonical keys)."""
    table = records()
    keys = sorted({canonical(key) for key in table})
    return {str(key_to_spec(key)): table[key] for key in keys}
