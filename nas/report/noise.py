"""An evaluator's seed noise, where accuracies are shown.

A search's accuracies come from one training per candidate (one seed), so two candidates whose
accuracies differ by less than their seed noise are not told apart. The evaluator's config
states its measured seed std (``seed_std``, accuracy points; the proxy's from
``benchmarks/proxy_noise.py``). Two independent single-seed accuracies differ by more than
``1.96 * sqrt(2) * seed_std`` only 5% of the time when the networks are equally good: front
points closer than that lie within the noise of each other.
"""

from __future__ import annotations

import math

import pandas as pd


def seed_std(attrs: dict) -> float | None:
    """The study's evaluator seed std in accuracy points, or None when it was not measured."""
    value = (attrs.get("evaluator_config") or {}).get("seed_std")
    return float(value) if value is not None and math.isfinite(float(value)) else None


def noise_margin(std: float) -> float:
    """Accuracy points two single-seed results may differ by from noise alone (95%)."""
    return 1.96 * math.sqrt(2.0) * std


def within_noise(front: pd.DataFrame, std: float) -> list[list[int]]:
    """Trial numbers of front points in runs where neighbours (by accuracy) lie within the
    noise margin of each other: each run is a group the evaluator cannot order."""
    margin = noise_margin(std) / 100
    ordered = front.sort_values("accuracy", ascending=False)
    groups, current, last = [], [], None
    for _, row in ordered.iterrows():
        if last is not None and last - row["accuracy"] <= margin:
            current.append(int(row["number"]))
        else:
            if len(current) > 1:
                groups.append(current)
            current = [int(row["number"])]
        last = row["accuracy"]
    if len(current) > 1:
        groups.append(current)
    return groups


# Without a stated std: what a supernet's accuracies are, where seed noise is not the point.
SUPERNET_NOTE = (
    "Accuracies are a trained supernet's (each candidate inherits its weights; nothing is trained "
    "per candidate): the same file and BN images give the same score, so the fronts carry no "
    "seed error bars. Their error is in the ranking, measured against stand-alone training by "
    "`python -m nas.rank evaluator=supernet` (the shipped supernet: Kendall 0.43 against a "
    "seed-to-seed ceiling of 0.52, about 2 points below stand-alone accuracy; README \"The "
    "yardstick\"): treat front points within a point or so of each other as ties, and train the "
    "networks you pick stand-alone before trusting their order.")


def noise_lines(fronts: dict[str, pd.DataFrame], std: float | None,
                evaluator_kind: str | None = None) -> list[str]:
    """The summary's paragraph on noise: the std, the margin, and the groups per front."""
    if std is None and evaluator_kind == "supernet":
        return ["## Noise", "", SUPERNET_NOTE, ""]
    if std is None:
        return ["## Noise", "", "The evaluator's seed noise was not measured (no `seed_std` in "
                "its config), so the fronts carry no error bars; differences of a point or two "
                "may be seed noise.", ""]
    lines = ["## Noise", "",
             f"The evaluator's seed std is {std:.2f} accuracy points (error bars in the plots): "
             f"two single-seed accuracies closer than {noise_margin(std):.2f} points "
             f"(1.96 x sqrt(2) x std) are not told apart.", ""]
    for cost, front in fronts.items():
        groups = within_noise(front, std)
        if not groups:
            lines.append(f"- accuracy vs {cost}: every front point is outside the noise of the "
                         f"next.")
            continue
        shown = "; ".join(", ".join(f"#{n}" for n in group) for group in groups)
        lines.append(f"- accuracy vs {cost}: within the noise of each other: {shown}.")
    return lines + [""]
