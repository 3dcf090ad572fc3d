"""``python -m nas.experiment evaluator=supernet``: a tiny supernet trained in the test
(tests/experiment/conftest.py) scores the search and gives NetAdapt's proposals their weights."""

import json
import subprocess
import sys
from pathlib import Path

from tests.tiny_supernet import EXPERIMENT_SPACE

ROOT = Path(__file__).resolve().parents[2]


def test_the_experiment_runs_with_a_supernet_for_its_search_and_netadapt(
        tmp_path, tiny_conf, tiny_supernet):
    """evaluator=supernet is one word (and the file): the search scores with the supernet and
    NetAdapt's proposals take its weights; the final trainings are stand-alone as ever."""
    small = "stem_k3_c8_hs_s2-ir_k3_e2_c16_hs_s2-ir_k3_e2_c16_hs-head_c64_hs-res224"
    args = ["experiment=mobilenet_v3_small", tiny_conf, *EXPERIMENT_SPACE, "evaluator=supernet",
            f"evaluator.path={tiny_supernet}", f"run_dir={tmp_path}", "search.n_trials=3",
            "evaluator.bn_images=64", "evaluator.val_size=200",  # the budget: 2 search workers
            "netadapt.target_ms=4.5", "netadapt.delta_fraction=0.1",
            "netadapt.steps_per_proposal=1", "netadapt.val_images=200", "netadapt.max_steps=1",
            f"experiment.reference={small}", f"compare.networks=[{small}]", "compare.workers=1",
            "compare.seeds=[0,1]", "compare.epochs=1", "compare.train_fraction=0.004",
            "compare.recipe.bn_recalibration=128", "threads=1"]
    done = subprocess.run([sys.executable, "-m", "nas.experiment", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "take the supernet's weights" in done.stdout
    assert "search: 2 workers started" in done.stderr
    assert (tmp_path / "search" / "study.journal").is_file()  # the workers met in the search's
    state = json.loads((tmp_path / "netadapt" / "state.json").read_text())
    assert state["source"] == f"supernet:{tiny_supernet}" and state["step"] == 1
    report = (tmp_path / "report.md").read_text()
    assert "evaluator=supernet" in report and "took the supernet's weights" in report
    assert "was not scored by this search" in report  # the reference is outside the space
    assert len(list((tmp_path / "final" / "runs").glob("*.json"))) == 6
