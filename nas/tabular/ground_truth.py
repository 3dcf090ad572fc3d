"""A ground-truth table for the yardstick (``nas.rank``): a seeded sample of NAS-Bench-Macro.

    python -m nas.tabular.ground_truth out=results/ground_truth/nas_bench_macro-cifar10.csv \\
        sample=500 seed=0

writes a CSV, one row per distinct network (Su et al. 2021, CIFAR-10, 50 epochs, three seeds):
``arch`` (the project's string; ``nas.arch.decode`` reads it back), ``name`` (the benchmark key,
stride-1 Identities last in their stage), ``accuracy`` (mean over the seeds, percent),
``accuracy_std`` (sample std over the seeds, percent), ``seed_0..2`` (each seed's accuracy),
``macs`` and ``params`` (``nas.cost`` at the space's setting: 32x32, 10 classes); and beside it a
JSON sidecar of the same stem saying what the table is and the command that wrote it.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

from omegaconf import DictConfig

from nas.errors import NasError
from nas.tabular.macro import BUDGET, SOURCE, SPACE_NAME, networks

COLUMNS = ("arch", "name", "accuracy", "accuracy_std", "seed_0", "seed_1", "seed_2", "macs",
           "params")


def sample_rows(sample: int, seed: int) -> list[dict]:
    """``sample`` distinct networks drawn by ``random.Random(seed)``, ordered by key."""
    from nas.arch import decode
    from nas.cost import arch_cost

    table = networks()
    if not 1 <= sample <= len(table):
        raise NasError(f"sample must be between 1 and {len(table)} (the distinct networks), "
                       f"got {sample}")
    chosen = random.Random(seed).sample(sorted(table), sample)
    rows = []
    for arch in chosen:
        record, cost = table[arch], arch_cost(decode(arch))
        rows.append({"arch": arch, "name": record.key, "accuracy": round(record.mean, 4),
                     "accuracy_std": round(record.sample_std, 4),
                     **{f"seed_{i}": value for i, value in enumerate(record.seeds)},
                     "macs": cost.macs, "params": cost.params})
    return sorted(rows, key=lambda row: row["name"])


def write_ground_truth(out: Path, sample: int, seed: int, command: str) -> tuple[Path, Path]:
    """The CSV at ``out`` and its sidecar ``out`` with suffix .json."""
    out = Path(out)
    if out.suffix != ".csv":
        raise NasError(f"out must name a .csv file, got {out}")
    rows = sample_rows(sample, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    sidecar = out.with_suffix(".json")
    meta = {"space": SPACE_NAME, "dataset": "cifar10", "budget": BUDGET, "seeds": 3,
            "source": SOURCE, "command": command, "networks": len(rows), "sample_seed": seed}
    sidecar.write_text(json.dumps(meta, indent=2) + "\n")
    return out, sidecar


def main(cfg: DictConfig) -> None:
    import sys

    command = " ".join(["python -m nas.tabular.ground_truth", *sys.argv[1:]])
    written = write_ground_truth(Path(str(cfg.out)), cfg.sample, cfg.seed, command)
    print(f"wrote {written[0]} ({cfg.sample} networks) and {written[1]}")


def cli() -> None:
    from nas.cli import run

    run(main, "tabular_ground_truth", usage="usage: python -m nas.tabular.ground_truth "
        "out=FILE.csv [sample=500] [seed=0]")


if __name__ == "__main__":
    cli()
