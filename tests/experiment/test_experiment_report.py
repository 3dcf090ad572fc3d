from types import SimpleNamespace

import pandas as pd
from omegaconf import OmegaConf

from nas.arch import PRESETS
from nas.experiment import summarise
from nas.experiment.report import write_experiment_report
from nas.netadapt import NetAdaptResult
from nas.netadapt.adapt import COLUMNS


def test_the_report_has_the_table_the_verdicts_the_steps_and_its_plots(tmp_path):
    small = str(PRESETS["mobilenet_v3_small"]())
    measured = pd.DataFrame({
        "network": ["mobilenet_v3_small"] * 2 + ["search + NetAdapt"] * 2,
        "role": ["reference"] * 2 + ["found: NetAdapt"] * 2,
        "arch": [small, small, "found", "found"], "seed": [0, 1, 0, 1],
        "val_accuracy": [0.80, 0.81, 0.70, 0.71], "test_accuracy": [None] * 4,
        "macs": [56e6] * 2 + [50e6] * 2, "params": [2.5e6] * 4,
        "latency_ms": [16.0, 16.0, 17.0, 17.0],
    })
    (tmp_path / "netadapt").mkdir()
    steps = pd.DataFrame([
        [0, 0, "seed", "-", 0, 0, 20.0, 20.0, None, None, 0.7, None, True, small],
        [1, 0, "expansion", "blocks.1", 72, 56, 20.0, 19.0, 0.7, 0.6, 0.69, -0.01, True, small],
        [1, 1, "bottleneck", "blocks 1-2", 24, 16, 20.0, 18.0, 0.7, 0.5, 0.6, -0.05, False, small],
    ], columns=COLUMNS)
    steps.to_csv(tmp_path / "netadapt" / "steps.csv", index=False)
    cfg = OmegaConf.create({
        "experiment": {"name": "mobilenet_v3_small"}, "data": {"name": "fashion_mnist"},
        "evaluator": {"epochs": 1, "batch_size": 32}, "compare": {"seeds": [0, 1]},
        "search": {"target_ms": 20, "w": -0.15, "n_trials": 8},
        "space": {"name": "mobilenet_v3_small"},
        "netadapt": {"target_ms": 15.8, "delta_fraction": 0.04, "steps_per_proposal": 10,
                     "train_images": 6000, "val_images": 1000},
    })
    hardware = SimpleNamespace(name="pixel", metadata={"kind": "calibrated", "loo_mape_pct": 4.7})
    adapted = NetAdaptResult(PRESETS["mobilenet_v3_small"](), 19.0, 0.69, 1, False, "stopped")
    best = pd.Series({"reward": 0.7, "reference": "", "number": 3, "latency_ms": 20.0})
    path = write_experiment_report(tmp_path, summarise(measured), reference="mobilenet_v3_small",
                                   hardware=hardware, adapted=adapted, search_best=best, cfg=cfg)
    text = path.read_text()
    assert "| search + NetAdapt | found: NetAdapt | 0.7050 ± 0.0071 (2) |" in text
    assert "WORSE on both axes" in text and "No found network reaches" in text
    assert "expansion blocks.1: 72->56" in text and "leave-one-out error 4.7%" in text
    assert (tmp_path / "compare.png").stat().st_size > 0
    assert (tmp_path / "netadapt.png").stat().st_size > 0
