"""``python -m nas.predictor evaluator.path=SUPERNET [samples=N] [holdout=0.2] [out=FILE]``:
fit an accuracy predictor on a supernet's scores (Once-for-All's, Cai et al. 2020).

Samples ``samples`` distinct architectures of the space (seeded), scores each with the evaluator
(``evaluator=supernet`` by default; any evaluator of ``conf/evaluator/`` works, e.g.
``evaluator=tabular`` on NAS-Bench-Macro), saving the scores as they come (a rerun continues;
``build.py``), fits the MLP on all but the ``holdout`` share, reports that share's RMSE and
Kendall tau beside MACs' and params', and writes the predictor file with its metadata
(``store.py``). The summary JSON is the last line printed.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from nas.arch import SearchSpace
from nas.cli import run
from nas.cost import arch_cost
from nas.io import file_sha256
from nas.predictor.build import agreement, holdout_split, sample_architectures, score_all
from nas.predictor.encoding import ArchEncoder
from nas.predictor.model import FitSettings, fit_predictor
from nas.predictor.store import save_predictor
from nas.search.evaluators import check_evaluator_space, evaluator_kind, make_search_evaluator
from nas.supernet import settled
from nas.supernet.evaluator import PRECISION_BEFORE_THE_SETTING, precision_name
from nas.supernet.store import versions

USAGE = """usage: python -m nas.predictor evaluator.path=SUPERNET [space=mobilenet_v3_small]
       [data=fashion_mnist] [samples=2000] [holdout=0.2] [seed=0] [out=FILE] [fit.epochs=300]
       [evaluator=tabular space=nas_bench_macro ~data] [--cfg]
