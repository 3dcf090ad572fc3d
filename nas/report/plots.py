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
HV_LABELS = {"macs": "MACs", "latency_ms": "latency"}


def plot_front(points: pd.DataFrame, cost: str, path: Path, *, title: str,
               cost_label: str | None = None, true_front: pd.DataFrame | None = None,
               true_label: str = "true front", accuracy_std: float | None = None) -> Path:
    """Every evaluated candidate, the front as a staircase, the references starred and named;
    a tabular benchmark's true front, when given, as a dashed staircase beside it; the
    evaluator's seed std (accuracy points), when known, as error bars on the front and the
    references."""
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
        if accuracy_std:
            ax.errorbar(front[cost] * scale, front["accuracy"] * 100, yerr=accuracy_std,
                        fmt="none", ecolor="tab:blue", alpha=0.5, capsize=2, zorder=3,
                        label=f"+- seed std ({accuracy_std:.2f} pts)")
    if true_front is not None and not true_front.empty:
        ax.step(true_front[cost] * scale, true_front["accuracy"] * 100, where="post",
                color="black", lw=1.0, ls="--", zorder=1, label=true_label)
    for _, row in refs.iterrows():
        ax.scatter([row[cost] * scale], [row["accuracy"] * 100], marker="*", s=160,
                   color="tab:red", zorder=5)
        if accuracy_std:
            ax.errorbar([row[cost] * scale], [row["accuracy"] * 100], yerr=accuracy_std,
                        fmt="none", ecolor="tab:red", alpha=0.5, capsize=2, zorder=5)
    ax.set_xlabel(cost_label or COST_LABELS[cost])
    ax.set_ylabel("validation accuracy (%)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    # Labels last, once the axes' size is final: each goes where it covers no point.
    labels = [(row["reference"], row, dict(fontsize=9, color="tab:red", weight="bold"))
              for _, row in refs.iterrows()]
    labels += [(f"#{row['number']}", row, dict(fontsize=7, color="tab:blue"))
               for _, row in front.iterrows()]
    points_px = ax.transData.transform(
        list(zip(usable[cost] * scale, usable["accuracy"] * 100)) or [(0.0, 0.0)])
    placed: list = []
    for text, row, style in labels:
        xy = (row[cost] * scale, row["accuracy"] * 100)
        offset = clear_offset(ax, xy, text, style["fontsize"], points_px, placed)
        ax.annotate(text, xy, textcoords="offset points", xytext=offset,
                    ha="right" if offset[0] < 0 else "left", va="bottom", **style)
    fig.savefig(path)
    plt.close(fig)
    return path


# Where a label may go, in points from its point: right, above, left, below, then the corners.
LABEL_OFFSETS = ((7, -4), (-4, 8), (-7, -4), (-4, -16), (7, 7), (-7, 7), (7, -14), (-7, -14))


def clear_offset(ax, xy, text: str, fontsize: float, points_px, placed: list) -> tuple:
    # The text's corner at the offset: its left edge to the right of the point, its right
    # edge to the left; its bottom at the offset's height (va="bottom").
    """The first of LABEL_OFFSETS whose label box (estimated from the text's length) covers no
    plotted point and no label placed before, inside the axes; the box is added to
    ``placed``. When none is clear, the one covering the fewest points."""
    px_per_pt = ax.figure.dpi / 72
    width, height = 0.6 * fontsize * len(text) * px_per_pt, fontsize * px_per_pt
    x0, y0 = ax.transData.transform(xy)
    frame = ax.get_window_extent()
    best, best_hits = LABEL_OFFSETS[0], None
    for dx, dy in LABEL_OFFSETS:
        left = x0 + dx * px_per_pt - (width if dx < 0 else 0)
        bottom = y0 + dy * px_per_pt
        box = (left - 2, bottom - 2, left + width + 2, bottom + height + 2)
        hits = sum(box[0] <= px <= box[2] and box[1] <= py <= box[3] for px, py in points_px)
        hits += sum(_overlap(box, other) for other in placed)
        inside = frame.x0 <= box[0] and box[2] <= frame.x1 and frame.y0 <= box[1] \
            and box[3] <= frame.y1
        hits += 0 if inside else 100
        if best_hits is None or hits < best_hits:
            best, best_hits, best_box = (dx, dy), hits, box
        if hits == 0:
            break
    placed.append(best_box)
    return best


def _overlap(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def plot_hypervolume(history: pd.DataFrame, path: Path, *, title: str) -> Path:
    fig, ax = plt.subplots(figsize=(6.5, 3.8), dpi=120)
    for column in history.columns:
        if column.startswith("hv_") and history[column].notna().any():
            cost = column[3:]
            ax.plot(history["number"], history[column], marker=".",
                    label=f"accuracy vs {HV_LABELS.get(cost, cost)}")
    ax.set_xlabel("trial number")
    ax.set_ylabel("hypervolume (share of reference box)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
