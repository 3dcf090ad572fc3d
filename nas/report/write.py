"""All the files of a run directory, written from the study alone (so they can be regenerated).

``trials.csv`` (every trial), ``pareto.csv`` (non-dominated for the study's objectives),
``pareto_macs.png`` / ``pareto_latency.png``, ``hypervolume.csv`` / ``hypervolume.png``,
``best.json`` and ``summary.md``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import optuna
import pandas as pd

from nas.report.hypervolume import hypervolume_history
from nas.report.noise import noise_lines, seed_std
from nas.report.pareto import pareto_front
from nas.report.plots import plot_front, plot_hypervolume
from nas.report.table import evaluated, trials_frame
from nas.report.truth import front_quality, true_front_frames
from nas.search.workers import WORKER_ATTR

FRONT_COSTS = {"macs": "macs", "latency": "latency_ms"}
SUMMARY_COLUMNS = ["number", "reference", "accuracy", "macs", "latency_ms", "params"]


def _costs(frame: pd.DataFrame) -> list[str]:
    """The fronts that can be drawn: MACs always, latency when a hardware profile gave it."""
    return [name for name, column in FRONT_COSTS.items() if frame[column].notna().any()]


def _study_front(points: pd.DataFrame, objectives: list[str]) -> pd.DataFrame:
    minimize = tuple(FRONT_COSTS[o] for o in objectives if o in FRONT_COSTS)
    if "reward" in objectives:
        return points.sort_values("reward", ascending=False).head(1)
    return pareto_front(points, minimize=minimize or ("macs",))


def _record(row: pd.Series) -> dict:
    def plain(value):
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
            return None
        return value.item() if hasattr(value, "item") else value
    keys = ["number", "reference", "arch", "accuracy", "macs", "params", "latency_ms", "reward",
            "train_seconds"]
    return {key: plain(row[key]) for key in keys}


def _history(points: pd.DataFrame, costs: list[str], reference: dict) -> pd.DataFrame:
    series = [hypervolume_history(points, FRONT_COSTS[c], reference[FRONT_COSTS[c]])
              for c in costs if reference.get(FRONT_COSTS[c])]
    if not series:
        return pd.DataFrame(columns=["number"])
    history = pd.concat(series, axis=1).sort_index().ffill().fillna(0.0)
    return history.rename_axis("number").reset_index()


def _markdown_table(frame: pd.DataFrame) -> str:
    shown = frame[SUMMARY_COLUMNS].copy()
    shown["accuracy"] = (shown["accuracy"] * 100).map("{:.2f}%".format)
    shown["macs"] = (shown["macs"] / 1e6).map("{:.1f}M".format)
    shown["params"] = (shown["params"] / 1e6).map("{:.2f}M".format)
    shown["latency_ms"] = shown["latency_ms"].map(
        lambda v: "-" if pd.isna(v) else f"{v:.2f}")
    header = "| " + " | ".join(shown.columns) + " |"
    rule = "| " + " | ".join("---" for _ in shown.columns) + " |"
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in shown.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def hypervolume_title(reference: dict) -> str:
    """The reference point in words: what the hypervolume is measured against."""
    names = {"accuracy": lambda v: f"accuracy {100 * v:.0f}%",
             "macs": lambda v: f"{v / 1e6:.1f}M MACs",
             "latency_ms": lambda v: f"{v:.1f} ms"}
    parts = [names[key](value) for key, value in reference.items()
             if key in names and value is not None]
    if not parts:
        return "Hypervolume"
    return "Hypervolume; reference point " + ", ".join(parts) + " (the space's largest)"


def write_report(study: optuna.Study, run_dir: Path) -> list[Path]:
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    attrs = study.user_attrs
    objectives = attrs.get("objectives", ["accuracy", "macs"])
    reference = attrs.get("reference_point", {})
    hardware = attrs.get("hardware") or "no hardware"
    frame = trials_frame(study)
    points = evaluated(frame)
    costs = _costs(frame)
    written = [run_dir / "trials.csv", run_dir / "pareto.csv", run_dir / "hypervolume.csv",
               run_dir / "best.json", run_dir / "summary.md"]
    frame.to_csv(written[0], index=False)
    front = _study_front(points, objectives)
    front.to_csv(written[1], index=False)
    history = _history(points, costs, reference)
    history.to_csv(written[2], index=False)
    title = f"{attrs.get('space', '?')} on {hardware}, {attrs.get('strategy', '?')}, " \
            f"{len(points)} evaluated"
    truths = true_front_frames(attrs)
    quality = {cost: front_quality(points, truths[FRONT_COSTS[cost]], FRONT_COSTS[cost],
                                   reference[FRONT_COSTS[cost]])
               for cost in costs if FRONT_COSTS[cost] in truths and len(points)}
    for cost in costs:
        label = None
        if cost == "latency":
            label = f"latency on {hardware} (ms, predicted{_error_note(attrs)})"
        if cost == "macs" and attrs.get("macs_setting"):
            label = f"MACs (millions, {attrs['macs_setting']})"
        shown = title
        if cost in quality:
            shown += (f"\nfound {quality[cost]['found']}/{quality[cost]['true_front_size']} of the "
                      f"true front, hypervolume {quality[cost]['hv_ratio']:.3f} of its")
        written.append(plot_front(points, FRONT_COSTS[cost], run_dir / f"pareto_{cost}.png",
                                  title=shown, cost_label=label,
                                  true_front=truths.get(FRONT_COSTS[cost]),
                                  true_label="true front (benchmark, mean of seeds)",
                                  accuracy_std=seed_std(attrs)))
    if len(history):
        written.append(plot_hypervolume(history, run_dir / "hypervolume.png",
                                        title=hypervolume_title(reference)))
    fronts = {cost: pareto_front(points, minimize=(FRONT_COSTS[cost],)) for cost in costs}
    best = {
        "study": study.study_name, "objectives": objectives, "hardware": hardware,
        "pareto": [_record(row) for _, row in front.iterrows()],
        "fronts": {cost: [_record(row) for _, row in f.iterrows()] for cost, f in fronts.items()},
        "most_accurate": _record(points.loc[points["accuracy"].idxmax()]) if len(points) else None,
        "references": [_record(row) for _, row in points[points["reference"] != ""].iterrows()],
    }
    if quality:
        best["true_front"] = quality
    written[3].write_text(json.dumps(best, indent=2) + "\n")
    written[4].write_text(_summary(study, frame, points, fronts, history, costs, quality) + "\n")
    return written


def _error_note(attrs: dict) -> str:
    """A calibrated profile's leave-one-out error, to be shown wherever its numbers are."""
    meta = attrs.get("hardware_metadata") or {}
    if "loo_mape_pct" in meta:
        return f"; leave-one-out error {meta['loo_mape_pct']}% mean, " \
               f"{meta.get('loo_max_error_pct', '?')}% max"
    return ""


