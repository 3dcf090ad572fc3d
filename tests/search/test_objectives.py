"""Objective sets, the MnasNet reward, constraints and settings checks."""

import math

import pytest

from nas.errors import NasError
from nas.search import Constraints, SearchSettings, mnasnet_reward


def test_mnasnet_reward_is_acc_times_latency_ratio_to_the_w():
    assert mnasnet_reward(0.75, 80.0, target_ms=80.0) == pytest.approx(0.75)
    # Twice the target: 0.75 * 2^-0.07
    assert mnasnet_reward(0.75, 160.0, target_ms=80.0) == pytest.approx(0.75 * 2 ** -0.07)
    # Half the target is rewarded with the same exponent (alpha = beta = -0.07 in the paper).
    assert mnasnet_reward(0.75, 40.0, target_ms=80.0) == pytest.approx(0.75 * 0.5 ** -0.07)
    # A hard-constraint variant: w=0 below target, -1 above.
    assert mnasnet_reward(0.8, 40.0, target_ms=80.0, w=0.0, w_above_target=-1.0) == 0.8
    assert mnasnet_reward(0.8, 160.0, target_ms=80.0, w=0.0, w_above_target=-1.0) == 0.4


def test_mnasnet_reward_trades_five_percent_accuracy_for_twice_the_latency():
    slow = mnasnet_reward(0.80, 100.0, target_ms=50.0)
    fast = mnasnet_reward(0.80 / 2 ** 0.07, 50.0, target_ms=50.0)
    assert slow == pytest.approx(fast)
    assert 1 - 2 ** -0.07 == pytest.approx(0.0474, abs=1e-3)


def test_constraint_values_are_relative_and_only_for_set_limits():
    limits = Constraints(max_latency_ms=10.0, max_macs=50e6)
    values = limits.violations(latency_ms=12.0, macs=25e6, params=1e9)
    assert values == pytest.approx([0.2, -0.5])
    text = limits.describe_violation(latency_ms=12.0, macs=25e6, params=1e9)
    assert text == "12.00 ms > 10.00 ms"
    assert not Constraints().active


@pytest.mark.parametrize("bad", [0.0, -1.0, math.inf])
def test_constraints_reject_non_positive_limits(bad):
    with pytest.raises(NasError, match="max_macs"):
        Constraints(max_macs=bad)


@pytest.mark.parametrize("field, value, message", [
    ("n_trials", -3, "n_trials must be >= 1"),
    ("strategy", "evolution", "strategy must be one of"),
    ("objectives", "params", "objectives must be one of"),
    ("max_failure_rate", 1.5, "max_failure_rate"),
    ("pruner", "hyperband", "pruner"),
])
def test_settings_reject_bad_values(field, value, message):
    with pytest.raises(NasError, match=message):
        SearchSettings(**{field: value})


def test_objective_names_follow_the_strategy():
    assert SearchSettings(objectives="all").objective_names == ("accuracy", "macs", "latency")
    assert SearchSettings(strategy="mnasnet").objective_names == ("reward",)
    assert SearchSettings(strategy="mnasnet").needs_latency
    assert not SearchSettings(objectives="macs").needs_latency
