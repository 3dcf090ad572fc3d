"""The MLP on real accuracies (NAS-Bench-Macro's, shipped): it ranks networks it never saw far
better than MACs do, and a fit is repeatable for its seed."""

import random

import numpy as np
import pytest

from nas.arch import decode
from nas.cli import load_space
from nas.cost import arch_cost
from nas.errors import NasError
from nas.predictor import ArchEncoder, FitSettings, fit_predictor
from nas.tabular.macro import networks
from nas.yardstick.metrics import kendall_tau

QUICK = FitSettings(epochs=60, batch_size=64)


@pytest.fixture(scope="module")
def macro():
    """300 networks to fit, 200 held out, with their mean CIFAR-10 accuracy (a share)."""
    table = networks()
    archs = sorted(table)
    random.Random(0).shuffle(archs)
    encoder = ArchEncoder(load_space("nas_bench_macro"))

    def rows(chosen):
        return (encoder.encode_many([decode(a) for a in chosen]),
                np.array([table[a].mean / 100 for a in chosen]), chosen)

    return rows(archs[:300]), rows(archs[300:500])


def test_a_fitted_predictor_ranks_held_out_networks_better_than_macs(macro):
    (x, y, _), (x_held, y_held, held) = macro
    model = fit_predictor(x, y, seed=0, settings=QUICK)
    predicted = model.predict(x_held)
    tau = kendall_tau(predicted.tolist(), y_held.tolist())
    macs = kendall_tau([arch_cost(decode(a)).macs for a in held[:60]], y_held[:60].tolist())
    rmse = float(np.sqrt(np.mean((predicted - y_held) ** 2)))
    assert tau > 0.8 and tau > macs + 0.2, (tau, macs)
    assert rmse < 0.5 * float(y_held.std()), rmse  # far better than predicting the mean


def test_a_fit_is_repeatable_for_its_seed(macro):
    (x, y, _), (x_held, _, _) = macro
    settings = FitSettings(epochs=5)
    first, again = (fit_predictor(x, y, seed=3, settings=settings) for _ in range(2))
    other = fit_predictor(x, y, seed=4, settings=settings)
    np.testing.assert_array_equal(first.predict(x_held), again.predict(x_held))
    assert not np.array_equal(first.predict(x_held), other.predict(x_held))


def test_an_ensemble_predicts_the_mean_of_members_fitted_from_successive_seeds(macro):
    (x, y, _), (x_held, _, _) = macro
    ensemble = fit_predictor(x, y, seed=3, settings=FitSettings(epochs=5, ensemble=3))
    single = fit_predictor(x, y, seed=3, settings=FitSettings(epochs=5))
    members = [member.predict(x_held) for member in ensemble.members]
    np.testing.assert_array_equal(members[0], single.predict(x_held))  # seed 3 is its first
    assert not np.array_equal(members[0], members[1])
    np.testing.assert_allclose(ensemble.predict(x_held), np.mean(members, axis=0), rtol=1e-6)


def test_bad_settings_and_too_few_rows_are_refused():
    with pytest.raises(NasError, match="predictor epochs must be >= 1"):
        FitSettings(epochs=0)
    with pytest.raises(NasError, match="predictor ensemble must be >= 1"):
        FitSettings(ensemble=0)
    with pytest.raises(NasError, match="needs >= 2 scored architectures"):
        fit_predictor(np.zeros((1, 4)), np.zeros(1), seed=0)
