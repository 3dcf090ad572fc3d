"""``python -m nas.profile hardware=cpu``: measure every part a search space can produce.

Resumable: the table is saved every few seconds and at exit, and parts already in it are
skipped, so an interrupted run continues where it stopped and a new space extends the table.
Then whole networks for the additivity correction, and a noise floor: some parts measured again
in a second process.
"""

from __future__ import annotations

import dataclasses
import random
import time

from omegaconf import DictConfig, OmegaConf

from nas.arch import PRESETS, ArchSpec, SearchSpace, encode
from nas.arch.channels import make_divisible
from nas.cli import run
from nas.errors import NasError
from nas.hardware import MeasuredHardware, load_hardware, measure_into, space_keys
from nas.hardware.keys import arch_keys
from nas.hardware.table import LatencyTable


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


# Width multipliers the calibration networks cycle through. The correction is a line fitted on
# (summed parts, whole network) pairs; networks of one space alone span a narrow latency range
# (6-12.5 ms on this CPU for mobilenet_v3_large), so the fit extrapolated badly to 1.5-2 ms
# networks, where each part's per-call overhead weighs most (V3-Small read +12%). Thinner
# copies of the space's networks cover the small end without using any validation network.
CALIBRATION_WIDTHS = (1.0, 0.5, 0.75, 0.35)


def scale_width(spec: ArchSpec, width: float) -> ArchSpec:
    """``spec`` with every channel count times ``width`` (MobileNet's rounding to 8); a block
    without an expansion conv keeps none, since equal widths scale to equal widths."""
    if width == 1.0:
        return spec
    scale = lambda channels: make_divisible(channels * width)  # noqa: E731
    stem = dataclasses.replace(spec.stem, out=scale(spec.stem.out))
    blocks = [dataclasses.replace(b, expand=scale(b.expand), out=scale(b.out))
              for b in spec.blocks]
    head = dataclasses.replace(spec.head, conv=scale(spec.head.conv) if spec.head.conv else 0)
    return dataclasses.replace(spec, stem=stem, blocks=tuple(blocks), head=head)


def calibration_specs(space: SearchSpace, count: int, seed: int) -> list[ArchSpec]:
    """``count`` random networks of the space (seed apart from validate's), the i-th thinned by
    ``CALIBRATION_WIDTHS[i % 4]``."""
    rng = random.Random(seed)
    return [scale_width(space.sample_random(rng), CALIBRATION_WIDTHS[i % len(CALIBRATION_WIDTHS)])
            for i in range(count)]


def calibrate(hw: MeasuredHardware, space: SearchSpace, count: int, seed: int) -> int:
    """Measure the calibration networks end to end; those already in the table are kept."""
    have = {entry["arch"] for entry in hw.table.metadata["calibration"]}
    specs = [spec for spec in calibration_specs(space, count, seed) if encode(spec) not in have]
    if not specs:
        return 0
    hw.ensure(specs)
    for spec, timing in zip(specs, hw.measure_networks(specs, desc="calibration networks")):
        hw.table.add_calibration(encode(spec), hw.classes, timing.median_ms)
    hw.table.save(hw.path)
    return len(specs)


def noise_floor(hw: MeasuredHardware, count: int, seed: int = 0) -> float:
    """MAPE (%) between the table and the same parts measured again in a new process."""
    keys = random.Random(seed).sample(sorted(hw.table.keys(), key=str), min(count, len(hw.table)))
    if not keys:
        return float("nan")
    again = LatencyTable(hw.table.metadata)
    measure_into(again, hw.path.with_name(hw.path.name + ".noise"), keys, hw.settings,
                 desc="noise floor")
    hw.path.with_name(hw.path.name + ".noise").unlink()
    errors = [abs(again.ms(k) - hw.table.ms(k)) / hw.table.ms(k) for k in keys]
    return 100 * sum(errors) / len(errors)


def main(cfg: DictConfig) -> None:
    if cfg.hardware.kind == "calibrated":  # a phone: report, export=DIR or import=CSV
        return profile_calibrated(cfg)
    hw = load_measured(cfg)
    space = SearchSpace.from_config(OmegaConf.to_container(cfg.space))
    space = dataclasses.replace(space, resolution=int(cfg.hardware.resolution))
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
    if int(cfg.noise_keys) > 0 and todo:
        hw.table.metadata["noise_floor_pct"] = noise_floor(hw, int(cfg.noise_keys))
        hw.table.save(hw.path)
    correction = hw.table.correction()
    print(f"table={hw.path} entries={len(hw.table)} measured={len(todo)} "
          f"measure_s={measured_s:.0f} total_s={time.monotonic() - start:.0f} "
          f"calibration_nets={calibrated} correction={correction.kind} "
          f"correction_loo_mape={correction.loo_mape} slope={correction.slope:.4f} "
          f"intercept_ms={correction.intercept:.3f} "
          f"noise_floor_pct={hw.table.metadata.get('noise_floor_pct')}")


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
