"""The MobileNetV3 procedure in one command (``python -m nas.experiment experiment=<name>``).

Howard et al. 2019 ("Searching for MobileNetV3", Sec. 4) found their networks in two stages:

1. platform-aware NAS with the MnasNet reward ACC x (LAT/TARGET)^w (Tan et al. 2019), w = -0.07
   for Large (seeded from MnasNet-A1) and -0.15 for Small (``python -m nas.search`` with
   ``search=mnasnet``; results in ``<run_dir>/search/``);
2. NetAdapt (Yang et al. 2018) from the best-reward network toward a latency target
   (``nas.netadapt``; results in ``<run_dir>/netadapt/``).

Then every found network and the published ones (``compare.networks``) are trained from scratch
with the evaluator's recipe for each seed of ``compare.seeds``, and measured in the same run:
accuracy on the proxy task, MACs, params, predicted latency (``<run_dir>/compare.csv``,
``report.md``, ``compare.png``). Each stage is resumable: the same command continues a killed run.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from nas.arch import PRESETS, ArchSpec, decode, resolve_arch
from nas.cli import as_number
from nas.cost import arch_cost
from nas.errors import NasError
from nas.experiment.report import write_experiment_report
from nas.netadapt.adapt import NetAdaptSettings, netadapt

USAGE = """usage: python -m nas.experiment experiment=mobilenet_v3_large|mobilenet_v3_small
       [search.n_trials=..] [netadapt.target_ms=..] [compare.seeds=[0,1,2]] [run_dir=..]
Runs the search (MnasNet reward), NetAdapt from its best network, and the comparison report."""

COMPARE_NAME = "compare.csv"


def resolve_network(entry: str) -> ArchSpec:
    """``preset``, ``preset:width`` (``mobilenet_v2:0.35``) or an architecture string."""
    name, _, width = str(entry).partition(":")
    if name in PRESETS and width:
        return resolve_arch(name, width=as_number(width, float, f"width of {entry}"))
    return resolve_arch(str(entry))


def best_by_reward(trials: pd.DataFrame, exclude: list[str]) -> pd.Series:
    """The evaluated trial of highest MnasNet reward, leaving out excluded references."""
    rows = trials[trials["evaluated"].astype(bool) & trials["reward"].notna()]
    rows = rows[~rows["reference"].fillna("").isin(exclude)]
    if rows.empty:
        raise NasError("the search has no evaluated trial to start NetAdapt from")
    return rows.loc[rows["reward"].idxmax()]


def run_stage_search(cfg: DictConfig, run_dir: Path) -> pd.Series:
    from nas.search.__main__ import main as search_main

    search_cfg = copy.deepcopy(cfg)
    search_cfg.run_dir = str(run_dir / "search")
    search_cfg.report = True
    search_main(search_cfg)
    trials = pd.read_csv(run_dir / "search" / "trials.csv", keep_default_na=False,
                         na_values={"reward": [""], "number": [""]})
    trials["reward"] = pd.to_numeric(trials["reward"], errors="coerce")
    trials["evaluated"] = trials["evaluated"].astype(str) == "True"
    return best_by_reward(trials, list(cfg.compare.exclude_from_seed))


def run_stage_netadapt(cfg: DictConfig, seed_spec: ArchSpec, hardware, run_dir: Path):
    from nas.netadapt.__main__ import make_tuner, settings_from

    netadapt_cfg = OmegaConf.merge(
        {"seed": cfg.seed, "device": cfg.get("device") or "cpu", "data": cfg.data,
         "evaluator": cfg.evaluator},
        cfg.netadapt,
    )
    settings: NetAdaptSettings = settings_from(netadapt_cfg)
    return netadapt(seed_spec, latency=hardware.predict_ms, tuner=make_tuner(netadapt_cfg),
                    settings=settings, run_dir=run_dir / "netadapt", hardware=hardware.name)


def measure(networks: dict[str, tuple[str, ArchSpec]], cfg: DictConfig, hardware,
            seeds: list[int], path: Path) -> pd.DataFrame:
    """Train each network from scratch per seed (cached in ``path``); costs and latency."""
    from nas.evaluate import make_evaluator

    data_cfg = OmegaConf.to_container(cfg.data)
    evaluator_cfg = OmegaConf.to_container(cfg.evaluator)
    done = pd.read_csv(path) if path.exists() else \
        pd.DataFrame(columns=["network", "arch", "seed"])
    rows = done.to_dict("records")
    for name, (role, spec) in networks.items():
        cost = arch_cost(spec)
        for seed in seeds:
            arch = str(spec)
            if ((done["arch"] == arch) & (done["seed"] == seed)).any():
                if not ((done["network"] == name) & (done["arch"] == arch)).any():
                    cached = done[(done["arch"] == arch) & (done["seed"] == seed)].iloc[0]
                    rows.append(dict(cached) | {"network": name, "role": role})
                continue
            print(f"compare: training {name} (seed {seed})", flush=True)
            result = make_evaluator(data_cfg, evaluator_cfg, seed).evaluate(spec)
            rows.append({
                "network": name, "role": role, "seed": seed,
                "val_accuracy": result.val_accuracy,
                "test_accuracy": getattr(result, "test_accuracy", None),
                "train_seconds": result.train_seconds, "epochs": result.epochs,
                "macs": cost.macs, "params": cost.params,
                "latency_ms": hardware.predict_ms(spec), "arch": arch,
            })
            pd.DataFrame(rows).to_csv(path, index=False)  # one finished training at a time
    frame = pd.DataFrame(rows)
    wanted = {(name, str(spec)) for name, (_, spec) in networks.items()}
    keep = [(name, arch) in wanted for name, arch in zip(frame["network"], frame["arch"])]
    return frame[pd.Series(keep, index=frame.index) & frame["seed"].isin(seeds)]


def summarise(measured: pd.DataFrame) -> pd.DataFrame:
    """One row per network: mean and spread of accuracy over seeds, costs, latency."""
    accuracy = "test_accuracy" if measured["test_accuracy"].notna().all() else "val_accuracy"
    grouped = measured.groupby(["network", "role", "arch"], sort=False)
    table = grouped.agg(accuracy=(accuracy, "mean"), accuracy_std=(accuracy, "std"),
                        seeds=("seed", "count"), macs=("macs", "first"),
                        params=("params", "first"), latency_ms=("latency_ms", "first"))
    table.attrs["accuracy_kind"] = accuracy
    return table.reset_index()


def verdicts(table: pd.DataFrame, reference: str) -> list[str]:
    """For each found network: where it stands against the reference's trade-off."""
    ref = table[table["network"] == reference].iloc[0]
    lines = []
    for _, row in table[table["role"] != "reference"].iterrows():
        faster = row["latency_ms"] <= ref["latency_ms"]
        better = row["accuracy"] >= ref["accuracy"]
        if faster and better:
            verdict = "dominates the reference (at least as fast and as accurate)"
        elif faster or better:
            verdict = ("on the reference's trade-off frontier: "
                       + ("faster but less accurate" if faster else "more accurate but slower"))
        else:
            verdict = "WORSE on both axes than the reference"
        spread = max(_std(row), _std(ref))
        noise = (f" The accuracy gap ({row['accuracy'] - ref['accuracy']:+.4f}) is within the "
                 f"seed spread ({spread:.4f}): not a measurable difference."
                 if abs(row["accuracy"] - ref["accuracy"]) <= spread else "")
        lines.append(f"- **{row['network']}**: {row['latency_ms']:.1f} ms vs "
                     f"{ref['latency_ms']:.1f} ms, accuracy {row['accuracy']:.4f} vs "
                     f"{ref['accuracy']:.4f}: {verdict}.{noise}")
    return lines


