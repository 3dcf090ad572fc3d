"""``python -m nas.supernet space=... data=... [steps=N] [out=FILE]``: train a supernet.

Sandwich rule with in-place distillation (``training.py``), checkpointed every
``checkpoint_every`` steps into ``out`` with its metadata (``store.py``); the same command run
again continues from the last checkpoint, and a finished file is left as it is. At the end the
largest and smallest networks are scored on the validation split (BN recalibrated on the
evaluator's fixed images), and the summary JSON is the last line printed. A file packed with
``python -m nas.supernet.pack dtype=float32`` (weights without the optimizer's state) is
continued too, its momentum restarted (``momentum_restarts`` in the metadata).

Several processes: ``torchrun --nproc_per_node=N -m nas.supernet ...`` (one a GPU with NCCL,
or CPU processes with gloo) train data-parallel (``distributed.py``); rank 0 writes the file
and prints, and the same command continues it, with any number of processes.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from nas.arch import SearchSpace
from nas.cli import run
from nas.errors import NasError
from nas.evaluate import load_data_config, resolve_device, stratified_indices
from nas.evaluate.evaluator import _fixed_subset
from nas.evaluate.training import Recipe, accuracy, recalibrate_bn
from nas.supernet.distributed import Processes, start_processes, stop_processes
from nas.supernet.network import Supernet
from nas.supernet.store import (
    build_supernet,
    check_continues,
    read_supernet,
    save_supernet,
    versions,
)
from nas.supernet.training import Sandwich, StepRecord, train_supernet

USAGE = """usage: python -m nas.supernet [space=mobilenet_v3_small] [data=fashion_mnist] [steps=N]
       [random_subnets=2] [checkpoint_every=N] [max_seconds=S] [train_images=N] [out=FILE]
       [seed=0] [device=auto] [recipe.lr=...] [--cfg]
       torchrun --nproc_per_node=N -m nas.supernet ...   (N processes, data parallel)
