"""Candidates scored per second (MACs + params) with the per-part cache, against a whole-network
fvcore trace per candidate, in the same process.

    python benchmarks/score_speed.py [--space mobilenet_v3_large] [--n 300] [--seed 0]
"""

from __future__ import annotations

import argparse
import random
import time
import warnings

import torch

from nas.cli import load_space
from nas.cost import arch_cost
from nas.cost.counter import FlopCountAnalysis
from nas.model import build_model


def whole_network_macs(spec) -> int:
    model = build_model(spec).eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis = FlopCountAnalysis(model, torch.zeros(1, 3, spec.resolution, spec.resolution))
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        by_op = analysis.by_operator()
    return by_op["conv"] + by_op["linear"]


def rate(function, specs) -> float:
    start = time.perf_counter()
    for spec in specs:
        function(spec)
    return len(specs) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--space", default="mobilenet_v3_large")
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    space = load_space(args.space)
    rng = random.Random(args.seed)
    specs = [space.sample_random(rng) for _ in range(args.n)]

    cold = rate(arch_cost, specs)
    fresh = [space.sample_random(rng) for _ in range(args.n)]
    warm_new = rate(arch_cost, fresh)  # new candidates, blocks mostly seen before
    warm_same = rate(arch_cost, specs)  # every part cached
    baseline = rate(whole_network_macs, specs[:20])
    for spec in specs[:5]:
        assert arch_cost(spec).macs == whole_network_macs(spec)
    print(f"space={args.space} candidates={args.n} threads=1")
    print(f"whole-network fvcore trace: {baseline:10.1f} candidates/s (baseline)")
    print(f"per-part cache, cold:       {cold:10.1f} candidates/s ({cold / baseline:.1f}x)")
    print(f"per-part cache, new archs:  {warm_new:10.1f} candidates/s ({warm_new / baseline:.1f}x)")
    print(f"per-part cache, warm:       {warm_same:10.1f} candidates/s "
          f"({warm_same / baseline:.0f}x)")


if __name__ == "__main__":
    main()
