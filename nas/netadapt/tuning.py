"""How NetAdapt gets, fine-tunes and scores its networks: one ``Tuner`` per kind of evaluator.

* ``ProxyTuner`` (``evaluator=proxy``): the seed is trained on the proxy task for
  ``seed_steps``; each proposal inherits the current network's weights truncated to its widths
  (``truncate_weights``), as the original NetAdapt does.
* ``SupernetTuner`` (``evaluator=supernet``, ``nas.netadapt.supernet``): every network takes
  its weights from a trained supernet, BN recalibrated, then fine-tuned T steps.
* ``ScoreTuner`` (``evaluator=zero_cost`` and other weight-free scores): each proposal's
  architecture is scored by the search's evaluator; nothing is inherited or fine-tuned.

The proxy's data (a fixed stratified subset of the training split, when a CPU budget asks for
one, and a fixed validation subset) is loaded on first use, so argument errors and no-op runs
return before anything is read from disk.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import torch
from torch import nn

from nas.arch import ArchSpec
from nas.errors import NasError
from nas.evaluate import Dataset, Recipe, Split, accuracy, load_data_config, train
from nas.evaluate.data import stratified_indices
from nas.model import build_model
from nas.netadapt.inherit import truncate_weights


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
    source = "proxy"

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

    def seed_network(self, spec: ArchSpec, settings) -> nn.Module:
        model = self.build(spec)
        self.finetune(model, settings.seed_steps, settings.seed)
        return model

    def inherit(self, model: nn.Module, spec: ArchSpec) -> nn.Module:
        return truncate_weights(model, self.build(spec))

    def describe(self, settings) -> str:
        return (f"training it for {settings.seed_steps} steps; proposals inherit the current "
                "network's weights, truncated")


class SpecOnly(nn.Module):
    """A network that is only its architecture: what ``ScoreTuner`` keeps between steps."""

    def __init__(self, spec: ArchSpec) -> None:
        super().__init__()
        self.spec = spec


class ScoreTuner:
    """``Tuner`` over a weight-free evaluator (zero-cost scores, the test surrogate): the
    accuracy of a network is the evaluator's score of its architecture."""

    def __init__(self, evaluator, kind: str) -> None:
        self.evaluator, self.source = evaluator, kind
        self._scores: dict[str, float] = {}

    def build(self, spec: ArchSpec) -> nn.Module:
        return SpecOnly(spec)

    def seed_network(self, spec: ArchSpec, settings) -> nn.Module:
        return SpecOnly(spec)

    def inherit(self, model: nn.Module, spec: ArchSpec) -> nn.Module:
        return SpecOnly(spec)

    def describe(self, settings) -> str:
        return (f"evaluator={self.source} scores every network's architecture (no weights "
                "inherited or fine-tuned)")

    def finetune(self, model: nn.Module, steps: int, seed: int) -> None:
        """Nothing to fine-tune: the score reads the architecture."""

    def accuracy(self, model: nn.Module) -> float:
        key = str(model.spec)
        if key not in self._scores:  # inherited and fine-tuned are the same score: once
            self._scores[key] = float(self.evaluator.evaluate(model.spec).val_accuracy)
        return self._scores[key]


# NetAdapt shrinks widths to multiples of 8: a table lookup has none of those networks.
NO_NETADAPT = {"tabular": "NAS-Bench-Macro's table holds none of the narrower networks "
                          "NetAdapt proposes"}


def make_tuner(*, data_cfg: dict, evaluator_cfg: dict, seed_spec: ArchSpec, finetune_lr: float,
               finetune_batch_size: int | None, train_images: int | None, val_images: int | None,
               seed: int, device: str):
    """The tuner for the evaluator ``evaluator_cfg`` (a composed config, as a plain dict)."""
    from nas.search.evaluators import evaluator_kind, make_search_evaluator

    kind = evaluator_kind(evaluator_cfg)
    if kind in NO_NETADAPT:
        raise NasError(f"NetAdapt cannot use evaluator={kind}: {NO_NETADAPT[kind]}")
    if kind == "proxy":
        known = set(Recipe.names())
        recipe = {k: v for k, v in evaluator_cfg.items() if k in known} | {"lr": finetune_lr}
        if finetune_batch_size is not None:
            recipe["batch_size"] = finetune_batch_size
        return ProxyTuner(data_config=data_cfg, recipe=Recipe(**recipe),
                          train_images=train_images, val_images=val_images, seed=seed,
                          device=device)
    if kind == "supernet":
        from nas.netadapt.supernet import make_supernet_tuner

        return make_supernet_tuner(data_cfg=data_cfg, evaluator_cfg=evaluator_cfg,
                                   seed_spec=seed_spec, finetune_lr=finetune_lr,
                                   finetune_batch_size=finetune_batch_size,
                                   train_images=train_images, val_images=val_images, seed=seed,
                                   device=device)
    return ScoreTuner(make_search_evaluator(data_cfg, evaluator_cfg, seed), kind)
