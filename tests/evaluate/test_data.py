import pickle
import re

import numpy as np
import pytest
import torch

from nas.errors import NasError
from nas.evaluate import DatasetNotFound, augment, load_dataset, stratified_indices


def test_fashion_mnist_loads_as_uint8_with_a_stratified_validation_split(fashion):
    assert fashion.num_classes == 10 and fashion.channels == 1 and fashion.size == 28
    assert fashion.train.images.dtype == torch.uint8
    assert len(fashion.train) + len(fashion.val) == 60_000 and len(fashion.test) == 10_000
    assert torch.bincount(fashion.val.labels).tolist() == [1000] * 10
    assert 0.2 < fashion.train.mean[0] < 0.4 and 0.3 < fashion.train.std[0] < 0.4


def test_validation_split_is_fixed_by_its_seed(fashion):
    again = load_dataset("fashion_mnist", val_size=10000, split_seed=0)
    assert torch.equal(again.val.images, fashion.val.images)
    assert torch.equal(again.train.labels, fashion.train.labels)
    other = load_dataset("fashion_mnist", val_size=10000, split_seed=1)
    assert not torch.equal(other.val.images, fashion.val.images)


def test_validation_images_are_not_in_the_training_split(fashion):
    train_rows = {bytes(row) for row in fashion.train.images[:, 0].reshape(-1, 784).numpy()}
    val_rows = [bytes(row) for row in fashion.val.images[:200, 0].reshape(-1, 784).numpy()]
    # Fashion-MNIST has a handful of exact duplicates; a leak would put all 200 in train
    assert sum(row in train_rows for row in val_rows) < 5


def test_missing_dataset_says_where_it_looked_and_how_to_install(tmp_path):
    with pytest.raises(DatasetNotFound) as error:
        load_dataset("fashion_mnist", root=tmp_path)
    message = str(error.value)
    assert str(tmp_path) in message and "apt-get install dataset-fashion-mnist" in message
    assert "data.root=" in message and "\n" not in message
    with pytest.raises(DatasetNotFound, match="data.root"):
        load_dataset("cifar10")


def _write_pickle(path, payload):
    with open(path, "wb") as handle:
        pickle.dump(payload, handle)


def test_cifar10_pickle_folder(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    batches = [rng.integers(0, 256, (20, 3072), dtype=np.uint8) for _ in range(3)]
    for i, data in enumerate(batches[:2], 1):
        _write_pickle(folder / f"data_batch_{i}", {b"data": data, b"labels": [j % 10 for j in
                                                                               range(20)]})
    _write_pickle(folder / "test_batch", {b"data": batches[2], b"labels": [3] * 20})
    names = [f"class{i}".encode() for i in range(10)]
    _write_pickle(folder / "batches.meta", {b"label_names": names})
    data = load_dataset("cifar10", root=tmp_path, val_size=10)  # the parent folder works too
    assert data.classes[3] == "class3" and data.num_classes == 10
    assert len(data.train) == 30 and len(data.val) == 10 and len(data.test) == 20
    assert data.train.images.shape[1:] == (3, 32, 32) and data.pad == 4
    # pixel layout: the row is R plane, G plane, B plane, each 32x32 row-major
    assert torch.equal(data.test.images[0], torch.from_numpy(batches[2][0].reshape(3, 32, 32)))


def test_cifar100_pickle_folder(tmp_path):
    rng = np.random.default_rng(1)
    for name, n in (("train", 200), ("test", 50)):
        _write_pickle(tmp_path / name, {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                                        b"fine_labels": [i % 100 for i in range(n)]})
    data = load_dataset("cifar100", root=tmp_path, val_size=100)
    assert data.num_classes == 100 and len(data.val) == 100 and len(data.test) == 50


def test_imagefolder_with_train_and_test_folders(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(2)
    for split, count in (("train", 6), ("test", 2)):
        for name in ("cat", "dog"):
            (tmp_path / split / name).mkdir(parents=True)
            for i in range(count):
                pixels = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(tmp_path / split / name / f"{i}.png")
    np.save(tmp_path / "train" / "dog" / "extra.npy", rng.integers(0, 256, (16, 16), np.uint8))
    data = load_dataset("imagefolder", root=tmp_path, image_size=24, val_size=4)
    assert data.classes == ("cat", "dog")
    assert len(data.train) + len(data.val) == 13 and len(data.test) == 4
    assert data.train.images.shape[1:] == (3, 24, 24)
    gray = load_dataset("imagefolder", root=tmp_path / "train", image_size=8, channels=1,
                        val_size=2, test_fraction=0.25)  # flat class folders: test carved
    assert gray.train.images.shape[1:] == (1, 8, 8)
    assert (len(gray.train), len(gray.val), len(gray.test)) == (13 - 4 - 2, 2, 4)


def test_stratified_indices_take_the_same_share_of_each_class():
    labels = torch.tensor([0] * 100 + [1] * 50)
    chosen = stratified_indices(labels, 0.2, seed=3)
    assert torch.bincount(labels[chosen]).tolist() == [20, 10]
    assert torch.equal(chosen, stratified_indices(labels, 0.2, seed=3))


def test_augment_crops_and_flips_per_sample():
    images = torch.arange(2 * 1 * 4 * 4, dtype=torch.uint8).reshape(2, 1, 4, 4)
    generator = torch.Generator().manual_seed(0)
    assert torch.equal(augment(images, 0, False, generator), images)
    flipped = [augment(images, 0, True, generator) for _ in range(20)]
    assert all(torch.equal(out[i], images[i]) or torch.equal(out[i], images[i].flip(-1))
               for out in flipped for i in range(2))
    assert any(torch.equal(out[0], images[0].flip(-1)) for out in flipped)
    shifted = augment(images, 2, False, generator)
    assert shifted.shape == images.shape
    # each crop is a window of the zero-padded image
    padded = torch.nn.functional.pad(images, (2, 2, 2, 2))
    windows = [padded[0, :, y:y + 4, x:x + 4] for y in range(5) for x in range(5)]
    assert any(torch.equal(shifted[0], window) for window in windows)


class _WritesAFile:
    """A pickle payload that, loaded by plain pickle.load, runs code: it creates ``path``."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (exec, (f"open({self.path!r}, 'w').write('ran')",))


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_a_batch_that_would_run_code_is_refused_and_nothing_runs(tmp_path, protocol):
    marker = tmp_path / "ran.txt"
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    payload = {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 1],
               b"x": _WritesAFile(marker)}
    for name in ("data_batch_1", "test_batch"):
        with open(folder / name, "wb") as handle:
            pickle.dump(payload, handle, protocol=protocol)
    with pytest.raises(NasError) as error:
        load_dataset("cifar10", root=folder, val_size=1)
    assert re.search(r"refusing to unpickle (__builtin__|builtins)\.exec:", str(error.value))
    assert "\n" not in str(error.value)
    assert not marker.exists()  # the code did not run
    with open(folder / "test_batch", "rb") as handle:  # while plain pickle would have run it
        pickle.load(handle)
    assert marker.read_text() == "ran"
