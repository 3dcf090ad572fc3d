"""Pareto extraction: the non-dominated points among maximised and minimised columns."""

from __future__ import annotations

import numpy as np
import pandas as pd


def non_dominated(costs: np.ndarray) -> np.ndarray:
    """Mask of rows of ``costs`` (n x k, all minimised) that no other row dominates.

    A row dominates another when it is no worse in every column and better in one. Equal rows
    do not dominate each other, so both stay.
    """
    costs = np.asarray(costs, dtype=float)
    keep = np.ones(len(costs), dtype=bool)
    for i, row in enumerate(costs):
        no_worse = np.all(costs <= row, axis=1)
        better = np.any(costs < row, axis=1)
        keep[i] = not np.any(no_worse & better)
    return keep


def pareto_front(frame: pd.DataFrame, *, maximize: tuple[str, ...] = ("accuracy",),
                 minimize: tuple[str, ...]) -> pd.DataFrame:
    """The non-dominated rows of ``frame``, sorted by the first minimised column."""
    usable = frame.dropna(subset=list(maximize + minimize))
    if usable.empty:
        return usable
    costs = np.column_stack([-usable[c].to_numpy(float) for c in maximize]
                            + [usable[c].to_numpy(float) for c in minimize])
    return usable[non_dominated(costs)].sort_values(list(minimize))
