"""The describe command, run as a user runs it."""

import json
import subprocess
import sys

import pytest

from nas.arch import PRESETS, encode


def describe(*args):
    return subprocess.run([sys.executable, "-m", "nas.describe", *args], capture_output=True,
                          text=True, timeout=120)


def test_json_summary_and_round_trip_of_the_printed_string():
    first = describe("arch=mobilenet_v3_large", "format=json")
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["params"] == 5_483_032
    assert 214e6 < summary["macs"] < 224e6
    again = json.loads(describe(f"arch={summary['arch']}", "format=json").stdout)
    assert again["arch"] == summary["arch"] and again["params"] == summary["params"]


def test_table_lists_layers_and_totals():
    result = describe("arch=mobilenet_v1", "width=0.5", "resolution=160")
    assert result.returncode == 0, result.stderr
    assert "blocks.12" in result.stdout and "160x160" in result.stdout
    assert encode(PRESETS["mobilenet_v1"](width=0.5, resolution=160)) in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["arch=stem_k3_c16_hs_s2-ir_k4_e3_c24_re-res224"], "ir_k4_e3_c24_re"),
        (["arch=mobilenet_v9"], "unknown preset 'mobilenet_v9'"),
        (["archh=mobilenet_v2"], "unknown setting 'archh'"),
        (["arch=mobilenet_v2", "format=xml"], "format"),
        (["arch=mobilenet_v2", "width=wide"], "width must be a number"),
        ([], "give arch="),
        (["arch=mobilenet_v2", "hardware=phone"], "cpu, cuda, pixel, pixel1, pixel2, pixel3"),
    ],
)
def test_bad_input_is_one_clear_line(args, message):
    result = describe(*args)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr


def test_space_summary_counts_architectures():
    result = describe("space=mobilenet_v3_large")
    assert result.returncode == 0, result.stderr
    assert "distinct architectures" in result.stdout
    assert "presets inside: mobilenet_v3_large" in result.stdout
