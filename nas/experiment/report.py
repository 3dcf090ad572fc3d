"""``report.md``, its CSVs and plots: the verdict in words with its noise, the final comparison,
the search curve and its growth with candidates, NetAdapt's steps.

Files in the run directory: ``report.md``; ``final_summary.csv`` (one row per network: seeds,
mean, std and 95% interval of accuracy in percent, MACs, params, predicted latency);
``verdicts.csv`` (each found network against the reference); ``candidates.csv`` (the best
network within the first N candidates); ``compare.png``, ``search_curve.png``,
``candidates.png``, ``netadapt.png``.
"""

from __future__ import annotations

import functools
import json
import subprocess
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from nas.experiment.compare import Verdict  # noqa: E402
from nas.io import atomic_write  # noqa: E402
from nas.netadapt.adapt import LOG_NAME  # noqa: E402

ROLE_STYLE = {"reference": ("tab:gray", "s"), "found: search": ("tab:blue", "o"),
              "found: NetAdapt": ("tab:red", "*"), "found: first N": ("tab:green", "^")}


@functools.cache
def git_commit() -> str:
    """The commit of the code that made the report (and whether files differed from it).
    Cached: ``nas.experiment`` asks once at its start, so a report rewritten hours later names
    the code that ran, not a commit made meanwhile."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"],
                                capture_output=True, text=True, timeout=10, check=True)
        status = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--", "nas",
                                 "conf"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    dirty = " with uncommitted changes to nas/ or conf/" if status.stdout.strip() else ""
    return commit.stdout.strip() + dirty


def latency_label(hardware) -> tuple[str, float | None]:
    metadata = getattr(hardware, "metadata", {}) or {}
    error = metadata.get("loo_mape_pct")
    error = None if error is None else float(error)
    label = f"predicted latency on {hardware.name} (ms)"
    if error is not None:
        label += f", leave-one-out error {error:.1f}%"
    return label, error


def plot_compare(table: pd.DataFrame, path: Path, hardware_label: str, accuracy_label: str,
                 error_pct: float | None) -> Path:
    """Accuracy (mean, 95% interval over seeds) against latency (with the model's error) and
    MACs."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    for axis, column, label in ((axes[0], "latency_ms", hardware_label),
                                (axes[1], "macs", "MACs (millions, 224x224)")):
        for _, row in table.iterrows():
            color, marker = ROLE_STYLE.get(row["role"], ("black", "x"))
            x = row[column] / (1e6 if column == "macs" else 1)
            xerr = x * error_pct / 100 if column == "latency_ms" and error_pct else None
            yerr = [[row["accuracy"] - row["low"]], [row["high"] - row["accuracy"]]] \
                if row["seeds"] > 1 else None
            axis.errorbar(x, row["accuracy"], xerr=xerr, yerr=yerr, color=color, marker=marker,
                          markersize=9, capsize=3)
            axis.annotate(row["label"], (x, row["accuracy"]), textcoords="offset points",
                          xytext=(6, 4), fontsize=8)
        axis.set_xlabel(label)
        axis.grid(alpha=0.3)
    axes[0].set_ylabel(accuracy_label)
    handles = [plt.Line2D([], [], color=c, marker=m, linestyle="", label=role)
               for role, (c, m) in ROLE_STYLE.items() if role in set(table["role"])]
    axes[1].legend(handles=handles, loc="lower right", fontsize=8)
    fig.suptitle("found networks vs published ones, trained stand-alone alike "
                 "(mean and 95% interval over seeds)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_netadapt(steps: pd.DataFrame, path: Path) -> Path:
    """Every proposal of every step (latency, accuracy after fine-tuning); kept ones joined."""
    fig, axis = plt.subplots(figsize=(7, 4.8))
    proposals = steps[steps["kind"] != "seed"]
    for kind, marker in (("expansion", "o"), ("bottleneck", "^")):
        rows = proposals[proposals["kind"] == kind]
        axis.scatter(rows["latency_ms"], rows["accuracy_finetuned"], marker=marker, alpha=0.4,
                     label=f"{kind} proposals")
    kept = steps[steps["kept"].astype(bool)]
    axis.plot(kept["latency_ms"], kept["accuracy_finetuned"], "r-*", label="kept (step by step)")
    axis.invert_xaxis()
    axis.set_xlabel("predicted latency (ms)")
    axis.set_ylabel("accuracy signal after T fine-tuning steps")
    axis.legend(fontsize=8)
    axis.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _interval(row) -> str:
    if row["seeds"] < 2:
        return f"{row['accuracy']:.2f} (1 seed)"
    return (f"{row['accuracy']:.2f} ± {row['accuracy_std']:.2f} "
            f"[{row['low']:.2f}, {row['high']:.2f}] ({row['seeds']})")


def table_markdown(table: pd.DataFrame, error_pct: float | None) -> str:
    error = f" ± {error_pct:.1f}%" if error_pct is not None else ""
    lines = ["| network | role | accuracy % (mean ± std [95% interval] (seeds)) | "
             "Pixel latency (ms) | MACs | params |",
             "| --- | --- | --- | --- | --- | --- |"]
    for _, row in table.iterrows():
        lines.append(f"| {row['label']} | {row['role']} | {_interval(row)} | "
                     f"{row['latency_ms']:.1f}{error} | {row['macs'] / 1e6:.1f}M | "
                     f"{row['params'] / 1e6:.2f}M |")
    return "\n".join(lines)


def netadapt_markdown(steps: pd.DataFrame) -> str:
    kept = steps[steps["kept"].astype(bool)]
    lines = ["| step | kept move | proposals | latency (ms) | accuracy inherited -> fine-tuned |",
             "| --- | --- | --- | --- | --- |"]
    for _, row in kept.iterrows():
        count = int((steps["step"] == row["step"]).sum())
        move = "seed" if row["kind"] == "seed" else \
            f"{row['kind']} {row['layer']}: {row['old_width']}->{row['new_width']}"
        inherited = "" if pd.isna(row["accuracy_inherited"]) else \
            f"{row['accuracy_inherited']:.4f} -> "
        lines.append(f"| {row['step']} | {move} | {count} | {row['latency_ms']:.2f} | "
                     f"{inherited}{row['accuracy_finetuned']:.4f} |")
    return "\n".join(lines)


def growth_markdown(growth: pd.DataFrame) -> str:
    lines = ["| first N candidates | best reward | trial | accuracy signal | latency (ms) |",
             "| --- | --- | --- | --- | --- |"]
    for _, row in growth.iterrows():
        lines.append(f"| {row['candidates']} | {row['best_reward']:.4f} | {row['trial']} | "
                     f"{row['accuracy']:.4f} | {row['latency_ms']:.1f} |")
    return "\n".join(lines)


def verdict_lines(found: list[Verdict], reference: str) -> list[str]:
    """The answer in words: does a found network beat the reference outside the noise?"""
    winners = [v for v in found if v.beats]
    if winners:
        names = ", ".join(v.label for v in winners)
        head = (f"**Yes: {names} beat{'s' if len(winners) == 1 else ''} {reference}**: more "
                "accurate outside the noise (the 95% interval of the difference excludes "
                "zero) at equal or lower predicted Pixel latency.")
    else:
        ties = [v for v in found if v.accuracy == "tie" and not v.matches_faster]
        faster = [v for v in found if v.matches_faster]
        head = (f"**No: no found network beats {reference} outside the noise.** "
                + "".join(f"{v.label} matches its accuracy (a tie: the 95% interval of the "
                          f"difference contains zero) at lower latency ({v.latency_ms:.1f} vs "
                          f"{v.reference_ms:.1f} ms, {v.speedup:.2f}x faster). " for v in faster)
                + (f"{', '.join(v.label for v in ties)}: a tie in accuracy (the 95% interval of "
                   "the difference contains zero)." if ties else "")).rstrip()
    return [head, "", *(f"- {v.sentence(reference)}" for v in found)]


def pending_lines(done: int, planned: int, reference: str,
                  so_far: list[Verdict] | None = None) -> list[str]:
    """The verdict of a report written before every final training finished; ``so_far``: the
    found networks with every seed against the reference with every seed (already final)."""
    lines = [f"**Pending: {done} of {planned} final trainings finished.** No verdict against "
             f"{reference} until every network has every seed; the accuracies below are "
             "partial. Run the same command to continue: finished trainings are kept, and this "
             "report is rewritten as each one finishes."]
    if so_far:
        lines += ["", f"So far, the found networks whose every seed is trained, against "
                      f"{reference} (every seed trained): these comparisons will not change.",
                  "", *(f"- {v.sentence(reference)}" for v in so_far)]
    return lines


def write_experiment_report(run_dir: Path, *, table: pd.DataFrame, found: list[Verdict] | None,
                            reference: str, hardware, adapted, search: dict, final: dict,
                            cfg, command: str, trainings: tuple[int, int] | None = None,
                            so_far: list[Verdict] | None = None) -> Path:
    """Everything under ``run_dir``; ``search``: ``best`` (row), ``rows`` (candidates),
    ``growth`` (table), ``reference_reward``, ``evaluator``; ``final``: the plan's settings and
    the trainings' sizes. ``found`` is None while final trainings are missing (``trainings``:
    finished, planned): the report then has everything but the verdict, and ``so_far``'s
    comparisons that are already final."""
    run_dir = Path(run_dir)
    label, error = latency_label(hardware)
    dataset = cfg.data.get("name", "the proxy dataset")
    if len(table):
        table.drop(columns=["values"]).to_csv(run_dir / "final_summary.csv", index=False)
        plot_compare(table, run_dir / "compare.png", label,
                     f"{dataset} validation accuracy (%)", error)
    if found is None:
        (run_dir / "verdicts.csv").unlink(missing_ok=True)
        verdict = pending_lines(*(trainings or (0, 0)), reference, so_far)
    else:
        pd.DataFrame([{"network": v.name, "difference": v.difference.mean,
                       "low": v.difference.low, "high": v.difference.high,
                       "accuracy": v.accuracy, "latency": v.latency, "beats": v.beats}
                      for v in found]).to_csv(run_dir / "verdicts.csv", index=False)
        verdict = verdict_lines(found, reference)
    growth, rows = search["growth"], search["rows"]
    growth.to_csv(run_dir / "candidates.csv", index=False)
    from nas.experiment.curves import plot_growth, plot_search_curve

    evaluator = search["evaluator"]
    plot_search_curve(rows, search["reference_reward"], reference, run_dir / "search_curve.png",
                      evaluator)
    plot_growth(growth, search["reference_reward"], reference, run_dir / "candidates.png",
                evaluator)
    log = run_dir / "netadapt" / LOG_NAME
    steps = pd.read_csv(log) if log.exists() else None
    if steps is not None:
        plot_netadapt(steps, run_dir / "netadapt.png")
    text = [f"# {cfg.experiment.name}: search (MnasNet reward, evaluator={evaluator}) + "
            f"NetAdapt vs {reference}", "",
            f"Made by `{command}` at commit {git_commit()}.", "",
            "## Verdict", "", *verdict, "",
            *_time_section(search),
            *_final_section(table, final, error, dataset, hardware, found is None),
            *_search_section(search, reference, cfg),
            *_netadapt_section(steps, adapted, cfg, run_dir)]
    path = run_dir / "report.md"
    atomic_write(path, "\n".join(text) + "\n")
    return path


def _final_section(table, final, error, dataset, hardware, partial: bool) -> list[str]:
    recipe = {k: v for k, v in final["evaluator"].items()
              if k in ("batch_size", "lr", "augment", "bn_recalibration")}
    latency = (f"predicted by the `{hardware.name}` latency model at 224x224, batch 1, with its "
               f"stated error (leave-one-out MAPE {error:.1f}%): a latency within that share of "
               "the reference's reads \"equal\"." if error is not None else
               f"predicted by `{hardware.name}` at 224x224, batch 1 (no stated error).")
    images = (f"{final['train_images']:,} {dataset} training images, validated on "
              f"{final['val_images']:,} held-out images" if final["train_images"] else
              f"{final['evaluator'].get('train_fraction', 1.0):.0%} of the {dataset} training "
              "split, validated on the held-out split")
    text = ["## Final comparison", "",
            ("Every network is being trained" if partial else "Every network trained")
            + " stand-alone from scratch at the ground truth's budget, on "
            f"every seed, in this run: {final['epochs']} epoch(s) on {images}, "
            f"the proxy recipe ({recipe}), seeds {final['seeds']} "
            f"([final/runs/](final/runs/), [final.csv](final.csv)). Accuracy: mean ± sample std "
            "over seeds, and the 95% Student t interval of the mean. Latency: " + latency
            + " MACs and params at 224x224, 1000 classes.", ""]
    if not len(table):
        return text + ["No final training has finished yet.", ""]
    text += ["![compare](compare.png)", "", table_markdown(table, error), ""]
    if partial:
        return text + ["The networks not in this table have no finished training yet.", ""]
    return text + ["Verdicts ([verdicts.csv](verdicts.csv)): Welch's 95% interval of the "
                   "difference of mean accuracies; one containing zero is a tie.", ""]


def _time_section(search: dict) -> list[str]:
    """Wall time per stage on this machine (every invocation of the command summed)."""
    timings = search.get("timings")
    if not timings:
        return []
    minutes = {stage: seconds / 60 for stage, seconds in timings.items()}
    both = minutes.get("search", 0) + minutes.get("netadapt", 0)
    limit = search.get("limit_minutes", 90)
    within = "within" if both <= limit else "**over**"
    return ["## Time", "",
            f"Wall time on the machine that ran it, summed over every invocation of the command: "
            f"search {minutes.get('search', 0):.1f} min, NetAdapt {minutes.get('netadapt', 0):.1f}"
            f" min ({both:.1f} min together, {within} the issue's {limit}-minute limit), final "
            f"trainings {minutes.get('final', 0):.1f} min ([timings.json](timings.json): "
            "seconds; a machine shared with other work makes these longer).", ""]


def _search_section(search: dict, reference: str, cfg) -> list[str]:
    best, rows, growth = search["best"], search["rows"], search["growth"]
    ref_reward = search["reference_reward"]
    ref_line = (f"{reference}'s own reward in this search: {ref_reward:.4f} (dashed line)."
                if ref_reward is not None else
                f"{reference} was not scored by this search (not in its space), so no line.")
    largest = int(growth["candidates"].max()) if len(growth) else 0
    short = ([f"**This search saw {len(rows)} candidates**, fewer than the issue's 1,000."]
             if len(rows) < 1000 else [])
    return ["## Search", "",
            f"MnasNet reward ACC x (LAT/{cfg.search.target_ms} ms)^{cfg.search.w}, "
            f"{cfg.search.n_trials} trials, {len(rows)} distinct candidates scored by "
            f"evaluator={search['evaluator']} in space `{cfg.space.name}` "
            "([search/summary.md](search/summary.md), [search/trials.csv](search/trials.csv)). "
            f"Best reward {best['reward']:.4f} "
            f"({best['reference'] or 'trial ' + str(int(best['number']))}, "
            f"{best['latency_ms']:.1f} ms): NetAdapt's seed. {ref_line}", "",
            *short, "", "![search curve](search_curve.png)", "",
            f"How the result moves with the number of candidates: the best network within the "
            f"first N candidates of this one search (prefixes of one search of {largest}, not "
            "separate searches of N candidates; [candidates.csv](candidates.csv)):", "",
            growth_markdown(growth), "", "![candidates](candidates.png)", ""]


WEIGHTS = {"proxy": "the seed trained on the proxy, each proposal inheriting the current "
                    "network's weights truncated to its widths"}


def weights_source(state_file: Path) -> str:
    """How the run's networks got their weights, from NetAdapt's state file."""
    if not state_file.exists():
        return "no network was adapted"
    source = json.loads(state_file.read_text()).get("source", "proxy")
    if source.startswith("supernet:"):
        return (f"every network took the supernet's weights ({source.split(':', 1)[1]}), BN "
                "recalibrated, then fine-tuned T steps")
    return WEIGHTS.get(source, f"evaluator={source} scored each architecture (no weights)")


def _netadapt_section(steps, adapted, cfg, run_dir: Path) -> list[str]:
    stage = cfg.netadapt
    source = weights_source(run_dir / "netadapt" / "state.json")
    text = ["## NetAdapt", "",
            f"From the search's best network to {stage.target_ms} ms: delta = "
            f"{stage.delta_fraction} x seed latency, T = {stage.steps_per_proposal} fine-tuning "
            f"steps per proposal, {stage.train_images or 'all'} training images, "
            f"{stage.val_images or 'all'} validation images; {source}. {adapted.message}."]
    if steps is None:
        return text + ["", "NetAdapt had nothing to do: the search's best network already meets "
                       "its target (lower `netadapt.target_ms` to trim it further)."]
    return text + ["Every proposal: [netadapt/steps.csv](netadapt/steps.csv); the kept ones:", "",
                   netadapt_markdown(steps), "", "![netadapt](netadapt.png)", "",
                   f"Final network: `{adapted.spec}`"]
