"""Intervals over seeds: how far a mean of a few trainings can be trusted (Student 1908).

A network trained with n seeds has a mean accuracy whose 95% interval is
``mean +- t(0.975, n - 1) * std / sqrt(n)``; with 3 seeds t is 4.30, not 1.96, so two or three
seeds say little unless the networks differ by several seed std. Two networks are compared by
Welch's interval of the difference of their means (Welch 1947: unequal variances, the
Welch-Satterthwaite degrees of freedom); an interval that contains zero is a tie.

The t quantile is computed here (the regularized incomplete beta function by its continued
fraction, Numerical Recipes 6.4, then bisection) rather than taken from scipy, which the
project does not depend on.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

LEVEL = 0.95


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    tiny, c, d = 1e-300, 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 300):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return result


def incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b), x in [0, 1]."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):  # where the fraction converges fast
        return front * _beta_fraction(a, b, x) / a
    return 1.0 - front * _beta_fraction(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` (> 0, not necessarily whole) degrees of freedom."""
    tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile (0 < p < 1) of Student's t with ``df`` degrees of freedom."""
    if not 0 < p < 1 or not df > 0:
        raise ValueError(f"need 0 < p < 1 and df > 0, got p={p}, df={df}")
    if p < 0.5:
        return -t_quantile(1 - p, df)
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        high *= 2.0
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if t_cdf(middle, df) < p else (low, middle)
        if high - low < 1e-12 * max(1.0, high):
            break
    return (low + high) / 2


@dataclass(frozen=True)
class Interval:
    """A mean (or a difference of means) and its two-sided ``LEVEL`` interval."""

    mean: float
    low: float
    high: float

    @property
    def contains_zero(self) -> bool:
        return self.low <= 0.0 <= self.high


def mean_interval(values: Sequence[float], level: float = LEVEL) -> Interval:
    """Student's t interval of the mean of ``values`` (at least two)."""
    if len(values) < 2:
        raise ValueError("an interval needs at least two values")
    mean = statistics.fmean(values)
    half = t_quantile(0.5 + level / 2, len(values) - 1) * statistics.stdev(values) \
        / math.sqrt(len(values))
    return Interval(mean, mean - half, mean + half)


def difference_interval(a: Sequence[float], b: Sequence[float],
                        level: float = LEVEL) -> Interval:
    """Welch's interval of mean(a) - mean(b) (each at least two values)."""
    if len(a) < 2 or len(b) < 2:
        raise ValueError("a difference interval needs at least two values on each side")
    difference = statistics.fmean(a) - statistics.fmean(b)
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    if va + vb == 0:  # identical seeds on both sides: no spread to widen the interval
        return Interval(difference, difference, difference)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    half = t_quantile(0.5 + level / 2, df) * math.sqrt(va + vb)
    return Interval(difference, difference - half, difference + half)
