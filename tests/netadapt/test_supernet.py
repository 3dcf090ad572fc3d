"""NetAdapt with a supernet's weights: a real tiny supernet (trained a few steps here), real
Fashion-MNIST images, real NetAdapt steps."""

import json

import pytest
import torch
from omegaconf import OmegaConf

from nas.arch import SearchSpace
from nas.cli import compose_config
from nas.errors import NasError
from nas.netadapt import NetAdaptSettings, load_log, netadapt, with_expansion
from nas.netadapt.adapt import STATE_NAME
from nas.netadapt.tuning import ProxyTuner, ScoreTuner, make_tuner
from nas.yardstick.selection import CORNERS, corner
from tests.tiny_supernet import FIXED_SPACE, train_supernet

VAL_SIZE = 10000  # the default split, which nas.netadapt composes


@pytest.fixture(scope="module")
def supernet_file(tmp_path_factory):
    threads = torch.get_num_threads()
    root = tmp_path_factory.mktemp("supernet")
    yield train_supernet(root / "conf", root / "tiny.pt", val_size=VAL_SIZE)
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def space():
    return SearchSpace.from_config(FIXED_SPACE)


@pytest.fixture(scope="module")
def seed(space):
    return corner(space, CORNERS["largest"])


def tuner_for(path, seed_spec, evaluator=None, **overrides):
    evaluator = evaluator or {"kind": "supernet", "path": str(path), "bn_images": 128,
                              "val_size": 300, "device": "cpu"}
    settings = dict(data_cfg={"name": "fashion_mnist", "val_size": VAL_SIZE, "split_seed": 0},
                    evaluator_cfg=evaluator, seed_spec=seed_spec, finetune_lr=0.01,
                    finetune_batch_size=32, train_images=1000, val_images=300, seed=0,
                    device="cpu") | overrides
    return make_tuner(**settings)


def parameters(model):
    """Weights and BN affine parameters (not the running statistics, which are recalibrated)."""
    return {name: tensor for name, tensor in model.named_parameters()}


def test_a_narrower_network_of_the_space_inherits_exactly_the_supernets_slices(
        supernet_file, space, seed):
    tuner = tuner_for(supernet_file, seed)
    narrower = with_expansion(seed, 1, 48)  # 24 x 2 and 40 x 2: choices of the space
    narrower = with_expansion(narrower, 3, 80)
    assert space.contains(narrower) and narrower != seed
    inherited = parameters(tuner.inherit(None, narrower))
    expected = parameters(tuner.supernet.subnet(narrower))
    assert inherited.keys() == expected.keys()
    for name, tensor in expected.items():
        assert torch.equal(inherited[name], tensor), name


def test_a_proposal_outside_the_spaces_widths_still_takes_supernet_weights(supernet_file, seed):
    tuner = tuner_for(supernet_file, seed)
    narrow = with_expansion(seed, 2, 8)  # 8 is no choice of the space: NetAdapt's width step
    model = tuner.inherit(None, narrow)
    full = tuner.supernet.state_dict()
    source = full["blocks.2.expand.conv.weight"][:8]
    assert torch.equal(model.state_dict()["blocks.2.expand.conv.weight"], source)
    # BN statistics are re-estimated for this network, not the supernet's shared averages
    assert not torch.equal(model.state_dict()["blocks.2.expand.bn.running_mean"],
                           full["blocks.2.expand.bn.running_mean"][:8])
    assert 0.0 <= tuner.accuracy(model) <= 1.0


def test_netadapt_runs_on_supernet_weights_and_refuses_another_source_on_rerun(
        supernet_file, seed, tmp_path):
    def latency(spec):  # the blocks' MACs: monotone in every width, no hardware needed
        from nas.cost import arch_cost
        return arch_cost(spec).macs / 1e6

    tuner = tuner_for(supernet_file, seed)
    settings = NetAdaptSettings(target_ms=0.5 * latency(seed), delta_fraction=0.1,
                                steps_per_proposal=2, seed_steps=0, max_steps=2, seed=0)
    messages = []
    result = netadapt(seed, latency=latency, tuner=tuner, settings=settings, run_dir=tmp_path,
                      log=messages.append)
    assert result.steps == 2 and "supernet's weights" in messages[0]
    steps = load_log(tmp_path)
    moves = steps[steps["step"] > 0]
    assert moves["accuracy_inherited"].between(0, 1).all()
    assert moves["accuracy_finetuned"].between(0, 1).all()
    state = json.loads((tmp_path / STATE_NAME).read_text())
    assert state["source"] == f"supernet:{supernet_file}"
    proxy = ProxyTuner(data_config={"name": "fashion_mnist"}, recipe=tuner.recipe)
    with pytest.raises(NasError, match="scored by 'supernet:"):
        netadapt(seed, latency=latency, tuner=proxy, settings=settings, run_dir=tmp_path)


def test_a_seed_outside_the_supernets_space_is_one_line(supernet_file):
    from nas.arch import PRESETS

    with pytest.raises(NasError, match="not a network of the supernet's space 'tiny_fixed'"):
        tuner_for(supernet_file, PRESETS["mobilenet_v3_small"]())


def test_a_table_lookup_cannot_score_netadapts_proposals(seed):
    with pytest.raises(NasError, match="NetAdapt cannot use evaluator=tabular"):
        tuner_for(None, seed, evaluator={"kind": "tabular", "noise": "mean"})


def test_a_zero_cost_score_ranks_proposals_by_their_architecture(seed, tmp_path):
    cfg = compose_config("config", ["evaluator=zero_cost", "evaluator.score=naswot",
                                    "evaluator.batch_size=16"])
    tuner = tuner_for(None, seed, evaluator=OmegaConf.to_container(cfg.evaluator))
    assert isinstance(tuner, ScoreTuner)

    def latency(spec):
        from nas.cost import arch_cost
        return arch_cost(spec).macs / 1e6

    settings = NetAdaptSettings(target_ms=0.8 * latency(seed), delta_fraction=0.1,
                                steps_per_proposal=0, seed_steps=0, max_steps=1, seed=0)
    result = netadapt(seed, latency=latency, tuner=tuner, settings=settings, run_dir=tmp_path)
    moves = load_log(tmp_path).query("step == 1")
    assert result.steps == 1 and len(moves) > 1
    # nothing is fine-tuned: the score after "fine-tuning" is the inherited one
    assert (moves["accuracy_inherited"] == moves["accuracy_finetuned"]).all()
    assert moves["accuracy_finetuned"].nunique() > 1  # the score tells proposals apart


def test_the_command_takes_the_supernet_as_a_one_word_evaluator(supernet_file, seed, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run(
        [sys.executable, "-m", "nas.netadapt", f"arch={seed}", "target_ms=4.5",
         "evaluator=supernet", f"evaluator.path={supernet_file}", "evaluator.bn_images=64",
         "val_images=200", "steps_per_proposal=0", "delta_fraction=0.1", "max_steps=1",
         "threads=1", f"run_dir={tmp_path}"],
        cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((tmp_path / "final.json").read_text())
    assert report["steps"] == 1 and "final" not in report  # no proxy recipe: not retrained
    assert json.loads((tmp_path / STATE_NAME).read_text())["source"].startswith("supernet:")
