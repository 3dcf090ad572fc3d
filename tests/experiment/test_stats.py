"""Intervals over seeds: Student's t quantiles against published values, and the intervals'
coverage on seeded normal samples."""

import random
import statistics

import pytest

from nas.experiment.stats import difference_interval, mean_interval, t_cdf, t_quantile


@pytest.mark.parametrize("df, expected", [  # two-sided 95% critical values, any t table
    (1, 12.7062), (2, 4.3027), (3, 3.1824), (4, 2.7764), (5, 2.5706), (10, 2.2281),
    (30, 2.0423), (1000, 1.9623)])
def test_t_quantiles_match_the_tables(df, expected):
    assert t_quantile(0.975, df) == pytest.approx(expected, abs=1e-4)
    assert t_quantile(0.025, df) == pytest.approx(-expected, abs=1e-4)
    assert t_cdf(expected, df) == pytest.approx(0.975, abs=1e-5)


def test_the_mean_interval_of_three_seeds_uses_t_with_two_degrees_of_freedom():
    interval = mean_interval([91.5, 91.4, 91.6])
    half = 4.30265 * statistics.stdev([91.5, 91.4, 91.6]) / 3 ** 0.5
    assert interval.mean == pytest.approx(91.5)
    assert (interval.low, interval.high) == pytest.approx((91.5 - half, 91.5 + half))


def test_intervals_cover_the_true_value_about_95_percent_of_the_time():
    rng = random.Random(0)
    trials, covered, covered_difference = 4000, 0, 0
    for _ in range(trials):
        a = [rng.gauss(90.0, 0.3) for _ in range(3)]
        b = [rng.gauss(89.5, 0.6) for _ in range(3)]  # unequal spreads: Welch's case
        covered += mean_interval(a).low <= 90.0 <= mean_interval(a).high
        difference = difference_interval(a, b)
        covered_difference += difference.low <= 0.5 <= difference.high
    assert 0.935 <= covered / trials <= 0.965
    assert 0.93 <= covered_difference / trials <= 0.975  # Welch is close to exact, not exact


def test_a_difference_inside_the_noise_is_a_tie_and_one_outside_is_not():
    assert difference_interval([91.5, 91.4, 91.6], [91.3, 91.6, 91.5]).contains_zero
    outside = difference_interval([92.5, 92.4, 92.6], [91.3, 91.6, 91.5])
    assert not outside.contains_zero and outside.low > 0


def test_one_seed_gives_no_interval():
    with pytest.raises(ValueError):
        mean_interval([91.0])
    with pytest.raises(ValueError):
        difference_interval([91.0], [90.0, 90.5])
