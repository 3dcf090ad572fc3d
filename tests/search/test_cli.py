"""python -m nas.search as a user runs it: bad overrides, and a run killed with a real signal."""

import os
import signal
import subprocess
import sys
import time

import optuna
import pytest
from optuna.trial import TrialState

from nas.cli import run
from nas.search.__main__ import main
from nas.search.storage import JOURNAL_NAME, open_storage

# The surrogate keeps these runs to seconds; the pixel profile needs no measuring.
BASE = ["hardware=pixel", "evaluator=surrogate"]


def search(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "nas.search", *args],
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("args, message", [
    (["search=evolution"], "search/evolution"),
    (["hardware=pixel9"], "hardware/pixel9"),
    (["search.n_trials=-2"], "search.n_trials must be >= 1, got -2"),
    (["search.n_trials=many"], "search.n_trials must be a whole number, got 'many'"),
    (["search.n_trails=5"], "unknown setting 'search.n_trails'; did you mean search.n_trials?"),
    (["search.w=steep"], "search.w must be a number, got 'steep'"),
    (["search.inactive_genes=maybe"], "search.inactive_genes must be true or false"),
    (["search.constraints.max_mac=1"], "did you mean search.constraints.max_macs?"),
    (["search=_common"], "Available options in 'search': mnasnet, nsga2, random, tpe"),
    (["evaluator.base=high"], "evaluator.base must be a number, got 'high'"),
    (["hydra.searchpath=[file:///no/such/folder]"], "no config folder '/no/such/folder'"),
    (["search.constraints.max_macs=1e6"], "cannot be met: the smallest network of space"),
    (["search.constraints.max_latency_ms=2"], "max_latency_ms=2 cannot be met"),
    (["~hardware", "search.objectives=latency"], "needs latency: give hardware"),
])
def test_bad_overrides_exit_2_with_one_line(args, message, tmp_path, capsys):
    # In-process through the same entry (nas.cli.run) as python -m nas.search, to save startups.
    with pytest.raises(SystemExit) as stop:
        run(main, "config", argv=[*BASE, f"run_dir={tmp_path / 'run'}", *args])
    assert stop.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
    assert not (tmp_path / "run" / JOURNAL_NAME).exists()  # nothing started


def test_a_run_dir_with_only_a_gzipped_journal_is_refused_before_a_new_study(tmp_path, capsys):
    """Committed runs keep study.journal.gz: searching there without gunzip would start anew."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / (JOURNAL_NAME + ".gz")).write_bytes(b"")
    with pytest.raises(SystemExit) as stop:
        run(main, "config", argv=[*BASE, f"run_dir={run_dir}"])
    assert stop.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "gunzip -k" in lines[0], lines
    assert not (run_dir / JOURNAL_NAME).exists()


def test_a_bad_override_from_the_shell_is_one_line(tmp_path):
    result = search(*BASE, "search.n_trials=-1", f"run_dir={tmp_path / 'run'}")
    assert result.returncode == 2
    assert result.stderr == "error: search.n_trials must be >= 1, got -1\n"


def _study(run_dir):
    return optuna.load_study(study_name="run", storage=open_storage(None, run_dir))


def _trials(run_dir):
    """The study's trials so far: none before the journal or the study exists."""
    if not (run_dir / JOURNAL_NAME).exists():
        return []
    try:
        return _study(run_dir).trials
    except KeyError:  # the study is not created yet
        return []


def _finished(run_dir):
    return [t for t in _trials(run_dir) if t.state == TrialState.COMPLETE]


def _mid_trial_after(run_dir, n_finished):
    """True once n_finished trials are complete and another is RUNNING (one read of the study)."""
    states = [t.state for t in _trials(run_dir)]
    return states.count(TrialState.COMPLETE) >= n_finished and TrialState.RUNNING in states


def test_kill_9_mid_run_then_the_same_command_finishes_without_losing_a_trial(tmp_path):
    run_dir = tmp_path / "run"
    args = [sys.executable, "-m", "nas.search", *BASE, f"run_dir={run_dir}",
            "search.n_trials=7", "evaluator.seconds=1.5", "report=false"]
    worker = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    # Kill only once a trial is seen RUNNING: three finished alone may fall between two trials
    # on a loaded machine, and then nothing is left to be marked interrupted.
    while not _mid_trial_after(run_dir, 3) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.kill(worker.pid, signal.SIGKILL)  # mid-trial: a 1.5 s trial was RUNNING a moment ago
    worker.wait()
    before = {t.number: t.values for t in _finished(run_dir)}
    assert len(before) >= 3
    assert any(t.state == TrialState.RUNNING for t in _study(run_dir).trials)

    result = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    trials = _study(run_dir).trials
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(complete) == 7
    assert not any(t.state == TrialState.RUNNING for t in trials)
    assert all(before[n] == trials[n].values for n in before)  # nothing finished was lost
    assert len({t.number for t in trials}) == len(trials)
    interrupted = [t for t in trials if t.state == TrialState.FAIL]
    assert interrupted and all("interrupted" in t.user_attrs for t in interrupted)
    references = [t for t in trials if t.user_attrs.get("reference")]
    assert [t.state for t in references] == [TrialState.COMPLETE]
    assert "7 to go" not in result.stderr and "trials done" in result.stderr


def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path):
    run_dir = tmp_path / "run"
    worker = subprocess.Popen(
        [sys.executable, "-m", "nas.search", "~hardware", "search.objectives=macs",
         "evaluator=surrogate", f"run_dir={run_dir}", "search.n_trials=50",
         "evaluator.seconds=0.5"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    while len(_finished(run_dir)) < 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _finished(run_dir), "no trial finished in time"
    worker.send_signal(signal.SIGINT)
    _, stderr = worker.communicate(timeout=120)
    assert worker.returncode == 130
    assert "run the same command to resume" in stderr
    assert "Traceback" not in stderr
