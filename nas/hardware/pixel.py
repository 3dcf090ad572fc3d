"""The Pixel phones as latency targets, calibrated from published figures (no phone here).

The MobileNetV3 paper (Howard et al. 2019, Table 3) gives the fp32 latency of nine networks on
Pixel 1, 2 and 3 (one large core, batch 1, TFLite benchmark tool). A phone's latency for any
other network is predicted by a small linear model over whole-network features,

    phone_ms = sum_j coef_j * feature_j(network),

fitted at load time by non-negative least squares on relative error over the published networks
(nine points: two or three terms, never more). Its quality is the leave-one-out error: each
network predicted by the model fitted to the other eight. Features (``FEATURES``):

* ``macs``: multiply-accumulates in millions (convolutions and linear layers, BN folded),
  counted from each part's shapes; ``dense_macs`` and ``depthwise_macs`` split them by op class.
* ``traffic``: activation values read and written by the parts' layers, in millions.
* ``local_ms``: the sum of the network's parts (stem, each block, head) timed on the machine that
  built this package: ONNX Runtime, one thread, batch 1, the ``cpu`` profile's backend. The table
  of every part the spaces in ``conf/space/`` and the presets can produce ships in ``data/``;
  a part it lacks gets its local time from a per-op-type regression on MACs and traffic fitted
  on that table. Either way nothing is measured on the user's machine.
* ``one``: a constant per network (the interpreter's fixed cost per invocation).

``TERMS`` is the candidate of ``CANDIDATE_TERMS`` with the lowest leave-one-out error on Pixel 1
(fewer terms on a tie): ``macs + one``. The local times were offered and lost: alone they give
7.7% leave-one-out error against 4.0%, and next to MACs the non-negative fit gives them weight 0
on all three phones. This CPU overstates large depthwise kernels relative to the phone
(ProxylessNAS mobile, 5x5/7x7 kernels: 1.29x MnasNet-A1's local time, 1.01x its Pixel 1 time).
``python -m nas.profile hardware=pixel`` prints the comparison; a profile's ``terms`` picks
another model.

``imported`` tables (``python -m nas.profile hardware=pixel import=CSV``) replace the calibrated
model with per-part times measured on a real phone.
"""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from nas.arch import PRESETS, ArchSpec
from nas.errors import NasError
from nas.hardware.keys import OpKey
from nas.hardware.profiles import KINDS, Hardware, default_table_path
from nas.hardware.table import LatencyTable, TableError, cached_keys
from nas.model.blocks import se_width

DATA = Path(__file__).resolve().parent / "data"
PUBLISHED_CSV = DATA / "published_pixel_latency.csv"
LOCAL_TABLE = DATA / "pixel_local_parts.csv"
PHONES = {"pixel1": "pixel1_ms", "pixel2": "pixel2_ms", "pixel3": "pixel3_ms"}
# The model: the lowest leave-one-out error on Pixel 1 among CANDIDATE_TERMS, fewer terms on a
# tie (tests/hardware/test_pixel.py checks it); `python -m nas.profile hardware=pixel` prints all.
TERMS = ("macs", "one")
CANDIDATE_TERMS = (
    ("local_ms",), ("local_ms", "one"), ("local_ms", "macs"), ("local_ms", "macs", "one"),
    ("local_ms", "depthwise_macs", "one"), ("local_ms", "traffic", "one"),
    ("macs",), ("macs", "one"), ("dense_macs", "depthwise_macs", "one"),
    ("macs", "traffic", "one"),
)


class PixelError(NasError):
    """A Pixel profile that cannot be built (bad phone name, corrupt shipped data)."""


# --- what a part costs, from its shapes alone -------------------------------------------------
@dataclass(frozen=True)
class PartShape:
    """Analytic cost of one part: MACs (dense and depthwise) and activation memory traffic."""

    dense_macs: float
    depthwise_macs: float
    traffic: float  # activation values read and written by the part's layers

    @property
    def macs(self) -> float:
        return self.dense_macs + self.depthwise_macs


def _stem_shape(key: OpKey) -> PartShape:
    pixels = key.out_resolution ** 2
    return PartShape(key.kernel ** 2 * key.in_ch * key.out * pixels, 0.0,
                     key.in_ch * key.resolution ** 2 + key.out * pixels)


