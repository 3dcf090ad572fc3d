"""Hardware profiles: ``load_hardware(cfg)`` turns ``conf/hardware/<name>.yaml`` into a
``Hardware`` that predicts a network's latency at the profile's deployment setting.

``kind: measured`` profiles (cpu, cuda) time parts on this machine into a ``LatencyTable``
and measure any part a prediction needs but the table lacks, on demand, saving it. Other kinds
(``calibrated``: pixel) register a loader in ``KINDS``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from nas.arch import ArchSpec, encode
from nas.errors import NasError
from nas.hardware.child import arch_job, op_job, run_jobs
from nas.hardware.device import device_name, versions
from nas.hardware.keys import OpKey, arch_keys
from nas.hardware.table import LatencyTable, MissingOps, now
from nas.hardware.timing import Timing, TimingSettings

SAVE_EVERY_S = 20.0
NETWORK_CHUNK = 16  # whole networks prepared at once (memory), timed round-robin


def default_table_path(name: str, backend: str, threads: int, batch: int = 1) -> Path:
    """``$NAS_CACHE_DIR`` or ``$XDG_CACHE_HOME/nas`` or ``~/.cache/nas``, then
    ``tables/<profile>-<backend>-t<threads>[-b<batch>].csv``: per machine, never committed."""
    root = os.environ.get("NAS_CACHE_DIR") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nas"
    suffix = f"-b{batch}" if batch != 1 else ""
    return Path(root).expanduser() / "tables" / f"{name}-{backend}-t{threads}{suffix}.csv"


@dataclass
class Hardware:
    """What a search needs from a target: a name, a latency predictor and where it came from."""

    name: str
    predict: Callable[[ArchSpec], float]
    metadata: dict = field(default_factory=dict)

    def predict_ms(self, spec: ArchSpec) -> float:
        return self.predict(spec)


class MeasuredHardware(Hardware):
    """A profile timed on this machine: a LatencyTable plus on-demand measurement."""

    def __init__(self, *, name: str, table: LatencyTable, path: Path, settings: TimingSettings,
                 classes: int = 1000, on_demand: bool = True) -> None:
        self.table, self.path, self.settings = table, path, settings
        self.classes, self.on_demand = classes, on_demand
        super().__init__(name=name, predict=self._predict, metadata=self._metadata())

    def _metadata(self) -> dict:
        meta = {k: v for k, v in self.table.metadata.items() if k != "calibration"}
        correction = self.table.correction()
        return meta | {"kind": "measured", "table": str(self.path),
                       "correction": {"kind": correction.kind, "slope": correction.slope,
                                      "intercept_ms": correction.intercept,
                                      "networks": correction.networks,
                                      "loo_mape": correction.loo_mape}}

    def _predict(self, spec: ArchSpec) -> float:
        try:
            return self.table.predict(spec, self.classes)
        except MissingOps as missing:
            if not self.on_demand:
                raise
            self.measure(missing.keys)
            return self.table.predict(spec, self.classes)

    def ensure(self, specs: Iterable[ArchSpec], progress: bool = True) -> int:
        """Measure, in one child process, every part of ``specs`` the table lacks."""
        keys = [key for spec in specs for key in arch_keys(spec, self.classes)]
        return self.measure(self.table.missing(keys), progress=progress)

    def measure(self, keys: list[OpKey], progress: bool = False) -> int:
        count = measure_into(self.table, self.path, keys, self.settings, progress=progress)
        self.metadata = self._metadata()
        return count

    def measure_networks(self, specs: list[ArchSpec], progress: bool = True,
                         desc: str = "networks") -> list[Timing]:
        return measure_networks(specs, self.settings, self.classes, progress=progress, desc=desc)


def measure_into(table: LatencyTable, path: Path, keys: list[OpKey], settings: TimingSettings,
                 progress: bool = True, desc: str = "measuring parts") -> int:
    """Time ``keys`` in a child process, adding each to ``table`` and saving every few seconds
    and at the end (also when interrupted). Returns how many were added."""
    import time

    keys = table.missing(keys)
    if not keys:
        return 0
    bar = tqdm(total=len(keys), desc=desc, unit="op", disable=not progress or None)
    last_save, failures = time.monotonic(), []

    def on_result(result: dict) -> None:
        nonlocal last_save
        key = keys[result["id"]]
        if "error" in result:
            failures.append(f"{key}: {result['error']}")
        else:
            table.add(key, Timing(result["median_ms"], result["p10_ms"], result["p90_ms"],
                                  result["runs"]))
        bar.update()
        if time.monotonic() - last_save > SAVE_EVERY_S:
            table.save(path)
            last_save = time.monotonic()

    try:
        run_jobs([op_job(i, key) for i, key in enumerate(keys)], settings, on_result)
    finally:
        bar.close()
        table.save(path)
    if failures:
        raise NasError(f"{len(failures)} parts could not be measured, first: {failures[0]}")
    return len(keys)


def measure_networks(specs: list[ArchSpec], settings: TimingSettings, classes: int = 1000,
                     progress: bool = True, desc: str = "networks") -> list[Timing]:
    """Whole networks end to end, in one fresh child process, in the given order."""
    results: dict[int, Timing] = {}
    bar = tqdm(total=len(specs), desc=desc, unit="net", disable=not progress or None)

    def on_result(result: dict) -> None:
        if "error" in result:
            raise NasError(f"could not measure {encode(specs[result['id']])}: "
                           f"{result['error']}")
        results[result["id"]] = Timing(result["median_ms"], result["p10_ms"], result["p90_ms"],
                                       result["runs"])
        bar.update()

    try:
        run_jobs([arch_job(i, encode(s), classes) for i, s in enumerate(specs)], settings,
                 on_result, chunk=NETWORK_CHUNK)
    finally:
        bar.close()
    return [results[i] for i in range(len(specs))]


# --- profiles ---------------------------------------------------------------------------------
def settings_from(cfg: Mapping) -> TimingSettings:
    timing = dict(cfg.get("timing") or {})
    return TimingSettings(backend=str(cfg["backend"]), threads=int(cfg.get("threads", 1)),
                          batch=int(cfg.get("batch", 1)), **timing)


def table_path(cfg: Mapping, settings: TimingSettings) -> Path:
    if cfg.get("table"):
        return Path(str(cfg["table"])).expanduser()
    return default_table_path(str(cfg["name"]), settings.backend, settings.threads,
                              settings.batch)


def open_table(cfg: Mapping, settings: TimingSettings) -> tuple[LatencyTable, Path]:
    """The profile's table, or a new empty one with this machine's metadata."""
    path = table_path(cfg, settings)
    identity = {"backend": settings.backend, "threads": settings.threads,
                "batch": settings.batch, "device": device_name(settings.backend)}
    if path.exists():
        return LatencyTable.load(path, expect=identity), path
    metadata = identity | {"format": "nas-latency-table", "version": 1,
                           "profile": str(cfg["name"]), "created": now(),
                           "versions": versions(), "timing": _timing_meta(settings),
                           "noise_floor_pct": None}
    return LatencyTable(metadata), path


def _timing_meta(settings: TimingSettings) -> dict:
    return {"warmup_s": settings.warmup_s, "min_runs": settings.min_runs,
            "max_runs": settings.max_runs, "target_s": settings.target_s,
            "rounds": settings.rounds, "statistic": "lowest per-round median"}


def load_measured(cfg: Mapping) -> MeasuredHardware:
    settings = settings_from(cfg)
    table, path = open_table(cfg, settings)
    return MeasuredHardware(name=str(cfg["name"]), table=table, path=path, settings=settings,
                            classes=int(cfg.get("num_classes", 1000)),
                            on_demand=bool(cfg.get("on_demand", True)))


# kind -> loader; other parts (the calibrated pixel profile) add their kind here.
KINDS: dict[str, Callable[[Mapping], Hardware]] = {"measured": load_measured}
REQUIRED = ("name", "kind")


def load_hardware(cfg: Mapping) -> Hardware:
    """The ``Hardware`` of a composed ``conf/hardware/<name>.yaml`` given as a plain dict."""
    if not isinstance(cfg, Mapping):
        raise NasError(f"hardware config must be a mapping, got {type(cfg).__name__}")
    missing = [name for name in REQUIRED if name not in cfg]
    if missing:
        raise NasError(f"hardware config lacks {', '.join(missing)}")
    kind = cfg["kind"]
    if kind not in KINDS:
        raise NasError(f"unknown hardware kind {kind!r}; known: {', '.join(KINDS)}")
    return KINDS[kind](cfg)
