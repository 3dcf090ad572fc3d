import dataclasses
import random

import pytest

from nas.arch import PRESETS
from nas.cli import load_space
from nas.errors import NasError
from nas.hardware import OpKey, arch_keys, space_keys


def key(**changes):
    base = dict(op="ir", resolution=56, in_ch=24, out=40, expand=72, kernel=5, stride=2, se=True,
                act="relu")
    return OpKey(**(base | changes))


def test_equal_keys_are_one_dict_entry_and_any_field_tells_them_apart():
    assert key() == key() and hash(key()) == hash(key())
    assert len({key(), key()}) == 1
    for field, other in [("resolution", 28), ("in_ch", 16), ("out", 48), ("expand", 96),
                         ("kernel", 3), ("stride", 1), ("se", False), ("act", "hswish")]:
        assert key(**{field: other}) != key()
    with pytest.raises(dataclasses.FrozenInstanceError):
        key().kernel = 3


def test_keyword_only_and_bad_values_rejected():
    with pytest.raises(TypeError):
        OpKey("ir", 56, 24, 40)
    for bad in [{"op": "conv"}, {"kernel": 4}, {"stride": 3}, {"act": "gelu"}, {"expand": 0}]:
        with pytest.raises(NasError):
            key(**bad)


def test_row_round_trip_including_strings_from_csv():
    row = {name: str(value) for name, value in key().to_row().items()}
    assert OpKey.from_row(row) == key()
    assert key(stride=1, in_ch=40).residual and not key().residual


def test_arch_keys_follow_the_network():
    keys = arch_keys(PRESETS["mobilenet_v3_large"]())
    assert [k.op for k in keys] == ["stem"] + ["ir"] * 15 + ["head"]
    assert keys[0].resolution == 224 and keys[1].resolution == 112
    assert keys[-1].resolution == 7 and keys[-1].in_ch == 160 and keys[-1].classes == 1000


@pytest.mark.parametrize("name", ["mobilenet_v3_large", "mobilenet_v3_small"])
def test_space_keys_cover_every_sampled_network(name):
    space = load_space(name)
    table = set(space_keys(space))
    rng = random.Random(0)
    for _ in range(100):
        assert set(arch_keys(space.sample_random(rng))) <= table
    assert set(arch_keys(PRESETS[name]())) <= table


def test_space_keys_of_an_ops_space_hold_every_networks_parts():
    space = load_space("nas_bench_macro")
    parts = set(space_keys(space))
    rng = random.Random(0)
    for _ in range(200):
        spec = space.sample_random(rng)
        keys = arch_keys(spec, 1000)
        assert set(keys) <= parts
        assert keys[-1].classes == 10  # the network's own classifier, not the profile's 1000
    assert {k.op for k in parts} == {"stem", "ir", "id", "head"}
