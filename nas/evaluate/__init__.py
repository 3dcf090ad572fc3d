"""Datasets and proxy training: real held-out accuracy for candidate architectures."""

from nas.evaluate.checkpoint import load_checkpoint, save_checkpoint
from nas.evaluate.data import (
    READERS,
    Dataset,
    DatasetNotFound,
    Split,
    load_data_config,
    load_dataset,
    stratified_indices,
)
from nas.evaluate.evaluator import EvalResult, Evaluator, make_evaluator, recipe_from_config
from nas.evaluate.training import (
    EpochRecord,
    Recipe,
    TrainingDiverged,
    TrainResult,
    accuracy,
    augment,
    predict_logits,
    recalibrate_bn,
    resolve_device,
    train,
)

__all__ = [
    "READERS",
    "Dataset",
    "DatasetNotFound",
    "EpochRecord",
    "EvalResult",
    "Evaluator",
    "Recipe",
    "Split",
    "TrainResult",
    "TrainingDiverged",
    "accuracy",
    "augment",
    "load_checkpoint",
    "load_data_config",
    "load_dataset",
    "make_evaluator",
    "predict_logits",
    "recalibrate_bn",
    "recipe_from_config",
    "resolve_device",
    "save_checkpoint",
    "stratified_indices",
    "train",
]
