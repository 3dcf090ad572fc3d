"""Many workers on one study: how many trials each runs, and what happens when one dies.

Any number of ``python -m nas.search`` processes given the same ``storage`` and ``study_name``
share one study (on one machine through a journal or SQLite file, across machines through
PostgreSQL or MySQL). Two budgets:

* ``search.n_trials`` (the default): the study's total of finished trials, references included.
  Every worker stops when the study holds that many, so N workers asked for the same total end
  with exactly that total. Exactly, not about: a worker checks the budget after Optuna has given
  its trial a number, and if the trials numbered before it (finished, running or queued) already
  fill the budget, the trial is failed unrun (user attr ``surplus``; it never counts, and it
  happens only when two workers start a trial at the same moment). A worker whose budget is
  filled by other workers' running trials waits for them instead of leaving: if one of those
  workers dies, its trial is failed and retried, and the waiting worker runs the retry.
  Re-running a command continues the study up to its total.
* ``search.n_trials_per_worker=N``: each worker adds N finished trials of its own, whatever the
  study holds ("two workers each asked for N trials end with 2N"); re-running adds N more.

A finished trial is one that counts in ``nas.search.counts_as_done``: COMPLETE, PRUNED, or
FAIL by the candidate itself (NaN loss, an exception in training). Trials cut off by a dead
worker do not count.

A dead worker's trial: with a database, Optuna's heartbeats (``heartbeat_seconds``) mark it
FAIL once ``grace_seconds`` pass without one; with a journal file, the owner locks of
``nas.search.locks`` show it at once. Either way it is retried once, with the same parameters,
as a new trial (Optuna's ``RetryHeartbeatStaleTrialCallback``, ``max_retry=1``), and whichever
worker comes next runs it.
"""

from __future__ import annotations

import contextlib
import copy
import signal
import threading
import time
import warnings
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.storages import RetryHeartbeatStaleTrialCallback, fail_stale_trials
from optuna.trial import FrozenTrial, TrialState

from nas.errors import NasError
from nas.search.locks import OwnerLocks, worker_id
from nas.search.storage import GRACE_SECONDS, HEARTBEAT_SECONDS, INTERRUPTED

WORKER_ATTR = "worker"  # trial user attr: the worker that ran (or runs) it
SURPLUS_ATTR = "surplus"
INTERRUPTED_ATTR = INTERRUPTED  # why a trial was failed
MAX_RETRY = 1

# search.<key> settings that belong to the workers, not to the strategy.
WORKER_KEYS = ("n_workers", "n_trials_per_worker", "threads", "heartbeat_seconds",
               "grace_seconds", "poll_seconds")


@dataclass(frozen=True, kw_only=True)
class WorkerSettings:
    """How this process works on a shared study (``conf/shared/search.yaml``)."""

    n_workers: int = 1
    n_trials_per_worker: int | None = None
    threads: int | None = None
    heartbeat_seconds: int = HEARTBEAT_SECONDS
    grace_seconds: int = GRACE_SECONDS
    poll_seconds: float = 1.0

    def __post_init__(self) -> None:
        if self.n_workers < 1:
            raise NasError(f"search.n_workers must be >= 1, got {self.n_workers}")
        if self.n_trials_per_worker is not None and self.n_trials_per_worker < 1:
            raise NasError("search.n_trials_per_worker must be >= 1 or null, got "
                           f"{self.n_trials_per_worker}")
        if self.threads is not None and self.threads < 1:
            raise NasError(f"search.threads must be >= 1 or null, got {self.threads}")
        if self.heartbeat_seconds < 1 or self.grace_seconds <= self.heartbeat_seconds:
            raise NasError("search.heartbeat_seconds must be >= 1 and search.grace_seconds "
                           f"larger, got {self.heartbeat_seconds} and {self.grace_seconds}")
        if not self.poll_seconds > 0:
            raise NasError(f"search.poll_seconds must be positive, got {self.poll_seconds}")


