"""Scoring pools: the mean nn.AdaptiveAvgPool2d(1) computes, swapped in only for scoring."""

import random

import pytest
import torch
from torch import nn

from nas.cli import load_space
from nas.model import build_model
from nas.model.pooling import ScoringAvgPool, use_scoring_pools


@pytest.mark.parametrize("shape", [(4, 72, 14, 14), (4, 240, 7, 7), (4, 1024, 4, 4)])
def test_the_kernel_pool_averages_as_the_adaptive_pool_does(shape):
    x = torch.randn(*shape).contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        torch.testing.assert_close(ScoringAvgPool()(x), nn.AdaptiveAvgPool2d(1)(x))
        bf16 = x.to(torch.bfloat16)
        assert torch.equal(ScoringAvgPool()(bf16), nn.AdaptiveAvgPool2d(1)(bf16))


def test_a_one_pixel_map_is_its_own_mean():
    x = torch.randn(3, 8, 1, 1)
    assert ScoringAvgPool()(x) is x


def test_a_tensor_that_needs_a_gradient_takes_the_adaptive_pool():
    x = torch.randn(2, 8, 5, 5, requires_grad=True)
    out = ScoringAvgPool()(x)
    assert "AvgPool2D" not in type(out.grad_fn).__name__  # not avg_pool2d's slow backward
    out.sum().backward()
    torch.testing.assert_close(x.grad, torch.full_like(x, 1 / 25))


def test_only_global_pools_are_swapped_and_the_state_is_unchanged():
    spec = load_space("mobilenet_v3_small").sample_random(random.Random(0))
    model = build_model(spec, 10, resolution=28, in_channels=1).eval()
    model.extra = nn.AdaptiveAvgPool2d(2)  # not a global pool: left alone
    images = torch.randn(8, 1, 28, 28)
    with torch.no_grad():
        expected = model(images)
        keys = list(model.state_dict())
        use_scoring_pools(model)
        got = model(images)
    pools = [m for m in model.modules() if isinstance(m, ScoringAvgPool)]
    assert pools and model.pool in pools
    assert not any(isinstance(m, nn.AdaptiveAvgPool2d) and m.output_size == 1
                   for m in model.modules())
    assert isinstance(model.extra, nn.AdaptiveAvgPool2d)
    assert list(model.state_dict()) == keys
    torch.testing.assert_close(got, expected)
