"""Hardware profiles: ``load_hardware(cfg)`` turns ``conf/hardware/<name>.yaml`` into a
``Hardware`` that predicts a network's latency at the profile's deployment setting.

``kind: measured`` profiles (cpu, cuda) time parts on this machine into a ``LatencyTable``
and measure any part a prediction needs but the table lacks, on demand, saving it. Other kinds
(``calibrated``: pixel) register a loader in ``KINDS``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

from nas.arch import ArchSpec, encode
from nas.errors import NasError
from nas.hardware.child import arch_job, interleave, op_job, run_jobs
from nas.hardware.device import device_name, versions
from nas.hardware.keys import OpKey, arch_keys
from nas.hardware.table import LatencyTable, MissingOps, now
from nas.hardware.timing import Timing, TimingSettings, timing_from

SAVE_EVERY_S = 20.0


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
    """A profile timed on this machine: a LatencyTable plus on-demand measurement.

    A table without an additivity correction gets one the first time it predicts: a few
    calibration networks (``calibration.archs``, drawn from ``calibration_space`` when a verb
    sets it, else thinned copies of the first network predicted) are measured once, with their
    missing parts, and saved in the table's metadata; later loads fit the correction from them
    without measuring. When that cannot happen (``calibration.auto: false``, ``on_demand:
    false``, a failed measurement), predictions are plain sums and say so: one warning line,
    and ``metadata["correction"]["corrected"]`` is false.
    """

    def __init__(self, *, name: str, table: LatencyTable, path: Path, settings: TimingSettings,
                 classes: int = 1000, on_demand: bool = True,
                 calibration: Mapping | None = None) -> None:
        self.table, self.path, self.settings = table, path, settings
        self.classes, self.on_demand = classes, on_demand
        self.calibration = {"archs": 10, "seed": 1000, "auto": True} | dict(calibration or {})
        self.calibration_space = None  # a SearchSpace: verbs that have one set it
        self.uncorrected_reason: str | None = None
        self._calibration_tried = False
        super().__init__(name=name, predict=self._predict, metadata=self._metadata())

    def _metadata(self) -> dict:
        meta = {k: v for k, v in self.table.metadata.items() if k != "calibration"}
        correction = self.table.correction()
        corrected = correction.networks > 0
        return meta | {"kind": "measured", "table": str(self.path),
                       "correction": {"kind": correction.kind, "slope": correction.slope,
                                      "intercept_ms": correction.intercept,
                                      "networks": correction.networks,
                                      "loo_mape": correction.loo_mape,
                                      "corrected": corrected,
                                      "uncorrected_reason": None if corrected
                                      else self.uncorrected_reason}}

    def _predict(self, spec: ArchSpec) -> float:
        if not self._calibration_tried:  # once per process: the search path stays a lookup
            self.auto_calibrate(spec)
        try:
            return self.table.predict(spec, self.classes)
        except MissingOps as missing:
            if not self.on_demand:
                raise
            self.measure(missing.keys)
            return self.table.predict(spec, self.classes)

    # --- the additivity correction ------------------------------------------------------------
    def calibration_networks(self, spec: ArchSpec | None = None) -> list[ArchSpec]:
        from nas.hardware.calibration import calibration_specs, width_family

        count, seed = int(self.calibration["archs"]), int(self.calibration["seed"])
        if self.calibration_space is not None:
            return calibration_specs(self.calibration_space, count, seed)
        if spec is None:
            raise NasError("calibration networks need a search space or a network")
        return width_family(spec, count)

    def auto_calibrate(self, spec: ArchSpec | None = None) -> int:
        """Fit the missing correction once (see the class); returns networks measured. The
        parts ``spec`` lacks are measured in the same child as the calibration networks."""
        self._calibration_tried = True
        if self.table.correction().networks > 0:
            return 0
        if not self.calibration["auto"] or not self.on_demand:
            setting = "calibration.auto is false" if not self.calibration["auto"] \
                else "on_demand is false"
            return self._uncorrected(f"{setting}, so no calibration network is measured")
        also = list(arch_keys(spec, self.classes)) if spec is not None else []
        count, failure = 0, "no calibration network could be summed from the table"
        try:
            count = self.calibrate(self.calibration_networks(spec), desc="calibration (once)",
                                   also=also)
        except NasError as error:  # some may have been measured and saved all the same
            failure = f"its calibration networks could not be measured: {error}"
        if self.table.correction().networks == 0:
            return self._uncorrected(failure)
        return count

    def _uncorrected(self, reason: str) -> int:
        import sys

        self.uncorrected_reason = reason
        self.metadata = self._metadata()
        print(f"warning: latency table {self.path} has no additivity correction ({reason}): "
              f"predictions are plain sums of parts; `python -m nas.profile "
              f"hardware={self.name}` fits one", file=sys.stderr, flush=True)
        return 0

    def calibrate(self, specs: list[ArchSpec], progress: bool = True,
                  desc: str = "calibration networks", also: list[OpKey] = ()) -> int:
        """Measure ``specs`` end to end, with the parts of theirs the table lacks (and the
        parts ``also`` names), round-robin in one child, and save them as calibration
        networks; those already saved are kept."""
        have = {entry["arch"] for entry in self.table.metadata["calibration"]}
        specs = [spec for spec in specs if encode(spec) not in have]
        if not specs:
            return 0
        keys = [key for spec in specs for key in arch_keys(spec, self.classes)] + list(also)
        measure_into(self.table, self.path, keys, self.settings, progress=progress, desc=desc,
                     networks=specs, classes=self.classes)
        self.metadata = self._metadata()
        return len(specs)

    # --- measuring ----------------------------------------------------------------------------
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


def unsettled_line(count: int, total: int, what: str, settings: TimingSettings,
                   where: str) -> str:
    """The one line that says a measurement ended before reaching the tolerance."""
    return (f"warning: {count} of {total} {what} did not settle to "
            f"{100 * settings.tolerance:g}% within {settings.max_rounds} rounds (the machine is "
            f"too noisy): their best estimates are kept, marked stable=False{where}; measure "
            f"again on a quieter machine, or raise hardware.timing.max_rounds or tolerance")


def _warn_unsettled(timings: list[Timing], what: str, settings: TimingSettings,
                    where: str = "") -> None:
    import sys

    if settings.protocol != "adaptive":
        return
    count = sum(timing.stable is False for timing in timings)
    if count:
        print(unsettled_line(count, len(timings), what, settings, where), file=sys.stderr,
              flush=True)


def measure_into(table: LatencyTable, path: Path, keys: list[OpKey], settings: TimingSettings,
                 progress: bool = True, desc: str = "measuring parts",
                 networks: list[ArchSpec] = (), classes: int = 1000) -> int:
    """Time ``keys`` in a child process, adding each to ``table`` and saving every few seconds
    and at the end (also when interrupted). ``networks`` are timed end to end in the same
    child, round-robin among the parts (a drift of the machine hits both alike), and saved as
    calibration networks. Returns how many parts were added."""
    import time

    keys, networks = table.missing(keys), list(networks)
    if not keys and not networks:
        return 0
    bar = tqdm(total=len(keys) + len(networks), desc=desc, unit="job",
               disable=not progress or None)
    last_save, failures, timings = time.monotonic(), [], []

    def on_result(result: dict) -> None:
        nonlocal last_save
        job = result["id"]
        name = str(keys[job]) if job < len(keys) else encode(networks[job - len(keys)])
        if "error" in result:
            failures.append(f"{name}: {result['error']}")
        else:
            timing = timing_from(result)
            timings.append(timing)
            if job < len(keys):
                table.add(keys[job], timing)
            else:
                table.add_calibration(name, classes, timing.ms)
        bar.update()
        if time.monotonic() - last_save > SAVE_EVERY_S:
            table.save(path)
            last_save = time.monotonic()

    parts = [op_job(i, key) for i, key in enumerate(keys)]
    wholes = [arch_job(len(keys) + j, encode(spec), classes) for j, spec in enumerate(networks)]
    try:
        run_jobs(interleave(parts, wholes), settings, on_result)
    finally:
        bar.close()
        table.save(path)
    _warn_unsettled(timings, "parts and networks" if networks else "parts", settings,
                    f" in {path}")
    if failures:
        raise NasError(f"{len(failures)} parts or networks could not be measured, first: "
                       f"{failures[0]}")
    return len(keys)


def noise_floor(table: LatencyTable, settings: TimingSettings, keys: list[OpKey],
                networks: list[dict], progress: bool = True) -> dict:
    """Two independent measurements of the same entries: ``keys`` (parts of ``table``) and
    ``networks`` (calibration entries: ``arch``, ``classes``, ``measured_ms``) timed again in a
    fresh process, round-robin together, against what the table holds. Returns the MAPE (%)
    of each kind (None where none was given) and how many of each were compared."""
    jobs = interleave([op_job(i, key) for i, key in enumerate(keys)],
                      [arch_job(len(keys) + j, entry["arch"], int(entry["classes"]))
                       for j, entry in enumerate(networks)])
    again: dict[int, float] = {}
    bar = tqdm(total=len(jobs), desc="noise floor", unit="job", disable=not progress or None)

    def on_result(result: dict) -> None:
        if "error" in result:
            raise NasError(f"noise floor: job {result['id']} failed: {result['error']}")
        again[result["id"]] = timing_from(result).ms
        bar.update()

    try:
        run_jobs(jobs, settings, on_result)
    finally:
        bar.close()
    before = [table.ms(key) for key in keys] + [float(e["measured_ms"]) for e in networks]
    errors = [abs(again[i] - ms) / ms * 100 for i, ms in enumerate(before)]

    def mean(values: list[float]) -> float | None:
        return sum(values) / len(values) if values else None

    return {"parts_pct": mean(errors[:len(keys)]), "networks_pct": mean(errors[len(keys):]),
            "parts": len(keys), "networks": len(networks)}


def measure_networks(specs: list[ArchSpec], settings: TimingSettings, classes: int = 1000,
                     progress: bool = True, desc: str = "networks") -> list[Timing]:
    """Whole networks end to end, in one fresh child process, timed round-robin."""
    results: dict[int, Timing] = {}
    bar = tqdm(total=len(specs), desc=desc, unit="net", disable=not progress or None)

    def on_result(result: dict) -> None:
        if "error" in result:
            raise NasError(f"could not measure {encode(specs[result['id']])}: "
                           f"{result['error']}")
        results[result["id"]] = timing_from(result)
        bar.update()

    try:
        run_jobs([arch_job(i, encode(s), classes) for i, s in enumerate(specs)], settings,
                 on_result)
    finally:
        bar.close()
    timings = [results[i] for i in range(len(specs))]
    _warn_unsettled(timings, f"networks ({desc})", settings)
    return timings


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
                "batch": settings.batch, "device": device_name(settings.backend),
                "estimate": settings.estimate}
    if path.exists():
        return LatencyTable.load(path, expect=identity), path
    metadata = identity | {"format": "nas-latency-table", "version": 1,
                           "profile": str(cfg["name"]), "created": now(),
                           "versions": versions(), "timing": _timing_meta(settings),
                           "noise_floor_pct": None}
    return LatencyTable(metadata), path


def _timing_meta(settings: TimingSettings) -> dict:
    """The protocol the table was created with (each entry records its own rounds)."""
    meta = asdict(settings)
    for name in ("backend", "threads", "batch"):  # top-level identity fields already
        del meta[name]
    return meta | {"clock": settings.clock_used, "statistic": settings.statistic_used}


def load_measured(cfg: Mapping) -> MeasuredHardware:
    settings = settings_from(cfg)
    table, path = open_table(cfg, settings)
    return MeasuredHardware(name=str(cfg["name"]), table=table, path=path, settings=settings,
                            classes=int(cfg.get("num_classes", 1000)),
                            on_demand=bool(cfg.get("on_demand", True)),
                            calibration=cfg.get("calibration"))


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
