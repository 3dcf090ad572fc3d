"""Successive halving computed from the budgets' scores and times."""

import pytest

from nas.errors import NasError
from nas.yardstick.halving import successive_halving


def test_the_best_third_goes_on_and_outranks_everyone_stopped_earlier():
    low = [0.5, 0.9, 0.1, 0.8, 0.3, 0.7]          # rung 0: networks 1 and 3 go on (6 / 3 = 2)
    high = [0.0, 0.6, 0.0, 0.95, 0.0, 0.0]        # rung 1: 3 beats 1
    order, seconds = successive_halving([low, high], [[1.0] * 6, [10.0] * 6], eta=3)
    ranked = sorted(range(6), key=lambda i: order[i], reverse=True)
    assert ranked == [3, 1, 5, 0, 4, 2]  # rung 1 by its score, then rung 0 by its score
    assert seconds == pytest.approx(6 * 1.0 + 2 * 10.0)  # only networks 1 and 3 trained twice


def test_three_rungs_with_eta_two_and_one_rung_is_the_budget_itself():
    scores = [[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1], [0.0, 0.0, 0.5, 0.9]]
    order, seconds = successive_halving(scores, [[1.0] * 4, [2.0] * 4, [4.0] * 4], eta=2)
    # rung 0 keeps 2 and 3; rung 1 keeps 2; network 2 alone reaches rung 2
    assert max(range(4), key=lambda i: order[i]) == 2
    assert seconds == pytest.approx(4 * 1 + 2 * 2 + 1 * 4)
    single, cost = successive_halving([scores[0]], [[1.0] * 4])
    assert single == [0.0, 1.0, 2.0, 3.0] and cost == pytest.approx(4.0)


@pytest.mark.parametrize("rungs, seconds, eta, message", [
    ([[1, 2]], [[1, 1]], 1, "eta must be >= 2"),
    ([[1, 2], [1]], [[1, 1], [1, 1]], 3, "one score and one time per network"),
])
def test_bad_input(rungs, seconds, eta, message):
    with pytest.raises(NasError, match=message):
        successive_halving(rungs, seconds, eta=eta)
