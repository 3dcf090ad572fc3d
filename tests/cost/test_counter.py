import logging
import random
import warnings

import pytest
import torch
from fvcore.nn import FlopCountAnalysis

from nas.arch import PRESETS
from nas.cost import arch_cost, layer_costs
from nas.model import build_model

# Published multiply-adds (millions) at 224x224, 1000 classes.
PUBLISHED_MACS = {
    "mobilenet_v1": 569,
    "mobilenet_v2": 300,
    "mobilenet_v3_large": 219,
    "mobilenet_v3_small": 56,
}


@pytest.mark.parametrize("name, published", sorted(PUBLISHED_MACS.items()))
def test_macs_within_3_percent_of_published(name, published):
    macs = arch_cost(PRESETS[name]()).macs / 1e6
    assert abs(macs - published) / published < 0.03


@pytest.mark.parametrize("name", ["mobilenet_v3_large", "mobilenet_v2", "mobilenet_v1"])
def test_part_sums_equal_a_whole_network_trace(name):
    spec = PRESETS[name]()
    model = build_model(spec).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis = FlopCountAnalysis(model, torch.zeros(1, 3, 224, 224))
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        by_op = analysis.by_operator()
    cost = arch_cost(spec)
    assert cost.macs == by_op["conv"] + by_op["linear"]
    assert cost.params == sum(p.numel() for p in model.parameters())


def test_elementwise_work_is_counted_apart():
    spec = PRESETS["mobilenet_v3_large"]()
    minimal = PRESETS["mobilenet_v3_large_minimal"]()
    assert arch_cost(spec).elementwise > 0
    # SE and 5x5 kernels add MACs; the minimal variant has neither.
    assert arch_cost(spec).macs > arch_cost(minimal).macs


def test_cost_at_proxy_resolution_is_separate_from_deployment():
    spec = PRESETS["mobilenet_v3_small"]()
    deploy = arch_cost(spec)
    proxy = arch_cost(spec, num_classes=10, resolution=28)
    assert proxy.macs < deploy.macs / 2
    assert arch_cost(spec) == deploy  # the proxy call did not leak into the default


def test_layer_rows_cover_every_part():
    rows = layer_costs(PRESETS["mobilenet_v3_large"]())
    names = [row.name for row in rows]
    assert names[0] == "stem" and names[-1] == "classifier"
    assert names.count("head") == 1 and "features" in names
    assert rows[1].input_shape == (16, 112, 112)


def test_no_fvcore_noise_reaches_the_user(caplog, recwarn):
    from nas.arch import SearchSpace, StageChoices

    space = SearchSpace(stages=(StageChoices(stride=2, depth=(1, 2), width=(24, 40)),))
    rng = random.Random(1)
    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            arch_cost(space.sample_random(rng))
    assert not [r for r in caplog.records if r.name.startswith("fvcore")]
    assert not [w for w in recwarn.list if "fvcore" in str(w.filename)]
