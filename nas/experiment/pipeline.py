"""The MobileNetV3 procedure in one command (``python -m nas.experiment experiment=<name>``).

Howard et al. 2019 ("Searching for MobileNetV3", Sec. 4) found their networks in two stages:

1. platform-aware NAS with the MnasNet reward ACC x (LAT/TARGET)^w (Tan et al. 2019), w = -0.07
   for Large (seeded from MnasNet-A1) and -0.15 for Small (``python -m nas.search`` with
   ``search=mnasnet``; results in ``<run_dir>/search/``);
2. NetAdapt (Yang et al. 2018) from the best-reward network toward a latency target
   (``nas.netadapt``; results in ``<run_dir>/netadapt/``).

Both stages score networks with any evaluator (``evaluator=proxy|supernet|zero_cost``; with a
supernet, NetAdapt's proposals take the supernet's weights, ``nas.netadapt.supernet``). Then
every found network and the published ones (``compare.networks``) are trained stand-alone at
the ground truth's budget on every seed of ``compare.seeds`` (``nas.experiment.final``: one
resumable training at a time, worker processes), and the report reads the result with its
noise (``nas.experiment.compare``). Everything the run will need is checked before the search
starts (``nas.experiment.checks``). Each stage is resumable: the same command continues.
"""

from __future__ import annotations

import contextlib
import copy
import json
import shlex
import sys
import time
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from nas.arch import ArchSpec, SearchSpace, decode
from nas.errors import NasError
from nas.experiment.checks import Prepared, preflight, resolve_network
from nas.experiment.compare import summarise, verdicts
from nas.experiment.curves import (
    best_within,
    candidates,
    growth_table,
    load_trials,
    reference_reward,
)
from nas.experiment.final import (
    Network,
    plan_final,
    prepare_final,
    run_final,
    slug,
    trained_so_far,
)
from nas.experiment.report import git_commit, latency_label, write_experiment_report
from nas.io import atomic_write
from nas.netadapt.adapt import NetAdaptResult, netadapt
from nas.yardstick.build import jobs_of

USAGE = """usage: python -m nas.experiment experiment=mobilenet_v3_large|mobilenet_v3_small
       [evaluator=proxy|supernet|zero_cost] [search.n_trials=..] [netadapt.target_ms=..]
       [compare.seeds=[0,1,2]] [compare.epochs=3] [compare.workers=2] [run_dir=..]
Runs the search (MnasNet reward), NetAdapt from its best network, the final stand-alone
trainings and the report; the same command continues a stopped run."""

__all__ = ["USAGE", "best_by_reward", "main", "resolve_network", "summarise", "verdicts"]


def best_by_reward(trials: pd.DataFrame, exclude: list[str]) -> pd.Series:
    """The evaluated trial of highest MnasNet reward, leaving out excluded references."""
    rows = trials[trials["evaluated"].astype(bool) & trials["reward"].notna()]
    rows = rows[~rows["reference"].fillna("").isin(exclude)]
    if rows.empty:
        raise NasError("the search has no evaluated trial to start NetAdapt from")
    return rows.loc[rows["reward"].idxmax()]


def run_stage_search(cfg: DictConfig, run_dir: Path) -> pd.DataFrame:
    """The search, in this process or (``search.n_workers`` > 1) in worker processes given
    this command's overrides and the search's own run directory."""
    from nas.search.__main__ import cfg_overrides
    from nas.search.__main__ import main as search_main

    search_dir = run_dir / "search"
    search_cfg = copy.deepcopy(cfg)
    search_cfg.run_dir = str(search_dir)
    search_cfg.report = True
    own = [arg for arg in cfg_overrides() if not arg.startswith("run_dir=")]
    search_main(search_cfg, worker_args=[*own, f"run_dir={search_dir}"])
    return load_trials(search_dir / "trials.csv")


