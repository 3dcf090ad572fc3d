"""Rank agreement measures on cases worked by hand."""

import math
import random

import pytest

from nas.yardstick import kendall_tau, rank_scores, spearman, top_k_overlap
from nas.yardstick.rank import kendall_difference_interval, kendall_interval


def test_kendall_and_spearman_of_perfect_reversed_and_hand_worked_orders():
    a = [1, 2, 3, 4, 5]
    assert kendall_tau(a, [10, 20, 30, 40, 50]) == 1.0
    assert kendall_tau(a, [5, 4, 3, 2, 1]) == -1.0
    # one swapped pair of ten: (9 - 1) / 10
    assert kendall_tau(a, [1, 3, 2, 4, 5]) == pytest.approx(0.8)
    # ranks differ by d = (0, 1, -1, 0, 0): 1 - 6 * 2 / (5 * 24)
    assert spearman(a, [1, 3, 2, 4, 5]) == pytest.approx(0.9)


def test_ties_follow_tau_b():
    # x = (1, 1, 2), y = (1, 2, 3): one concordant pair... n0 = 3, ties in x = 1
    # tau-b = (2 - 0) / sqrt((3 - 1) * 3)
    assert kendall_tau([1, 1, 2], [1, 2, 3]) == pytest.approx(2 / math.sqrt(6))
    assert math.isnan(kendall_tau([1, 1, 1], [1, 2, 3]))


def test_top_k_overlap_counts_shared_best():
    truth = [90, 80, 70, 60, 50, 40]
    assert top_k_overlap([6, 5, 4, 3, 2, 1], truth, k=3) == 1.0
    assert top_k_overlap([6, 1, 2, 3, 4, 5], truth, k=3) == pytest.approx(1 / 3)
    scores = rank_scores([1, 2, 3], [3, 2, 1], k=5)
    assert scores.k == 3 and scores.kendall == -1.0 and scores.n == 3


def test_unpaired_or_too_short_input_is_refused():
    with pytest.raises(ValueError, match="paired"):
        kendall_tau([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="at least 2"):
        spearman([1], [1])


def test_bootstrap_interval_brackets_tau_and_is_seeded():
    signal = [1, 2, 3, 5, 4, 6, 8, 7, 9, 10, 12, 11]
    truth = list(range(12))
    low, high = kendall_interval(signal, truth, resamples=300, seed=1)
    assert low <= kendall_tau(signal, truth) <= high < 1.0 + 1e-12
    assert (low, high) == kendall_interval(signal, truth, resamples=300, seed=1)


def test_paired_difference_interval_sees_what_overlapping_intervals_hide():
    rng = random.Random(0)
    truth = list(range(30))
    noisy = [t + rng.gauss(0, 6) for t in truth]  # a weak signal
    better = [n + 0.5 * (t - n) for n, t in zip(noisy, truth)]  # the same, half its error
    own = kendall_interval(noisy, truth, seed=2), kendall_interval(better, truth, seed=2)
    assert own[0][1] > own[1][0]  # the two intervals overlap
    low, high = kendall_difference_interval(better, noisy, truth, seed=2)
    assert 0 < low <= kendall_tau(better, truth) - kendall_tau(noisy, truth) <= high
    assert kendall_difference_interval(noisy, noisy, truth) == (0.0, 0.0)
    assert kendall_difference_interval(better, noisy, truth, seed=2) == (low, high)
