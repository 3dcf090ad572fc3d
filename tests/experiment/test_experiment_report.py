"""The report reads the final trainings with their noise: intervals, ties, the verdict in words,
the search curve and its growth with candidates, NetAdapt's steps, and its plots."""

import json
from types import SimpleNamespace

import pandas as pd
import pytest
from omegaconf import OmegaConf

from nas.arch import PRESETS
from nas.experiment import summarise, verdicts
from nas.experiment.curves import (
    best_within,
    candidates,
    curve_floor,
    growth_table,
    reference_reward,
)
from nas.experiment.report import verdict_lines, write_experiment_report
from nas.netadapt import NetAdaptResult
from nas.netadapt.adapt import COLUMNS

SMALL = str(PRESETS["mobilenet_v3_small"]())
# name -> (role, seed accuracies in percent, predicted latency in ms)
NETWORKS = {
    "mobilenet_v3_small": ("reference", [91.4, 91.5, 91.6], 16.0),
    "search_netadapt": ("found: NetAdapt", [92.4, 92.5, 92.6], 13.4),  # better, faster
    "search_best": ("found: search", [91.3, 91.7, 91.5], 15.0),        # inside the noise
    "best_within_100": ("found: first N", [93.0, 93.1, 92.9], 20.0),    # better, slower
    "same_speed": ("found: search", [92.0, 92.1, 92.2], 16.3),          # within 3.6% of 16
}


def final_table() -> pd.DataFrame:
    rows = []
    for name, (role, values, _) in NETWORKS.items():
        rows.append({"arch": SMALL if role == "reference" else f"arch-{name}", "name": name,
                     "role": role, "accuracy": sum(values) / 3,
                     "accuracy_std": pd.Series(values).std(), "seed_0": values[0],
                     "seed_1": values[1], "seed_2": values[2], "macs": 56e6, "params": 2.5e6})
    return pd.DataFrame(rows)


@pytest.fixture
def table():
    latency = {name: ms for name, (_, _, ms) in NETWORKS.items()}
    return summarise(final_table(), latency, {"search_netadapt": "search + NetAdapt"})


def test_verdicts_read_the_difference_with_its_interval_and_the_latency_with_its_error(table):
    found = {v.name: v for v in verdicts(table, "mobilenet_v3_small", error_pct=3.6)}
    assert found["search_netadapt"].accuracy == "more accurate"
    assert found["search_netadapt"].latency == "lower" and found["search_netadapt"].beats
    assert found["search_best"].accuracy == "tie" and found["search_best"].difference.low < 0
    assert not found["search_best"].beats
    assert found["best_within_100"].latency == "higher" and not found["best_within_100"].beats
    assert found["same_speed"].latency == "equal" and found["same_speed"].beats
    no_error = {v.name: v for v in verdicts(table, "mobilenet_v3_small", error_pct=None)}
    assert no_error["same_speed"].latency == "higher"


def test_a_tie_in_accuracy_at_lower_latency_is_said_apart_from_a_plain_tie(table):
    """No winner: the network as accurate within the noise and faster is named with its
    speed-up in the headline, not lumped with ties at equal or higher latency."""
    found = [v for v in verdicts(table, "mobilenet_v3_small", error_pct=3.6)
             if v.name in ("search_best", "best_within_100")]
    assert found[0].matches_faster and not found[1].matches_faster
    head, _, *lines = verdict_lines(found, "mobilenet_v3_small")
    assert head == ("**No: no found network beats mobilenet_v3_small outside the noise.** "
                    "search_best matches its accuracy (a tie: the 95% interval of the difference "
                    "contains zero) at lower latency (15.0 vs 16.0 ms, 1.07x faster).")
    assert lines[0].endswith("lower latency: it matches the reference's accuracy within the "
                             "noise, 1.07x faster.")
    assert lines[1].endswith("higher latency: it does not beat the reference.")


def trials_frame(count=150) -> pd.DataFrame:
    """A search's trials: the reference first (best reward of all), then rising rewards."""
    rows = [{"number": 0, "reference": "mobilenet_v3_small", "reward": 0.95, "accuracy": 0.9,
             "latency_ms": 16.0, "evaluated": True, "duplicate_of": None, "arch": SMALL}]
    for n in range(1, count):
        rows.append({"number": n, "reference": "", "reward": 0.5 + n / 1000,
                     "accuracy": 0.8, "latency_ms": 15.0, "evaluated": True,
                     "duplicate_of": None, "arch": f"arch-{n}"})
    rows.append({"number": count, "reference": "", "reward": 0.99, "accuracy": 0.8,
                 "latency_ms": 15.0, "evaluated": True, "duplicate_of": 3, "arch": "arch-3"})
    return pd.DataFrame(rows)


