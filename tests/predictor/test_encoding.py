"""The one-hot encoding: one slot set per decision taken, none for skipped blocks, distinct
architectures apart, an architecture outside the space refused."""

import random
from dataclasses import replace

import numpy as np
import pytest

from nas.cli import load_space
from nas.errors import NotInSpaceError
from nas.predictor import ArchEncoder


@pytest.mark.parametrize("name", ["mobilenet_v3_small", "nas_bench_macro"])
def test_each_decision_taken_sets_one_slot_of_its_group(name):
    space = load_space(name)
    encoder = ArchEncoder(space)
    rng = random.Random(0)
    specs = [space.sample_random(rng) for _ in range(200)]
    vectors = encoder.encode_many(specs)
    assert vectors.shape == (200, encoder.width) and set(np.unique(vectors)) <= {0.0, 1.0}
    for spec, vector in zip(specs, vectors):
        params = space.encode(spec)
        for decision in encoder.decisions:
            group = vector[encoder.offsets[decision.name]:][:len(decision.options)]
            if decision.name in params:
                assert group[decision.options.index(params[decision.name])] == 1
                assert group.sum() == 1
            else:  # a block slot beyond its stage's depth, or an identity's SE and activation
                assert group.sum() == 0
    distinct = {str(s) for s in specs}
    assert len({v.tobytes() for v in vectors}) == len(distinct)


def test_an_architecture_outside_the_space_is_refused_in_one_line():
    space = load_space("mobilenet_v3_small")
    spec = space.sample_random(random.Random(0))
    outside = replace(spec, blocks=(replace(spec.blocks[0], kernel=9),) + spec.blocks[1:])
    with pytest.raises(NotInSpaceError) as error:
        ArchEncoder(space).encode(outside)
    assert "kernel 9" in str(error.value) and "\n" not in str(error.value)
