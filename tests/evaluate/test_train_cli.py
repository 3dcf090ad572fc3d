"""``python -m nas.train`` end to end, in a subprocess, on real Fashion-MNIST (cut small)."""

import csv
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from nas.evaluate import accuracy, load_checkpoint, load_dataset
from tests.evaluate.conftest import TINY_ARCH

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["train_fraction=0.005", "evaluator.batch_size=64", "threads=2"]


def nas_train(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "nas.train", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, **kwargs)


def test_train_prints_json_last_and_saves_checkpoint_and_curve(tmp_path):
    checkpoint = tmp_path / "tiny.pt"
    done = nas_train(f"arch={TINY_ARCH}", "epochs=2", f"save={checkpoint}", *SMALL)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["arch"] == TINY_ARCH and summary["epochs"] == 2
    assert 0 <= summary["val_accuracy"] <= 1 and 0 <= summary["test_accuracy"] <= 1
    assert summary["train_images"] == 250 and summary["images_per_second"] > 0
    with open(tmp_path / "tiny.csv") as handle:
        curve = list(csv.DictReader(handle))
    assert [row["epoch"] for row in curve] == ["1", "2"]
    assert (tmp_path / "tiny.png").stat().st_size > 1000
    model, meta = load_checkpoint(checkpoint)
    assert (meta["arch"], meta["num_classes"], meta["resolution"], meta["epoch"]) == \
        (TINY_ARCH, 10, 28, 2)
    test = load_dataset("fashion_mnist").test
    assert accuracy(model, test) == pytest.approx(summary["test_accuracy"], abs=2e-3)


def test_missing_dataset_is_one_line_and_exit_code_2(tmp_path):
    done = nas_train(f"arch={TINY_ARCH}", f"data.root={tmp_path}", "epochs=1")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "apt-get install dataset-fashion-mnist" in lines[0]
    assert str(tmp_path) in lines[0]


def test_bad_settings_are_one_line_and_exit_code_2():
    for bad in ("evaluator.learning_rate=1", "epochs=zero", "arch=ir_k4"):
        done = nas_train(f"arch={TINY_ARCH}" if bad != "arch=ir_k4" else bad, bad)
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, bad


def test_ctrl_c_keeps_the_checkpoint_of_the_last_finished_epoch(tmp_path):
    checkpoint = tmp_path / "stopped.pt"
    process = subprocess.Popen(
        [sys.executable, "-m", "nas.train", f"arch={TINY_ARCH}", "epochs=200",
         f"save={checkpoint}", *SMALL], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
        # a shell's background job ignores SIGINT, and a child would inherit that
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        for line in process.stderr:
            if line.startswith("epoch 1/200"):
                break
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    model, meta = load_checkpoint(checkpoint)
    assert 1 <= meta["epoch"] < 200 and meta["arch"] == TINY_ARCH
    assert not (tmp_path / "stopped.pt.tmp").exists()
