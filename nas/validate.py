"""``python -m nas.validate hardware=cpu n_archs=50 seed=0``: a latency table against reality.

Samples ``n_archs`` networks from the space (seeded) plus the presets, predicts each from the
table (measuring missing parts first, and fitting the table's additivity correction on its own
calibration networks if it has none), then measures each whole network end to end with the same
backend and timing protocol, twice, in two fresh processes (the second in reverse order).
``measured_ms`` is the mean of the two runs; the two runs against each other are the noise
floor, and the error is stated against it. Reports MAPE, max error, share within 5% and 10%,
Spearman of predicted vs measured, of the uncorrected sum, and of MACs for contrast. Writes the
pairs as CSV and a scatter plot; prints the summary last, one line of key=value pairs.
"""

from __future__ import annotations

import dataclasses
import random
import time
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from nas.arch import PRESETS, SearchSpace, encode
from nas.cli import run
from nas.errors import NasError
from nas.hardware.keys import arch_keys
from nas.hardware.validation import error_stats, scatter_plot, spearman
from nas.profile import load_measured

RESULTS = Path("results") / "latency_validation"


def sample_specs(space: SearchSpace, n_archs: int, seed: int, presets, resolution: int):
    """(source, spec) pairs: ``n_archs`` distinct random networks of the space, then presets."""
    space = dataclasses.replace(space, resolution=resolution)
    rng, specs, seen = random.Random(seed), [], set()
    for _ in range(100 * max(n_archs, 1)):
        if len(specs) == n_archs:
            break
        spec = space.sample_random(rng)
        if spec not in seen:
            seen.add(spec)
            specs.append(("space", spec))
    for name in presets:
        if name not in PRESETS:
            raise NasError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
        specs.append(("preset", PRESETS[name](resolution=resolution)))
    return specs


def main(cfg: DictConfig) -> None:
    n_archs, seed = cfg.n_archs, cfg.seed  # typed by nas.schema.ValidateVerb
    resolution = cfg.resolution or int(cfg.hardware.resolution)
    if n_archs < 0:
        raise NasError(f"n_archs must be >= 0, got {n_archs}")
    hw = load_measured(cfg)
    space = SearchSpace.from_config(OmegaConf.to_container(cfg.space))
    # an uncorrected table is calibrated on networks of this space, never on those scored here
    hw.calibration_space = dataclasses.replace(space, resolution=resolution)
    pairs = sample_specs(space, n_archs, seed, list(cfg.presets or []), resolution)
    if len(pairs) < 2:
        raise NasError("need at least two networks to validate")
    sources, specs = zip(*pairs)
    start = time.monotonic()
    hw.ensure(specs)
    predicted = [hw.predict_ms(spec) for spec in specs]
    summed = [hw.table.summed_ms(spec, hw.classes) for spec in specs]
    first = hw.measure_networks(list(specs), desc="end to end, run 1")
    second = hw.measure_networks(list(specs)[::-1], desc="end to end, run 2")[::-1]
    measure_s = time.monotonic() - start
    frame = pd.DataFrame({
        "source": sources, "arch": [encode(s) for s in specs],
        "predicted_ms": predicted, "summed_ms": summed,
        "measured_ms": [(a.ms + b.ms) / 2 for a, b in zip(first, second)],
        "run1_ms": [t.ms for t in first], "run2_ms": [t.ms for t in second],
        "run1_p10_ms": [t.p10_ms for t in first], "run1_p90_ms": [t.p90_ms for t in first],
        "run1_rounds": [t.rounds for t in first], "run2_rounds": [t.rounds for t in second],
        "run1_stable": [t.stable for t in first], "run2_stable": [t.stable for t in second],
        "macs": [_macs(spec) for spec in specs],
    })
    out = Path(str(cfg.out)) if cfg.out else RESULTS / (
        f"{hw.name}-{hw.settings.backend}-t{hw.settings.threads}.csv")
    used = {key for spec in specs for key in arch_keys(spec, hw.classes)}
    summary = summarise(frame, hw) | {"measure_s": round(measure_s, 1),
                                      "unstable_parts": len(used & set(hw.table.unstable()))}
    write_outputs(frame, out, summary, hw)
    print(frame[["source", "predicted_ms", "measured_ms", "run1_ms", "run2_ms"]]
          .round(3).to_string(index=False))
    print(f"wrote {out} and {out.with_suffix('.png')}")
    print(against_floor(summary))
    print(" ".join(f"{k}={_fmt(v)}" for k, v in summary.items()))


def against_floor(summary: dict) -> str:
    """The error in words, against the noise floor measured in the same run."""
    mape, floor = summary["mape"], summary["noise_mape"]
    times = f"{mape / floor:.1f}x the floor" if floor > 0 else "the floor is 0"
    note = "" if summary["corrected"] else "; the table has NO additivity correction"
    return (f"validation: MAPE {mape:.2f}% ({100 * summary['within10']:.0f}% within 10%) "
            f"against a noise floor of {floor:.2f}% (the same {summary['n']} networks measured "
            f"in two processes): {times}; Spearman {summary['spearman']:.3f} vs MACs "
            f"{summary['macs_spearman']:.3f}{note}")


def _macs(spec) -> int:
    from nas.cost import arch_cost  # fvcore tracing stays in this process, never in the timer

    return arch_cost(spec).macs


def summarise(frame: pd.DataFrame, hw) -> dict:
    stats = error_stats(frame["predicted_ms"], frame["measured_ms"])
    raw = error_stats(frame["summed_ms"], frame["measured_ms"])
    noise = error_stats(frame["run2_ms"], frame["run1_ms"])
    return {
        "hardware": hw.name, "backend": hw.settings.backend, "threads": hw.settings.threads,
        "n": len(frame), **stats,
        "macs_spearman": spearman(frame["macs"], frame["measured_ms"]),
        "uncorrected_mape": raw["mape"], "uncorrected_spearman": raw["spearman"],
        "correction": hw.table.correction().kind,
        "correction_nets": hw.table.correction().networks,
        "corrected": hw.table.correction().networks > 0,
        "noise_mape": noise["mape"], "noise_max": noise["max_error"],
        "noise_spearman": noise["spearman"],
        "error_over_floor": stats["mape"] / noise["mape"] if noise["mape"] > 0 else float("inf"),
        "estimate": hw.settings.estimate,
        "unstable_networks": int((frame["run1_stable"] == False).sum()  # noqa: E712
                                 + (frame["run2_stable"] == False).sum()),  # noqa: E712
    }


def _fmt(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def write_outputs(frame: pd.DataFrame, out: Path, summary: dict, hw) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    temp = out.with_name(f".{out.name}.tmp")
    frame.to_csv(temp, index=False)
    temp.replace(out)
    title = (f"{hw.name} ({hw.settings.backend}, {hw.settings.threads} thread, "
             f"batch {hw.settings.batch}): MAPE {summary['mape']:.1f}%, "
             f"Spearman {summary['spearman']:.3f} (MACs {summary['macs_spearman']:.3f})")
    scatter_plot(frame, out.with_suffix(".png"), title)


def cli() -> None:
    """The console script (pyproject.toml) and ``python -m``: same behaviour."""
    run(main, "validate")


if __name__ == "__main__":
    cli()
