"""A tiny supernet trained here (tests/tiny_supernet.py) on the experiments' validation split."""

import pytest
import torch

from tests.tiny_supernet import space_searchpath, train_supernet

VAL_SIZE = 10000  # the experiments' data.val_size: the ground truth's split


@pytest.fixture(scope="session")
def tiny_conf(tmp_path_factory):
    """The hydra.searchpath override that adds space=tiny_fixed."""
    return space_searchpath(tmp_path_factory.mktemp("conf"))


@pytest.fixture(scope="session")
def tiny_supernet(tmp_path_factory):
    threads = torch.get_num_threads()
    root = tmp_path_factory.mktemp("supernet")
    yield train_supernet(root / "conf", root / "tiny.pt", val_size=VAL_SIZE)
    torch.set_num_threads(threads)
