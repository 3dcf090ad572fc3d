"""Seconds per candidate of ``evaluator=supernet`` by the number of BN images (``bn_images``).

Scores ``--candidates`` seeded random networks of the MobileNetV3-Small space with the shipped
supernet (or ``--file``) by ``evaluate``, once per BN image count, in this process, the order of
the counts reversed every other candidate (a drifting machine hits each count alike); prints
the median and mean wall seconds per count and each one's ratio to the first count. How far
the counts move a score and the ranking is read from ``nas.rank`` outputs instead
(``benchmarks/supernet_val_noise.py``). Quote it from an idle machine only.

    PYTHONPATH=. python benchmarks/bn_images_seconds.py [--threads 2] [--candidates 6]
        [--counts 2000,1000,500] [--precision bfloat16]
"""

import argparse
import random
import statistics
import time

import torch

from benchmarks.scorer import EXPERIMENT_HEAD, build_scorer

SHIPPED = "nas/supernet/data/mobilenet_v3_small-fashion_mnist.pt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--candidates", type=int, default=6)
    parser.add_argument("--counts", default="2000,1000,500")
    parser.add_argument("--precision", default="bfloat16", choices=("bfloat16", "float32"))
    parser.add_argument("--file", default=SHIPPED, help="a trained mobilenet_v3_small supernet")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    counts = [int(count) for count in args.counts.split(",")]
    evaluator, space = build_scorer("rank", ["space=mobilenet_v3_small", EXPERIMENT_HEAD,
                                             "evaluator=supernet", f"evaluator.path={args.file}",
                                             f"evaluator.precision={args.precision}"])
    rng = random.Random(5)
    seconds = {count: [] for count in counts}
    for number in range(args.candidates):
        spec = space.sample_random(rng)
        for count in (counts if number % 2 == 0 else counts[::-1]):
            evaluator.bn_images = count
            started = time.perf_counter()
            evaluator.evaluate(spec)
            seconds[count].append(time.perf_counter() - started)
    print(f"{args.candidates} random candidates, {args.threads} threads, {args.precision}, "
          f"{len(evaluator.data.val)} validation images")
    first = statistics.median(seconds[counts[0]])
    for count in counts:
        median = statistics.median(seconds[count])
        print(f"  {count} BN images: median {median:.2f} s, mean "
              f"{statistics.mean(seconds[count]):.2f} s a candidate; {first / median:.2f}x "
              f"faster than {counts[0]}")


if __name__ == "__main__":
    main()
