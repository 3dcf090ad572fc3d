"""The ground-truth table format: reading, checking, the seed-to-seed ceiling."""

import json

import pandas as pd
import pytest

from nas.yardstick import GroundTruthError, load_ground_truth, seed_ceiling
from nas.yardstick.table import save_ground_truth

META = {"space": "mobilenet_v3_small", "dataset": "fashion_mnist", "budget": "test",
        "seeds": 2}


def table(n=12, noise=0.0):
    rows = []
    for i in range(n):
        a, b = 80 + i, 80 + i + (noise if i % 2 else -noise)
        rows.append({"arch": f"net{i}", "accuracy": (a + b) / 2, "accuracy_std": abs(a - b),
                     "seed_0": a, "seed_1": b, "macs": 1000 * i, "params": 10 * (n - i)})
    return pd.DataFrame(rows)


def test_round_trip_and_ceiling(tmp_path):
    path = tmp_path / "gt.csv"
    save_ground_truth(table(), META, path)
    truth = load_ground_truth(path, space="mobilenet_v3_small")
    assert len(truth.frame) == 12 and truth.space == "mobilenet_v3_small"
    assert truth.ceiling["kendall"] == 1.0 and truth.ceiling["networks"] == 12
    # seeds that disagree on every other neighbour pair: ceiling well below 1
    assert seed_ceiling(table(noise=2.0))["kendall"] < 0.8


@pytest.mark.parametrize("problem, message", [
    ("few", "holds 5 networks; a ranking needs at least 10"),
    ("space", "is a ground truth of space 'other', not 'mobilenet_v3_small'"),
    ("no_meta", "metadata gt.json is missing"),
    ("no_column", "missing accuracy"),
    ("missing", "ground truth not found"),
])
def test_bad_tables_are_refused_with_one_reason(tmp_path, problem, message):
    path = tmp_path / "gt.csv"
    frame, meta = table(5 if problem == "few" else 12), dict(META)
    if problem == "space":
        meta["space"] = "other"
    if problem == "no_column":
        frame = frame.drop(columns=["accuracy"])
    if problem != "missing":
        frame.to_csv(path, index=False)
        if problem != "no_meta":
            path.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(GroundTruthError, match=message):
        load_ground_truth(path, space="mobilenet_v3_small")
