"""Where a study lives, and how a killed worker's leftovers are cleaned up.

* Default: an Optuna ``JournalStorage`` file ``<run_dir>/study.journal`` (append-only, safe for
  several processes on one machine through its append lock, a ``flock`` here). Re-running the same
  command opens the same study and continues it.
* ``storage=<url>``: any Optuna storage URL (``sqlite:///x.db``, ``postgresql://...``) opens an
  ``RDBStorage`` with heartbeats: a worker that dies leaves its trial RUNNING only until the grace
  period passes; then Optuna fails it and ``RetryHeartbeatStaleTrialCallback`` re-queues it once.
  A path ending in ``.journal`` / ``.log`` is taken as another journal file.

A journal file has no heartbeats, so each worker holds a shared ``flock`` on
``<journal>.workers`` for its lifetime. A worker that starts and can take the lock exclusively is
alone: it cuts a half-written last line a ``kill -9`` may have left and removes a stale Optuna
lock file, before sharing the lock and starting work; every RUNNING trial in the file was then
left by a dead process and is failed and retried (``nas.search.workers``). Beside live workers,
the owner locks of ``nas.search.locks`` tell which RUNNING trials belong to dead ones. The kernel
drops a flock when a process dies, however it dies.
"""

from __future__ import annotations

import fcntl
import os
import warnings
from pathlib import Path

import optuna
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.storages.journal import JournalFileBackend, JournalStorage

from nas.errors import NasError
from nas.search.locks import FlockJournalLock

JOURNAL_NAME = "study.journal"
HEARTBEAT_SECONDS = 30
GRACE_SECONDS = 120
INTERRUPTED = "interrupted"


def journal_path(storage: str | None, run_dir: Path) -> Path | None:
    """The journal file a storage setting names, or None for a database URL."""
    if storage is None:
        return Path(run_dir) / JOURNAL_NAME
    if "://" not in storage:
        return Path(storage)
    return None


def refuse_packed_journal(storage: str | None, run_dir: Path) -> None:
    """A run directory whose journal is only gzipped (committed runs keep it so): searching
    there would start a new study beside the packed one's results. One line instead."""
    path = journal_path(storage, run_dir)
    packed = None if path is None else path.with_name(path.name + ".gz")
    if packed is not None and packed.is_file() and not path.exists():
        raise NasError(f"{path.parent} holds {packed.name} but no {path.name}: "
                       f"gunzip -k {packed} to continue this search, or give another run_dir=")


def open_storage(storage: str | None, run_dir: Path, *, heartbeat_seconds: int = HEARTBEAT_SECONDS,
                 grace_seconds: int = GRACE_SECONDS) -> optuna.storages.BaseStorage:
    path = journal_path(storage, run_dir)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A flock (nas.search.locks): the kernel frees it when a worker is killed mid-append.
        return JournalStorage(JournalFileBackend(str(path), lock_obj=FlockJournalLock(path)))
    with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna since 2.9
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return RDBStorage(
            storage,
            engine_kwargs=_engine_options(storage),
            heartbeat_interval=heartbeat_seconds,
            grace_period=grace_seconds,
            heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=1),
        )


def _engine_options(url: str) -> dict:
    """SQLite: wait for a busy database instead of failing at once (several local workers)."""
    return {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}


class WorkerLock:
    """Shared flock held by every worker of a journal file; exclusive means 'alone'."""

    def __init__(self, journal: Path) -> None:
        self.journal = Path(journal)
        self._file = None

    def acquire(self) -> bool:
        """Take the lock; True when no other worker is alive (then call ``share`` after cleanup)."""
        self.journal.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.journal.with_name(self.journal.name + ".workers"), "a")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            fcntl.flock(self._file, fcntl.LOCK_SH)  # waits while a starting worker cleans up
            return False

    def share(self) -> None:
        fcntl.flock(self._file, fcntl.LOCK_SH)

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing drops the flock
            self._file = None


def repair_journal(journal: Path) -> None:
    """Cut a half-written last line and remove a stale lock file; only when no worker is alive."""
    lock_file = Path(str(journal) + ".lock")
    if lock_file.exists():
        lock_file.unlink()
    if not journal.exists() or journal.stat().st_size == 0:
        return
    with open(journal, "rb+") as handle:
        handle.seek(-1, os.SEEK_END)
        if handle.read(1) == b"\n":
            return
        handle.seek(0)
        data = handle.read()
        handle.truncate(data.rfind(b"\n") + 1)
