"""Search strategies on real accuracies: NSGA-II, MO-TPE, random search and the MnasNet reward on
NAS-Bench-Macro (Su et al. 2021), judged against the benchmark's true Pareto fronts.

Every candidate's accuracy is its CIFAR-10 test accuracy after 50 epochs of stand-alone training
(``evaluator=tabular``), so a search of 300 trials takes seconds and each strategy can be run
with many seeds. For each strategy, objective set (accuracy vs MACs, accuracy vs ``pixel``
latency) and seed, one study of the largest budget runs; the smaller budgets are its first
trials (a sampler does not know the budget, so a 50-trial search is the first 50 trials of a
300-trial one). Scored at each budget on the networks evaluated so far, with the benchmark's
mean accuracy: the hypervolume over the true front's (same reference point as a study's:
accuracy 0, the cost of the space's largest network) and the share of the true front found.
The MnasNet reward (single objective, TPE; target and w from ``conf/search/mnasnet.yaml``)
runs once per seed on pixel latency and is scored on both fronts. Strategies keep their
``conf/search/*.yaml`` settings, as a user gets them.

    PYTHONPATH=. python benchmarks/strategies_nas_bench_macro.py [--seeds 20]
        [--budgets 50,100,300] [--noise mean|seed] [--out results/strategies_nas_bench_macro]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from functools import cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import optuna  # noqa: E402
import pandas as pd  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

from nas.cli import compose_config  # noqa: E402
from nas.hardware import load_hardware  # noqa: E402
from nas.report import hypervolume_2d  # noqa: E402
from nas.search.__main__ import settings_from_config  # noqa: E402
from nas.search.study import Objective, cost_bounds, directions, make_sampler  # noqa: E402
from nas.tabular import TabularEvaluator, networks, true_fronts  # noqa: E402
from nas.tabular.macro import macro_space  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STRATEGIES = {"nsga2": "NSGA-II", "tpe": "MO-TPE", "random": "random", "mnasnet": "MnasNet reward"}
FRONTS = {"macs": "accuracy vs MACs", "latency_ms": "accuracy vs pixel latency"}
OBJECTIVES = {"macs": "macs", "latency_ms": "latency"}


@cache
def search_config(strategy: str) -> dict:
    """``conf/search/<strategy>.yaml`` less the worker settings a single process ignores."""
    cfg = compose_config("config", [f"search={strategy}"])
    search = OmegaConf.to_container(cfg.search, resolve=True)
    for key in ("n_workers", "n_trials_per_worker", "threads", "heartbeat_seconds",
                "grace_seconds", "poll_seconds"):
        search.pop(key, None)
    return search


def settings_for(strategy: str, objectives: str, seed: int, trials: int):
    search = search_config(strategy) | {"n_trials": trials, "objectives": objectives}
    return settings_from_config(search, seed)


def run_study(strategy: str, objectives: str, seed: int, trials: int, space, hardware,
              noise: str) -> pd.DataFrame:
    """One in-memory study; its trials as (number, arch, macs, latency_ms), in order."""
    settings = settings_for(strategy, objectives, seed, trials)
    study = optuna.create_study(directions=directions(settings),
                                sampler=make_sampler(settings, seed))
    evaluator = TabularEvaluator(noise=noise, seed=seed)
    study.optimize(Objective(space, settings, evaluator, hardware), n_trials=trials)
    rows = [{"number": t.number, "arch": t.user_attrs["arch"], "macs": t.user_attrs["macs"],
             "latency_ms": t.user_attrs["latency_ms"]} for t in study.trials]
    return pd.DataFrame(rows)


def score(trials: pd.DataFrame, budget: int, front: list[dict], cost: str,
          reference: float) -> dict:
    seen = trials[trials["number"] < budget].drop_duplicates("arch")
    table = networks()
    accuracy = [table[arch].mean / 100 for arch in seen["arch"]]
    hv = hypervolume_2d(accuracy, seen[cost], reference)
    hv_true = hypervolume_2d([p["accuracy"] for p in front], [p[cost] for p in front], reference)
    found = set(seen["arch"])
    return {"hv_ratio": hv / hv_true, "share": sum(p["arch"] in found for p in front) / len(front),
            "distinct": len(seen)}


def run_all(args, space, hardware, fronts, references) -> pd.DataFrame:
    rows = []
    top = max(args.budgets)
    for seed in range(args.seeds):
        for strategy in STRATEGIES:
            # The reward is one objective on latency: one study, scored on both fronts.
            studies = {cost: None for cost in FRONTS}
            for cost in FRONTS:
                objectives = "latency" if strategy == "mnasnet" else OBJECTIVES[cost]
                if strategy == "mnasnet" and cost != "macs":
                    studies[cost] = studies["macs"]
                else:
                    studies[cost] = run_study(strategy, objectives, seed, top, space, hardware,
                                              args.noise)
                for budget in args.budgets:
                    rows.append({"strategy": strategy, "front": cost, "seed": seed,
                                 "budget": budget, **score(studies[cost], budget, fronts[cost],
                                                           cost, references[cost])})
        print(f"seed {seed} done", flush=True)
    return pd.DataFrame(rows)


def table(runs: pd.DataFrame) -> str:
    lines = ["| front | strategy | " + " | ".join(
        f"HV ratio @{b} | share @{b}" for b in sorted(runs["budget"].unique())) + " |"]
    lines.append("| --- | --- | " + " | ".join("--- | ---" for _ in runs["budget"].unique())
                 + " |")
    for cost, label in FRONTS.items():
        for strategy, name in STRATEGIES.items():
            cells = []
            for budget in sorted(runs["budget"].unique()):
                part = runs[(runs["front"] == cost) & (runs["strategy"] == strategy)
                            & (runs["budget"] == budget)]
                cells.append(f"{part['hv_ratio'].mean():.4f} ± {part['hv_ratio'].std():.4f}")
                cells.append(f"{100 * part['share'].mean():.0f}% ± {100 * part['share'].std():.0f}")
            lines.append(f"| {label} | {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(runs: pd.DataFrame, curves: pd.DataFrame, path: Path, title: str) -> None:
    fig, axes = plt.subplots(1, len(FRONTS), figsize=(11, 4), dpi=120, sharey=True)
    for ax, (cost, label) in zip(axes, FRONTS.items()):
        for strategy, name in STRATEGIES.items():
            part = curves[(curves["front"] == cost) & (curves["strategy"] == strategy)]
            grouped = part.groupby("budget")["hv_ratio"]
            mean, std = grouped.mean(), grouped.std()
            ax.plot(mean.index, mean.values, label=name)
            ax.fill_between(mean.index, mean - std, mean + std, alpha=0.15)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("trials")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("hypervolume / true front's")
    axes[0].legend(fontsize=8, loc="lower right")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--budgets", default="50,100,300")
    parser.add_argument("--noise", choices=("mean", "seed"), default="mean")
    parser.add_argument("--out", default=str(ROOT / "results" / "strategies_nas_bench_macro"))
    args = parser.parse_args()
    args.budgets = sorted(int(b) for b in args.budgets.split(","))
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    start = time.perf_counter()
    space = macro_space()
    hardware = load_hardware(OmegaConf.to_container(compose_config("config", [])["hardware"]))
    fronts = true_fronts(space, hardware)
    largest = cost_bounds(space, hardware, largest=True)
    references = {"macs": largest.macs, "latency_ms": largest.latency_ms}
    # The curve of the plot: every 10 trials, from the same studies (scored again, cheap).
    curve_args = argparse.Namespace(**vars(args) | {"budgets": list(range(10, max(args.budgets)
                                                                          + 1, 10))})
    curves = run_all(curve_args, space, hardware, fronts, references)
    runs = curves[curves["budget"].isin(args.budgets)]
    seconds = time.perf_counter() - start
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.noise == "mean" else "-noise_seed"
    runs.to_csv(out / f"runs{suffix}.csv", index=False)
    command = "PYTHONPATH=. python benchmarks/strategies_nas_bench_macro.py " + " ".join(
        sys.argv[1:])
    title = (f"NAS-Bench-Macro, CIFAR-10 accuracy (evaluator.noise={args.noise}), "
             f"{args.seeds} seeds, mean ± std")
    plot(runs, curves, out / f"hypervolume{suffix}.png", title)
    markdown = table(runs)
    (out / f"table{suffix}.md").write_text(
        f"{title}\n\nCommand: `{command}` ({seconds:.0f} s, {platform.machine()}, "
        f"{platform.processor() or 'cpu'})\n\n{markdown}\n")
    meta = {"command": command, "seconds": round(seconds, 1), "seeds": args.seeds,
            "budgets": args.budgets, "noise": args.noise, "true_front_sizes":
            {cost: len(front) for cost, front in fronts.items()}, "reference_point": references,
            "same_front_networks": [p["arch"] for p in fronts["macs"]]
            == [p["arch"] for p in fronts["latency_ms"]],
            "hardware": hardware.name, "hardware_metadata": {
                k: hardware.metadata.get(k) for k in ("terms", "loo_mape_pct")}}
    (out / f"meta{suffix}.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(markdown)
    print(f"{seconds:.0f} s; written to {out}")


if __name__ == "__main__":
    main()
