"""Training an ``nn.Module`` on an in-memory dataset, and its held-out accuracy.

The recipe is short and tuned for proxy training: SGD with Nesterov momentum (it beat AdamW
here), linear warm-up then cosine decay per step (Loshchilov & Hutter 2017, "SGDR"), label
smoothing (Szegedy et al. 2016), random crop with padding and horizontal flips done on whole
batches on the data's device, channels-last memory format, and optional knowledge distillation
(Hinton et al. 2015: ``alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * CE``).

Everything random (shuffling, crops, flips) draws from one ``torch.Generator`` seeded by
``seed``; the model's initial weights come from the caller (``torch.manual_seed`` before
building it), so a run is repeatable for a seed on the same machine and thread count.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from nas.errors import NasError
from nas.evaluate.data import Dataset, Split


class TrainingDiverged(NasError):
    """The loss became NaN or infinite: this candidate cannot be scored with this recipe."""


@dataclass(frozen=True, kw_only=True)
class Recipe:
    """How to train. Defaults are the proxy recipe measured on Fashion-MNIST (README)."""

    batch_size: int = 128
    lr: float = 0.2
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-5
    warmup_fraction: float = 0.05  # of all steps, linear from 0
    label_smoothing: float = 0.1
    augment: bool = True
    channels_last: bool = True
    resolution: int | None = None  # None: the dataset's own
    eval_batch_size: int = 500
    kd_alpha: float = 0.5
    kd_temperature: float = 4.0
    check_every: int = 10  # steps between NaN checks (each is a device sync on a GPU)
    bn_recalibration: int = 1024  # training images to re-estimate BN statistics before
    # each validation (0: off): after a few dozen steps the running averages lag far behind
    # the weights and eval-mode accuracy reads ~chance (measured: 10% for every candidate)

    def __post_init__(self) -> None:
        positive = ("batch_size", "eval_batch_size", "lr", "kd_temperature", "check_every")
        for name in positive:
            if not getattr(self, name) > 0:
                raise NasError(f"{name} must be positive, got {getattr(self, name)}")
        if self.bn_recalibration < 0:
            raise NasError(f"bn_recalibration must be >= 0, got {self.bn_recalibration}")
        for name in ("momentum", "warmup_fraction", "label_smoothing", "kd_alpha"):
            if not 0 <= getattr(self, name) <= 1:
                raise NasError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.weight_decay < 0:
            raise NasError(f"weight_decay must be >= 0, got {self.weight_decay}")
        if self.resolution is not None and self.resolution < 8:
            raise NasError(f"resolution must be >= 8, got {self.resolution}")

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    train_loss: float
    val_accuracy: float | None
    lr: float
    train_seconds: float


@dataclass(frozen=True)
class TrainResult:
    steps: int
    epochs: float
    images: int
    train_seconds: float
    history: tuple[EpochRecord, ...] = field(default_factory=tuple)

    @property
    def images_per_second(self) -> float:
        return self.images / self.train_seconds if self.train_seconds > 0 else float("nan")


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``auto`` (or None): CUDA when present, else CPU."""
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def augment(images: torch.Tensor, pad: int, flip: bool, generator: torch.Generator
            ) -> torch.Tensor:
    """Random crop after zero padding, and random horizontal flip, for a whole uint8 batch.

    One gather does both: each sample reads rows ``dy..dy+H`` and columns ``dx..dx+W`` of
    the padded batch, columns reversed for flipped samples.
    """
    n, _, height, width = images.shape
    offsets = torch.randint(0, 2 * pad + 1, (n, 2), generator=generator).to(images.device)
    columns = torch.arange(width, device=images.device).expand(n, -1)
    if flip:
        flipped = (torch.rand(n, generator=generator) < 0.5).to(images.device)
        columns = torch.where(flipped[:, None], width - 1 - columns, columns)
    if pad:
        images = F.pad(images, (pad, pad, pad, pad))
    rows = offsets[:, :1] + torch.arange(height, device=images.device)
    columns = offsets[:, 1:] + columns
    batch = torch.arange(n, device=images.device)[:, None, None]
    # advanced indices around a slice: the result is N x H x W x C
    return images[batch, :, rows[:, :, None], columns[:, None, :]].permute(0, 3, 1, 2)


def _model_resolution(model: nn.Module, split: Split, resolution: int | None) -> int:
    return resolution or getattr(model, "resolution", None) or split.size


def prepare(split: Split, images: torch.Tensor, resolution: int, channels_last: bool
            ) -> torch.Tensor:
    """uint8 batch -> normalised float batch at ``resolution``, in the model's memory format."""
    x = split.normalise(images)
    if x.shape[-1] != resolution:
        x = F.interpolate(x, size=(resolution, resolution), mode="bilinear",
                          align_corners=False, antialias=resolution < x.shape[-1])
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    return x


