from nas.arch import PRESETS, make_divisible


def test_make_divisible_matches_reference_rule():
    assert make_divisible(16 * 0.35) == 8
    assert make_divisible(32 * 0.35) == 16  # 8 would drop more than 10%
    assert make_divisible(88.08) == 88
    assert make_divisible(1280 * 0.75) == 960


def test_papers_layer_tables():
    v3_large = PRESETS["mobilenet_v3_large"]()
    assert len(v3_large.blocks) == 15
    assert [b.expand for b in v3_large.blocks][:4] == [16, 64, 72, 72]
    assert (v3_large.head.conv, v3_large.head.features) == (960, 1280)
    v3_small = PRESETS["mobilenet_v3_small"]()
    assert len(v3_small.blocks) == 11 and v3_small.head.features == 1024
    assert v3_small.blocks[0].se and v3_small.blocks[0].stride == 2
    v2 = PRESETS["mobilenet_v2"]()
    assert len(v2.blocks) == 17 and {b.act for b in v2.blocks} == {"relu6"}
    v1 = PRESETS["mobilenet_v1"]()
    assert len(v1.blocks) == 13 and {b.kind for b in v1.blocks} == {"ds"}


def test_minimal_variants_drop_se_hswish_and_large_kernels():
    for name in ("mobilenet_v3_large_minimal", "mobilenet_v3_small_minimal"):
        spec = PRESETS[name]()
        assert not any(b.se for b in spec.blocks)
        assert {b.kernel for b in spec.blocks} == {3}
        assert {b.act for b in spec.blocks} | {spec.stem.act, spec.head.act} == {"relu"}


def test_width_multiplier_keeps_v2_head_at_1280():
    assert PRESETS["mobilenet_v2"](width=0.35).head.conv == 1280
    assert PRESETS["mobilenet_v2"](width=1.4).head.conv == 1792