def split_worker_settings(search: dict, evaluator_kind: str = "proxy") -> tuple[WorkerSettings,
                                                                                dict]:
    """The worker keys of a (typed, nas.schema.Search) ``search`` config as WorkerSettings, and
    the rest of it; ``n_workers: auto`` resolved for the evaluator of that kind."""
    rest = dict(search)
    values = {key: rest.pop(key) for key in WORKER_KEYS if key in rest}
    if "n_workers" in values:
        values["n_workers"] = resolve_n_workers(values["n_workers"], evaluator_kind)
    return WorkerSettings(**values), rest


def resolve_n_workers(value, evaluator_kind: str) -> int:
    """``search.n_workers``: a count, or ``auto`` (``nas.search.parallel.auto_workers``)."""
    if isinstance(value, str) and value.strip().lower() == "auto":
        from nas.search.parallel import auto_workers
        return auto_workers(evaluator_kind)
    if isinstance(value, bool) or not isinstance(value, int):
        raise NasError(f"search.n_workers must be a whole number >= 1 or auto, got {value!r}")
    return value


# --- the budget --------------------------------------------------------------------------------
STOP, WAIT, RUN = "stop", "wait", "run"
LIVE = (TrialState.RUNNING, TrialState.WAITING)


@dataclass(frozen=True)
class Budget:
    """When a worker stops (see the module docstring); ``counts`` says which trials count."""

    total: int
    per_worker: int | None
    counts: Callable[[FrozenTrial], bool]

    @property
    def goal(self) -> int:
        return self.total if self.per_worker is None else self.per_worker

    def done(self, trials: Sequence[FrozenTrial], mine: int) -> int:
        return mine if self.per_worker is not None else sum(map(self.counts, trials))

    def next_step(self, trials: Sequence[FrozenTrial], mine: int) -> str:
        if self.per_worker is not None:
            return STOP if mine >= self.per_worker else RUN
        done = sum(map(self.counts, trials))
        if done >= self.total:
            return STOP
        if any(t.state == TrialState.WAITING for t in trials):
            return RUN  # queued trials (references, retries) are run, or failed as surplus
        running = sum(t.state == TrialState.RUNNING for t in trials)
        return WAIT if done + running >= self.total else RUN

    def surplus(self, trials: Sequence[FrozenTrial], number: int) -> bool:
        """Whether trial ``number`` falls outside the total (the trials before it fill it)."""
        if self.per_worker is not None:
            return False
        before = sum(1 for t in trials
                     if t.number < number and (t.state in LIVE or self.counts(t)))
        return before >= self.total


class Surplus(Exception):
    """The trials numbered before this one already fill the study's total: not run."""


# --- one worker ----------------------------------------------------------------------------
def fail_and_retry(study: optuna.Study, trial: FrozenTrial, reason: str) -> bool:
    """Fail a dead worker's RUNNING ``trial`` and queue it once more; False if another did."""
    storage = study._storage
    try:
        storage.set_trial_user_attr(trial._trial_id, INTERRUPTED_ATTR, reason)
        if not storage.set_trial_state_values(trial._trial_id, TrialState.FAIL):
            return False
    except optuna.exceptions.UpdateFinishedTrialError:
        return False  # another worker failed it first (and retried it)
    # The retry copies the RUNNING snapshot's user attrs: not the 'interrupted' note, and not the
    # dead owner, whose name would let a reaper fail the retry before its new owner signs it.
    retry = copy.deepcopy(trial)
    retry.user_attrs.pop(WORKER_ATTR, None)
    with warnings.catch_warnings():  # "experimental" in Optuna since 2.8
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        retry_once = RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY)
    retry_once(study, retry)
    return True