def _is_channels_last(model: nn.Module) -> bool:
    conv = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    return conv is not None and conv.weight.is_contiguous(memory_format=torch.channels_last) \
        and not conv.weight.is_contiguous()


def _autocast(device: torch.device):
    """bf16 autocast on CUDA (DESIGN: 11k img/s on an H100); plain fp32 on CPU."""
    return torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")


@torch.inference_mode()
def predict_logits(model: nn.Module, split: Split, *, resolution: int | None = None,
                   batch_size: int = 500) -> torch.Tensor:
    """Logits of ``model`` on every image of ``split`` (eval mode; training mode restored)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    resolution = _model_resolution(model, split, resolution)
    channels_last = _is_channels_last(model)
    outputs = []
    try:
        for start in range(0, len(split), batch_size):
            images = split.images[start:start + batch_size].to(device, non_blocking=True)
            with _autocast(device):
                outputs.append(model(prepare(split, images, resolution, channels_last)).float())
    finally:
        model.train(was_training)
    return torch.cat(outputs)


def accuracy(model: nn.Module, split: Split, *, resolution: int | None = None,
             batch_size: int = 500) -> float:
    """Top-1 accuracy of ``model`` on ``split``, in [0, 1]."""
    return correct(model, split, resolution=resolution, batch_size=batch_size).float().mean().item()


def correct(model: nn.Module, split: Split, *, resolution: int | None = None,
            batch_size: int = 500) -> torch.Tensor:
    """Whether ``model``'s top-1 class is each image's label (bool, one per image, on the CPU)."""
    logits = predict_logits(model, split, resolution=resolution, batch_size=batch_size)
    return logits.argmax(1).cpu() == split.labels.cpu()


@torch.no_grad()
def recalibrate_bn(model: nn.Module, split: Split, *, images: int = 1024, batch_size: int = 256,
                   resolution: int | None = None, seed: int = 0) -> None:
    """Re-estimate batch-norm running statistics as exact averages over ``images`` training
    images (as in Once-for-All and single-path NAS, which score briefly trained subnetworks)."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms or images <= 0:
        return
    was_training = model.training
    momenta = [m.momentum for m in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average
    device = next(model.parameters()).device
    resolution = _model_resolution(model, split, resolution)
    channels_last = _is_channels_last(model)
    generator = torch.Generator().manual_seed(seed)
    index = torch.randperm(len(split), generator=generator)[:images]
    model.train()
    try:
        for start in range(0, len(index), batch_size):
            batch = split.images[index[start:start + batch_size].to(split.images.device)]
            with _autocast(device):
                model(prepare(split, batch.to(device), resolution, channels_last))
    finally:
        for norm, momentum in zip(norms, momenta):
            norm.momentum = momentum
        model.train(was_training)


def lr_factor(step: int, total: int, warmup: int) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine decay to zero at ``total``."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def make_optimizer(model: nn.Module, recipe: Recipe) -> torch.optim.Optimizer:
    """SGD; no weight decay on batch-norm weights and biases (1-D parameters)."""
    decay = [p for p in model.parameters() if p.requires_grad and p.dim() > 1]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.dim() <= 1]
    groups = [{"params": decay, "weight_decay": recipe.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.SGD(groups, lr=recipe.lr, momentum=recipe.momentum,
                           nesterov=recipe.nesterov and recipe.momentum > 0)


def distillation_loss(logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor,
                      recipe: Recipe) -> torch.Tensor:
    temperature = recipe.kd_temperature
    soft = F.kl_div(F.log_softmax(logits / temperature, 1),
                    F.log_softmax(teacher_logits / temperature, 1),
                    reduction="batchmean", log_target=True) * temperature ** 2
    hard = F.cross_entropy(logits, labels, label_smoothing=recipe.label_smoothing)
    return recipe.kd_alpha * soft + (1 - recipe.kd_alpha) * hard


def shuffled_batches(n: int, batch_size: int, generator: torch.Generator):
    """Index batches of one shuffled epoch; a last batch smaller than half is dropped
    (a batch of 1 breaks batch norm, and tiny batches add noise for no gain)."""
    order = torch.randperm(n, generator=generator)
    for start in range(0, n, batch_size):
        index = order[start:start + batch_size]
        if len(index) >= max(2, batch_size // 2) or start == 0:
            yield index


def training_batch(data: Dataset, index: torch.Tensor, recipe: Recipe, resolution: int,
                   generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """The images (augmented by the recipe, prepared for the model) and labels of ``index``."""
    split = data.train
    images = split.images[index.to(split.images.device)]
    labels = split.labels[index.to(split.labels.device)]
    if recipe.augment:
        images = augment(images, data.pad, data.flip, generator)
    return prepare(split, images, resolution, recipe.channels_last), labels


def set_lr(optimizer: torch.optim.Optimizer, recipe: Recipe, step: int, total: int,
           warmup: int) -> None:
    """The recipe's learning rate for ``step`` of ``total`` (``lr_factor``'s schedule)."""
    for group in optimizer.param_groups:
        group["lr"] = recipe.lr * lr_factor(step, total, warmup)


def steps_per_epoch(n: int, batch_size: int) -> int:
    full, rest = divmod(n, batch_size)
    return max(1, full + (1 if rest >= max(2, batch_size // 2) else 0))


def train(model: nn.Module, data: Dataset, *, epochs: int | None = None, steps: int | None = None,
          seed: int, recipe: Recipe | None = None, teacher: nn.Module | None = None,
          eval_split: Split | None = None,
          on_epoch: Callable[[EpochRecord], None] | None = None,
          progress: bool = False) -> TrainResult:
    """Train ``model`` in place on ``data.train`` for ``epochs`` epochs or ``steps`` steps.

    The model stays on its device; the data must be on the same device (``Dataset.to``).
    With ``epochs``, accuracy on ``eval_split`` (default ``data.val``; pass ``data.test`` only
    for a final report) is measured after each epoch and handed to ``on_epoch``, which may
    raise (``optuna.TrialPruned``) to stop. With ``steps``, training stops after exactly that
    many optimizer steps (NetAdapt's short fine-tuning) and nothing is evaluated.
    """
    recipe = recipe or Recipe()
    if (epochs is None) == (steps is None):
        raise NasError("give exactly one of epochs or steps")
    if (epochs is not None and epochs < 1) or (steps is not None and steps < 1):
        raise NasError(f"epochs/steps must be >= 1, got epochs={epochs} steps={steps}")
    device = next(model.parameters()).device
    split = data.train
    per_epoch = steps_per_epoch(len(split), recipe.batch_size)
    total = steps if steps is not None else epochs * per_epoch
    eval_split = data.val if eval_split is None else eval_split
    resolution = _model_resolution(model, split, recipe.resolution)
    if recipe.channels_last:
        model.to(memory_format=torch.channels_last)
    if teacher is not None:
        teacher.eval()
    optimizer = make_optimizer(model, recipe)
    warmup = round(recipe.warmup_fraction * total)
    generator = torch.Generator().manual_seed(seed)
    history: list[EpochRecord] = []
    done, images_seen, train_seconds = 0, 0, 0.0
    bar = tqdm(total=total, desc="train", unit="step", leave=False,
               disable=not (progress and sys.stderr.isatty()))
    epoch = 0
    while done < total:
        epoch += 1
        model.train()
        started, loss_sum, loss_count = time.perf_counter(), torch.zeros((), device=device), 0
        for index in shuffled_batches(len(split), recipe.batch_size, generator):
            if done >= total:
                break
            set_lr(optimizer, recipe, done, total, warmup)
            x, labels = training_batch(data, index, recipe, resolution, generator)
            with _autocast(device):
                logits = model(x).float()
                if teacher is not None:
                    with torch.no_grad():
                        teacher_logits = teacher(x).float()
                    loss = distillation_loss(logits, teacher_logits, labels, recipe)
                else:
                    loss = F.cross_entropy(logits, labels, label_smoothing=recipe.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach()
            loss_count += 1
            done += 1
            images_seen += len(index)
            bar.update()
            if done % recipe.check_every == 0 or done == total:
                check_finite(loss_sum, done)
        train_seconds += time.perf_counter() - started
        check_finite(loss_sum, done)
        if steps is not None:
            continue
        recalibrate_bn(model, split, images=recipe.bn_recalibration, resolution=resolution,
                       seed=seed + epoch)
        record = EpochRecord(epoch=epoch, train_loss=loss_sum.item() / max(1, loss_count),
                             val_accuracy=accuracy(model, eval_split, resolution=resolution,
                                                   batch_size=recipe.eval_batch_size),
                             lr=optimizer.param_groups[0]["lr"], train_seconds=train_seconds)
        history.append(record)
        bar.set_postfix(loss=f"{record.train_loss:.3f}", val=f"{record.val_accuracy:.4f}")
        if on_epoch is not None:
            on_epoch(record)
    bar.close()
    return TrainResult(steps=done, epochs=done / per_epoch, images=images_seen,
                       train_seconds=train_seconds, history=tuple(history))


def check_finite(loss_sum: torch.Tensor, step: int) -> None:
    if not torch.isfinite(loss_sum).item():
        raise TrainingDiverged(f"training loss became NaN or infinite by step {step}; "
                               f"lower the learning rate (evaluator.lr)")
