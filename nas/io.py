"""Files that several processes update at once: a lock, then re-read, merge and replace.

Two search workers that each measure a missing op and then save the latency table would, with
a plain write (even an atomic one), keep only the entries of the one that saved last. Here an
update holds an exclusive ``fcntl.flock`` on ``<path>.lock`` while it re-reads the file, merges
its own entries into what is there now, and replaces the file atomically (a temporary file in
the same folder, fsync, ``os.replace``), so a reader never sees half a file and no writer's
entries are lost. The kernel drops the lock when its process dies, however it dies, so a killed
writer never blocks the others. ``flock`` works between processes of one machine (and on most
local file systems only): a table shared by machines needs one file per machine.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def lock_path(path: Path | str) -> Path:
    """The lock file that guards ``path``."""
    path = Path(path)
    return path.with_name(path.name + ".lock")


@contextmanager
def file_lock(path: Path | str, *, shared: bool = False) -> Iterator[None]:
    """Hold an exclusive (or shared) flock on the lock file ``path`` for the block."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def file_sha256(path: Path | str) -> str:
    """The file's SHA-256 (hex): what a result records of a weights file it was made from."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def atomic_write(path: Path | str, text: str) -> None:
    """Replace ``path`` by ``text`` in one step: readers see the old file or the new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def locked_update(path: Path | str, merge: Callable[[str | None], str]) -> str:
    """Under ``<path>.lock``: read ``path`` (None when missing), write ``merge(current)``.

    ``merge`` gets the file as it is now (another process may have changed it since this one
    last read it) and returns the text to write, its own entries merged in. Returns that text.
    """
    path = Path(path)
    with file_lock(lock_path(path)):
        try:
            with open(path, newline="", encoding="utf-8") as handle:
                current = handle.read()
        except FileNotFoundError:
            current = None
        text = merge(current)
        atomic_write(path, text)
    return text
