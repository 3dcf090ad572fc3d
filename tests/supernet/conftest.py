"""A small block-wise space whose supernet trains in seconds (Fashion-MNIST comes from
tests/conftest.py)."""

import json
import subprocess
import sys

import pytest
import yaml

from nas.arch import SearchSpace

# Two searched stages of a few narrow blocks: every elastic dimension, a tiny network.
TINY_SPACE = {
    "name": "tiny",
    "resolution": 224,
    "stem": {"width": [8, 16], "act": ["relu", "hswish"]},
    "stages": [
        {"stride": 2, "depth": [1, 2], "width": [16, 24], "kernel": [3, 5], "expand": [1, 3],
         "se": [False, True], "act": ["relu", "hswish"]},
        {"stride": 2, "depth": [1, 2], "width": [32, 40], "kernel": [3, 5], "expand": [2, 4],
         "se": [False, True], "act": ["relu", "hswish"]},
    ],
    "head": {"conv": [64], "features": [0], "act": ["hswish"]},
}


@pytest.fixture(scope="session")
def tiny_space():
    return SearchSpace.from_config(TINY_SPACE)


# A few seconds of training: enough for the file's plumbing, not for its accuracy.
FAST = ["steps=4", "checkpoint_every=2", "train_images=200", "recipe.batch_size=32",
        "recipe.resolution=16", "random_subnets=1", "score_bn_images=64",
        "score_val_images=200", "threads=1"]


@pytest.fixture(scope="session")
def conf(tmp_path_factory):
    """A user config folder holding the tiny space (README: hydra.searchpath)."""
    root = tmp_path_factory.mktemp("conf")
    (root / "space").mkdir()
    (root / "space" / "tiny.yaml").write_text(yaml.safe_dump(
        {"defaults": ["/schema/space/blockwise@_here_", "_self_"]} | TINY_SPACE))
    return f"hydra.searchpath=[file://{root}]"


def run_supernet(conf, *args):
    return subprocess.run([sys.executable, "-m", "nas.supernet", conf, "space=tiny", *FAST,
                           *args], capture_output=True, text=True, timeout=600)


def summary(result):
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def tiny_supernet(conf, tmp_path_factory):
    """A supernet file of the tiny space on Fashion-MNIST, trained 4 steps."""
    out = tmp_path_factory.mktemp("supernet") / "tiny.pt"
    summary(run_supernet(conf, f"out={out}"))
    return out