HARDWARE_KEYS = ("kind", "device", "backend", "loo_mape_pct", "loo_max_error_pct")


def _truth_lines(quality: dict) -> list[str]:
    """The search against a tabular benchmark's true fronts (nas/report/truth.py)."""
    lines = ["## Against the benchmark's true Pareto front", "",
             "Share of the true front's networks the search evaluated, and the hypervolume of "
             "everything it evaluated over the true front's (benchmark mean accuracies, the "
             "study's reference point; dashed in the plots).", "",
             "| front | true front | found | share | hypervolume ratio |",
             "| --- | --- | --- | --- | --- |"]
    for cost, q in quality.items():
        lines.append(f"| accuracy vs {cost} | {q['true_front_size']} | {q['found']} | "
                     f"{100 * q['share']:.0f}% | {q['hv_ratio']:.4f} |")
    return lines + [""]


def _wall_line(study) -> str:
    """Worker processes add up their trials' time: the wall clock is what a user waits. A
    study continued after a pause counts the pause too, and the line says so."""
    timed = [t for t in study.get_trials(deepcopy=False)
             if t.datetime_start is not None and t.datetime_complete is not None]
    if not timed:
        return "Wall clock: no finished trial."
    span = max(t.datetime_complete for t in timed) - min(t.datetime_start for t in timed)
    workers = len({t.user_attrs[WORKER_ATTR] for t in timed if WORKER_ATTR in t.user_attrs})
    return (f"Wall clock from the first trial's start to the last one's end: "
            f"{span.total_seconds() / 60:.1f} min, {workers or 1} worker process"
            f"{'es' if workers > 1 else ''} (a study continued later counts the pause too).")


def _summary(study, frame, points, fronts, history, costs, quality=None) -> str:
    attrs = study.user_attrs
    states = frame["state"].value_counts().to_dict()
    lines = [
        f"# Search `{study.study_name}`",
        "",
        f"Command: `{attrs.get('command', '?')}`  ",
        f"Space `{attrs.get('space')}`, hardware `{attrs.get('hardware')}`, strategy "
        f"`{attrs.get('strategy')}`, objectives {attrs.get('objectives')}.  ",
        f"Trials: {len(frame)} ({', '.join(f'{k.lower()} {v}' for k, v in states.items())}); "
        f"{len(points)} distinct architectures trained and feasible; "
        f"{int((frame['skipped'] != '').sum())} over a constraint (not trained); "
        f"{int((frame['failure'] != '').sum())} failed.  ",
        f"Time in trials: {frame['seconds'].sum() / 60:.1f} min "
        f"(median {frame['seconds'].median():.1f} s a trial).  ",
        _wall_line(study),
        "",
    ]
    meta = attrs.get("hardware_metadata")
    if meta:
        shown = {key: meta[key] for key in HARDWARE_KEYS if key in meta}
        lines += [f"Hardware profile: {json.dumps(shown)}", ""]
    for cost in costs:
        lines += [f"## Accuracy vs {cost}", "", f"![front](pareto_{cost}.png)", "",
                  "Pareto front (references marked in the plot):", "",
                  _markdown_table(fronts[cost]), ""]
    lines += noise_lines(fronts, seed_std(attrs),
                         (attrs.get("evaluator_config") or {}).get("kind"))
    if quality:
        lines += _truth_lines(quality)
    refs = points[points["reference"] != ""]
    if len(refs):
        lines += ["## Reference networks, measured the same way", "", _markdown_table(refs), ""]
    if len(history):
        last = history.iloc[-1]
        values = ", ".join(f"{c[3:]} {last[c]:.4f}" for c in history.columns if c != "number")
        lines += ["## Hypervolume", "", f"Final: {values} (reference point "
                  f"{attrs.get('reference_point')}; see nas/report/hypervolume.py).", "",
                  "![hypervolume](hypervolume.png)", ""]
    lines += ["Files: [trials.csv](trials.csv), [pareto.csv](pareto.csv), "
              "[hypervolume.csv](hypervolume.csv), [best.json](best.json)."]
    return "\n".join(lines)
