"""The measured Pixel 1 parts and the part features the Pixel model is built on."""

import numpy as np
import pytest

from nas.hardware import OpKey
from nas.hardware.pixel_parts import (
    LICENSE,
    MEASURED_CSV,
    PART_FEATURES,
    kendall_tau,
    measured_parts,
    part_vector,
    proxyless_networks,
    shapes,
    valid_taps,
)


def feature(key: OpKey, name: str) -> float:
    return float(part_vector(key)[PART_FEATURES.index(name)])


def test_the_shipped_table_is_read_whole_with_its_license():
    parts = measured_parts()
    assert len(parts) == 71 and len(shapes()) == 14  # 72 rows, logits folded into the head
    head = next(p for p in parts if p.key.op == "head")
    assert head.ms == pytest.approx(6.28499578503688 + 0.9348261327713382)
    seven = [p for p in parts if p.shape == "block 56x24->24 s1" and p.kernel == 7]
    assert sorted(round(p.ms, 2) for p in seven) == [8.71, 15.04]
    assert "MIT License" in LICENSE.read_text() and "ProxylessNAS" in LICENSE.read_text()
    assert "LICENSE-proxylessnas" in MEASURED_CSV.read_text()


def test_random_networks_follow_the_proxylessnas_space():
    parts = measured_parts()
    networks = proxyless_networks(50, seed=3)
    assert networks == proxyless_networks(50, seed=3) != proxyless_networks(50, seed=4)
    for net in networks:
        keys = [parts[i].key for i in net]
        assert keys[0].op == "stem" and keys[-1].op == "head"
        assert 9 <= len(net) <= 24  # stem, MB1, the 6 stages' first blocks; 21 blocks at most
        for a, b in zip(keys[1:-1], keys[2:-1]):
            assert b.in_ch == a.out and b.resolution == a.out_resolution


def test_valid_taps_count_the_kernel_inside_the_map():
    assert valid_taps(56, 3, 1) == 3 * 56 - 2  # one tap off each border
    assert valid_taps(7, 7, 1) == sum(min(7, i + 4) - max(0, i - 3) for i in range(7)) == 37
    assert valid_taps(7, 7, 1) < 7 * 7  # a 7x7 kernel on a 7x7 map mostly reads padding


def test_features_see_kernel_se_and_hswish():
    base = OpKey(op="ir", resolution=28, in_ch=40, out=40, expand=240, kernel=3, se=False,
                 act="relu")
    k7 = OpKey(**(base.to_row() | {"kernel": 7}))
    k9 = OpKey(**(base.to_row() | {"kernel": 9}))
    se = OpKey(**(base.to_row() | {"se": True}))
    hs = OpKey(**(base.to_row() | {"act": "hswish"}))
    assert feature(base, "depthwise_k7") == 0 < feature(k7, "depthwise_k7") < feature(k9,
                                                                                    "depthwise_k7")
    assert feature(se, "se") > 0 == feature(base, "se") and feature(se, "se_blocks") == 1
    assert feature(hs, "hswish") == pytest.approx((240 * 28 * 28 * 2) / 1e6)
    assert feature(base, "part") == 1


def test_kendall_tau_matches_a_direct_count():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=40), rng.normal(size=40)
    pairs = [(i, j) for i in range(40) for j in range(i + 1, 40)]
    direct = sum(np.sign(a[i] - a[j]) * np.sign(b[i] - b[j]) for i, j in pairs) / len(pairs)
    assert kendall_tau(a, b) == pytest.approx(direct)
    assert kendall_tau(a, a) == pytest.approx(1.0)
