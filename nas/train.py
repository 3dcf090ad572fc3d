"""``python -m nas.train``: train one architecture to the end and report held-out accuracy.

Uses the evaluator's recipe (``conf/evaluator/``) on the whole training split (less the fixed
validation split), validates after every epoch, and tests once at the end. ``init=CHECKPOINT``
starts from a checkpoint's weights instead of a fresh initialisation (its architecture, class
count, channels and resolution must be this run's): fine-tuning a network ``nas.export`` took
out of a supernet, or continuing a ``nas.train`` run with another budget. After every epoch
the checkpoint and the training curve (CSV) are rewritten, so an interrupted run keeps its last
finished epoch; the summary JSON is the last line printed.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from nas.arch import PRESETS, resolve_arch
from nas.cli import run
from nas.cost import arch_cost
from nas.errors import NasError
from nas.evaluate import (
    EpochRecord,
    accuracy,
    load_checkpoint,
    load_data_config,
    recipe_from_config,
    resolve_device,
    save_checkpoint,
    stratified_indices,
    train,
)
from nas.evaluate.evaluator import load_teacher
from nas.model import build_model

CURVE_FIELDS = ("epoch", "train_loss", "val_accuracy", "lr", "train_seconds")


def default_checkpoint(arch: str, dataset: str, seed: int) -> Path:
    name = arch if arch in PRESETS else "arch-" + hashlib.sha1(arch.encode()).hexdigest()[:10]
    return Path("runs") / "train" / f"{name}-{dataset}-seed{seed}.pt"


def write_curve_csv(path: Path, history: list[EpochRecord]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CURVE_FIELDS)
        writer.writeheader()
        writer.writerows(asdict(record) for record in history)
    temporary.replace(path)


def plot_curve(path: Path, history: list[EpochRecord], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [r.epoch for r in history]
    figure, loss_axis = plt.subplots(figsize=(6, 3.5))
    loss_axis.plot(epochs, [r.train_loss for r in history], "o-", color="tab:blue")
    loss_axis.set_xlabel("epoch")
    loss_axis.set_ylabel("train loss", color="tab:blue")
    accuracy_axis = loss_axis.twinx()
    accuracy_axis.plot(epochs, [100 * r.val_accuracy for r in history], "s-", color="tab:red")
    accuracy_axis.set_ylabel("validation accuracy (%)", color="tab:red")
    loss_axis.set_title(title, fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def starting_point(cfg: DictConfig) -> tuple[str, dict | None, dict | None]:
    """The architecture to train, and with ``init`` the checkpoint's metadata and weights."""
    if cfg.init is None:
        if cfg.arch is None:
            raise NasError("give arch=<preset, string or JSON file>, or init=CHECKPOINT to "
                           "start from a nas.train or nas.export checkpoint")
        return str(cfg.arch), None, None
    model, meta = load_checkpoint(cfg.init)
    if cfg.arch is not None and str(resolve_arch(str(cfg.arch), width=cfg.width)) != \
            meta["arch"]:
        raise NasError(f"init={cfg.init} holds {meta['arch']}, not arch={cfg.arch}; drop arch= "
                       f"to train the checkpoint's own")
    return meta["arch"], meta, model.state_dict()


def check_init(meta: dict, path: str, *, num_classes: int, channels: int, resolution: int
               ) -> None:
    """A checkpoint fits this run only with the same classes, channels and resolution."""
    wanted = {"num_classes": num_classes, "in_channels": channels, "resolution": resolution}
    for key, value in wanted.items():
        if meta.get(key, 3 if key == "in_channels" else None) != value:
            hint = " (evaluator.resolution=R sets it)" if key == "resolution" else ""
            raise NasError(f"init={path} was made for {key}={meta.get(key)}, this run has "
                           f"{value}{hint}")


