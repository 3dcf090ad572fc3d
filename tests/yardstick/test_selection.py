"""Which networks a ground truth trains."""

from nas.cli import load_space
from nas.yardstick import select_networks
from nas.yardstick.selection import CORNERS, _van_der_corput


def test_references_corners_then_stratified_random_all_distinct_and_in_space():
    space = load_space("mobilenet_v3_small")
    chosen = select_networks(space, 14, seed=0, pool=40)
    assert len(chosen) == 14 and len({str(c.spec) for c in chosen}) == 14
    assert chosen[0].name == "mobilenet_v3_small" and chosen[0].role == "reference"
    assert [c.name for c in chosen[1:1 + len(CORNERS)]] == list(CORNERS)
    assert all(space.contains(c.spec) for c in chosen)
    smallest = next(c for c in chosen if c.name == "smallest")
    largest = next(c for c in chosen if c.name == "largest")
    assert smallest.macs == min(c.macs for c in chosen)
    assert largest.macs == max(c.macs for c in chosen)
    assert all(block.se and block.act == "hswish" for block in largest.spec.blocks)
    again = select_networks(space, 14, seed=0, pool=40)
    assert [str(c.spec) for c in again] == [str(c.spec) for c in chosen]


def test_prefix_order_spreads_over_the_range():
    order = _van_der_corput(8)
    assert sorted(order) == list(range(8))
    assert order[:2] == [0, 4]
