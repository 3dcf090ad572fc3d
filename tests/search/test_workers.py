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

from nas.search import counts_as_done
from nas.search.parallel import (
    MAX_AUTO_WORKERS,
    SERIAL_EVALUATORS,
    WorkerPlan,
    auto_workers,
    plan_workers,
    worker_command,
)
from nas.search.storage import open_storage
from nas.search.workers import RUN, STOP, SURPLUS_ATTR, WAIT, WORKER_ATTR, Budget, resolve_n_workers
from tests.search.pg_server import postgres_server, postgres_url  # noqa: F401  (fixtures)

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
    n = 3
    # Started together: both race to create the study and enqueue the reference network.
    workers = [start(storage, tmp_path / "run", f"search.n_trials_per_worker={n}",
                     f"seed={seed}") for seed in (0, 1)]
    for worker in workers:
        finish(worker)
    trials = trials_of(storage, tmp_path / "run")
    complete = check_shared_study(trials, finished=2 * n)
    by_worker = Counter(t.user_attrs[WORKER_ATTR] for t in complete)
    assert sorted(by_worker.values()) == [n, n]  # each worker ran its own n
    assert {w.pid for w in workers} == {pid_of(t) for t in complete}


def test_workers_sharing_a_total_end_with_exactly_that_total(tmp_path):
    journal = str(tmp_path / "shared.journal")
    workers = [start(journal, tmp_path / "run", "search.n_trials=5", "evaluator.seconds=0.3")
               for _ in range(2)]
    for worker in workers:
        finish(worker)
    trials = trials_of(journal, tmp_path / "run")
    complete = check_shared_study(trials, finished=5)
    assert len({t.user_attrs[WORKER_ATTR] for t in complete}) == 2
    # A surplus trial (two workers starting the last trial at once) is failed unrun.
    assert all(SURPLUS_ATTR in t.user_attrs for t in trials if t.state == TrialState.FAIL)


def pid_of(trial):
    """The process id in the name of the worker that ran ``trial`` (host-pid-random)."""
    return int(trial.user_attrs.get(WORKER_ATTR, "-0-").split("-")[-2])


def _training_trial_of(process, storage, run_dir):
    """A trial ``process`` runs and has sampled and costed (``arch`` set): it is training."""
    for trial in trials_of(storage, run_dir):
        if trial.state == TrialState.RUNNING and pid_of(trial) == process.pid \
                and "arch" in trial.user_attrs:
            return trial
    return None


@pytest.mark.parametrize("kind", ["journal", "postgresql"])
def test_a_worker_killed_mid_trial_is_retried_and_the_total_is_reached(kind, tmp_path, request):
    storage = (str(tmp_path / "shared.journal") if kind == "journal"
               else request.getfixturevalue("postgres_url"))
    run_dir = tmp_path / "run"
    args = ["search.n_trials=5", "evaluator.seconds=2.5", *FAST_HEARTBEAT]
    survivor, victim = start(storage, run_dir, *args), start(storage, run_dir, *args)
    deadline = time.monotonic() + 90
    while _training_trial_of(victim, storage, run_dir) is None:
        assert time.monotonic() < deadline and victim.poll() is None, "no trial ever ran"
        time.sleep(0.1)
    os.kill(victim.pid, signal.SIGKILL)  # in the surrogate's 2.5 s "training": mid-trial
    victim.wait()
    finish(survivor)

    trials = trials_of(storage, run_dir)
    check_shared_study(trials, finished=5)
    killed = [t for t in trials if t.state == TrialState.FAIL and SURPLUS_ATTR not in t.user_attrs]
    assert len(killed) == 1 and pid_of(killed[0]) == victim.pid
    retries = [t for t in trials if t.system_attrs.get("failed_trial") == killed[0].number]
    assert len(retries) == 1 and retries[0].state == TrialState.COMPLETE
    assert killed[0].params.items() <= retries[0].params.items()  # the same candidate again
    assert pid_of(retries[0]) == survivor.pid


def test_n_workers_starts_workers_forwards_ctrl_c_and_the_same_command_resumes(tmp_path):
    run_dir = tmp_path / "run"
    journal = str(run_dir / "study.journal")
    args = [sys.executable, "-m", "nas.search", *BASE, f"run_dir={run_dir}", "search.n_workers=2",
            "search.n_trials=6", "evaluator.seconds=1"]
    parent = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 90
    while sum(map(counts_as_done, trials_of(None, run_dir))) < 2:
        assert time.monotonic() < deadline and parent.poll() is None
        time.sleep(0.2)
    parent.send_signal(signal.SIGINT)  # as Ctrl-C: the parent forwards it to its workers
    _, err = parent.communicate(timeout=60)
    assert parent.returncode == 130, err
    assert "[worker 0]" in err and "[worker 1]" in err and "run the same command" in err
    trials = trials_of(None, run_dir)
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    assert 2 <= sum(map(counts_as_done, trials)) < 6

    again = subprocess.run(args, capture_output=True, text=True, timeout=150)
    assert again.returncode == 0, again.stderr
    trials = trials_of(None, run_dir)
    complete = check_shared_study(trials, finished=6)
    assert len({t.user_attrs[WORKER_ATTR] for t in complete}) >= 3  # two runs, two workers each
    assert journal in again.stdout
    # the study records the command typed, not a worker's own (n_workers=1, report=false)
    assert load(None, run_dir).user_attrs["command"] == "python -m nas.search " + " ".join(args[3:])


