import pytest

from nas.arch import PRESETS, ArchSpec, BlockSpec, decode, encode, resolve_arch
from nas.errors import ArchParseError


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_string_round_trips(name):
    spec = PRESETS[name]()
    assert decode(encode(spec)) == spec
    assert resolve_arch(encode(spec)) == spec


@pytest.mark.parametrize("name", sorted(PRESETS))
@pytest.mark.parametrize("width", [0.35, 0.75, 1.4])
def test_width_multiplied_presets_round_trip_through_json(name, width):
    spec = PRESETS[name](width=width, resolution=192)
    assert ArchSpec.from_dict(spec.to_dict()) == spec
    assert decode(encode(spec)) == spec


def test_ratio_and_channel_forms_decode_to_the_same_block():
    by_ratio = decode("stem_k3_c16_hs_s2-ir_k3_e4_c24_re_s2-head_c96_f128_hs-res224")
    by_width = decode("stem_k3_c16_hs_s2-ir_k3_x64_c24_re_s2-head_c96_f128_hs-res224")
    assert by_ratio == by_width
    assert by_ratio.blocks[0].expand == 64


def test_expansion_equal_to_input_means_no_expansion_conv():
    spec = decode("stem_k3_c16_hs_s2-ir_k3_e1_c16_se_re-head_re-res32")
    block = spec.blocks[0]
    assert not block.has_expansion(16)
    assert block.has_residual(16)
    assert spec.resolution == 32


@pytest.mark.parametrize(
    "text, bad",
    [
        ("stem_k3_c16_hs_s2-ir_k4_e3_c24_re-res224", "ir_k4_e3_c24_re"),
        ("stem_k3_c16_hs_s2-ir_k3_e3_c24_zz-res224", "zz"),
        ("stem_k3_c16_hs_s2-ir_k3_c24_re-res224", "ir_k3_c24_re"),
        ("stem_k3_c16_hs_s2-ir_k3_e3_x48_c24_re-res224", "ir_k3_e3_x48_c24_re"),
        ("stem_k3_c16_hs_s2-ir_k3_e3_c24-res224", "ir_k3_e3_c24"),
        ("stem_k3_c16_hs_s2-ir_k3_e3_c24_re_s3-res224", "ir_k3_e3_c24_re_s3"),
        ("stem_k3_c16_hs_s2-ir_k3_e3_c24_re_re-res224", "re"),
        ("stem_k3_c16_hs_s2-conv_k3_c24_re-res224", "conv_k3_c24_re"),
        ("stem_k3_c16_hs_s2-ds_k3_e3_c24_re-res224", "e3"),
        ("ir_k3_e3_c24_re", "ir_k3_e3_c24_re"),
        ("stem_k3_c16_hs_s2", "stem_k3_c16_hs_s2"),
        ("stem_k3_c16_hs_s2-ir_k3_e3_c24_re-head_re-ir_k3_e3_c24_re", "comes after the head"),
        ("stem_k3_c16_hs_s2-ir_k3_e3_c24_re-res224-res160", "res160"),
        ("stem_k3_c16_hs_s2-ir_k3_e3_c24_re-head_re-head_hs", "head_hs"),
    ],
)
def test_malformed_strings_name_the_bad_part(text, bad):
    with pytest.raises(ArchParseError, match=bad):
        decode(text)


def test_unknown_preset_is_named():
    with pytest.raises(ArchParseError, match="mobilenet_v9"):
        resolve_arch("mobilenet_v9")


def test_width_applies_to_presets_only():
    text = encode(PRESETS["mobilenet_v2"]())
    with pytest.raises(ArchParseError, match="presets only"):
        resolve_arch(text, width=0.5)
    assert resolve_arch(text, resolution=160).resolution == 160


def test_json_file_forms(tmp_path):
    import json

    spec = PRESETS["mobilenet_v3_small"]()
    as_dict = tmp_path / "dict.json"
    as_dict.write_text(json.dumps(spec.to_dict()))
    as_string = tmp_path / "string.json"
    as_string.write_text(json.dumps({"arch": encode(spec)}))
    assert resolve_arch(str(as_dict)) == spec
    assert resolve_arch(str(as_string)) == spec
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ArchParseError, match="not valid JSON"):
        resolve_arch(str(tmp_path / "bad.json"))
    with pytest.raises(ArchParseError, match="malformed"):
        ArchSpec.from_dict({"stem": {"out": 16}})


def test_identity_blocks_and_a_fixed_class_count_round_trip():
    text = ("stem_k3_c32_re-id_c64_s2-ir_k3_e3_c64_re-id_c128_s2-ir_k5_e6_c256_re_s2"
            "-head_c1280_re-res32-cls10")
    spec = decode(text)
    assert spec.blocks[0] == BlockSpec("id", kernel=1, expand=32, out=64, stride=2)
    assert spec.classes == 10 and spec.num_classes() == 10
    assert encode(spec) == text
    assert ArchSpec.from_dict(spec.to_dict()) == spec


def test_a_spec_without_classes_keeps_its_old_string_and_json():
    spec = decode("stem_k3_c16_hs_s2-ir_k3_e1_c16_re-head_c960_f1280_hs-res224")
    assert spec.classes is None and spec.num_classes() == 1000
    assert "cls" not in encode(spec) and "classes" not in spec.to_dict()


@pytest.mark.parametrize("text, words", [
    ("stem_k3_c32_re-id_c64_k3_s2-head_c1280_re-res32", "bad token 'k3'"),
    ("stem_k3_c32_re-id_c64_s2-head_c1280_re-res32-cls0", "classes must be >= 1"),
    ("stem_k3_c32_re-id_c64_s2-head_c1280_re-cls10-res32", "unexpected segment 'cls10'"),
])
def test_bad_identity_or_class_segments_are_named(text, words):
    with pytest.raises(ArchParseError, match=words):
        decode(text)


def test_an_identity_has_canonical_fields():
    with pytest.raises(ArchParseError, match="an id block has kernel 1"):
        BlockSpec("id", kernel=3, expand=32, out=64, stride=2)
