"""The calibrated Pixel profiles: leave-one-out error recomputed from the shipped data, the order
of the reference networks, and prediction in a fresh process that measures nothing."""

import json
import subprocess
import sys

import numpy as np
import pytest

from nas.arch import PRESETS, decode
from nas.cli import compose_config
from nas.hardware import OpKey, arch_keys, load_hardware
from nas.hardware.pixel import (
    PHONES,
    TERMS,
    PixelModel,
    fit,
    local_times,
    nonnegative_lstsq,
    part_shape,
    published_networks,
)
from nas.hardware.table import LatencyTable


def pixel_cfg(name="pixel", **extra):
    from omegaconf import OmegaConf

    cfg = compose_config("profile", [f"hardware={name}"])
    return OmegaConf.to_container(cfg.hardware) | extra


@pytest.fixture(autouse=True)
def no_imported_table(tmp_path, monkeypatch):
    """An empty cache: a user's imported table must not change what these tests see."""
    monkeypatch.setenv("NAS_CACHE_DIR", str(tmp_path / "cache"))


def test_leave_one_out_on_pixel1_within_10_percent():
    model = PixelModel("pixel1")
    features = np.array([model.features(n.spec) for n in model.networks])
    latency = np.array([n.latency_ms["pixel1"] for n in model.networks])
    errors = []
    for held_out in range(len(latency)):
        others = np.arange(len(latency)) != held_out
        coef = fit(features[others], latency[others])  # never sees the held-out network
        errors.append(abs(features[held_out] @ coef - latency[held_out]) / latency[held_out])
    mape = 100 * float(np.mean(errors))
    assert mape <= 10.0
    assert mape == pytest.approx(model.summary()["loo_mape_pct"], abs=0.01)
    assert len(latency) == 9  # every published network is expressible and used


def test_reference_networks_ordered_as_on_the_phone():
    hardware = load_hardware(pixel_cfg())
    names = [("mobilenet_v2", 1.0), ("mobilenet_v3_large", 1.0), ("mobilenet_v2", 0.35),
             ("mobilenet_v3_small", 1.0)]  # published Pixel 1: 64 > 51 > 16.6 > 15.8 ms
    predicted = [hardware.predict_ms(PRESETS[name](width=width)) for name, width in names]
    assert predicted == sorted(predicted, reverse=True)


def test_leave_one_out_keeps_the_order_too():
    loo = {row["network"]: row["predicted_ms"] for row in PixelModel("pixel1").leave_one_out()}
    order = ["mobilenet_v2 1.0", "mobilenet_v3_large 1.0", "mobilenet_v2 0.35",
             "mobilenet_v3_small 1.0"]
    assert [loo[name] for name in order] == sorted((loo[name] for name in order), reverse=True)


@pytest.mark.parametrize("name", ["pixel", "pixel1", "pixel2", "pixel3"])
def test_profiles_say_calibrated_and_from_which_figures(name):
    hardware = load_hardware(pixel_cfg(name))
    meta = hardware.metadata
    assert meta["kind"] == "calibrated" and meta["measured"] is False
    assert "Howard et al. 2019" in meta["figures"]
    assert meta["phone"] == ("pixel1" if name == "pixel" else name)
    assert len(meta["loo"]) == 9 and meta["loo_mape_pct"] > 0
    assert set(meta["coefficients"]) == set(TERMS)
    assert 5 < hardware.predict_ms(PRESETS["mobilenet_v3_large"]()) < 200


def test_shipped_table_covers_every_part_of_spaces_and_presets():
    from omegaconf import OmegaConf

    from nas.arch import SearchSpace
    from nas.hardware import space_keys

    table = local_times().table
    keys = []
    for space_name in ("mobilenet_v3_large", "mobilenet_v3_small"):
        cfg = compose_config("describe", [f"space={space_name}"])
        keys += space_keys(SearchSpace.from_config(OmegaConf.to_container(cfg.space)))
    keys += [k for make in PRESETS.values() for k in arch_keys(make())]
    keys += [k for n in published_networks() for k in arch_keys(n.spec)]
    assert table.missing(keys) == []


