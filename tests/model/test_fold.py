"""BN folded into the convs: the same eval-mode network to float rounding."""

import random

import pytest
import torch

from nas.cli import load_space
from nas.model import build_model
from nas.model.fold import fold_batch_norm


@pytest.mark.parametrize("channels_last", [False, True])
def test_a_folded_network_computes_what_the_network_computes(channels_last):
    space = load_space("mobilenet_v3_small")
    spec = space.sample_random(random.Random(0))
    torch.manual_seed(0)
    model = build_model(spec, 10, resolution=28, in_channels=1).eval()
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():  # BN statistics and affine terms of a trained network's scale
        for norm in (m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)):
            for tensor, low, high in ((norm.running_mean, -0.5, 0.5),
                                      (norm.running_var, 0.5, 2.0), (norm.weight, 0.5, 1.5),
                                      (norm.bias, -0.2, 0.2)):
                tensor.copy_(torch.rand(tensor.shape, generator=generator) * (high - low) + low)
        model.classifier.weight.normal_(0, 1, generator=generator)
    images = torch.randn(16, 1, 28, 28, generator=generator)
    if channels_last:
        model.to(memory_format=torch.channels_last)
        images = images.contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        expected = model(images)
        folded = fold_batch_norm(model)
        assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
        got = folded(images)
    assert expected.abs().max() > 1
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
    depthwise = folded.blocks[0].depthwise.conv.weight
    assert depthwise.is_contiguous(memory_format=torch.channels_last) == channels_last or \
        depthwise.is_contiguous()


def test_a_model_in_training_mode_is_refused():
    model = build_model(load_space("mobilenet_v3_small").sample_random(random.Random(0)), 10,
                        resolution=28, in_channels=1)
    with pytest.raises(ValueError, match="eval mode"):
        fold_batch_norm(model)
