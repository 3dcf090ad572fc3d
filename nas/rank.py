"""``python -m nas.rank``: how well an accuracy signal ranks the ground truth's networks.

Every evaluator a search can use (``conf/evaluator/``) scores each network of a ground-truth
table (``python -m nas.ground_truth``, or NAS-Bench-Macro's); the scores are compared with the
table's mean accuracy by Kendall tau (with a bootstrap 95% interval), Spearman and top-k overlap,
and printed beside MACs, params and the table's own seed-to-seed agreement (the ceiling).
Writes the per-network scores (CSV), the summary (JSON) and a scatter plot. Scores are saved as
they come (``<out>.scores.json``, valid for the same evaluator, data and seed): a killed run, or
a rerun against a ground truth that has grown since, scores only the networks not yet scored;
a weights file the evaluator reads (a supernet) counts by its content, not its path, and an
evaluator's stated seed noise (``seed_std``) does not count: it changes no score.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from nas.arch import SearchSpace, decode
from nas.cli import run
from nas.errors import NasError
from nas.io import atomic_write, file_sha256
from nas.search.evaluators import check_evaluator_space, evaluator_kind, make_search_evaluator
from nas.supernet import settled
from nas.supernet.evaluator import precision_name
from nas.yardstick import load_ground_truth, seed_ceiling
from nas.yardstick.rank import score_networks, signal_row

GROUND_TRUTH_DIR = Path("results") / "ground_truth"


def default_label(evaluator_cfg: dict) -> str:
    kind = evaluator_kind(evaluator_cfg)
    if kind == "zero_cost":
        return f"zero_cost-{evaluator_cfg.get('score')}"
    if kind == "proxy":
        return (f"proxy-{evaluator_cfg.get('epochs')}ep-"
                f"{evaluator_cfg.get('train_fraction')}train")
    return kind


def beside(out: Path, extension: str) -> Path:
    """``out`` with ``extension`` added: a label such as ``proxy-2ep-0.05train`` keeps its
    dots (``with_suffix`` would cut it at ``0.``, and two budgets would share one file)."""
    return out.with_name(out.name + extension)


def sample(frame: pd.DataFrame, limit: int | None, seed: int) -> pd.DataFrame:
    if limit is None or limit >= len(frame):
        return frame
    rows = sorted(random.Random(seed).sample(range(len(frame)), limit))
    return frame.iloc[rows].reset_index(drop=True)


def plot(path: Path, truth: pd.DataFrame, scores: list[float], row: dict, ceiling: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(5.5, 4))
    errors = truth["accuracy_std"] if "accuracy_std" in truth else None
    axis.errorbar(scores, truth["accuracy"], yerr=errors, fmt="o", ms=4, capsize=2,
                  color="tab:blue", ecolor="0.7")
    axis.set_xlabel(f"{row['signal']} score")
    axis.set_ylabel("ground-truth accuracy (%) +- seed std")
    axis.set_title(f"{row['signal']}: Kendall {row['kendall']:.2f} "
                   f"[{row['kendall_low']:.2f}, {row['kendall_high']:.2f}], "
                   f"ceiling {ceiling['kendall']:.2f}", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


class SavedScores:
    """Scores saved one network at a time, valid only for the settings that made them."""

    def __init__(self, path: Path, settings: dict) -> None:
        self.path, self.settings = path, json.loads(json.dumps(settings, default=str))
        self.scores: dict[str, tuple[float, float]] = {}
        if path.is_file():
            try:
                saved = json.loads(path.read_text())
            except json.JSONDecodeError:
                saved = {}
                print(f"warning: {path} is corrupt; scoring from the start", file=sys.stderr)
            if comparable(saved.get("settings")) == self.settings:
                self.scores = {arch: tuple(value) for arch, value in saved["scores"].items()}
            elif saved:
                print(f"note: {path} was scored with other settings; scoring from the start",
                      file=sys.stderr)

    def add(self, arch: str, score: float, seconds: float) -> None:
        self.scores[arch] = (score, seconds)
        atomic_write(self.path, json.dumps({"settings": self.settings,
                                            "scores": self.scores}) + "\n")


# Evaluator keys that describe a score (its measured seed noise, shown in plots) without
# changing it: saved scores stay valid when they change.
NOT_SCORING = ("seed_std",)


def comparable(settings: dict | None) -> dict | None:
    """Saved settings without the keys that do not change a score (files saved before
    ``score_settings`` left them out still match). A supernet's scores saved before
    ``evaluator.precision`` existed were float32 ones."""
    if not isinstance(settings, dict) or not isinstance(settings.get("evaluator"), dict):
        return settings
    evaluator = {k: v for k, v in settings["evaluator"].items() if k not in NOT_SCORING}
    if evaluator.get("kind") == "supernet":
        evaluator["precision"] = precision_name(evaluator)
        evaluator.setdefault("settled", "none")  # saved before evaluator.settled: every image
    return {**settings, "evaluator": evaluator}


def score_settings(evaluator_cfg: dict, data_cfg: dict | None, seed: int) -> dict:
    """What a network's score depends on, so saved scores are reused only when all of it is
    equal: the evaluator's settings, the data, the seed and, for an evaluator that reads weights
    from a file (a supernet, a predictor), that file's content: a supernet still training keeps
    its path while its weights change."""
    evaluator_cfg = {k: v for k, v in evaluator_cfg.items() if k not in NOT_SCORING}
    if evaluator_cfg.get("kind") == "supernet":  # auto as what this CPU runs
        evaluator_cfg["precision"] = precision_name(evaluator_cfg)
        evaluator_cfg["settled"] = settled.identity(evaluator_cfg, data_cfg)  # the file used
    settings = {"evaluator": evaluator_cfg, "data": data_cfg, "seed": seed}
    weights = evaluator_cfg.get("path")
    if weights and Path(str(weights)).is_file():
        settings["evaluator_file_sha256"] = file_sha256(str(weights))
    return settings


def format_table(rows: list[dict]) -> str:
    frame = pd.DataFrame(rows)
    return frame.to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep="-")


def rank(cfg: DictConfig) -> dict:
    """Score ``cfg.evaluator`` on the ground truth; write CSV, JSON, PNG; return the summary."""
    space = SearchSpace.from_config(OmegaConf.to_container(cfg.space))
    data_cfg = OmegaConf.to_container(cfg.data) if cfg.get("data") is not None else None
    evaluator_cfg = OmegaConf.to_container(cfg.evaluator)
    dataset = (data_cfg or {}).get("name", "none")
    path = Path(cfg.ground_truth) if cfg.ground_truth else \
        GROUND_TRUTH_DIR / f"{space.name}-{dataset}.csv"
    truth = load_ground_truth(path, space=space.name)
    seed, top_k, resamples = cfg.seed, cfg.top_k, cfg.bootstrap
    if top_k < 1:
        raise NasError(f"top_k must be >= 1, got {top_k}")
    frame = sample(truth.frame, cfg.limit, seed)
    if len(frame) < 10:
        raise NasError(f"limit={cfg.limit} leaves {len(frame)} networks; a ranking needs >= 10")
    for arch in frame["arch"]:
        space.encode(decode(arch))  # NotInSpaceError: one line, before any scoring
    if truth.meta.get("dataset") != dataset:
        print(f"note: images from {dataset} stand in for the ground truth's "
              f"{truth.meta.get('dataset')}", file=sys.stderr)
    label = str(cfg.label) if cfg.label else default_label(evaluator_cfg)
    evaluator = make_search_evaluator(data_cfg, evaluator_cfg, seed)
    check_evaluator_space(evaluator, space)
    out = Path(cfg.out) if cfg.out else Path("results") / "rank" / path.stem / label
    out.parent.mkdir(parents=True, exist_ok=True)
    saved = SavedScores(beside(out, ".scores.json"),
                        score_settings(evaluator_cfg, data_cfg, seed))
    kept = sum(arch in saved.scores for arch in frame["arch"])
    if kept:
        print(f"{label}: {kept} networks scored by an earlier run are kept", file=sys.stderr)
    scores, seconds = score_networks(evaluator, list(frame["arch"]), desc=label,
                                     done=saved.scores, on_score=saved.add)
    accuracy = frame["accuracy"].tolist()
    common = {"k": top_k, "resamples": resamples, "seed": seed}
    rows = [signal_row(label, scores, accuracy, seconds=sum(seconds) / len(seconds), **common)]
    for baseline in ("macs", "params"):
        if baseline in frame:
            rows.append(signal_row(baseline, frame[baseline].tolist(), accuracy, seconds=None,
                                   **common))
    ceiling = seed_ceiling(frame)  # over the networks scored, as the signal is
    rows.append({"signal": "ceiling (seed vs seed)", "kendall": ceiling["kendall"],
                 "spearman": ceiling["spearman"], "networks": ceiling["networks"]})
    per_network = frame[[c for c in ("name", "arch", "accuracy", "accuracy_std") if c in frame]]
    per_network = per_network.assign(score=scores, seconds=seconds)
    per_network.to_csv(beside(out, ".csv"), index=False)
    summary = {"ground_truth": str(path), "ground_truth_meta": truth.meta, "label": label,
               "evaluator": evaluator_cfg, "seed": seed, "networks": len(frame),
               "seed_noise": truth.seed_noise, "rows": rows,
               "command": "python -m nas.rank " + " ".join(sys.argv[1:]), "out": str(out)}
    beside(out, ".json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    plot(beside(out, ".png"), frame, scores, rows[0], ceiling)
    return summary


def main(cfg: DictConfig) -> None:
    summary = rank(cfg)
    print(f"{summary['networks']} networks of {summary['ground_truth']} "
          f"({summary['ground_truth_meta'].get('budget')}), mean seed std "
          f"{summary['seed_noise']:.2f} pts")
    print(format_table(summary["rows"]))
    print(f"wrote {summary['out']}.csv, .json, .png")


def cli() -> None:
    run(main, "rank", usage="usage: python -m nas.rank evaluator=<proxy|zero_cost|...> "
        "[evaluator.score=synflow] [space=...] [ground_truth=FILE] [limit=N] [--cfg]")


if __name__ == "__main__":
    cli()
