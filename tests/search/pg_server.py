"""A throw-away PostgreSQL server for the tests: installed if missing, started on a free port.

The server runs from a fresh data folder under /tmp with trust authentication on 127.0.0.1 only
and ``fsync=off`` (nothing to keep); it is stopped and deleted when the test session ends. Run as
root, initdb refuses to start, so the server then runs as the ``postgres`` system user (which
Debian's package creates). Where PostgreSQL cannot be installed or started, the tests that need
it skip and say so loudly: the skip reason and a warning in pytest's summary.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _initdb() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found and shutil.which("initdb"):
        found = [shutil.which("initdb")]
    return found[-1] if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _skip(reason: str):
    message = f"PostgreSQL TESTS NOT RUN: {reason}"
    warnings.warn(message, stacklevel=2)
    pytest.skip(message)


class Server:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.folder = Path(tempfile.mkdtemp(prefix="nas-postgres-"))
        self.port = _free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root: run the server as Debian's postgres user
            shutil.chown(self.folder, user="postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, text=True,
                       timeout=120)

    def start(self) -> None:
        data = self.folder / "data"
        self._run(str(self.bindir / "initdb"), "-D", str(data), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--no-sync")
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c max_connections=200")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(data), "-o", options,
                  "-l", str(self.folder / "server.log"), "-w", "start")

    def stop(self) -> None:
        try:
            if (self.folder / "data" / "postmaster.pid").exists():
                self._run(str(self.bindir / "pg_ctl"), "-D", str(self.folder / "data"),
                          "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def new_database(self) -> str:
        import psycopg

        name = "nas_" + uuid.uuid4().hex[:12]
        connection = psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                                     dbname="postgres", autocommit=True)
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name}")
        connection.close()
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"


@pytest.fixture(scope="session")
def postgres_server():
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _skip("psycopg is missing (pip install 'nas[postgres]')")
    if _initdb() is None:
        subprocess.run(["bash", str(ROOT / "scripts/install_postgres.sh")], check=False)
    initdb = _initdb()
    if initdb is None:
        _skip("the PostgreSQL server could not be installed (see scripts/install_postgres.sh)")
    server = Server(Path(initdb).parent)
    try:
        server.start()
    except (subprocess.CalledProcessError, OSError, LookupError) as error:
        server.stop()
        detail = getattr(error, "stderr", "") or str(error)
        _skip(f"the PostgreSQL server did not start: {detail.strip()[:300]}")
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """The URL of a new, empty database on the session's server."""
    return postgres_server.new_database()
