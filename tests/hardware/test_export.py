"""The on-device path: export every part as ONNX, time the files with the exported script (adb and
the phone's benchmark tool stood in for by this machine's ONNX Runtime), import the CSV."""

import json
import os
import stat
import subprocess
import sys

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest
import torch

from nas.arch import decode
from nas.hardware import OpKey, arch_keys
from nas.hardware.ops import build_op, input_shape

# A one-stage space at 32x32, 10 classes: 1 stem + 4 blocks + 1 head.
TINY = ["hardware.resolution=32", "hardware.num_classes=10", "presets=false",
        "space.stem.width=[16]", "space.stem.act=[relu]", "space.head.conv=[64]",
        "space.head.features=[128]",
        "space.stages=[{stride:2,depth:[1,2],width:[24],kernel:[3],expand:[3],"
        "se:[false],act:[relu,hswish]}]"]
SMALL_ARCH = "stem_k3_c16_re_s2-ir_k3_e3_c24_re_s2-head_c64_f128_hs-res32"

FAKE_ADB = """#!/usr/bin/env bash
# adb stand-in: the "phone" is a local folder; push copies, shell runs the command here.
command=$1; shift
case "$command" in
  push) cp "$1" "$2" ;;
  shell) "$@" ;;
  *) exit 1 ;;
esac
"""
FAKE_BENCH = """#!{python}
# onnxruntime_perf_test stand-in: times the model with ONNX Runtime on this CPU, one thread.
import sys, time, numpy as np, onnxruntime as ort
options = ort.SessionOptions(); options.intra_op_num_threads = 1
session = ort.InferenceSession(sys.argv[-1], options, providers=["CPUExecutionProvider"])
shape = session.get_inputs()[0].shape
feed = {{session.get_inputs()[0].name: np.random.rand(*shape).astype(np.float32)}}
runs = int(sys.argv[sys.argv.index("-r") + 1])
start = time.perf_counter()
for _ in range(runs):
    session.run(None, feed)
print(f"Average inference time cost: {{1e3 * (time.perf_counter() - start) / runs:.4f}} ms")
"""


def nas(verb, *args, env=None):
    return subprocess.run([sys.executable, "-m", f"nas.{verb}", *args], capture_output=True,
                          text=True, timeout=300, env=env)


def executable(path, text):
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def env(tmp_path):
    return dict(os.environ) | {"NAS_CACHE_DIR": str(tmp_path / "cache")}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export") / "parts"
    env = dict(os.environ) | {"NAS_CACHE_DIR": str(folder.parent / "cache")}
    out = nas("profile", "hardware=pixel", f"export={folder}", *TINY, env=env)
    assert out.returncode == 0, out.stderr
    assert "exported 6 parts" in out.stdout
    return folder


def test_exported_files_run_on_this_cpu_and_match_the_torch_parts(exported):
    ops = pd.read_csv(exported / "ops.csv")
    assert len(ops) == 6 and set(ops["op"]) == {"stem", "ir", "head"}
    for row in ops.to_dict("records"):
        key = OpKey.from_row(row)
        session = ort.InferenceSession(str(exported / row["file"]),
                                       providers=["CPUExecutionProvider"])
        x = np.random.default_rng(0).random(input_shape(key, 1), dtype=np.float32)
        (got,) = session.run(None, {session.get_inputs()[0].name: x})
        torch.manual_seed(row["id"])  # the export's seed: the same weights
        with torch.no_grad():
            want = build_op(key)(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)


def test_script_measures_every_part_and_the_csv_imports(exported, tmp_path, env):
    script = exported / "run_on_phone.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    phone = tmp_path / "phone"
    phone.mkdir()
    run_env = env | {"ADB": str(executable(tmp_path / "adb", FAKE_ADB)),
                     "BENCH": str(executable(tmp_path / "bench",
                                             FAKE_BENCH.format(python=sys.executable))),
                     "REMOTE": str(phone), "RUNS": "5"}
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, env=run_env,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    results = pd.read_csv(exported / "results.csv")
    assert len(results) == 6 and (results["median_ms"] > 0).all()

    imported = nas("profile", "hardware=pixel", f"import={exported / 'results.csv'}", *TINY,
                   env=env)
    assert imported.returncode == 0, imported.stderr
    assert "kind=imported" in imported.stdout
    described = nas("describe", f"arch={SMALL_ARCH}", "hardware=pixel",
                    "hardware.num_classes=10", "format=json", env=env)
    assert described.returncode == 0, described.stderr
    summary = json.loads(described.stdout)
    measured = {OpKey.from_row(row): row["median_ms"] for row in results.to_dict("records")}
    expected = sum(measured[key] for key in arch_keys(decode(SMALL_ARCH), 10))
    assert summary["latency_ms"] == pytest.approx(expected, rel=1e-6)


def test_import_of_a_bad_csv_is_one_line_and_exit_2(tmp_path, env):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,file,median_ms\n0,models/part_0000.onnx,1.0\n")
    out = nas("profile", "hardware=pixel", f"import={bad}", env=env)
    assert out.returncode == 2 and "lacks the columns" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "cache").exists()
