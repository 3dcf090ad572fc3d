"""Everything the experiment needs is checked before the search starts: each bad value ends the
command in one line, and nothing is searched, adapted or trained."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nas.cli import compose_config
from nas.errors import NasError
from nas.experiment import main

ROOT = Path(__file__).resolve().parents[2]


def refuse(tmp_path, *overrides, experiment="mobilenet_v3_small"):
    cfg = compose_config("config", [f"experiment={experiment}", f"run_dir={tmp_path}",
                                    *overrides])
    with pytest.raises(NasError) as error:
        main(cfg)
    assert not (tmp_path / "search").exists() and not (tmp_path / "netadapt").exists()
    return str(error.value)


@pytest.mark.parametrize("overrides, message", [
    (["netadapt.target_ms=-1"], "target_ms must be positive"),
    (["netadapt.delta_fraction=1.5"], "delta_fraction must be in (0, 1)"),
    (["netadapt.target_ms=3"], "netadapt.target_ms=3 ms may be out of NetAdapt's reach"),
    (["compare.seeds=[0]"], "compare.seeds must hold at least two distinct seeds"),
    (["compare.seeds=[1,1]"], "compare.seeds must hold at least two distinct seeds"),
    (["compare.epochs=0"], "compare.epochs must be >= 1"),
    (["compare.train_fraction=1.5"], "compare.train_fraction must be in (0, 1]"),
    (["compare.workers=0"], "compare.workers must be >= 1"),
    (["compare.best_within=[0]"], "compare.best_within counts candidates"),
    (["compare.networks=[mobilenet_v3_small,mobilenet_v9]"], "compare.networks:"),
    (["compare.networks=[mobilenet_v2]"], "experiment.reference=mobilenet_v3_small is not among"),
    (["compare.recipe.lr=-0.1"], "compare.recipe: lr must be positive"),
    (["data.root=/nonexistent"], "/nonexistent"),
    (["evaluator=tabular"], "NetAdapt cannot use evaluator=tabular"),
    (["evaluator=surrogate"], "experiment=mobilenet_v3_small has no budget for "
                              "evaluator=surrogate (conf/experiment_budget/"
                              "mobilenet_v3_small_surrogate.yaml): give netadapt.delta_fraction"),
    (["evaluator=supernet", "evaluator.path=/nonexistent/x.pt"],
     "supernet file not found: /nonexistent/x.pt"),
])
def test_a_bad_setting_is_refused_before_the_search(tmp_path, overrides, message):
    assert message in refuse(tmp_path, *overrides)


def test_the_large_experiments_target_is_checked_against_its_own_space(tmp_path):
    assert "give netadapt.target_ms >= 12.08" in refuse(tmp_path, "netadapt.target_ms=10",
                                                        experiment="mobilenet_v3_large")


def test_a_supernet_of_another_space_is_refused_with_the_command_that_makes_the_right_one(
        tmp_path, tiny_supernet):
    message = refuse(tmp_path, "evaluator=supernet", f"evaluator.path={tiny_supernet}")
    assert "is a supernet of space 'tiny_fixed', not 'mobilenet_v3_small'" in message
    assert "for this experiment: python -m nas.supernet space=mobilenet_v3_small " \
           "'space.head={conv:[576,1024],features:[0,1024],act:[relu,hswish]}' " \
           f"out={tiny_supernet}" in message  # data.val_size=10000 is the default split


def test_final_trainings_of_another_budget_are_refused_now_not_after_the_search(tmp_path):
    (tmp_path / "final").mkdir()
    cfg = compose_config("config", ["experiment=mobilenet_v3_small"])
    from nas.experiment.final import final_settings

    settings = final_settings(cfg, "mobilenet_v3_small") | {"epochs": 1}
    (tmp_path / "final" / "plan.json").write_text(json.dumps(settings | {"networks": []}))
    assert "holds final trainings made with other epochs" in refuse(tmp_path)


def test_the_command_line_says_it_in_one_line_with_exit_code_2(tmp_path):
    done = subprocess.run([sys.executable, "-m", "nas.experiment", "experiment=mobilenet_v3_small",
                           f"run_dir={tmp_path}", "compare.seeds=[0]"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "compare.seeds" in done.stderr
    assert not (tmp_path / "search").exists()