@dataclass
class Worker:
    """This process's part in a shared study: its id, its liveness lock, its reaper, its seed."""

    settings: WorkerSettings
    me: str
    index: int
    owners: OwnerLocks | None  # journal files only; databases use heartbeats

    @classmethod
    def start(cls, study: optuna.Study, settings: WorkerSettings, *, journal: Path | None,
              alone: bool) -> Worker:
        """Join ``study`` (call under ``startup_lock``): take an index, clean up after the dead."""
        me = worker_id()
        index = int(study.user_attrs.get("worker_starts", 0))
        study.set_user_attr("worker_starts", index + 1)
        owners = None
        if journal is not None:
            owners = OwnerLocks(journal, me)
            if alone:
                owners.forget_all()
            owners.hold()
        worker = cls(settings, me, index, owners)
        worker.reap(study, alone=alone)
        return worker

    @property
    def seed_offset(self) -> int:
        """0 for a study's first worker (a lone run stays reproducible); distinct otherwise."""
        return 0 if self.index == 0 else zlib.crc32(f"{self.index}:{self.me}".encode())

    def reap(self, study: optuna.Study, alone: bool = False) -> int:
        """Fail and retry the RUNNING trials of dead workers; returns how many."""
        if self.owners is None:
            fail_stale_trials(study)  # heartbeats; the storage's callback retries them
            return 0
        failed = 0
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            owner = trial.user_attrs.get(WORKER_ATTR)
            # A trial with no owner yet is a worker's first milliseconds: only a lone worker
            # knows that its process is gone.
            dead = alone or (owner is not None and not self.owners.is_alive(owner))
            if dead:
                reason = f"its worker {owner or '?'} ended mid-trial; retried as a new trial"
                failed += fail_and_retry(study, trial, reason)
        return failed

    def close(self) -> None:
        if self.owners is not None:
            self.owners.release()

    def run(self, study: optuna.Study, objective: Callable, budget: Budget, *,
            callbacks: Sequence[Callable] = (), stopped: Callable[[], bool] = lambda: False,
            catch: tuple = (Exception,)) -> int:
        """Run trials until ``budget`` says stop; returns how many counted trials this ran.

        Ctrl-C (SIGINT) while a candidate trains stops at once, and Optuna fails the trial; one
        that arrives while Optuna creates or records a trial takes effect right after, so an
        interrupted worker never leaves a trial RUNNING.
        """
        mine = 0
        interrupt = _Interrupt()

        def tally(study: optuna.Study, trial: FrozenTrial) -> None:
            nonlocal mine
            mine += budget.counts(trial)

        def guarded(trial: optuna.Trial):
            trial.set_user_attr(WORKER_ATTR, self.me)
            if budget.surplus(study.get_trials(deepcopy=False), trial.number):
                trial.set_user_attr(SURPLUS_ATTR, "the study had its n_trials when this began")
                raise Surplus()
            with interrupt.allowed():
                return objective(trial)

        def unless_surplus(callback):
            return lambda s, t: None if SURPLUS_ATTR in t.user_attrs else callback(s, t)

        hooks = [unless_surplus(c) for c in callbacks] + [tally]
        with interrupt.installed():
            while not stopped():
                interrupt.check()
                self.reap(study)
                step = budget.next_step(study.get_trials(deepcopy=False), mine)
                if step == STOP:
                    break
                if step == WAIT:
                    time.sleep(self.settings.poll_seconds)
                    continue
                study.optimize(guarded, n_trials=1, callbacks=hooks, catch=catch)
            interrupt.check()
        return mine


class _Interrupt:
    """SIGINT raises KeyboardInterrupt only where a trial can be failed cleanly (see run)."""

    def __init__(self) -> None:
        self.requested = False
        self.inside = False

    def _handle(self, signum, frame) -> None:
        self.requested = True
        if self.inside:
            self.inside = False
            raise KeyboardInterrupt

    def check(self) -> None:
        if self.requested:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def allowed(self) -> Iterator[None]:
        self.check()
        self.inside = True
        try:
            yield
        finally:
            self.inside = False

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # signal handlers belong to the main thread
            return
        previous = signal.signal(signal.SIGINT, self._handle)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
