"""Tiny real measurements: small parts at 32x32, a handful of runs each."""

import pytest

from nas.arch import decode
from nas.hardware import TimingSettings

TINY = {"warmup_s": 0.002, "min_runs": 3, "max_runs": 20, "target_s": 0.005, "rounds": 2,
        "min_rounds": 2, "max_rounds": 4, "min_gap_s": 0.0}
TINY_OVERRIDES = [f"hardware.timing.{name}={value}" for name, value in TINY.items()]
SMALL_ARCH = "stem_k3_c16_hs_s2-ir_k3_e1_c16_re-ir_k3_e3_c24_se_hs_s2-head_c64_f128_hs-res32"


@pytest.fixture
def settings():
    return TimingSettings(backend="eager", **TINY)


@pytest.fixture
def small_spec():
    return decode(SMALL_ARCH)


@pytest.fixture
def tiny():
    return dict(TINY)


@pytest.fixture
def hardware_cfg():
    return make_hardware_cfg


def make_hardware_cfg(table, backend="eager", **extra):
    return {"name": "cpu", "kind": "measured", "device": "cpu", "backend": backend,
            "threads": 1, "batch": 1, "resolution": 32, "num_classes": 10, "table": str(table),
            "timing": dict(TINY)} | extra
