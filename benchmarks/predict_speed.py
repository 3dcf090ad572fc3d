"""Latency predictions per second from a measured table, against the fvcore MAC count of the
same candidates (the cost a search already pays), in the same process. Needs the table built by
``python -m nas.profile hardware=cpu``; measures nothing (on_demand off).

    python benchmarks/predict_speed.py [--n 1000] [--seed 0]
"""

from __future__ import annotations

import argparse
import random
import time

from omegaconf import OmegaConf

from nas.cli import compose_config, load_space
from nas.cost import arch_cost
from nas.hardware import load_hardware


def per_call_us(function, specs) -> float:
    start = time.perf_counter()
    for spec in specs:
        function(spec)
    return (time.perf_counter() - start) / len(specs) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    space = load_space("mobilenet_v3_large")
    rng = random.Random(args.seed)
    specs = [space.sample_random(rng) for _ in range(args.n)]
    cfg = OmegaConf.to_container(compose_config("profile", ["hardware=cpu"]).hardware)
    hardware = load_hardware(cfg | {"on_demand": False})
    macs = per_call_us(arch_cost, specs[: max(1, args.n // 10)])
    cold = per_call_us(hardware.predict_ms, specs)
    warm = per_call_us(hardware.predict_ms, specs)
    print(f"fvcore MACs (per-part cache, cold):  {macs:9.1f} us/candidate (baseline)")
    print(f"predict_ms, new candidates:          {cold:9.1f} us/candidate ({macs / cold:.0f}x)")
    print(f"predict_ms, seen candidates:         {warm:9.1f} us/candidate ({macs / warm:.0f}x)")


if __name__ == "__main__":
    main()
