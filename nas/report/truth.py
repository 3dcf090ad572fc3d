"""A search on a tabular space measured against the benchmark's true Pareto front.

Two numbers per front (accuracy vs MACs, accuracy vs latency):

* ``share``: the share of the true front's networks that the search evaluated;
* ``hv_ratio``: the hypervolume (``nas.report.hypervolume``, same reference point as the study's)
  of the networks the search evaluated, over the true front's. Both use the benchmark's mean
  accuracy of each network, so a search run with ``evaluator.noise=seed`` is scored on what it
  found, not on the seed it drew.

The true fronts come from the study (``nas.tabular.true_fronts``, stored when the search starts).
"""

from __future__ import annotations

import pandas as pd

from nas.report.hypervolume import hypervolume_2d


def true_accuracy(archs) -> list[float]:
    """The benchmark's mean accuracy (a share) of each arch string; NaN where it has none."""
    from nas.tabular import networks

    table = networks()
    return [table[a].mean / 100 if a in table else float("nan") for a in archs]


def front_quality(points: pd.DataFrame, true_front: pd.DataFrame, cost: str,
                  reference_cost: float) -> dict:
    """``share`` and ``hv_ratio`` of the evaluated ``points`` against ``true_front``."""
    found = set(points["arch"])
    hits = sum(arch in found for arch in true_front["arch"])
    accuracy = true_accuracy(points["arch"])
    hv = hypervolume_2d(accuracy, points[cost], reference_cost)
    hv_true = hypervolume_2d(true_front["accuracy"], true_front[cost], reference_cost)
    return {"true_front_size": len(true_front), "found": hits,
            "share": hits / len(true_front) if len(true_front) else float("nan"),
            "hypervolume": hv, "true_hypervolume": hv_true,
            "hv_ratio": hv / hv_true if hv_true > 0 else float("nan")}


def true_front_frames(attrs: dict) -> dict[str, pd.DataFrame]:
    """Cost column -> the true front stored in the study (empty when it has none)."""
    return {cost: pd.DataFrame(rows) for cost, rows in (attrs.get("true_fronts") or {}).items()}
