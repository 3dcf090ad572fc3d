"""Latency of networks on a target: per-part lookup tables measured on real ops.

``load_hardware(cfg)`` gives a ``Hardware`` (``name``, ``predict_ms(spec)``, ``metadata``) for a
profile in ``conf/hardware/``. Measured profiles keep a ``LatencyTable`` of ``OpKey`` -> ms,
timed by ``nas.hardware.timing`` in clean child processes (``nas.hardware.child``).
"""

from nas.hardware import pixel as _pixel  # noqa: F401  registers kind "calibrated"
from nas.hardware.keys import OpKey, arch_keys, space_keys
from nas.hardware.profiles import (
    KINDS,
    Hardware,
    MeasuredHardware,
    default_table_path,
    load_hardware,
    measure_into,
    measure_networks,
    noise_floor,
)
from nas.hardware.table import Correction, LatencyTable, MissingOps, TableError
from nas.hardware.timing import Timing, TimingSettings

__all__ = [
    "KINDS",
    "Correction",
    "Hardware",
    "LatencyTable",
    "MeasuredHardware",
    "MissingOps",
    "OpKey",
    "TableError",
    "Timing",
    "TimingSettings",
    "arch_keys",
    "default_table_path",
    "load_hardware",
    "measure_into",
    "measure_networks",
    "noise_floor",
    "space_keys",
]
