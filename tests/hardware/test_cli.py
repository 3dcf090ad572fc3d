"""profile, validate and describe with hardware=, run as a user runs them (tiny settings)."""

import json
import subprocess
import sys

import pandas as pd

SMALL_ARCH = "stem_k3_c16_hs_s2-ir_k3_e1_c16_re-ir_k3_e3_c24_se_hs_s2-head_c64_f128_hs-res32"

FAST = ["hardware.backend=eager", "hardware.num_classes=10", "hardware.timing.warmup_s=0.002",
        "hardware.timing.min_runs=3", "hardware.timing.max_runs=20",
        "hardware.timing.target_s=0.005", "hardware.timing.rounds=2",
        "hardware.timing.min_rounds=2", "hardware.timing.max_rounds=4",
        "hardware.timing.min_gap_s=0"]
# A one-stage space at 32x32: 1 stem + 4 block + 1 head parts.
TINY_SPACE = ["space.stem.width=[16]", "space.stem.act=[relu]", "space.head.conv=[64]",
              "space.head.features=[128]",
              "space.stages=[{stride:2,depth:[1,2],width:[24],kernel:[3],expand:[3],"
              "se:[false],act:[relu,hswish]}]"]


def nas(verb, *args):
    return subprocess.run([sys.executable, "-m", f"nas.{verb}", *args], capture_output=True,
                          text=True, timeout=300)


def summary_of(stdout):
    return dict(item.split("=", 1) for item in stdout.strip().splitlines()[-1].split())


def test_profile_measures_the_space_and_resumes(tmp_path):
    table = tmp_path / "t.csv"
    args = [f"table={table}", "hardware.resolution=32", "presets=false", "noise_keys=2",
            "hardware.calibration.archs=2", *FAST, *TINY_SPACE]
    first = nas("profile", *args)
    assert first.returncode == 0, first.stderr
    result = summary_of(first.stdout)
    assert result["measured"] == "6"  # the space's parts
    # the second calibration network is the space thinned by 0.5: its parts are added too
    assert int(result["entries"]) > 6
    assert result["calibration_nets"] == "2" and float(result["noise_floor_pct"]) >= 0
    assert float(result["calibration_noise_pct"]) >= 0
    assert "leave-one-out MAPE" in first.stdout and "noise floor" in first.stdout
    again = nas("profile", *args)
    resumed = summary_of(again.stdout)
    assert resumed["measured"] == "0" and resumed["calibration_nets"] == "0"
    # the noise floor is measured in every run, not only when something was measured
    assert float(resumed["noise_floor_pct"]) >= 0 and float(resumed["calibration_noise_pct"]) >= 0


def test_validate_end_to_end(tmp_path):
    out = tmp_path / "v.csv"
    result = nas("validate", "n_archs=2", "seed=0", "resolution=32",
                 "presets=[mobilenet_v3_small]", f"table={tmp_path / 't.csv'}", f"out={out}",
                 "hardware.calibration.archs=3", *FAST)
    assert result.returncode == 0, result.stderr
    summary = summary_of(result.stdout)
    for key in ("mape", "spearman", "macs_spearman", "max_error", "within5", "within10",
                "noise_mape", "uncorrected_mape", "error_over_floor", "measure_s"):
        assert key in summary
    # the fresh table was calibrated on its own networks before predicting
    assert summary["corrected"] == "True" and summary["correction_nets"] == "3"
    statement = [line for line in result.stdout.splitlines() if line.startswith("validation:")]
    assert len(statement) == 1 and "against a noise floor of" in statement[0]
    assert float(summary["mape"]) >= 0 and -1 <= float(summary["spearman"]) <= 1
    pairs = pd.read_csv(out)
    assert list(pairs["source"]) == ["space", "space", "preset"]
    assert (pairs["measured_ms"] > 0).all() and (pairs["predicted_ms"] > 0).all()
    assert out.with_suffix(".png").stat().st_size > 1000


def test_validate_with_a_corrupt_table_is_one_line(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("garbage\n")
    result = nas("validate", "n_archs=2", f"table={table}", *FAST)
    assert result.returncode == 2
    assert result.stderr.startswith("error:") and "not a nas latency table" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_describe_with_hardware_adds_latency(tmp_path):
    result = nas("describe", f"arch={SMALL_ARCH}", "hardware=cpu", "format=json",
                 f"hardware.table={tmp_path / 't.csv'}", "hardware.calibration.archs=3", *FAST)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["latency_ms"] > 0 and summary["hardware"] == "cpu"
    assert summary["latency_corrected"] is True  # fitted on first prediction, then saved


def test_describe_says_when_the_latency_is_uncorrected(tmp_path):
    result = nas("describe", f"arch={SMALL_ARCH}", "hardware=cpu", "format=json",
                 f"hardware.table={tmp_path / 't.csv'}", "hardware.calibration.auto=false",
                 *FAST)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["latency_corrected"] is False
    assert "calibration.auto" in summary["latency_uncorrected_reason"]
    assert "warning: latency table" in result.stderr and "no additivity correction" in \
        result.stderr


def test_calibration_networks_are_thinned_copies_of_the_space():
    from nas.arch import PRESETS
    from nas.cli import load_space
    from nas.profile import CALIBRATION_WIDTHS, calibration_specs, scale_width

    # Thinning a network of the space by 0.5 is MobileNet's width multiplier: it gives the
    # preset's own half-width blocks (the preset also thins its pre-classifier layer).
    half = scale_width(PRESETS["mobilenet_v3_large"](), 0.5)
    preset = PRESETS["mobilenet_v3_large"](width=0.5)
    assert half.stem == preset.stem and half.blocks == preset.blocks
    assert half.head.conv == preset.head.conv
    specs = calibration_specs(load_space("mobilenet_v3_large"), 8, seed=1000)
    assert len(set(specs)) == 8
    full_width = [s for i, s in enumerate(specs) if CALIBRATION_WIDTHS[i % 4] == 1.0]
    thinnest = [s for i, s in enumerate(specs) if CALIBRATION_WIDTHS[i % 4] == 0.35]
    assert max(s.blocks[-1].out for s in thinnest) < min(s.blocks[-1].out for s in full_width)
