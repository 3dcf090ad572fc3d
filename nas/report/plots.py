"""Figures: accuracy-vs-cost fronts with the reference networks labelled, hypervolume curves."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from nas.report.pareto import pareto_front  # noqa: E402

COST_LABELS = {"macs": "MACs (millions, 224x224, 1000 classes)", "latency_ms": "latency (ms)"}
COST_SCALE = {"macs": 1e-6, "latency_ms": 1.0}


def plot_front(points: pd.DataFrame, cost: str, path: Path, *, title: str,
               cost_label: str | None = None, true_front: pd.DataFrame | None = None,
               true_label: str = "true front") -> Path:
    """Every evaluated candidate, the front as a staircase, the references starred and named;
    a tabular benchmark's true front, when given, as a dashed staircase beside it."""
    scale = COST_SCALE[cost]
    usable = points.dropna(subset=["accuracy", cost])
    front = pareto_front(usable, minimize=(cost,))
    refs = usable[usable["reference"] != ""]
    fig, ax = plt.subplots(figsize=(7, 4.6), dpi=120)
    ax.scatter(usable[cost] * scale, usable["accuracy"] * 100, s=18, color="0.65",
               label="candidates", zorder=2)
    if not front.empty:
        ax.step(front[cost] * scale, front["accuracy"] * 100, where="post", color="tab:blue",
                lw=1.5, zorder=3)
        ax.scatter(front[cost] * scale, front["accuracy"] * 100, s=30, color="tab:blue",
                   label="Pareto front", zorder=4)
        for _, row in front.iterrows():
            ax.annotate(f"#{row['number']}", (row[cost] * scale, row["accuracy"] * 100),
                        textcoords="offset points", xytext=(4, -10), fontsize=7,
                        color="tab:blue")
    if true_front is not None and not true_front.empty:
        ax.step(true_front[cost] * scale, true_front["accuracy"] * 100, where="post",
                color="black", lw=1.0, ls="--", zorder=1, label=true_label)
    for _, row in refs.iterrows():
        x, y = row[cost] * scale, row["accuracy"] * 100
        ax.scatter([x], [y], marker="*", s=160, color="tab:red", zorder=5)
        ax.annotate(row["reference"], (x, y), textcoords="offset points", xytext=(6, 6),
                    fontsize=9, color="tab:red", weight="bold")
    ax.set_xlabel(cost_label or COST_LABELS[cost])
    ax.set_ylabel("validation accuracy (%)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_hypervolume(history: pd.DataFrame, path: Path, *, title: str) -> Path:
    fig, ax = plt.subplots(figsize=(6.5, 3.8), dpi=120)
    for column in history.columns:
        if column.startswith("hv_") and history[column].notna().any():
            ax.plot(history["number"], history[column], marker=".", label=column[3:])
    ax.set_xlabel("trial number")
    ax.set_ylabel("hypervolume (share of reference box)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
