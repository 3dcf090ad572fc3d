"""Pareto extraction and hypervolume on hand-made points."""

import numpy as np
import optuna
import pandas as pd
import pytest

from nas.report import hypervolume_2d, hypervolume_history, non_dominated, pareto_front


def test_non_dominated_keeps_the_front_and_ties():
    costs = np.array([[1, 5], [2, 3], [3, 4], [4, 1], [2, 3], [5, 5]])
    assert non_dominated(costs).tolist() == [True, True, False, True, True, False]


def test_pareto_front_maximises_accuracy_and_minimises_cost():
    frame = pd.DataFrame({"number": range(5), "accuracy": [0.80, 0.85, 0.84, 0.90, 0.70],
                          "macs": [10, 20, 30, 40, 5]})
    front = pareto_front(frame, minimize=("macs",))
    assert front["number"].tolist() == [4, 0, 1, 3]  # sorted by cost; #2 is dominated by #1


def test_hypervolume_of_hand_made_staircase():
    # Points (accuracy, cost/ref): (0.5, 0.2), (0.8, 0.6). Area = 0.5*(0.6-0.2) + 0.8*(1-0.6)
    assert hypervolume_2d([0.5, 0.8], [20, 60], 100) == pytest.approx(0.5 * 0.4 + 0.8 * 0.4)
    # A dominated point and one beyond the reference add nothing.
    assert hypervolume_2d([0.5, 0.8, 0.4, 0.99], [20, 60, 70, 120], 100) == pytest.approx(0.52)
    assert hypervolume_2d([], [], 1.0) == 0.0


def test_hypervolume_agrees_with_optunas():
    rng = np.random.default_rng(0)
    accuracy, cost = rng.uniform(0.5, 0.95, 40), rng.uniform(5, 95, 40)
    losses = np.column_stack([1 - accuracy, cost / 100])
    theirs = optuna._hypervolume.compute_hypervolume(losses, np.array([1.0, 1.0]))
    assert hypervolume_2d(accuracy, cost, 100) == pytest.approx(theirs)


def test_hypervolume_history_never_decreases():
    frame = pd.DataFrame({"number": [0, 1, 2, 3], "accuracy": [0.6, 0.5, 0.9, 0.7],
                          "macs": [50, 20, 80, 10]})
    history = hypervolume_history(frame, "macs", 100)
    assert history.index.tolist() == [0, 1, 2, 3]
    assert np.all(np.diff(history.to_numpy()) >= 0)
    assert history.iloc[0] == pytest.approx(0.6 * 0.5)
