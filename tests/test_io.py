"""locked_update: processes that update one file at once never corrupt it or lose an entry."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nas.io import atomic_write, locked_update

ROOT = Path(__file__).resolve().parents[1]

# A writer adds its own keys one at a time, each by a full read-merge-write of the file, as a
# search worker does when it has measured an op the latency table lacked.
WRITER = """
import json, sys
from nas.io import locked_update
path, who, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(count):
    def merge(text, i=i):
        table = json.loads(text) if text else {}
        table[f"{who}-{i}"] = i
        return json.dumps(table, indent=1)
    locked_update(path, merge)
"""


def test_concurrent_writers_lose_no_entry_and_readers_never_see_half_a_file(tmp_path):
    path = tmp_path / "table.json"
    count = 150
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), who, str(count)],
                                cwd=ROOT) for who in ("a", "b")]
    seen = 0
    while any(w.poll() is None for w in writers):
        if path.exists():  # the file is replaced whole: always complete JSON
            seen = max(seen, len(json.loads(path.read_text())))
    assert [w.wait() for w in writers] == [0, 0]
    table = json.loads(path.read_text())
    assert sorted(table) == sorted(f"{who}-{i}" for who in "ab" for i in range(count))
    assert seen <= len(table)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_failed_merge_leaves_the_file_as_it_was(tmp_path):
    path = tmp_path / "table.json"
    atomic_write(path, '{"kept": 1}')

    def broken(text):
        raise ValueError("corrupt entry")

    with pytest.raises(ValueError):
        locked_update(path, broken)
    assert json.loads(path.read_text()) == {"kept": 1}
    assert locked_update(tmp_path / "new.json", lambda text: str(text)) == "None"
