import copy
from dataclasses import replace

import optuna
import pytest
import torch

from nas.evaluate import (
    Evaluator,
    Recipe,
    TrainingDiverged,
    accuracy,
    load_checkpoint,
    make_evaluator,
    save_checkpoint,
    train,
)
from nas.evaluate.training import distillation_loss, lr_factor
from nas.model import build_model
from tests.evaluate.conftest import TINY_ARCH

DATA_CFG = {"name": "fashion_mnist", "root": None, "val_size": 5000, "split_seed": 0}
TINY_BUDGET = {"epochs": 2, "train_fraction": 0.005, "val_size": 200, "batch_size": 64,
               "lr": 0.2, "threads": None}


def tiny_model(spec, data, seed=0):
    torch.manual_seed(seed)
    return build_model(spec, data.num_classes, resolution=28, in_channels=1)


@pytest.fixture(scope="module")
def trained_tiny(small_fashion):
    """The tiny network trained 3 epochs, with its starting accuracy and its TrainResult."""
    from nas.arch import decode

    model = tiny_model(decode(TINY_ARCH), small_fashion)
    before = accuracy(model, small_fashion.val)
    result = train(model, small_fashion, epochs=3, seed=0, recipe=Recipe(batch_size=64, lr=0.2))
    return model, before, result


def test_training_learns_fashion_mnist(small_fashion, trained_tiny):
    model, before, result = trained_tiny
    assert len(result.history) == 3 and result.steps == 3 * 16
    assert result.history[-1].val_accuracy == pytest.approx(accuracy(model, small_fashion.val))
    assert before < 0.25 and result.history[-1].val_accuracy > 0.35


def test_train_for_steps_keeps_inherited_weights_and_counts_steps(small_fashion, trained_tiny):
    model = copy.deepcopy(trained_tiny[0])
    inherited = accuracy(model, small_fashion.val)
    result = train(model, small_fashion, steps=5, seed=1, recipe=Recipe(batch_size=64, lr=0.01))
    assert result.steps == 5 and result.images == 5 * 64 and result.history == ()
    assert not torch.equal(model.classifier.weight, trained_tiny[0].classifier.weight)
    # five small steps from trained weights stay near them; from scratch it would be ~10%
    assert accuracy(model, small_fashion.val) > inherited - 0.1 > 0.25


def test_accuracy_restores_training_mode(small_fashion, tiny_spec):
    model = tiny_model(tiny_spec, small_fashion).train()
    value = accuracy(model, small_fashion.val)
    assert 0 <= value <= 1 and model.training


def test_absurd_learning_rate_raises_training_diverged(small_fashion, tiny_spec):
    model = tiny_model(tiny_spec, small_fashion)
    with pytest.raises(TrainingDiverged, match="NaN"):
        train(model, small_fashion, epochs=1, seed=0,
              recipe=Recipe(lr=1e12, batch_size=64, warmup_fraction=0, check_every=1))


def test_evaluator_is_deterministic_for_a_seed(tiny_spec):
    torch.set_num_threads(2)
    first = make_evaluator(DATA_CFG, TINY_BUDGET, seed=0).evaluate(tiny_spec)
    evaluator = make_evaluator(DATA_CFG, TINY_BUDGET, seed=0)
    second = evaluator.evaluate(tiny_spec)
    assert first.history == second.history and first.epochs == 2
    assert len(evaluator.data.train) == 280 and len(evaluator.data.val) == 200
    other = make_evaluator(DATA_CFG, TINY_BUDGET, seed=1).evaluate(tiny_spec)
    assert other.history != first.history


def test_pruner_stops_a_trial_through_the_study(tiny_spec):
    evaluator = make_evaluator(DATA_CFG, TINY_BUDGET, seed=0)
    study = optuna.create_study(direction="maximize",
                                pruner=optuna.pruners.ThresholdPruner(lower=0.99))

    def objective(trial):
        return evaluator.evaluate(tiny_spec, trial).val_accuracy

    study.optimize(objective, n_trials=1)
    trial = study.trials[0]
    assert trial.state == optuna.trial.TrialState.PRUNED
    assert list(trial.intermediate_values) == [1]  # stopped after the first of two epochs


