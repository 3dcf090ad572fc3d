"""``python -m nas.ground_truth``: the yardstick's ground truth for a space on a dataset.

Selects the networks (``nas.yardstick.selection``), trains each stand-alone on every seed at the
configured budget (``nas.yardstick.build``: resumable, several workers), and writes the table
(``nas.yardstick.table``'s format) that ``python -m nas.rank`` scores accuracy signals against.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from nas.arch import SearchSpace
from nas.cli import run
from nas.errors import NasError
from nas.yardstick import seed_ceiling, select_networks
from nas.yardstick.build import make_plan, write_or_check_plan
from nas.yardstick.build import run as run_trainings


def default_out(space: str, dataset: str) -> Path:
    return Path("results") / "ground_truth" / f"{space}-{dataset}.csv"


def main(cfg: DictConfig) -> None:
    space = SearchSpace.from_config(OmegaConf.to_container(cfg.space))
    data_cfg = OmegaConf.to_container(cfg.data)
    networks, epochs, workers, seeds = cfg.networks, cfg.epochs, cfg.workers, list(cfg.seeds)
    if networks < 10:
        raise NasError(f"networks must be >= 10 for a ranking, got {networks}")
    if epochs < 1 or workers < 1 or len(seeds) < 2 or len(set(seeds)) != len(seeds):
        raise NasError("give epochs >= 1, workers >= 1 and at least two distinct seeds")
    fraction = cfg.train_fraction
    if not 0 < fraction <= 1:
        raise NasError(f"train_fraction must be in (0, 1], got {fraction}")
    from nas.evaluate import load_data_config

    load_data_config(dict(data_cfg))  # a missing dataset: one line now, not in every worker
    out = Path(cfg.out) if cfg.out else default_out(space.name, str(data_cfg["name"]))
    folder = out.with_suffix("")
    folder.mkdir(parents=True, exist_ok=True)
    plan_file = folder / "plan.json"
    if plan_file.is_file():
        import json

        plan = json.loads(plan_file.read_text())
    else:
        print(f"selecting {networks} networks of {space.name} ...", file=sys.stderr, flush=True)
        candidates = select_networks(space, networks, seed=cfg.select_seed, pool=cfg.pool)
        plan = None
    command = "python -m nas.ground_truth " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    evaluator = OmegaConf.to_container(cfg.evaluator)
    # the ground truth's own budget replaces the evaluator's; seed_std only labels reports
    for key in ("epochs", "train_fraction", "val_size", "seed_std"):
        evaluator.pop(key, None)
    evaluator["train_fraction"] = fraction
    settings = {"space": space.name, "data": data_cfg, "evaluator": evaluator, "epochs": epochs,
                "seeds": seeds}
    if plan is None:
        plan = make_plan(candidates, command=command, **settings)
    plan = write_or_check_plan(folder, {**plan, **settings})
    frame = run_trainings(folder, plan, out, workers=workers, threads=cfg.threads)
    ceiling = seed_ceiling(frame)
    print(f"ground truth: {len(frame)} networks in {out}; seed-to-seed Kendall tau "
          f"{ceiling['kendall']:.3f}, Spearman {ceiling['spearman']:.3f} over "
          f"{ceiling['networks']} networks; mean seed std {frame['accuracy_std'].mean():.2f} pts")


def cli() -> None:
    run(main, "ground_truth", usage="usage: python -m nas.ground_truth [space=...] [data=...] "
        "[networks=24] [epochs=3] [seeds=[0,1]] [workers=2] [threads=1] [out=FILE.csv]")


if __name__ == "__main__":
    cli()
