"""How fast the calibrated Pixel profile scores search candidates: candidates per second.

Compares the shipped per-part model (``hardware=pixel``) with MACs + a constant (the model
before issue 15, ``hardware.terms=[macs,one]``) on the same random candidates of the
MobileNetV3-Large space, in one process: new candidates (parts not seen before, a search's
first trials) and repeated ones (the same candidates again, as a search meets known parts).
Nothing is timed on a network: this times the prediction itself.

    PYTHONPATH=. python benchmarks/pixel_predict_speed.py
"""

import random
import time

from omegaconf import OmegaConf

from nas.arch import SearchSpace
from nas.cli import compose_config
from nas.hardware import load_hardware


def candidates(count: int, seed: int) -> list:
    space_cfg = compose_config("describe", ["space=mobilenet_v3_large"]).space
    space = SearchSpace.from_config(OmegaConf.to_container(space_cfg))
    rng = random.Random(seed)
    return [space.sample_random(rng) for _ in range(count)]


def per_second(function, specs) -> float:
    start = time.perf_counter()
    for spec in specs:
        function(spec)
    return len(specs) / (time.perf_counter() - start)


def rates(overrides: list[str], new: list, again: list) -> tuple[float, float]:
    hardware = load_hardware(OmegaConf.to_container(
        compose_config("profile", ["hardware=pixel", *overrides]).hardware))
    first = per_second(hardware.predict_ms, new)
    return first, per_second(hardware.predict_ms, again)


def main() -> None:
    rates([], *[candidates(100, 0)] * 2)  # warm-up: imports, configs, the shipped data
    # Each model gets candidates of its own (same sampler, other seeds): the key cache of
    # arch_keys is shared, so the second model would otherwise meet warm keys.
    macs_new, macs_again = rates(["hardware.terms=[macs,one]"], *[candidates(500, 1)] * 2)
    model_new, model_again = rates([], *[candidates(500, 2)] * 2)
    print(f"macs + one (before):    {macs_new:8.0f} new candidates/s, "
          f"{macs_again:8.0f} repeated/s")
    print(f"shipped per-part model: {model_new:8.0f} new candidates/s, "
          f"{model_again:8.0f} repeated/s")
    print(f"ratio shipped / before: {model_new / macs_new:.2f} (new), "
          f"{model_again / macs_again:.2f} (repeated)")


if __name__ == "__main__":
    main()
