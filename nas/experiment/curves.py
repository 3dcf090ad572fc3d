"""How the search's result grows with the candidates it has seen.

``candidates(trials)``: the search's scored architectures in the order the search saw them
(each distinct architecture once; duplicates reuse a result and are not new candidates), with
the best MnasNet reward so far. References excluded from NetAdapt's seed (the network the
experiment compares against) count as seen but never set the best: the curve is what the search
found, the reference's own reward is drawn as a line beside it.

``best_within(trials, n)``: the best network among the first ``n`` candidates of this one
search, which is how "100 vs 1,000 candidates" is read here: prefixes of one long search, not
separate searches of each length (those would also differ by their sampler's seed).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

CHECKPOINTS = (10, 30, 100, 300, 1000, 3000, 10000)


def load_trials(path) -> pd.DataFrame:
    trials = pd.read_csv(path, keep_default_na=False,
                         na_values={c: [""] for c in ("reward", "number", "duplicate_of",
                                                      "latency_ms", "accuracy")})
    for column in ("reward", "latency_ms", "accuracy"):
        trials[column] = pd.to_numeric(trials[column], errors="coerce")
    trials["evaluated"] = trials["evaluated"].astype(str) == "True"
    return trials


def candidates(trials: pd.DataFrame, exclude: list[str] = ()) -> pd.DataFrame:
    """Scored, distinct architectures by trial number: ``seen`` (1, 2, ...) and ``best``."""
    rows = trials[trials["evaluated"] & trials["reward"].notna()
                  & trials["duplicate_of"].isna()].sort_values("number")
    rows = rows.drop_duplicates(subset="arch", keep="first").reset_index(drop=True)
    rows["seen"] = range(1, len(rows) + 1)
    rows["counted"] = ~rows["reference"].fillna("").isin(list(exclude))
    rows["best"] = rows["reward"].where(rows["counted"]).cummax()
    return rows


def best_within(rows: pd.DataFrame, n: int) -> pd.Series | None:
    """The best-reward row among the first ``n`` candidates (excluded references never)."""
    first = rows[(rows["seen"] <= n) & rows["counted"]]
    return None if first.empty else first.loc[first["reward"].idxmax()]


def checkpoints(seen: int) -> list[int]:
    """Candidate counts to report: the standard ones below ``seen``, and ``seen`` itself."""
    return sorted({n for n in CHECKPOINTS if n < seen} | {seen}) if seen else []


def growth_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Per checkpoint: the best reward within the first N candidates and its network."""
    table = []
    for n in checkpoints(len(rows)):
        best = best_within(rows, n)
        if best is not None:
            table.append({"candidates": n, "best_reward": best["reward"],
                          "trial": int(best["number"]), "accuracy": best["accuracy"],
                          "latency_ms": best["latency_ms"], "arch": best["arch"]})
    return pd.DataFrame(table)


def reference_reward(trials: pd.DataFrame, reference: str) -> float | None:
    rows = trials[(trials["reference"].fillna("") == reference) & trials["reward"].notna()]
    return None if rows.empty else float(rows["reward"].iloc[0])


def _reference_line(axis, reward: float | None, reference: str) -> None:
    if reward is not None:
        axis.axhline(reward, color="tab:gray", linestyle="--", label=f"{reference} (reference)")


def curve_floor(rewards: pd.Series, reference: float | None) -> float | None:
    """The search curve's lower limit: the worst candidates would squash the curve, so show
    the upper 90% of rewards, and always the reference's line (a search whose candidates all
    beat it would otherwise hide it); None: too few candidates to cut."""
    finite = rewards.dropna()
    if len(finite) <= 4:
        return None
    bottom = float(finite.quantile(0.1))
    if reference is not None:
        bottom = min(bottom, reference - 0.05 * abs(float(finite.max()) - reference))
    return bottom


def plot_search_curve(rows: pd.DataFrame, reward: float | None, reference: str, path,
                      evaluator: str) -> None:
    fig, axis = plt.subplots(figsize=(8, 4.8))
    axis.scatter(rows["seen"], rows["reward"], s=6, alpha=0.3, color="tab:blue",
                 label="each candidate")
    axis.step(rows["seen"], rows["best"], where="post", color="tab:red", marker=".",
              markersize=3, label="best so far")
    _reference_line(axis, reward, reference)
    bottom = curve_floor(rows["reward"], reward)
    if bottom is not None:
        axis.set_ylim(bottom=bottom)
    axis.set_xlabel("candidates seen")
    axis.set_ylabel(f"MnasNet reward ({evaluator})")
    axis.legend(fontsize=8)
    axis.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_growth(table: pd.DataFrame, reward: float | None, reference: str, path,
                evaluator: str) -> None:
    fig, axis = plt.subplots(figsize=(7, 4.8))
    axis.plot(table["candidates"], table["best_reward"], "o-", color="tab:red",
              label="best within the first N candidates")
    for _, row in table.iterrows():
        axis.annotate(f"trial {row['trial']}, {row['latency_ms']:.1f} ms",
                      (row["candidates"], row["best_reward"]), textcoords="offset points",
                      xytext=(4, -12), fontsize=7)
    _reference_line(axis, reward, reference)
    if len(table) and table["candidates"].max() / max(1, table["candidates"].min()) > 5:
        axis.set_xscale("log")
    axis.set_xlabel("candidates (prefixes of one search)")
    axis.set_ylabel(f"best MnasNet reward ({evaluator})")
    axis.legend(fontsize=8)
    axis.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