def test_the_curve_counts_distinct_candidates_and_never_takes_the_excluded_reference():
    rows = candidates(trials_frame(), exclude=["mobilenet_v3_small"])
    assert len(rows) == 150  # the duplicate is not a new candidate
    assert pd.isna(rows["best"].iloc[0]) and rows["best"].iloc[-1] == pytest.approx(0.649)
    assert best_within(rows, 100)["number"] == 99
    growth = growth_table(rows)
    assert growth["candidates"].tolist() == [10, 30, 100, 150]
    assert growth["trial"].tolist() == [9, 29, 99, 149]
    assert reference_reward(trials_frame(), "mobilenet_v3_small") == 0.95


def test_the_search_curve_cuts_the_worst_tenth_but_never_hides_the_reference_line():
    rewards = pd.Series([1.00 + i / 1000 for i in range(100)])  # 1.000 ... 1.099
    assert curve_floor(rewards, None) == pytest.approx(rewards.quantile(0.1))
    assert curve_floor(rewards, 1.05) == pytest.approx(rewards.quantile(0.1))
    # every candidate beats the reference (the MobileNetV3-Small run: 0.918 vs 0.97-1.09)
    assert curve_floor(rewards, 0.918) < 0.918
    assert curve_floor(rewards[:4], 0.918) is None  # too few to cut


def report_inputs(tmp_path) -> dict:
    """Everything but the final table and the verdicts: a NetAdapt log with a kept step, a
    150-candidate search, the timings and the final budget."""
    (tmp_path / "netadapt").mkdir()
    pd.DataFrame([
        [0, 0, "seed", "-", 0, 0, 20.0, 20.0, None, None, 0.7, None, True, SMALL],
        [1, 0, "expansion", "blocks.1", 72, 56, 20.0, 19.0, 0.7, 0.6, 0.69, -0.01, True, SMALL],
        [1, 1, "bottleneck", "blocks 1-2", 24, 16, 20.0, 18.0, 0.7, 0.5, 0.6, -0.05, False,
         SMALL],
    ], columns=COLUMNS).to_csv(tmp_path / "netadapt" / "steps.csv", index=False)
    (tmp_path / "netadapt" / "state.json").write_text(json.dumps({"source": "supernet:x.pt"}))
    cfg = OmegaConf.create({
        "experiment": {"name": "mobilenet_v3_small"}, "data": {"name": "fashion_mnist"},
        "search": {"target_ms": 20, "w": -0.15, "n_trials": 151},
        "space": {"name": "mobilenet_v3_small"},
        "netadapt": {"target_ms": 13.5, "delta_fraction": 0.04, "steps_per_proposal": 10,
                     "train_images": None, "val_images": 1000},
    })
    hardware = SimpleNamespace(name="pixel", metadata={"kind": "calibrated", "loo_mape_pct": 3.6})
    adapted = NetAdaptResult(PRESETS["mobilenet_v3_small"](), 19.0, 0.69, 1, False, "stopped")
    trials = trials_frame()
    rows = candidates(trials, ["mobilenet_v3_small"])
    search = {"best": rows.loc[rows["reward"].idxmax()], "rows": rows,
              "growth": growth_table(rows), "evaluator": "supernet",
              "reference_reward": reference_reward(trials, "mobilenet_v3_small"),
              "timings": {"search": 3900.0, "netadapt": 1800.0, "final": 20000.0},
              "limit_minutes": 90}
    final = {"epochs": 3, "seeds": [0, 1, 2], "train_images": 50000, "val_images": 10000,
             "evaluator": {"batch_size": 64, "lr": 0.2, "train_fraction": 1.0}}
    return {"reference": "mobilenet_v3_small", "hardware": hardware, "adapted": adapted,
            "search": search, "final": final, "cfg": cfg,
            "command": "python -m nas.experiment experiment=x"}


