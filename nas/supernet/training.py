"""Training the supernet: the sandwich rule with in-place distillation (BigNAS, Yu et al. 2020).

Each step trains, on one batch, the largest network of the space on the labels (cross-entropy
with label smoothing), then the smallest and ``random_subnets`` random ones on the largest's
soft labels (in-place distillation: ``distillation_loss`` against the largest's detached
logits); the gradients of all of them add up into one optimizer step. Training the two ends of
the space every step is what BigNAS found keeps both ends improving (the sandwich rule of
slimmable networks, Yu & Huang 2019).

The loop's pieces are ``nas/evaluate``'s: the Recipe, augmentation and preparation
(``training_batch``), the warm-up + cosine schedule (``set_lr``), the optimizer
(``make_optimizer``), bf16 autocast on CUDA and the NaN check. What is its own is the step and
its resumability: step ``s`` draws its batch from epoch ``s // steps_per_epoch``'s seeded
order, its augmentation and its random subnets from seeds made of ``(seed, s)``, so a run
continued from a checkpoint does the same steps as one never stopped. Under ``torchrun`` each
process trains on its share of every batch and the gradients are averaged before the step
(``distributed.py``); one process does exactly what it did before there were several.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from nas.arch import ArchSpec
from nas.errors import NasError
from nas.evaluate.data import Dataset
from nas.evaluate.training import (
    Recipe,
    _autocast,
    check_finite,
    distillation_loss,
    make_optimizer,
    set_lr,
    shuffled_batches,
    steps_per_epoch,
    training_batch,
)
from nas.supernet.distributed import Processes
from nas.supernet.network import Supernet


@dataclass(frozen=True, kw_only=True)
class Sandwich:
    """Per step: the largest, the smallest and ``random_subnets`` random networks."""

    random_subnets: int = 2

    def __post_init__(self) -> None:
        if self.random_subnets < 0:
            raise NasError(f"random_subnets must be >= 0, got {self.random_subnets}")

    def specs(self, supernet: Supernet, step: int, seed: int) -> list[ArchSpec]:
        rng = random.Random(f"{seed}:{step}")  # a string seed hashes the same in every process
        space = supernet.space
        return [supernet.largest(), supernet.smallest()] + \
            [space.sample_random(rng) for _ in range(self.random_subnets)]


def _generator(seed: int, kind: int, number: int) -> torch.Generator:
    return torch.Generator().manual_seed((seed * 4 + kind) * 1_000_000_007 + number)


class _Batches:
    """The batch of any step, from that step's number alone (see the module docstring)."""

    def __init__(self, data: Dataset, recipe: Recipe, resolution: int, seed: int) -> None:
        self.data, self.recipe, self.resolution, self.seed = data, recipe, resolution, seed
        self.per_epoch = steps_per_epoch(len(data.train), recipe.batch_size)
        self._epoch, self._order = -1, []

    def __call__(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        epoch, position = divmod(step, self.per_epoch)
        if epoch != self._epoch:
            self._epoch = epoch
            self._order = list(shuffled_batches(len(self.data.train), self.recipe.batch_size,
                                                _generator(self.seed, 0, epoch)))
        return training_batch(self.data, self._order[position], self.recipe, self.resolution,
                              _generator(self.seed, 1, step))


def sandwich_step(supernet: Supernet, specs: list[ArchSpec], x: torch.Tensor,
                  labels: torch.Tensor, recipe: Recipe) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradients of one step (the first spec teaches the rest); the losses of the teacher and
    of the students' mean, detached."""
    device = x.device
    teacher_logits, student_loss = None, torch.zeros((), device=device)
    for spec in specs:
        supernet.set_active(spec)
        with _autocast(device):
            logits = supernet(x).float()
            if teacher_logits is None:
                loss = F.cross_entropy(logits, labels, label_smoothing=recipe.label_smoothing)
            else:
                loss = distillation_loss(logits, teacher_logits, labels, recipe)
        loss.backward()
        if teacher_logits is None:
            teacher_logits, teacher_loss = logits.detach(), loss.detach()
        else:
            student_loss += loss.detach()
    return teacher_loss, student_loss / max(1, len(specs) - 1)


@dataclass(frozen=True)
class StepRecord:
    step: int  # steps done, this one included
    teacher_loss: float
    student_loss: float
    seconds: float  # this run's training time so far


def train_supernet(supernet: Supernet, data: Dataset, *, recipe: Recipe, steps: int, seed: int,
                   sandwich: Sandwich, start: int = 0, optimizer_state: dict | None = None,
                   checkpoint: Callable[[int, dict], None] | None = None,
                   checkpoint_every: int = 100, on_step: Callable[[StepRecord], None] | None = None,
                   stop: Callable[[], bool] | None = None, progress: bool = False,
                   processes: Processes | None = None) -> int:
    """Train ``supernet`` in place from step ``start`` to ``steps``; every ``checkpoint_every``
    steps and at the end ``checkpoint(steps_done, optimizer_state)`` is called (in every
    process: the caller decides who writes), and after each checkpoint training ends early
    when ``stop()`` says so (a time budget; rank 0's answer counts).

    The supernet and ``data`` must be on the same device. Returns the steps done."""
    processes = processes or Processes()
    if steps < 1 or not 0 <= start <= steps:
        raise NasError(f"steps must be >= 1 and start in [0, steps], got {steps}, {start}")
    if checkpoint_every < 1:
        raise NasError(f"checkpoint_every must be >= 1, got {checkpoint_every}")
    if recipe.channels_last:
        supernet.to(memory_format=torch.channels_last)
    optimizer = make_optimizer(supernet, recipe)
    if optimizer_state is not None:
        optimizer.load_state_dict(optimizer_state)
    batches = _Batches(data, recipe, supernet.resolution, seed)
    warmup = round(recipe.warmup_fraction * steps)
    device = next(supernet.parameters()).device
    loss_sum, done = torch.zeros((), device=device), start
    bar = tqdm(total=steps, initial=start, desc="supernet", unit="step", leave=False,
               disable=not (progress and sys.stderr.isatty()))
    started = time.perf_counter()
    supernet.train()
    for step in range(start, steps):
        set_lr(optimizer, recipe, step, steps, warmup)
        x, labels = batches(step)
        total = len(x)
        x, labels = processes.share(x, labels)
        optimizer.zero_grad(set_to_none=True)
        teacher, student = sandwich_step(supernet, sandwich.specs(supernet, step, seed), x,
                                         labels, recipe)
        if processes.several:
            teacher, student = processes.average(supernet, torch.stack([teacher, student]),
                                                 len(x), total)
        optimizer.step()
        loss_sum += teacher + student
        done = step + 1
        bar.update()
        if done % recipe.check_every == 0 or done == steps:
            check_finite(loss_sum, done)
        if on_step is not None:
            on_step(StepRecord(done, teacher.item(), student.item(),
                               time.perf_counter() - started))
        if done % checkpoint_every == 0 or done == steps:
            processes.average_buffers(supernet)
            if checkpoint is not None:
                checkpoint(done, optimizer.state_dict())
            if stop is not None and done < steps and processes.agree(stop(), device):
                break
    bar.close()
    return done
