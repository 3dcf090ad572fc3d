"""``report.md`` and its plots for an experiment: found networks next to the published ones."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

from nas.netadapt.adapt import LOG_NAME  # noqa: E402

ROLE_STYLE = {"reference": ("tab:gray", "s"), "found: search": ("tab:blue", "o"),
              "found: NetAdapt": ("tab:red", "*")}


def plot_compare(table: pd.DataFrame, path: Path, hardware_label: str, accuracy_label: str
                 ) -> Path:
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    for axis, (column, label) in zip(axes, [("latency_ms", hardware_label),
                                            ("macs", "MACs (millions, 224x224)")]):
        for _, row in table.iterrows():
            color, marker = ROLE_STYLE.get(row["role"], ("black", "x"))
            x = row[column] / (1e6 if column == "macs" else 1)
            axis.errorbar(x, row["accuracy"], yerr=row["accuracy_std"] if row["seeds"] > 1 else 0,
                          color=color, marker=marker, markersize=10, capsize=3)
            axis.annotate(row["network"], (x, row["accuracy"]), textcoords="offset points",
                          xytext=(6, 4), fontsize=8)
        axis.set_xlabel(label)
        axis.grid(alpha=0.3)
    axes[0].set_ylabel(accuracy_label)
    handles = [plt.Line2D([], [], color=c, marker=m, linestyle="", label=role)
               for role, (c, m) in ROLE_STYLE.items()]
    axes[1].legend(handles=handles, loc="lower right", fontsize=8)
    fig.suptitle("found networks vs published ones, trained the same way (mean and std over seeds)")
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
    axis.set_ylabel("validation accuracy after T fine-tuning steps")
    axis.legend(fontsize=8)
    axis.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _table_markdown(table: pd.DataFrame) -> str:
    lines = ["| network | role | accuracy (mean ± std, seeds) | MACs | params | latency (ms) |",
             "| --- | --- | --- | --- | --- | --- |"]
    for _, row in table.iterrows():
        std = f" ± {row['accuracy_std']:.4f}" if row["seeds"] > 1 else ""
        lines.append(f"| {row['network']} | {row['role']} | {row['accuracy']:.4f}{std} "
                     f"({row['seeds']}) | {row['macs'] / 1e6:.1f}M | {row['params'] / 1e6:.2f}M "
                     f"| {row['latency_ms']:.1f} |")
    return "\n".join(lines)


def _netadapt_markdown(steps: pd.DataFrame) -> str:
    kept = steps[steps["kept"].astype(bool)]
    lines = ["| step | kept move | proposals | latency (ms) | accuracy inherited -> fine-tuned |",
             "| --- | --- | --- | --- | --- |"]
    for _, row in kept.iterrows():
        count = int((steps["step"] == row["step"]).sum())
        move = "seed (trained)" if row["kind"] == "seed" else \
            f"{row['kind']} {row['layer']}: {row['old_width']}->{row['new_width']}"
        inherited = "" if pd.isna(row["accuracy_inherited"]) else \
            f"{row['accuracy_inherited']:.4f} -> "
        lines.append(f"| {row['step']} | {move} | {count} | {row['latency_ms']:.2f} | "
                     f"{inherited}{row['accuracy_finetuned']:.4f} |")
    return "\n".join(lines)


def write_experiment_report(run_dir: Path, table: pd.DataFrame, *, reference: str, hardware,
                            adapted, search_best: pd.Series, cfg) -> Path:
    from nas.experiment.pipeline import verdicts

    run_dir = Path(run_dir)
    table.to_csv(run_dir / "compare_summary.csv", index=False)
    metadata = getattr(hardware, "metadata", {}) or {}
    error = metadata.get("loo_mape_pct")
    hardware_label = f"predicted latency on {hardware.name} (ms)"
    if error is not None:
        hardware_label += f", leave-one-out error {float(error):.1f}%"
    accuracy_kind = table.attrs.get("accuracy_kind", "val_accuracy").replace("_", " ")
    plot_compare(table, run_dir / "compare.png", hardware_label,
                 f"{cfg.data.get('name', 'proxy')} {accuracy_kind}")
    log = run_dir / "netadapt" / LOG_NAME
    steps = pd.read_csv(log) if log.exists() else None
    if steps is not None:
        plot_netadapt(steps, run_dir / "netadapt.png")
    lines = verdicts(table, reference)
    found = table[table["role"] != "reference"]
    ref = table[table["network"] == reference].iloc[0]
    ok = ((found["latency_ms"] <= ref["latency_ms"]) | (found["accuracy"] >= ref["accuracy"])).any()
    evaluator = {key: value for key, value in OmegaConf.to_container(cfg.evaluator).items()
                 if key in ("epochs", "train_fraction", "val_size", "batch_size", "lr")}
    text = [
        f"# {cfg.experiment.name}: search (MnasNet reward) + NetAdapt vs {reference}",
        "",
        "Made by `python -m nas.experiment experiment=" + cfg.experiment.name + "` on a 2-core "
        "x86_64 CPU (no GPU). Every network below was trained from scratch in this run with the "
        "same recipe, budget and seeds, and its MACs, params and latency come from the same "
        "counters and latency model.",
        "",
        "![compare](compare.png)",
        "",
        _table_markdown(table),
        "",
        f"Accuracy: {accuracy_kind} on {cfg.data.get('name', 'the proxy dataset')} after "
        f"training from scratch with the evaluator's recipe (budget `{evaluator}`), "
        "mean ± std over seeds "
        f"{list(cfg.compare.seeds)}. Latency: `{hardware.name}` predicted at 224x224, batch 1 "
        f"(kind: {metadata.get('kind', '?')}"
        + (f", leave-one-out error {float(error):.1f}%" if error is not None else "") + "). "
        "MACs and params at 224x224, 1000 classes.",
        "",
        "## Against the reference",
        "",
        *lines,
        "",
        ("At least one found network is at or beyond the reference's accuracy-latency "
         "trade-off (not worse on both axes)." if ok else
         "**No found network reaches the reference's trade-off**: each is slower and less "
         "accurate than it on this proxy budget (see the notes)."),
        "",
        "## Search",
        "",
        f"MnasNet reward ACC x (LAT/{cfg.search.target_ms} ms)^{cfg.search.w}, "
        f"{cfg.search.n_trials} trials (references included) in space `{cfg.space.name}`; "
        "details in [search/summary.md](search/summary.md) and "
        "[search/trials.csv](search/trials.csv). "
        f"Best reward: {search_best['reward']:.4f} "
        f"({search_best['reference'] or 'trial ' + str(search_best['number'])}, "
        f"{search_best['latency_ms']:.1f} ms): NetAdapt's seed.",
        "",
        "## NetAdapt",
        "",
        f"From the search's best network to {cfg.netadapt.target_ms} ms: delta = "
        f"{cfg.netadapt.delta_fraction} x seed latency, T = {cfg.netadapt.steps_per_proposal} "
        f"fine-tuning steps per proposal, {cfg.netadapt.train_images} training images, "
        f"{cfg.netadapt.val_images} validation images. {adapted.message}."
    ]
    if steps is None:
        text += ["", "NetAdapt had nothing to do: the search's best network already meets its "
                 "target, so no network was adapted (lower `netadapt.target_ms` to trim it "
                 "further)."]
    else:
        text += ["Every proposal: [netadapt/steps.csv](netadapt/steps.csv); the kept ones:", "",
                 _netadapt_markdown(steps), "", "![netadapt](netadapt.png)", "",
                 f"Final network: `{adapted.spec}`"]
    path = run_dir / "report.md"
    path.write_text("\n".join(text) + "\n")
    return path
