"""Shared fixtures: real Fashion-MNIST (Debian's dataset-fashion-mnist), cut small."""

from dataclasses import replace

import pytest

from nas.arch import decode
from nas.evaluate import load_dataset, stratified_indices

# A tiny network of the V3 family (3.6k parameters): trains in seconds on a CPU.
TINY_ARCH = "stem_k3_c8_re_s2-ir_k3_e2_c16_re_s2-ir_k3_e2_c16_se_hs-head_c32_hs-res224"


@pytest.fixture(scope="session")
def fashion():
    return load_dataset("fashion_mnist")


@pytest.fixture(scope="session")
def small_fashion(fashion):
    """~1,100 training and 500 validation images, stratified."""
    train = fashion.train.subset(stratified_indices(fashion.train.labels, 0.02, 0))
    val = fashion.val.subset(stratified_indices(fashion.val.labels, 0.1, 0))
    return replace(fashion, train=train, val=val)


@pytest.fixture
def tiny_spec():
    return decode(TINY_ARCH)
