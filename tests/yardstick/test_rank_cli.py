"""python -m nas.rank and python -m nas.ground_truth as a user runs them."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from nas.cli import load_space
from nas.cost import arch_cost
from nas.yardstick.table import save_ground_truth

META = {"space": "mobilenet_v3_small", "dataset": "fashion_mnist", "budget": "test", "seeds": 2}


def command(verb, *args, cwd=None):
    return subprocess.run([sys.executable, "-m", f"nas.{verb}", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd)


@pytest.fixture(scope="module")
def params_truth(tmp_path_factory):
    """12 networks of the space whose 'accuracy' is their parameter count (a known order)."""
    import random

    space = load_space("mobilenet_v3_small")
    rng = random.Random(3)
    rows = []
    for i in range(12):
        spec = space.sample_random(rng)
        cost = arch_cost(spec)
        accuracy = 80 + cost.params / 1e6
        rows.append({"arch": str(spec), "name": f"n{i}", "accuracy": accuracy,
                     "accuracy_std": 0.1, "seed_0": accuracy - 0.05, "seed_1": accuracy + 0.05,
                     "macs": cost.macs, "params": cost.params})
    path = tmp_path_factory.mktemp("gt") / "gt.csv"
    save_ground_truth(pd.DataFrame(rows), META, path)
    return path


def test_rank_scores_a_signal_beside_the_baselines_and_ceiling(params_truth, tmp_path):
    out = tmp_path / "rank" / "params"
    result = command("rank", f"ground_truth={params_truth}", "evaluator.score=params",
                     f"out={out}", "bootstrap=100")
    assert result.returncode == 0, result.stderr
    assert "zero_cost-params" in result.stdout and "ceiling (seed vs seed)" in result.stdout
    summary = json.loads(out.with_suffix(".json").read_text())
    signal, macs, params, ceiling = summary["rows"]
    assert signal["kendall"] == pytest.approx(1.0) and params["kendall"] == pytest.approx(1.0)
    assert signal["top5"] == 1.0 and ceiling["kendall"] == pytest.approx(1.0)
    assert macs["signal"] == "macs" and macs["kendall"] < 1.0
    assert len(pd.read_csv(out.with_suffix(".csv"))) == 12 and out.with_suffix(".png").is_file()


def test_rank_a_real_zero_cost_score_on_images(params_truth, tmp_path):
    result = command("rank", f"ground_truth={params_truth}", "evaluator.score=synflow",
                     "evaluator.batch_size=8", f"out={tmp_path / 'synflow'}", "bootstrap=50")
    assert result.returncode == 0, result.stderr
    row = json.loads((tmp_path / "synflow.json").read_text())["rows"][0]
    assert -1 <= row["kendall"] <= 1 and row["seconds_per_candidate"] > 0


@pytest.mark.parametrize("args, message", [
    (["evaluator.score=flops"], "unknown zero-cost score 'flops'"),
    (["space=mobilenet_v3_large"], "is a ground truth of space 'mobilenet_v3_small', not "
                                   "'mobilenet_v3_large'"),
    (["limit=5"], "leaves 5 networks; a ranking needs >= 10"),
    (["ground_truth=/nonexistent/gt.csv"], "ground truth not found"),
])
def test_rank_bad_input_is_one_line(params_truth, tmp_path, args, message):
    if not any(a.startswith("ground_truth=") for a in args):
        args = [f"ground_truth={params_truth}", *args]
    result = command("rank", *args, f"out={tmp_path / 'x'}")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_rank_refuses_a_table_of_too_few_networks(params_truth, tmp_path):
    small = tmp_path / "small.csv"
    save_ground_truth(pd.read_csv(params_truth).head(6), META, small)
    result = command("rank", f"ground_truth={small}", "evaluator.score=params")
    assert result.returncode == 2 and "holds 6 networks" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["networks=5"], "networks must be >= 10"),
    (["seeds=[0]"], "at least two distinct seeds"),
    (["train_fraction=2"], "train_fraction must be in (0, 1]"),
    (["data.root=/nonexistent"], "Fashion-MNIST not found: looked in /nonexistent"),
])
def test_ground_truth_bad_settings_end_in_one_line(tmp_path, args, message):
    result = command("ground_truth", *args, f"out={tmp_path / 'gt.csv'}")
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_an_interrupted_ranking_keeps_its_scores_and_scores_only_the_rest(params_truth, tmp_path,
                                                                            monkeypatch):
    """A ranking killed after 5 networks, run again: 7 networks scored, the 5 kept; a third
    run scores nothing."""
    import nas.rank
    from nas.cli import compose_config

    real = nas.rank.make_search_evaluator
    scored = []

    class Counting:
        def __init__(self, inner, stop_after):
            self.inner, self.stop_after = inner, stop_after

        def evaluate(self, spec):
            if len(scored) == self.stop_after:
                raise KeyboardInterrupt
            scored.append(str(spec))
            return self.inner.evaluate(spec)

    out = tmp_path / "proxy-0.5score"  # a label with a dot keeps it in its file names
    cfg = compose_config("rank", [f"ground_truth={params_truth}", "evaluator.score=params",
                                  f"out={out}", "bootstrap=10"])
    monkeypatch.setattr(nas.rank, "make_search_evaluator",
                        lambda *a: Counting(real(*a), stop_after=5))
    with pytest.raises(KeyboardInterrupt):
        nas.rank.rank(cfg)
    saved = json.loads((tmp_path / "proxy-0.5score.scores.json").read_text())
    assert len(saved["scores"]) == 5
    monkeypatch.setattr(nas.rank, "make_search_evaluator",
                        lambda *a: Counting(real(*a), stop_after=None))
    summary = nas.rank.rank(cfg)
    assert len(scored) == 12 and len(set(scored)) == 12  # 5 + 7: none scored twice
    assert summary["rows"][0]["kendall"] == pytest.approx(1.0)
    assert (tmp_path / "proxy-0.5score.csv").is_file()
    nas.rank.rank(cfg)  # everything kept: nothing scored again
    assert len(scored) == 12


def test_saved_scores_follow_the_content_of_the_evaluators_weights_file(tmp_path):
    """A supernet still training keeps its path while its weights change: its saved scores must
    not be reused for the new weights."""
    from nas.rank import score_settings

    weights = tmp_path / "supernet.pt"
    weights.write_bytes(b"step 100")
    config = {"kind": "supernet", "path": str(weights)}
    before = score_settings(config, {"name": "fashion_mnist"}, seed=0)
    assert before == score_settings(dict(config), {"name": "fashion_mnist"}, seed=0)
    weights.write_bytes(b"step 200")
    assert score_settings(config, {"name": "fashion_mnist"}, seed=0) != before
    plain = score_settings({"score": "params"}, None, seed=0)
    assert plain == {"evaluator": {"score": "params"}, "data": None, "seed": 0}


def test_saved_scores_survive_a_new_seed_std(tmp_path):
    """``seed_std`` describes an evaluator's noise and changes no score: scores saved under
    another value (or before it was left out of the settings) are kept, not rescored."""
    from nas.rank import SavedScores, score_settings

    path = tmp_path / "proxy.scores.json"
    old = {"kind": "proxy", "epochs": 1, "seed_std": 0.85}
    path.write_text(json.dumps({"settings": {"evaluator": old, "data": None, "seed": 0},
                                "scores": {"arch-a": [0.5, 3.0]}}))
    new = score_settings({**old, "seed_std": 3.96}, None, seed=0)
    assert "seed_std" not in new["evaluator"]
    assert SavedScores(path, new).scores == {"arch-a": (0.5, 3.0)}
    other_budget = score_settings({**old, "epochs": 2}, None, seed=0)
    assert SavedScores(path, other_budget).scores == {}


def test_supernet_scores_saved_before_precision_existed_are_float32_ones(tmp_path):
    """A supernet's scores saved without ``precision`` were scored in float32: kept for
    ``evaluator.precision=float32``, rescored for bfloat16 or auto."""
    from nas.rank import SavedScores, score_settings

    path = tmp_path / "supernet.scores.json"
    old = {"kind": "supernet", "path": "none.pt", "val_size": None}
    path.write_text(json.dumps({"settings": {"evaluator": old, "data": None, "seed": 0},
                                "scores": {"arch-a": [0.9, 3.0]}}))
    kept = score_settings({**old, "precision": "float32"}, None, seed=0)
    assert SavedScores(path, kept).scores == {"arch-a": (0.9, 3.0)}
    rescored = score_settings({**old, "precision": "bfloat16"}, None, seed=0)
    assert SavedScores(path, rescored).scores == {}


def test_auto_precision_is_saved_as_what_it_resolves_to_here():
    """A score file made with precision=auto names the dtype it was scored in, so another
    CPU's auto (which may resolve otherwise) does not reuse it unless it resolves alike."""
    from nas.rank import score_settings
    from nas.supernet.evaluator import cpu_has_native_bfloat16

    saved = score_settings({"kind": "supernet", "path": "none.pt", "precision": "auto",
                            "device": "cpu"}, None, seed=0)
    expected = "bfloat16" if cpu_has_native_bfloat16() else "float32"
    assert saved["evaluator"]["precision"] == expected
