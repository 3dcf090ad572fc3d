"""``python -m nas.profile hardware=cpu``: measure every part a search space can produce.

Resumable: the table is saved every few seconds and at exit, and parts already in it are
skipped, so an interrupted run continues where it stopped and a new space extends the table.
Then whole networks for the additivity correction (timed round-robin with the parts of theirs
the table lacks), and, in every run, a noise floor: sampled parts and the calibration networks
measured again in a fresh process, printed beside the correction's leave-one-out error.
"""

from __future__ import annotations

import dataclasses
import random
import time

from omegaconf import DictConfig, OmegaConf

from nas.arch import PRESETS, SearchSpace
from nas.cli import run
from nas.errors import NasError
from nas.hardware import MeasuredHardware, load_hardware, measure_into, noise_floor, space_keys
from nas.hardware.calibration import (  # noqa: F401  (scale_width, widths: nas.profile's API)
    CALIBRATION_WIDTHS,
    calibration_specs,
    scale_width,
)
from nas.hardware.keys import arch_keys
from nas.hardware.table import now


def hardware_config(cfg: DictConfig) -> dict:
    """The hardware group as a plain dict, with the top-level ``table=`` override applied."""
    hardware = OmegaConf.to_container(cfg.hardware)
    if cfg.get("table"):
        hardware["table"] = str(cfg.table)
    return hardware


def load_measured(cfg: DictConfig) -> MeasuredHardware:
    hardware = load_hardware(hardware_config(cfg))
    if not isinstance(hardware, MeasuredHardware):
        raise NasError(f"hardware={hardware.name} is not measured on this machine")
    return hardware


def profile_keys(space: SearchSpace, classes: int, presets: bool):
    keys = space_keys(space, classes)
    if presets:
        for make in PRESETS.values():
            keys.extend(arch_keys(make(resolution=space.resolution), classes))
    return list(dict.fromkeys(keys))


def calibrate(hw: MeasuredHardware, space: SearchSpace, count: int, seed: int) -> int:
    """Measure the calibration networks end to end, round-robin with their missing parts;
    those already in the table are kept."""
    return hw.calibrate(calibration_specs(space, count, seed))


def measure_noise_floor(hw: MeasuredHardware, count: int, seed: int = 0) -> dict:
    """``count`` parts of the table and every calibration network measured again in a new
    process (``nas.hardware.noise_floor``), saved in the table's metadata."""
    keys = random.Random(seed).sample(sorted(hw.table.keys(), key=str), min(count, len(hw.table)))
    floor = noise_floor(hw.table, hw.settings, keys, hw.table.metadata["calibration"])
    hw.table.metadata |= {"noise_floor_pct": floor["parts_pct"],
                          "calibration_noise_pct": floor["networks_pct"],
                          "noise_measured": now()}
    hw.table.save(hw.path)
    return floor


def _pct(value) -> str:
    return "n/a" if value is None else f"{value:.2f}%"


def main(cfg: DictConfig) -> None:
    if cfg.hardware.kind == "calibrated":  # a phone: report, export=DIR or import=CSV
        return profile_calibrated(cfg)
    hw = load_measured(cfg)
    space = SearchSpace.from_config(OmegaConf.to_container(cfg.space))
    space = dataclasses.replace(space, resolution=int(cfg.hardware.resolution))
    hw.calibration_space = space
    keys = profile_keys(space, hw.classes, bool(cfg.presets))
    todo = hw.table.missing(keys)
    print(f"{space.name}: {len(keys)} parts, {len(keys) - len(todo)} already in {hw.path}")
    start = time.monotonic()
    # A fixed shuffle spreads slow drifts of the machine over all kinds of parts.
    random.Random(0).shuffle(todo)
    measure_into(hw.table, hw.path, todo, hw.settings)
    measured_s = time.monotonic() - start
    calibrated = 0
    if cfg.calibration:
        cal = cfg.hardware.get("calibration") or {}
        calibrated = calibrate(hw, space, int(cal.get("archs", 10)), int(cal.get("seed", 1000)))
    floor = {"parts_pct": None, "networks_pct": None}
    if int(cfg.noise_keys) > 0 and len(hw.table):
        floor = measure_noise_floor(hw, int(cfg.noise_keys))
    correction = hw.table.correction()
    print(f"correction {correction.kind}: leave-one-out MAPE {_pct(correction.loo_mape)} on "
          f"{correction.networks} calibration networks; noise floor (the same entries measured "
          f"again in a fresh process): networks {_pct(floor['networks_pct'])}, parts "
          f"{_pct(floor['parts_pct'])}")
    print(f"table={hw.path} entries={len(hw.table)} measured={len(todo)} "
          f"measure_s={measured_s:.0f} total_s={time.monotonic() - start:.0f} "
          f"calibration_nets={calibrated} correction={correction.kind} "
          f"correction_loo_mape={correction.loo_mape} slope={correction.slope:.4f} "
          f"intercept_ms={correction.intercept:.3f} "
          f"noise_floor_pct={floor['parts_pct']} "
          f"calibration_noise_pct={floor['networks_pct']} "
          f"unstable={len(hw.table.unstable())}")


def profile_calibrated(cfg: DictConfig) -> None:
    from nas.hardware.phone import profile_phone

    space = SearchSpace.from_config(OmegaConf.to_container(cfg.space))
    space = dataclasses.replace(space, resolution=int(cfg.hardware.resolution))
    lines = profile_phone(hardware_config(cfg), space, export=cfg.get("export"),
                          results=cfg.get("import"), presets=bool(cfg.presets))
    print("\n".join(lines))


def cli() -> None:
    """The console script (pyproject.toml) and ``python -m``: same behaviour."""
    run(main, "profile")


if __name__ == "__main__":
    cli()
