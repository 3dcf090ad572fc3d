"""Every accuracy signal against one ground truth: the README's yardstick table.

    PYTHONPATH=. python benchmarks/rank_signals.py [--ground-truth FILE] [--space NAME]
        [--signals macs,params,synflow,...] [--proxy 2:0.05,2:0.2] [--halving 3]
        [--supernet FILE[,FILE...]] [--supernet-val-sizes 2000,all]
        [--supernet-precisions float32,bfloat16]
        [--threads 1] [--out FILE] [-- overrides]

Each signal is one ``python -m nas.rank`` run (the same library call, the same outputs under
results/rank/, resumable); the proxy budgets are ``epochs:train_fraction`` pairs of the
stand-alone proxy, in ascending order. ``--halving ETA`` adds successive halving over those
budgets (``nas.yardstick.halving``: computed from their scores and times, each rung trained from
scratch). Prints a markdown table: signal | seconds per candidate | Kendall tau [95% interval] |
Spearman | top-5 overlap | tau minus the ``--versus`` signal's (MACs by default) with its paired
95% interval (both taus on the same resampled networks: the interval that says whether one
signal beats the other), then MACs, params and the ceiling.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
import torch

from nas.cli import compose_config
from nas.errors import NasError
from nas.evaluate.zero_cost import SCORES
from nas.rank import beside, rank
from nas.supernet.store import read_supernet
from nas.yardstick import load_ground_truth
from nas.yardstick.halving import successive_halving
from nas.yardstick.metrics import kendall_tau
from nas.yardstick.rank import kendall_difference_interval, signal_row


def row_text(row: dict, versus: dict[str, tuple[float, float, float]]) -> str:
    seconds = row.get("seconds_per_candidate")
    seconds = "-" if seconds is None else f"{seconds:.2f}"
    interval = "" if row.get("kendall_low") is None else \
        f" [{row['kendall_low']:.2f}, {row['kendall_high']:.2f}]"
    top = next((v for k, v in row.items() if k.startswith("top")), None)
    top = "-" if top is None else f"{top:.2f}"
    difference = versus.get(row["signal"])
    difference = "-" if difference is None else \
        f"{difference[0]:+.3f} [{difference[1]:+.2f}, {difference[2]:+.2f}]"
    return (f"| {row['signal']} | {seconds} | {row['kendall']:.3f}{interval} | "
            f"{row['spearman']:.3f} | {top} | {difference} |")


def halving_row(proxies: list[dict], eta: int) -> tuple[dict, list[float]]:
    """Successive halving over the proxy budgets' per-network scores, as one signal row (and
    its per-network order)."""
    frames = [pd.read_csv(beside(Path(summary["out"]), ".csv")) for summary in proxies]
    order, seconds = successive_halving([f["score"].tolist() for f in frames],
                                        [f["seconds"].tolist() for f in frames], eta=eta)
    truth = frames[0]["accuracy"].tolist()
    budgets = " > ".join(summary["label"].removeprefix("proxy-") for summary in proxies)
    return signal_row(f"halving eta={eta} ({budgets})", order, truth, k=5,
                      seconds=seconds / len(truth), resamples=1000, seed=0), list(order)


def per_network_scores(summaries: list[dict]) -> dict[str, list[float]]:
    """Each signal's scores in the ground truth's network order, and the table's MACs and
    params (every nas.rank run keeps that order)."""
    first = summaries[0]
    frame = load_ground_truth(first["ground_truth"]).frame
    scores = {column: frame[column].tolist() for column in ("macs", "params") if column in frame}
    for summary in summaries:
        scores[summary["label"]] = pd.read_csv(beside(Path(summary["out"]), ".csv"))[
            "score"].tolist()
    return scores


def differences(scores: dict[str, list[float]], truth: list[float], versus: str
                ) -> dict[str, tuple[float, float, float]]:
    """tau(signal) - tau(versus) with its paired bootstrap 95% interval, per signal."""
    if versus not in scores:
        raise NasError(f"--versus {versus!r} is none of the signals: {', '.join(scores)}")
    base = kendall_tau(scores[versus], truth)
    return {label: (kendall_tau(values, truth) - base,
                    *kendall_difference_interval(values, scores[versus], truth))
            for label, values in scores.items() if label != versus}


def supernet_run(path: str, val_size: str, precision: str = "float32") -> list[str]:
    """nas.rank overrides scoring one supernet file on ``val_size`` validation images ("all":
    the whole split) in ``precision`` (given, never ``auto``: a row means the same on every
    CPU). Its data split is the file's own (a supernet is refused on another); only this run
    gets it, so the other signals' cached scores on the default split stay valid. Labelled by
    the file's name (snapshots .step600 apart), the images scored and, if not float32, the
    precision."""
    dataset = read_supernet(path)["meta"]["dataset"]
    images = "null" if val_size == "all" else str(int(val_size))
    suffix = {"float32": "", "bfloat16": "-bf16"}[precision]
    return ["evaluator=supernet", f"evaluator.path={path}", f"evaluator.val_size={images}",
            f"evaluator.precision={precision}", "evaluator.bn_images=2000",  # as the rows ran
            f"data.val_size={dataset['val_size']}", f"data.split_seed={dataset['split_seed']}",
            f"label=supernet-{Path(path).name.removesuffix('.pt')}-val{val_size}{suffix}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ground-truth", default=None)
    parser.add_argument("--space", default="mobilenet_v3_small")
    parser.add_argument("--signals", default=",".join(SCORES))
    parser.add_argument("--proxy", default="", help="epochs:train_fraction pairs")
    parser.add_argument("--supernet", default="", help="supernet files (nas.supernet), each "
                        "one signal: evaluator=supernet on the split it was trained for")
    parser.add_argument("--supernet-val-sizes", default="all", help="validation images each "
                        "supernet is scored on, comma-separated ('all': the whole split)")
    parser.add_argument("--supernet-precisions", default="float32", help="the dtypes each "
                        "supernet is scored in, comma-separated: float32, bfloat16")
    parser.add_argument("--halving", type=int, default=0, metavar="ETA",
                        help="successive halving over the --proxy budgets, keeping 1/ETA")
    parser.add_argument("--versus", default="macs", help="the signal every tau is compared "
                        "with (paired bootstrap): macs, params or a signal's label")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=None, help="also write the table (markdown) here")
    parser.add_argument("overrides", nargs="*", help="more nas.rank overrides, e.g. data=...")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    base = [f"space={args.space}", *args.overrides]
    if args.ground_truth:
        base.append(f"ground_truth={args.ground_truth}")
    runs = [[f"evaluator.score={score}"] for score in args.signals.split(",") if score]
    for budget in filter(None, args.proxy.split(",")):
        epochs, fraction = budget.split(":")
        runs.append(["evaluator=proxy", f"evaluator.epochs={epochs}",
                     f"evaluator.train_fraction={fraction}"])
    for path in filter(None, args.supernet.split(",")):
        runs.extend(supernet_run(path, size, precision)
                    for size in args.supernet_val_sizes.split(",")
                    for precision in args.supernet_precisions.split(","))
    summaries = [rank(compose_config("rank", base + overrides)) for overrides in runs]
    rows = [summary["rows"][0] for summary in summaries]
    scores = per_network_scores(summaries)
    proxies = [s for s in summaries if s["label"].startswith("proxy-")]
    if args.halving and len(proxies) >= 2:
        row, order = halving_row(proxies, args.halving)
        rows.append(row)
        scores[row["signal"]] = order
    first = summaries[0]
    truth = pd.read_csv(beside(Path(first["out"]), ".csv"))["accuracy"].tolist()
    versus = differences(scores, truth, args.versus)
    lines = [f"{first['networks']} networks of {first['ground_truth']} "
             f"({first['ground_truth_meta'].get('budget')}); mean seed std "
             f"{first['seed_noise']:.2f} pts; this machine, {args.threads} thread(s)", "",
             f"| signal | s / candidate | Kendall tau [95%] | Spearman | top-5 | "
             f"tau - {args.versus} [paired 95%] |",
             "| --- | --- | --- | --- | --- | --- |",
             *(row_text(row, versus) for row in rows + first["rows"][1:])]
    print("\n".join(lines))
    if args.out:
        command = "PYTHONPATH=. python benchmarks/rank_signals.py " + " ".join(sys.argv[1:])
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(f"$ {command}\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    try:
        main()
    except NasError as error:  # a missing file, a bad override: one line, as nas.rank prints
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
