"""The study on a real journal file, with the surrogate as objective."""

import optuna
import pytest
from optuna.trial import TrialState

from nas.errors import NasError
from nas.search import (
    SearchStopped,
    SurrogateEvaluator,
    count_done,
    enqueue_references,
    space_extreme,
)
from nas.search.storage import JOURNAL_NAME, open_storage


def _load(run_dir):
    storage = open_storage(None, run_dir)
    return optuna.load_study(study_name="search", storage=storage)


def test_references_first_once_and_n_trials_is_a_total(search, space, tmp_path):
    study = search(n_trials=5, seed=1)
    first = study.trials[0]
    assert first.user_attrs["reference"] == "mobilenet_v3_small"
    assert first.user_attrs["macs"] == 56_510_400  # the preset's own count, measured in the run
    assert count_done(study) == 5
    study = search(n_trials=7, seed=1)  # the same run dir: continues up to 7, not 5 more
    assert count_done(study) == 7 and len(study.trials) == 7
    assert [t.user_attrs.get("reference") for t in study.trials].count("mobilenet_v3_small") == 1
    assert enqueue_references(study, space) == []
    for key in ("arch", "macs", "params", "accuracy", "train_seconds", "trained"):
        assert all(key in t.user_attrs for t in study.trials), key
    assert (tmp_path / "run" / JOURNAL_NAME).exists()


def test_a_reference_cut_off_by_a_killed_run_is_queued_again(search, tmp_path, space):
    run_dir = tmp_path / "run"
    study = optuna.create_study(storage=open_storage(None, run_dir), study_name="search",
                                directions=["maximize", "minimize"])
    enqueue_references(study, space)
    trial = study.ask()  # started, then its process "died": left RUNNING
    assert trial.user_attrs["reference"] == "mobilenet_v3_small"
    study.set_user_attr("fingerprint", None)  # let run_search adopt this hand-made study
    study = search(n_trials=3, run_dir=run_dir)
    states = [t.state for t in study.trials]
    assert states[0] == TrialState.FAIL and "interrupted" in study.trials[0].user_attrs
    assert states.count(TrialState.RUNNING) == 0
    refs = [t for t in study.trials if t.user_attrs.get("reference")]
    assert len(refs) == 2 and refs[1].state == TrialState.COMPLETE
    assert count_done(study) == 3


def test_failed_candidates_are_recorded_and_the_search_goes_on(search):
    study = search(n_trials=10, evaluator=SurrogateEvaluator(fail_share=0.3), seed=3,
                   max_failure_rate=1.0)
    failed = [t for t in study.trials if t.state == TrialState.FAIL]
    assert failed, "30% of architectures should fail"
    assert all("NaN" in t.user_attrs["failure"] for t in failed)
    assert count_done(study) == 10


def test_too_many_failures_stop_the_run_with_a_clear_message(search):
    with pytest.raises(SearchStopped, match=r"4 of 4 trials failed.*max_failure_rate=0.5"):
        search(n_trials=20, evaluator=SurrogateEvaluator(fail_share=1.0))


def test_constraint_breakers_are_recorded_without_training(search, space):
    floor = space_extreme(space, largest=False)
    from nas.cost import arch_cost
    limit = 2.0 * arch_cost(floor).macs  # some candidates pass, the reference (56.5M) fails
    study = search(n_trials=8, seed=2, constraints=_limits(max_macs=limit))
    reference = study.trials[0]
    assert reference.user_attrs["trained"] is False
    assert "M MACs >" in reference.user_attrs["skipped"]
    assert reference.constraints["max_macs"] > 0
    assert "accuracy" not in reference.user_attrs and "train_seconds" not in reference.user_attrs
    fits = [t for t in study.trials if t.user_attrs["macs"] <= limit]
    assert all(t.user_attrs["trained"] for t in fits)


def _limits(**kwargs):
    from nas.search import Constraints
    return Constraints(**kwargs)


