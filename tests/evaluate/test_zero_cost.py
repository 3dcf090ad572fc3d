"""Zero-cost scores on real Fashion-MNIST images and real networks."""

import math

import pytest

from nas.arch import decode
from nas.errors import NasError
from nas.evaluate.zero_cost import ALL_SCORES, SCORES, ZeroCostEvaluator
from nas.search.evaluators import make_search_evaluator

NARROW = "stem_k3_c8_re_s2-ir_k3_e2_c8_re_s2-ir_k3_e2_c8_re-head_c32_hs-res224"
WIDE = "stem_k3_c16_re_s2-ir_k3_e4_c32_re_s2-ir_k3_e4_c32_re-head_c64_hs-res224"


@pytest.mark.parametrize("score", list(SCORES))
def test_each_score_is_finite_repeatable_and_tells_networks_apart(small_fashion, score):
    evaluator = ZeroCostEvaluator(score=score, seed=0, data=small_fashion, batch_size=16)
    narrow = evaluator.evaluate(decode(NARROW)).val_accuracy
    again = evaluator.evaluate(decode(NARROW)).val_accuracy
    wide = evaluator.evaluate(decode(WIDE)).val_accuracy
    assert math.isfinite(narrow) and math.isfinite(wide)
    assert narrow == pytest.approx(again, rel=1e-9)
    assert narrow != pytest.approx(wide, rel=1e-6)


def test_synflow_grows_with_width(small_fashion):
    evaluator = ZeroCostEvaluator(score="synflow", seed=0, data=small_fashion, batch_size=8)
    assert evaluator.evaluate(decode(WIDE)).val_accuracy > \
        evaluator.evaluate(decode(NARROW)).val_accuracy


def test_another_seed_draws_another_batch(small_fashion):
    first = ZeroCostEvaluator(score="naswot", seed=0, data=small_fashion, batch_size=16)
    second = ZeroCostEvaluator(score="naswot", seed=1, data=small_fashion, batch_size=16)
    assert not (first.x == second.x).all()


def test_cost_scores_need_no_data_and_unknown_scores_are_refused():
    evaluator = make_search_evaluator(None, {"kind": "zero_cost", "score": "params"}, seed=0)
    assert evaluator.evaluate(decode(WIDE)).val_accuracy > \
        evaluator.evaluate(decode(NARROW)).val_accuracy
    with pytest.raises(NasError, match="unknown zero-cost score 'flops'"):
        ZeroCostEvaluator(score="flops", seed=0)
    with pytest.raises(NasError, match="needs a dataset"):
        ZeroCostEvaluator(score="synflow", seed=0)
    assert set(ALL_SCORES) == {*SCORES, "params", "macs"}


def test_grayscale_stand_in_images_feed_a_colour_network(small_fashion):
    evaluator = ZeroCostEvaluator(score="synflow", seed=0, data=small_fashion, batch_size=8,
                                  resolution=32, channels=3)
    assert tuple(evaluator.x.shape) == (8, 3, 32, 32)
    assert (evaluator.x[:, 0] == evaluator.x[:, 2]).all()
    assert math.isfinite(evaluator.evaluate(decode(NARROW)).val_accuracy)
