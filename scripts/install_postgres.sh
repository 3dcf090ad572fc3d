#!/usr/bin/env bash
# Install Debian's PostgreSQL server binaries (package `postgresql`), if initdb is not there yet.
# Run by `make test` and by the PostgreSQL test fixture (tests/search/pg_server.py), which starts
# its own throw-away server on a free local port; nothing here starts or enables a system service.
# Safe to run again. Without apt-get (or root/sudo) it says so and the PostgreSQL tests skip.
set -euo pipefail
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && exit 0
command -v initdb >/dev/null 2>&1 && exit 0
if ! command -v apt-get >/dev/null; then
    echo "PostgreSQL (initdb) not found and apt-get is missing: the PostgreSQL tests will skip" >&2
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if ! sudo -n true 2>/dev/null; then
        echo "PostgreSQL (initdb) not found and no root: the PostgreSQL tests will skip" >&2
        exit 0
    fi
    sudo="sudo -n"
fi
echo "installing Debian's postgresql (server binaries for the tests)"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -q postgresql >/dev/null 2>&1 ||
    { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q postgresql >/dev/null; } ||
    echo "installing postgresql failed: the PostgreSQL tests will skip" >&2
exit 0
