"""What a Pixel phone pays per network part: the part's features and the measured Pixel 1 parts.

A part (``OpKey``: the stem, one block, the head) is described by counts in millions
(``part_vector``, names in ``PART_FEATURES``): the pointwise (1x1 and SE) MACs of a block, the
stem's MACs, the head's conv and classifier MACs; the depthwise MACs, those whose taps fall
inside the map (``valid_taps``: a 7x7 kernel on a 7x7 map mostly reads zero padding), the
depthwise MACs of kernels >= 5 and >= 7 (the extra rate of large kernels, cumulative so a 9x9
kernel pays at least the 7x7 rate), the depthwise input and output values; the activation
values read and written (``traffic``), the weights; the values an SE block pools and rescales
and a count of SE blocks; the values passed through h-swish; and a count of parts. The Pixel
model (``nas.hardware.pixel``) is a non-negative weighted sum of some of them.

The measured parts are ProxylessNAS's Pixel 1 latency table (Cai et al. 2019, "ProxylessNAS",
ICLR; mit-han-lab, MIT license, see ``data/LICENSE-proxylessnas``): 72 rows of its space (ReLU6
MBConv blocks with kernel 3/5/7 and expansion 3/6 at every input shape of the space, the stem,
the head and the logits), read as 71 parts (our head holds the logits), timed in ProxylessNAS's
own app set-up. ``proxyless_networks`` samples random networks of that space as lists of
measured parts: their measured sum is the reference the model's ranking is checked against.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from nas.arch.space import expansion_width
from nas.errors import NasError
from nas.hardware.keys import OpKey
from nas.model.blocks import se_width

DATA = Path(__file__).resolve().parent / "data"
MEASURED_CSV = DATA / "proxylessnas_pixel1_parts.csv"
LICENSE = DATA / "LICENSE-proxylessnas"
MILLION = 1e6
# Passes over its tensor that an h-swish adds to ``traffic``. TFLite runs HARD_SWISH as an op
# of its own (its convs fuse only ReLU-like activations), which would read and write the tensor
# once: 1. But Table 3 says otherwise: 1 or 2 passes raise every held-out error
# (``benchmarks/pixel_terms.py``), so h-swish is left to its own term, fitted on Table 3.
HSWISH_PASSES = 0


class PartsError(NasError):
    """The shipped measured-parts table is unreadable."""


@cache
def valid_taps(size: int, kernel: int, stride: int) -> int:
    """Kernel taps that land inside a ``size``-long input (same padding), summed over the
    outputs of one row: a 7x7 kernel on a 7x7 map has most of its taps on the zero padding."""
    pad, outputs = kernel // 2, -(-size // stride)
    return sum(min(size, i * stride + pad + 1) - max(0, i * stride - pad)
               for i in range(outputs))


# --- features of one part ---------------------------------------------------------------------
def _block(key: OpKey) -> dict[str, float]:
    size_in, size_out = key.resolution ** 2, key.out_resolution ** 2
    width = key.expand if key.op == "ir" else key.in_ch
    expand = key.op == "ir" and key.expand != key.in_ch
    pointwise = (key.in_ch * width * size_in if expand else 0.0) + width * key.out * size_out
    depthwise = key.kernel ** 2 * width * size_out
    traffic = key.in_ch * size_in + 2 * width * size_out + key.out * size_out
    traffic += 2 * width * size_in if expand else 0.0
    traffic += key.out * size_out if key.residual else 0.0  # the residual add reads the input
    activated = (width * size_in if expand else 0.0) + width * size_out
    if key.op == "ds":  # MobileNetV1: the pointwise conv has its activation too
        activated += key.out * size_out
    weights = (key.in_ch * width if expand else 0.0) + width * key.out + key.kernel ** 2 * width
    features = {"pointwise": pointwise, "depthwise": depthwise, "depthwise_values":
                width * size_out, "traffic": traffic, "weights": weights}
    # The extra rate of large kernels, cumulative: a 9x9 kernel pays at least the 7x7 rate.
    features["depthwise_k5"] = depthwise if key.kernel >= 5 else 0.0
    features["depthwise_k7"] = depthwise if key.kernel >= 7 else 0.0
    features["depthwise_valid"] = width * valid_taps(key.resolution, key.kernel, key.stride) ** 2
    features["depthwise_input"] = width * size_in
    if key.se:
        features["pointwise"] += 2 * width * se_width(width)
        features["weights"] += 2 * width * se_width(width)
        features["se"] = width * size_out  # pooled, then rescaled: two passes over the tensor
        features["traffic"] += 2 * width * size_out
        features["se_blocks"] = MILLION  # one more small op chain per SE block (counted as 1)
    if key.act == "hswish":
        features["hswish"] = activated
        features["traffic"] += HSWISH_PASSES * activated
    return features


def _stem(key: OpKey) -> dict[str, float]:
    pixels = key.out_resolution ** 2
    features = {"stem": key.kernel ** 2 * key.in_ch * key.out * pixels,
                "weights": key.kernel ** 2 * key.in_ch * key.out,
                "traffic": key.in_ch * key.resolution ** 2 + key.out * pixels}
    if key.act == "hswish":
        features["hswish"] = key.out * pixels
        features["traffic"] += HSWISH_PASSES * features["hswish"]
    return features


def _head(key: OpKey) -> dict[str, float]:
    pixels = key.resolution ** 2
    pooled = key.out or key.in_ch
    classifier = pooled * key.features + (key.features or pooled) * key.classes
    weights = key.in_ch * key.out + classifier
    features = {"head": key.in_ch * key.out * pixels, "classifier": classifier,
                "weights": weights,
                "traffic": key.in_ch * pixels + (key.out * pixels if key.out else 0)}
    if key.act == "hswish":
        features["hswish"] = (key.out * pixels if key.out else 0) + key.features
        features["traffic"] += HSWISH_PASSES * features["hswish"]
    return features


def _identity(key: OpKey) -> dict[str, float]:
    """NAS-Bench-Macro's Identity: nothing at stride 1 and equal widths (``part_vector`` gives
    it no part overhead either); else a 1x1 conv + BN, a pointwise conv like a block's."""
    if key.stride == 1 and key.in_ch == key.out:
        return {}
    pixels = key.out_resolution ** 2
    return {"pointwise": key.in_ch * key.out * pixels, "weights": key.in_ch * key.out,
            "traffic": key.in_ch * key.resolution ** 2 + key.out * pixels}


