"""The evaluator's seed noise in the reports: error bars and which front points it cannot order."""

import pandas as pd
import pytest

from nas.cli import load_space
from nas.report import write_report
from nas.report.noise import noise_lines, noise_margin, seed_std, within_noise
from nas.search import SearchSettings, SurrogateEvaluator, run_search


def front(accuracies):
    return pd.DataFrame({"number": range(len(accuracies)), "accuracy": accuracies})


def test_runs_of_front_points_closer_than_the_margin_are_grouped():
    assert noise_margin(1.0) == pytest.approx(2.772, abs=1e-3)
    # margin 2.77 pts: 0.900 and 0.880 are within it, 0.850 is 3 pts below 0.880
    assert within_noise(front([0.90, 0.88, 0.85, 0.70]), 1.0) == [[0, 1]]
    assert within_noise(front([0.90, 0.80, 0.70]), 1.0) == []
    assert within_noise(front([0.90, 0.89, 0.88]), 0.5) == [[0, 1, 2]]


def test_summary_says_when_noise_is_unknown():
    assert "not measured" in " ".join(noise_lines({"macs": front([0.9])}, None))
    assert seed_std({"evaluator_config": {"seed_std": 0.85}}) == 0.85
    assert seed_std({"evaluator_config": {}}) is None


def test_a_search_report_carries_the_evaluator_noise(tmp_path):
    space = load_space("mobilenet_v3_small")
    run_dir = tmp_path / "run"
    study = run_search(space=space, settings=SearchSettings(n_trials=8, objectives="macs"),
                       evaluator=SurrogateEvaluator(), hardware=None, run_dir=run_dir,
                       study_name="run", show_progress=False,
                       metadata={"evaluator_config": {"kind": "surrogate", "seed_std": 1.5}})
    write_report(study, run_dir)
    summary = (run_dir / "summary.md").read_text()
    assert "seed std is 1.50 accuracy points" in summary
    assert "within the noise of each other" in summary or "outside the noise" in summary


def test_a_supernets_summary_says_its_error_is_in_the_ranking_not_seeds():
    text = " ".join(noise_lines({"macs": front([0.9])}, None, "supernet"))
    assert "supernet" in text and "ranking" in text and "not measured" not in text
    assert "not measured" in " ".join(noise_lines({"macs": front([0.9])}, None, "proxy"))
