"""A search measured against a true front: share found and hypervolume ratio."""

import pandas as pd
import pytest

from nas.report.truth import front_quality, true_accuracy
from nas.tabular import key_to_spec, records, true_fronts
from nas.tabular.macro import macro_space


def test_the_true_front_itself_scores_one_and_half_of_it_less():
    front = pd.DataFrame(true_fronts(macro_space())["macs"])
    reference = front["macs"].max() * 1.1
    whole = front_quality(front, front, "macs", reference)
    assert whole["share"] == 1 and whole["hv_ratio"] == pytest.approx(1.0)
    half = front_quality(front.iloc[::2], front, "macs", reference)
    assert half["found"] == len(front.iloc[::2]) and half["hv_ratio"] < 1


def test_found_networks_are_scored_on_the_benchmark_mean_not_the_drawn_seed():
    arch = str(key_to_spec("11111221"))
    assert true_accuracy([arch]) == [pytest.approx(records()["11111221"].mean / 100)]
