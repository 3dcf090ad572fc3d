"""NSGA-II (and MO-TPE) against random search on the SYNTHETIC surrogate (made-up accuracies).

Superseded as evidence by benchmarks/strategies_nas_bench_macro.py (real CIFAR-10 accuracies of
NAS-Bench-Macro); kept as a fast check of the samplers on the MobileNetV3 spaces.
The surrogate (nas/search/surrogate.py) is a fixed, cheap stand-in for accuracy, so the whole
comparison runs in minutes on a CPU; it says how well the samplers search this space's
accuracy-vs-MACs trade-off, not how accurate real networks are. Both strategies get the same
trials, the same reference network enqueued first, the same fixed hypervolume reference point
(accuracy 0, the MACs of the space's largest network), and the seeds 0..N-1.

    PYTHONPATH=. python benchmarks/nsga2_vs_random.py [--trials 48] [--seeds 5] [--tpe]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import optuna

from nas.arch import SearchSpace
from nas.cli import load_space
from nas.report import evaluated, hypervolume_2d, trials_frame
from nas.search import SearchSettings, SurrogateEvaluator, run_search

ROOT = Path(__file__).resolve().parents[1]


def final_hypervolume(study: optuna.Study) -> float:
    points = evaluated(trials_frame(study))
    reference = study.user_attrs["reference_point"]["macs"]
    return hypervolume_2d(points["accuracy"], points["macs"], reference)


def run(strategy: str, seed: int, trials: int, space: SearchSpace, workdir: Path) -> float:
    settings = SearchSettings(strategy=strategy, n_trials=trials, objectives="macs", seed=seed)
    study = run_search(space=space, settings=settings, evaluator=SurrogateEvaluator(),
                       run_dir=workdir / f"{strategy}-{seed}", show_progress=False)
    return final_hypervolume(study)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=48)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--space", default="mobilenet_v3_small")
    parser.add_argument("--tpe", action="store_true", help="also run multi-objective TPE")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    space = load_space(args.space)
    results: dict[str, list[float]] = {"random": [], "nsga2": []}
    if args.tpe:
        results["tpe"] = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            for strategy in results:
                results[strategy].append(run(strategy, seed, args.trials, space, Path(tmp)))
            print(f"seed {seed}: " + "  ".join(f"{name} {values[-1]:.4f}"
                                               for name, values in results.items()), flush=True)
    means = {name: statistics.mean(values) for name, values in results.items()}
    print(f"{args.space}, surrogate accuracy vs MACs, {args.trials} trials x {args.seeds} seeds "
          f"({time.perf_counter() - start:.0f} s)")
    print(f"random search hypervolume: {means['random']:.4f} (baseline)")
    for name, label in (("nsga2", "NSGA-II"), ("tpe", "MO-TPE"))[: len(results) - 1]:
        wins = sum(n > r for n, r in zip(results[name], results["random"]))
        print(f"{label + ' hypervolume:':27s}{means[name]:.4f} "
              f"({means[name] / means['random']:.3f}x random; higher on {wins}/{args.seeds} seeds)")


if __name__ == "__main__":
    main()