def run_stage_netadapt(cfg: DictConfig, seed_spec: ArchSpec, hardware, run_dir: Path,
                       prepared: Prepared) -> NetAdaptResult:
    from nas.netadapt.tuning import make_tuner

    stage = cfg.netadapt
    tuner = make_tuner(data_cfg=OmegaConf.to_container(cfg.data),
                       evaluator_cfg=OmegaConf.to_container(cfg.evaluator), seed_spec=seed_spec,
                       finetune_lr=stage.finetune_lr,
                       finetune_batch_size=stage.finetune_batch_size,
                       train_images=stage.train_images, val_images=stage.val_images,
                       seed=cfg.seed, device=str(cfg.get("device") or "cpu"))
    return netadapt(seed_spec, latency=hardware.predict_ms, tuner=tuner,
                    settings=prepared.netadapt, run_dir=run_dir / "netadapt",
                    hardware=hardware.name)


def final_networks(best: pd.Series, adapted: NetAdaptResult, rows: pd.DataFrame,
                   prepared: Prepared, best_counts: list[int]) -> list[Network]:
    """The found networks (search best; after NetAdapt; the best within the first N
    candidates, when asked) and the references; a network already listed is not repeated."""
    where = best["reference"] or f"trial {int(best['number'])}"
    networks = [Network("search_best", f"search best ({where})", "found: search",
                        decode(best["arch"]))]
    if adapted.steps > 0:  # otherwise the search's network already met the target
        networks.append(Network("search_netadapt", "search + NetAdapt", "found: NetAdapt",
                                adapted.spec))
    for n in best_counts:
        row = best_within(rows, n)
        if row is not None:
            networks.append(Network(f"best_within_{n}",
                                    f"best of the first {n} (trial {int(row['number'])})",
                                    "found: first N", decode(row["arch"])))
    references = [Network(slug(entry), entry, "reference", spec)
                  for entry, spec in prepared.references.items()]
    return _unique(networks) + references  # a reference is kept even when a found one equals it


def _unique(networks: list[Network]) -> list[Network]:
    unique, seen = [], set()
    for network in networks:
        if str(network.spec) in seen:
            print(f"final: {network.label} is a network already listed; trained once",
                  file=sys.stderr)
            continue
        seen.add(str(network.spec))
        unique.append(network)
    return unique


TIMINGS_NAME = "timings.json"
LIMIT_MINUTES = 90  # the limit for search + NetAdapt on this CPU


