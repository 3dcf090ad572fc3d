"""The final comparison read with its noise: per network the mean accuracy over seeds and its
95% Student interval, and per found network a verdict against the reference.

Accuracy: a found network is "more accurate" or "less accurate" than the reference only when
Welch's 95% interval of the difference of the two means excludes zero; otherwise the two
"tie". Latency: both are predictions of one latency model whose stated error (leave-one-out
MAPE, percent) is a relative error, so a latency within that error of the reference's reads
"equal" rather than lower or higher. The found network *beats* the reference when it is more
accurate outside the noise at equal or lower latency.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from nas.experiment.stats import Interval, difference_interval, mean_interval
from nas.yardstick.table import seed_columns


def seed_values(row: pd.Series, columns: list[str]) -> list[float]:
    return [float(row[c]) for c in columns if c in row and not pd.isna(row[c])]


def summarise(final: pd.DataFrame, latency_ms: dict[str, float],
              labels: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per network of the final table (``nas.yardstick.build``'s format, percent):
    seeds, mean, std, the 95% interval of the mean, MACs, params, predicted latency."""
    columns, labels = seed_columns(final), labels or {}
    rows = []
    for _, row in final.iterrows():
        values = seed_values(row, columns)
        interval = mean_interval(values) if len(values) > 1 else \
            Interval(values[0], math.nan, math.nan)
        rows.append({"name": row["name"], "label": labels.get(row["name"], row["name"]),
                     "role": row["role"], "seeds": len(values), "accuracy": interval.mean,
                     "accuracy_std": float(row["accuracy_std"]), "low": interval.low,
                     "high": interval.high, "macs": row["macs"], "params": row["params"],
                     "latency_ms": latency_ms[row["name"]], "arch": row["arch"],
                     "values": values})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Verdict:
    name: str
    label: str
    difference: Interval  # accuracy points, found - reference
    accuracy: str         # "more accurate", "less accurate", "tie"
    latency: str          # "lower", "equal", "higher"
    latency_ms: float
    reference_ms: float

    @property
    def beats(self) -> bool:
        return self.accuracy == "more accurate" and self.latency in ("lower", "equal")

    @property
    def matches_faster(self) -> bool:
        """As accurate within the noise at lower latency: not a win on accuracy, but the
        trade a latency-aware search is after, worth saying apart from a plain tie."""
        return self.accuracy == "tie" and self.latency == "lower"

    @property
    def speedup(self) -> float:
        """How many times faster than the reference (predicted latency)."""
        return self.reference_ms / self.latency_ms

    def sentence(self, reference: str) -> str:
        d = self.difference
        accuracy = ("a tie: the interval contains zero" if self.accuracy == "tie" else
                    f"{self.accuracy} outside the noise")
        latency = {"lower": "lower latency", "higher": "higher latency",
                   "equal": "equal latency within the latency model's error"}[self.latency]
        outcome = ("**it beats the reference**" if self.beats else
                   "it matches the reference's accuracy within the noise, "
                   f"{self.speedup:.2f}x faster" if self.matches_faster
                   else "it does not beat the reference")
        return (f"**{self.label}** vs {reference}: accuracy {d.mean:+.2f} points "
                f"[95% interval {d.low:+.2f}, {d.high:+.2f}], {accuracy}; "
                f"{self.latency_ms:.1f} vs {self.reference_ms:.1f} ms, {latency}: {outcome}.")


def latency_relation(found_ms: float, reference_ms: float, error_pct: float | None) -> str:
    margin = reference_ms * (error_pct or 0.0) / 100
    if abs(found_ms - reference_ms) <= margin:
        return "equal"
    return "lower" if found_ms < reference_ms else "higher"


def verdicts(table: pd.DataFrame, reference: str, error_pct: float | None) -> list[Verdict]:
    """Each found network of ``summarise``'s table against the network named ``reference``."""
    ref = table[table["name"] == reference].iloc[0]
    found = []
    for _, row in table[table["role"] != "reference"].iterrows():
        difference = difference_interval(row["values"], ref["values"])
        accuracy = "tie" if difference.contains_zero else \
            ("more accurate" if difference.mean > 0 else "less accurate")
        found.append(Verdict(row["name"], row["label"], difference, accuracy,
                             latency_relation(row["latency_ms"], ref["latency_ms"], error_pct),
                             float(row["latency_ms"]), float(ref["latency_ms"])))
    return found
