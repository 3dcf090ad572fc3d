"""Seconds of the supernet evaluator's validation step (85% of a candidate's time) under
variants of how the network runs, against the evaluator's own path, in one process.

Scores ``--candidates`` seeded random networks of the default search's space with the shipped
supernet (``python -m nas.search``'s evaluator, the whole 10,000-image validation split): each
subnet is extracted, BN-recalibrated and folded once, then validated by every variant in turn
(order alternated a candidate, so a busy machine's drift hits every variant alike):

* ``autocast-500`` (the baseline: the evaluator's path): bf16 autocast, batches of 500
  (``evaluator.eval_batch_size``), channels-last;
* ``autocast-250``, ``autocast-1000``: other batch sizes;
* ``bf16-weights``: the folded network cast to bfloat16 (no autocast casts a layer);
* ``bf16-nchw``: the same in the contiguous (NCHW) layout;
* ``bf16-jit-freeze``: the same traced and frozen by TorchScript (oneDNN's fused conv+activation).

Prints the median seconds of each, the median per-candidate ratio baseline / variant (above 1:
faster) and the largest accuracy difference from the baseline in points. Quote it from a quiet
machine. The split of a candidate's time (extraction, BN recalibration, validation) is printed
first.

    PYTHONPATH=. python benchmarks/validation_variants.py [--threads 1] [--candidates 6]
"""

import argparse
import copy
import random
import statistics
import time

import torch

from benchmarks.scorer import build_scorer
from nas.evaluate.training import accuracy, prepare, recalibrate_bn
from nas.model.fold import fold_batch_norm
from nas.model.pooling import use_scoring_pools


def scored_network(evaluator, spec, seconds: dict) -> torch.nn.Module:
    """The network the evaluator validates: extracted, recalibrated, BN folded (timed)."""
    started = time.perf_counter()
    model = evaluator.supernet.subnet(spec).to(memory_format=torch.channels_last)
    use_scoring_pools(model)
    extracted = time.perf_counter()
    with evaluator.scoring_precision():
        recalibrate_bn(model, evaluator.data.train, images=evaluator.bn_images,
                       seed=evaluator.seed)
    recalibrated = time.perf_counter()
    seconds["extract"].append(extracted - started)
    seconds["recalibrate"].append(recalibrated - extracted)
    return fold_batch_norm(model.eval())


@torch.inference_mode()
def bf16_accuracy(model, split, batch_size: int, channels_last: bool = True,
                  freeze: bool = False) -> float:
    model = copy.deepcopy(model).to(torch.bfloat16)
    if not channels_last:
        model = model.to(memory_format=torch.contiguous_format)

    def batch(start):
        images = split.images[start:start + batch_size]
        return prepare(split, images, split.images.shape[-1], channels_last).to(torch.bfloat16)

    if freeze:
        model = torch.jit.freeze(torch.jit.trace(model, batch(0)))
    correct = 0
    for start in range(0, len(split), batch_size):
        logits = model(batch(start)).float()
        correct += (logits.argmax(1) == split.labels[start:start + batch_size]).sum().item()
    return correct / len(split)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--candidates", type=int, default=6)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    evaluator, space = build_scorer("config", [])
    val = evaluator.data.val

    def autocast(model, batch_size):
        with evaluator.scoring_precision():
            return accuracy(model, val, batch_size=batch_size)

    variants = {
        "autocast-500": lambda m: autocast(m, 500),
        "autocast-250": lambda m: autocast(m, 250),
        "autocast-1000": lambda m: autocast(m, 1000),
        "bf16-weights": lambda m: bf16_accuracy(m, val, 500),
        "bf16-nchw": lambda m: bf16_accuracy(m, val, 500, channels_last=False),
        "bf16-jit-freeze": lambda m: bf16_accuracy(m, val, 500, freeze=True),
    }
    rng = random.Random(1)
    specs = [space.sample_random(rng) for _ in range(args.candidates)]
    seconds = {"extract": [], "recalibrate": []}
    rows = {name: [] for name in variants}
    for number, spec in enumerate(specs):
        model = scored_network(evaluator, spec, seconds)
        order = list(variants) if number % 2 == 0 else list(variants)[::-1]
        for name in order:
            started = time.perf_counter()
            score = variants[name](model)
            rows[name].append((time.perf_counter() - started, score))
    print(f"{len(specs)} random networks of the default search's space, {args.threads} "
          f"thread(s), {len(val)} validation images, {evaluator.bn_images} BN images")
    for part, values in seconds.items():
        print(f"  {part}: median {statistics.median(values):.2f} s")
    base = rows["autocast-500"]
    for name, row in rows.items():
        ratio = statistics.median(b[0] / r[0] for b, r in zip(base, row))
        worst = max(abs(r[1] - b[1]) for r, b in zip(row, base))
        print(f"  {name:16s} validation median {statistics.median(r[0] for r in row):.2f} s, "
              f"baseline / this {ratio:.2f}x, largest accuracy difference {100 * worst:.2f} pts")


if __name__ == "__main__":
    main()
