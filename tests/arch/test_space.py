import dataclasses
import random

import optuna
import pytest

from nas.arch import PRESETS, SearchSpace, StageChoices
from nas.cli import load_space
from nas.errors import NasError, NotInSpaceError


@pytest.mark.parametrize("name", ["mobilenet_v3_large", "mobilenet_v3_small"])
def test_reference_lies_in_its_space_and_encodes_to_itself(name):
    space = load_space(name)
    reference = PRESETS[name]()
    params = space.encode(reference)
    assert space.build(lambda key, options: params[key]) == reference
    assert name in space.references


def test_size_counts_every_choice():
    stage = StageChoices(stride=2, depth=(1, 2), width=(16, 24), kernel=(3, 5), expand=(3,),
                         se=(False,), act=("relu",))
    space = SearchSpace(stages=(stage,), stem_width=(16, 32))
    # 2 stem widths x 2 widths x (2 + 2^2) block sequences
    assert space.size() == 2 * 2 * (2 + 4)
    seen = set()
    rng = random.Random(0)
    for _ in range(500):
        seen.add(space.sample_random(rng))
    assert len(seen) == space.size()


def test_optuna_define_by_run_samples_only_sampled_depth():
    space = load_space("mobilenet_v3_small")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    for _ in range(20):
        trial = study.ask()
        spec = space.sample(trial)
        depth = trial.params["s2_depth"]
        assert f"s2_b{depth - 1}_kernel" in trial.params
        assert f"s2_b{depth}_kernel" not in trial.params
        assert space.encode(spec) == trial.params
        study.tell(trial, 0.0)


def test_enqueued_reference_is_rebuilt_exactly():
    space = load_space("mobilenet_v3_large")
    reference = PRESETS["mobilenet_v3_large"]()
    study = optuna.create_study()
    study.enqueue_trial(space.encode(reference))
    assert space.sample(study.ask()) == reference


def test_networks_outside_the_space_say_why():
    space = load_space("mobilenet_v3_small")
    with pytest.raises(NotInSpaceError, match="not in space"):
        space.encode(PRESETS["mobilenet_v2"]())
    assert not space.contains(PRESETS["mobilenet_v3_large"]())


def test_bad_space_configs_are_rejected():
    with pytest.raises(NasError, match="stride"):
        StageChoices(stride=3, depth=(1,), width=(16,))
    with pytest.raises(NasError, match="twice"):
        StageChoices(stride=1, depth=(1, 1), width=(16,))
    with pytest.raises(NasError, match="ambiguous"):
        SearchSpace(stages=(StageChoices(stride=2, depth=(1,), width=(16, 24)),
                            StageChoices(stride=1, depth=(1,), width=(24, 32))))
    with pytest.raises(NasError, match="config"):
        SearchSpace.from_config({"stages": [{"stride": 1, "depth": [1], "width": [8]}],
                                 "bogus": 1})


def test_ops_stages_count_each_network_once_and_encode_back():
    space = load_space("nas_bench_macro")
    assert space.size() == 9 * 21 * 21 == 3969
    rng = random.Random(0)
    seen = set()
    for _ in range(3000):
        spec = space.sample_random(rng)
        params = space.encode(spec)
        assert space.build(lambda key, options, params=params: params[key]) == spec
        seen.add(spec)
    assert len(seen) > 3000 * 0.5  # distinct specs, not one network under many decision sets
    assert all(spec.resolution == 32 and spec.classes == 10 for spec in seen)
    assert all(b.kind == "ir" for spec in seen for b in spec.blocks if b.stride == 1)


def test_an_identity_is_offered_only_where_it_downsamples():
    with pytest.raises(NasError, match="op 'id' needs a stride-2 stage"):
        StageChoices(stride=1, depth=(1, 2), width=(64,), ops=("id", "k3_e3"))
    with pytest.raises(NasError, match="neither 'id' nor"):
        StageChoices(stride=2, depth=(1,), width=(64,), ops=("k3",))


def test_a_network_off_the_ops_is_not_in_the_space():
    space = load_space("nas_bench_macro")
    spec = space.sample_random(random.Random(1))
    blocks = list(spec.blocks)
    blocks[0] = dataclasses.replace(blocks[0], kind="ir", kernel=7, expand=96, act="relu")
    with pytest.raises(NotInSpaceError, match="none of the ops"):
        space.encode(dataclasses.replace(spec, blocks=tuple(blocks)))
    with pytest.raises(NotInSpaceError, match="classes None != 10"):
        space.encode(dataclasses.replace(spec, classes=None))


def test_a_narrower_space_lies_within_a_wider_one_and_not_the_other_way():
    import copy
    from pathlib import Path

    import yaml

    wide = load_space("mobilenet_v3_small")
    text = (Path(__file__).parents[2] / "conf" / "space" / "mobilenet_v3_small.yaml").read_text()
    config = {k: v for k, v in yaml.safe_load(text).items() if k != "defaults"}
    config["stages"][2]["kernel"] = [3, 5]
    config["head"]["conv"] = [576]
    narrow = SearchSpace.from_config(config | {"name": "narrow"})
    assert narrow.within(wide) and not wide.within(narrow) and wide.within(wide)
    rng = random.Random(0)
    assert all(wide.contains(narrow.sample_random(rng)) for _ in range(20))
    other_stride = copy.deepcopy(config)
    other_stride["stages"][3]["stride"] = 2
    assert not SearchSpace.from_config(other_stride).within(wide)