def test_evaluator_reports_every_epoch_when_not_pruned(tiny_spec):
    evaluator = make_evaluator(DATA_CFG, TINY_BUDGET, seed=0)
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.NopPruner())
    study.optimize(lambda t: evaluator.evaluate(tiny_spec, t).val_accuracy, n_trials=1)
    assert sorted(study.trials[0].intermediate_values) == [1, 2]


def test_unknown_evaluator_setting_is_rejected():
    with pytest.raises(ValueError, match="unknown evaluator setting"):
        make_evaluator(DATA_CFG, {**TINY_BUDGET, "learning_rate": 0.1}, seed=0)
    with pytest.raises(ValueError, match="train_fraction"):
        make_evaluator(DATA_CFG, {**TINY_BUDGET, "train_fraction": 1.5}, seed=0)


def test_lr_schedule_warms_up_then_decays_to_zero():
    assert lr_factor(0, 100, 10) == pytest.approx(0.1)
    assert lr_factor(9, 100, 10) == pytest.approx(1.0)
    assert lr_factor(99, 100, 10) < 0.01


def test_distillation_loss_is_zero_kl_when_student_matches_teacher():
    logits = torch.randn(8, 10)
    labels = torch.randint(0, 10, (8,))
    only_kl = Recipe(kd_alpha=1.0, label_smoothing=0.0)
    assert distillation_loss(logits, logits, labels, only_kl).item() == pytest.approx(0, abs=1e-6)
    assert distillation_loss(logits, -logits, labels, only_kl).item() > 0.1


def test_knowledge_distillation_from_a_checkpoint_teacher(tmp_path, small_fashion, tiny_spec):
    teacher = tiny_model(tiny_spec, small_fashion, seed=5)
    train(teacher, small_fashion, epochs=2, seed=5, recipe=Recipe(batch_size=64, lr=0.2))
    path = save_checkpoint(tmp_path / "teacher.pt", teacher, arch=TINY_ARCH, num_classes=10,
                           resolution=28, in_channels=1)
    reloaded, meta = load_checkpoint(path)
    assert meta["arch"] == TINY_ARCH
    assert accuracy(reloaded, small_fashion.val) == pytest.approx(
        accuracy(teacher, small_fashion.val))
    plain = make_evaluator(DATA_CFG, TINY_BUDGET, seed=0)
    distilled = make_evaluator(DATA_CFG, {**TINY_BUDGET, "teacher": str(path), "kd_alpha": 0.9},
                               seed=0)
    assert isinstance(distilled, Evaluator) and distilled.teacher is not None
    assert distilled.evaluate(tiny_spec).history != plain.evaluate(tiny_spec).history


def test_teacher_given_as_an_architecture_is_trained_first(small_fashion, tiny_spec):
    evaluator = make_evaluator(DATA_CFG, {**TINY_BUDGET, "teacher": TINY_ARCH,
                                          "teacher_epochs": 1}, seed=0)
    assert not evaluator.teacher.training
    assert evaluator.evaluate(tiny_spec).epochs == 2


def test_evaluator_rejects_bad_budget(small_fashion):
    with pytest.raises(ValueError, match="epochs"):
        Evaluator(data=replace(small_fashion), recipe=Recipe(), epochs=0, seed=0)
    with pytest.raises(ValueError, match="lr"):
        Recipe(lr=-1)


def test_bn_recalibration_sets_exact_statistics(small_fashion, tiny_spec):
    from nas.evaluate import recalibrate_bn
    from nas.evaluate.training import prepare

    model = tiny_model(tiny_spec, small_fashion).eval()
    recalibrate_bn(model, small_fashion.train, images=256, seed=3)
    assert not model.training
    index = torch.randperm(len(small_fashion.train), generator=torch.Generator().manual_seed(3))
    x = prepare(small_fashion.train, small_fashion.train.images[index[:256]], 28, False)
    with torch.no_grad():
        expected = model.stem.conv(x).mean(dim=(0, 2, 3))
    assert torch.allclose(model.stem.bn.running_mean, expected, atol=1e-4)
    assert model.stem.bn.momentum == 0.1
