"""Experiment behind "What was tried" in the README's Pixel section: per-op-class local times.

Times every op of the nine published networks alone on this CPU (ONNX Runtime, one thread, the
harness of ``nas.hardware.timing``), sums them per class (pointwise 1x1 convs and the stem,
depthwise, SE plus the pooled tail), fits per-class factors to the published Pixel latencies and
prints the leave-one-out error of each model next to MACs + constant. Run it under the CPU lock
with the malloc settings of the measuring child:

    flock /tmp/nas-cpu.lock env MALLOC_MMAP_THRESHOLD_=67108864 \\
        MALLOC_TRIM_THRESHOLD_=134217728 OMP_NUM_THREADS=1 \\
        PYTHONPATH=. python benchmarks/pixel_per_op_classes.py
"""

import math

import numpy as np
import torch
from torch import nn

from nas.hardware.pixel import PHONES, fit, published_networks
from nas.hardware.pixel_parts import macs as part_macs
from nas.hardware.table import cached_keys
from nas.hardware.timing import TimingSettings, time_module
from nas.model import build_model

# the protocol its README figures were measured with (before the adaptive one)
SETTINGS = TimingSettings(backend="onnxruntime", threads=1, target_s=0.1, protocol="fixed")


class Tail(nn.Module):
    """Pool, pre-classifier layer and classifier of a built network."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self.model
        return m.classifier(m.features(torch.flatten(m.pool(x), 1)))


def class_times(spec) -> dict[str, float]:
    """ms per op class of ``spec`` at 224x224, each op timed alone."""
    model = build_model(spec).eval()
    sums: dict[str, float] = {}

    def time(cls: str, module: nn.Module, shape: tuple) -> None:
        sums[cls] = sums.get(cls, 0.0) + time_module(module.eval(), shape, SETTINGS).median_ms

    time("stem", model.stem, (1, 3, 224, 224))
    size = 112
    for block, block_spec, in_ch in zip(model.blocks, spec.blocks, spec.in_channels()):
        out_size = math.ceil(size / block_spec.stride)
        if not isinstance(block.expand, nn.Identity):
            time("pointwise", block.expand, (1, in_ch, size, size))
        time("depthwise", block.depthwise, (1, block_spec.expand, size, size))
        if not isinstance(block.se, nn.Identity):
            time("se", block.se, (1, block_spec.expand, out_size, out_size))
        time("pointwise", block.project, (1, block_spec.expand, out_size, out_size))
        size = out_size
    if not isinstance(model.head, nn.Identity):
        time("pointwise", model.head, (1, spec.blocks[-1].out, size, size))
    time("tail", Tail(model), (1, spec.head.conv or spec.blocks[-1].out, size, size))
    return sums


def loo(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    errors = []
    for i in range(len(y)):
        others = np.arange(len(y)) != i
        errors.append((x[i] @ fit(x[others], y[others]) - y[i]) / y[i])
    return 100 * np.abs(errors)


def main() -> None:
    torch.set_num_threads(1)
    networks = published_networks()
    times = []
    for network in networks:
        times.append(class_times(network.spec))
        print(network.label, {k: round(v, 3) for k, v in times[-1].items()}, flush=True)
    col = lambda *classes: np.array([sum(t.get(c, 0.0) for c in classes) for t in times])  # noqa: E731
    pointwise, depthwise, other = col("pointwise", "stem"), col("depthwise"), col("se", "tail")
    one = np.ones(len(networks))
    macs = np.array([sum(part_macs(k) for k in cached_keys(n.spec, 1000)) for n in networks])
    models = {"pointwise + depthwise": [pointwise, depthwise],
              "pointwise + depthwise + other": [pointwise, depthwise, other],
              "pointwise + depthwise + one": [pointwise, depthwise, one],
              "sum of ops + one": [pointwise + depthwise + other, one],
              "macs + one": [macs, one]}
    for phone in PHONES:
        y = np.array([n.latency_ms[phone] for n in networks])
        for name, columns in models.items():
            x = np.column_stack(columns)
            errors = loo(x, y)
            print(f"{phone} {name:30s} loo_mape_pct={errors.mean():.2f} "
                  f"worst_pct={errors.max():.1f} coef={np.round(fit(x, y), 3).tolist()}")


if __name__ == "__main__":
    main()
