"""evaluator=supernet: inherited weights, BN recalibrated on fixed images, validation accuracy;
usable by nas.search and nas.rank; every wrong file or space refused in one line."""

import random
import subprocess
import sys

import pandas as pd
import pytest
import torch

from nas.arch import SearchSpace, decode
from nas.cli import load_space
from nas.cost import arch_cost
from nas.errors import NotInSpaceError
from nas.evaluate import load_dataset
from nas.evaluate.evaluator import _fixed_subset
from nas.evaluate.training import accuracy, recalibrate_bn
from nas.search.evaluators import make_search_evaluator
from nas.supernet.store import SupernetFileError, build_supernet, read_supernet
from nas.yardstick.table import save_ground_truth
from tests.supernet.conftest import TINY_SPACE

DATA = {"name": "fashion_mnist", "root": None, "val_size": 10000, "split_seed": 0}


def evaluator(path, **settings):
    config = {"kind": "supernet", "path": str(path), "bn_images": 64, "val_size": 300,
              "threads": 1} | settings
    return make_search_evaluator(DATA, config, seed=0)


def test_a_candidate_scores_its_inherited_weights_after_bn_recalibration(tiny_supernet):
    """The evaluator's path (heap allocations, BN folded) gives the plain path's accuracy:
    the file's weights, the subnet, BN on the evaluator's images, accuracy on its val split."""
    scorer = evaluator(tiny_supernet, precision="float32")
    payload = read_supernet(tiny_supernet)
    data = _fixed_subset(load_dataset("fashion_mnist"), 1.0, 300, 0)
    rng = random.Random(0)
    for spec in [SearchSpace.from_config(TINY_SPACE).sample_random(rng) for _ in range(4)]:
        result = scorer.evaluate(spec)
        assert 0 <= result.val_accuracy <= 1 and result.epochs == 0 and result.seconds > 0
        assert scorer.evaluate(spec).val_accuracy == result.val_accuracy  # the same images

        subnet = build_supernet(payload, tiny_supernet).eval().subnet(spec)
        recalibrate_bn(subnet, data.train, images=64, seed=0)
        assert accuracy(subnet, data.val) == result.val_accuracy, str(spec)


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_precision_is_the_dtype_convolutions_score_in(tiny_supernet, precision):
    """bfloat16 runs the convolutions (BN recalibration and validation) in bf16 and keeps
    BN statistics in float32; float32 runs them in float32."""
    scorer = evaluator(tiny_supernet, precision=precision)
    spec = SearchSpace.from_config(TINY_SPACE).sample_random(random.Random(2))
    seen = set()
    def record(module, inputs, out):
        if isinstance(module, torch.nn.Conv2d):
            seen.add(out.dtype)
    hook = torch.nn.modules.module.register_module_forward_hook(record)
    try:
        model = scorer.subnet(spec)
        assert 0 <= scorer.evaluate(spec).val_accuracy <= 1
    finally:
        hook.remove()
    assert seen == {getattr(torch, precision)}
    assert {m.running_mean.dtype for m in model.modules()
            if isinstance(m, torch.nn.BatchNorm2d)} == {torch.float32}


def test_auto_precision_is_bfloat16_only_where_the_cpu_has_it(tiny_supernet):
    from nas.supernet.evaluator import cpu_has_native_bfloat16
    expected = torch.bfloat16 if cpu_has_native_bfloat16() else torch.float32
    assert evaluator(tiny_supernet).dtype == expected


def test_fine_tuning_trains_the_subnet_before_scoring(tiny_supernet):
    spec = SearchSpace.from_config(TINY_SPACE).sample_random(random.Random(1))
    plain, tuned = evaluator(tiny_supernet), evaluator(tiny_supernet, finetune_steps=3)
    before = plain.subnet(spec).state_dict()
    after = tuned.subnet(spec).state_dict()
    assert not torch.equal(before["stem.conv.weight"], after["stem.conv.weight"])
    assert 0 <= tuned.evaluate(spec).val_accuracy <= 1


