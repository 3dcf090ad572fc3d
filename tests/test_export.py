"""python -m nas.export: the subnet with its inherited weights as a nas.train checkpoint (loadable,
fine-tunable by nas.train init=) and as ONNX (same logits in ONNX Runtime); one-line refusals."""
# ruff: noqa: F811  (tests/supernet's fixtures, imported below, are the tests' arguments)

import json
import random
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime
import pytest
import torch

from nas.arch import SearchSpace
from nas.cli import run
from nas.evaluate import accuracy, load_checkpoint, load_dataset
from nas.evaluate.training import prepare
from nas.export import main as export_main
from nas.io import file_sha256
from nas.search.evaluators import make_search_evaluator
from nas.train import main as train_main
from tests.supernet.conftest import TINY_SPACE, conf, tiny_space, tiny_supernet  # noqa: F401

DATA = {"name": "fashion_mnist", "root": None, "val_size": 10000, "split_seed": 0}
SMALL = ["bn_images=64", "val_size=300", "threads=1"]
TRAIN = ["epochs=1", "train_fraction=0.005", "threads=1", "evaluator.resolution=16"]


def command(verb, *args):
    return subprocess.run([sys.executable, "-m", f"nas.{verb}", *args], capture_output=True,
                          text=True, timeout=600)


def refused(capsys, verb_main, config_name, args, message):
    with pytest.raises(SystemExit) as stop:
        run(verb_main, config_name, argv=list(args))
    assert stop.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines


@pytest.fixture(scope="module")
def exported(tiny_supernet, tmp_path_factory):
    spec = SearchSpace.from_config(TINY_SPACE).sample_random(random.Random(3))
    out = tmp_path_factory.mktemp("export")
    result = command("export", f"arch={spec}", f"supernet={tiny_supernet}", f"out={out}",
                     *SMALL)
    assert result.returncode == 0, result.stderr
    return spec, out, json.loads(result.stdout.strip().splitlines()[-1])


def test_the_checkpoint_is_the_evaluators_subnet(exported, tiny_supernet):
    spec, out, summary = exported
    model, meta = load_checkpoint(out / "model.pt")
    assert (meta["arch"], meta["num_classes"], meta["resolution"], meta["in_channels"]) == \
        (str(spec), 10, 16, 1)
    assert meta["exported_from"]["supernet_sha256"] == file_sha256(tiny_supernet)
    scorer = make_search_evaluator(DATA, {"kind": "supernet", "path": str(tiny_supernet),
                                          "bn_images": 64, "val_size": 300,
                                          "precision": "float32"}, seed=0)
    expected = scorer.subnet(spec).state_dict()
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(tensor, expected[name].contiguous(), msg=name)
    assert accuracy(model, scorer.data.val) == summary["val_accuracy"]
    assert summary["val_accuracy"] == scorer.evaluate(spec).val_accuracy


def test_onnx_runtime_gives_the_checkpoints_logits(exported):
    spec, out, summary = exported
    model, _ = load_checkpoint(out / "model.pt")
    val = load_dataset("fashion_mnist").val  # real validation images
    images = prepare(val, val.images[:40], 16, channels_last=False)
    session = onnxruntime.InferenceSession(str(out / "model.onnx"),
                                           providers=["CPUExecutionProvider"])
    (logits,) = session.run(None, {"x": images.numpy()})  # a batch of 40: the batch is dynamic
    with torch.no_grad():
        expected = model(images).numpy()
    assert logits.shape == (40, 10) and np.abs(expected).max() > 0
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-5)
    props = {p.key: p.value for p in onnx.load(str(out / "model.onnx")).metadata_props}
    assert props["arch"] == str(spec) and props["resolution"] == "16"
    assert summary["onnx_max_logit_difference"] < 1e-4


def test_nas_train_fine_tunes_the_checkpoint_from_its_weights(exported, tmp_path):
    spec, out, _ = exported
    tuned, fresh = tmp_path / "tuned.pt", tmp_path / "fresh.pt"
    for args, path in (([f"init={out / 'model.pt'}"], tuned), ([f"arch={spec}"], fresh)):
        done = command("train", *args, *TRAIN, "evaluator.lr=1e-9", f"save={path}")
        assert done.returncode == 0, done.stderr
    start = load_checkpoint(out / "model.pt")[0].state_dict()
    after, scratch = (load_checkpoint(p)[0].state_dict() for p in (tuned, fresh))
    weights = [n for n in start if n.endswith("conv.weight")]
    for name in weights:  # a rate of 1e-9 leaves the weights where they started
        torch.testing.assert_close(after[name], start[name], rtol=1e-5, atol=1e-6)
    assert not all(torch.allclose(scratch[n], start[n]) for n in weights)


def test_wrong_architectures_data_and_files_are_one_line(exported, tiny_supernet, tmp_path,
                                                         capsys):
    spec, out, _ = exported
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"\x00" * 64)
    for args, message in (
            (["arch=mobilenet_v3_small", f"supernet={tiny_supernet}"], "not in space 'tiny'"),
            ([f"arch={spec}", f"supernet={tiny_supernet}", "data=cifar10"],
             "was trained on fashion_mnist, not cifar10"),
            ([f"arch={spec}", f"supernet={tmp_path / 'none.pt'}"], "supernet file not found"),
            ([f"arch={spec}", f"supernet={corrupt}"], "is not a readable supernet file")):
        refused(capsys, export_main, "export", [*args, f"out={tmp_path / 'x'}", *SMALL], message)
    init = f"init={out / 'model.pt'}"
    for args, message in (
            ([init, "epochs=1"], "was made for resolution=16, this run has 28"),
            ([init, "arch=mobilenet_v3_small", *TRAIN], "drop arch= to train the checkpoint's"),
            ([init, *TRAIN, f"save={out / 'model.pt'}"], "would overwrite init="),
            ([], "give arch=<preset, string or JSON file>, or init=CHECKPOINT")):
        refused(capsys, train_main, "train", args, message)