def _block_shape(key: OpKey) -> PartShape:
    size_in, size_out = key.resolution ** 2, key.out_resolution ** 2
    width = key.expand if key.op == "ir" else key.in_ch
    expand = key.op == "ir" and key.expand != key.in_ch
    dense = key.in_ch * width * size_in if expand else 0.0
    dense += width * key.out * size_out
    traffic = key.in_ch * size_in + 2 * width * size_out + key.out * size_out
    if expand:
        traffic += 2 * width * size_in
    if key.se:
        dense += 2 * width * se_width(width)
        traffic += 2 * width * size_out
    return PartShape(dense, key.kernel ** 2 * width * size_out, traffic)


def _head_shape(key: OpKey) -> PartShape:
    pixels = key.resolution ** 2
    pooled = key.out or key.in_ch
    dense = key.in_ch * key.out * pixels + pooled * key.features
    dense += (key.features or pooled) * key.classes
    return PartShape(dense, 0.0, key.in_ch * pixels + (key.out * pixels if key.out else 0))


def _identity_shape(key: OpKey) -> PartShape:
    """Nothing at stride 1 and equal widths; else a 1x1 conv (NAS-Bench-Macro's downsample)."""
    if key.stride == 1 and key.in_ch == key.out:
        return PartShape(0.0, 0.0, 0.0)
    pixels = key.out_resolution ** 2
    return PartShape(key.in_ch * key.out * pixels, 0.0,
                     key.in_ch * key.resolution ** 2 + key.out * pixels)


SHAPES = {"stem": _stem_shape, "ir": _block_shape, "ds": _block_shape, "id": _identity_shape,
          "head": _head_shape}


@cache
def part_shape(key: OpKey) -> PartShape:
    return SHAPES[key.op](key)


# --- local time of a part: the shipped table, else a regression on its shape ------------------
def _regressors(shape: PartShape) -> list[float]:
    return [shape.dense_macs / 1e6, shape.depthwise_macs / 1e6, shape.traffic / 1e6, 1.0]


class LocalTimes:
    """Local ms per part: measured where the shipped table has it, estimated otherwise."""

    def __init__(self, table: LatencyTable) -> None:
        self.table = table
        self._fits: dict[str, np.ndarray] = {}
        frame = table.frame
        for op, rows in frame.groupby("op"):
            keys = [OpKey.from_row(row) for row in rows.to_dict("records")]
            x = np.array([_regressors(part_shape(key)) for key in keys])
            y = np.array([table.ms(key) for key in keys])
            self._fits[op] = nonnegative_lstsq(x / y[:, None], np.ones(len(y)))
        if set(self._fits) < {"stem", "ir", "head"}:
            raise PixelError(f"{LOCAL_TABLE} lacks stem, block or head parts")

    def ms(self, key: OpKey) -> tuple[float, bool]:
        """(local ms, whether it was estimated rather than measured)."""
        if key in self.table:
            return self.table.ms(key), False
        return self.estimate(key), True

    def estimate(self, key: OpKey) -> float:
        coef = self._fits.get(key.op, self._fits["ir"])
        return max(float(np.dot(_regressors(part_shape(key)), coef)), 1e-3)


