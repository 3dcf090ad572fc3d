"""python -m nas.predictor as a user runs it: scores resumably, fits, reports held-out error and
tau, writes one file that nas.search and nas.rank use; every wrong file refused in one line."""

import json
import random
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from nas.arch import SearchSpace, decode
from nas.cli import run
from nas.cost import arch_cost
from nas.io import file_sha256
from nas.predictor import PredictorEvaluator
from nas.predictor.__main__ import main as predictor_main
from nas.search.__main__ import main as search_main
from nas.yardstick.table import save_ground_truth
from tests.supernet.conftest import TINY_SPACE

MACRO = ["space=nas_bench_macro", "evaluator=tabular", "~data", "fit.epochs=20"]


def command(verb, *args):
    return subprocess.run([sys.executable, "-m", f"nas.{verb}", *args], capture_output=True,
                          text=True, timeout=600)


def summary(result):
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def refused(capsys, verb_main, config_name, args, message):
    """A refusal in this process (no interpreter start-up): one line, exit code 2."""
    with pytest.raises(SystemExit) as stop:
        run(verb_main, config_name, argv=list(args))
    assert stop.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines


def test_scores_are_kept_and_a_rerun_or_a_larger_sample_continues(tmp_path, capsys):
    out = tmp_path / "macro.pt"
    first = summary(command("predictor", *MACRO, "samples=30", f"out={out}"))
    assert first["scored_this_run"] == 30 and first["heldout"]["n"] == 6
    scores = out.with_suffix(".scores.jsonl")
    lines = scores.read_text().splitlines()
    assert json.loads(lines[0])["plan"]["seed"] == 0 and len(lines) == 31

    scores.write_text("\n".join(lines[:-1]) + '\n{"arch": "stem_k3_c32_re_s1-ir_k3')  # torn
    again = summary(command("predictor", *MACRO, "samples=40", f"out={out}"))
    assert again["scored_this_run"] == 11  # the torn one and the 10 new ones
    assert again["heldout"]["n"] == 8 and 0 <= again["fit"]["rmse_points"]
    rows = [json.loads(line) for line in scores.read_text().splitlines()[1:] if
            line.endswith("}")]
    assert len(rows) == 40 and len({row["arch"] for row in rows}) == 40

    payload = torch.load(out, weights_only=True)
    meta = payload["meta"]
    assert meta["space"] == "nas_bench_macro" and meta["samples"] == 40 and meta["seed"] == 0
    assert meta["command"].startswith("python -m nas.predictor") and "torch" in meta["versions"]
    assert set(meta["metrics"]) == {"fit", "heldout", "heldout_baselines_kendall"}
    single = PredictorEvaluator(path=str(out))
    archs = [decode(row["arch"]) for row in rows[:5]]

    run(predictor_main, "predictor", argv=[*MACRO, "samples=40", "fit.ensemble=3", f"out={out}"])
    ensembled = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert ensembled["scored_this_run"] == 0  # the same scores, fitted again
    loaded = PredictorEvaluator(path=str(out))
    assert loaded.meta["fit"]["ensemble"] == 3 and len(loaded.model.members) == 3
    np.testing.assert_array_equal(loaded.model.members[0].predict(loaded.encoder.encode_many(
        archs)), single.predict(archs))  # its first member is the single fit of the seed

    for args, message in (
            (["samples=40", "evaluator.noise=seed"], "holds the scores of another plan (scorer "
                                                     "differs)"),
            (["samples=5000"], "holds 3969 networks"),
            (["holdout=1.5"], "holdout must be in [0, 1)")):
        refused(capsys, predictor_main, "predictor", [*MACRO, *args, f"out={out}"], message)


@pytest.fixture
def tiny_truth(tmp_path):
    """12 networks of the tiny space with made-up 'accuracies' (the ranking's plumbing only)."""
    space, rng = SearchSpace.from_config(TINY_SPACE), random.Random(7)
    archs = sorted({str(space.sample_random(rng)) for _ in range(40)})[:12]
    rows = [{"arch": arch, "name": f"n{i}", "accuracy": 80 + i / 10, "accuracy_std": 0.1,
             "seed_0": 80 + i / 10 - 0.05, "seed_1": 80 + i / 10 + 0.05,
             "macs": arch_cost(decode(arch)).macs} for i, arch in enumerate(archs)]
    path = tmp_path / "gt.csv"
    save_ground_truth(pd.DataFrame(rows), {"space": "tiny", "dataset": "fashion_mnist",
                                           "budget": "test", "seeds": 2}, path)
    return path


