"""The proxy evaluator: a candidate's accuracy after a short, fixed training budget.

A hardware-aware search (MnasNet, Tan et al. 2019, trains each sampled model for 5 epochs on
a proxy task) needs a cheap accuracy signal that ranks candidates like full training would.
Here each candidate is built for the proxy dataset's resolution (``build_model`` adapts the
strides of small inputs), trained with the recipe of ``training.py`` on a fixed, stratified
``train_fraction`` of the training split for ``epochs`` epochs, and scored on the fixed
validation split (never the test set). Validation accuracy is reported to the Optuna trial
after every epoch, so a pruner (median, Hyperband; Li et al. 2018) can stop bad candidates.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from torch import nn

from nas.arch import ArchSpec, resolve_arch
from nas.errors import NasError
from nas.evaluate.checkpoint import load_checkpoint
from nas.evaluate.data import Dataset, load_data_config, stratified_indices
from nas.evaluate.training import EpochRecord, Recipe, accuracy, resolve_device, train
from nas.model import build_model

# evaluator config keys that are not Recipe fields
EVALUATOR_KEYS = ("epochs", "train_fraction", "val_size", "device", "dropout", "teacher",
                  "teacher_epochs", "threads", "seed_std")  # seed_std: for the reports


@dataclass(frozen=True)
class EvalResult:
    val_accuracy: float
    train_seconds: float
    epochs: int
    history: tuple[float, ...]  # validation accuracy after each epoch
    images_per_second: float
    seconds: float  # wall time of the whole evaluation (build, train, validate)


def _fixed_subset(data: Dataset, train_fraction: float, val_size: int | None,
                  split_seed: int) -> Dataset:
    """The proxy's data: a stratified ``train_fraction`` of train and ``val_size`` of val,
    fixed by ``split_seed`` so that every candidate (and every seed) sees the same images."""
    train_split, val_split = data.train, data.val
    if train_fraction < 1:
        train_split = train_split.subset(
            stratified_indices(train_split.labels, train_fraction, split_seed))
    if val_size is not None and val_size < len(val_split):
        fraction = val_size / len(val_split)
        val_split = val_split.subset(stratified_indices(val_split.labels, fraction, split_seed))
    return replace(data, train=train_split, val=val_split)


class Evaluator:
    """Trains and scores architectures on one dataset with one recipe and budget."""

    def __init__(self, *, data: Dataset, recipe: Recipe, epochs: int, seed: int,
                 train_fraction: float = 1.0, val_size: int | None = None,
                 device: str | None = "auto", dropout: float = 0.0,
                 teacher: nn.Module | None = None, split_seed: int = 0) -> None:
        if epochs < 1:
            raise NasError(f"evaluator.epochs must be >= 1, got {epochs}")
        if not 0 < train_fraction <= 1:
            raise NasError(f"evaluator.train_fraction must be in (0, 1], got {train_fraction}")
        if not 0 <= dropout < 1:
            raise NasError(f"evaluator.dropout must be in [0, 1), got {dropout}")
        self.device = resolve_device(device)
        self.data = _fixed_subset(data, train_fraction, val_size, split_seed).to(self.device)
        self.recipe = recipe
        self.epochs = epochs
        self.seed = seed
        self.dropout = dropout
        self.teacher = teacher.to(self.device).eval() if teacher is not None else None
        self.resolution = recipe.resolution or data.size

    def build(self, spec: ArchSpec) -> nn.Module:
        """The candidate's network for this dataset, initialised from ``seed``."""
        torch.manual_seed(self.seed)
        model = build_model(spec, self.data.num_classes, resolution=self.resolution,
                            dropout=self.dropout, in_channels=self.data.channels)
        return model.to(self.device)

    def evaluate(self, spec: ArchSpec, trial=None) -> EvalResult:
        """Validation accuracy of ``spec`` after the proxy budget.

        Raises ``optuna.TrialPruned`` when ``trial``'s pruner says stop, and
        ``TrainingDiverged`` when the loss turns NaN.
        """
        started = time.perf_counter()
        model = self.build(spec)

        def report(record: EpochRecord) -> None:
            if trial is None:
                return
            trial.report(record.val_accuracy, record.epoch)
            if trial.should_prune():
                import optuna

                raise optuna.TrialPruned(
                    f"pruned after epoch {record.epoch}: val accuracy {record.val_accuracy:.4f}")

        result = train(model, self.data, epochs=self.epochs, seed=self.seed, recipe=self.recipe,
                       teacher=self.teacher, on_epoch=report)
        history = tuple(record.val_accuracy for record in result.history)
        return EvalResult(val_accuracy=history[-1], train_seconds=result.train_seconds,
                          epochs=len(history), history=history,
                          images_per_second=result.images_per_second,
                          seconds=time.perf_counter() - started)

    def accuracy(self, model: nn.Module, split: str = "val") -> float:
        return accuracy(model, getattr(self.data, split), resolution=self.resolution,
                        batch_size=self.recipe.eval_batch_size)


