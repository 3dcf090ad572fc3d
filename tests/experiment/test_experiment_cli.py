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


TINY_PROXY = ["search.n_trials=2", "evaluator.epochs=1", "evaluator.train_fraction=0.004",
              "evaluator.val_size=200", "evaluator.bn_recalibration=128",
              "netadapt.delta_fraction=0.1", "netadapt.steps_per_proposal=2",
              "netadapt.seed_steps=4", "netadapt.train_images=400", "netadapt.val_images=100",
              "netadapt.max_steps=1", "threads=1"]
# The final trainings at a tiny budget: 2 seeds, 1 epoch on 240 images, 500 validation images.
TINY_FINAL = ["compare.seeds=[0,1]", "compare.networks=[mobilenet_v3_small]", "compare.epochs=1",
              "compare.train_fraction=0.004", "compare.recipe.bn_recalibration=128",
              "data.val_size=500"]


def run_experiment(*args):
    return subprocess.run([sys.executable, "-m", "nas.experiment", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)


def mtimes(folder):
    return {p.name: p.stat().st_mtime_ns for p in sorted(folder.glob("*.json"))}


def test_the_small_experiment_runs_end_to_end_and_its_final_trainings_resume(tmp_path):
    """Search (MnasNet reward, the reference enqueued), NetAdapt with a real step, the final
    trainings (found networks and the reference, 2 seeds, 2 worker processes) and the report
    with intervals; a rerun trains only the training that is missing."""
    args = ["experiment=mobilenet_v3_small", f"run_dir={tmp_path}", *TINY_PROXY, *TINY_FINAL]
    done = run_experiment(*args)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "report (interim, 0 of 6 final trainings finished)" in done.stderr
    report = (tmp_path / "report.md").read_text()
    assert "## Verdict" in report and "[95% interval" in report
    assert "a tie: the interval contains zero" in report  # 2 seeds of 240 images: all noise
    assert "| mobilenet_v3_small | reference |" in report and "search best" in report
    assert "## Time" in report and "the issue's 90-minute limit" in report
    steps = (tmp_path / "netadapt" / "steps.csv").read_text().splitlines()
    assert len(steps) >= 2 and "kept" in steps[0]
    runs = tmp_path / "final" / "runs"
    assert sorted(mtimes(runs)) == sorted(f"{name}-seed{seed}.json" for seed in (0, 1) for name in
                                          ("search_best", "search_netadapt",
                                           "mobilenet_v3_small"))
    for name in ("final.csv", "compare.png", "search_curve.png", "candidates.png",
                 "search/trials.csv", "verdicts.csv", "final_summary.csv"):
        assert (tmp_path / name).stat().st_size > 0, name
    trials = (tmp_path / "search" / "trials.csv").read_text()
    steps_log = (tmp_path / "netadapt" / "steps.csv").read_text()
    before = mtimes(runs)
    (runs / "search_netadapt-seed1.json").unlink()  # a training killed before it finished
    again = run_experiment(*args)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "final: 5/6 trainings done, 1 to go" in again.stderr
    assert "report (interim, 5 of 6 final trainings finished)" in again.stderr
    assert "**Pending" not in (tmp_path / "report.md").read_text()  # the full one replaced it
    after = mtimes(runs)
    assert set(after) == set(before)
    assert all(after[n] == before[n] for n in before if n != "search_netadapt-seed1.json")
    assert (tmp_path / "search" / "trials.csv").read_text() == trials  # nothing searched again
    assert (tmp_path / "netadapt" / "steps.csv").read_text() == steps_log


def test_a_gzipped_journal_without_its_journal_is_refused_before_a_new_study_starts(tmp_path):
    """Committed runs keep study.journal.gz: a rerun without gunzip would search from scratch."""
    search = tmp_path / "search"
    search.mkdir()
    (search / "study.journal.gz").write_bytes(b"")
    done = experiment("experiment=mobilenet_v3_small", f"run_dir={tmp_path}")
    assert done.returncode == 2, done.stderr
    assert "gunzip -k" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in search.iterdir()) == ["study.journal.gz"]
