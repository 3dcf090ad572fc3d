"""Sandwich training on a tiny budget: it learns, and a resumed run is the uninterrupted one."""

import copy

import pytest
import torch

from nas.errors import NasError
from nas.evaluate.training import Recipe, accuracy, recalibrate_bn
from nas.supernet import Supernet
from nas.supernet.training import Sandwich, train_supernet

# 16x16 inputs and a high rate: a budget of seconds on a busy 2-core CPU
RECIPE = Recipe(batch_size=32, lr=0.4, kd_alpha=1.0, kd_temperature=1.0, channels_last=False,
                resolution=16)


def fresh(space, seed=0):
    torch.manual_seed(seed)
    return Supernet(space, num_classes=10, resolution=16, in_channels=1)


def largest_accuracy(net, data):
    subnet = net.subnet(net.largest())
    recalibrate_bn(subnet, data.train, images=256, seed=0)
    return accuracy(subnet, data.val)


def test_the_sandwich_learns_the_largest_and_smallest(tiny_space, small_fashion):
    net, losses = fresh(tiny_space), []
    train_supernet(net, small_fashion, recipe=RECIPE, steps=30, seed=0,
                   sandwich=Sandwich(random_subnets=1),
                   on_step=lambda r: losses.append((r.teacher_loss, r.student_loss)))
    assert len(losses) == 30
    first, last = sum(t for t, _ in losses[:5]) / 5, sum(t for t, _ in losses[-5:]) / 5
    assert last < first - 0.3, (first, last)
    assert largest_accuracy(net, small_fashion) > 0.3  # chance: 0.1
    smallest = net.subnet(net.smallest())
    recalibrate_bn(smallest, small_fashion.train, images=256, seed=0)
    assert accuracy(smallest, small_fashion.val) > 0.2


def test_a_resumed_run_does_the_steps_of_an_uninterrupted_one(tiny_space, small_fashion):
    settings = {"recipe": RECIPE, "steps": 6, "seed": 3, "sandwich": Sandwich(random_subnets=1)}
    whole = fresh(tiny_space)
    train_supernet(whole, small_fashion, **settings)

    saved, steps_run = {}, []

    def checkpoint(done, state):
        if done == 4:
            saved.update(weights={k: v.clone() for k, v in first.state_dict().items()},
                         optimizer=copy.deepcopy(state))  # saved to disk in real use

    first = fresh(tiny_space)

    class Stop(Exception):
        pass

    def stop_after_four(record):
        if record.step == 5:
            raise Stop  # an interrupt after the checkpoint of step 4

    with pytest.raises(Stop):
        train_supernet(first, small_fashion, **settings, checkpoint=checkpoint,
                       checkpoint_every=2, on_step=stop_after_four)
    resumed = Supernet(tiny_space, num_classes=10, resolution=16, in_channels=1)
    resumed.load_state_dict(saved["weights"])
    train_supernet(resumed, small_fashion, **settings, start=4,
                   optimizer_state=saved["optimizer"],
                   on_step=lambda record: steps_run.append(record.step))
    assert steps_run == [5, 6]
    for name, tensor in whole.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[name], tensor, msg=name)


def test_bad_settings_are_refused(tiny_space, small_fashion):
    with pytest.raises(NasError, match="random_subnets must be >= 0"):
        Sandwich(random_subnets=-1)
    with pytest.raises(NasError, match="steps must be >= 1"):
        train_supernet(fresh(tiny_space), small_fashion, recipe=RECIPE, steps=0, seed=0,
                       sandwich=Sandwich())
