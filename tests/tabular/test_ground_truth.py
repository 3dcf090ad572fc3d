"""The ground-truth table nas.rank reads: columns, round trips, the sidecar, bad input."""

import json
import statistics

import pandas as pd
import pytest

from nas.arch import decode, encode
from nas.cli import run
from nas.cost import arch_cost
from nas.tabular.ground_truth import COLUMNS, main, write_ground_truth


def test_the_table_and_its_sidecar_say_what_nas_rank_needs(tmp_path):
    csv_path, sidecar = write_ground_truth(tmp_path / "gt.csv", 25, 3, "the command")
    table = pd.read_csv(csv_path)
    assert tuple(table.columns) == COLUMNS and len(table) == table["arch"].nunique() == 25
    for row in table.itertuples():
        spec = decode(row.arch)
        assert encode(spec) == row.arch
        seeds = [row.seed_0, row.seed_1, row.seed_2]
        assert row.accuracy == pytest.approx(statistics.fmean(seeds), abs=1e-4)
        assert row.accuracy_std == pytest.approx(statistics.stdev(seeds), abs=1e-4)
        assert (row.macs, row.params) == (arch_cost(spec).macs, arch_cost(spec).params)
    meta = json.loads(sidecar.read_text())
    assert sidecar == tmp_path / "gt.json"
    assert meta["space"] == "nas_bench_macro" and meta["dataset"] == "cifar10"
    assert meta["seeds"] == 3 and meta["command"] == "the command"
    again = pd.read_csv(write_ground_truth(tmp_path / "again.csv", 25, 3, "x")[0])
    assert again.equals(table)  # the seed fixes the sample


@pytest.mark.parametrize("args, message", [
    (["sample=4000"], "sample must be between 1 and 3969"),
    (["out=table.txt"], "out must name a .csv file"),
])
def test_bad_input_is_one_line(args, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        run(main, "tabular_ground_truth", argv=[f"out={tmp_path / 'gt.csv'}", *args])
    assert stop.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
