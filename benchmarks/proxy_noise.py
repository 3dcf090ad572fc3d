"""The proxy's noise floor: one architecture over seeds against different architectures.

Trains MobileNetV3-Small (stride-adapted) at the default proxy budget with 3 seeds, and 9
architectures sampled from conf/space/mobilenet_v3_small.yaml (``sample_random``, seeds 0..8)
with seed 0; prints both spreads and writes a CSV, a JSON summary and a PNG. With
``--long-factor K`` it then trains the same architectures K times longer (K x train_fraction)
and reports Kendall's tau between the two rankings.

    flock /tmp/nas-cpu.lock env PYTHONPATH=. python benchmarks/proxy_noise.py --threads 2
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import time
from pathlib import Path

import torch
from omegaconf import OmegaConf

from nas.arch import resolve_arch
from nas.cli import compose_config, load_space
from nas.cost import arch_cost
from nas.evaluate import make_evaluator

ROOT = Path(__file__).resolve().parents[1]


def kendall_tau(xs: list[float], ys: list[float]) -> float:
    """Kendall's tau-b (ties in either list counted as neither concordant nor discordant)."""
    concordant = discordant = ties_x = ties_y = 0
    for i in range(len(xs)):
        for j in range(i + 1, len(xs)):
            dx, dy = xs[i] - xs[j], ys[i] - ys[j]
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                ties_x += 1
            elif dy == 0:
                ties_y += 1
            elif dx * dy > 0:
                concordant += 1
            else:
                discordant += 1
    denominator = ((concordant + discordant + ties_x) * (concordant + discordant + ties_y)) ** 0.5
    return (concordant - discordant) / denominator if denominator else float("nan")


def candidates(n_archs: int) -> list[tuple[str, str]]:
    space = load_space("mobilenet_v3_small")
    archs = [("mobilenet_v3_small", str(resolve_arch("mobilenet_v3_small")))]
    archs += [(f"random{i}", str(space.sample_random(random.Random(i)))) for i in range(n_archs)]
    return archs


