"""Fixtures every test folder shares: real Fashion-MNIST (Debian's dataset-fashion-mnist), cut
small."""

from dataclasses import replace

import pytest

from nas.evaluate import load_dataset, stratified_indices


@pytest.fixture(scope="session")
def fashion():
    return load_dataset("fashion_mnist")


@pytest.fixture(scope="session")
def small_fashion(fashion):
    """1,000 training and 500 validation images, stratified."""
    train = fashion.train.subset(stratified_indices(fashion.train.labels, 0.02, 0))
    val = fashion.val.subset(stratified_indices(fashion.val.labels, 0.05, 0))
    return replace(fashion, train=train, val=val)
