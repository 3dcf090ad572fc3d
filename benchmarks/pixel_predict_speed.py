"""How fast the calibrated Pixel profile predicts: per call, new and repeated candidates.

Baseline: a plain sum of the same parts looked up in the shipped local table (the least any
table-based predictor can do), in the same process on the same candidates.

    PYTHONPATH=. python benchmarks/pixel_predict_speed.py
"""

import random
import time

from omegaconf import OmegaConf

from nas.arch import SearchSpace
from nas.cli import compose_config
from nas.hardware import arch_keys, load_hardware
from nas.hardware.pixel import local_times


def candidates(count: int, seed: int) -> list:
    space_cfg = compose_config("describe", ["space=mobilenet_v3_large"]).space
    space = SearchSpace.from_config(OmegaConf.to_container(space_cfg))
    rng = random.Random(seed)
    return [space.sample_random(rng) for _ in range(count)]


def per_call_us(function, specs) -> float:
    start = time.perf_counter()
    for spec in specs:
        function(spec)
    return 1e6 * (time.perf_counter() - start) / len(specs)


def main() -> None:
    hardware = load_hardware(OmegaConf.to_container(
        compose_config("profile", ["hardware=pixel"]).hardware))
    local = local_times()
    new, warm = candidates(500, seed=1), candidates(500, seed=2)
    for spec in warm:
        hardware.predict_ms(spec)
    baseline = per_call_us(lambda s: sum(local.ms(k)[0] for k in arch_keys(s)), new)
    cold = per_call_us(hardware.predict_ms, candidates(500, seed=3))
    repeated = per_call_us(hardware.predict_ms, warm)
    print(f"plain table sum, new candidates:  {baseline:8.1f} us/call (baseline)")
    print(f"pixel predict_ms, new candidates: {cold:8.1f} us/call ({cold / baseline:.2f}x)")
    print(f"pixel predict_ms, repeated:       {repeated:8.1f} us/call ({repeated / baseline:.2f}x)")


if __name__ == "__main__":
    main()
