"""Scoring an accuracy signal against a ground truth, with the interval its sample allows.

Kendall tau over a few dozen networks is itself noisy: the 95% interval comes from resampling
the networks (a percentile bootstrap, seeded), so two signals whose intervals overlap are not
told apart by this ground truth.
"""

from __future__ import annotations

import math
import random
import sys
import time
from collections.abc import Callable, Sequence

from nas.yardstick.metrics import kendall_tau, rank_scores


def _bootstrap_interval(statistic: Callable[[list[int]], float], n: int, *, resamples: int,
                        seed: int) -> tuple[float, float]:
    """Percentile bootstrap 95% interval of ``statistic(index)`` over ``resamples`` seeded
    resamplings of ``n`` networks (with replacement); non-finite values are left out."""
    if resamples <= 0 or n < 3:
        return (math.nan, math.nan)
    rng = random.Random(seed)
    values = []
    for _ in range(resamples):
        value = statistic([rng.randrange(n) for _ in range(n)])
        if math.isfinite(value):
            values.append(value)
    if not values:
        return (math.nan, math.nan)
    values.sort()
    last = len(values) - 1
    return (values[int(0.025 * last)], values[int(0.975 * last)])


def kendall_interval(signal: Sequence[float], truth: Sequence[float], *, resamples: int = 1000,
                     seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap 95% interval of Kendall tau over resampled networks."""
    def tau(index: list[int]) -> float:
        return kendall_tau([signal[i] for i in index], [truth[i] for i in index])

    return _bootstrap_interval(tau, len(truth), resamples=resamples, seed=seed)


def kendall_difference_interval(signal: Sequence[float], baseline: Sequence[float],
                                truth: Sequence[float], *, resamples: int = 1000, seed: int = 0
                                ) -> tuple[float, float]:
    """Percentile bootstrap 95% interval of tau(signal) - tau(baseline), paired: both taus on
    the same resampled networks. Two signals' own intervals overlap far more often than their
    difference's interval covers 0 (both are scored on the same networks, so most of their
    sampling noise is shared): this is the interval that says whether one beats the other."""
    def difference(index: list[int]) -> float:
        sampled = [truth[i] for i in index]
        return (kendall_tau([signal[i] for i in index], sampled)
                - kendall_tau([baseline[i] for i in index], sampled))

    return _bootstrap_interval(difference, len(truth), resamples=resamples, seed=seed)


def signal_row(label: str, signal: Sequence[float], truth: Sequence[float], *, k: int,
               seconds: float | None, resamples: int, seed: int) -> dict:
    scores = rank_scores(signal, truth, k)
    low, high = kendall_interval(signal, truth, resamples=resamples, seed=seed)
    return {"signal": label, "seconds_per_candidate": seconds, "kendall": scores.kendall,
            "kendall_low": low, "kendall_high": high, "spearman": scores.spearman,
            f"top{scores.k}": scores.top_k, "networks": scores.n}


def score_networks(evaluator, archs: Sequence[str], desc: str = "rank", *,
                   done: dict[str, tuple[float, float]] | None = None,
                   on_score: Callable[[str, float, float], None] | None = None
                   ) -> tuple[list[float], list[float]]:
    """Each architecture's score from ``evaluator`` and the seconds it took.

    ``done`` holds (score, seconds) of architectures scored by an earlier, interrupted run with
    the same settings: they are not scored again. ``on_score`` sees each new score as it comes,
    so that a caller can save it at once.
    """
    from tqdm import tqdm

    from nas.arch import decode

    done = done or {}
    scores, seconds = [], []
    for arch in tqdm(archs, desc=desc, unit="net", file=sys.stderr,
                     disable=not sys.stderr.isatty()):
        if arch in done:
            score, took = done[arch]
        else:
            started = time.perf_counter()
            score = float(evaluator.evaluate(decode(arch)).val_accuracy)
            took = time.perf_counter() - started
            if on_score is not None:
                on_score(arch, score, took)
        scores.append(score)
        seconds.append(took)
    return scores, seconds
