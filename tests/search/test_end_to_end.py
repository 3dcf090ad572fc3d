"""One real search: the proxy evaluator trains on real Fashion-MNIST images (tiny budget)."""

import subprocess
import sys

import pandas as pd


def test_search_trains_real_networks_and_writes_the_report(tmp_path):
    run_dir = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "nas.search", "~hardware", "search.objectives=macs",
         "search.n_trials=2", "evaluator.epochs=1", "evaluator.train_fraction=0.005",
         "evaluator.val_size=200", "evaluator.bn_recalibration=128", f"run_dir={run_dir}"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    trials = pd.read_csv(run_dir / "trials.csv")
    assert trials["state"].tolist() == ["COMPLETE", "COMPLETE"]
    assert trials.loc[0, "reference"] == "mobilenet_v3_small"
    assert trials["accuracy"].between(0, 1).all() and (trials["train_seconds"] > 0).all()
    assert (trials["epochs"] == 1).all()
    assert (run_dir / "pareto_macs.png").exists() and (run_dir / "summary.md").exists()