def main(cfg: DictConfig) -> None:
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    arch, init_meta, init_state = starting_point(cfg)
    spec = resolve_arch(arch, width=None if init_meta else cfg.width)
    epochs, seed, fraction = cfg.epochs, cfg.seed, cfg.train_fraction  # typed: nas.schema
    if epochs < 1:
        raise NasError(f"epochs must be >= 1, got {epochs}")
    evaluator_cfg = OmegaConf.to_container(cfg.evaluator)
    recipe = recipe_from_config(evaluator_cfg)
    device = resolve_device(evaluator_cfg.get("device"))
    data = load_data_config(OmegaConf.to_container(cfg.data))
    if fraction is not None and fraction < 1:
        data = replace(data, train=data.train.subset(
            stratified_indices(data.train.labels, fraction, int(cfg.data.split_seed or 0))))
    data = data.to(device)
    resolution = recipe.resolution or data.size
    if init_meta is not None:  # before a teacher trains for nothing
        check_init(init_meta, cfg.init, num_classes=data.num_classes, channels=data.channels,
                   resolution=resolution)
    teacher = None
    if evaluator_cfg.get("teacher"):
        teacher = load_teacher(str(evaluator_cfg["teacher"]), data, recipe,
                               epochs=int(evaluator_cfg.get("teacher_epochs") or 1), seed=seed,
                               device=device)
    torch.manual_seed(seed)
    model = build_model(spec, data.num_classes, resolution=resolution,
                        dropout=float(evaluator_cfg.get("dropout") or 0.0),
                        in_channels=data.channels)
    if init_state is not None:
        model.load_state_dict(init_state)
    model = model.to(device)
    checkpoint = Path(cfg.save) if cfg.save else default_checkpoint(arch, data.name, seed) \
        if cfg.init is None else Path(cfg.init).with_name(Path(cfg.init).stem + "-finetuned.pt")
    if cfg.init is not None and checkpoint.resolve() == Path(cfg.init).resolve():
        raise NasError(f"save={checkpoint} would overwrite init={cfg.init} after the first "
                       f"epoch; give another save=FILE")
    curve_csv, curve_png = checkpoint.with_suffix(".csv"), checkpoint.with_suffix(".png")
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    meta = {"arch": str(spec), "num_classes": data.num_classes, "resolution": resolution,
            "in_channels": data.channels}
    history: list[EpochRecord] = []

    def after_epoch(record: EpochRecord) -> None:
        history.append(record)
        save_checkpoint(checkpoint, model, **meta, dataset=data.name, epoch=record.epoch,
                        val_accuracy=record.val_accuracy, seed=seed)
        write_curve_csv(curve_csv, history)
        print(f"epoch {record.epoch}/{epochs}: loss {record.train_loss:.4f}, "
              f"val {100 * record.val_accuracy:.2f}%, {record.train_seconds:.0f}s",
              file=sys.stderr, flush=True)

    result = train(model, data, epochs=epochs, seed=seed, recipe=recipe, teacher=teacher,
                   on_epoch=after_epoch, progress=True)
    test_accuracy = accuracy(model, data.test, resolution=resolution,
                             batch_size=recipe.eval_batch_size)
    plot_curve(curve_png, history, f"{cfg.arch or cfg.init} on {data.name}")
    summary = {
        "arch": str(spec), "dataset": data.name, "epochs": epochs, "seed": seed,
        "val_accuracy": history[-1].val_accuracy, "test_accuracy": test_accuracy,
        "train_seconds": round(result.train_seconds, 2),
        "images_per_second": round(result.images_per_second, 1),
        "train_images": len(data.train), "params": sum(p.numel() for p in model.parameters()),
        "macs_224_1000": arch_cost(spec).macs, "resolution": resolution,
        "device": str(device), "threads": torch.get_num_threads(),
        "teacher": evaluator_cfg.get("teacher"), "init": cfg.init, "checkpoint": str(checkpoint),
        "curve_csv": str(curve_csv), "curve_png": str(curve_png),
    }
    print(json.dumps(summary), flush=True)


def cli() -> None:
    """The console script (pyproject.toml) and ``python -m``: same behaviour."""
    run(main, "train", usage="usage: python -m nas.train arch=<preset, string or JSON file> "
        "[init=CHECKPOINT] [data=fashion_mnist] [epochs=N] [save=FILE] [evaluator.lr=...] "
        "[--cfg]")


if __name__ == "__main__":
    cli()
