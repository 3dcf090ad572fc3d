"""The evaluator a search scores candidates with: the proxy trainer, the NAS-Bench-Macro table,
or the test surrogate."""

from __future__ import annotations

from collections.abc import Mapping

from nas.errors import NasError
from nas.search.surrogate import SurrogateEvaluator


def make_search_evaluator(data_cfg: Mapping | None, evaluator_cfg: Mapping, seed: int):
    """``evaluator=tabular`` and ``evaluator=surrogate`` are built here (neither trains); anything
    else goes to ``nas.evaluate``."""
    config = dict(evaluator_cfg or {})
    if config.get("kind") == "tabular":
        from nas.tabular import TabularEvaluator

        config.pop("kind")
        try:
            return TabularEvaluator(seed=seed, **config)
        except TypeError as error:
            raise NasError(f"evaluator=tabular: {error}") from None
    if config.get("kind") == "surrogate":
        config.pop("kind")
        try:
            return SurrogateEvaluator(**config)
        except TypeError as error:
            raise NasError(f"evaluator=surrogate: {error}") from None
    try:
        from nas.evaluate import make_evaluator
    except ImportError as error:
        raise NasError(f"this evaluator needs nas.evaluate, which failed to import: {error}") \
            from None
    if data_cfg is None:
        raise NasError("this evaluator trains on a dataset: give data=<name>")
    return make_evaluator(dict(data_cfg), config, seed)
