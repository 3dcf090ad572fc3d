"""Building a ground truth: real trainings (tiny networks, few images), resumed, refused."""

import json

import pytest

from nas.arch import decode
from nas.cost import arch_cost
from nas.errors import NasError
from nas.yardstick import load_ground_truth
from nas.yardstick.build import make_plan, run, write_or_check_plan
from nas.yardstick.selection import Candidate

ARCHS = [f"stem_k3_c8_re_s2-ir_k3_e2_c{w}_re_s2-ir_k3_e2_c{w}_se_hs-head_c32_hs-res224"
         for w in (8, 16, 24)]


def plan_for(archs, epochs=1):
    candidates = [Candidate(f"net{i}", "random", decode(a), arch_cost(decode(a)).macs,
                            arch_cost(decode(a)).params) for i, a in enumerate(archs)]
    evaluator = {"batch_size": 64, "lr": 0.2, "bn_recalibration": 128, "train_fraction": 0.01}
    return make_plan(candidates, space="tiny", data={"name": "fashion_mnist", "val_size": 500},
                     evaluator=evaluator, epochs=epochs, seeds=[0, 1], command="test")


def test_trains_every_seed_writes_the_table_and_resumes_only_what_is_missing(tmp_path):
    folder, out = tmp_path / "gt", tmp_path / "gt.csv"
    plan = write_or_check_plan(folder, plan_for(ARCHS))
    frame = run(folder, plan, out, workers=2, threads=1)
    assert len(frame) == 3 and frame[["seed_0", "seed_1"]].notna().all().all()
    assert (frame["accuracy"] > 10).all()  # better than chance after a few steps
    runs = sorted((folder / "runs").glob("*.json"))
    assert len(runs) == 6
    record = json.loads(runs[0].read_text())
    assert record["val_images"] == 500 and record["threads"] == 1
    kept = {p.name: p.stat().st_mtime_ns for p in runs}
    (folder / "runs" / "net1-seed1.json").unlink()
    run(folder, plan, out, workers=1, threads=1)
    after = {p.name: p.stat().st_mtime_ns for p in (folder / "runs").glob("*.json")}
    assert set(after) == set(kept)
    assert all(after[name] == kept[name] for name in kept if name != "net1-seed1.json")
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["trainings_done"] == 6 and meta["space"] == "tiny"
    assert len(load_ground_truth(out, min_networks=3).frame) == 3


def test_a_folder_of_another_budget_is_refused(tmp_path):
    write_or_check_plan(tmp_path, plan_for(ARCHS))
    with pytest.raises(NasError, match="other epochs"):
        write_or_check_plan(tmp_path, plan_for(ARCHS, epochs=2))


def test_killing_the_command_stops_its_workers(tmp_path):
    """SIGTERM to python -m nas.ground_truth: no worker goes on training behind it."""
    import signal
    import subprocess
    import sys
    import time

    import psutil

    process = subprocess.Popen(
        [sys.executable, "-m", "nas.ground_truth", "networks=10", "epochs=1",
         "train_fraction=0.01", "pool=20", f"out={tmp_path / 'gt.csv'}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    parent = psutil.Process(process.pid)

    def workers():  # spawn_main: not the resource tracker, also a child
        return [c for c in parent.children(recursive=True)
                if "spawn_main" in " ".join(c.cmdline())]

    deadline = time.time() + 300
    while len(workers()) < 2 and time.time() < deadline and process.poll() is None:
        time.sleep(0.5)
    started = workers()
    assert len(started) == 2, process.stderr
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    gone, alive = psutil.wait_procs(started, timeout=30)
    assert not alive and process.returncode != 0
