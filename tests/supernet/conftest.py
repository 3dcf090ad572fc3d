"""Shared fixtures: real Fashion-MNIST (Debian's dataset-fashion-mnist), cut small, and a small
block-wise space whose supernet trains in seconds."""

from dataclasses import replace

import pytest

from nas.arch import SearchSpace
from nas.evaluate import load_dataset, stratified_indices

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
def fashion():
    return load_dataset("fashion_mnist")


@pytest.fixture(scope="session")
def small_fashion(fashion):
    """~1,100 training and 500 validation images, stratified."""
    train = fashion.train.subset(stratified_indices(fashion.train.labels, 0.02, 0))
    val = fashion.val.subset(stratified_indices(fashion.val.labels, 0.1, 0))
    return replace(fashion, train=train, val=val)


@pytest.fixture(scope="session")
def tiny_space():
    return SearchSpace.from_config(TINY_SPACE)
