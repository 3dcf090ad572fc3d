"""Two CPU processes on gloo (torchrun): shares weighted by their images, weights identical in
every process, rank 0 writes the file, and a stopped run continues to the uninterrupted one's
weights, bit for bit."""

import json
import subprocess
import sys

import pytest
import torch

from tests.supernet.conftest import FAST

pytestmark = pytest.mark.slow


def torchrun(*args):
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           "--nproc_per_node=2", *args], capture_output=True, text=True,
                          timeout=600)


def test_processes_average_by_share_and_stay_identical():
    result = torchrun("-m", "tests.supernet.distributed_worker")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    first, second = sorted(lines, key=lambda line: line["rank"])
    assert (first["images"], second["images"]) == (3, 2)
    # (3 * 1 + 2 * 2) / 5 in every process; losses 10 and 20 weighted alike
    for line in (first, second):
        assert line["gradient"][0] == pytest.approx([1.4, 1.4])
        assert line["losses"] == pytest.approx([14.0])
    assert first["weights"] == second["weights"]  # the same steps from one start
    assert first["buffers"] == second["buffers"]  # BN statistics averaged at the checkpoint


def test_two_processes_train_write_once_and_continue_bit_for_bit(conf, tmp_path):
    settings = ["-m", "nas.supernet", conf, "space=tiny", *FAST]
    whole = torchrun(*settings, f"out={tmp_path / 'whole.pt'}")
    assert whole.returncode == 0, whole.stderr
    summaries = [line for line in whole.stdout.splitlines() if line.startswith("{")]
    assert len(summaries) == 1 and json.loads(summaries[0])["processes"] == 2  # rank 0 only

    part = tmp_path / "part.pt"
    first = torchrun(*settings, f"out={part}", "max_seconds=0")
    assert first.returncode == 0, first.stderr
    assert torch.load(part, weights_only=True)["meta"]["steps_done"] == 2
    again = torchrun(*settings, f"out={part}")
    assert again.returncode == 0, again.stderr
    assert again.stderr.count("continuing") == 1
    done, reference = (torch.load(p, weights_only=True) for p in (part, tmp_path / "whole.pt"))
    assert done["meta"]["steps_done"] == 4 and done["meta"]["processes"] == 2
    for name, tensor in reference["state_dict"].items():
        assert torch.equal(done["state_dict"][name], tensor), name
