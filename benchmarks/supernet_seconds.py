"""Seconds per candidate of ``evaluator=supernet`` at its default settings.

Builds a MobileNetV3-Small-space supernet for Fashion-MNIST with one training step (the timing
does not depend on the weights' quality), then scores the space's smallest and largest networks
and ``--candidates`` seeded random ones: subnet extraction, BN recalibration on 2,000 training
images, accuracy on 2,000 validation images. Prints the median, mean and largest seconds per
candidate and how they split. A wall-clock figure: run it on an idle machine to quote it.

    PYTHONPATH=. python benchmarks/supernet_seconds.py [--threads 2] [--candidates 10]
"""

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import torch
from omegaconf import OmegaConf

from nas.arch import SearchSpace
from nas.cli import compose_config
from nas.evaluate.training import accuracy
from nas.search.evaluators import make_search_evaluator
from nas.supernet.__main__ import main as train_main


def make_file(space: str, out: Path) -> None:
    cfg = compose_config("supernet", [f"space={space}", "steps=1", "train_images=256",
                                      "score_bn_images=64", "score_val_images=64", f"out={out}"])
    train_main(cfg)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--candidates", type=int, default=10)
    parser.add_argument("--space", default="mobilenet_v3_small")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "supernet.pt"
        make_file(args.space, path)
        cfg = compose_config("rank", [f"space={args.space}", "evaluator=supernet",
                                      f"evaluator.path={path}"])
        evaluator = make_search_evaluator(OmegaConf.to_container(cfg.data),
                                          OmegaConf.to_container(cfg.evaluator), seed=0)
        space = SearchSpace.from_config(OmegaConf.to_container(cfg.space))
        net = evaluator.supernet
        rng = random.Random(0)
        specs = [net.smallest(), net.largest()] + \
            [space.sample_random(rng) for _ in range(args.candidates)]
        rows = []
        for spec in specs:
            started = time.perf_counter()
            model = net.subnet(spec)
            extracted = time.perf_counter()
            model = evaluator.subnet(spec)  # extraction again + BN recalibration
            recalibrated = time.perf_counter()
            accuracy(model, evaluator.data.val, batch_size=evaluator.eval_batch_size)
            done = time.perf_counter()
            extract = extracted - started
            rows.append((extract, recalibrated - extracted - extract, done - recalibrated))
    totals = [sum(row) for row in rows]
    print(f"space {args.space}, {len(specs)} candidates (smallest, largest, "
          f"{args.candidates} random), {args.threads} threads, bn_images "
          f"{evaluator.bn_images}, val images {len(evaluator.data.val)}")
    print(f"seconds per candidate: median {statistics.median(totals):.2f}, mean "
          f"{statistics.mean(totals):.2f}, max {max(totals):.2f} (smallest {totals[0]:.2f}, "
          f"largest {totals[1]:.2f})")
    for name, column in zip(("extraction", "BN recalibration", "validation"), zip(*rows)):
        print(f"  {name}: mean {statistics.mean(column):.2f} s")


if __name__ == "__main__":
    main()