# --- the model ----------------------------------------------------------------------------------
def nonnegative_lstsq(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """argmin ||x c - y||, c >= 0, by trying every subset of columns (there are at most four)."""
    best, best_residual = np.zeros(x.shape[1]), math.inf
    columns = range(x.shape[1])
    for size in range(1, x.shape[1] + 1):
        for subset in itertools.combinations(columns, size):
            coef, *_ = np.linalg.lstsq(x[:, subset], y, rcond=None)
            if np.any(coef < 0):
                continue
            residual = float(np.sum((x[:, subset] @ coef - y) ** 2))
            if residual < best_residual - 1e-12:
                best, best_residual = np.zeros(x.shape[1]), residual
                best[list(subset)] = coef
    return best


def fit(features: np.ndarray, latency: np.ndarray) -> np.ndarray:
    """Coefficients minimising the squared *relative* error (MAPE is what is reported)."""
    return nonnegative_lstsq(features / latency[:, None], np.ones(len(latency)))


@dataclass(frozen=True)
class Published:
    """One published network: its name, spec and latency on each phone."""

    label: str
    spec: ArchSpec
    latency_ms: Mapping[str, float]


@cache
def published_networks() -> tuple[Published, ...]:
    """The figures of ``data/published_pixel_latency.csv`` with the presets that build them."""
    try:
        with open(PUBLISHED_CSV, newline="") as handle:
            rows = list(csv.DictReader(line for line in handle if not line.startswith("#")))
        networks = tuple(
            Published(f"{row['model']} {row['width']}",
                      PRESETS[row["preset"]](width=float(row["width"]),
                                             resolution=int(row["resolution"])),
                      {phone: float(row[column]) for phone, column in PHONES.items()})
            for row in rows
        )
    except (OSError, KeyError, ValueError) as error:
        raise PixelError(f"{PUBLISHED_CSV} is unreadable: {error}") from None
    if len(networks) < 4:
        raise PixelError(f"{PUBLISHED_CSV} holds {len(networks)} networks; need at least 4")
    return networks


@cache
def local_times() -> LocalTimes:
    try:
        return LocalTimes(LatencyTable.load(LOCAL_TABLE))
    except TableError as error:
        raise PixelError(f"the shipped local table is unusable: {error}") from None


class PixelModel:
    """``phone_ms = sum_j coef_j * feature_j``, fitted to one phone's published latencies."""

    def __init__(self, phone: str, terms: Sequence[str] = TERMS, classes: int = 1000) -> None:
        if phone not in PHONES:
            raise PixelError(f"unknown phone {phone!r}; known: {', '.join(PHONES)}")
        unknown = [t for t in terms if t not in FEATURES]
        if unknown or not terms:
            raise PixelError(f"unknown model terms {unknown}; known: {', '.join(FEATURES)}")
        self.phone, self.terms, self.classes = phone, tuple(terms), classes
        self.networks = published_networks()
        self._features = np.array([self.features(n.spec) for n in self.networks])
        self._latency = np.array([n.latency_ms[phone] for n in self.networks])
        self.coef = fit(self._features, self._latency)

    @property
    def local(self) -> LocalTimes:
        """The shipped local table, read only when a term needs it."""
        return local_times()

    def features(self, spec: ArchSpec) -> list[float]:
        keys = cached_keys(spec, self.classes)
        return [FEATURES[term](self, keys) for term in self.terms]

    def predict_ms(self, spec: ArchSpec) -> float:
        return float(np.dot(self.features(spec), self.coef))

    def part_ms(self, key: OpKey) -> float:
        """The part's share of a prediction (everything but the per-network constant)."""
        return sum(c * FEATURES[t](self, (key,)) for t, c in zip(self.terms, self.coef)
                   if t != "one")

    def leave_one_out(self) -> list[dict]:
        """Each published network predicted by the model fitted to all the others."""
        rows = []
        for i, network in enumerate(self.networks):
            others = np.arange(len(self.networks)) != i
            coef = fit(self._features[others], self._latency[others])
            predicted = float(self._features[i] @ coef)
            published = float(self._latency[i])
            rows.append({"network": network.label, "published_ms": published,
                         "predicted_ms": predicted,
                         "error_pct": 100 * (predicted - published) / published})
        return rows

    def summary(self) -> dict:
        loo = self.leave_one_out()
        errors = [abs(row["error_pct"]) for row in loo]
        shown = [row | {"predicted_ms": round(row["predicted_ms"], 2),
                        "error_pct": round(row["error_pct"], 1)} for row in loo]
        return {"terms": list(self.terms),
                "coefficients": {t: float(c) for t, c in zip(self.terms, self.coef)},
                "loo_mape_pct": round(sum(errors) / len(errors), 2),
                "loo_max_error_pct": round(max(errors), 1), "loo": shown}


def _local_ms(model: PixelModel, keys: Sequence[OpKey]) -> float:
    return sum(model.local.ms(key)[0] for key in keys)


def _macs(model: PixelModel, keys: Sequence[OpKey]) -> float:
    return sum(part_shape(key).macs for key in keys) / 1e6


def _dense_macs(model: PixelModel, keys: Sequence[OpKey]) -> float:
    return sum(part_shape(key).dense_macs for key in keys) / 1e6


def _depthwise_macs(model: PixelModel, keys: Sequence[OpKey]) -> float:
    return sum(part_shape(key).depthwise_macs for key in keys) / 1e6


def _traffic(model: PixelModel, keys: Sequence[OpKey]) -> float:
    return sum(part_shape(key).traffic for key in keys) / 1e6


# Whole-network features: local ms, MACs (all, dense, depthwise; millions), activation values
# read and written (millions), and a constant.
FEATURES = {"local_ms": _local_ms, "macs": _macs, "dense_macs": _dense_macs,
            "depthwise_macs": _depthwise_macs, "traffic": _traffic,
            "one": lambda model, keys: 1.0}


def compare_models(phone: str = "pixel1") -> list[dict]:
    """Leave-one-out error of every candidate term set: how ``TERMS`` was chosen."""
    rows = []
    for terms in CANDIDATE_TERMS:
        summary = PixelModel(phone, terms).summary()
        rows.append({"terms": " + ".join(terms), "loo_mape_pct": summary["loo_mape_pct"],
                     "loo_max_error_pct": summary["loo_max_error_pct"]})
    return rows


# --- profiles -----------------------------------------------------------------------------------
def imported_table_path(cfg: Mapping) -> Path:
    if cfg.get("imported"):
        return Path(str(cfg["imported"])).expanduser()
    return default_table_path(str(cfg["phone"]), "imported", int(cfg.get("threads", 1)))


class CalibratedHardware(Hardware):
    """A phone predicted by ``PixelModel`` from shipped data; never measures anything."""

    def __init__(self, *, name: str, model: PixelModel, device: str) -> None:
        self.model = model
        metadata = {
            "kind": "calibrated", "measured": False, "device": device, "phone": model.phone,
            "backend": "tflite fp32, one large core, batch 1 (published figures)",
            "figures": "Howard et al. 2019, Searching for MobileNetV3, Table 3 "
                       f"({len(model.networks)} networks; {PUBLISHED_CSV.name})",
        } | model.summary()
        if "local_ms" in model.terms:
            local = model.local.table.metadata
            metadata["local_table"] = {"file": LOCAL_TABLE.name, "device": local.get("device"),
                                       "backend": local.get("backend"),
                                       "threads": local.get("threads"),
                                       "entries": len(model.local.table)}
        super().__init__(name=name, predict=model.predict_ms, metadata=metadata)


class ImportedHardware(Hardware):
    """Per-part times measured on the phone itself; parts it lacks fall back to the model."""

    def __init__(self, *, name: str, table: LatencyTable, path: Path, model: PixelModel,
                 device: str) -> None:
        self.table, self.model = table, model
        metadata = {k: v for k, v in table.metadata.items() if k != "calibration"}
        metadata |= {"kind": "imported", "measured": True, "device": device,
                     "phone": model.phone, "table": str(path), "entries": len(table)}
        super().__init__(name=name, predict=self._predict, metadata=metadata)

    def _predict(self, spec: ArchSpec) -> float:
        total = 0.0
        for key in cached_keys(spec, self.model.classes):
            total += self.table.ms(key) if key in self.table else self.model.part_ms(key)
        return total


def load_calibrated(cfg: Mapping) -> Hardware:
    """``kind: calibrated`` profiles (pixel, pixel1-3); an imported table wins if present."""
    phone = str(cfg.get("phone", cfg["name"]))
    classes = int(cfg.get("num_classes", 1000))
    terms = tuple(cfg.get("terms") or TERMS)
    model = PixelModel(phone, terms, classes)
    device = str(cfg.get("device", phone))
    path = imported_table_path(cfg | {"phone": phone})
    if path.exists():
        return ImportedHardware(name=str(cfg["name"]), table=LatencyTable.load(path),
                                path=path, model=model, device=device)
    return CalibratedHardware(name=str(cfg["name"]), model=model, device=device)


KINDS["calibrated"] = load_calibrated
