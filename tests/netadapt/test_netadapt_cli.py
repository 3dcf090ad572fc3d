"""``python -m nas.netadapt``: one clear line and exit code 2 on bad input, a no-op when the seed
already meets the target; nothing is trained in any of these."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def netadapt(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "nas.netadapt", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_a_target_above_the_seeds_latency_is_a_no_op(tmp_path):
    done = netadapt("arch=mobilenet_v3_small", "target_ms=100", f"run_dir={tmp_path / 'run'}")
    assert done.returncode == 0, done.stderr
    assert "already meets the target" in done.stdout and "nothing to do" in done.stdout
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("args, message", [
    (["target_ms=1"], "target 1 ms is out of reach"),  # V3-Small's floor is ~5 ms on a Pixel 1
    (["target_ms=-3"], "target_ms must be positive"),
    (["target_ms=10", "delta_fraction=2"], "delta_fraction must be in (0, 1)"),
    ([], "target_ms"),
])
def test_bad_arguments_end_in_one_line_and_exit_code_2(tmp_path, args, message):
    done = netadapt("arch=mobilenet_v3_small", f"run_dir={tmp_path / 'run'}", *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run" / "steps.csv").exists()


def test_a_malformed_seed_architecture_is_named(tmp_path):
    done = netadapt("arch=stem_k4_c16_hs_s2", "target_ms=10", f"run_dir={tmp_path}")
    assert done.returncode == 2 and "kernel" in done.stderr


@pytest.mark.parametrize("args, message", [
    (["evaluator=zero_cost", "final_train=true"], "evaluator=zero_cost has none"),
    (["evaluator=supernet", "evaluator.path=/nonexistent/supernet.pt"],
     "supernet file not found: /nonexistent/supernet.pt"),
    (["evaluator=tabular"], "NetAdapt cannot use evaluator=tabular"),
])
def test_an_evaluator_netadapt_cannot_use_is_one_line_before_anything_runs(tmp_path, args,
                                                                           message):
    done = netadapt("arch=mobilenet_v3_small", "target_ms=10", f"run_dir={tmp_path / 'run'}",
                    *args)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()