_BY_OP = {"stem": _stem, "ir": _block, "ds": _block, "id": _identity, "head": _head}
# Every part-level feature, in the order of ``part_vector``. "macs" (all of a part's MACs) is
# there so that MACs alone is a model like any other (the baseline every table compares to).
PART_FEATURES = ("pointwise", "stem", "head", "classifier", "depthwise", "depthwise_valid",
                 "depthwise_k5", "depthwise_k7", "depthwise_input", "depthwise_values",
                 "traffic", "weights", "se", "se_blocks", "hswish", "part", "macs")


@cache
def part_vector(key: OpKey) -> np.ndarray:
    """The part's ``PART_FEATURES``, in millions (the per-part and per-SE counts as 1)."""
    features = _BY_OP[key.op](key)
    if not features:  # a no-op costs nothing, not even a part's overhead
        return np.zeros(len(PART_FEATURES))
    features["part"] = MILLION
    features["macs"] = sum(features.get(name, 0.0) for name in
                           ("pointwise", "depthwise", "stem", "head", "classifier"))
    return np.array([features.get(name, 0.0) for name in PART_FEATURES]) / MILLION


def macs(key: OpKey) -> float:
    """Multiply-adds of the part in millions (as ``nas.cost`` counts them)."""
    return float(part_vector(key)[PART_FEATURES.index("macs")])


# --- the measured Pixel 1 parts -----------------------------------------------------------------
@dataclass(frozen=True)
class MeasuredPart:
    """One part of ProxylessNAS's Pixel 1 table: its key, mean ms there and its shape group."""

    key: OpKey
    ms: float
    shape: str  # parts differing only in kernel and expansion share a shape (one CV fold)
    kernel: int
    ratio: int


