"""The experiment configs: their spaces hold the seeds and the redesigned layers as choices."""

import shlex

import pandas as pd
import pytest
from omegaconf import OmegaConf

from nas.arch import PRESETS, SearchSpace
from nas.cli import compose_config
from nas.experiment import best_by_reward, resolve_network
from nas.experiment.checks import supernet_command
from nas.experiment.final import final_settings


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


@pytest.mark.parametrize("name", ["mobilenet_v3_large", "mobilenet_v3_small"])
@pytest.mark.parametrize("evaluator", ["supernet", "zero_cost"])
def test_a_fast_evaluator_is_one_word_and_brings_the_issues_thousand_candidates(name, evaluator):
    cfg = compose_config("config", [f"experiment={name}", f"evaluator={evaluator}"])
    assert cfg.search.n_trials >= 1000
    assert cfg.netadapt.target_ms < cfg.search.target_ms  # the paper's targets stay


@pytest.mark.parametrize("name", ["mobilenet_v3_large", "mobilenet_v3_small"])
def test_the_committed_default_is_the_cpu_proxy_budget(name):
    cfg = compose_config("config", [f"experiment={name}"])
    assert "kind" not in cfg.evaluator and cfg.search.n_trials <= 10


@pytest.mark.parametrize("name", ["mobilenet_v3_large", "mobilenet_v3_small"])
def test_the_final_budget_is_the_ground_truths(name):
    """Same recipe, epochs, training share and validation split as nas.ground_truth's plan."""
    experiment = compose_config("config", [f"experiment={name}"])
    truth = compose_config("ground_truth", [])
    settings = final_settings(experiment, name)
    recipe = OmegaConf.to_container(truth.evaluator)
    for key in ("epochs", "train_fraction", "val_size", "seed_std"):  # as nas.ground_truth does
        recipe.pop(key, None)
    recipe["train_fraction"] = truth.train_fraction
    assert settings["evaluator"] == recipe
    assert settings["data"] == OmegaConf.to_container(truth.data)
    assert settings["epochs"] == truth.epochs and len(settings["seeds"]) == 3


@pytest.mark.parametrize("name", ["mobilenet_v3_large", "mobilenet_v3_small"])
def test_the_supernet_command_it_prints_trains_a_file_of_the_experiment_space(name):
    """nas.experiment tells how to train the supernet it needs; that command's space and data
    split are the experiment's, or the file would be refused."""
    experiment = compose_config("config", [f"experiment={name}", "evaluator=supernet"])
    command = shlex.split(supernet_command(experiment, "x.pt"))
    supernet = compose_config("supernet", command[3:])
    assert SearchSpace.from_config(OmegaConf.to_container(supernet.space)) == \
        SearchSpace.from_config(OmegaConf.to_container(experiment.space))
    assert supernet.data.val_size == experiment.data.val_size