def test_the_report_says_the_verdict_in_words_with_intervals_and_draws_its_plots(tmp_path,
                                                                                 table):
    found = verdicts(table, "mobilenet_v3_small", 3.6)
    path = write_experiment_report(tmp_path, table=table, found=found,
                                   **report_inputs(tmp_path))
    text = path.read_text()
    assert "**Yes: search + NetAdapt, same_speed beat mobilenet_v3_small**" in text
    assert "**search_best** vs mobilenet_v3_small: accuracy +0.00 points " \
           "[95% interval -0.42" in text
    assert "a tie: the interval contains zero" in text
    assert "| search + NetAdapt | found: NetAdapt | 92.50 ± 0.10 [92.25, 92.75] (3) | " \
           "13.4 ± 3.6% |" in text
    assert "3 epoch(s) on 50,000 fashion_mnist training images, validated on 10,000" in text
    assert "| 100 | 0.5990 | 99 |" in text and "prefixes of one search of 150" in text
    assert "fewer than the issue's 1,000" in text
    assert "search 65.0 min, NetAdapt 30.0 min (95.0 min together, **over** the issue's " \
           "90-minute limit), final trainings 333.3 min" in text
    assert "take the supernet's weights" not in text  # the state's wording, not the tuner's
    assert "took the supernet's weights (x.pt)" in text
    assert "expansion blocks.1: 72->56" in text and "python -m nas.experiment experiment=x" in text
    for name in ("compare.png", "search_curve.png", "candidates.png", "netadapt.png",
                 "final_summary.csv", "verdicts.csv", "candidates.csv"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert pd.read_csv(tmp_path / "verdicts.csv")["beats"].sum() == 2


def test_before_the_final_trainings_finish_the_report_has_no_verdict_and_says_so(tmp_path,
                                                                                table):
    """An interim report: search, NetAdapt and the finished trainings, no verdict; a stale
    verdicts.csv does not survive it."""
    (tmp_path / "verdicts.csv").write_text("network,beats\nold,True\n")
    inputs = report_inputs(tmp_path)
    one_seed = table.iloc[:2].copy()
    one_seed.loc[1, ["seeds", "accuracy"]] = [1, 92.4]
    path = write_experiment_report(tmp_path, table=one_seed, found=None, trainings=(4, 15),
                                   **inputs)
    text = path.read_text()
    assert "**Pending: 4 of 15 final trainings finished.**" in text
    assert "**Yes" not in text and "**No" not in text and not (tmp_path / "verdicts.csv").exists()
    assert "| search + NetAdapt | found: NetAdapt | 92.40 (1 seed) |" in text
    assert "have no finished training yet" in text and "## Search" in text
    assert "expansion blocks.1: 72->56" in text
    assert len(pd.read_csv(tmp_path / "final_summary.csv")) == 2

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    inputs = report_inputs(fresh)
    inputs["final"] |= {"train_images": 0, "val_images": 0}  # no training record to read yet
    empty = write_experiment_report(fresh, table=table.iloc[:0], found=None, trainings=(0, 15),
                                    **inputs).read_text()
    assert "No final training has finished yet." in empty
    assert "3 epoch(s) on 100% of the fashion_mnist training split" in empty
    assert not (fresh / "final_summary.csv").exists()


def test_an_interim_report_gives_the_comparisons_that_are_already_final(tmp_path, table):
    """Found networks with every seed against the reference with every seed: their sentences
    come before the verdict, which stays pending; nothing while the reference lacks a seed."""
    from nas.experiment.pipeline import comparisons_so_far

    partial = table.copy()
    partial.loc[partial["name"] == "search_best", "seeds"] = 2
    so_far = comparisons_so_far(partial, "mobilenet_v3_small", seeds=3, error_pct=3.6)
    assert [v.name for v in so_far] == ["search_netadapt", "best_within_100", "same_speed"]
    no_reference = partial.copy()
    no_reference.loc[no_reference["name"] == "mobilenet_v3_small", "seeds"] = 2
    assert comparisons_so_far(no_reference, "mobilenet_v3_small", 3, 3.6) == []
    assert comparisons_so_far(table.iloc[:0], "mobilenet_v3_small", 3, 3.6) == []

    text = write_experiment_report(tmp_path, table=partial, found=None, trainings=(14, 15),
                                   so_far=so_far, **report_inputs(tmp_path)).read_text()
    assert "**Pending: 14 of 15 final trainings finished.**" in text and "**Yes" not in text
    assert "So far, the found networks whose every seed is trained" in text
    assert "- **search + NetAdapt** vs mobilenet_v3_small: accuracy +1.00 points" in text
    assert "**search_best** vs" not in text and not (tmp_path / "verdicts.csv").exists()


def test_the_commit_is_read_once_so_a_report_rewritten_later_names_the_code_that_ran(
        monkeypatch):
    from nas.experiment import report

    report.git_commit.cache_clear()
    first = report.git_commit()
    assert len(first.split()[0]) == 40 or first.startswith("unknown")

    def no_more_git(*args, **kwargs):
        raise AssertionError("git asked again: a commit made meanwhile would be named")

    monkeypatch.setattr(report.subprocess, "run", no_more_git)
    assert report.git_commit() == first
    report.git_commit.cache_clear()
