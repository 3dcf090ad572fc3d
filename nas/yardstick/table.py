"""The ground-truth table: networks trained stand-alone at a long budget, one row each.

A CSV, one row per network: ``arch`` (the architecture string), ``name``, ``accuracy`` (mean over
seeds, percent), ``accuracy_std`` (sample std over seeds, percent), ``seed_<k>`` (each seed's
accuracy, percent), ``macs`` and ``params`` (at the space's deployment setting); beside it a JSON
sidecar with the same stem: ``space``, ``dataset``, ``budget``, ``seeds``, ``source``,
``command``. The project's own table (``python -m nas.ground_truth``) and NAS-Bench-Macro's share
this format, so ``nas.rank`` scores any signal against either.

The seed-to-seed rank agreement is the table's ceiling: no signal can be expected to agree with
one seed's training better than another seed's training of the same networks does.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from nas.errors import NasError
from nas.yardstick.metrics import kendall_tau, spearman

MIN_NETWORKS = 10
REQUIRED_COLUMNS = ("arch", "accuracy")
META_KEYS = ("space", "dataset", "budget", "seeds")


class GroundTruthError(NasError):
    """A ground-truth file that is missing, malformed, too small or of another space."""


def seed_columns(frame: pd.DataFrame) -> list[str]:
    return sorted((c for c in frame.columns if c.startswith("seed_")),
                  key=lambda c: int(c.split("_")[1]))


def seed_ceiling(frame: pd.DataFrame) -> dict[str, float]:
    """Mean pairwise Kendall tau and Spearman between seeds, over networks with every seed."""
    columns = seed_columns(frame)
    complete = frame.dropna(subset=columns) if columns else frame.iloc[:0]
    if len(columns) < 2 or len(complete) < 2:
        return {"kendall": math.nan, "spearman": math.nan, "networks": len(complete)}
    pairs = list(itertools.combinations(columns, 2))
    taus = [kendall_tau(complete[a].tolist(), complete[b].tolist()) for a, b in pairs]
    rhos = [spearman(complete[a].tolist(), complete[b].tolist()) for a, b in pairs]
    return {"kendall": sum(taus) / len(taus), "spearman": sum(rhos) / len(rhos),
            "networks": len(complete)}


@dataclass(frozen=True)
class GroundTruth:
    frame: pd.DataFrame
    meta: dict
    path: Path

    @property
    def space(self) -> str:
        return str(self.meta["space"])

    @property
    def ceiling(self) -> dict[str, float]:
        return seed_ceiling(self.frame)

    @property
    def seed_noise(self) -> float:
        """Mean over networks of the seed std, in points."""
        return float(self.frame["accuracy_std"].mean()) if "accuracy_std" in self.frame \
            else math.nan


def meta_path(path: Path) -> Path:
    return path.with_suffix(".json")


def save_ground_truth(frame: pd.DataFrame, meta: dict, path: Path) -> None:
    from nas.io import atomic_write

    missing = [key for key in META_KEYS if key not in meta]
    if missing:
        raise GroundTruthError(f"ground-truth metadata lacks {missing}")
    atomic_write(path, frame.to_csv(index=False))
    atomic_write(meta_path(path), json.dumps(meta, indent=2) + "\n")


def load_ground_truth(path: str | Path, *, space: str | None = None,
                      min_networks: int = MIN_NETWORKS) -> GroundTruth:
    """Read and check a ground-truth table; ``space`` refuses a table of another space."""
    path = Path(path)
    if not path.is_file():
        raise GroundTruthError(f"ground truth not found: {path}")
    try:
        frame = pd.read_csv(path)
        meta = json.loads(meta_path(path).read_text())
    except FileNotFoundError:
        raise GroundTruthError(f"{path}: its metadata {meta_path(path).name} is missing") \
            from None
    except (ValueError, pd.errors.ParserError) as error:
        raise GroundTruthError(f"{path}: not a ground-truth table ({error})") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    missing += [f"metadata {k!r}" for k in META_KEYS if k not in meta]
    if missing:
        raise GroundTruthError(f"{path}: missing {', '.join(missing)}")
    frame = frame.dropna(subset=["accuracy"]).reset_index(drop=True)
    if len(frame) < min_networks:
        raise GroundTruthError(f"{path} holds {len(frame)} networks; a ranking needs at least "
                               f"{min_networks}")
    if space is not None and str(meta["space"]) != space:
        raise GroundTruthError(f"{path} is a ground truth of space {meta['space']!r}, "
                               f"not {space!r}")
    return GroundTruth(frame=frame, meta=meta, path=path)