@contextlib.contextmanager
def timed(run_dir: Path, stage: str):
    """Add the stage's wall seconds to ``timings.json``: summed over every invocation of the
    command (a resumed run's stages count what each invocation spent)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        path = run_dir / TIMINGS_NAME
        timings = json.loads(path.read_text()) if path.is_file() else {}
        timings[stage] = round(timings.get(stage, 0.0) + time.perf_counter() - started, 1)
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(timings, indent=1) + "\n")


def command_line() -> str:
    return "python -m nas.experiment " + " ".join(shlex.quote(a) for a in sys.argv[1:]
                                                   if a != "--cfg")


def main(cfg: DictConfig) -> None:
    import optuna

    from nas.hardware import load_hardware
    from nas.netadapt.__main__ import set_threads
    from nas.search.evaluators import evaluator_kind

    name = OmegaConf.select(cfg, "experiment.name", default=None)
    if not name or OmegaConf.select(cfg, "netadapt", default=None) is None \
            or OmegaConf.select(cfg, "compare", default=None) is None:
        raise NasError("give experiment=mobilenet_v3_large or experiment=mobilenet_v3_small")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    set_threads(cfg.get("threads"))
    run_dir = Path(cfg.run_dir or f"results/{name}")
    git_commit()  # the code that runs now, named by every report this command writes
    hardware = load_hardware(OmegaConf.to_container(cfg.hardware))
    space = SearchSpace.from_config(OmegaConf.to_container(cfg.space))
    prepared = preflight(cfg, space, hardware.predict_ms, run_dir)
    reference = str(cfg.experiment.reference)
    exclude = list(cfg.compare.exclude_from_seed)

    with timed(run_dir, "search"):
        trials = run_stage_search(cfg, run_dir)
    best = best_by_reward(trials, exclude)
    seed_spec = decode(best["arch"])
    print(f"search: best reward {best['reward']:.4f} "
          f"({best['reference'] or 'trial ' + str(int(best['number']))}), NetAdapt starts there")
    with timed(run_dir, "netadapt"):
        adapted = run_stage_netadapt(cfg, seed_spec, hardware, run_dir, prepared)

    rows = candidates(trials, exclude)
    networks = final_networks(best, adapted, rows, prepared, list(cfg.compare.best_within))
    search = {"best": best, "rows": rows, "growth": growth_table(rows),
              "evaluator": evaluator_kind(OmegaConf.to_container(cfg.evaluator)),
              "reference_reward": reference_reward(trials, reference),
              "limit_minutes": LIMIT_MINUTES}
    written, found = run_stage_final(cfg, run_dir, networks, prepared, hardware, adapted, search)
    print(f"report: {written}")
    print(json.dumps({"report": str(written), "netadapt": adapted.message,
                      "beats_reference": [v.label for v in found if v.beats]}))


def run_stage_final(cfg: DictConfig, run_dir: Path, networks: list[Network], prepared: Prepared,
                    hardware, adapted: NetAdaptResult, search: dict) -> tuple[Path, list]:
    """Every network trained stand-alone on every seed, then report.md with the verdicts.
    Before and while they train, report.md is an interim one (search, NetAdapt, the trainings
    finished so far, no verdict): a run stopped for days still has its report."""
    plan = prepare_final(run_dir, plan_final(networks, prepared.final, command_line()))
    latency = {n.name: hardware.predict_ms(n.spec) for n in networks}
    labels = {n.name: n.label for n in networks}
    reference = str(cfg.experiment.reference)
    _, error = latency_label(hardware)

    started = time.perf_counter()

    def report(frame: pd.DataFrame, done: int, planned: int) -> tuple[Path, list]:
        table = summarise(frame, latency, labels)
        found = verdicts(table, slug(reference), error) if done == planned else None
        so_far = None
        search["timings"] = json.loads((run_dir / TIMINGS_NAME).read_text())
        if found is None:  # interim: timings.json gets this invocation's final stage at its end
            so_far = comparisons_so_far(table, slug(reference), len(plan["seeds"]), error)
            search["timings"]["final"] = (search["timings"].get("final", 0.0)
                                          + time.perf_counter() - started)
        path = write_experiment_report(
            run_dir, table=table, found=found, trainings=(done, planned), reference=reference,
            hardware=hardware, adapted=adapted, search=search,
            final=_final_sizes(run_dir, prepared.final), cfg=cfg, command=command_line(),
            so_far=so_far)
        return path, found

    def interim() -> None:
        frame, done, planned = trained_so_far(run_dir, plan)
        if done < planned:  # once all are finished, the full report below
            path, _ = report(frame, done, planned)
            print(f"report (interim, {done} of {planned} final trainings finished): {path}",
                  file=sys.stderr, flush=True)

    interim()
    with timed(run_dir, "final"):
        frame = run_final(run_dir, plan, workers=cfg.compare.workers,
                          threads=cfg.compare.threads, on_progress=interim)
    planned = len(jobs_of(plan))  # what trained_so_far counts, without reading the runs again
    return report(frame, planned, planned)


def comparisons_so_far(table: pd.DataFrame, reference: str, seeds: int,
                       error_pct: float | None) -> list:
    """The comparisons already final while trainings are missing: the found networks with
    every seed against the reference, once it has every seed too."""
    if not len(table):
        return []
    complete = table[table["seeds"] == seeds]
    if reference not in set(complete["name"]):
        return []
    return verdicts(complete, reference, error_pct)


def _final_sizes(run_dir: Path, settings: dict) -> dict:
    """The plan's settings and how many images the trainings saw (from a finished run)."""
    runs = sorted((run_dir / "final" / "runs").glob("*.json"))
    record = json.loads(runs[0].read_text()) if runs else {}
    return settings | {"train_images": record.get("train_images", 0),
                       "val_images": record.get("val_images", 0)}
