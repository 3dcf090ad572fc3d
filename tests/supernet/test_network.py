"""The supernet's forward for a candidate is the extracted ``build_model`` network's."""

import random
from dataclasses import replace

import pytest
import torch

from nas.cli import load_space
from nas.errors import NotInSpaceError
from nas.evaluate.training import prepare
from nas.model import MobileNet, build_model
from nas.supernet import Supernet, UnsupportedSpaceError


def trained_looking(net: Supernet, seed: int) -> Supernet:
    """Random BN statistics and affine terms, and a classifier of unit scale: so a wrong
    slice of any tensor shows in the logits (fresh BN is the identity, fresh logits ~0.01)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                for tensor, low, high in ((module.running_mean, -0.5, 0.5),
                                          (module.running_var, 0.5, 2.0),
                                          (module.weight, 0.5, 1.5), (module.bias, -0.2, 0.2)):
                    tensor.copy_(torch.rand(tensor.shape, generator=generator) * (high - low)
                                 + low)
        net.classifier.weight.normal_(0, 1, generator=generator)
    return net


@pytest.mark.parametrize("name", ["mobilenet_v3_small", "mobilenet_v3_large"])
def test_extracted_subnet_computes_what_the_supernet_computes(name, fashion):
    space = load_space(name)
    torch.manual_seed(0)
    net = trained_looking(Supernet(space, num_classes=10, resolution=28, in_channels=1), 1)
    net.eval()
    images = prepare(fashion.val, fashion.val.images[:32], 28, channels_last=False)
    rng = random.Random(0)
    specs = [net.smallest(), net.largest()] + [space.sample_random(rng) for _ in range(6)]
    assert len({str(s) for s in specs}) == len(specs)
    for spec in specs:
        subnet = net.subnet(spec)
        assert isinstance(subnet, MobileNet) and not subnet.training
        built = build_model(spec, 10, resolution=28, in_channels=1)
        assert [n for n, _ in subnet.named_parameters()] == \
            [n for n, _ in built.named_parameters()]
        with torch.no_grad():
            expected, got = net(images), subnet(images)
        assert expected.abs().max() > 1  # logits that a wrong slice would change
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5, msg=str(spec))


def test_train_mode_forward_agrees_too(tiny_space, fashion):
    """Batch statistics of the active channels only (the sandwich rule trains in this mode)."""
    torch.manual_seed(0)
    net = trained_looking(Supernet(tiny_space, num_classes=10, resolution=28, in_channels=1), 2)
    images = prepare(fashion.train, fashion.train.images[:16], 28, channels_last=False)
    rng = random.Random(1)
    for spec in [net.smallest()] + [tiny_space.sample_random(rng) for _ in range(4)]:
        subnet = net.subnet(spec)
        assert subnet.training
        with torch.no_grad():
            torch.testing.assert_close(subnet(images), net(images), rtol=1e-4, atol=1e-5)


def test_subnets_share_the_supernets_weights(tiny_space):
    """A narrower, shorter-kernel subnet holds the leading channels and the kernel centre."""
    net = Supernet(tiny_space, num_classes=10, resolution=28, in_channels=1)
    spec = net.smallest()
    subnet = net.subnet(spec)
    depthwise = subnet.blocks[0].depthwise.conv.weight
    source = net.blocks[0].depthwise.conv.weight
    assert depthwise.shape[-1] == 3 and source.shape[-1] == 5
    torch.testing.assert_close(depthwise, source[:depthwise.shape[0], :, 1:4, 1:4])
    assert subnet.stem.conv.weight.shape[0] == 8


def test_strides_adapt_for_small_inputs_as_build_model_does(tiny_space):
    net = trained_looking(Supernet(tiny_space, num_classes=10, resolution=16, in_channels=1), 3)
    net.eval()
    spec = net.largest()
    images = torch.randn(2, 1, 16, 16)
    subnet = net.subnet(spec)
    with torch.no_grad():
        torch.testing.assert_close(subnet(images), net(images), rtol=1e-4, atol=1e-5)
        assert subnet.forward_features(images).shape[-1] == 4  # 16 -> 8 -> 4: stem kept at 1


def test_a_spec_outside_the_space_is_refused_in_one_line(tiny_space):
    net = Supernet(tiny_space, num_classes=10, resolution=28, in_channels=1)
    largest = net.largest()
    blocks = (replace(largest.blocks[0], kernel=7),) + largest.blocks[1:]
    with pytest.raises(NotInSpaceError) as error:
        net.subnet(replace(largest, blocks=blocks))
    message = str(error.value)
    assert "not in space 'tiny'" in message and "kernel 7" in message and "\n" not in message


def test_a_space_of_whole_block_ops_is_refused():
    with pytest.raises(UnsupportedSpaceError, match="not supported yet"):
        Supernet(load_space("nas_bench_macro"), num_classes=10, resolution=32)