def _part_key(row: dict) -> OpKey:
    in_ch, out = int(row["in_ch"]), int(row["out_ch"])
    resolution = int(row["in_res"])
    if row["part"] == "stem":
        return OpKey(op="stem", resolution=resolution, in_ch=in_ch, out=out, kernel=3,
                     stride=int(row["stride"]), act="relu6")
    if row["part"] == "head":
        return OpKey(op="head", resolution=resolution, in_ch=in_ch, out=out, act="relu6",
                     classes=1000)
    return OpKey(op="ir", resolution=resolution, in_ch=in_ch, out=out,
                 expand=expansion_width(in_ch, int(row["expand"])), kernel=int(row["kernel"]),
                 stride=int(row["stride"]), act="relu6")


@cache
def measured_parts() -> tuple[MeasuredPart, ...]:
    """The 72 rows of ``data/proxylessnas_pixel1_parts.csv`` as 71 parts (head + logits is one)."""
    try:
        with open(MEASURED_CSV, newline="") as handle:
            rows = list(csv.DictReader(line for line in handle if not line.startswith("#")))
        logits = sum(float(r["mean_ms"]) for r in rows if r["part"] == "logits")
        parts = []
        for row in rows:
            if row["part"] == "logits":
                continue
            ms = float(row["mean_ms"]) + (logits if row["part"] == "head" else 0.0)
            shape = f"{row['part']} {row['in_res']}x{row['in_ch']}->{row['out_ch']} " \
                    f"s{row['stride'] or 1}"
            parts.append(MeasuredPart(_part_key(row), ms, shape, int(row["kernel"] or 1),
                                      int(row["expand"] or 1)))
    except (OSError, KeyError, ValueError, NasError) as error:
        raise PartsError(f"{MEASURED_CSV} is unreadable: {error}") from None
    if len(parts) != 71 or not all(p.ms > 0 for p in parts):
        raise PartsError(f"{MEASURED_CSV}: expected 71 parts with positive times")
    return tuple(parts)


def shapes() -> list[str]:
    return list(dict.fromkeys(p.shape for p in measured_parts()))


# ProxylessNAS's space (Cai et al. 2019): stem 32, a fixed MB1 block to 16 (kernel searched in
# this table), then stages (width, blocks, first stride); each block picks kernel 3/5/7 and
# expansion 3/6, and every block after a stage's first may also be a zero op (skipped).
PROXYLESS_STAGES = ((24, 4, 2), (40, 4, 2), (80, 4, 2), (96, 4, 1), (192, 4, 2), (320, 1, 1))
CHOICES = tuple((kernel, ratio) for ratio in (3, 6) for kernel in (3, 5, 7))


def proxyless_networks(count: int, seed: int) -> list[list[int]]:
    """``count`` random networks of the ProxylessNAS space, each as indices into
    ``measured_parts()``; a zero op is drawn as often as each of the six block choices."""
    parts = measured_parts()
    index = {(p.key.resolution, p.key.in_ch, p.key.out, p.key.op, p.kernel, p.ratio): i
             for i, p in enumerate(parts)}
    rng = random.Random(seed)
    networks = []
    for _ in range(count):
        net = [index[(224, 3, 32, "stem", 3, 1)],
               index[(112, 32, 16, "ir", rng.choice((3, 5, 7)), 1)]]
        size, width = 112, 16
        for out, blocks, stride in PROXYLESS_STAGES:
            for position in range(blocks):
                first = position == 0
                choice = rng.randrange(len(CHOICES) + (0 if first else 1))
                if choice < len(CHOICES):
                    kernel, ratio = CHOICES[choice]
                    net.append(index[(size, width, out, "ir", kernel, ratio)])
                if first:
                    size, width = size // stride, out
        net.append(index[(7, 320, 1280, "head", 1, 1)])
        networks.append(net)
    return networks


def kendall_tau(a, b) -> float:
    """Kendall's tau-b of two equally long sequences (ties counted as neither)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    da = np.sign(a[:, None] - a[None, :])
    db = np.sign(b[:, None] - b[None, :])
    concordant = float(np.sum(da * db)) / 2
    pairs_a, pairs_b = float(np.sum(da != 0)) / 2, float(np.sum(db != 0)) / 2
    return concordant / np.sqrt(pairs_a * pairs_b)
