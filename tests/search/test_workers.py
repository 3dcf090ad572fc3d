"""Many ``python -m nas.search`` workers on one study: journal file, SQLite, PostgreSQL.

Real processes on real storages (a PostgreSQL server the set-up installs and starts, see
pg_server.py), with the surrogate evaluator so a trial takes about a second.
"""

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import optuna
import pytest
from optuna.trial import TrialState
from pg_server import postgres_server, postgres_url  # noqa: F401  (fixtures)

from nas.search import counts_as_done
from nas.search.storage import open_storage
from nas.search.workers import SURPLUS_ATTR, WORKER_ATTR

BASE = ["~hardware", "~data", "evaluator=surrogate", "search.objectives=macs", "report=false",
        "study_name=shared"]
REFERENCES = 1  # mobilenet_v3_small's space enqueues one reference network
FAST_HEARTBEAT = ["search.heartbeat_seconds=1", "search.grace_seconds=3",
                  "search.poll_seconds=0.2"]


def command(storage, run_dir, *args):
    where = [f"run_dir={run_dir}"] + ([f"storage={storage}"] if storage else [])
    return [sys.executable, "-m", "nas.search", *BASE, *where, *args]


def start(storage, run_dir, *args):
    return subprocess.Popen(command(storage, run_dir, *args), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(process, timeout=150):
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err
    return err


def load(storage, run_dir):
    return optuna.load_study(study_name="shared", storage=open_storage(storage, run_dir))


def trials_of(storage, run_dir):
    try:
        return load(storage, run_dir).get_trials()
    except KeyError:  # not created yet
        return []


def check_shared_study(trials, finished):
    """The study's invariants after its workers ended."""
    numbers = [t.number for t in trials]
    assert len(numbers) == len(set(numbers)) == max(numbers) + 1  # no number twice, no gap
    assert sum(map(counts_as_done, trials)) == finished
    assert not [t.number for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    # No lost result: every finished trial holds its values and what was measured.
    assert all(t.values and "arch" in t.user_attrs and "accuracy" in t.user_attrs
               for t in complete)
    references = Counter(t.user_attrs.get("reference") for t in trials
                         if t.user_attrs.get("reference") and "failed_trial" not in t.system_attrs)
    assert list(references.values()) == [1] * REFERENCES  # enqueued once per study
    return complete


@pytest.fixture(params=["journal", "sqlite", "postgresql"])
def storage(request, tmp_path):
    if request.param == "journal":
        return str(tmp_path / "shared.journal")
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    return request.getfixturevalue("postgres_url")


def test_two_workers_each_asked_for_n_trials_end_with_2n(storage, tmp_path):
    n = 4
    # Started together: both race to create the study and enqueue the reference network.
    workers = [start(storage, tmp_path / "run", f"search.n_trials_per_worker={n}",
                     f"seed={seed}") for seed in (0, 1)]
    for worker in workers:
        finish(worker)
    trials = trials_of(storage, tmp_path / "run")
    complete = check_shared_study(trials, finished=2 * n)
    by_worker = Counter(t.user_attrs[WORKER_ATTR] for t in complete)
    assert sorted(by_worker.values()) == [n, n]  # each worker ran its own n
    assert {str(w.pid) for w in workers} == {name.split("-")[-2] for name in by_worker}


def test_workers_sharing_a_total_end_with_exactly_that_total(tmp_path):
    journal = str(tmp_path / "shared.journal")
    workers = [start(journal, tmp_path / "run", "search.n_trials=7", "evaluator.seconds=0.3")
               for _ in range(2)]
    for worker in workers:
        finish(worker)
    trials = trials_of(journal, tmp_path / "run")
    complete = check_shared_study(trials, finished=7)
    assert len({t.user_attrs[WORKER_ATTR] for t in complete}) == 2
    # A surplus trial (two workers starting the last trial at once) is failed unrun.
    assert all(SURPLUS_ATTR in t.user_attrs for t in trials if t.state == TrialState.FAIL)


def _training_trial_of(process, storage, run_dir):
    """A trial ``process`` runs and has sampled and costed (``arch`` set): it is training."""
    for trial in trials_of(storage, run_dir):
        owner = trial.user_attrs.get(WORKER_ATTR, "")
        if trial.state == TrialState.RUNNING and owner.split("-")[-2:-1] == [str(process.pid)] \
                and "arch" in trial.user_attrs:
            return trial
    return None


@pytest.mark.parametrize("kind", ["journal", "postgresql"])
def test_a_worker_killed_mid_trial_is_retried_and_the_total_is_reached(kind, tmp_path, request):
    storage = (str(tmp_path / "shared.journal") if kind == "journal"
               else request.getfixturevalue("postgres_url"))
    run_dir = tmp_path / "run"
    args = ["search.n_trials=6", "evaluator.seconds=1.5", *FAST_HEARTBEAT]
    survivor, victim = start(storage, run_dir, *args), start(storage, run_dir, *args)
    deadline = time.monotonic() + 90
    while (killed := _training_trial_of(victim, storage, run_dir)) is None:
        assert time.monotonic() < deadline and victim.poll() is None, "no trial ever ran"
        time.sleep(0.1)
    os.kill(victim.pid, signal.SIGKILL)  # in the surrogate's 1.5 s "training": mid-trial
    victim.wait()
    finish(survivor)

    trials = trials_of(storage, run_dir)
    check_shared_study(trials, finished=6)
    failed = trials[killed.number]
    assert failed.state == TrialState.FAIL
    retries = [t for t in trials if t.system_attrs.get("failed_trial") == killed.number]
    assert len(retries) == 1 and retries[0].state == TrialState.COMPLETE
    assert retries[0].params == failed.params  # the same candidate, run again
