"""Locks that let many search workers share one study safely.

* ``startup_lock``: one worker at a time opens the study, cleans up after dead workers and
  enqueues the reference networks, so two workers that start at the same moment never enqueue
  them twice. PostgreSQL: a session advisory lock; MySQL: ``GET_LOCK``; SQLite and journal
  files: a ``flock`` beside the file. The database drops its lock when the connection dies and
  the kernel drops a flock when the process dies, so a killed worker never blocks the others.
* ``OwnerLocks``: the liveness of journal-file workers, which have no heartbeats. Each worker
  holds an exclusive flock on its own file in ``<journal>.owners/`` for its lifetime and writes
  its id on every trial it runs; a RUNNING trial whose owner's lock can be taken belongs to a
  dead process. Exact and immediate on one machine (no clocks, no grace period), which is where
  journal files belong.
* ``FlockJournalLock``: Optuna's journal append lock as a flock, so a worker killed while
  appending does not stall the others for Optuna's 30 s stale-lock grace period.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import socket
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

from nas.io import file_lock


class FlockJournalLock:
    """Optuna's journal file lock (its ``acquire``/``release`` protocol) as an exclusive flock on
    ``<journal>.append.lock``."""

    def __init__(self, journal: Path | str) -> None:
        self.path = Path(str(journal) + ".append.lock")
        self._handle = None

    def acquire(self) -> bool:
        self._handle = open(self.path, "a")
        fcntl.flock(self._handle, fcntl.LOCK_EX)
        return True

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing drops the flock
            self._handle = None


def worker_id() -> str:
    """A name for this process that no other process (here or on another machine) shares."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class OwnerLocks:
    """Per-worker flocks in ``<journal>.owners/``: a lock that can be taken has a dead owner."""

    def __init__(self, journal: Path, me: str) -> None:
        self.folder = Path(str(journal) + ".owners")
        self.me = me
        self._handle = None

    def forget_all(self) -> None:
        """Remove every owner file; only while no other worker can be alive (see WorkerLock)."""
        if self.folder.exists():
            for path in self.folder.iterdir():
                path.unlink(missing_ok=True)

    def hold(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._handle = open(self.folder / self.me, "a")
        fcntl.flock(self._handle, fcntl.LOCK_EX)

    def is_alive(self, owner: str) -> bool:
        if owner == self.me:
            return True
        # Owner files are removed only by their owner at exit or by a worker that is alone, so a
        # missing file means the owner has ended.
        try:
            handle = open(self.folder / owner)
        except (FileNotFoundError, IsADirectoryError):
            return False
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            return False

    def release(self) -> None:
        if self._handle is not None:
            (self.folder / self.me).unlink(missing_ok=True)
            self._handle.close()
            self._handle = None


# --- the start-up lock, by kind of storage ---------------------------------------------------
# One lock per database (not per study): Optuna creates its tables when the first worker opens
# an empty database, and two workers doing that at once collide.
ADVISORY_KEY = int.from_bytes(hashlib.sha256(b"nas.search start-up").digest()[:8], "big",
                              signed=True)


@contextlib.contextmanager
def _postgres_lock(engine) -> Iterator[None]:
    from sqlalchemy import text

    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_KEY})
        connection.commit()  # the advisory lock belongs to the session, not the transaction
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
            connection.commit()


@contextlib.contextmanager
def _mysql_lock(engine) -> Iterator[None]:
    from sqlalchemy import text

    with engine.connect() as connection:
        connection.execute(text("SELECT GET_LOCK('nas.search start-up', -1)"))
        try:
            yield
        finally:
            connection.execute(text("SELECT RELEASE_LOCK('nas.search start-up')"))


@contextlib.contextmanager
def _sqlite_lock(engine) -> Iterator[None]:
    database = engine.url.database
    if not database or database == ":memory:":
        yield  # one process only
        return
    with file_lock(Path(database + ".start.lock")):
        yield


DATABASE_LOCKS = {"postgresql": _postgres_lock, "mysql": _mysql_lock, "sqlite": _sqlite_lock}


@contextlib.contextmanager
def startup_lock(storage: str | None, journal: Path | None) -> Iterator[None]:
    """Serialise the start of workers on one storage (see the module docstring).

    ``journal``: the journal file, or None for the database at URL ``storage``.
    """
    if journal is not None:
        with file_lock(Path(str(journal) + ".start.lock")):
            yield
        return
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine(storage, poolclass=NullPool)
    try:
        lock = DATABASE_LOCKS.get(engine.url.get_backend_name())
        if lock is None:
            warnings.warn(f"no start-up lock for {engine.url.get_backend_name()} databases: "
                          "workers started at the same moment may collide", stacklevel=3)
            yield
            return
        with lock(engine):
            yield
    finally:
        engine.dispose()
