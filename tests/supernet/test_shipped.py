"""The supernet shipped with the package: the default evaluator's weights. It must fit the
default space and split, stay within #13's 10 MB, and refuse another space in one line."""

import subprocess
import sys
from pathlib import Path

from omegaconf import OmegaConf

from nas.arch import SearchSpace
from nas.cli import compose_config
from nas.supernet.store import check_dataset, check_space, read_supernet

SHIPPED = Path(__file__).parents[2] / "nas" / "supernet" / "data" / \
    "mobilenet_v3_small-fashion_mnist.pt"


def test_the_default_evaluator_reads_the_shipped_file():
    cfg = compose_config("config", ["hardware=pixel"])
    assert cfg.evaluator.kind == "supernet"
    assert Path(cfg.evaluator.path).resolve() == SHIPPED.resolve()
    assert cfg.evaluator.val_size is None  # the whole split: ranks best (README)


def test_the_shipped_file_is_a_finished_packed_supernet_of_the_default_space_and_split():
    assert SHIPPED.stat().st_size <= 10 * 2**20
    meta = read_supernet(SHIPPED)["meta"]
    assert meta["steps_done"] == meta["steps"] == 2400
    assert meta["packed"]["dtype"] == "float16"
    cfg = compose_config("config", ["hardware=pixel"])
    check_space(meta, SearchSpace.from_config(OmegaConf.to_container(cfg.space)), SHIPPED)
    check_dataset(meta, {key: cfg.data[key] for key in ("name", "val_size", "split_seed")},
                  SHIPPED)


def test_a_search_of_another_space_refuses_the_shipped_supernet_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "nas.search", "space=mobilenet_v3_large", "search.n_trials=1",
         f"run_dir={tmp_path / 'run'}"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    error = result.stderr.strip()
    assert "\n" not in error and "is a supernet of space 'mobilenet_v3_small'" in error
    assert "evaluator.path=FILE" in error


def test_the_shipped_settled_images_fit_the_shipped_supernet_and_the_default_split():
    """The default search runs only the images some reference subnet got wrong (README
    "Settled images"): the file beside the shipped supernet is read by evaluator.settled=auto."""
    from nas.evaluate import load_dataset
    from nas.evaluate.evaluator import _fixed_subset
    from nas.supernet import settled

    cfg = OmegaConf.to_container(compose_config("config", ["hardware=pixel"]))
    assert cfg["evaluator"]["settled"] == "auto"
    path = settled.resolve(cfg["evaluator"], cfg["data"])
    assert path == settled.beside(SHIPPED)
    data = cfg["data"]
    split = _fixed_subset(load_dataset("fashion_mnist"), 1.0, None, data["split_seed"]).val
    mask = settled.load_mask(path, split)
    _, meta = settled.read_settled(path)
    assert 0.5 < mask.float().mean() < 0.9 and meta["references"] >= 100
    assert meta["check"]["overstated_points_max"] < 0.25  # measured on held-out subnets
