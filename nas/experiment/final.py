"""The final comparison's trainings: every found network and every reference trained
stand-alone at the ground truth's budget, on every seed, with ``nas.yardstick.build``'s
resumable queue of worker processes (one file per finished training under
``<run_dir>/final/runs/``; a rerun trains only what is missing).

The budget is ``compare.*``: epochs on a ``train_fraction`` of the training split, validated on
the whole validation split of ``data`` (``data.val_size``), with ``compare.recipe`` (the proxy
evaluator's recipe, ``conf/evaluator/proxy.yaml``, as ``nas.ground_truth`` uses it). The same
folder never mixes budgets or networks: a rerun with other settings is refused in one line.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from nas.arch import ArchSpec
from nas.cost import arch_cost
from nas.yardstick.build import (
    SETTINGS,
    finished,
    jobs_of,
    make_plan,
    table_of,
    write_or_check_plan,
)
from nas.yardstick.build import run as run_trainings
from nas.yardstick.selection import Candidate

FINAL_DIR = "final"
FINAL_TABLE = "final.csv"
PLAN_KEYS = (*SETTINGS, "networks")
SOURCE = "python -m nas.experiment"
# the proxy recipe's own budget keys: the final budget (compare.*) replaces them
BUDGET_KEYS = ("epochs", "train_fraction", "val_size", "seed_std")


@dataclass(frozen=True)
class Network:
    """A network of the final comparison: ``name`` names its files, ``label`` the report."""

    name: str
    label: str
    role: str  # "found: search", "found: NetAdapt", "found: first N", "reference"
    spec: ArchSpec


def slug(text: str) -> str:
    """A file-name-safe name; long ones (architecture strings) keep a hash to stay distinct."""
    clean = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)).strip("_")
    if len(clean) <= 48:
        return clean
    return f"{clean[:39]}-{hashlib.sha1(str(text).encode()).hexdigest()[:8]}"


def final_settings(cfg: DictConfig, space_name: str) -> dict:
    """What a final training depends on (the plan's compared settings, less the networks)."""
    recipe = {key: value for key, value in OmegaConf.to_container(cfg.compare.recipe).items()
              if key not in BUDGET_KEYS}
    recipe["train_fraction"] = float(cfg.compare.train_fraction)
    return {"space": space_name, "data": OmegaConf.to_container(cfg.data), "evaluator": recipe,
            "epochs": int(cfg.compare.epochs), "seeds": [int(s) for s in cfg.compare.seeds]}


def plan_final(networks: list[Network], settings: dict, command: str) -> dict:
    candidates = []
    for network in networks:
        cost = arch_cost(network.spec)
        candidates.append(Candidate(network.name, network.role, network.spec, cost.macs,
                                    cost.params))
    plan = make_plan(candidates, command=command, **settings)
    for entry, network in zip(plan["networks"], networks):
        entry["label"] = network.label
    return plan


def folder_of(run_dir: Path) -> Path:
    return Path(run_dir) / FINAL_DIR


def prepare_final(run_dir: Path, plan: dict) -> dict:
    """The plan on disk: written by the first run, and a rerun with other settings refused in
    one line (before anything is trained or reported)."""
    folder = folder_of(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return write_or_check_plan(folder, plan, keys=PLAN_KEYS, what="final trainings",
                               hint="give another run_dir= or restore the settings")


def trained_so_far(run_dir: Path, plan: dict) -> tuple[pd.DataFrame, int, int]:
    """The finished trainings as the final table (networks with at least one seed), how many
    trainings are finished and how many the plan has."""
    runs = finished(folder_of(run_dir))
    jobs = jobs_of(plan)
    return table_of(plan, runs), sum(job.file_name in runs for job in jobs), len(jobs)


def run_final(run_dir: Path, plan: dict, *, workers: int, threads: int | None,
              on_progress=None) -> pd.DataFrame:
    """Train what is missing; the ground-truth-format table (accuracy in percent, seed_<k>).
    ``on_progress()`` is called each time trainings finish (the interim report)."""
    plan = prepare_final(run_dir, plan)
    return run_trainings(folder_of(run_dir), plan, Path(run_dir) / FINAL_TABLE,
                         workers=workers, threads=threads, label="final", source=SOURCE,
                         on_progress=on_progress)
