"""evaluator=tabular: lookups, the seed noise, and the refusals before a search starts."""

import dataclasses
import statistics

import pytest

from nas.arch import SearchSpace, StageChoices
from nas.cli import load_space
from nas.errors import NasError
from nas.tabular import (
    TabularError,
    TabularEvaluator,
    all_specs,
    check_space,
    front_of,
    key_to_spec,
    records,
    true_fronts,
)
from nas.tabular.macro import macro_space


def test_mean_is_the_three_seeds_mean_and_seed_noise_draws_one_of_them():
    spec, record = key_to_spec("11111221"), records()["11111221"]
    assert TabularEvaluator().evaluate(spec).val_accuracy == pytest.approx(
        statistics.fmean(record.seeds) / 100)
    drawn = {TabularEvaluator(noise="seed", seed=s).accuracy(spec) for s in range(30)}
    assert drawn == set(record.seeds)  # each seed's value, and nothing else
    same = TabularEvaluator(noise="seed", seed=3)
    assert same.accuracy(spec) == same.accuracy(spec)


def test_bad_noise_is_refused():
    with pytest.raises(NasError, match="evaluator.noise must be one of"):
        TabularEvaluator(noise="gauss")


def test_all_specs_walks_every_network_once():
    stage = StageChoices(stride=2, depth=(1, 2), width=(16, 24), kernel=(3, 5), expand=(3,),
                         se=(False,), act=("relu",))
    space = SearchSpace(stages=(stage,), stem_width=(16, 32))
    specs = list(all_specs(space))
    assert len(specs) == len(set(specs)) == space.size()


def test_another_space_or_an_untrained_kernel_is_refused():
    with pytest.raises(TabularError, match="give space=nas_bench_macro"):
        check_space(load_space("mobilenet_v3_small"))
    space = macro_space()
    stages = list(space.stages)
    stages[2] = dataclasses.replace(stages[2], ops=("id", "k3_e3", "k7_e6"))
    with pytest.raises(TabularError, match="never trained"):
        check_space(dataclasses.replace(space, stages=tuple(stages)))
    check_space(space)


def test_true_fronts_are_non_dominated_and_hold_the_most_accurate_network():
    fronts = true_fronts(macro_space())
    front = fronts["macs"]
    accuracies = [p["accuracy"] for p in front]
    assert accuracies == sorted(accuracies) and len(set(accuracies)) == len(accuracies)
    best = max(r.mean for r in records().values()) / 100
    assert accuracies[-1] == pytest.approx(best)
    assert front_of(front, "macs") == front
