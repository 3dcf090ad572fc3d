"""``LatencyTable``: measured milliseconds per ``OpKey``, saved as one CSV with its metadata.

File format: the first line is ``# nas-latency-table {json metadata}`` (device, CPU model,
backend, library versions, threads, batch, the timing protocol and its ``estimate``, dates,
noise floor, calibration networks), then a plain CSV with one row per key: the key's fields,
``ms`` (the estimate predictions use), ``median_ms``, ``p10_ms``, ``p90_ms``, ``runs``,
``rounds``, ``spread_pct``, ``stable``, ``measured_at`` (``nas.hardware.timing.Timing``).
Tables from before issue 17 lack ``ms``, ``rounds``, ``spread_pct`` and ``stable``: they read
as ``ms = median_ms`` with the rest unknown, and their estimate as the old protocol's. One
file, written to a temporary name and renamed, so a killed run never leaves half a table
behind; under a lock, merged with what other processes saved.

Prediction sums the parts of a network, then applies an additivity correction fitted on whole
networks measured end to end (``calibration`` in the metadata): none, a ratio or a line
``whole = slope * sum + intercept``, whichever has the lowest leave-one-out error on those
calibration networks.
Parts timed alone miss what overlaps between them (ONNX Runtime's per-run overhead, caches
warmed by the previous block), so the raw sum is biased; the correction removes the bias.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from nas.arch import ArchSpec, decode
from nas.errors import NasError
from nas.hardware.keys import KEY_FIELDS, OpKey, arch_keys
from nas.hardware.timing import Timing
from nas.io import locked_update

MAGIC = "# nas-latency-table "
TIMING_FIELDS = ("ms", "median_ms", "p10_ms", "p90_ms", "runs", "rounds", "spread_pct", "stable",
                 "measured_at")
# Columns a table from before issue 17 lacks, and what they read as (ms: its median_ms).
LEGACY_COLUMNS = {"ms": None, "rounds": 0, "spread_pct": math.nan, "stable": None}
# A table answers only for the setting it was measured in, and its entries must share one
# estimate (clock and statistic), or sums mix two yardsticks.
IDENTITY_FIELDS = ("backend", "threads", "batch", "device", "estimate")
# What a table that does not record a field was measured with.
LEGACY_IDENTITY = {"estimate": "wall:min_round_median"}


class TableError(NasError):
    """A latency table that cannot be read or belongs to another setting."""


class MissingOps(NasError):
    """The table lacks parts of a network."""

    def __init__(self, keys: list[OpKey]) -> None:
        super().__init__(f"the latency table lacks {len(keys)} parts, e.g. {keys[0]}")
        self.keys = keys


@dataclass(frozen=True)
class Correction:
    """``whole_ms = slope * summed_ms + intercept``, fitted on ``networks`` networks.

    ``kind`` is the form chosen by leave-one-out error on the calibration networks (never on
    validation networks): ``none``, ``ratio`` (slope only) or ``linear``; ``loo_mape`` is that
    error in percent.
    """

    slope: float = 1.0
    intercept: float = 0.0
    networks: int = 0
    kind: str = "none"
    loo_mape: float | None = None

    def __call__(self, summed_ms: float) -> float:
        return self.slope * summed_ms + self.intercept


def _fit_none(pairs) -> tuple[float, float]:
    return 1.0, 0.0


def _fit_ratio(pairs) -> tuple[float, float]:
    """Least squares through the origin."""
    return sum(s * w for s, w in pairs) / sum(s * s for s, _ in pairs), 0.0


def _fit_linear(pairs) -> tuple[float, float]:
    mean_s = sum(s for s, _ in pairs) / len(pairs)
    mean_w = sum(w for _, w in pairs) / len(pairs)
    var = sum((s - mean_s) ** 2 for s, _ in pairs)
    if var == 0:
        return _fit_ratio(pairs)
    slope = sum((s - mean_s) * (w - mean_w) for s, w in pairs) / var
    return slope, mean_w - slope * mean_s


# form -> (fit, fewest networks to fit it with something left out)
CORRECTIONS = {"none": (_fit_none, 1), "ratio": (_fit_ratio, 2), "linear": (_fit_linear, 4)}


def _loo_mape(fit, pairs) -> float:
    errors = []
    for i, (summed, whole) in enumerate(pairs):
        slope, intercept = fit(pairs[:i] + pairs[i + 1:])
        errors.append(abs(slope * summed + intercept - whole) / whole)
    return 100 * sum(errors) / len(errors)


def fit_correction(pairs: list[tuple[float, float]]) -> Correction:
    """The form with the lowest leave-one-out MAPE over (summed, whole) pairs, refitted on all."""
    if not pairs:
        return Correction()
    scores = {kind: _loo_mape(fit, pairs) for kind, (fit, least) in CORRECTIONS.items()
              if len(pairs) >= least}
    kind = min(scores, key=scores.get)
    slope, intercept = CORRECTIONS[kind][0](pairs)
    return Correction(slope, intercept, len(pairs), kind, scores[kind])


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@lru_cache(maxsize=65536)
def cached_keys(spec: ArchSpec, classes: int) -> tuple[OpKey, ...]:
    return arch_keys(spec, classes)


class LatencyTable:
    """Medians per key, with metadata. ``frame`` shows the table as a pandas DataFrame."""

    def __init__(self, metadata: dict, rows: dict[OpKey, dict] | None = None) -> None:
        self.metadata = dict(metadata)
        self.metadata.setdefault("calibration", [])
        self._rows: dict[OpKey, dict] = dict(rows or {})
        self._ms = {key: _estimate(row) for key, row in self._rows.items()}
        self._correction: Correction | None = None

    # --- contents -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, key: OpKey) -> bool:
        return key in self._ms

    def keys(self) -> list[OpKey]:
        return list(self._ms)

    def ms(self, key: OpKey) -> float:
        return self._ms[key]

    def missing(self, keys) -> list[OpKey]:
        return list(dict.fromkeys(key for key in keys if key not in self._ms))

    def add(self, key: OpKey, timing: Timing) -> None:
        self._rows[key] = {"ms": timing.ms, "median_ms": timing.median_ms,
                           "p10_ms": timing.p10_ms, "p90_ms": timing.p90_ms, "runs": timing.runs,
                           "rounds": timing.rounds, "spread_pct": timing.spread_pct,
                           "stable": timing.stable, "measured_at": now()}
        self._ms[key] = timing.ms
        self._correction = None

    def unstable(self) -> list[OpKey]:
        """Entries whose estimate did not reach the tolerance within the timing budget."""
        return [key for key, row in self._rows.items() if _flag(row.get("stable")) is False]

    def add_calibration(self, arch: str, classes: int, measured_ms: float) -> None:
        entries = [c for c in self.metadata["calibration"] if c["arch"] != arch]
        entries.append({"arch": arch, "classes": classes, "measured_ms": measured_ms})
        self.metadata["calibration"] = entries
        self._correction = None

    @property
    def frame(self) -> pd.DataFrame:
        records = [key.to_row() | row for key, row in self._rows.items()]
        return pd.DataFrame.from_records(records, columns=[*KEY_FIELDS, *TIMING_FIELDS])

    # --- prediction ---------------------------------------------------------------------------
    def summed_ms(self, spec: ArchSpec, classes: int = 1000) -> float:
        """Plain sum of the parts of ``spec``; MissingOps if any is not in the table."""
        keys = cached_keys(spec, classes)
        try:
            return sum(self._ms[key] for key in keys)
        except KeyError:
            raise MissingOps(self.missing(keys)) from None

    def predict(self, spec: ArchSpec, classes: int = 1000) -> float:
        return self.correction()(self.summed_ms(spec, classes))

    def correction(self) -> Correction:
        if self._correction is None:
            self._correction = self._fit_correction()
        return self._correction

    def _fit_correction(self) -> Correction:
        pairs = []
        for entry in self.metadata["calibration"]:
            try:
                pairs.append((self.summed_ms(decode(entry["arch"]), entry["classes"]),
                              entry["measured_ms"]))
            except MissingOps:
                continue
        return fit_correction(pairs)

    # --- files --------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Merge into the file as it is now and replace it atomically, under a lock
        (``nas.io.locked_update``): search workers that measure missing parts at the same time
        keep each other's entries, and a killed run never leaves half a table behind."""
        path = Path(path).expanduser()

        def merge(current: str | None) -> str:
            if current is not None:
                self.absorb(path)
            self.metadata["updated"] = now()
            self.metadata["entries"] = len(self)
            return (MAGIC + json.dumps(self.metadata, sort_keys=True) + "\n"
                    + self.frame.to_csv(index=False))

        locked_update(path, merge)

    def absorb(self, path: Path) -> None:
        """Add the entries (and calibration networks) of the table at ``path`` that this one
        lacks; a corrupt file, or one of another setting, is left out (and then replaced)."""
        try:
            other = LatencyTable.load(path)
        except TableError:
            return
        if any(identity(other.metadata, f) != identity(self.metadata, f)
               for f in IDENTITY_FIELDS):
            return
        for key, row in other._rows.items():
            if key not in self._rows:
                self._rows[key] = row
                self._ms[key] = _estimate(row)
        known = {entry["arch"] for entry in self.metadata["calibration"]}
        self.metadata["calibration"] += [entry for entry in other.metadata["calibration"]
                                         if entry["arch"] not in known]
        self._correction = None

    @classmethod
    def load(cls, path: Path, expect: dict | None = None) -> LatencyTable:
        """Read ``path``; TableError if corrupt or measured in another setting than ``expect``."""
        path = Path(path).expanduser()
        try:
            with open(path, newline="") as handle:
                first = handle.readline()
                if not first.startswith(MAGIC):
                    raise TableError(f"{path} is not a nas latency table (no '{MAGIC.strip()}' "
                                     "first line); delete it or give another table=PATH")
                metadata = json.loads(first[len(MAGIC):])
                frame = pd.read_csv(handle)
            rows = {OpKey.from_row(row): {f: row.get(f, LEGACY_COLUMNS.get(f))
                                          for f in TIMING_FIELDS}
                    for row in frame.to_dict("records")}
            if any(not _estimate(row) > 0 for row in rows.values()):
                raise TableError(f"{path}: a time (ms or median_ms) is missing or not positive")
        except TableError:
            raise
        except (OSError, ValueError, KeyError, TypeError, pd.errors.ParserError) as error:
            raise TableError(f"{path} is corrupt ({type(error).__name__}: "
                             f"{str(error).splitlines()[0] if str(error) else 'unreadable'}); "
                             "delete it or give another table=PATH") from None
        table = cls(metadata, rows)
        if expect:
            table.check(expect, path)
        return table

    def check(self, expect: dict, path: Path | str = "table") -> None:
        wrong = [f for f in IDENTITY_FIELDS
                 if f in expect and identity(self.metadata, f) != expect[f]]
        if wrong:
            have = ", ".join(f"{f}={identity(self.metadata, f)!r}" for f in wrong)
            want = ", ".join(f"{f}={expect[f]!r}" for f in wrong)
            todo = "give another table=PATH"
            if wrong == ["estimate"]:
                todo = ("delete it to measure it again, give another table=PATH, or time as it "
                        "was timed with hardware.timing.protocol=fixed (wall:min_round_median) "
                        "or hardware.timing.clock/statistic")
            raise TableError(f"{path} was measured with {have}, but this profile needs {want}; "
                             f"{todo}")


def identity(metadata: dict, field: str):
    """A setting the table was measured in (tables that predate a field: its old value)."""
    return metadata.get(field, LEGACY_IDENTITY.get(field))


def _estimate(row: dict) -> float:
    """The time an entry predicts with: ``ms``, or ``median_ms`` in tables before issue 17."""
    ms = row.get("ms")
    if ms is None or (isinstance(ms, float) and math.isnan(ms)):
        ms = row["median_ms"]
    return float(ms)


def _flag(value) -> bool | None:
    """A ``stable`` cell as read back (True/False, or NaN/None/empty when not recorded)."""
    if isinstance(value, str):
        return {"True": True, "False": False}.get(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return bool(value)