def test_fresh_process_predicts_without_measuring(tmp_path):
    """A user's first run: no table of theirs, measuring disabled; predictions still come."""
    script = """
import json, random, time
import nas.hardware.child, nas.hardware.timing
def refuse(*args, **kwargs):
    raise AssertionError("the pixel profile tried to measure on this machine")
nas.hardware.child.run_jobs = nas.hardware.timing.time_module = refuse
from omegaconf import OmegaConf
from nas.arch import SearchSpace, PRESETS
from nas.cli import compose_config
from nas.hardware import load_hardware
config = compose_config("profile", ["hardware=pixel"])
hardware = load_hardware(OmegaConf.to_container(config.hardware))
rng = random.Random(0)
specs = [make() for make in PRESETS.values()]
for name in ("mobilenet_v3_large", "mobilenet_v3_small"):
    config = compose_config("describe", ["space=" + name])
    space = SearchSpace.from_config(OmegaConf.to_container(config.space))
    specs += [space.sample_random(rng) for _ in range(100)]
start = time.perf_counter()
latencies = [hardware.predict_ms(spec) for spec in specs]
print(json.dumps({"n": len(specs), "min": min(latencies), "max": max(latencies),
                  "v3": hardware.predict_ms(PRESETS["mobilenet_v3_large"]()),
                  "ms_per_call": 1e3 * (time.perf_counter() - start) / len(specs)}))
"""
    env = {"NAS_CACHE_DIR": str(tmp_path / "cache"), "HOME": str(tmp_path),
           "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["n"] >= 200 and 3 < result["min"] < result["max"] < 300
    assert not (tmp_path / "cache").exists()  # nothing written on the user's machine
    # The same number in this process: nothing depends on the process or machine state.
    here = load_hardware(pixel_cfg()).predict_ms(PRESETS["mobilenet_v3_large"]())
    assert result["v3"] == pytest.approx(here, rel=1e-12)


def test_unseen_part_falls_back_to_a_deterministic_estimate():
    local = local_times()
    unseen = OpKey(op="ir", resolution=28, in_ch=44, out=52, expand=212, kernel=5, stride=1,
                   se=True, act="hswish")
    assert unseen not in local.table
    ms, estimated = local.ms(unseen)
    assert estimated and ms > 0 and ms == local.ms(unseen)[0]
    spec = decode("stem_k3_c24_hs_s2-ir_k3_e1_c24_re-ir_k5_x100_c44_se_hs_s2-"
                  "ir_k3_e4_c52_hs_s2-head_c400_f900_hs-res224")
    hardware = load_hardware(pixel_cfg())
    assert hardware.predict_ms(spec) == hardware.predict_ms(spec) > 0


def test_fallback_estimates_the_shipped_parts_reasonably():
    """The regression used for unseen parts, checked against the parts it was fitted on."""
    local = local_times()
    keys = [OpKey.from_row(row) for row in local.table.frame.to_dict("records")]
    errors = [abs(local.estimate(k) - local.table.ms(k)) / local.table.ms(k) for k in keys]
    assert float(np.median(errors)) < 0.25


def test_part_shapes_add_up_to_the_counted_macs():
    from nas.cost import arch_cost

    for name in ("mobilenet_v3_large", "mnasnet_a1", "mobilenet_v1"):
        spec = PRESETS[name]()
        macs = sum(part_shape(k).macs for k in arch_keys(spec))
        assert macs == pytest.approx(arch_cost(spec).macs, rel=1e-6)


def test_nonnegative_lstsq_drops_a_term_that_would_go_negative():
    x = np.array([[1.0, 1.0], [2.0, 1.0], [3.0, 1.0]])
    y = np.array([1.0, 3.0, 5.0])  # y = 2x - 1: the intercept would be negative
    coef = nonnegative_lstsq(x, y)
    assert coef[1] == 0 and coef[0] > 0


def test_imported_table_replaces_the_calibrated_model(tmp_path):
    spec = PRESETS["mobilenet_v3_small"]()
    table = LatencyTable({"kind": "imported"})
    from nas.hardware import Timing

    for key in arch_keys(spec):
        table.add(key, Timing(1.0, 1.0, 1.0, 0))
    path = tmp_path / "imported.csv"
    table.save(path)
    hardware = load_hardware(pixel_cfg(imported=str(path)))
    assert hardware.metadata["kind"] == "imported"
    assert hardware.predict_ms(spec) == pytest.approx(len(arch_keys(spec)))


def test_unknown_phone_is_a_clear_error():
    from nas.errors import NasError

    with pytest.raises(NasError, match="unknown phone"):
        load_hardware(pixel_cfg(phone="pixel9"))
    assert set(PHONES) == {"pixel1", "pixel2", "pixel3"}


def test_the_shipped_model_is_the_best_candidate_by_leave_one_out():
    from nas.hardware.pixel import compare_models

    rows = compare_models("pixel1")
    best = min(rows, key=lambda row: (row["loo_mape_pct"], row["terms"].count("+")))
    assert best["terms"] == " + ".join(TERMS)


def test_describe_adds_latency_and_its_error(tmp_path):
    env = {"NAS_CACHE_DIR": str(tmp_path / "cache"), "HOME": str(tmp_path),
           "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "nas.describe", "arch=mnasnet_a1",
                          "hardware=pixel", "format=json"], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    expected = load_hardware(pixel_cfg()).predict_ms(PRESETS["mnasnet_a1"]())
    assert summary["latency_ms"] == pytest.approx(expected)
    assert summary["latency_kind"] == "calibrated" and summary["latency_loo_mape_pct"] <= 10
