import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def experiment(*args):
    return subprocess.run([sys.executable, "-m", "nas.experiment", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_without_an_experiment_it_says_which_to_give():
    done = experiment()
    assert done.returncode == 2
    assert "experiment=mobilenet_v3_large" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_an_unknown_experiment_is_one_line():
    done = experiment("experiment=mobilenet_v4")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1


def test_the_experiment_config_composes_with_the_papers_settings():
    done = experiment("experiment=mobilenet_v3_small", "--cfg")
    assert done.returncode == 0, done.stderr
    assert "w: -0.15" in done.stdout and "strategy: mnasnet" in done.stdout
    assert "target_ms: 13.5" in done.stdout


def test_the_small_experiment_runs_end_to_end_on_a_tiny_budget(tmp_path):
    """Search (MnasNet reward, the reference enqueued), NetAdapt with real steps, the comparison
    and the report, on a few hundred images; a rerun continues instead of starting over."""
    tiny = [f"run_dir={tmp_path}", "search.n_trials=2", "evaluator.epochs=1",
            "evaluator.train_fraction=0.004", "evaluator.val_size=200",
            "evaluator.bn_recalibration=128", "netadapt.target_ms=13.5",
            "netadapt.delta_fraction=0.1", "netadapt.steps_per_proposal=2",
            "netadapt.seed_steps=4", "netadapt.train_images=400", "netadapt.val_images=100",
            "netadapt.max_steps=1", "compare.seeds=[0]", "compare.networks=[mobilenet_v3_small]",
            "threads=1"]
    done = subprocess.run([sys.executable, "-m", "nas.experiment",
                           "experiment=mobilenet_v3_small", *tiny], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    report = (tmp_path / "report.md").read_text()
    assert "| mobilenet_v3_small | reference |" in report
    assert "search best" in report
    steps = (tmp_path / "netadapt" / "steps.csv").read_text().splitlines()
    assert len(steps) >= 2 and "kept" in steps[0]
    for name in ("compare.csv", "compare.png", "search/trials.csv"):
        assert (tmp_path / name).stat().st_size > 0
    compare = (tmp_path / "compare.csv").read_text()
    again = subprocess.run([sys.executable, "-m", "nas.experiment",
                            "experiment=mobilenet_v3_small", *tiny], cwd=ROOT,
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert (tmp_path / "compare.csv").read_text() == compare  # nothing trained twice
