"""python -m nas.search space=nas_bench_macro evaluator=tabular: a real search in seconds, its
report against the true front, and the refusals before it starts."""

import json

import pytest

from nas.cli import run
from nas.search.__main__ import main
from nas.search.storage import JOURNAL_NAME

BASE = ["space=nas_bench_macro", "evaluator=tabular", "hardware=pixel"]


def test_a_tabular_search_reports_the_share_of_the_true_front_it_found(tmp_path, capsys):
    run_dir = tmp_path / "run"
    run(main, "config", argv=[*BASE, "search.n_trials=12", f"run_dir={run_dir}"])
    summary = (run_dir / "summary.md").read_text()
    assert "## Against the benchmark's true Pareto front" in summary
    best = json.loads((run_dir / "best.json").read_text())
    quality = best["true_front"]["macs"]
    assert 0 < quality["hv_ratio"] <= 1 and 0 <= quality["share"] <= 1
    assert quality["true_front_size"] > 10
    assert {p.name for p in run_dir.glob("pareto_*.png")} == {"pareto_macs.png",
                                                             "pareto_latency.png"}


@pytest.mark.parametrize("args, message", [
    (["space=mobilenet_v3_small"], "evaluator=tabular holds NAS-Bench-Macro's 3,969 networks"),
    (["evaluator.noise=gauss"], "evaluator.noise must be one of"),
    (["space.stages.2.ops=[id,k3_e3,k7_e6]"], "which NAS-Bench-Macro never trained"),
])
def test_a_space_the_table_lacks_is_refused_before_the_search(args, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        run(main, "config", argv=[*BASE, f"run_dir={tmp_path / 'run'}", *args])
    assert stop.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines
    assert not (tmp_path / "run" / JOURNAL_NAME).exists()