Running the same command again continues the file from its last checkpoint."""


def default_out(space: str, dataset: str, seed: int) -> Path:
    return Path("runs") / "supernet" / f"{space}-{dataset}-seed{seed}.pt"


def snapshot_path(out: Path, step: int) -> Path:
    """Where ``keep_every`` keeps the weights of step ``step`` (no optimizer state)."""
    return out.with_name(f"{out.stem}.step{step}{out.suffix}")


def _training_split(data, train_images: int | None, split_seed: int):
    if train_images is None or train_images >= len(data.train):
        return data
    if train_images < 1:
        raise NasError(f"train_images must be >= 1, got {train_images}")
    fraction = train_images / len(data.train)
    return replace(data, train=data.train.subset(
        stratified_indices(data.train.labels, fraction, split_seed)))


def describe(cfg: DictConfig, data, recipe: Recipe, resolution: int) -> dict:
    """The metadata a rerun must match (store.IDENTITY) and what else the file records."""
    data_cfg = OmegaConf.to_container(cfg.data)
    return {
        "space": cfg.space.name, "space_config": OmegaConf.to_container(cfg.space),
        "dataset": {"name": data.name, "num_classes": data.num_classes,
                    "channels": data.channels, "resolution": resolution,
                    "val_size": data_cfg.get("val_size"),
                    "split_seed": data_cfg.get("split_seed"), "train_images": cfg.train_images},
        "recipe": asdict(recipe), "sandwich": {"random_subnets": cfg.random_subnets},
        "steps": cfg.steps, "seed": cfg.seed, "versions": versions(),
        "command": "python -m nas.supernet " + " ".join(a for a in sys.argv[1:] if a != "--cfg"),
    }


def check_carried(meta: dict, path: Path) -> None:
    """Training continues from float32 weights only: float16 rounding would be a new start."""
    dtype = (meta.get("packed") or {}).get("dtype")
    if dtype not in (None, "float32") and meta.get("steps_done", 0) < meta.get("steps", 0):
        raise NasError(f"{path} holds {dtype} weights: training continues only from its source "
                       f"or from a file packed with dtype=float32")


def momentum_restarts(meta: dict, start: int, restarted: bool) -> dict:
    """The steps at which a continued training had no optimizer state to continue (a file
    packed with ``dtype=float32`` to carry a training between machines): its SGD momentum
    restarted from zero there. Kept in the metadata, which otherwise would not show it."""
    restarts = list(meta.get("momentum_restarts") or []) + ([start] if restarted else [])
    return {"momentum_restarts": restarts} if restarts else {}


def score_corners(supernet: Supernet, data, *, images: int, seed: int, batch_size: int) -> dict:
    """Validation accuracy of the largest and smallest networks, BN recalibrated."""
    scores = {}
    for name, spec in (("largest", supernet.largest()), ("smallest", supernet.smallest())):
        subnet = supernet.subnet(spec)
        recalibrate_bn(subnet, data.train, images=images, seed=seed)
        scores[name] = accuracy(subnet, data.val, batch_size=batch_size)
    return scores


def main(cfg: DictConfig) -> None:
    processes, device = start_processes(resolve_device(cfg.device))
    try:
        train(cfg, processes, device)
    except BaseException:
        stop_processes(processes, together=False)  # the others may never get here
        raise
    stop_processes(processes)


def say(processes: Processes, *lines: str) -> None:
    """Progress on stderr, from rank 0 only."""
    if processes.main:
        for line in lines:
            print(line, file=sys.stderr, flush=True)


def train(cfg: DictConfig, processes: Processes, device: torch.device) -> None:
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    if cfg.steps < 1:
        raise NasError(f"steps must be >= 1, got {cfg.steps}")
    if cfg.keep_every is not None and cfg.keep_every < 1:
        raise NasError(f"keep_every must be >= 1 (or null), got {cfg.keep_every}")
    space = SearchSpace.from_config(OmegaConf.to_container(cfg.space))
    recipe = Recipe(**OmegaConf.to_container(cfg.recipe))
    if recipe.batch_size < 2 * processes.world:
        raise NasError(f"recipe.batch_size={recipe.batch_size} gives {processes.world} "
                       f"processes fewer than 2 images each (batch norm needs 2)")
    sandwich = Sandwich(random_subnets=cfg.random_subnets)
    data = load_data_config(OmegaConf.to_container(cfg.data))
    data = _training_split(data, cfg.train_images, int(cfg.data.split_seed or 0)).to(device)
    resolution = recipe.resolution or data.size
    meta = describe(cfg, data, recipe, resolution) | {"processes": processes.world}
    out = Path(cfg.out) if cfg.out else default_out(space.name, data.name, cfg.seed)
    start, optimizer_state = 0, None
    if out.exists():
        payload = read_supernet(out)
        check_continues(payload["meta"], meta, out)
        check_carried(payload["meta"], out)
        supernet = build_supernet(payload, out, device)
        start, optimizer_state = payload["meta"]["steps_done"], payload["optimizer"]
        restarted = optimizer_state is None and start < cfg.steps
        meta |= momentum_restarts(payload["meta"], start, restarted)
        say(processes, f"continuing {out} from step {start}/{cfg.steps}" + (
            " without the optimizer's state (weights packed to be carried): SGD momentum "
            "restarts from zero, recorded in the file's momentum_restarts" if restarted else ""))
    else:
        torch.manual_seed(cfg.seed)
        supernet = Supernet(space, num_classes=data.num_classes, resolution=resolution,
                            in_channels=data.channels).to(device)
        processes.broadcast_state(supernet)  # one start, whatever each process's RNG did
    started, log = time.perf_counter(), {"teacher": [], "student": []}

    def checkpoint(done: int, state: dict) -> None:
        if not processes.main:
            return
        finished = done == cfg.steps  # a finished file keeps no optimizer state: 1/2 the size
        save_supernet(out, supernet, meta | {"steps_done": done}, None if finished else state)
        if cfg.keep_every and done % cfg.keep_every == 0 and not finished:
            save_supernet(snapshot_path(out, done), supernet, meta | {"steps_done": done}, None)
        elapsed = time.perf_counter() - started
        left = elapsed / max(1, done - start) * (cfg.steps - done)
        say(processes, f"step {done}/{cfg.steps}: loss {log['teacher'][-1]:.3f} (largest), "
                       f"{log['student'][-1]:.3f} (students); {elapsed:.0f}s, ~{left:.0f}s left; "
                       f"saved {out}")

    def on_step(record: StepRecord) -> None:
        log["teacher"].append(record.teacher_loss)
        log["student"].append(record.student_loss)

    done = start
    if start < cfg.steps:
        budget = cfg.max_seconds
        done = train_supernet(
            supernet, data, recipe=recipe, steps=cfg.steps, seed=cfg.seed, sandwich=sandwich,
            start=start, optimizer_state=optimizer_state, checkpoint=checkpoint,
            checkpoint_every=cfg.checkpoint_every, on_step=on_step, progress=processes.main,
            stop=None if budget is None else lambda: time.perf_counter() - started >= budget,
            processes=processes)
    else:
        say(processes, f"{out} is trained ({cfg.steps} steps); nothing to do")
    if done < cfg.steps:
        say(processes, f"stopped at step {done}/{cfg.steps} (max_seconds={cfg.max_seconds}); "
                       f"run the same command to continue")
    if not processes.main:
        return
    scored = _fixed_subset(data, 1.0, cfg.score_val_images, int(cfg.data.split_seed or 0))
    scores = score_corners(supernet, scored, images=cfg.score_bn_images, seed=cfg.seed,
                           batch_size=recipe.eval_batch_size)
    print(json.dumps({"out": str(out), "space": space.name, "dataset": data.name,
                      "steps": cfg.steps, "steps_done": done, "steps_this_run": done - start,
                      "seconds_this_run": round(time.perf_counter() - started, 1),
                      "first_loss": log["teacher"][0] if log["teacher"] else None,
                      "last_loss": log["teacher"][-1] if log["teacher"] else None,
                      "val_accuracy": scores, "device": str(device),
                      "processes": processes.world,
                      "threads": torch.get_num_threads()}), flush=True)


def cli() -> None:
    """The console script (pyproject.toml) and ``python -m``: same behaviour."""
    run(main, "supernet", usage=USAGE)


if __name__ == "__main__":
    cli()
