"""Ways to validate a supernet's subnet faster that were tried and not taken, against the
evaluator's own (BN folded, CPU bf16 autocast): README "Seconds per candidate".

For ``--candidates`` seeded random networks of the default space, each extracted from the
shipped supernet with its BN recalibrated once, times validation on the whole split (10,000
images) by every path in turn, in this process:

* autocast: the folded network under CPU bf16 autocast (what ``evaluator.precision=auto``
  does on a CPU with native bf16; the baseline of the ratios);
* float32: the folded network in float32;
* bf16 weights: the folded network cast to bf16, fed bf16 images (no autocast);
* oneDNN bf16 math: float32 tensors, convolutions computed in bf16
  (``torch.backends.mkldnn.conv.fp32_precision = "bf16"``);
* flush denormals: autocast with ``torch.set_flush_denormal(True)``;
* TorchScript: ``torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(...)))``
  in float32, its build time printed apart (a search pays it once per candidate).

Prints each path's median seconds, its ratio to autocast, and the largest accuracy difference
from autocast in points; then, from ``torch.profiler`` on the first network's autocast
validation, the share of CPU time its convolutions take. Wall seconds: run it on an idle
machine to quote it.

    PYTHONPATH=. python benchmarks/supernet_scoring_variants.py [--threads 1] [--candidates 4]
"""

import argparse
import copy
import random
import statistics
import time
import warnings

import torch

from benchmarks.scorer import build_scorer
from nas.evaluate.training import prepare
from nas.model.fold import fold_batch_norm


def correct_share(model, val, dtype=torch.float32, batch_size: int = 500) -> float:
    """Top-1 accuracy on ``val``, images as ``dtype`` in channels-last."""
    correct = 0
    with torch.inference_mode():
        for start in range(0, len(val), batch_size):
            images = prepare(val, val.images[start:start + batch_size], val.size, True)
            logits = model(images.to(dtype))
            correct += (logits.argmax(1) == val.labels[start:start + batch_size]).sum().item()
    return correct / len(val)


def autocast(model, val) -> float:
    with torch.autocast("cpu", dtype=torch.bfloat16):
        return correct_share(model, val)


def bf16_weights(model, val) -> float:
    return correct_share(model, val, torch.bfloat16)


def onednn_bf16_math(model, val) -> float:
    torch.backends.mkldnn.conv.fp32_precision = "bf16"
    try:
        return correct_share(model, val)
    finally:
        torch.backends.mkldnn.conv.fp32_precision = "none"


def flush_denormals(model, val) -> float:
    torch.set_flush_denormal(True)
    try:
        return autocast(model, val)
    finally:
        torch.set_flush_denormal(False)


def torchscript(model, val):
    """The frozen, inference-optimised trace; returns (build seconds, accuracy function)."""
    started = time.perf_counter()
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        example = prepare(val, val.images[:500], val.size, True)
        frozen = torch.jit.optimize_for_inference(
            torch.jit.freeze(torch.jit.trace(copy.deepcopy(model), example)))
        frozen(example)
    return time.perf_counter() - started, frozen


def convolution_share(model, val) -> float:
    """The share of autocast validation's self CPU time spent in convolution kernels."""
    from torch.profiler import profile

    with profile() as profiler:
        autocast(model, val)
    events = profiler.key_averages()
    total = sum(event.self_cpu_time_total for event in events)
    convolutions = sum(event.self_cpu_time_total for event in events
                       if "convolution" in event.key)
    return convolutions / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--candidates", type=int, default=4)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    evaluator, space = build_scorer("config", ["evaluator.precision=float32"])
    val, rng = evaluator.data.val, random.Random(4)
    rows: dict[str, list[tuple[float, float]]] = {}
    builds, share = [], None
    for _ in range(args.candidates):
        model = fold_batch_norm(evaluator.subnet(space.sample_random(rng)))
        share = convolution_share(model, val) if share is None else share
        as_bf16 = copy.deepcopy(model).to(torch.bfloat16)
        build, frozen = torchscript(model, val)
        builds.append(build)
        paths = [("autocast", autocast, model), ("float32", correct_share, model),
                 ("bf16 weights", bf16_weights, as_bf16),
                 ("oneDNN bf16 math", onednn_bf16_math, model),
                 ("flush denormals", flush_denormals, model),
                 ("TorchScript (float32)", correct_share, frozen)]
        for name, score_on, network in paths:
            started = time.perf_counter()
            score = score_on(network, val)
            rows.setdefault(name, []).append((time.perf_counter() - started, score))
    base = statistics.median(seconds for seconds, _ in rows["autocast"])
    print(f"{args.candidates} random networks of {space.name}, validation on {len(val)} images, "
          f"{args.threads} thread(s)")
    for name, results in rows.items():
        median = statistics.median(seconds for seconds, _ in results)
        moved = max(abs(score - ref[1]) for (_, score), ref in zip(results, rows["autocast"]))
        print(f"  {name}: median {median:.2f} s, {median / base:.2f}x autocast's time, "
              f"accuracy differs from autocast by at most {100 * moved:.2f} points")
    print(f"  TorchScript build: median {statistics.median(builds):.2f} s a network")
    print(f"  convolutions: {100 * share:.0f}% of the first network's autocast validation "
          "(CPU time, torch.profiler)")


if __name__ == "__main__":
    main()
