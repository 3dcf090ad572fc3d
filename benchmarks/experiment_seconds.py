"""Seconds per candidate of an experiment's search and NetAdapt with ``evaluator=supernet``,
and the wall time they project for the experiment's budget (the issue's 90-minute limit).

Trains a supernet of the experiment's very space for one step (the timing does not depend on
the weights' quality; ``nas.experiment.checks.supernet_command`` gives the space), then with
the experiment's evaluator and NetAdapt settings (``conf/experiment_budget/*_supernet.yaml``):
scores ``--candidates`` seeded random networks of the space as the search does, and
``--proposals`` NetAdapt proposals of one of them as NetAdapt does (supernet weights, BN
recalibration, T fine-tuning steps, validation). One thread, as each of the search's workers.
A wall-clock figure: run it on an idle machine to quote it.

    PYTHONPATH=. python benchmarks/experiment_seconds.py --experiment mobilenet_v3_small
"""

import argparse
import random
import shlex
import statistics
import tempfile
import time
from pathlib import Path

import torch
from omegaconf import OmegaConf

from nas.arch import SearchSpace
from nas.cli import compose_config
from nas.experiment.checks import supernet_command
from nas.hardware import load_hardware
from nas.netadapt import NetAdaptSettings, proposals
from nas.netadapt.tuning import make_tuner
from nas.search.evaluators import make_search_evaluator
from nas.supernet.__main__ import main as train_supernet


def seconds(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--experiment", default="mobilenet_v3_small")
    parser.add_argument("--candidates", type=int, default=6)
    parser.add_argument("--proposals", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cfg = compose_config("config", [f"experiment={args.experiment}", "evaluator=supernet"])
    space = SearchSpace.from_config(OmegaConf.to_container(cfg.space))
    hardware = load_hardware(OmegaConf.to_container(cfg.hardware))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "supernet.pt"
        command = shlex.split(supernet_command(cfg, str(path)))[3:]
        train_supernet(compose_config("supernet", [*command, "steps=1", "train_images=256",
                                                   "score_bn_images=64", "score_val_images=64",
                                                   f"threads={args.threads}"]))
        evaluator_cfg = OmegaConf.to_container(cfg.evaluator) | {"path": str(path)}
        data_cfg = OmegaConf.to_container(cfg.data)
        evaluator = make_search_evaluator(data_cfg, evaluator_cfg, seed=0)
        rng = random.Random(0)
        specs = [space.sample_random(rng) for _ in range(args.candidates)]
        search = [seconds(lambda s=s: evaluator.evaluate(s)) for s in specs]
        stage = cfg.netadapt
        seed = max(specs, key=hardware.predict_ms)
        tuner = make_tuner(data_cfg=data_cfg, evaluator_cfg=evaluator_cfg, seed_spec=seed,
                           finetune_lr=stage.finetune_lr,
                           finetune_batch_size=stage.finetune_batch_size,
                           train_images=stage.train_images, val_images=stage.val_images, seed=0,
                           device="cpu")
        settings = NetAdaptSettings(target_ms=stage.target_ms,
                                    delta_fraction=stage.delta_fraction,
                                    steps_per_proposal=stage.steps_per_proposal)
        delta = stage.delta_fraction * hardware.predict_ms(seed)
        moves = proposals(seed, hardware.predict_ms, delta)

        def propose(spec):  # as nas.netadapt.adapt._step does
            model = tuner.inherit(None, spec)
            tuner.accuracy(model)
            if settings.steps_per_proposal > 0:
                tuner.finetune(model, settings.steps_per_proposal, 0)
                tuner.accuracy(model)

        adapt = [seconds(lambda p=p: propose(p.spec)) for p in moves[:args.proposals]]
    per_candidate, per_proposal = statistics.median(search), statistics.median(adapt)
    workers = cfg.search.n_workers
    search_min = cfg.search.n_trials * per_candidate / workers / 60
    steps = max(0.0, (hardware.predict_ms(seed) - stage.target_ms) / delta)
    netadapt_min = steps * len(moves) * per_proposal / 60
    print(f"{args.experiment}, evaluator=supernet, {args.threads} thread(s):")
    print(f"  search: {len(search)} candidates, median {per_candidate:.1f} s, mean "
          f"{statistics.fmean(search):.1f} s, max {max(search):.1f} s per candidate")
    print(f"  NetAdapt: {len(adapt)} proposals of a {hardware.predict_ms(seed):.1f} ms seed, "
          f"median {per_proposal:.1f} s per proposal (T={settings.steps_per_proposal}), "
          f"{len(moves)} proposals a step")
    print(f"  projected: search {cfg.search.n_trials} trials / {workers} workers = "
          f"{search_min:.0f} min; NetAdapt ~{steps:.0f} steps x {len(moves)} proposals = "
          f"{netadapt_min:.0f} min; together {search_min + netadapt_min:.0f} min "
          f"(the issue's limit: 90)")
    fit = max(0.0, 90 - netadapt_min) * 60 * workers / per_candidate
    print(f"  search.n_trials that fit 90 minutes beside this NetAdapt: {fit:.0f}")


if __name__ == "__main__":
    main()