def run(rows: list[dict], out_csv: Path, evaluator_cfg: dict, label: str,
        work: list[tuple[str, str, int]]) -> None:
    data_cfg = OmegaConf.to_container(compose_config("train", ["arch=x"]).data)
    evaluators = {}
    for name, arch, seed in work:
        if seed not in evaluators:
            evaluators[seed] = make_evaluator(data_cfg, evaluator_cfg, seed=seed)
        result = evaluators[seed].evaluate(resolve_arch(arch))
        rows.append({"budget": label, "name": name, "seed": seed,
                     "val_accuracy": round(result.val_accuracy, 5),
                     "history": " ".join(f"{a:.4f}" for a in result.history),
                     "seconds": round(result.seconds, 1),
                     "train_seconds": round(result.train_seconds, 1),
                     "images_per_second": round(result.images_per_second, 1),
                     "macs_224": arch_cost(resolve_arch(arch)).macs, "arch": arch})
        print(f"{label:8s} {name:20s} seed {seed}: {100 * result.val_accuracy:.2f}% "
              f"({result.seconds:.0f}s)", flush=True)
        with open(out_csv, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


def spread(values: list[float]) -> dict:
    if not values:
        return {"n": 0, "mean": float("nan"), "min": float("nan"), "max": float("nan"),
                "range": float("nan"), "std": float("nan")}
    return {"n": len(values), "mean": statistics.mean(values), "min": min(values),
            "max": max(values), "range": max(values) - min(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0}


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    default = [r for r in rows if r["budget"] == "default"]
    seeds = [100 * r["val_accuracy"] for r in default if r["name"] == "mobilenet_v3_small"]
    archs = [100 * r["val_accuracy"] for r in default if r["seed"] == 0]
    figure, axis = plt.subplots(figsize=(5, 3.2))
    axis.scatter([0] * len(seeds), seeds, label="MobileNetV3-Small, 3 seeds")
    axis.scatter([1] * len(archs), archs, color="tab:orange",
                 label=f"{len(archs)} architectures, seed 0")
    axis.set_xticks([0, 1], ["seeds", "architectures"])
    axis.set_xlim(-0.5, 1.5)
    axis.set_ylabel("proxy validation accuracy (%)")
    axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--archs", type=int, default=9, help="random architectures")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--long-factor", type=float, default=0.0,
                        help="also train K x longer (K x train_fraction) for Kendall's tau")
    parser.add_argument("--reuse-default", action="store_true",
                        help="read the default-budget results from noise_floor.csv instead of "
                             "training them again (to run --long-factor separately)")
    parser.add_argument("--set", nargs="*", default=[], help="evaluator overrides key=value")
    parser.add_argument("--out", default=str(ROOT / "results/proxy"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    overrides = [f"evaluator.{item}" for item in args.set]
    composed = compose_config("train", ["arch=x", *overrides])
    evaluator_cfg = OmegaConf.to_container(composed.evaluator)
    archs = candidates(args.archs)
    work = [("mobilenet_v3_small", archs[0][1], seed) for seed in range(args.seeds)]
    work += [(name, arch, 0) for name, arch in archs[1:]]
    rows: list[dict] = []
    started = time.perf_counter()
    if args.reuse_default:
        with open(out / "noise_floor.csv") as handle:
            rows = [{**row, "seed": int(row["seed"]), "val_accuracy": float(row["val_accuracy"]),
                     "seconds": float(row["seconds"])}
                    for row in csv.DictReader(handle) if row["budget"] == "default"]
    else:
        try:
            run(rows, out / "noise_floor.csv", evaluator_cfg, "default", work)
        except KeyboardInterrupt:  # out of time: summarise what finished, and say how many
            print(f"interrupted after {len(rows)} of {len(work)} runs", flush=True)
    seeds = [r["val_accuracy"] for r in rows if r["name"] == "mobilenet_v3_small"]
    across = [r["val_accuracy"] for r in rows if r["seed"] == 0]
    summary = {"evaluator": evaluator_cfg, "threads": args.threads,
               "seed_spread": spread(seeds), "arch_spread": spread(across),
               "seconds_per_candidate": statistics.mean([r["seconds"] for r in rows] or [0]),
               "wall_seconds": round(time.perf_counter() - started, 1)}
    if args.long_factor:
        long_cfg = {**evaluator_cfg,
                    "train_fraction": min(1.0, evaluator_cfg["train_fraction"] * args.long_factor)}
        long_rows: list[dict] = []
        try:
            run(long_rows, out / "rank_long.csv", long_cfg, "long",
                [(n, a, 0) for n, a in archs])
        except KeyboardInterrupt:  # out of time: rank what finished, and say how many
            print(f"interrupted after {len(long_rows)} long runs", flush=True)
        short = {r["name"]: r["val_accuracy"] for r in rows if r["seed"] == 0}
        pairs = [(short[r["name"]], r["val_accuracy"]) for r in long_rows if r["name"] in short]
        summary["kendall_tau"] = kendall_tau([a for a, _ in pairs], [b for _, b in pairs])
        summary["long_train_fraction"] = long_cfg["train_fraction"]
        summary["kendall_n"] = len(pairs)
        rows += long_rows
    plot(rows, out / "noise_floor.png")
    name = "rank_long.json" if args.reuse_default else "noise_floor.json"
    (out / name).write_text(json.dumps(summary, indent=2))
    print(f"seed spread (1 arch, {len(seeds)} seeds): range "
          f"{100 * summary['seed_spread']['range']:.2f} pts, std "
          f"{100 * summary['seed_spread']['std']:.2f}")
    print(f"arch spread ({len(across)} archs, seed 0): range "
          f"{100 * summary['arch_spread']['range']:.2f} pts, std "
          f"{100 * summary['arch_spread']['std']:.2f}")
    print(f"ratio of std (archs / seeds): "
          f"{summary['arch_spread']['std'] / max(summary['seed_spread']['std'], 1e-9):.1f}")
    print(f"seconds per candidate: {summary['seconds_per_candidate']:.1f}")
    if "kendall_tau" in summary:
        print(f"Kendall tau over {summary['kendall_n']} archs "
              f"(default vs {args.long_factor:g}x longer): "
              f"{summary['kendall_tau']:.3f}")


if __name__ == "__main__":
    main()
