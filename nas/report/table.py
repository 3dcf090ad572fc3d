"""A study's trials as one pandas DataFrame, a row per trial."""

from __future__ import annotations

import math

import optuna
import pandas as pd

COLUMNS = ("number", "state", "reference", "accuracy", "macs", "params", "latency_ms", "reward",
           "train_seconds", "epochs", "seconds", "trained", "feasible", "evaluated",
           "duplicate_of", "skipped", "failure", "interrupted", "arch")


def _row(trial: optuna.trial.FrozenTrial) -> dict:
    attrs = trial.user_attrs
    seconds = None
    if trial.datetime_start is not None and trial.datetime_complete is not None:
        seconds = (trial.datetime_complete - trial.datetime_start).total_seconds()
    violations = trial.constraints.values()
    feasible = all(value <= 0 for value in violations)
    accuracy = attrs.get("accuracy") if attrs.get("trained") else None
    evaluated = (trial.state == optuna.trial.TrialState.COMPLETE and accuracy is not None
                 and math.isfinite(accuracy) and feasible)
    return {
        "number": trial.number,
        "state": trial.state.name,
        "reference": attrs.get("reference", ""),
        "accuracy": accuracy,
        "macs": attrs.get("macs"),
        "params": attrs.get("params"),
        "latency_ms": attrs.get("latency_ms"),
        "reward": attrs.get("reward"),
        "train_seconds": attrs.get("train_seconds"),
        "epochs": attrs.get("epochs"),
        "seconds": seconds,
        "trained": bool(attrs.get("trained", False)),
        "feasible": feasible,
        "evaluated": evaluated,
        "duplicate_of": attrs.get("duplicate_of"),
        "skipped": attrs.get("skipped", ""),
        "failure": attrs.get("failure", ""),
        "interrupted": attrs.get("interrupted", ""),
        "arch": attrs.get("arch", ""),
    }


def trials_frame(study: optuna.Study) -> pd.DataFrame:
    """Every trial; ``evaluated`` marks trained, feasible, complete ones (the fronts' input)."""
    rows = [_row(trial) for trial in study.get_trials(deepcopy=False)]
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for column in ("accuracy", "macs", "params", "latency_ms", "reward", "train_seconds",
                   "seconds"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    frame["duplicate_of"] = frame["duplicate_of"].astype("Int64")
    frame["epochs"] = frame["epochs"].astype("Int64")
    return frame


def evaluated(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows that hold a measured accuracy, one per architecture (duplicates dropped)."""
    rows = frame[frame["evaluated"] & frame["duplicate_of"].isna()]
    return rows.drop_duplicates(subset="arch", keep="first")
