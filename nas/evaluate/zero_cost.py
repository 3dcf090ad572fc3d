"""Zero-cost accuracy signals: one score per network at initialisation, on one fixed batch.

The scores of Abdelfattah et al. 2021 ("Zero-Cost Proxies for Lightweight NAS", ICLR) and of
Mellor et al. 2021 ("Neural Architecture Search without Training", ICML), each a sum over the
network's weights or a statistic of its activations, computed with the network built for the
proxy dataset exactly as the stand-alone proxy would train it (same seed, same init):

* ``grad_norm``: sum over weight tensors of the L2 norm of the cross-entropy loss's gradient;
* ``snip``: sum of |w * dL/dw| (Lee et al. 2019, connection sensitivity);
* ``synflow``: sum of w * dR/dw with R the sum of the outputs of the network with absolute
  weights on an all-ones input, in float64, batch norm in eval mode (Tanaka et al. 2020); the
  score is reported as its log10, which keeps the order and stays finite;
* ``naswot``: log |det K| with K the Hamming-agreement kernel of the binary activation codes
  (input > 0 of each ReLU / ReLU6 / h-swish) of the batch's images;
* ``jacob_cov``: -sum(log(v + k) + 1 / (v + k)) over the eigenvalues v of the correlation
  matrix of the input Jacobians of the batch (Mellor et al. 2020, the paper's first version),
  k = 1e-5.

``params`` and ``macs`` (at the deployment setting, from ``nas.cost``) are scores too: they are
the baselines every proxy must beat to be worth its seconds.

Higher is better for every score. The batch is fixed by ``seed`` (a seeded draw of training
images), so a score is repeatable and every candidate sees the same images.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from nas.arch import ArchSpec
from nas.errors import NasError
from nas.evaluate.data import Dataset
from nas.evaluate.training import prepare
from nas.model import build_model


@dataclass(frozen=True)
class ZeroCostResult:
    """Same fields a search reads from ``EvalResult``: ``val_accuracy`` holds the score."""

    val_accuracy: float
    train_seconds: float
    epochs: int = 0
    seconds: float = 0.0


def _weights(model: nn.Module) -> list[torch.Tensor]:
    return [m.weight for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def _loss_gradients(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> None:
    model.train()
    model.zero_grad(set_to_none=True)
    F.cross_entropy(model(x), y).backward()


def grad_norm(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    _loss_gradients(model, x, y)
    return sum(w.grad.norm().item() for w in _weights(model) if w.grad is not None)


def snip(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    _loss_gradients(model, x, y)
    return sum((w * w.grad).abs().sum().item() for w in _weights(model) if w.grad is not None)


def synflow(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model = model.double().eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.abs_()
    model.zero_grad(set_to_none=True)
    ones = torch.ones((1, *x.shape[1:]), dtype=torch.float64)
    model(ones).sum().backward()
    total = sum((w * w.grad).sum().item() for w in _weights(model) if w.grad is not None)
    return math.log10(total) if total > 0 else -math.inf


ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.Hardswish)


@torch.no_grad()
def naswot(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    n = len(x)
    kernel = torch.zeros((n, n), dtype=torch.float64)

    def record(_module, inputs):  # a pre-hook: an in-place ReLU would overwrite its input
        # units where images i and j agree = D - hamming(i, j), summed layer by layer so the
        # codes of the whole network (millions of units an image) are never held at once
        c = (inputs[0].flatten(1) > 0).float()
        active = c.sum(1, keepdim=True)
        agree = c.shape[1] - (active + active.T - 2 * (c @ c.T))
        kernel.add_(agree.double())

    handles = [m.register_forward_pre_hook(record) for m in model.modules()
               if isinstance(m, ACTIVATIONS)]
    try:
        model.train()
        model(x)
    finally:
        for handle in handles:
            handle.remove()
    return torch.linalg.slogdet(kernel).logabsdet.item()


def jacob_cov(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.train()
    x = x.clone().requires_grad_(True)
    model.zero_grad(set_to_none=True)
    model(x).sum().backward()
    jacobians = x.grad.flatten(1).double()
    correlation = torch.corrcoef(jacobians)
    correlation = torch.nan_to_num(correlation, nan=0.0)
    eigenvalues = torch.linalg.eigvalsh(correlation)
    k = 1e-5
    return -torch.sum(torch.log(eigenvalues.clamp_min(0) + k) +
                      1.0 / (eigenvalues.clamp_min(0) + k)).item()


SCORES: dict[str, Callable[[nn.Module, torch.Tensor, torch.Tensor], float]] = {
    "synflow": synflow, "naswot": naswot, "snip": snip, "grad_norm": grad_norm,
    "jacob_cov": jacob_cov,
}
COST_SCORES = ("params", "macs")
ALL_SCORES = (*SCORES, *COST_SCORES)


def fixed_batch(data: Dataset, batch_size: int, seed: int, resolution: int,
                channels: int | None = None) -> tuple:
    """``batch_size`` training images and labels drawn by ``seed``, normalised at ``resolution``;
    grayscale repeated to ``channels`` when a network for colour images is scored on stand-in
    grayscale images (NAS-Bench-Macro's CIFAR-10 networks on Fashion-MNIST)."""
    generator = torch.Generator().manual_seed(seed)
    index = torch.randperm(len(data.train), generator=generator)[:batch_size]
    images = data.train.images[index.to(data.train.images.device)].cpu()
    x = prepare(data.train, images, resolution, channels_last=False)
    if channels is not None and channels != x.shape[1]:
        if x.shape[1] != 1:
            raise NasError(f"evaluator.channels={channels}: only grayscale images can be "
                           f"repeated to more channels; these have {x.shape[1]}")
        x = x.repeat(1, channels, 1, 1)
    return x, data.train.labels[index.to(data.train.labels.device)].cpu()


class ZeroCostEvaluator:
    """Scores architectures at initialisation; a drop-in for the proxy ``Evaluator``."""

    def __init__(self, *, score: str, seed: int, data: Dataset | None = None,
                 batch_size: int = 64, resolution: int | None = None,
                 channels: int | None = None) -> None:
        if score not in ALL_SCORES:
            raise NasError(f"unknown zero-cost score {score!r}; choose one of "
                           f"{', '.join(ALL_SCORES)}")
        if score in SCORES and data is None:
            raise NasError(f"zero-cost score {score!r} needs a dataset: give data=<name>")
        if batch_size < 2:
            raise NasError(f"evaluator.batch_size must be >= 2, got {batch_size}")
        self.score, self.seed, self.data = score, seed, data
        if data is not None:
            self.resolution = resolution or data.size
            self.x, self.y = fixed_batch(data, batch_size, seed, self.resolution, channels)

    def score_of(self, spec: ArchSpec) -> float:
        if self.score in COST_SCORES:
            from nas.cost import arch_cost

            return float(getattr(arch_cost(spec), self.score))
        torch.manual_seed(self.seed)
        model = build_model(spec, self.data.num_classes, resolution=self.resolution,
                            in_channels=self.x.shape[1])
        return float(SCORES[self.score](model, self.x, self.y))

    def evaluate(self, spec: ArchSpec, trial=None) -> ZeroCostResult:
        started = time.perf_counter()
        value = self.score_of(spec)
        seconds = time.perf_counter() - started
        return ZeroCostResult(val_accuracy=value, train_seconds=seconds, seconds=seconds)


def make_zero_cost(data: Dataset | None, config: dict, seed: int) -> ZeroCostEvaluator:
    """From ``conf/evaluator/zero_cost.yaml`` (a plain dict, ``kind`` removed)."""
    config = dict(config)
    known = {"score", "batch_size", "seed", "resolution", "channels", "threads"}
    unknown = sorted(set(config) - known)
    if unknown:
        raise NasError(f"unknown evaluator setting(s) {unknown}; known: {sorted(known)}")
    if config.get("threads"):
        torch.set_num_threads(int(config["threads"]))
    seed = int(config["seed"]) if config.get("seed") is not None else seed
    return ZeroCostEvaluator(score=str(config.get("score", "synflow")), seed=seed, data=data,
                             batch_size=int(config.get("batch_size", 64)),
                             resolution=config.get("resolution"),
                             channels=config.get("channels"))
