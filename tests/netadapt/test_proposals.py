import pytest

from nas.arch import PRESETS, decode
from nas.cost import arch_cost
from nas.netadapt import chains, proposals, smallest, with_chain_width, with_expansion


def macs_latency(spec):
    """A stand-in latency: the blocks' MACs in millions, counted directly (fast, and monotone in
    every width like a real latency table)."""
    size, total = spec.resolution // spec.stem.stride, 27 * spec.stem.out
    total *= size * size
    for block, in_channels in zip(spec.blocks, spec.in_channels()):
        expand = in_channels * block.expand if block.has_expansion(in_channels) else 0
        total += expand * size * size
        size //= block.stride
        total += (block.expand * block.kernel**2 + block.expand * block.out) * size * size
    return total / 1e6


def test_the_stand_in_latency_tracks_fvcore_macs():
    spec = PRESETS["mobilenet_v3_small"]()
    assert 0.8 < macs_latency(spec) / (arch_cost(spec).macs / 1e6) < 1.0  # head and SE left out


def test_v3_large_chains_follow_its_residual_adds():
    found = [(c.name, c.width, len(c.blocks)) for c in chains(PRESETS["mobilenet_v3_large"]())]
    assert found == [
        ("stem+blocks 0", 16, 1),  # the stem's output is added to block 0's
        ("blocks 1-2", 24, 2),
        ("blocks 3-5", 40, 3),
        ("blocks 6-9", 80, 4),  # the 80-wide stage: one chain of 4 blocks
        ("blocks 10-11", 112, 2),
        ("blocks 12-14", 160, 3),
    ]


def test_v3_small_chains_start_at_every_width_or_stride_change():
    found = [(c.name, c.width) for c in chains(PRESETS["mobilenet_v3_small"]())]
    assert found == [("stem", 16), ("blocks 0", 16), ("blocks 1-2", 24), ("blocks 3-5", 40),
                     ("blocks 6-7", 48), ("blocks 8-10", 96)]


def test_every_block_output_lies_in_exactly_one_chain():
    spec = PRESETS["mobilenet_v2"]()
    members = [index for chain in chains(spec) for index in chain.blocks]
    assert members == list(range(len(spec.blocks)))


def test_shrinking_a_chain_changes_every_member_and_keeps_the_residuals():
    spec = PRESETS["mobilenet_v3_large"]()
    chain = chains(spec)[3]
    new = with_chain_width(spec, chain, 64)
    assert [new.blocks[i].out for i in chain.blocks] == [64] * 4
    assert new.blocks[10].expand == spec.blocks[10].expand  # the next stage keeps its expansion
    assert all(new.blocks[i].has_residual(new.in_channels()[i]) for i in chain.blocks[1:])


def test_a_block_without_expansion_follows_its_input_width():
    spec = PRESETS["mobilenet_v3_large"]()  # block 0: expand == input == 16, no expansion conv
    new = with_chain_width(spec, chains(spec)[0], 8)
    assert (new.stem.out, new.blocks[0].expand, new.blocks[0].out) == (8, 8, 8)


def test_moves_that_would_change_the_structure_are_refused():
    spec = PRESETS["mobilenet_v3_large"]()
    assert with_expansion(spec, 1, 16) is None  # = its input width: the expansion conv would go
    assert with_chain_width(spec, chains(spec)[4], 80) is None  # a new residual from 80 to 80


@pytest.mark.parametrize("name", ["mobilenet_v3_large", "mobilenet_v3_small", "mobilenet_v2"])
def test_every_proposal_cuts_latency_by_delta_at_the_largest_multiple_of_8(name):
    spec = PRESETS[name]()
    delta = 0.01 * macs_latency(spec)
    found = proposals(spec, macs_latency, delta)
    kinds = {p.kind for p in found}
    assert kinds == {"expansion", "bottleneck"}
    for proposal in found:
        assert macs_latency(spec) - proposal.latency_ms >= delta
        assert proposal.latency_ms == macs_latency(proposal.spec)
        assert proposal.new_width % 8 == 0 and proposal.new_width < proposal.old_width
        # the next multiple of 8 up would not have been enough (or changes the structure)
        larger = larger_spec(spec, proposal, proposal.new_width + 8)
        if larger is not None:
            assert macs_latency(spec) - macs_latency(larger) < delta


def larger_spec(spec, proposal, width):
    if width >= proposal.old_width:
        return None
    if proposal.kind == "expansion":
        return with_expansion(spec, int(proposal.layer.split(".")[1]), width)
    chain = next(c for c in chains(spec) if c.name == proposal.layer)
    return with_chain_width(spec, chain, width)


def test_a_larger_delta_asks_for_deeper_cuts():
    spec = PRESETS["mobilenet_v3_small"]()
    small = {p.layer: p.new_width for p in proposals(spec, macs_latency, 0.2)}
    large = {p.layer: p.new_width for p in proposals(spec, macs_latency, 1.0)}
    assert set(large) <= set(small)
    assert all(large[layer] <= small[layer] for layer in large)
    assert any(large[layer] < small[layer] for layer in large)


def test_no_proposal_when_no_width_can_cut_delta():
    tiny = decode("stem_k3_c8_re_s2-ir_k3_e1_c8_re-ir_k3_x16_c8_re_s2-head_c16_re-res224")
    assert proposals(tiny, macs_latency, 1000.0) == []
    with pytest.raises(ValueError):
        proposals(tiny, macs_latency, 0.0)


def test_the_floor_is_below_every_reachable_network():
    spec = PRESETS["mobilenet_v3_small"]()
    floor = smallest(spec, macs_latency)
    assert macs_latency(floor) < 0.2 * macs_latency(spec)
    assert proposals(floor, macs_latency, 0.01) == [] or all(
        p.new_width >= 8 for p in proposals(floor, macs_latency, 0.01))
    assert len(floor.blocks) == len(spec.blocks)