def test_budget_counts_the_study_total_or_each_workers_own():
    def trial(number, state):
        t = optuna.trial.create_trial(state=state, value=None if state != TrialState.COMPLETE
                                      else 1.0)
        t.number = number
        return t

    done = [trial(i, TrialState.COMPLETE) for i in range(3)]
    total = Budget(4, None, counts_as_done)
    assert total.next_step(done, mine=0) == RUN
    running = done + [trial(3, TrialState.RUNNING)]
    assert total.next_step(running, mine=0) == WAIT  # the last trial is another worker's
    assert total.surplus(running + [trial(4, TrialState.RUNNING)], 4)
    assert not total.surplus(running, 3)
    queued = running + [trial(4, TrialState.WAITING)]
    assert total.next_step(queued, mine=0) == RUN  # a queued retry is taken (or failed surplus)
    assert total.next_step(done + [trial(3, TrialState.COMPLETE)], mine=0) == STOP
    each = Budget(4, 2, counts_as_done)
    assert each.next_step(running, mine=1) == RUN and each.next_step(running, mine=2) == STOP
    assert not each.surplus(running * 3, 99)


def test_worker_plans_share_cores_and_gpus():
    assert plan_workers(2, cores=16, gpus=[]) == [WorkerPlan(8, None)] * 2
    assert [p.gpu for p in plan_workers(3, cores=2, gpus=["0", "1"])] == ["0", "1", "0"]
    assert plan_workers(4, cores=2, gpus=[])[0].threads == 1
    command = worker_command(["search.n_workers=4", "report=true", "seed=3"], WorkerPlan(2, None))
    assert command[-4:] == ["seed=3", "search.n_workers=1", "search.threads=2", "report=false"]


def test_auto_workers_one_per_core_for_torch_evaluators_one_for_lookups():
    assert auto_workers("supernet", cores=2, gpus=[]) == 2
    assert auto_workers("proxy", cores=1, gpus=[]) == 1
    assert auto_workers("zero_cost", cores=64, gpus=[]) == MAX_AUTO_WORKERS  # memory: a copy each
    assert auto_workers("supernet", cores=16, gpus=["0", "1"]) == 2  # one per GPU
    assert {auto_workers(kind, cores=8, gpus=["0"]) for kind in SERIAL_EVALUATORS} == {1}
    assert resolve_n_workers("auto", "tabular") == 1
    assert resolve_n_workers(3, "tabular") == 3  # a count is kept as given


@pytest.mark.parametrize("arg, message", [
    ("search.n_workers=0", "search.n_workers must be >= 1, got 0"),
    ("search.n_workers=two", "search.n_workers must be a whole number >= 1 or auto, got 'two'"),
    ("search.grace_seconds=1", "search.grace_seconds larger"),
])
def test_bad_worker_settings_exit_2_with_one_line(arg, message, tmp_path):
    result = subprocess.run(command(None, tmp_path / "run", arg), capture_output=True, text=True,
                            timeout=120)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and message in lines[0], result.stderr
    assert not (tmp_path / "run").exists()


def test_bad_input_is_reported_by_the_parent_before_any_worker_starts(tmp_path):
    run_dir = tmp_path / "run"
    missing = [sys.executable, "-m", "nas.search", "hardware=pixel", f"run_dir={run_dir}",
               "search.n_workers=2", f"evaluator.path={tmp_path / 'missing.pt'}"]
    result = subprocess.run(missing, capture_output=True, text=True, timeout=120)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert "supernet file not found" in lines[0] and "worker" not in lines[0]
    assert not run_dir.exists()

    subprocess.run(command(None, run_dir, "search.n_trials=2"), check=True, capture_output=True,
                   timeout=120)
    changed = subprocess.run(command(None, run_dir, "search.n_trials=3", "search.n_workers=2",
                                     "evaluator.base=0.7"),
                             capture_output=True, text=True, timeout=120)
    lines = changed.stderr.strip().splitlines()
    assert changed.returncode == 2 and len(lines) == 1, changed.stderr
    assert "evaluator.evaluator.base: 0.8 then, 0.7 now" in lines[0]
    assert sum(map(counts_as_done, trials_of(None, run_dir))) == 2  # nothing lost or added
