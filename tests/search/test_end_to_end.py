"""Real searches on real Fashion-MNIST images: the proxy evaluator training each candidate (tiny
budget), and the default evaluator, the supernet shipped with the package."""

import subprocess
import sys

import pandas as pd


def test_search_trains_real_networks_and_writes_the_report(tmp_path):
    run_dir = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "nas.search", "~hardware", "search.objectives=macs",
         "search.n_trials=2", "evaluator=proxy", "evaluator.epochs=1",
         "evaluator.train_fraction=0.005", "evaluator.val_size=200",
         "evaluator.bn_recalibration=128", f"run_dir={run_dir}"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    trials = pd.read_csv(run_dir / "trials.csv")
    assert trials["state"].tolist() == ["COMPLETE", "COMPLETE"]
    assert trials.loc[0, "reference"] == "mobilenet_v3_small"
    assert trials["accuracy"].between(0, 1).all() and (trials["train_seconds"] > 0).all()
    assert (trials["epochs"] == 1).all()
    assert (run_dir / "pareto_macs.png").exists() and (run_dir / "summary.md").exists()


def test_the_default_search_scores_candidates_with_the_shipped_supernet(tmp_path):
    run_dir = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "nas.search", "hardware=pixel", "search.n_trials=3",
         "evaluator.val_size=500", "evaluator.bn_images=200", f"run_dir={run_dir}"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    trials = pd.read_csv(run_dir / "trials.csv")
    assert trials["state"].tolist() == ["COMPLETE"] * 3
    assert trials.loc[0, "reference"] == "mobilenet_v3_small"
    # inherited weights, no training: far above chance (10%) on 500 validation images
    assert trials["accuracy"].between(0.8, 1).all() and (trials["epochs"] == 0).all()
    assert (run_dir / "pareto_latency.png").exists() and (run_dir / "summary.md").exists()
