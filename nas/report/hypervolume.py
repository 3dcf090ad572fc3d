"""Hypervolume of accuracy-vs-cost fronts (Zitzler & Thiele 1998), normalised to [0, 1].

The reference point is fixed per study, so values compare across trials, runs and samplers:
accuracy 0 and the cost of the space's largest network (every decision at its dearest option),
stored in the study when it is created. Costs are divided by that reference, so the hypervolume
is the share of the box ``[0, 1] accuracy x [0, reference cost]`` that the front dominates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def hypervolume_2d(accuracy, cost, reference_cost: float) -> float:
    """Area dominated by (accuracy up, cost down) points, in units of the reference box."""
    if reference_cost <= 0:
        raise ValueError(f"reference cost must be positive, got {reference_cost}")
    acc = np.asarray(accuracy, dtype=float)
    rel = np.asarray(cost, dtype=float) / reference_cost
    inside = (acc > 0) & (rel < 1) & np.isfinite(acc) & np.isfinite(rel)
    acc, rel = acc[inside], rel[inside]
    if acc.size == 0:
        return 0.0
    order = np.argsort(rel, kind="stable")
    acc, rel = acc[order], rel[order]
    best = np.maximum.accumulate(acc)  # best accuracy at cost <= rel[i]
    widths = np.diff(np.append(rel, 1.0))
    return float(np.sum(widths * np.minimum(best, 1.0)))


def hypervolume_history(frame: pd.DataFrame, cost: str, reference_cost: float) -> pd.Series:
    """Hypervolume of the trials up to each trial number (``frame`` holds evaluated rows)."""
    rows = frame.dropna(subset=["accuracy", cost]).sort_values("number")
    values = [hypervolume_2d(rows["accuracy"][: i + 1], rows[cost][: i + 1], reference_cost)
              for i in range(len(rows))]
    return pd.Series(values, index=rows["number"].to_numpy(), name=f"hv_{cost}")
