"""The accuracy predictor: Once-for-All's MLP on the one-hot architecture encoding (Cai et al.
2020, section 3.3: three hidden layers of 400 units, ReLU, trained on the accuracies its
supernet gave sampled subnets; RMSE 0.21% on ImageNet with 16K samples).

Targets are standardised for training (their mean and std kept as buffers, so the network
predicts accuracies in the targets' own unit); the fit is Adam on the mean squared error in
seeded minibatches, and the initial weights come from the seed too, so a fit is repeatable.
``ensemble=N`` fits N such MLPs from seeds seed, seed+1, ... and predicts their mean (a deep
ensemble, Lakshminarayanan et al. 2017): the members' disagreement is fitting noise that the
mean averages out; ``ensemble=1`` is OFA's single MLP. On the shipped supernet's 1,000 scores
five members cut the held-out RMSE from 0.220 to 0.215 points and left the ground-truth ranking
where it was (README, "Accuracy predictor"), so one stays the default.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from nas.errors import NasError


@dataclass(frozen=True, kw_only=True)
class FitSettings:
    hidden: int = 400
    layers: int = 3
    epochs: int = 300
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    ensemble: int = 1

    def __post_init__(self) -> None:
        for name in ("hidden", "layers", "epochs", "batch_size", "ensemble"):
            if getattr(self, name) < 1:
                raise NasError(f"predictor {name} must be >= 1, got {getattr(self, name)}")
        if not self.lr > 0 or self.weight_decay < 0:
            raise NasError(f"predictor lr must be > 0 and weight_decay >= 0, got {self.lr}, "
                           f"{self.weight_decay}")


class _Predicts(nn.Module):
    @torch.inference_mode()
    def predict(self, features: np.ndarray) -> np.ndarray:
        was_training = self.training
        self.eval()
        try:
            return self(torch.from_numpy(np.asarray(features, dtype=np.float32))).numpy()
        finally:
            self.train(was_training)


class AccuracyPredictor(_Predicts):
    """``features`` one-hot inputs -> ``layers`` hidden ReLU layers of ``hidden`` -> accuracy."""

    def __init__(self, features: int, *, hidden: int = 400, layers: int = 3) -> None:
        super().__init__()
        widths = [features] + [hidden] * layers
        modules: list[nn.Module] = []
        for fan_in, fan_out in zip(widths, widths[1:]):
            modules += [nn.Linear(fan_in, fan_out), nn.ReLU()]
        self.net = nn.Sequential(*modules, nn.Linear(widths[-1], 1))
        self.register_buffer("mean", torch.zeros(()))
        self.register_buffer("std", torch.ones(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1) * self.std + self.mean


class PredictorEnsemble(_Predicts):
    """The mean prediction of ``members``, predictors of the same shape."""

    def __init__(self, members: list[AccuracyPredictor]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([member(x) for member in self.members]).mean(0)


def make_predictor(features: int, settings: FitSettings) -> AccuracyPredictor | PredictorEnsemble:
    """An unfitted predictor of ``settings``' shape (a file's, to load its weights into)."""
    members = [AccuracyPredictor(features, hidden=settings.hidden, layers=settings.layers)
               for _ in range(settings.ensemble)]
    return wrap_members(members)


def wrap_members(members: list[AccuracyPredictor]) -> AccuracyPredictor | PredictorEnsemble:
    """One member as itself (the layout of files written before ensembles existed), more as
    their ensemble."""
    return members[0] if len(members) == 1 else PredictorEnsemble(members)


def fit_predictor(features: np.ndarray, targets: np.ndarray, *, seed: int,
                  settings: FitSettings | None = None) -> AccuracyPredictor | PredictorEnsemble:
    """A predictor fitted to ``targets`` (one per row of ``features``); an ensemble's members
    from seeds ``seed``, ``seed + 1``, ... (its first member is the single fit of ``seed``)."""
    settings = settings or FitSettings()
    x = torch.from_numpy(np.asarray(features, dtype=np.float32))
    y = torch.from_numpy(np.asarray(targets, dtype=np.float32))
    if len(x) != len(y) or len(x) < 2:
        raise NasError(f"a predictor needs >= 2 scored architectures, got {len(x)} rows and "
                       f"{len(y)} scores")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # batches of 64 through 400 units are too small to share: two
    try:  # threads took 8x the CPU time on a busy 2-core machine (3.5 min against 25 s)
        members = [_fit(x, y, seed + number, settings) for number in range(settings.ensemble)]
    finally:
        torch.set_num_threads(threads)
    return wrap_members(members).eval()


def _fit(x: torch.Tensor, y: torch.Tensor, seed: int, settings: FitSettings
         ) -> AccuracyPredictor:
    torch.manual_seed(seed)
    model = AccuracyPredictor(x.shape[1], hidden=settings.hidden, layers=settings.layers)
    model.mean.fill_(float(y.mean()))
    model.std.fill_(max(float(y.std()), 1e-8))
    scaled = (y - model.mean) / model.std
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr,
                                 weight_decay=settings.weight_decay)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(settings.epochs):
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), settings.batch_size):
            index = order[start:start + settings.batch_size]
            loss = torch.mean((model.net(x[index]).squeeze(-1) - scaled[index]) ** 2)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return model.eval()
