"""The evaluator a search scores candidates with: the proxy trainer, zero-cost scores at
initialisation, a trained supernet's inherited weights, a predictor fitted on its scores, the
NAS-Bench-Macro table, or the synthetic test surrogate. Each has ``evaluate(spec, trial=None)``
returning an object with ``val_accuracy``, ``train_seconds`` and ``epochs``; one bound to a
space (the supernet, the predictor) also has ``check_space(space)``."""

from __future__ import annotations

from collections.abc import Mapping

from nas.errors import NasError
from nas.search.surrogate import SurrogateEvaluator


def _surrogate(data_cfg, config: dict, seed: int):
    try:
        return SurrogateEvaluator(**config)
    except TypeError as error:
        raise NasError(f"evaluator=surrogate: {error}") from None


def _tabular(data_cfg, config: dict, seed: int):
    from nas.tabular import TabularEvaluator

    try:
        return TabularEvaluator(seed=seed, **config)
    except TypeError as error:
        raise NasError(f"evaluator=tabular: {error}") from None


def _zero_cost(data_cfg, config: dict, seed: int):
    from nas.evaluate.zero_cost import COST_SCORES, make_zero_cost

    data = None
    if config.get("score") not in COST_SCORES:
        from nas.evaluate import load_data_config

        if data_cfg is None:
            raise NasError("evaluator=zero_cost scores a batch of images: give data=<name>")
        data = load_data_config(dict(data_cfg))
    return make_zero_cost(data, config, seed)


def _proxy(data_cfg, config: dict, seed: int):
    try:
        from nas.evaluate import make_evaluator
    except ImportError as error:
        raise NasError(f"this evaluator needs nas.evaluate, which failed to import: {error}") \
            from None
    if data_cfg is None:
        raise NasError("this evaluator trains on a dataset: give data=<name>")
    return make_evaluator(dict(data_cfg), config, seed)


def _supernet(data_cfg, config: dict, seed: int):
    from nas.supernet.evaluator import make_supernet_evaluator

    if data_cfg is None:
        raise NasError("evaluator=supernet scores on a dataset's validation split: give "
                       "data=<name>")
    return make_supernet_evaluator(dict(data_cfg), config, seed)


def _predictor(data_cfg, config: dict, seed: int):
    from nas.predictor.evaluator import make_predictor_evaluator

    return make_predictor_evaluator(None if data_cfg is None else dict(data_cfg), config, seed)


BUILDERS = {"surrogate": _surrogate, "tabular": _tabular, "zero_cost": _zero_cost,
            "proxy": _proxy, "supernet": _supernet, "predictor": _predictor}


def check_evaluator_space(evaluator, space) -> None:
    """An evaluator bound to one space (a supernet) refuses another before any scoring."""
    check = getattr(evaluator, "check_space", None)
    if check is not None:
        check(space)


def evaluator_identity(evaluator_cfg: dict, data_cfg: dict | None) -> dict:
    """The evaluator's settings as a study records them: a supernet's ``settled`` as what it
    resolves to (the settled-images file's SHA-256, or ``none``), since ``auto`` scores
    differently once a file appears beside the supernet."""
    if evaluator_kind(evaluator_cfg) != "supernet":
        return evaluator_cfg
    from nas.supernet import settled

    return {**evaluator_cfg, "settled": settled.identity(evaluator_cfg, data_cfg)}


def evaluator_kind(evaluator_cfg: Mapping | None) -> str:
    """``kind`` of an evaluator config; the proxy's config has none."""
    return str((evaluator_cfg or {}).get("kind") or "proxy")


def make_search_evaluator(data_cfg: Mapping | None, evaluator_cfg: Mapping, seed: int):
    config = dict(evaluator_cfg or {})
    kind = evaluator_kind(config)
    config.pop("kind", None)
    config.pop("seed_std", None)  # the evaluator's measured noise, read by the reports
    if kind not in BUILDERS:
        raise NasError(f"unknown evaluator kind {kind!r}; known: {', '.join(BUILDERS)}")
    return BUILDERS[kind](data_cfg, config, seed)
