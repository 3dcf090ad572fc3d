"""NetAdapt with a supernet's weights (``evaluator=supernet``).

MobileNetV3's NetAdapt (Howard et al. 2019, Sec. 4.2) fine-tunes each proposal rather than
training it (Yang et al. 2018, Sec. 3.2). With a weight-sharing supernet (Once-for-All, Cai et
al. 2020) every proposal can start from weights trained for exactly its widths: the supernet's
leading channels, which is what its elastic layers compute with. A proposal only narrows the
seed (never a kernel or a depth, ``nas.netadapt.proposals``), and a leading slice of a leading
slice is a leading slice, so a proposal's supernet weights are the seed's subnet
(``Supernet.subnet``, public API) truncated to the proposal's widths (``truncate_weights``):
no copy of the supernet's extraction is needed, and proposals outside the space's width
choices (NetAdapt cuts by multiples of 8) are served too.

Each network is then scored as ``evaluator=supernet`` scores a search candidate: BN statistics
re-estimated on fixed training images (the supernet's running averages belong to no single
subnet), ``steps_per_proposal`` (T) fine-tuning steps when T > 0, BN recalibrated again, and
validation accuracy on held-out images the supernet never trained on. The seed is treated as
every proposal (``seed_steps`` is the proxy tuner's), so a proposal and the network it would
replace are scored alike.
"""

from __future__ import annotations

from dataclasses import replace

import torch
from torch import nn

from nas.arch import ArchSpec
from nas.errors import NasError, NotInSpaceError
from nas.evaluate import accuracy, train
from nas.evaluate.training import recalibrate_bn
from nas.model import build_model
from nas.model.pooling import use_scoring_pools
from nas.netadapt.inherit import truncate_weights
from nas.netadapt.tuning import _subset


class SupernetTuner:
    """``Tuner`` whose networks take their weights from ``evaluator.supernet``
    (a ``nas.supernet.evaluator.SupernetEvaluator``: its supernet, data, BN images, recipe)."""

    def __init__(self, evaluator, seed_spec: ArchSpec, *, batch_size: int | None = None,
                 train_images: int | None = None, seed: int = 0) -> None:
        supernet = evaluator.supernet
        try:
            self.parent = supernet.subnet(seed_spec)  # the seed's raw inherited weights
        except NotInSpaceError:
            raise NasError(f"NetAdapt's seed is not a network of the supernet's space "
                           f"{supernet.space.name!r} ({evaluator.path}); with evaluator=supernet "
                           "give a seed of that space") from None
        self.parent.eval()
        self.supernet, self.path = supernet, evaluator.path
        self.recipe = evaluator.recipe if batch_size is None \
            else replace(evaluator.recipe, batch_size=batch_size)
        self.data = replace(evaluator.data,
                            train=_subset(evaluator.data.train, train_images, seed))
        self.bn_images, self.bn_seed = evaluator.bn_images, evaluator.seed
        self.eval_batch_size = evaluator.eval_batch_size
        self.precision = evaluator.scoring_precision  # scored as the search scored
        self.device = evaluator.device
        self.source = f"supernet:{evaluator.path}"

    def build(self, spec: ArchSpec) -> nn.Module:
        model = build_model(spec, self.supernet.num_classes, resolution=self.supernet.resolution,
                            in_channels=self.supernet.in_channels).to(self.device)
        if self.recipe.channels_last:  # as the supernet trained (1.3-1.5x faster on CPU)
            model.to(memory_format=torch.channels_last)
        # scored as the search scored them; fine-tuning keeps the adaptive pools' backward
        return use_scoring_pools(model)

    def _recalibrate(self, model: nn.Module) -> None:
        # the same images for every network: their seed is the evaluator's, not the step's
        with self.precision():
            recalibrate_bn(model, self.data.train, images=self.bn_images, seed=self.bn_seed)

    def inherit(self, model: nn.Module | None, spec: ArchSpec) -> nn.Module:
        """``spec`` with the supernet's weights for its widths (``model`` is not used: the
        supernet holds trained weights for every width, the current network only its own)."""
        child = truncate_weights(self.parent, self.build(spec))
        self._recalibrate(child)
        return child

    def seed_network(self, spec: ArchSpec, settings) -> nn.Module:
        model = self.inherit(None, spec)
        self.finetune(model, settings.steps_per_proposal, settings.seed)
        return model

    def describe(self, settings) -> str:
        return (f"the seed and every proposal take the supernet's weights ({self.path}), "
                f"BN recalibrated on {self.bn_images} images, then {settings.steps_per_proposal} "
                "fine-tuning steps")

    def finetune(self, model: nn.Module, steps: int, seed: int) -> None:
        if steps > 0:
            train(model, self.data, steps=steps, seed=seed, recipe=self.recipe)
            self._recalibrate(model)

    def accuracy(self, model: nn.Module) -> float:
        with self.precision():
            return accuracy(model, self.data.val, batch_size=self.eval_batch_size)


def make_supernet_tuner(*, data_cfg: dict, evaluator_cfg: dict, seed_spec: ArchSpec,
                        finetune_lr: float, finetune_batch_size: int | None,
                        train_images: int | None, val_images: int | None, seed: int,
                        device: str) -> SupernetTuner:
    """From the composed ``data`` and ``evaluator=supernet`` configs: the file is read and
    checked (dataset, validation split) by ``make_supernet_evaluator``; NetAdapt's own
    ``val_images`` and ``finetune_lr`` replace the evaluator's validation size and rate."""
    from nas.search.evaluators import make_search_evaluator

    config = dict(evaluator_cfg) | {"finetune_lr": finetune_lr, "finetune_steps": 0,
                                    "device": device}
    if val_images is not None:
        config["val_size"] = val_images
    evaluator = make_search_evaluator(data_cfg, config, seed)
    return SupernetTuner(evaluator, seed_spec, batch_size=finetune_batch_size,
                         train_images=train_images, seed=seed)
