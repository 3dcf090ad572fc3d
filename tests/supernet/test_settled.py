"""Settled images: python -m nas.supernet.settle marks the validation images every reference
subnet gets right; evaluator=supernet then runs only the others and counts those as right.
A reference subnet scores exactly as on the whole split; any other at least as high; a file made
for other weights or images is refused in one line."""

import json
import shutil
import subprocess
import sys

import pytest
import torch

from nas.arch import SearchSpace
from nas.errors import NasError
from nas.evaluate import load_dataset
from nas.search.study import with_later_defaults
from nas.supernet import settled
from nas.supernet.evaluator import make_supernet_evaluator
from tests.supernet.conftest import TINY_SPACE

DATA = {"name": "fashion_mnist", "root": None, "val_size": 10000, "split_seed": 0}
SCORING = {"kind": "supernet", "bn_images": 64, "val_size": 300, "threads": 1,
           "precision": "float32"}
SETTLE = ["evaluator.val_size=300", "evaluator.bn_images=64", "evaluator.precision=float32",
          "threads=1", "references=3", "held_out=2", "seed=5"]


def settle(conf, supernet, *args):
    return subprocess.run([sys.executable, "-m", "nas.supernet.settle", conf, "space=tiny",
                           f"evaluator.path={supernet}", *SETTLE, *args],
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def settled_supernet(conf, tiny_supernet, tmp_path_factory):
    """A copy of the tiny supernet with its settled-images file beside it."""
    supernet = tmp_path_factory.mktemp("settled") / "tiny.pt"
    shutil.copy(tiny_supernet, supernet)
    result = settle(conf, supernet)
    assert result.returncode == 0, result.stderr
    return supernet, json.loads(result.stdout.strip().splitlines()[-1])


def scorer(supernet, setting):
    config = SCORING | {"path": str(supernet), "settled": setting}
    return make_supernet_evaluator(DATA, {k: v for k, v in config.items() if k != "kind"}, 0)


def reference_specs_for(count, seed=5):
    """The subnets the settle command (seed 5) drew: references first, then held out."""
    from nas.predictor.build import sample_architectures

    return sample_architectures(SearchSpace.from_config(TINY_SPACE), count, seed)


def test_the_command_writes_the_mask_beside_the_supernet_and_checks_it(settled_supernet):
    supernet, summary = settled_supernet
    path = settled.beside(supernet)
    assert summary["out"] == str(path) and path.is_file()
    assert not path.with_name(path.name + ".partial.pt").exists()
    mask, meta = settled.read_settled(path)
    assert len(mask) == summary["images"] == 300 and int(mask.sum()) == summary["settled"]
    assert meta["references"] == 3 and meta["check"]["held_out"] == 2
    assert [row["references"] for row in meta["check"]["by_references"]] == [3]
    assert meta["command"].startswith("python -m nas.supernet.settle")


def test_references_score_as_on_the_whole_split_and_others_no_lower(settled_supernet):
    supernet, _ = settled_supernet
    shortcut, whole = scorer(supernet, "auto"), scorer(supernet, "none")
    assert shortcut.settled_path == settled.beside(supernet)
    assert len(shortcut.unsettled) == 300 - shortcut.settled_count < 300
    specs = reference_specs_for(5)
    for number, spec in enumerate(specs):
        fast, full = shortcut.evaluate(spec).val_accuracy, whole.evaluate(spec).val_accuracy
        if number < 3:  # a reference got every settled image right: the same score
            assert fast == pytest.approx(full, abs=1e-6), str(spec)
        assert fast >= full - 1e-6  # a settled image it gets wrong is counted right


def test_the_mask_is_the_images_every_reference_got_right():
    rows = torch.tensor([[1, 1, 0, 1], [1, 0, 0, 1], [1, 1, 1, 1]], dtype=torch.bool)
    assert settled.settle(rows).tolist() == [True, False, False, True]
    report = settled.held_out_report(torch.tensor([True, False, False, True]),
                                     torch.tensor([[1, 1, 1, 0], [1, 0, 0, 1]], dtype=torch.bool))
    assert report["overstated_points_max"] == 25.0 and report["overstated_points_mean"] == 12.5
    curve = settled.by_references(rows, torch.tensor([[1, 1, 1, 0]], dtype=torch.bool),
                                  counts=(1, 2))
    assert [row["references"] for row in curve] == [1, 2, 3]
    assert [row["settled_share"] for row in curve] == [0.75, 0.5, 0.5]
    assert [row["overstated_points_mean"] for row in curve] == [25.0, 25.0, 25.0]
    mask = torch.rand(1001) > 0.5
    assert torch.equal(settled.unpack_mask(settled.pack_mask(mask), 1001), mask)


def test_auto_without_a_matching_file_scores_every_image(settled_supernet, tmp_path):
    supernet, _ = settled_supernet
    config = SCORING | {"path": str(supernet), "settled": "auto", "val_size": 200}
    assert settled.resolve(config, DATA) is None  # made for 300 images, not 200
    lone = tmp_path / "lone.pt"
    shutil.copy(supernet, lone)
    assert settled.resolve(SCORING | {"path": str(lone), "settled": "auto"}, DATA) is None
    assert settled.identity(SCORING | {"path": str(lone), "settled": "auto"}, DATA) == "none"
    assert scorer(lone, "auto").settled_path is None
    missing = SCORING | {"path": str(tmp_path / "missing.pt"), "settled": "auto"}
    assert settled.resolve(missing, DATA) is None  # the evaluator names the missing supernet


def test_a_named_file_for_other_weights_or_images_is_refused_in_one_line(settled_supernet,
                                                                           tmp_path):
    supernet, _ = settled_supernet
    path = settled.beside(supernet)
    with pytest.raises(NasError, match="was made for supernet") as error:
        settled.resolve(SCORING | {"path": str(supernet), "settled": str(path),
                                   "val_size": 200}, DATA)
    assert "\n" not in str(error.value)
    mask, _ = settled.read_settled(path)
    other_images = load_dataset("fashion_mnist").val.subset(torch.arange(300))
    with pytest.raises(NasError, match="other validation images"):
        settled.load_mask(path, other_images)
    corrupt = tmp_path / "corrupt.settled.json"
    corrupt.write_text("{not json")
    with pytest.raises(NasError, match="not a readable settled-images file"):
        settled.read_settled(corrupt)
    with pytest.raises(NasError, match="no settled-images file"):
        settled.read_settled(tmp_path / "missing.settled.json")
    assert len(mask) == 300


def test_nas_search_with_a_corrupt_settled_file_stops_in_one_line(conf, settled_supernet,
                                                                  tmp_path):
    supernet, _ = settled_supernet
    bad = tmp_path / "bad.settled.json"
    bad.write_text(json.dumps({"format": "nas-settled/1", "images": 3}))
    result = subprocess.run(
        [sys.executable, "-m", "nas.search", conf, "space=tiny", "hardware=cpu",
         f"evaluator.path={supernet}", f"evaluator.settled={bad}", "search.n_trials=1",
         f"run_dir={tmp_path / 'run'}"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    assert "not a readable settled-images file" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_study_from_before_the_setting_scored_every_image():
    old = {"evaluator": {"evaluator": {"kind": "supernet", "path": "x.pt", "precision": "bfloat16"},
                         "data": DATA}}
    assert with_later_defaults(old)["evaluator"]["evaluator"]["settled"] == "none"


def test_an_interrupted_run_continues_where_it_stopped(tiny_supernet, tmp_path):
    """Rows are saved as each subnet is scored: a rerun scores only the rest, and a partial
    file of another plan is refused, not mixed in."""
    from nas.supernet.settle import score_rows

    whole = scorer(tiny_supernet, "none")
    specs = reference_specs_for(4)
    partial, plan = tmp_path / "mask.partial.pt", {"subnets": [str(s) for s in specs]}

    class Interrupted:
        calls = 0

        def correct_images(self, spec):
            if self.calls == 2:
                raise KeyboardInterrupt
            self.calls += 1
            return whole.correct_images(spec)

    with pytest.raises(KeyboardInterrupt):
        score_rows(Interrupted(), specs, partial, plan)
    assert len(torch.load(partial)["rows"]) == 2

    class Counting:
        calls = 0

        def correct_images(self, spec):
            self.calls += 1
            return whole.correct_images(spec)

    counting = Counting()
    rows = score_rows(counting, specs, partial, plan)
    assert counting.calls == 2 and len(rows) == 4
    assert torch.equal(rows, torch.stack([whole.correct_images(spec) for spec in specs]))
    with pytest.raises(NasError, match="another settle command"):
        score_rows(counting, specs, partial, {"subnets": []})
