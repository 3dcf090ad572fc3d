import pytest
import torch

from nas.arch import PRESETS, decode
from nas.model import adapted_strides, build_model

# Exact parameter counts of the reference implementations (torchvision; Keras for V1).
REFERENCE_PARAMS = {
    "mobilenet_v1": 4_231_976,
    "mobilenet_v2": 3_504_872,
    "mobilenet_v3_large": 5_483_032,
    "mobilenet_v3_small": 2_542_856,
}


def n_params(model):
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name, expected", sorted(REFERENCE_PARAMS.items()))
def test_parameter_counts_match_reference_implementations(name, expected):
    assert n_params(build_model(PRESETS[name](), num_classes=1000)) == expected


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_runs_forward(name):
    model = build_model(PRESETS[name](width=0.5), num_classes=10, resolution=64).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, 64, 64)).shape == (2, 10)


def test_stride_adaptation_for_small_inputs_keeps_block_choices():
    spec = PRESETS["mobilenet_v3_small"]()
    assert adapted_strides(spec, 224) == [spec.stem.stride] + [b.stride for b in spec.blocks]
    strides = adapted_strides(spec, 28)
    assert strides[:3] == [1, 1, 2]  # stem and first stride-2 block become stride 1
    model = build_model(spec, num_classes=10, resolution=28)
    full = build_model(spec, num_classes=10)
    assert n_params(model) == n_params(full)  # the same layers, only strides differ
    features = model.forward_features(torch.randn(1, 3, 28, 28))
    assert features.shape[-1] == 4


def test_residual_follows_the_spec_not_the_adapted_stride():
    spec = decode("stem_k3_c16_hs-ir_k3_e3_c16_re_s2-ir_k3_e3_c16_re-head_re-res224")
    model = build_model(spec, num_classes=10, resolution=6)
    assert not model.blocks[0].residual and model.blocks[1].residual
    assert model.blocks[0].depthwise.conv.stride == (1, 1)


def test_submodule_names_are_fixed():
    model = build_model(PRESETS["mobilenet_v3_large"]())
    names = dict(model.named_modules())
    for name in ("stem.conv", "blocks.1.expand.conv", "blocks.3.se.reduce",
                 "blocks.3.depthwise.bn", "blocks.3.project.conv", "head.conv", "features.0",
                 "classifier"):
        assert name in names


def test_identity_blocks_are_nothing_or_a_1x1_conv_and_bn():
    spec = decode("stem_k3_c32_re-id_c64_s2-id_c64-head_c1280_re-res32-cls10")
    model = build_model(spec)
    assert isinstance(model.blocks[1].downsample, torch.nn.Identity)
    conv = model.blocks[0].downsample.conv
    assert (conv.kernel_size, conv.stride, conv.in_channels, conv.out_channels) == \
        ((1, 1), (2, 2), 32, 64)
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert build_model(spec, num_classes=100).classifier.out_features == 100
