"""Seconds a candidate of ``evaluator=supernet`` with settled images (the default,
``evaluator.settled=auto``: the shipped file beside the supernet) against every image
(``evaluator.settled=none``), in one process.

Scores ``--candidates`` seeded random networks of the default search's space by both
evaluators in turn (order alternated a candidate, so a busy machine's drift hits both alike),
the whole ``evaluate`` each time (extraction, BN recalibration, validation). Prints the median
seconds of each, the median per-candidate ratio (above 1: settled is faster) and how much the
settled score overstates the whole split's (points: mean, largest; never below zero). Quote it
from a quiet machine.

    PYTHONPATH=. python benchmarks/settled_seconds.py [--threads 1] [--candidates 10]
"""

import argparse
import random
import statistics
import time

import torch

from benchmarks.scorer import build_scorer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--candidates", type=int, default=10)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    built = {name: build_scorer("config", [f"evaluator.settled={name}"])
             for name in ("none", "auto")}
    evaluators, space = {name: pair[0] for name, pair in built.items()}, built["auto"][1]
    settled = evaluators["auto"]
    if settled.settled_path is None:
        raise SystemExit("no settled-images file beside the supernet: python -m "
                         "nas.supernet.settle makes one")
    rng = random.Random(args.seed)
    rows = []
    for number in range(args.candidates):
        spec = space.sample_random(rng)
        order = ["none", "auto"] if number % 2 == 0 else ["auto", "none"]
        row = {}
        for name in order:
            started = time.perf_counter()
            score = evaluators[name].evaluate(spec).val_accuracy
            row[name] = (time.perf_counter() - started, score)
        rows.append(row)
    over = [100 * (row["auto"][1] - row["none"][1]) for row in rows]
    print(f"{len(rows)} random networks of the default search's space, {args.threads} "
          f"thread(s); settled: {settled.settled_count} of {len(settled.data.val)} images "
          f"({settled.settled_path.name})")
    for name in ("none", "auto"):
        print(f"  settled={name}: median {statistics.median(r[name][0] for r in rows):.2f} s "
              f"a candidate")
    ratio = statistics.median(r["none"][0] / r["auto"][0] for r in rows)
    print(f"  every image / settled: {ratio:.2f}x (median of per-candidate ratios)")
    print(f"  settled score minus whole-split score: mean {statistics.mean(over):.3f}, "
          f"largest {max(over):.3f}, smallest {min(over):.3f} points")


if __name__ == "__main__":
    main()
