"""NetAdapt's proxy task: build, fine-tune and score networks with ``nas.evaluate``.

The data (a fixed stratified subset of the training split, when a CPU budget asks for one, and
a fixed validation subset) is loaded on first use, so argument errors and no-op runs return
before anything is read from disk.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import torch
from torch import nn

from nas.arch import ArchSpec
from nas.evaluate import Dataset, Recipe, Split, accuracy, load_data_config, train
from nas.evaluate.data import stratified_indices
from nas.model import build_model


def _subset(split: Split, count: int | None, seed: int) -> Split:
    if count is None or count >= len(split):
        return split
    return split.subset(stratified_indices(split.labels, count / len(split), seed))


@dataclass
class ProxyTuner:
    """``Tuner`` on a dataset from ``conf/data``; fine-tuning with ``recipe``."""

    data_config: dict
    recipe: Recipe
    train_images: int | None = None
    val_images: int | None = None
    seed: int = 0
    device: str = "cpu"

    @cached_property
    def data(self) -> Dataset:
        data = load_data_config(self.data_config)
        data = replace(data, train=_subset(data.train, self.train_images, self.seed),
                       val=_subset(data.val, self.val_images, self.seed))
        return data.to(self.device)

    @property
    def resolution(self) -> int:
        return self.recipe.resolution or self.data.size

    def build(self, spec: ArchSpec) -> nn.Module:
        torch.manual_seed(self.seed)  # only the seed network's initial weights depend on it
        model = build_model(spec, num_classes=self.data.num_classes, resolution=self.resolution,
                            in_channels=self.data.channels)
        return model.to(self.device)

    def finetune(self, model: nn.Module, steps: int, seed: int) -> None:
        if steps > 0:
            train(model, self.data, steps=steps, seed=seed, recipe=self.recipe)

    def accuracy(self, model: nn.Module) -> float:
        return accuracy(model, self.data.val, resolution=self.resolution,
                        batch_size=self.recipe.eval_batch_size)
