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
    assert "target_ms: 15.8" in done.stdout
