import pytest
import torch

from nas.arch import PRESETS
from nas.model import build_model
from nas.model.blocks import se_width
from nas.netadapt import chains, truncate_weights, with_chain_width, with_expansion


def shrunk_v3_small():
    spec = PRESETS["mobilenet_v3_small"]()
    spec2 = with_expansion(spec, 4, 200)  # an SE block: its squeeze width shrinks too
    return spec, with_chain_width(spec2, chains(spec2)[3], 32)  # blocks 3-5: 40 -> 32


def test_truncation_keeps_the_leading_filters_exactly():
    spec, small = shrunk_v3_small()
    torch.manual_seed(0)
    big = build_model(spec, num_classes=10, resolution=32)
    for module in big.modules():  # non-trivial BN statistics, so they are checked too
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.normal_()
            module.running_var.uniform_(0.5, 2)
    child = truncate_weights(big, build_model(small, num_classes=10, resolution=32))
    old, new = big.state_dict(), child.state_dict()
    assert new["blocks.4.expand.conv.weight"].shape[:2] == (200, 32)
    squeeze = se_width(200)  # 48: the SE width follows the expansion
    expected_slices = {
        "blocks.4.expand.conv.weight": (200, 32),
        "blocks.4.depthwise.conv.weight": (200,),
        "blocks.4.se.reduce.weight": (squeeze, 200),
        "blocks.4.se.expand.bias": (200,),
        "blocks.5.project.bn.running_mean": (32,),
    }
    for name, sizes in expected_slices.items():
        assert torch.equal(new[name], old[name][tuple(slice(0, n) for n in sizes)]), name
    next_expand = "blocks.6.expand.conv.weight"  # the chain's next consumer loses inputs
    assert torch.equal(new[next_expand], old[next_expand][:, :32])
    assert torch.equal(new["classifier.weight"], old["classifier.weight"])
    for name, tensor in new.items():  # and every other tensor is a leading slice too
        assert torch.equal(tensor, old[name][tuple(slice(0, n) for n in tensor.shape)]), name


def test_the_truncated_model_runs():
    spec, small = shrunk_v3_small()
    child = truncate_weights(build_model(spec, num_classes=10, resolution=32),
                             build_model(small, num_classes=10, resolution=32))
    child.eval()
    with torch.no_grad():
        out = child(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 10) and torch.isfinite(out).all()


def test_truncation_refuses_a_larger_or_different_network():
    spec, small = shrunk_v3_small()
    big = build_model(spec, num_classes=10, resolution=32)
    with pytest.raises(ValueError, match="cannot truncate"):
        truncate_weights(build_model(small, num_classes=10, resolution=32), big)
    with pytest.raises(ValueError, match="lacks"):
        truncate_weights(big, build_model(PRESETS["mobilenet_v2"](), num_classes=10))
