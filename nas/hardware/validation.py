"""How well predicted latencies match end-to-end measurements: error and rank statistics."""

from __future__ import annotations

import pandas as pd


def error_stats(predicted: pd.Series, measured: pd.Series) -> dict[str, float]:
    """MAPE and max error (%), share within 5% and 10%, Spearman rank correlation."""
    error = (predicted - measured).abs() / measured * 100
    return {
        "mape": float(error.mean()),
        "max_error": float(error.max()),
        "within5": float((error <= 5).mean()),
        "within10": float((error <= 10).mean()),
        "spearman": spearman(predicted, measured),
    }


def spearman(a, b) -> float:
    """Spearman's rho: Pearson correlation of the ranks (ties averaged), no scipy needed."""
    a, b = pd.Series(a).reset_index(drop=True), pd.Series(b).reset_index(drop=True)
    return float(a.rank().corr(b.rank()))


def scatter_plot(frame: pd.DataFrame, path, title: str) -> None:
    """Predicted vs measured, with the y = x line and +/-10% band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 5))
    low = 0.9 * min(frame["measured_ms"].min(), frame["predicted_ms"].min())
    high = 1.1 * max(frame["measured_ms"].max(), frame["predicted_ms"].max())
    line = [low, high]
    ax.plot(line, line, "k-", lw=0.8, label="y = x")
    ax.fill_between(line, [v * 0.9 for v in line], [v * 1.1 for v in line], color="0.9",
                    label="±10%")
    for source, marker in (("space", "o"), ("preset", "s")):
        part = frame[frame["source"] == source]
        ax.scatter(part["measured_ms"], part["predicted_ms"], s=18, marker=marker, label=source)
    ax.set_xlim(line)
    ax.set_ylim(line)
    ax.set_xlabel("measured end to end (ms)")
    ax.set_ylabel("predicted from the table (ms)")
    ax.set_title(title, fontsize=9)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
