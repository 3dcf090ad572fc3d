"""python -m nas.supernet as a user runs it: trains, continues, refuses in one line."""

import torch

from tests.supernet.conftest import run_supernet, summary


def test_train_stop_and_continue_give_the_uninterrupted_file(conf, tmp_path):
    whole = summary(run_supernet(conf, f"out={tmp_path / 'whole.pt'}", "keep_every=2"))
    assert whole["steps_done"] == 4 and whole["steps_this_run"] == 4
    assert set(whole["val_accuracy"]) == {"largest", "smallest"}
    kept = torch.load(tmp_path / "whole.step2.pt", weights_only=True)  # keep_every: step 2 only
    assert kept["meta"]["steps_done"] == 2 and kept["optimizer"] is None
    assert sorted(p.name for p in tmp_path.glob("whole*.pt")) == ["whole.pt", "whole.step2.pt"]

    part = tmp_path / "part.pt"
    first = summary(run_supernet(conf, f"out={part}", "max_seconds=0"))
    assert first["steps_done"] == 2  # stopped at its first checkpoint
    payload = torch.load(part, weights_only=True)
    assert payload["meta"]["steps_done"] == 2 and payload["optimizer"] is not None
    assert payload["meta"]["space"] == "tiny" and payload["meta"]["dataset"]["name"] == \
        "fashion_mnist" and payload["meta"]["seed"] == 0 and "torch" in \
        payload["meta"]["versions"] and payload["meta"]["command"].startswith("python -m")

    rerun = run_supernet(conf, f"out={part}")
    second = summary(rerun)
    assert "continuing" in rerun.stderr and second["steps_this_run"] == 2
    done, reference = (torch.load(p, weights_only=True) for p in (part, tmp_path / "whole.pt"))
    assert done["optimizer"] is None and done["meta"]["steps_done"] == 4
    for name, tensor in reference["state_dict"].items():
        torch.testing.assert_close(done["state_dict"][name], tensor, msg=name)

    again = run_supernet(conf, f"out={part}")
    assert summary(again)["steps_this_run"] == 0 and "nothing to do" in again.stderr


def one_line_error(result, message):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_a_file_of_another_training_or_a_corrupt_one_is_refused(conf, tmp_path):
    out = tmp_path / "s.pt"
    summary(run_supernet(conf, f"out={out}", "steps=2"))
    one_line_error(run_supernet(conf, f"out={out}", "steps=2", "recipe.lr=0.05"),
                   "holds another training (recipe differs")
    one_line_error(run_supernet(conf, f"out={out}", "steps=2", "space=mobilenet_v3_small"),
                   "holds another training (space_config differs")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a supernet")
    one_line_error(run_supernet(conf, f"out={bad}"), "is not a readable supernet file")
    torch.save({"state_dict": {}}, bad)
    one_line_error(run_supernet(conf, f"out={bad}"), "is not a supernet file")


def test_a_space_of_ops_is_refused_in_one_line(conf, tmp_path):
    one_line_error(run_supernet(conf, "space=nas_bench_macro", f"out={tmp_path / 'm.pt'}"),
                   "not supported yet")


def test_a_float32_pack_carries_a_training_on_and_the_momentum_restart_is_recorded(conf, tmp_path):
    import subprocess
    import sys

    part = tmp_path / "part.pt"
    summary(run_supernet(conf, f"out={part}", "max_seconds=0"))  # step 2 of 4
    packed = {}
    for dtype in ("float32", "float16"):
        packed[dtype] = tmp_path / f"{dtype}.pt"
        result = subprocess.run([sys.executable, "-m", "nas.supernet.pack", f"src={part}",
                                 f"out={packed[dtype]}", f"dtype={dtype}"],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
    assert packed["float32"].stat().st_size < 0.6 * part.stat().st_size  # no optimizer state
    one_line_error(run_supernet(conf, f"out={packed['float16']}"), "holds float16 weights")

    rerun = run_supernet(conf, f"out={packed['float32']}")
    assert summary(rerun)["steps_this_run"] == 2 and "momentum restarts" in rerun.stderr
    done = torch.load(packed["float32"], weights_only=True)
    assert done["meta"]["steps_done"] == 4 and done["meta"]["momentum_restarts"] == [2]
    assert "packed" not in done["meta"]  # a training file again, finished