@pytest.mark.parametrize("data, settings, message", [
    ({}, {"path": "/nonexistent/s.pt"}, "supernet file not found"),
    ({"name": "cifar10"}, {}, "was trained on fashion_mnist, not cifar10"),
    ({"val_size": 4000}, {}, "its validation images would have been trained on"),
    ({}, {"bn_imags": 5}, "unknown evaluator=supernet setting(s) ['bn_imags']"),
    ({}, {"precision": "fp8"}, "evaluator.precision must be one of"),
])
def test_wrong_files_and_data_are_refused(tiny_supernet, data, settings, message):
    config = {"kind": "supernet", "path": str(tiny_supernet)} | settings
    with pytest.raises(Exception) as error:
        make_search_evaluator(DATA | data, config, seed=0)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_another_space_and_a_spec_outside_it_are_refused(tiny_supernet):
    scorer = evaluator(tiny_supernet)
    other = load_space("mobilenet_v3_small")
    with pytest.raises(SupernetFileError, match="is a supernet of space 'tiny', not "
                                                 "'mobilenet_v3_small'"):
        scorer.check_space(other)
    with pytest.raises(NotInSpaceError):
        scorer.evaluate(other.sample_random(random.Random(0)))


def test_a_space_within_the_supernets_is_scored_and_a_wider_one_refused(tiny_supernet):
    scorer = evaluator(tiny_supernet)
    narrow = SearchSpace.from_config(TINY_SPACE | {"name": "tiny_k3",
                                                   "stem": {"width": [8], "act": ["relu"]}})
    scorer.check_space(narrow)  # every network of it is one of the supernet's
    assert 0 <= scorer.evaluate(narrow.sample_random(random.Random(1))).val_accuracy <= 1
    wide = SearchSpace.from_config(TINY_SPACE | {"stem": {"width": [8, 16, 24],
                                                          "act": ["relu", "hswish"]}})
    with pytest.raises(SupernetFileError, match="same name, other choices"):
        scorer.check_space(wide)


def command(verb, conf, *args):
    return subprocess.run([sys.executable, "-m", f"nas.{verb}", conf, "space=tiny", *args],
                          capture_output=True, text=True, timeout=600)


@pytest.fixture
def tiny_truth(tmp_path):
    """10 networks of the tiny space with made-up 'accuracies' (the ranking's plumbing only)."""
    space, rng = SearchSpace.from_config(TINY_SPACE), random.Random(5)
    specs = {str(space.sample_random(rng)) for _ in range(40)}
    rows = []
    for i, arch in enumerate(sorted(specs)[:10]):
        accuracy = 80 + i / 10
        rows.append({"arch": arch, "name": f"n{i}", "accuracy": accuracy, "accuracy_std": 0.1,
                     "seed_0": accuracy - 0.05, "seed_1": accuracy + 0.05,
                     "macs": arch_cost(decode(arch)).macs})
    path = tmp_path / "gt.csv"
    save_ground_truth(pd.DataFrame(rows), {"space": "tiny", "dataset": "fashion_mnist",
                                           "budget": "test", "seeds": 2}, path)
    return path


def test_nas_rank_and_nas_search_use_it(conf, tiny_supernet, tiny_truth, tmp_path):
    settings = ["evaluator=supernet", f"evaluator.path={tiny_supernet}", "evaluator.bn_images=64",
                "evaluator.val_size=200", "evaluator.threads=1"]
    ranked = command("rank", conf, *settings, f"ground_truth={tiny_truth}", "bootstrap=20",
                     f"out={tmp_path / 'rank' / 'supernet'}")
    assert ranked.returncode == 0, ranked.stderr
    assert "supernet" in ranked.stdout and (tmp_path / "rank" / "supernet.csv").is_file()

    searched = command("search", conf, *settings, "~hardware", "search=random",
                       "search.n_trials=3", "search.objectives=macs", "report=false",
                       f"run_dir={tmp_path / 'run'}")
    assert searched.returncode == 0, searched.stderr
    assert "3 trials" in searched.stdout


def test_a_search_over_another_space_is_refused_before_it_starts(conf, tiny_supernet, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "nas.search", "evaluator=supernet",
         f"evaluator.path={tiny_supernet}", "~hardware", "search.objectives=macs",
         f"run_dir={tmp_path / 'run'}"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "is a supernet of space 'tiny', not 'mobilenet_v3_small'" in \
        lines[0], result.stderr


def test_nas_rank_with_a_missing_or_corrupt_file_is_one_line(conf, tiny_truth, tmp_path):
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"\x00" * 64)
    for path, message in ((tmp_path / "none.pt", "supernet file not found"),
                          (corrupt, "is not a readable supernet file")):
        result = command("rank", conf, "evaluator=supernet", f"evaluator.path={path}",
                         f"ground_truth={tiny_truth}", f"out={tmp_path / 'r'}")
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], result.stderr