def recipe_from_config(evaluator_cfg: dict) -> Recipe:
    """A Recipe from an evaluator config; unknown keys are an error, not silently ignored."""
    known = set(Recipe.names()) | set(EVALUATOR_KEYS)
    unknown = sorted(set(evaluator_cfg) - known)
    if unknown:
        raise NasError(f"unknown evaluator setting(s) {unknown}; known: {sorted(known)}")
    return Recipe(**{k: v for k, v in evaluator_cfg.items() if k in Recipe.names()})


def load_teacher(source: str, data: Dataset, recipe: Recipe, *, epochs: int, seed: int,
                 device: torch.device) -> nn.Module:
    """A teacher network: a ``nas.train`` checkpoint, or an architecture trained here first
    for ``epochs`` epochs on the full training split."""
    if source.endswith((".pt", ".pth")) or Path(source).is_file():
        model, meta = load_checkpoint(source, device)
        if meta["num_classes"] != data.num_classes:
            raise NasError(f"teacher {source} has {meta['num_classes']} classes, "
                           f"the data {data.num_classes}")
        return model
    torch.manual_seed(seed)
    model = build_model(resolve_arch(source), data.num_classes,
                        resolution=recipe.resolution or data.size,
                        in_channels=data.channels).to(device)
    train(model, data.to(device), epochs=epochs, seed=seed, recipe=recipe)
    return model.eval()


def make_evaluator(data_cfg: dict, evaluator_cfg: dict, seed: int) -> Evaluator:
    """An Evaluator from the composed ``data`` and ``evaluator`` configs (plain dicts)."""
    evaluator_cfg = dict(evaluator_cfg)
    recipe = recipe_from_config(evaluator_cfg)
    if evaluator_cfg.get("threads"):
        torch.set_num_threads(int(evaluator_cfg["threads"]))
    data = load_data_config(dict(data_cfg))
    device = resolve_device(evaluator_cfg.get("device", "auto"))
    evaluator = Evaluator(data=data, recipe=recipe, epochs=int(evaluator_cfg.get("epochs", 1)),
                          seed=seed,
                          train_fraction=float(evaluator_cfg.get("train_fraction", 1.0)),
                          val_size=evaluator_cfg.get("val_size"), device=str(device),
                          dropout=float(evaluator_cfg.get("dropout") or 0.0),
                          split_seed=int(data_cfg.get("split_seed") or 0))
    if evaluator_cfg.get("teacher"):
        # an architecture teacher trains on the evaluator's own (proxy) training images
        evaluator.teacher = load_teacher(str(evaluator_cfg["teacher"]), evaluator.data, recipe,
                                         epochs=int(evaluator_cfg.get("teacher_epochs") or 1),
                                         seed=seed, device=device)
    return evaluator