def test_a_supernet_predictor_serves_nas_search_and_nas_rank(conf, tiny_supernet, tiny_truth,
                                                             tmp_path, capsys):
    out = tmp_path / "tiny.pt"
    fitted = summary(command(
        "predictor", conf, "space=tiny", f"evaluator.path={tiny_supernet}",
        "evaluator.bn_images=64", "evaluator.val_size=200", "evaluator.threads=1", "samples=12",
        "holdout=0.25", "fit.epochs=20", f"out={out}"))
    assert fitted["scorer"] == "supernet" and fitted["heldout"]["n"] == 3
    meta = torch.load(out, weights_only=True)["meta"]
    assert meta["supernet"]["sha256"] == file_sha256(tiny_supernet)
    assert meta["supernet"]["path"] == str(tiny_supernet) and meta["dataset"]["name"] == \
        "fashion_mnist"

    scorer = PredictorEvaluator(path=str(out))
    spec = SearchSpace.from_config(TINY_SPACE).sample_random(random.Random(99))
    result = scorer.evaluate(spec)
    assert result.seconds < 0.05 and result.val_accuracy == scorer.evaluate(spec).val_accuracy

    settings = [conf, "space=tiny", "evaluator=predictor", f"evaluator.path={out}"]
    ranked = command("rank", *settings, f"ground_truth={tiny_truth}", "bootstrap=20",
                     f"out={tmp_path / 'rank' / 'predictor'}")
    assert ranked.returncode == 0, ranked.stderr
    assert "predictor" in ranked.stdout and (tmp_path / "rank" / "predictor.csv").is_file()
    searched = command("search", *settings, "~hardware", "search=random", "search.n_trials=20",
                       "search.objectives=macs", "report=false", f"run_dir={tmp_path / 'run'}")
    assert searched.returncode == 0, searched.stderr
    assert "20 trials" in searched.stdout

    refused(capsys, search_main, "config", [
        conf, "evaluator=predictor", f"evaluator.path={out}", "~hardware",
        "search.objectives=macs", f"run_dir={tmp_path / 'r2'}"],
        "is a predictor of space 'tiny', not 'mobilenet_v3_small'")
    refused(capsys, search_main, "config", [
        *settings, "data=cifar10", "~hardware", "search.objectives=macs",
        f"run_dir={tmp_path / 'r3'}"], "predicts accuracies on fashion_mnist, not cifar10")


def test_a_missing_or_corrupt_predictor_file_is_one_line(tmp_path, capsys):
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"\x00" * 64)
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {}}, foreign)
    for path, message in ((tmp_path / "none.pt", "predictor file not found"),
                          (corrupt, "is not a readable predictor file"),
                          (foreign, "is not a predictor file")):
        refused(capsys, search_main, "config", [
            "evaluator=predictor", f"evaluator.path={path}", "~hardware",
            "search.objectives=macs", f"run_dir={tmp_path / 'run'}"], message)


def test_the_scores_plan_names_the_precision_scores_are_made_in(tmp_path):
    """float32 scores keep the plan they had before evaluator.precision existed (a rerun of
    such a file continues it); bf16 ones are another plan; auto is what it resolves to here."""
    from nas.predictor.__main__ import scorer_identity
    from nas.supernet.evaluator import cpu_has_native_bfloat16

    weights = tmp_path / "s.pt"
    weights.write_bytes(b"weights")
    old = {"kind": "supernet", "path": str(weights), "bn_images": 2000, "device": "cpu"}
    before = scorer_identity(old | {"precision": "float32"}, seed=0)
    assert "precision" not in before  # as the plans written before precision existed
    bf16 = scorer_identity(old | {"precision": "bfloat16"}, seed=0)
    assert bf16 == before | {"precision": "bfloat16"}
    auto = scorer_identity(old | {"precision": "auto"}, seed=0)
    assert auto == (bf16 if cpu_has_native_bfloat16() else before)
