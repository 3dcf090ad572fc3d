"""Rank agreement between a signal and a ground truth.

Kendall's tau-b (ties counted as in Kendall 1945, what scipy.stats.kendalltau returns) and
Spearman's rho on average ranks; the overlap of the top k, the share of the ground truth's k best
networks that the signal also puts in its k best. Written out with numpy (O(n^2) pairs for tau
is nothing at a few thousand networks) so the package needs no scipy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def _check(a: Sequence[float], b: Sequence[float]) -> None:
    if len(a) != len(b):
        raise ValueError(f"rank agreement needs paired values, got {len(a)} and {len(b)}")
    if len(a) < 2:
        raise ValueError("rank agreement needs at least 2 pairs")


def kendall_tau(a: Sequence[float], b: Sequence[float]) -> float:
    """Kendall's tau-b; NaN when either side is constant. Pairwise signs in numpy: a few
    thousand networks are a few million pairs, and bootstraps call this a thousand times."""
    _check(a, b)
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    upper = np.triu_indices(len(x), k=1)
    dx = np.sign(x[:, None] - x[None, :])[upper]
    dy = np.sign(y[:, None] - y[None, :])[upper]
    both = (dx != 0) & (dy != 0)
    concordant = int(np.sum(both & (dx == dy)))
    discordant = int(np.sum(both & (dx != dy)))
    ties_a = int(np.sum((dx == 0) & (dy != 0)))
    ties_b = int(np.sum((dy == 0) & (dx != 0)))
    denominator = math.sqrt((concordant + discordant + ties_a) * (concordant + discordant + ties_b))
    return (concordant - discordant) / denominator if denominator else float("nan")


def average_ranks(values: Sequence[float]) -> list[float]:
    """Ranks 1..n, ties sharing their average rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rho: Pearson's correlation of the average ranks; NaN when constant."""
    _check(a, b)
    ra, rb = average_ranks(a), average_ranks(b)
    mean = (len(a) + 1) / 2
    cov = sum((x - mean) * (y - mean) for x, y in zip(ra, rb))
    var_a = sum((x - mean) ** 2 for x in ra)
    var_b = sum((y - mean) ** 2 for y in rb)
    return cov / math.sqrt(var_a * var_b) if var_a and var_b else float("nan")


def top_k_overlap(signal: Sequence[float], truth: Sequence[float], k: int = 5) -> float:
    """Share of the truth's ``k`` highest that are among the signal's ``k`` highest."""
    _check(signal, truth)
    k = min(k, len(truth))
    best = set(sorted(range(len(truth)), key=lambda i: -truth[i])[:k])
    picked = set(sorted(range(len(signal)), key=lambda i: -signal[i])[:k])
    return len(best & picked) / k


@dataclass(frozen=True)
class RankScores:
    kendall: float
    spearman: float
    top_k: float
    k: int
    n: int


def rank_scores(signal: Sequence[float], truth: Sequence[float], k: int = 5) -> RankScores:
    return RankScores(kendall=kendall_tau(signal, truth), spearman=spearman(signal, truth),
                      top_k=top_k_overlap(signal, truth, k), k=min(k, len(truth)), n=len(truth))
