"""A latency table saved by several processes at once: no entry is lost, no file is torn."""

import subprocess
import sys
from pathlib import Path

from nas.hardware.keys import OpKey
from nas.hardware.table import LatencyTable

ROOT = Path(__file__).resolve().parents[2]

# A search worker that measures the parts it lacks, one at a time, saving after each (what
# nas.hardware does every few seconds), into the table another worker saves at the same time.
WORKER = """
import sys
from nas.hardware.keys import OpKey
from nas.hardware.table import LatencyTable
from nas.hardware.timing import Timing
path, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
table = LatencyTable({"device": "test-cpu", "backend": "onnxruntime", "threads": 1, "batch": 1})
for resolution in range(first, first + count):
    key = OpKey(op="stem", resolution=resolution, in_ch=3, out=16, kernel=3, stride=2)
    table.add(key, Timing(float(resolution), resolution * 0.9, resolution * 1.1, 20))
    table.save(path)
"""


def test_two_processes_adding_different_parts_keep_all_of_them(tmp_path):
    path = tmp_path / "cpu.csv"
    count = 40
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(path), str(first),
                                 str(count)], cwd=ROOT) for first in (100, 200)]
    assert [w.wait(timeout=120) for w in workers] == [0, 0]
    table = LatencyTable.load(path)
    expected = {OpKey(op="stem", resolution=r, in_ch=3, out=16, kernel=3, stride=2)
                for first in (100, 200) for r in range(first, first + count)}
    assert {key for key in expected if key in table} == expected
    assert len(table) == 2 * count
    assert all(table.ms(key) == key.resolution for key in expected)
    assert table.metadata["entries"] == 2 * count


def test_a_table_of_another_setting_is_not_merged_in(tmp_path):
    path = tmp_path / "cpu.csv"
    key = OpKey(op="stem", resolution=112, in_ch=3, out=16, kernel=3, stride=2)
    from nas.hardware.timing import Timing

    other = LatencyTable({"device": "test-cpu", "backend": "torch", "threads": 1, "batch": 1})
    other.add(key, Timing(1.0, 0.9, 1.1, 20))
    other.save(path)
    mine = LatencyTable({"device": "test-cpu", "backend": "onnxruntime", "threads": 1,
                         "batch": 1})
    mine.save(path)
    assert key not in mine and len(LatencyTable.load(path)) == 0
