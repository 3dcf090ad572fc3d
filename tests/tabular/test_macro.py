"""NAS-Bench-Macro's keys as the project's architectures, checked against the benchmark's own
records: every distinct network's params and MACs, and the equivalence of keys."""

import collections

import pytest

from nas.arch import decode
from nas.cost import arch_cost
from nas.errors import NasError
from nas.tabular import all_specs, canonical_key, key_to_spec, networks, records
from nas.tabular.macro import canonical, macro_space


def test_the_table_holds_6561_keys_and_3969_networks():
    assert len(records()) == 3 ** 8
    assert len(networks()) == macro_space().size() == 3969


def test_every_distinct_network_costs_what_the_benchmark_recorded():
    # All 3,969 networks (~5 s: parts are traced once each, then cached). The benchmark's
    # `params` count every parameter (BN included) and `flops` conv and linear multiply-adds,
    # as ours do: the difference is exactly 0 for every network.
    table = networks()
    for spec in all_specs(macro_space()):
        record, cost = table[str(spec)], arch_cost(spec)
        assert (cost.params, cost.macs) == (record.params, record.flops), spec


def test_keys_that_differ_only_in_stride_1_identities_are_one_network_and_one_record():
    groups = collections.defaultdict(set)
    for key, record in records().items():
        spec = key_to_spec(key)
        assert canonical_key(spec) == canonical(key)
        assert decode(str(spec)) == spec
        groups[str(spec)].add((record.seeds, record.params, record.flops))
    assert len(groups) == 3969
    assert all(len(distinct) == 1 for distinct in groups.values())
    assert str(key_to_spec("10102000")) == str(key_to_spec("10120000"))
    assert str(key_to_spec("10102000")) != str(key_to_spec("10012000"))  # first layer differs


def test_a_known_key_builds_the_benchmark_network():
    spec = key_to_spec("02012100")
    assert str(spec) == ("stem_k3_c32_re-id_c64_s2-ir_k5_e6_c64_re-id_c128_s2-ir_k3_e3_c128_re"
                         "-ir_k5_e6_c128_re-ir_k3_e3_c256_re_s2-head_c1280_re-res32-cls10")
    assert records()["02012100"].params == 890666


@pytest.mark.parametrize("key", ["0201210", "02012103", "abcdefgh"])
def test_bad_keys_are_refused(key):
    with pytest.raises(NasError, match="8 digits"):
        key_to_spec(key)