def test_an_impossible_constraint_fails_before_anything_is_written(search, tmp_path):
    with pytest.raises(NasError, match="cannot be met: the smallest network"):
        search(n_trials=3, constraints=_limits(max_params=1000))
    assert not (tmp_path / "run").exists()


def test_an_architecture_already_measured_is_not_trained_again(search, space, tmp_path):
    run_dir = tmp_path / "run"
    search(n_trials=1, run_dir=run_dir)
    study = _load(run_dir)
    params = study.trials[0].params
    study.enqueue_trial(params)
    study = search(n_trials=2, run_dir=run_dir)
    again = study.trials[1]
    assert again.user_attrs["duplicate_of"] == 0
    assert again.values == study.trials[0].values


def test_other_settings_on_the_same_study_are_refused(search):
    search(n_trials=2)
    with pytest.raises(NasError, match="strategy: 'nsga2' then, 'tpe' now"):
        search(n_trials=2, strategy="tpe")


def test_a_half_written_journal_line_is_cut_when_no_worker_is_alive(search, tmp_path):
    run_dir = tmp_path / "run"
    search(n_trials=2, run_dir=run_dir)
    with open(run_dir / JOURNAL_NAME, "a") as journal:
        journal.write('{"op_code": 5, "worker_id": "dead", "trial_')  # kill -9 mid-write
    study = search(n_trials=4, run_dir=run_dir)
    assert count_done(study) == 4


class HeadLatency:
    """A deterministic stand-in latency (the real profiles are tested in tests/hardware)."""

    name = "head-latency"

    def predict_ms(self, spec):
        return 5.0 + spec.stem.out / 4.0 + len(spec.blocks)


def test_mnasnet_strategy_maximises_the_reward(search):
    study = search(strategy="mnasnet", n_trials=4, target_ms=12.0, hardware=HeadLatency())
    assert study.directions == [optuna.study.StudyDirection.MAXIMIZE]
    for trial in study.trials:
        attrs = trial.user_attrs
        expected = attrs["accuracy"] * (attrs["latency_ms"] / 12.0) ** -0.07
        assert trial.value == pytest.approx(expected) == attrs["reward"]


def test_latency_objectives_need_a_hardware_profile(search):
    with pytest.raises(NasError, match="needs latency: give hardware"):
        search(n_trials=2, objectives="latency")


def test_inactive_genes_give_every_trial_the_same_parameters(search):
    study = search(n_trials=4, seed=5)
    names = [set(t.params) for t in study.trials[1:]]  # the reference fixes only its own
    assert all(n == names[0] for n in names)
    assert any(name.startswith("s4_b3_") for name in names[0])  # deepest block always present


def test_a_supernet_study_made_before_precision_existed_continues_in_float32(tmp_path):
    """Its fingerprint has no evaluator.precision: it scored in float32, so the same settings
    with precision=float32 continue it and bfloat16 is refused, in one line."""
    from nas.search.settings import SearchSettings
    from nas.search.study import _open_study

    storage = open_storage(None, tmp_path)
    settings = SearchSettings()
    config = {"kind": "supernet", "path": "s.pt", "val_size": 2000}

    def fingerprint(**extra):
        return {"space": "s", "evaluator": {"evaluator": config | extra, "data": {"n": 1}}}

    _open_study(storage, "old", settings, fingerprint(), {})
    # a study's fingerprint now always holds settled (nas.search.evaluators.evaluator_identity)
    _open_study(storage, "old", settings, fingerprint(precision="float32", settled="none"), {})
    with pytest.raises(NasError, match=r"other settings \(evaluator\.evaluator\.precision: "
                       r"'float32' then, 'bfloat16' now\)"):
        _open_study(storage, "old", settings,
                    fingerprint(precision="bfloat16", settled="none"), {})
    with pytest.raises(NasError, match=r"evaluator\.evaluator\.settled: 'none' then, 'abc' now"):
        _open_study(storage, "old", settings, fingerprint(precision="float32", settled="abc"), {})
