"""``evaluator=supernet``: a candidate's accuracy with weights inherited from a trained supernet.

As Once-for-All (Cai et al. 2020) scores its subnets: the candidate is extracted as an
ordinary network (``Supernet.subnet``), optionally fine-tuned for a few steps, its batch-norm
statistics re-estimated on a fixed set of training images (the supernet's running averages
belong to no single subnet), then scored on the validation split the supernet never trained on.
Scoring folds each BN into its conv (``nas.model.fold``) and keeps large activations in the
heap (``nas.evaluate.heap``): 1.7-2x faster than extract + recalibrate + ``accuracy`` with
glibc's default malloc, the same accuracy (``benchmarks/supernet_seconds.py``; tested). On a
CPU with native bf16 both run under bf16 autocast (``precision=auto``): 1.57x faster again,
scores within 0.22 points, the same ranking (README "Seconds per candidate"). Global pools
average by ``avg_pool2d`` (``nas.model.pooling``): 1.16x on two threads in bf16, the same
accuracies (``benchmarks/pooling_seconds.py``). With a settled-images file beside the supernet
(``settled.py``, ``evaluator.settled=auto``) only the validation images some reference subnet got
wrong are run, the rest counted as right: 2.65x faster a candidate with the shipped file, scores
0.01 points higher on average (``benchmarks/settled_seconds.py``).
One-shot rankings are known to be weak (Kendall 0.38-0.51 on NAS-Bench-301, Ning et al. 2021):
how well this one ranks is measured by ``python -m nas.rank evaluator=supernet``, not assumed.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

from nas.arch import ArchSpec, SearchSpace
from nas.errors import NasError
from nas.evaluate.data import Dataset, load_data_config
from nas.evaluate.evaluator import EvalResult, _fixed_subset
from nas.evaluate.heap import keep_large_allocations
from nas.evaluate.training import Recipe, accuracy, correct, recalibrate_bn, resolve_device, train
from nas.model.fold import fold_batch_norm
from nas.model.pooling import use_scoring_pools
from nas.supernet import settled as settled_images
from nas.supernet.store import build_supernet, check_dataset, check_space, read_supernet

SETTINGS = ("path", "bn_images", "val_size", "finetune_steps", "finetune_lr", "seed", "device",
            "threads", "eval_batch_size", "precision", "settled")
PRECISIONS = ("auto", "float32", "bfloat16")
# Training images BN statistics are recalibrated on before a subnet is scored, where a config
# gives none (conf/evaluator/supernet.yaml and nas.schema hold the user-facing default): 1,000
# ranks as 2,000 did (tau 0.428 vs 0.442, paired -0.014 [-0.08, +0.04]) at 1.13x the speed
# (README, "Supernet").
BN_IMAGES = 1000


def cpu_has_native_bfloat16() -> bool:
    """AVX-512 BF16 or AMX: bf16 convolutions measured 1.57x faster than float32 here; where
    bf16 is emulated that is not measured, so not assumed. torch's own probes, private: a
    torch without them counts as no."""
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in probes)


# What a supernet evaluator config written before ``precision`` existed scored in (saved
# studies, ranking caches and predictor plans without the key).
PRECISION_BEFORE_THE_SETTING = "float32"


def precision_name(config: dict) -> str:
    """``float32`` or ``bfloat16``: what a supernet evaluator config scores in on this machine
    (``auto`` resolved; a config without the key is one from before the setting)."""
    precision = str(config.get("precision", PRECISION_BEFORE_THE_SETTING))
    dtype = resolve_precision(precision, resolve_device(config.get("device", "auto")))
    return str(dtype).removeprefix("torch.")


def resolve_precision(precision: str, device: torch.device) -> torch.dtype:
    """The dtype CPU scoring runs in. ``auto``: bfloat16 where the CPU has it natively (1.5x
    faster on this project's CPU, ``benchmarks/supernet_seconds.py``), else float32. CUDA
    always scores under bf16 autocast, as it trains (``nas.evaluate.training``)."""
    if precision not in PRECISIONS:
        raise NasError(f"evaluator.precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "auto":
        native = device.type == "cuda" or cpu_has_native_bfloat16()
        precision = "bfloat16" if native else "float32"
    return getattr(torch, precision)


class SupernetEvaluator:
    """Scores architectures of the supernet's space on ``data``'s validation split."""

    def __init__(self, *, path: str, data: Dataset, data_identity: dict, seed: int,
                 bn_images: int = BN_IMAGES, val_size: int | None = None, finetune_steps: int = 0,
                 finetune_lr: float = 0.01, device: str | None = "auto",
                 eval_batch_size: int = 500, precision: str = "auto",
                 payload: dict | None = None, settled: Path | None = None) -> None:
        if bn_images < 1:
            raise NasError(f"evaluator.bn_images must be >= 1, got {bn_images}")
        if finetune_steps < 0:
            raise NasError(f"evaluator.finetune_steps must be >= 0, got {finetune_steps}")
        self.device = resolve_device(device)
        self.dtype = resolve_precision(precision, self.device)
        keep_large_allocations()  # a candidate's activations reused, not page-faulted in
        payload = payload or read_supernet(path)
        self.path, self.meta = str(path), payload["meta"]
        check_dataset(self.meta, data_identity, path)
        self.supernet = build_supernet(payload, path, self.device).eval()
        self.data = _fixed_subset(data, 1.0, val_size, data_identity.get("split_seed") or 0)
        self.data = self.data.to(self.device)
        self.recipe = replace(Recipe(**self.meta["recipe"]), lr=finetune_lr)
        self.seed, self.bn_images, self.finetune_steps = seed, bn_images, finetune_steps
        self.eval_batch_size = eval_batch_size
        self.settled_path, self.settled_count, self.unsettled = settled, 0, self.data.val
        if settled is not None:  # only the images some reference subnet got wrong are run
            mask = settled_images.load_mask(settled, self.data.val)
            self.settled_count = int(mask.sum())
            self.unsettled = self.data.val.subset(torch.nonzero(~mask.to(self.device)).flatten())
        done, planned = self.meta.get("steps_done"), self.meta.get("steps")
        if done != planned:
            print(f"note: {path} is trained {done} of its {planned} steps", file=sys.stderr)

    def check_space(self, space: SearchSpace) -> None:
        """Refuse (one line) a search over another space than the supernet's, before it starts."""
        check_space(self.meta, space, self.path)

    def subnet(self, spec: ArchSpec, *, for_scoring: bool = False) -> torch.nn.Module:
        """``spec`` with inherited weights, fine-tuned if asked, BN statistics recalibrated.
        ``for_scoring``: with the faster global pools of ``nas.model.pooling`` (not for export)."""
        model = self.supernet.subnet(spec)
        if self.recipe.channels_last:  # as the supernet trained (1.3-1.5x faster on CPU: DESIGN)
            model.to(memory_format=torch.channels_last)
        if self.finetune_steps:
            train(model, self.data, steps=self.finetune_steps, seed=self.seed, recipe=self.recipe)
        if for_scoring:
            use_scoring_pools(model)
        # the same images for every candidate: their seed is the evaluator's, not the trial's
        with self.scoring_precision():
            recalibrate_bn(model, self.data.train, images=self.bn_images, seed=self.seed)
        return model.eval()

    def scoring_precision(self):
        """CPU autocast to the scoring dtype (BN statistics and logits stay float32): around
        BN recalibration and validation, here and in NetAdapt's ``SupernetTuner``."""
        return torch.autocast("cpu", dtype=torch.bfloat16,
                              enabled=self.device.type == "cpu" and self.dtype == torch.bfloat16)

    def scored_network(self, spec: ArchSpec) -> torch.nn.Module:
        """The network a score is taken of: extracted, recalibrated, BN folded."""
        return fold_batch_norm(self.subnet(spec, for_scoring=True))  # never handed out

    def correct_images(self, spec: ArchSpec) -> torch.Tensor:
        """Per image of the whole validation split, whether the subnet gets it right (what
        ``python -m nas.supernet.settle`` settles images by; no image skipped)."""
        model = self.scored_network(spec)
        with self.scoring_precision():
            return correct(model, self.data.val, batch_size=self.eval_batch_size)

    def _accuracy(self, model: torch.nn.Module) -> float:
        """Accuracy on the validation split: settled images count as right, the rest are run
        (without settled images, exactly ``accuracy``'s value, as before the setting)."""
        if self.settled_path is None:
            return accuracy(model, self.data.val, batch_size=self.eval_batch_size)
        right = 0
        if len(self.unsettled):
            right = correct(model, self.unsettled, batch_size=self.eval_batch_size).sum().item()
        return (self.settled_count + right) / len(self.data.val)

    def evaluate(self, spec: ArchSpec, trial=None) -> EvalResult:
        started = time.perf_counter()
        model = self.scored_network(spec)
        with self.scoring_precision():
            score = self._accuracy(model)
        seconds = time.perf_counter() - started
        return EvalResult(val_accuracy=score, train_seconds=seconds, epochs=0, history=(),
                          images_per_second=math.nan, seconds=seconds)


def make_supernet_evaluator(data_cfg: dict, config: dict, seed: int) -> SupernetEvaluator:
    """From the composed ``data`` and ``evaluator`` configs (plain dicts, ``kind`` removed)."""
    unknown = sorted(set(config) - set(SETTINGS))
    if unknown:
        raise NasError(f"unknown evaluator=supernet setting(s) {unknown}; known: {SETTINGS}")
    if not config.get("path"):
        raise NasError("evaluator=supernet needs evaluator.path=FILE (python -m nas.supernet "
                       "writes one)")
    if config.get("threads"):
        torch.set_num_threads(int(config["threads"]))
    identity = {"name": data_cfg.get("name"), "val_size": data_cfg.get("val_size"),
                "split_seed": data_cfg.get("split_seed")}
    own_seed, path = config.get("seed"), str(config["path"])
    payload = read_supernet(path)
    check_dataset(payload["meta"], identity, path)  # before a dataset is loaded for nothing
    return SupernetEvaluator(
        path=path, payload=payload, data=load_data_config(dict(data_cfg)), data_identity=identity,
        seed=seed if own_seed is None else int(own_seed),
        bn_images=int(config.get("bn_images", BN_IMAGES)), val_size=config.get("val_size"),
        finetune_steps=int(config.get("finetune_steps") or 0),
        finetune_lr=float(config.get("finetune_lr", 0.01)), device=config.get("device", "auto"),
        eval_batch_size=int(config.get("eval_batch_size", 500)),
        precision=str(config.get("precision", "auto")),
        settled=settled_images.resolve(config, data_cfg))