def _std(row: pd.Series) -> float:
    return 0.0 if pd.isna(row["accuracy_std"]) else float(row["accuracy_std"])


def main(cfg: DictConfig) -> None:
    import optuna

    from nas.hardware import load_hardware
    from nas.netadapt.__main__ import set_threads

    name = OmegaConf.select(cfg, "experiment.name", default=None)
    if not name or OmegaConf.select(cfg, "netadapt", default=None) is None:
        raise NasError("give experiment=mobilenet_v3_large or experiment=mobilenet_v3_small")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    set_threads(cfg.get("threads"))
    run_dir = Path(cfg.run_dir or f"results/{name}")
    hardware = load_hardware(OmegaConf.to_container(cfg.hardware))
    best = run_stage_search(cfg, run_dir)
    seed_spec = decode(best["arch"])
    print(f"search: best reward {best['reward']:.4f} "
          f"({best['reference'] or 'trial ' + str(best['number'])}), NetAdapt starts there")
    adapted = run_stage_netadapt(cfg, seed_spec, hardware, run_dir)
    found_name = f"search best ({best['reference']})" if best["reference"] else "search best"
    networks = {found_name: ("found: search", seed_spec)}
    if adapted.steps > 0:  # otherwise the search's network already met the target
        networks["search + NetAdapt"] = ("found: NetAdapt", adapted.spec)
    for entry in cfg.compare.networks:
        networks[str(entry)] = ("reference", resolve_network(entry))
    seeds = list(cfg.compare.seeds)  # typed by nas.schema.Compare
    measured = measure(networks, cfg, hardware, seeds, run_dir / COMPARE_NAME)
    written = write_experiment_report(
        run_dir, summarise(measured), reference=str(cfg.experiment.reference),
        hardware=hardware, adapted=adapted, search_best=best, cfg=cfg)
    print(f"report: {written}")
    print(json.dumps({"report": str(written), "netadapt": adapted.message}))


