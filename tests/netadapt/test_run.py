"""A real, tiny NetAdapt run: Fashion-MNIST images, a few fine-tuning steps, two steps."""

from pathlib import Path

import pandas as pd
import pytest
import torch

from nas.arch import decode
from nas.evaluate import Recipe
from nas.netadapt import NetAdaptError, NetAdaptSettings, load_log, netadapt
from nas.netadapt.adapt import COLUMNS, LOG_NAME, STATE_NAME
from nas.netadapt.tuning import ProxyTuner

TINY = decode("stem_k3_c16_hs_s2-ir_k3_e1_c16_re-ir_k3_x64_c24_re_s2-ir_k3_x72_c24_re"
              "-ir_k5_x96_c40_se_hs_s2-head_c96_f128_hs-res224")


def blocks_macs(spec):
    """Stand-in latency (the blocks' MACs in millions): cheap, and monotone in every width."""
    size, total = spec.resolution // spec.stem.stride, 27 * spec.stem.out
    total *= size * size
    for block, in_channels in zip(spec.blocks, spec.in_channels()):
        total += (in_channels * block.expand if block.has_expansion(in_channels) else 0) * size**2
        size //= block.stride
        total += (block.expand * block.kernel**2 + block.expand * block.out) * size * size
    return total / 1e6


SEED_MS = blocks_macs(TINY)
TARGET_MS = 0.7 * SEED_MS  # the largest single cut (stem 16->8) is 23%: two steps at least


@pytest.fixture(scope="module")
def tuner():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # 2 threads on a shared 2-core machine ran 10x slower here
    yield ProxyTuner(data_config={"name": "fashion_mnist"},
                     recipe=Recipe(lr=0.4, batch_size=64, warmup_fraction=0.0),
                     train_images=600, val_images=300, seed=0)
    torch.set_num_threads(threads)


def settings(**overrides):
    values = dict(target_ms=TARGET_MS, delta_fraction=0.08, steps_per_proposal=3,
                  seed_steps=60, seed=0) | overrides
    return NetAdaptSettings(**values)


def run(run_dir, tuner, messages=None, **overrides):
    log = messages.append if messages is not None else (lambda _: None)
    return netadapt(TINY, latency=blocks_macs, tuner=tuner, settings=settings(**overrides),
                    run_dir=run_dir, hardware="macs", log=log)


def test_a_tiny_run_logs_every_decision_and_reaches_the_target(tmp_path, tuner):
    result = run(tmp_path, tuner)
    assert result.reached and result.latency_ms <= TARGET_MS
    assert result.steps >= 2
    steps = load_log(tmp_path)
    assert list(steps.columns) == COLUMNS
    assert steps.groupby("step")["kept"].sum().tolist() == [1] * (result.steps + 1)
    delta = 0.08 * SEED_MS
    moves = steps[steps["step"] > 0]
    assert (moves["latency_before_ms"] - moves["latency_ms"] >= delta - 1e-3).all()
    assert set(moves["kind"]) == {"expansion", "bottleneck"}
    assert (moves["new_width"] % 8 == 0).all() and (moves["new_width"] < moves["old_width"]).all()
    seed_row = steps.iloc[0]
    assert seed_row["kind"] == "seed" and seed_row["accuracy_finetuned"] > 0.3  # it learned
    kept = steps[steps["kept"]]
    assert decode(kept.iloc[-1]["arch"]) == result.spec
    # the kept proposal is the best accuracy change per latency change of its step
    for _, rows in moves.groupby("step"):
        assert rows.loc[rows["kept"], "score"].iloc[0] == rows["score"].max()


def test_a_rerun_continues_after_the_last_finished_step(tmp_path, tuner):
    first = run(tmp_path, tuner, max_steps=1)
    assert not first.reached and first.steps == 1
    before = load_log(tmp_path)
    # a step that was cut off: its rows reached the log but not the state file
    partial = before[before["step"] == 1].assign(step=2)
    partial.to_csv(tmp_path / LOG_NAME, mode="a", header=False, index=False)
    messages = []
    second = run(tmp_path, tuner, messages)
    assert any(m.startswith("resuming after step 1") for m in messages)
    assert not any(m.startswith("seed:") for m in messages)  # the seed was not trained again
    assert second.reached and second.steps >= 2
    after = load_log(tmp_path)
    pd.testing.assert_frame_equal(after[after["step"] <= 1].reset_index(drop=True), before)
    assert after["step"].tolist() == sorted(after["step"])  # the cut-off step's rows are gone
    assert after.groupby("step")["kept"].sum().tolist() == [1] * (second.steps + 1)


def test_max_steps_counts_the_steps_of_an_earlier_run(tmp_path, tuner):
    run(tmp_path, tuner, max_steps=1)
    before = load_log(tmp_path)
    messages = []
    again = run(tmp_path, tuner, messages, max_steps=1)  # the same command, run again
    assert again.steps == 1 and not again.reached
    assert any("stopped after max_steps=1" in m for m in messages)
    pd.testing.assert_frame_equal(load_log(tmp_path), before)  # no second step was taken


def test_when_no_move_cuts_delta_it_stops_with_the_network_reached(tmp_path, tuner):
    messages = []
    result = run(tmp_path, tuner, messages, delta_fraction=0.95)  # no move cuts 95%
    assert not result.reached and result.steps == 0 and result.spec == TINY
    assert "no proposal cuts" in messages[-1] and "delta_fraction" in messages[-1]
    assert (tmp_path / STATE_NAME).exists()  # the trained seed is kept for a rerun


def test_a_target_the_seed_already_meets_is_a_no_op(tmp_path, tuner):
    messages = []
    result = run(tmp_path / "run", tuner, messages, target_ms=SEED_MS + 1)
    assert result.steps == 0 and result.spec == TINY
    assert "nothing to do" in messages[0]
    assert not (tmp_path / "run").exists()


def test_an_unreachable_target_stops_before_training(tmp_path, tuner):
    with pytest.raises(NetAdaptError, match="out of reach"):
        run(tmp_path / "run", tuner, target_ms=0.01 * SEED_MS)
    assert not (tmp_path / "run" / STATE_NAME).exists()


def test_a_run_directory_of_another_seed_is_refused(tmp_path, tuner):
    run(tmp_path, tuner, max_steps=1, seed_steps=0, steps_per_proposal=0)  # only its state
    other = decode(str(TINY).replace("c40", "c48"))
    with pytest.raises(NetAdaptError, match="another seed"):
        netadapt(other, latency=blocks_macs, tuner=tuner, settings=settings(),
                 run_dir=Path(tmp_path), hardware="macs")


def test_bad_settings_are_refused():
    with pytest.raises(NetAdaptError, match="target_ms"):
        NetAdaptSettings(target_ms=-1)
    with pytest.raises(NetAdaptError, match="delta_fraction"):
        NetAdaptSettings(target_ms=10, delta_fraction=1.5)
