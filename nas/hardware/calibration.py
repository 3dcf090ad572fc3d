"""Calibration networks: whole networks measured end to end to fit a table's additivity
correction (``nas.hardware.table.fit_correction``), never the networks a validation scores.

Random networks of a space, the i-th thinned by ``CALIBRATION_WIDTHS[i % 4]``. The correction
is fitted on (summed parts, whole network) pairs; networks of one space alone span a narrow
latency range (6-12.5 ms on this CPU for mobilenet_v3_large), so a fit on them extrapolated
badly to 1.5-2 ms networks, where each part's per-call overhead weighs most (V3-Small read
+12%). Thinner copies of the space's networks cover the small end without using any
validation network.
"""

from __future__ import annotations

import dataclasses
import random

from nas.arch import ArchSpec, SearchSpace
from nas.arch.channels import make_divisible

CALIBRATION_WIDTHS = (1.0, 0.5, 0.75, 0.35)


def scale_width(spec: ArchSpec, width: float) -> ArchSpec:
    """``spec`` with every channel count times ``width`` (MobileNet's rounding to 8); a block
    without an expansion conv keeps none, since equal widths scale to equal widths."""
    if width == 1.0:
        return spec
    scale = lambda channels: make_divisible(channels * width)  # noqa: E731
    stem = dataclasses.replace(spec.stem, out=scale(spec.stem.out))
    blocks = [dataclasses.replace(b, expand=scale(b.expand), out=scale(b.out))
              for b in spec.blocks]
    head = dataclasses.replace(spec.head, conv=scale(spec.head.conv) if spec.head.conv else 0)
    return dataclasses.replace(spec, stem=stem, blocks=tuple(blocks), head=head)


def calibration_specs(space: SearchSpace, count: int, seed: int) -> list[ArchSpec]:
    """``count`` random networks of the space (seed apart from validate's), the i-th thinned by
    ``CALIBRATION_WIDTHS[i % 4]``."""
    rng = random.Random(seed)
    return [scale_width(space.sample_random(rng), CALIBRATION_WIDTHS[i % len(CALIBRATION_WIDTHS)])
            for i in range(count)]


def width_family(spec: ArchSpec, count: int) -> list[ArchSpec]:
    """Calibration networks when no space is known (``describe`` of one network): ``spec``
    thinned by each width in turn, then by ever thinner factors, distinct networks only."""
    widths = list(CALIBRATION_WIDTHS) + [0.25, 0.6, 0.85, 0.4, 0.3]
    family = list(dict.fromkeys(scale_width(spec, width) for width in widths))
    return family[:count]
