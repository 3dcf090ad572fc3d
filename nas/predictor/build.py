"""Fitting a predictor: a seeded sample of the space, its scores saved as they come, a fit on
all but a held-out share, and that share's error and rank agreement.

The scores file (JSON lines) starts with the plan (space, scorer, dataset, seed) and holds one
line per scored architecture, appended and flushed as each is scored; a rerun with the same plan
skips what is there, so a killed run loses only the architecture in flight, and a torn last
line (a kill mid-write) is dropped and scored again. The sample is the first ``n`` distinct
architectures drawn by ``random.Random(seed)``, so ``samples=2000`` extends a finished
``samples=1000`` rather than starting over. A plan that differs is refused in one line.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np

from nas.arch import ArchSpec, SearchSpace
from nas.errors import NasError
from nas.yardstick.metrics import kendall_tau, spearman


class ScoresFileError(NasError):
    """A scores file of another plan, or one that cannot be read."""


def sample_architectures(space: SearchSpace, n: int, seed: int) -> list[ArchSpec]:
    """The first ``n`` distinct architectures ``space.sample_random`` draws from ``seed``."""
    if n < 1:
        raise NasError(f"samples must be >= 1, got {n}")
    size = space.size()
    if n > size:
        raise NasError(f"samples={n} but space {space.name!r} holds {size} networks")
    rng, seen, specs = random.Random(seed), set(), []
    for _ in range(100 * n):  # a uniform draw repeats rarely unless n nears the space's size
        spec = space.sample_random(rng)
        if str(spec) not in seen:
            seen.add(str(spec))
            specs.append(spec)
            if len(specs) == n:
                return specs
    raise NasError(f"drew {len(specs)} distinct networks of {space.name!r} in {100 * n} "
                   f"draws; ask for fewer samples")


def read_scores(path: Path, plan: dict) -> dict[str, float]:
    """Arch string -> score of a scores file whose plan is ``plan`` (empty when none)."""
    if not path.exists():
        return {}
    lines = path.read_text().splitlines()
    try:
        head = json.loads(lines[0])["plan"] if lines else None
    except (json.JSONDecodeError, KeyError, TypeError):
        raise ScoresFileError(f"{path} is not a predictor scores file") from None
    if head != plan:
        key = next((k for k in plan if head is None or head.get(k) != plan[k]), "plan")
        raise ScoresFileError(f"{path} holds the scores of another plan ({key} differs); give "
                              f"another out=FILE or the same settings")
    scores = {}
    for line in lines[1:]:
        try:
            row = json.loads(line)
            scores[row["arch"]] = float(row["score"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            continue  # a line torn by a kill: scored again
    return scores


def score_all(specs: list[ArchSpec], score: Callable[[ArchSpec], float], path: Path, plan: dict,
              on_scored: Callable[[int, int], None] | None = None) -> tuple[list[float], int]:
    """Every spec's score, from the file or from ``score`` (each appended as it comes);
    the scores and how many were scored now."""
    done = read_scores(path, plan)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or not path.read_text().strip():
        path.write_text(json.dumps({"plan": plan}) + "\n")
    elif not path.read_text().endswith("\n"):
        with open(path, "a") as handle:  # end a torn last line so the next one stands alone
            handle.write("\n")
    scored = 0
    with open(path, "a") as handle:
        for number, spec in enumerate(specs):
            if str(spec) not in done:
                done[str(spec)] = float(score(spec))
                handle.write(json.dumps({"arch": str(spec), "score": done[str(spec)]}) + "\n")
                handle.flush()
                scored += 1
            if on_scored is not None:
                on_scored(number + 1, scored)
    return [done[str(spec)] for spec in specs], scored


def holdout_split(n: int, share: float, seed: int) -> tuple[list[int], list[int]]:
    """Seeded indices (fit, held out); ``share`` of ``n`` held out, at least 2 each when > 0."""
    if not 0 <= share < 1:
        raise NasError(f"holdout must be in [0, 1), got {share}")
    held = round(share * n)
    if share > 0 and (held < 2 or n - held < 2):
        raise NasError(f"holdout={share} of {n} samples leaves {held} held out and {n - held} "
                       f"to fit: both need >= 2 (more samples, or holdout=0)")
    order = list(range(n))
    random.Random(f"{seed}:holdout").shuffle(order)
    return sorted(order[held:]), sorted(order[:held])


def agreement(predicted, actual) -> dict:
    """RMSE (points, for scores that are shares) and rank agreement of predictions."""
    predicted, actual = np.asarray(predicted, dtype=float), np.asarray(actual, dtype=float)
    rmse = float(np.sqrt(np.mean((predicted - actual) ** 2))) * 100
    constant = len(set(actual.tolist())) < 2 or len(set(predicted.tolist())) < 2
    return {"rmse_points": rmse, "n": len(actual),
            "kendall": math.nan if constant else kendall_tau(predicted, actual),
            "spearman": math.nan if constant else spearman(predicted, actual)}
