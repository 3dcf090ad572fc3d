"""Seconds per candidate of ``evaluator=supernet``: its scoring path against the plain one.

Builds a MobileNetV3-Small-space supernet for Fashion-MNIST with one training step (the timing
does not depend on the weights' quality; ``--file`` scores a trained one instead, such as the
shipped nas/supernet/data/mobilenet_v3_small-fashion_mnist.pt), then scores the space's
smallest and largest networks and ``--candidates`` seeded random ones, each by every path in
turn, in this process:

* plain (the baseline): ``evaluator.subnet(spec)`` (extraction, BN recalibration on 2,000
  training images in batches of 256) and ``accuracy`` on the evaluator's validation images
  (the whole 10,000-image split by default), with glibc's
  malloc as a process has it by default (mmap threshold at its dynamic ceiling, 32 MiB; give
  ``--baseline-mmap-mib 64`` for DESIGN's ``MALLOC_MMAP_THRESHOLD_``);
* fast (``evaluator.evaluate``, ``precision=float32``): the same steps with large activations
  kept in the heap (``nas.evaluate.heap``) and BN folded into the convs for validation
  (``nas.model.fold``);
* bf16 (``evaluator.evaluate``, ``precision=bfloat16``, what ``auto`` picks on a CPU with
  AVX-512 BF16 or AMX): the fast path with BN recalibration and validation under bf16 autocast.

Prints, per path, the median, mean and largest wall-clock and CPU seconds per candidate, their
ratios (plain / fast, plain / bf16, fast / bf16), how many candidates' accuracies differ
between plain and fast (expected: none) and the largest bf16 - fast difference in points. CPU
seconds are the steadier figure on a shared machine; quote wall seconds from an idle one only.

    PYTHONPATH=. python benchmarks/supernet_seconds.py [--threads 2] [--candidates 10]
        [--file SUPERNET.pt]
"""

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.scorer import build_scorer
from nas.cli import compose_config
from nas.evaluate.heap import keep_large_allocations, set_malloc_thresholds
from nas.evaluate.training import accuracy
from nas.supernet.__main__ import main as train_main

MIB = 1 << 20


def make_file(space: str, out: Path) -> None:
    cfg = compose_config("supernet", [f"space={space}", "steps=1", "train_images=256",
                                      "score_bn_images=64", "score_val_images=64", f"out={out}"])
    train_main(cfg)


def timed(score) -> tuple[float, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    value = score()
    return time.perf_counter() - wall, time.process_time() - cpu, value


def describe(name: str, rows: list[tuple[float, float, float]]) -> None:
    for index, unit in ((0, "wall"), (1, "CPU")):
        column = [row[index] for row in rows]
        print(f"  {name} {unit} s per candidate: median {statistics.median(column):.2f}, mean "
              f"{statistics.mean(column):.2f}, max {max(column):.2f} (smallest "
              f"{column[0]:.2f}, largest {column[1]:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--candidates", type=int, default=10)
    parser.add_argument("--space", default="mobilenet_v3_small")
    parser.add_argument("--baseline-mmap-mib", type=int, default=32)
    parser.add_argument("--file", default=None, help="a trained supernet of --space")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(args.file) if args.file else Path(folder) / "supernet.pt"
        if not args.file:
            make_file(args.space, path)
        scorers = {}
        for precision in ("float32", "bfloat16"):
            scorers[precision], space = build_scorer(
                "rank", [f"space={args.space}", "evaluator=supernet", f"evaluator.path={path}",
                         f"evaluator.precision={precision}"])
        evaluator = scorers["float32"]
        net = evaluator.supernet
        rng = random.Random(0)
        specs = [net.smallest(), net.largest()] + \
            [space.sample_random(rng) for _ in range(args.candidates)]

        def plain(spec):
            set_malloc_thresholds(args.baseline_mmap_mib * MIB, 2 * args.baseline_mmap_mib * MIB)
            return accuracy(evaluator.subnet(spec), evaluator.data.val,
                            batch_size=evaluator.eval_batch_size)

        def fast(spec, precision="float32"):
            keep_large_allocations()  # as the evaluator's constructor did
            return scorers[precision].evaluate(spec).val_accuracy

        paths = {"plain": plain, "fast": fast, "bf16": lambda spec: fast(spec, "bfloat16")}
        rows = {name: [] for name in paths}
        for number, spec in enumerate(specs):
            order = list(paths) if number % 2 == 0 else list(paths)[::-1]
            for name in order:  # alternated: a busy machine's drift hits every path alike
                rows[name].append(timed(lambda path=paths[name], spec=spec: path(spec)))
    print(f"space {args.space}, {len(specs)} candidates (smallest, largest, {args.candidates} "
          f"random), {args.threads} threads, bn_images {evaluator.bn_images}, val images "
          f"{len(evaluator.data.val)}; baseline mmap threshold {args.baseline_mmap_mib} MiB")
    for name in paths:
        describe(name, rows[name])
    for slow, quick in (("plain", "fast"), ("plain", "bf16"), ("fast", "bf16")):
        for index, unit in ((0, "wall"), (1, "CPU")):
            ratios = [p[index] / f[index] for p, f in zip(rows[slow], rows[quick])]
            medians = [statistics.median(r[index] for r in rows[name]) for name in (slow, quick)]
            print(f"  {slow} / {quick}, {unit}: medians {medians[0] / medians[1]:.2f}x, per "
                  f"candidate {min(ratios):.2f}-{max(ratios):.2f}x")
    differ = sum(p[2] != f[2] for p, f in zip(rows["plain"], rows["fast"]))
    print(f"  accuracies that differ between plain and fast: {differ} of {len(specs)}")
    worst = max(abs(b[2] - f[2]) for b, f in zip(rows["bf16"], rows["fast"]))
    print(f"  largest |bf16 - fast| accuracy: {100 * worst:.2f} points")


if __name__ == "__main__":
    main()
