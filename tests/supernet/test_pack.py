"""python -m nas.supernet.pack: the weights as float16 without optimizer state, read by every
reader of supernet files; one-line refusals."""

import json
import random
import subprocess
import sys

import torch

from nas.arch import SearchSpace
from nas.io import file_sha256
from nas.search.evaluators import make_search_evaluator
from nas.supernet.store import build_supernet, read_supernet
from tests.supernet.conftest import TINY_SPACE
from tests.supernet.test_cli import one_line_error

DATA = {"name": "fashion_mnist", "root": None, "val_size": 10000, "split_seed": 0}


def pack(*args):
    return subprocess.run([sys.executable, "-m", "nas.supernet.pack", *args],
                          capture_output=True, text=True, timeout=300)


def test_packed_weights_are_the_sources_in_float16(tiny_supernet, tmp_path):
    out = tmp_path / "packed.pt"
    result = pack(f"src={tiny_supernet}", f"out={out}")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["out_bytes"] < 0.6 * summary["src_bytes"]
    source, packed = read_supernet(tiny_supernet), read_supernet(out)
    assert packed["optimizer"] is None
    assert packed["meta"]["packed"] == {"from_sha256": file_sha256(tiny_supernet),
                                        "dtype": "float16"}
    assert {k: v for k, v in packed["meta"].items() if k != "packed"} == source["meta"]
    loaded = build_supernet(packed, out).state_dict()
    for name, tensor in source["state_dict"].items():
        if tensor.is_floating_point():
            assert packed["state_dict"][name].dtype == torch.float16, name
            # loaded back as float32: the source rounded to float16, nothing else changed
            assert loaded[name].dtype == torch.float32
            assert torch.equal(loaded[name], tensor.half().float()), name
        else:
            assert torch.equal(packed["state_dict"][name], tensor), name


def test_the_evaluator_scores_a_packed_file_as_its_source(tiny_supernet, tmp_path):
    out = tmp_path / "packed.pt"
    assert pack(f"src={tiny_supernet}", f"out={out}").returncode == 0
    spec = SearchSpace.from_config(TINY_SPACE).sample_random(random.Random(5))
    scores = []
    for path in (tiny_supernet, out):
        evaluator = make_search_evaluator(DATA, {"kind": "supernet", "path": str(path),
                                                 "bn_images": 64, "val_size": 300,
                                                 "threads": 1}, seed=0)
        scores.append(evaluator.evaluate(spec).val_accuracy)
    # float16 weights move a tiny network's accuracy by at most a few of 300 images
    assert abs(scores[0] - scores[1]) <= 0.02, scores


def test_bad_input_is_refused_in_one_line(tiny_supernet, tmp_path):
    one_line_error(pack(f"src={tmp_path / 'none.pt'}", f"out={tmp_path / 'x.pt'}"),
                   "supernet file not found")
    one_line_error(pack(f"src={tiny_supernet}", f"out={tiny_supernet}"), "is the source file")
    one_line_error(pack(f"src={tiny_supernet}", f"out={tmp_path / 'x.pt'}", "dtype=int8"),
                   "dtype must be one of")
    damaged = tmp_path / "damaged.pt"
    damaged.write_bytes(tiny_supernet.read_bytes()[:1000])
    one_line_error(pack(f"src={damaged}", f"out={tmp_path / 'x.pt'}"), "not a readable")
    assert not (tmp_path / "x.pt").exists()
