"""The experiment configs: their spaces hold the seeds and the redesigned layers as choices."""

import pandas as pd
import pytest
from omegaconf import OmegaConf

from nas.arch import PRESETS, SearchSpace
from nas.cli import compose_config
from nas.experiment import best_by_reward, resolve_network, summarise, verdicts


def experiment_space(name: str) -> SearchSpace:
    space = compose_config("config", [f"experiment={name}"]).space
    return SearchSpace.from_config(OmegaConf.to_container(space))


@pytest.mark.parametrize("name, w", [("mobilenet_v3_large", -0.07), ("mobilenet_v3_small", -0.15)])
def test_experiments_use_the_papers_reward_weight(name, w):
    experiment = compose_config("config", [f"experiment={name}"])
    assert experiment.search.w == w
    assert experiment.netadapt.target_ms < experiment.search.target_ms


@pytest.mark.parametrize("name", ["mobilenet_v3_large", "mobilenet_v3_small"])
def test_every_enqueued_network_lies_in_the_experiment_space(name):
    space = experiment_space(name)
    for reference in space.references:
        assert space.contains(PRESETS[reference]()), reference


def test_large_space_holds_the_mnasnet_seed_and_both_stems_and_last_stages():
    space = experiment_space("mobilenet_v3_large")
    seed = PRESETS["mnasnet_a1_v3_space"]()
    params = space.encode(seed)
    assert (params["stem_width"], params["stem_act"]) == (32, "relu")  # the original stem
    assert (params["head_conv"], params["head_features"]) == (1280, 0)  # the original last stage
    params = space.encode(PRESETS["mobilenet_v3_large"]())
    assert (params["stem_width"], params["stem_act"]) == (16, "hswish")  # the redesigned ones
    assert (params["head_conv"], params["head_features"]) == (960, 1280)
    assert not space.contains(PRESETS["mnasnet_a1"]())  # hence the projection


def test_networks_to_compare_resolve_with_width():
    assert resolve_network("mobilenet_v2:0.35") == PRESETS["mobilenet_v2"](width=0.35)
    assert resolve_network("mobilenet_v3_small") == PRESETS["mobilenet_v3_small"]()


def test_netadapt_seed_is_the_best_reward_outside_the_excluded_reference():
    trials = pd.DataFrame({
        "number": [0, 1, 2, 3], "evaluated": [True, True, True, False],
        "reward": [0.9, 0.8, 0.85, 0.99], "reference": ["mobilenet_v3_small", "", "", ""],
        "arch": ["a", "b", "c", "d"],
    })
    assert best_by_reward(trials, ["mobilenet_v3_small"])["arch"] == "c"
    assert best_by_reward(trials, [])["arch"] == "a"


def test_verdicts_say_plainly_when_a_found_network_is_worse_on_both_axes():
    measured = pd.DataFrame({
        "network": ["ref", "ref", "fast", "fast", "bad", "bad"],
        "role": ["reference", "reference", "found: NetAdapt", "found: NetAdapt",
                 "found: search", "found: search"],
        "arch": ["r", "r", "f", "f", "b", "b"], "seed": [0, 1] * 3,
        "val_accuracy": [0.80, 0.82, 0.79, 0.79, 0.70, 0.72], "test_accuracy": [None] * 6,
        "macs": [1, 1, 1, 1, 1, 1], "params": [1] * 6,
        "latency_ms": [10, 10, 8, 8, 12, 12],
    })
    table = summarise(measured)
    assert table.set_index("network").loc["ref", "accuracy"] == pytest.approx(0.81)
    lines = verdicts(table, "ref")
    assert "faster but less accurate" in lines[0]
    assert "WORSE on both axes" in lines[1]