Running the same command again continues the scoring from where it stopped."""

# evaluator settings that change how fast a score comes, not what it is
TIMING_ONLY = ("threads", "device", "eval_batch_size", "seed_std", "path")


def scorer_identity(evaluator_cfg: dict, seed: int, data_cfg: dict | None = None) -> dict:
    """What makes two runs' scores the same: the settings, and the supernet file's hash (and
    its settled-images file's, when one is used)."""
    identity = {k: v for k, v in evaluator_cfg.items() if k not in TIMING_ONLY}
    if evaluator_kind(evaluator_cfg) == "supernet":
        identity["supernet_sha256"] = file_sha256(evaluator_cfg["path"])
        identity["seed"] = seed if identity.get("seed") is None else identity["seed"]
        # the dtype scores are made in on this machine (auto resolved); float32 is left out,
        # as in the files written before evaluator.precision existed, which were float32 ones
        identity.pop("precision", None)
        precision = precision_name(evaluator_cfg)  # resolves the device: once
        if precision != PRECISION_BEFORE_THE_SETTING:
            identity["precision"] = precision
        # every image scored, as in plans written before evaluator.settled existed: left out
        identity.pop("settled", None)
        used = settled.identity(evaluator_cfg, data_cfg)
        if used != "none":
            identity["settled"] = used
    return identity


def default_out(space: str, evaluator_cfg: dict, seed: int) -> Path:
    scorer = evaluator_kind(evaluator_cfg)
    if scorer == "supernet":
        scorer = Path(str(evaluator_cfg["path"])).stem
    return Path("runs") / "predictor" / f"{space}-{scorer}-seed{seed}.pt"


def baselines(specs, scores, held: list[int]) -> dict:
    """Kendall tau of MACs and params against the held-out scores: what a predictor must beat."""
    costs = [arch_cost(specs[i]) for i in held]
    actual = [scores[i] for i in held]
    return {name: agreement([getattr(c, name) for c in costs], actual)["kendall"]
            for name in ("macs", "params")}


def fit_and_report(specs, scores, encoder: ArchEncoder, *, holdout: float, seed: int,
                   settings: FitSettings):
    fit_rows, held = holdout_split(len(specs), holdout, seed)
    features, targets = encoder.encode_many(specs), np.asarray(scores, dtype=float)
    model = fit_predictor(features[fit_rows], targets[fit_rows], seed=seed, settings=settings)
    metrics = {"fit": agreement(model.predict(features[fit_rows]), targets[fit_rows])}
    if held:
        metrics["heldout"] = agreement(model.predict(features[held]), targets[held])
        metrics["heldout"]["mean_rmse_points"] = agreement(
            [float(targets[fit_rows].mean())] * len(held), targets[held])["rmse_points"]
        metrics["heldout_baselines_kendall"] = baselines(specs, scores, held)
    return model, metrics


def main(cfg: DictConfig) -> None:
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    space = SearchSpace.from_config(OmegaConf.to_container(cfg.space))
    data_cfg = OmegaConf.to_container(cfg.data) if cfg.get("data") is not None else None
    evaluator_cfg = OmegaConf.to_container(cfg.evaluator)
    settings = FitSettings(**OmegaConf.to_container(cfg.fit))
    specs = sample_architectures(space, cfg.samples, cfg.seed)
    holdout_split(len(specs), cfg.holdout, cfg.seed)  # bad shares refused before any scoring
    dataset = None if data_cfg is None else {k: data_cfg.get(k)
                                             for k in ("name", "val_size", "split_seed")}
    plan = {"space_config": OmegaConf.to_container(cfg.space), "dataset": dataset,
            "scorer": scorer_identity(evaluator_cfg, cfg.seed, data_cfg), "seed": cfg.seed}
    out = Path(cfg.out) if cfg.out else default_out(space.name, evaluator_cfg, cfg.seed)
    scores_path = out.with_suffix(".scores.jsonl")
    evaluator = make_search_evaluator(data_cfg, evaluator_cfg, cfg.seed)
    check_evaluator_space(evaluator, space)
    started, step = time.perf_counter(), max(1, len(specs) // 10)

    def progress(number: int, scored: int) -> None:
        if scored and (number % step == 0 or number == len(specs)):
            elapsed = time.perf_counter() - started
            left = elapsed / scored * (len(specs) - number)
            print(f"scored {number}/{len(specs)} ({scored} this run, {elapsed:.0f}s, "
                  f"~{left:.0f}s left); saved {scores_path}", file=sys.stderr, flush=True)

    scores, scored = score_all(specs, lambda spec: evaluator.evaluate(spec).val_accuracy,
                               scores_path, plan, on_scored=progress)
    scoring_seconds = time.perf_counter() - started
    encoder = ArchEncoder(space)
    model, metrics = fit_and_report(specs, scores, encoder, holdout=cfg.holdout, seed=cfg.seed,
                                    settings=settings)
    meta = {"space": space.name, **plan, "scorer_config": evaluator_cfg,
            "fit": asdict(settings), "samples": len(specs), "holdout": cfg.holdout,
            "metrics": metrics, "encoding_width": encoder.width, "scores": str(scores_path),
            "command": "python -m nas.predictor " + " ".join(a for a in sys.argv[1:]
                                                            if a != "--cfg"),
            "versions": versions()}
    if evaluator_kind(evaluator_cfg) == "supernet":  # which file, exactly, scored them
        meta["supernet"] = {"path": str(evaluator_cfg["path"]),
                            "sha256": plan["scorer"]["supernet_sha256"],
                            **{k: evaluator.meta.get(k) for k in ("steps", "steps_done", "seed",
                                                                  "command")}}
    save_predictor(out, model, meta)
    print(json.dumps({"out": str(out), "space": space.name, "scorer": evaluator_kind(evaluator_cfg),
                      "samples": len(specs), "scored_this_run": scored,
                      "scoring_seconds": round(scoring_seconds, 1),
                      "seconds_per_score": round(scoring_seconds / scored, 3) if scored else None,
                      **metrics}, default=float), flush=True)


def cli() -> None:
    """The console script (pyproject.toml) and ``python -m``: same behaviour."""
    run(main, "predictor", usage=USAGE)


if __name__ == "__main__":
    cli()
